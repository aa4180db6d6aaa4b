//! The command line, as clap parses it.

use clap::{Args, Parser, Subcommand};

/// The database used when `--database` is not given.
pub const DEFAULT_DATABASE: &str = "sqlite:durable.db";

/// Start, inspect and steer durable executions.
#[derive(Debug, Parser)]
#[command(name = "durable", version, about)]
pub struct Cli {
    /// The backend: a `sqlite:` URL or a path to a `SQLite` file.
    #[arg(long, global = true, value_name = "URL", default_value = DEFAULT_DATABASE)]
    pub database: String,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start an execution of a durable function and print its ARN
    /// (idempotent by name).
    Start(StartArgs),
    /// List executions as a table.
    List(ListArgs),
    /// Show an execution: status, result or error, and its history.
    Show(ShowArgs),
    /// Print an execution's history (a timeline, or JSON with --json).
    History(HistoryArgs),
    /// Complete, fail or heartbeat a callback.
    #[command(subcommand)]
    Callback(CallbackCommand),
    /// Stop a running execution.
    Stop(StopArgs),
}

/// `durable start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The durable function to run.
    pub function: String,
    /// The execution's name, unique per function; starting it again returns
    /// the same ARN.
    #[arg(long)]
    pub name: Option<String>,
    /// The input, as JSON text.
    #[arg(long, value_name = "JSON")]
    pub input: Option<String>,
}

/// `durable list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only executions of this function.
    #[arg(long, value_name = "F")]
    pub function: Option<String>,
    /// Only executions with this status (RUNNING, SUCCEEDED, FAILED,
    /// `TIMED_OUT`, STOPPED).
    #[arg(long, value_name = "S")]
    pub status: Option<String>,
    /// At most this many executions.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: usize,
}

/// `durable show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The execution's ARN.
    pub arn: String,
}

/// `durable history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The execution's ARN.
    pub arn: String,
    /// Print the events as a JSON array (the `GetDurableExecutionHistory`
    /// shape).
    #[arg(long)]
    pub json: bool,
}

/// `durable callback …`.
#[derive(Debug, Subcommand)]
pub enum CallbackCommand {
    /// Complete a callback with a result.
    Succeed {
        /// The callback id.
        callback_id: String,
        /// The result, as the external system would send it.
        #[arg(long, value_name = "TEXT", default_value = "")]
        result: String,
    },
    /// Fail a callback.
    Fail {
        /// The callback id.
        callback_id: String,
        /// The error type.
        #[arg(long, value_name = "T")]
        error_type: Option<String>,
        /// The error message.
        #[arg(long, value_name = "M")]
        message: Option<String>,
    },
    /// Record a heartbeat of a callback.
    Heartbeat {
        /// The callback id.
        callback_id: String,
    },
}

/// `durable stop`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// The execution's ARN.
    pub arn: String,
    /// Why it is stopped.
    #[arg(long, value_name = "M")]
    pub message: Option<String>,
}
