//! End-to-end testing against `dex-local-runner`, the durable API emulator
//! from AWS's Python testing package.
//!
//! [`Emulator::start`] installs the pinned emulator into `target/venv-lambda`
//! (once), serves a Lambda `Invoke` endpoint that runs registered Rust
//! handlers through [`handle_event`](crate::handle_event), and starts the
//! emulator on free ports with fake credentials. Dropping the [`Emulator`]
//! kills the emulator process and stops the endpoint.
//!
//! A missing Python or a failed install is an error, never a skip.

mod emulator;
mod http;
mod invoke;
mod venv;

pub use emulator::{Emulator, EmulatorOptions, ExecutionView, client_for};
pub use http::JsonClient;
pub use invoke::{InvocationLog, InvocationStats, LastOutcome};
pub use venv::{EMULATOR_PACKAGE, ensure_emulator, target_dir, venv_dir};

/// Why the emulator harness failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The emulator could not be installed.
    #[error("cannot install the Lambda emulator: {0}")]
    Install(String),
    /// The emulator or the Invoke endpoint could not be started.
    #[error("cannot start the Lambda emulator: {0}")]
    Start(String),
    /// A call to the emulator failed.
    #[error("emulator call failed: {0}")]
    Http(String),
    /// An execution did not end in time.
    #[error("{0}")]
    Timeout(String),
}
