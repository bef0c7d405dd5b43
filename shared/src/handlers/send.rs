//! Sending delivery jobs: push for one recipient, multicast for more, with the job's retry
//! key; 409 counts as delivered; 429/5xx/timeouts come back for a later retry; other 4xx
//! are permanent. [`drain`] runs the queue to empty locally (`/dev/daily`).

use std::time::Duration;

use serde::Serialize;

use crate::delivery::{DeliveryJob, NOTICE, Recipient};
use crate::domain::UserId;
use crate::line::LineApi;
use crate::pacer::Pacer;
use crate::queue::{Queue, QueueError, QueuedJob};
use crate::store::{BookingStore, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Delivered {
        recipients: usize,
    },
    /// Done by an earlier attempt or run.
    AlreadyDone,
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    Failed {
        reason: String,
    },
}

/// Sends one job to those of its recipients who are still registered and have not had the
/// milestone (a stop, a removed child or an overlapping run since the scan drop them), then
/// records it on their pregnancy or children.
pub async fn send_job<S: Store + BookingStore, L: LineApi>(
    store: &S,
    line: &L,
    pacer: &Pacer,
    job: &DeliveryJob,
) -> SendOutcome {
    let store_failure = |e: crate::store::StoreError| {
        if e.is_retryable() {
            SendOutcome::Retry {
                reason: e.to_string(),
                after: None,
            }
        } else {
            SendOutcome::Failed {
                reason: e.to_string(),
            }
        }
    };
    let notice = job.milestone == NOTICE;
    let to = match &job.offer {
        Some(slot) => match still_offered(store, slot, job.offered_until, &job.recipients).await {
            Ok(to) => to,
            Err(e) => return store_failure(e),
        },
        // A notice goes to whoever is still registered (a stop since it was queued ends it).
        None if notice => match still_registered(store, &job.recipients).await {
            Ok(to) => to,
            Err(e) => return store_failure(e),
        },
        None => match store.undelivered(&job.mark(), &job.recipients).await {
            Ok(to) => to,
            Err(e) => return store_failure(e),
        },
    };
    if to.is_empty() {
        return SendOutcome::AlreadyDone;
    }
    pacer.wait().await;
    let key = job.retry_key();
    let users: Vec<UserId> = to.iter().map(|r| r.user.clone()).collect();
    let sent = match users.as_slice() {
        [one] => line.push(one, &job.messages, &key).await,
        many => line.multicast(many, &job.messages, &key).await,
    };
    if let Err(e) = sent {
        return if e.is_retryable() {
            SendOutcome::Retry {
                reason: e.to_string(),
                after: e.retry_after(),
            }
        } else {
            SendOutcome::Failed {
                reason: e.to_string(),
            }
        };
    }
    // If this write fails the job is retried; the retry key makes LINE answer 409. An
    // offer's or a notice's record is the retry key alone: it is sent once.
    if job.offer.is_none()
        && !notice
        && let Err(e) = store.record_delivery(&job.mark(), &to).await
    {
        return store_failure(e);
    }
    SendOutcome::Delivered {
        recipients: to.len(),
    }
}

async fn still_registered<S: Store>(
    store: &S,
    recipients: &[Recipient],
) -> Result<Vec<Recipient>, crate::store::StoreError> {
    let mut out = Vec::new();
    for r in recipients {
        if store.resident(&r.user).await?.is_some() {
            out.push(r.clone());
        }
    }
    Ok(out)
}

