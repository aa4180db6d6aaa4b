//! The service-side rules as pure functions.
