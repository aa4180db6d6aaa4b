//! The requirements harness: runs the language-neutral conformance
//! requirements (`shared/conformance/requirements/<suite>/<id>.yaml`)
//! against Rust handlers on any backend, and judges results, histories and
//! logs by the rules of the conformance README.
//!
//! ```no_run
//! # async fn demo() -> Result<(), durable_testing::requirements::HarnessError> {
//! use durable_testing::requirements::{
//!     HandlerRegistry, LogCapture, MemoryBackend, RunOptions, load_dir, run_requirements,
//! };
//!
//! let requirements = load_dir("../shared/conformance/requirements")?;
//! let registry = HandlerRegistry::new(); // register handlers by id here
//! LogCapture::install_global();
//! let report =
//!     run_requirements(&requirements, &MemoryBackend::new(), &registry, &RunOptions::default())
//!         .await;
//! for line in report.lines() {
//!     println!("{line}");
//! }
//! println!("{}", report.summary());
//! # Ok(())
//! # }
//! ```

mod backend;
mod capture;
mod drive;
mod error;
mod load;
mod logs;
mod matcher;
mod memory_backend;
mod model;
mod pyjson;
mod registry;
mod report;
mod result;
mod run;
mod variables;

pub use backend::{KnownGap, RequirementBackend, RunningExecution};
pub use capture::LogCapture;
pub use error::HarnessError;
pub use load::{SUITES, load_dir, load_file, parse};
pub use logs::{LogRecord, check_logs, parse_log_line};
pub use matcher::{match_history, match_value, values_equal};
pub use memory_backend::MemoryBackend;
pub use model::{CallbackAction, CallbackOperation, ExpectedResult, LogExpectation, Requirement};
pub use registry::HandlerRegistry;
pub use report::{Report, RequirementReport, Verdict};
pub use result::{check_result, parse_result};
pub use run::{Progress, RunOptions, run_requirements};
pub use variables::{Bindings, render};

#[cfg(test)]
mod tests;
