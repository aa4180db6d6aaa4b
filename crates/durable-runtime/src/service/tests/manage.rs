//! The management API: starting, stopping, timeouts, listing, chained invokes.

use durable_core::model::{ExecutionStatus, InvocationStatus, OperationStatus, OperationType};
use durable_core::service::{ChainedInvokeResult, EXECUTION_TIMEOUT_ERROR, ServiceConfig};
use durable_core::{DurableContext, DurableError};

use super::*;
use crate::delta::ListFilter;

#[tokio::test]
async fn starts_are_idempotent_by_name() {
    let (service, clock) = service();
    let first = service
        .start_execution("orders", Some("order-1"), Some("1".into()))
        .await
        .unwrap();
    assert!(first.created);
    assert!(
        first
            .arn
            .contains(":function:orders:$LATEST/durable-execution/order-1/")
    );
    clock.advance(secs(5));
    let again = service
        .start_execution("orders", Some("order-1"), Some("2".into()))
        .await
        .unwrap();
    assert_eq!(again.arn, first.arn);
    assert!(!again.created);
    let described = service.describe(&first.arn).await.unwrap();
    assert_eq!(
        described.input.as_deref(),
        Some("1"),
        "the first start wins"
    );
    assert_eq!(described.start_timestamp, T0);
    assert_eq!(described.version, 1);

    let other = service
        .start_execution("refunds", Some("order-1"), None)
        .await
        .unwrap();
    assert!(other.created && other.arn != first.arn);
    let a = service.start_execution("orders", None, None).await.unwrap();
    let b = service.start_execution("orders", None, None).await.unwrap();
    assert_ne!(a.arn, b.arn, "unnamed starts are distinct");
    assert_eq!(service.persistence().len(), 4);
}

#[tokio::test]
async fn bad_start_requests_are_clear_errors() {
    let (service, _clock) = service();
    let cases = [
        (
            service
                .start_execution("orders", None, Some("{not json".into()))
                .await,
            "invalid request: the input is not JSON",
        ),
        (
            service.start_execution("a/b", None, None).await,
            "invalid request: function name \"a/b\" must have 1 to 256 characters",
        ),
        (
            service.start_execution("orders", Some(""), None).await,
            "invalid request: execution name \"\" must have",
        ),
        (
            service
                .start_execution("orders", Some("two words"), None)
                .await,
            "execution name \"two words\"",
        ),
    ];
    for (result, expected) in cases {
        let error = result.unwrap_err();
        assert!(matches!(error, RuntimeError::InvalidRequest { .. }));
        assert!(
            error.to_string().starts_with(expected) || error.to_string().contains(expected),
            "{error}"
        );
    }
    let small = ServiceConfig {
        max_execution_payload_bytes: 4,
        ..ServiceConfig::default()
    };
    let tight = Service::new(MemoryPersistence::new()).with_config(small);
    let error = tight
        .start_execution("orders", None, Some("\"12345\"".into()))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("7 bytes, more than the limit of 4"),
        "{error}"
    );
    assert!(service.persistence().is_empty() && tight.persistence().is_empty());
}

#[tokio::test]
async fn stops_and_timeouts_end_executions() {
    let (service, clock) = service();
    let stopped = service.start_execution("fn", None, None).await.unwrap().arn;
    let error = durable_core::model::ErrorObject::new("Operator", "no longer needed");
    service.stop(&stopped, Some(error.clone())).await.unwrap();
    let described = service.describe(&stopped).await.unwrap();
    assert_eq!(described.status, ExecutionStatus::Stopped);
    assert_eq!(described.error, Some(error));
    assert_eq!(
        event_types(&service, &stopped).await,
        [EventType::ExecutionStarted, EventType::ExecutionStopped]
    );

    let request = StartExecution::new("fn").name("slow").timeout_seconds(10);
    let timed = service.start(request).await.unwrap().arn;
    clock.advance(secs(10));
    let schedule = service.fire_due(&timed).await.unwrap();
    assert_eq!(schedule.status, ExecutionStatus::TimedOut);
    let described = service.describe(&timed).await.unwrap();
    assert_eq!(
        described.error.unwrap().error_type.as_deref(),
        Some(EXECUTION_TIMEOUT_ERROR)
    );
    let version = described.version;
    service.fire_due(&timed).await.unwrap();
    assert_eq!(
        service.describe(&timed).await.unwrap().version,
        version,
        "nothing due: nothing written"
    );
}

#[tokio::test]
async fn listings_show_every_execution_in_start_order() {
    let (service, _clock) = service();
    let a = service
        .start_execution("orders", Some("a"), None)
        .await
        .unwrap()
        .arn;
    let b = service
        .start_execution("refunds", Some("b"), None)
        .await
        .unwrap()
        .arn;
    service.stop(&b, None).await.unwrap();
    let all = service
        .list(&ListFilter::default(), None, 10)
        .await
        .unwrap();
    let arns: Vec<&str> = all.items.iter().map(|s| s.arn.as_str()).collect();
    assert_eq!(arns, [a.as_str(), b.as_str()]);
    let stopped = ListFilter {
        status: Some(ExecutionStatus::Stopped),
        ..ListFilter::default()
    };
    let page = service.list(&stopped, None, 10).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].name, "b");
    assert!(matches!(
        service.list(&ListFilter::default(), Some("x"), 10).await,
        Err(RuntimeError::InvalidMarker { .. })
    ));
}

#[tokio::test]
async fn a_chained_invoke_resumes_its_parent_when_completed() {
    let (service, _clock) = service();
    let function = DurableFunction::new(|n: u32, ctx: DurableContext| async move {
        let doubled: u32 = ctx.invoke("doubler", n).await?;
        Ok::<_, DurableError>(doubled + 1)
    });
    let arn = service
        .start_execution("parent", None, Some("20".into()))
        .await
        .unwrap()
        .arn;
    assert_eq!(
        invoke(&service, &function, &arn).await.status,
        InvocationStatus::Pending
    );
    let described = service.describe(&arn).await.unwrap();
    let op = described
        .operations
        .iter()
        .find(|op| op.operation_type == OperationType::ChainedInvoke)
        .unwrap();
    assert_eq!(op.status, OperationStatus::Started);
    service
        .complete_chained_invoke(
            &arn,
            &op.id,
            ChainedInvokeResult::Succeeded(Some("40".into())),
        )
        .await
        .unwrap();
    assert!(service.fire_due(&arn).await.unwrap().needs_invocation);
    assert_eq!(
        invoke(&service, &function, &arn).await.status,
        InvocationStatus::Succeeded
    );
    assert_eq!(
        service.describe(&arn).await.unwrap().result.as_deref(),
        Some("41")
    );
}
