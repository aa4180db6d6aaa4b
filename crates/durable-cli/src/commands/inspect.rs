//! `show` and `history`.

use durable_core::model::Event;

use crate::database::Backend;
use crate::error::CliError;
use crate::output;

/// Events asked of the backend per page.
const PAGE: usize = 1000;

/// `durable show`: status, result or error, and the history timeline.
pub async fn show(service: &Backend, arn: &str) -> Result<(), CliError> {
    let description = service.describe(arn).await?;
    let events = all_events(service, arn).await?;
    print!("{}", output::describe::execution(&description));
    println!();
    let plural = if events.len() == 1 { "" } else { "s" };
    println!("History ({} event{plural})", events.len());
    print!("{}", output::timeline::render(&events));
    Ok(())
}

/// `durable history`: the events as JSON or as a timeline.
pub async fn history(service: &Backend, arn: &str, json: bool) -> Result<(), CliError> {
    // Describe first, so an unknown ARN is an error rather than no events.
    service.describe(arn).await?;
    let events = all_events(service, arn).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&events)?);
    } else {
        print!("{}", output::timeline::render(&events));
    }
    Ok(())
}

/// Every event of `arn`, page by page.
async fn all_events(service: &Backend, arn: &str) -> Result<Vec<Event>, CliError> {
    let mut events = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = service.history(arn, marker.as_deref(), PAGE).await?;
        events.extend(page.items);
        marker = page.next_marker;
        if marker.is_none() {
            return Ok(events);
        }
    }
}