/// The recipients of an offer whose seat is still held for them (not taken, declined,
/// lapsed or gone with a stop).
async fn still_offered<S: BookingStore>(
    store: &S,
    slot: &str,
    until: Option<chrono::DateTime<chrono::Utc>>,
    recipients: &[Recipient],
) -> Result<Vec<Recipient>, crate::store::StoreError> {
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    for r in recipients {
        let held = store.waiting_of(&r.user).await?.into_iter().any(|w| {
            w.slot.to_string() == slot
                && r.subjects.iter().any(|s| s == w.booked_for.as_str())
                && w.has_offer(now)
                // A job from before `until` existed (none) matches any hold.
                && until.is_none_or(|u| w.offered_until == Some(u))
        });
        if held {
            out.push(r.clone());
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct DrainPolicy {
    /// Attempts per job before it goes to the dead-letter queue.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Give up waiting for retries after this long in total.
    pub deadline: Duration,
}

impl Default for DrainPolicy {
    fn default() -> Self {
        DrainPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            deadline: Duration::from_secs(120),
        }
    }
}

impl DrainPolicy {
    fn delay(&self, attempt: u32, suggested: Option<Duration>) -> Duration {
        let backoff = self.base_delay * 2u32.saturating_pow(attempt.saturating_sub(1));
        suggested.unwrap_or(backoff).min(self.max_delay)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    /// Messages delivered (one per resident per job).
    pub sent: usize,
    pub jobs_sent: usize,
    pub already_done: usize,
    pub retries: usize,
    pub dead_lettered: usize,
    /// Jobs still queued when the deadline passed.
    pub left_in_queue: usize,
}

/// What became of one queued message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Sent {
        recipients: usize,
    },
    AlreadyDone,
    /// Put back for a later attempt (its visibility delayed by the backoff or Retry-After).
    Retrying,
    /// Moved to the dead-letter queue with the reason.
    DeadLettered,
}

/// Sends one queued message and settles it in the queue, except for the final ack: the local
/// drain acks, while Lambda's SQS event source deletes what the function did not report as
/// failed. An unreadable body or a permanent failure goes to the dead-letter queue with the
/// reason; a retryable one is retried until `policy.max_attempts`.
pub async fn settle<S: Store + BookingStore, Q: Queue, L: LineApi>(
    store: &S,
    queue: &Q,
    line: &L,
    pacer: &Pacer,
    message: &QueuedJob,
    policy: &DrainPolicy,
) -> Result<Settled, QueueError> {
    let job = match message.job() {
        Ok(job) => job,
        Err(e) => {
            let reason = format!("not a delivery job: {e}");
            tracing::error!(%reason, "message moved to the dead-letter queue");
            queue.dead_letter(message, &reason).await?;
            return Ok(Settled::DeadLettered);
        }
    };
    match send_job(store, line, pacer, &job).await {
        SendOutcome::Delivered { recipients } => Ok(Settled::Sent { recipients }),
        SendOutcome::AlreadyDone => Ok(Settled::AlreadyDone),
        SendOutcome::Retry { reason, after } if message.receive_count < policy.max_attempts => {
            tracing::warn!(job = %job.id, attempt = message.receive_count, %reason, "send will be retried");
            let delay = policy.delay(message.receive_count, after);
            queue.retry_later(&message.receipt, delay).await?;
            Ok(Settled::Retrying)
        }
        SendOutcome::Retry { reason, .. } | SendOutcome::Failed { reason } => {
            tracing::error!(job = %job.id, attempt = message.receive_count, %reason, "job moved to the dead-letter queue");
            queue.dead_letter(message, &reason).await?;
            Ok(Settled::DeadLettered)
        }
    }
}

/// Sends queued jobs until the queue is empty (retries included) or the deadline passes.
pub async fn drain<S: Store + BookingStore, Q: Queue, L: LineApi>(
    store: &S,
    queue: &Q,
    line: &L,
    pacer: &Pacer,
    policy: &DrainPolicy,
) -> Result<DrainReport, QueueError> {
    let started = tokio::time::Instant::now();
    let mut report = DrainReport::default();
    loop {
        let batch = queue.receive(10).await?;
        if batch.is_empty() {
            let depth = queue.depth().await?;
            if depth.visible + depth.hidden == 0 {
                break;
            }
            if started.elapsed() > policy.deadline {
                report.left_in_queue = depth.visible + depth.hidden;
                tracing::warn!(left = report.left_in_queue, "drain deadline passed");
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        for message in batch {
            match settle(store, queue, line, pacer, &message, policy).await? {
                Settled::Sent { recipients } => {
                    report.sent += recipients;
                    report.jobs_sent += 1;
                    queue.ack(&message.receipt).await?;
                }
                Settled::AlreadyDone => {
                    report.already_done += 1;
                    queue.ack(&message.receipt).await?;
                }
                Settled::Retrying => report.retries += 1,
                Settled::DeadLettered => report.dead_lettered += 1,
            }
        }
    }
    Ok(report)
}
