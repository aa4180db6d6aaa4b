//! The subcommands, one module per group.

mod callback;
mod executions;
mod inspect;

use crate::cli::{Cli, Command};
use crate::database;
use crate::error::CliError;

/// Runs the command `cli` describes against the database it names.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    if let Command::Start(args) = &cli.command {
        // Check the input before touching the database.
        executions::check_input(args.input.as_deref())?;
    }
    let service = database::open(&cli.database).await?;
    let result = match cli.command {
        Command::Start(args) => executions::start(&service, args).await,
        Command::List(args) => executions::list(&service, args).await,
        Command::Stop(args) => executions::stop(&service, args).await,
        Command::Show(args) => inspect::show(&service, &args.arn).await,
        Command::History(args) => inspect::history(&service, &args.arn, args.json).await,
        Command::Callback(command) => callback::run(&service, command).await,
    };
    service.persistence().close().await;
    result
}
