//! The history as a readable timeline: one line per event.

use std::collections::HashMap;
use std::time::Duration;

use durable_core::model::{Event, EventDetails, Timestamp};

use super::{columns, duration, error, inline};

/// One line per event: id, time, type, operation and key details.
pub fn render(events: &[Event]) -> String {
    if events.is_empty() {
        return "  (no events)\n".to_owned();
    }
    let mut started: HashMap<&str, Timestamp> = HashMap::new();
    let mut rows = vec![vec![
        "  #".to_owned(),
        "TIME".to_owned(),
        "EVENT".to_owned(),
        "OPERATION".to_owned(),
        "DETAILS".to_owned(),
    ]];
    for event in events {
        let took = event.id.as_deref().and_then(|id| {
            let type_name = event.event_type.as_str();
            if type_name.ends_with("Started") {
                started.insert(id, event.event_timestamp);
                None
            } else {
                let start = started.get(id)?;
                Some(event.event_timestamp.since(*start))
            }
        });
        rows.push(vec![
            format!("  {}", event.event_id),
            event.event_timestamp.to_string(),
            event.event_type.to_string(),
            operation(event),
            details(&event.details, took).join(", "),
        ]);
    }
    columns(&rows)
}

/// `name (id)`, the id alone, or `execution` for the execution's own events.
fn operation(event: &Event) -> String {
    if event.event_type.as_str().starts_with("Execution") {
        return "execution".to_owned();
    }
    match (&event.name, &event.id) {
        (Some(name), Some(id)) => format!("{name} ({})", short_id(id)),
        (None, Some(id)) => short_id(id),
        (Some(name), None) => name.clone(),
        (None, None) => "-".to_owned(),
    }
}

/// Operation ids are hashes: the first 12 characters tell them apart.
fn short_id(id: &str) -> String {
    const SHOWN: usize = 12;
    if id.chars().count() <= SHOWN {
        id.to_owned()
    } else {
        id.chars().take(SHOWN).collect()
    }
}

/// The details worth a glance, as `key=value` items.
fn details(details: &EventDetails, took: Option<Duration>) -> Vec<String> {
    let mut items = Vec::new();
    if let Some(took) = took {
        items.push(format!("took {}", duration(took)));
    }
    if let Some(retry) = &details.retry_details {
        items.push(format!("attempt {}", retry.current_attempt));
        if let Some(delay) = retry.next_attempt_delay_seconds {
            items.push(format!(
                "next attempt in {}",
                duration(Duration::from_secs(delay))
            ));
        }
    }
    if let Some(seconds) = details.duration {
        items.push(format!("wait {}", duration(Duration::from_secs(seconds))));
    }
    if let Some(end) = details.scheduled_end_timestamp {
        items.push(format!("until {end}"));
    }
    if let Some(seconds) = details.execution_timeout {
        items.push(format!(
            "execution timeout {}",
            duration(Duration::from_secs(seconds))
        ));
    }
    if let Some(callback_id) = &details.callback_id {
        items.push(format!("callback id {callback_id}"));
    }
    if let Some(seconds) = details.timeout {
        items.push(format!(
            "timeout {}",
            duration(Duration::from_secs(seconds))
        ));
    }
    if let Some(seconds) = details.heartbeat_timeout {
        items.push(format!(
            "heartbeat timeout {}",
            duration(Duration::from_secs(seconds))
        ));
    }
    if let Some(function) = &details.function_name {
        items.push(format!("function {function}"));
    }
    if let Some(input) = details.input.as_ref().and_then(|p| p.payload.as_deref()) {
        items.push(format!("input {}", inline(input)));
    }
    if let Some(result) = details.result.as_ref().and_then(|p| p.payload.as_deref()) {
        items.push(format!("result {}", inline(result)));
    }
    if let Some(failure) = &details.error {
        items.push(format!("error {}", error(&failure.payload)));
    }
    items
}

#[cfg(test)]
mod tests {
    use durable_core::model::{EventType, RetryDetails};

    use super::*;

    fn event(event_type: EventType, id: u64, millis: i64, details: EventDetails) -> Event {
        Event {
            event_type,
            event_id: id,
            event_timestamp: Timestamp::from_millis(millis),
            id: Some("0123456789abcdef".to_owned()),
            name: Some("charge".to_owned()),
            sub_type: None,
            parent_id: None,
            details,
        }
    }

    #[test]
    fn steps_show_attempts_durations_and_errors() {
        let failed = EventDetails {
            retry_details: Some(RetryDetails {
                current_attempt: 2,
                next_attempt_delay_seconds: Some(5),
            }),
            error: Some(durable_core::model::EventError {
                payload: durable_core::model::ErrorObject::new("StepError", "card declined"),
                truncated: false,
            }),
            ..EventDetails::default()
        };
        let text = render(&[
            event(EventType::StepStarted, 1, 0, EventDetails::default()),
            event(EventType::StepFailed, 2, 1500, failed),
        ]);
        assert!(text.contains("charge (0123456789ab)"), "{text}");
        assert!(text.contains("took 1.5s"), "{text}");
        assert!(text.contains("attempt 2"), "{text}");
        assert!(text.contains("next attempt in 5.0s"), "{text}");
        assert!(text.contains("error StepError: card declined"), "{text}");
    }
}
