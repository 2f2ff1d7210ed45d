//! `LISTEN` on a connection of its own, so a worker wakes when another queues or wakes a run.
//! A notification can be lost (the connection drops, the server restarts), so workers also
//! claim on a timer; this only makes them quicker.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, NoTls};

use super::pool::Pool;

/// How long to wait before listening again after the connection failed.
const AGAIN: Duration = Duration::from_secs(1);

/// Starts listening on `channel`, on the pool's driver thread, until the returned handle is
/// dropped. Every notification, and every reconnection, notifies it.
pub(super) fn listen(pool: &Pool, config: &tokio_postgres::Config, channel: &str) -> Arc<Notify> {
    let notify = Arc::new(Notify::new());
    let weak = Arc::downgrade(&notify);
    let config = config.clone();
    let statement = format!("LISTEN {channel}");
    pool.spawn(Box::pin(async move {
        while weak.strong_count() > 0 {
            if let Err(e) = listen_once(&config, &statement, &weak).await {
                tracing::debug!(error = %e, "listening for queued runs stopped; listening again");
            }
            tokio::time::sleep(AGAIN).await;
        }
    }));
    notify
}

/// Listens until the connection ends (or nobody holds the handle any more).
async fn listen_once(
    config: &tokio_postgres::Config,
    statement: &str,
    notify: &Weak<Notify>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let pump = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(_))) => {
                    if tx.send(()).is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            }
        }
    });
    client.batch_execute(statement).await?;
    // Anything queued while nobody listened is found by this first look.
    wake(notify);
    while rx.recv().await.is_some() {
        if !wake(notify) {
            break;
        }
    }
    pump.abort();
    Ok(())
}

/// Notifies the handle; `false` once nobody holds it.
fn wake(notify: &Weak<Notify>) -> bool {
    match notify.upgrade() {
        Some(n) => {
            n.notify_one();
            true
        }
        None => false,
    }
}
