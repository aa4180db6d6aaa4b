//! One invocation, from the Lambda event to the output: shared by
//! [`run`] (on `lambda_runtime`) and the emulator harness's Invoke endpoint.

use std::sync::Arc;

use durable_core::DurableFunction;
use durable_core::invocation::{InvocationMeta, run_with};
use durable_core::model::InvocationOutput;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::envelope::parse_envelope;
use crate::error::LambdaError;
use crate::store::LambdaStore;

/// Handles one invocation event of `function`, checkpointing through `store`.
///
/// Returns the output JSON for the service: `{"Status":"SUCCEEDED","Result":…}`,
/// `{"Status":"FAILED","Error":{…}}`, or `{"Status":"PENDING"}` when the
/// handler waits on a timer, a retry or a callback. A result over the 6 MB
/// response limit is checkpointed and `Result` left empty.
///
/// # Errors
/// A [`LambdaError`] when the event is not an envelope or the invocation
/// failed in a way another invocation may not (stale token, throttling,
/// service down): Lambda then reports a function error and the durable
/// service invokes again.
pub async fn handle_event(
    function: &DurableFunction,
    store: &LambdaStore,
    event: Value,
    request_id: Option<&str>,
) -> Result<Value, LambdaError> {
    let input = parse_envelope(event)?;
    let meta = request_id.map_or_else(InvocationMeta::default, InvocationMeta::with_request_id);
    let arn = input.durable_execution_arn.clone();
    let output = run_with(function, input, Arc::new(store.clone()), &meta)
        .await
        .inspect_err(|error| tracing::warn!(execution_arn = %arn, %error, "invocation failed"))?;
    Ok(output_json(&output)?)
}

/// The output in the service's JSON shape.
fn output_json(output: &InvocationOutput) -> Result<Value, serde_json::Error> {
    serde_json::to_value(output)
}

/// Runs `function` as a Lambda durable function, until the runtime stops.
///
/// The API client is configured from the environment (region, credentials,
/// and `AWS_ENDPOINT_URL_LAMBDA` to point at an emulator).
///
/// # Example
/// ```no_run
/// use durable_core::{DurableContext, DurableError, DurableFunction};
///
/// async fn greet(name: String, ctx: DurableContext) -> Result<String, DurableError> {
///     ctx.step(move |_| async move { Ok::<_, DurableError>(format!("Hello, {name}!")) }).await
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_runtime::Error> {
///     durable_lambda::run(DurableFunction::new(greet)).await
/// }
/// ```
///
/// # Errors
/// When the Lambda runtime API fails.
pub async fn run(function: DurableFunction) -> Result<(), lambda_runtime::Error> {
    let config = aws_config::load_from_env().await;
    let store = LambdaStore::new(aws_sdk_lambda::Client::new(&config));
    let function = &function;
    let store = &store;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_event(
            function,
            store,
            event.payload,
            Some(&event.context.request_id),
        )
        .await
    }))
    .await
}

#[cfg(test)]
mod tests {
    use durable_core::model::ErrorObject;
    use serde_json::json;

    use super::*;

    #[test]
    fn outputs_have_the_service_shape() {
        let pending = output_json(&InvocationOutput::pending()).unwrap();
        assert_eq!(pending, json!({"Status": "PENDING"}));
        let done = output_json(&InvocationOutput::succeeded(Some("42".into()))).unwrap();
        assert_eq!(done, json!({"Status": "SUCCEEDED", "Result": "42"}));
        let failed = output_json(&InvocationOutput::failed(Some(ErrorObject::new(
            "Boom", "it broke",
        ))))
        .unwrap();
        assert_eq!(
            failed,
            json!({"Status": "FAILED", "Error": {"ErrorType": "Boom", "ErrorMessage": "it broke"}})
        );
    }
}
