//! Wake-ups over `LISTEN`/`NOTIFY`: writes that make an execution due
//! from outside (a start, a completed callback) `NOTIFY` a channel, and
//! every worker `LISTEN`s on it to claim at once rather than at its next
//! poll. Polling stays the fallback: a notification lost while a listener
//! reconnects only delays a claim to the next poll.

use std::time::Duration;

use durable_runtime::WakeUps;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;

/// The channel name, as a literal for the statements that `NOTIFY` it.
macro_rules! wake_channel {
    () => {
        "durable_due"
    };
}
pub(crate) use wake_channel;

/// The channel writes notify when an execution becomes due from outside.
pub const WAKE_CHANNEL: &str = wake_channel!();

/// How long a listener waits before connecting again after a failure.
const RETRY: Duration = Duration::from_secs(1);

/// A new subscription: a task listening on its own pooled connection
/// until the subscriber is dropped or the pool closes.
pub(crate) fn subscribe(pool: &PgPool) -> WakeUps {
    let (sender, receiver) = watch::channel(());
    let pool = pool.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = listen(&pool, &sender) => {}
            () = sender.closed() => {}
        }
    });
    receiver
}

/// Listens forever, connecting again after failures; every notification,
/// and every reconnection (notifications may have been missed), wakes.
async fn listen(pool: &PgPool, sender: &watch::Sender<()>) {
    loop {
        if pool.is_closed() {
            return;
        }
        let mut listener = match PgListener::connect_with(pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::debug!(%error, "cannot connect to listen for wake-ups");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(WAKE_CHANNEL).await {
            tracing::debug!(%error, "cannot listen for wake-ups");
            tokio::time::sleep(RETRY).await;
            continue;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => {}
                // The connection was lost; the listener reconnects and
                // listens again on the next call.
                Ok(None) => tracing::debug!("wake-up listener reconnecting"),
                Err(error) => {
                    tracing::debug!(%error, "wake-up listener failed");
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
            sender.send_replace(());
        }
    }
}
