//! `callback succeed|fail|heartbeat`.

use durable_core::model::ErrorObject;

use crate::cli::CallbackCommand;
use crate::database::Backend;
use crate::error::CliError;

/// Runs one `callback` subcommand.
pub async fn run(service: &Backend, command: CallbackCommand) -> Result<(), CliError> {
    match command {
        CallbackCommand::Succeed {
            callback_id,
            result,
        } => {
            service.callback_succeed(&callback_id, result).await?;
            println!("callback {callback_id} succeeded");
        }
        CallbackCommand::Fail {
            callback_id,
            error_type,
            message,
        } => {
            let error = ErrorObject {
                error_message: message,
                error_type,
                error_data: None,
                stack_trace: None,
            };
            service.callback_fail(&callback_id, error).await?;
            println!("callback {callback_id} failed");
        }
        CallbackCommand::Heartbeat { callback_id } => {
            service.callback_heartbeat(&callback_id).await?;
            println!("callback {callback_id} heartbeat recorded");
        }
    }
    Ok(())
}
