//! Handlers for the conformance requirements, by id.
