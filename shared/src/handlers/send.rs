//! Sending delivery jobs: push for one recipient, multicast for more, with the job's retry
//! key, at the channel's pace ([`Pacer`]). 409 counts as delivered; a rate-limit 429, 5xx,
//! timeouts and broken connections come back later (backoff with jitter, never before
//! `Retry-After`) with the same retry key, for as long as LINE keeps that key; other 4xx are
//! permanent and go to the dead-letter queue with the reason. A job that would pass the
//! month's quota, or a push met in the quiet hours, is kept in the queue for later, never
//! dropped. [`drain`] runs the queue to empty locally (`/dev/daily`).

use std::time::Duration;

use backon::BackoffBuilder;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::delivery::{DeliveryJob, NOTICE, Recipient};
use crate::domain::UserId;
use crate::line::{Accepted, LineApi};
use crate::pacer::{Admission, Endpoint, Pacer};
use crate::queue::{Queue, QueueError, QueuedJob};
use crate::quiet_hours::{MessageKind, QuietRules};
use crate::store::{BookingStore, Store};

/// LINE keeps an `X-Line-Retry-Key` for 24 hours; retries stop an hour short of that, so a
/// job LINE may already have taken is never sent again under a key it has forgotten.
pub const RETRY_WINDOW: Duration = Duration::from_secs(23 * 3600);
/// How often a job held for the month's quota is looked at again (a plan raised by staff,
/// or a new month, lets it go within this time).
pub const QUOTA_RECHECK: Duration = Duration::from_secs(30 * 60);
/// Jobs deferred past the quiet hours come back spread over this span, not all at 08:00:00.
const QUIET_SPREAD: Duration = Duration::from_secs(5 * 60);
/// SQS keeps a received message hidden for at most 12 hours; a longer wait is taken in steps.
const LONGEST_PARK: Duration = Duration::from_secs(11 * 3600 + 55 * 60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Delivered {
        recipients: usize,
    },
    /// Done by an earlier attempt or run.
    AlreadyDone,
    /// The month's quota would be passed: keep the job.
    Held {
        reason: String,
    },
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
    // LINE counts one message per recipient, however many bubbles a request carries.
    let messages = to.len() as u64;
    if let Admission::Held { reason } = pacer.admit(line, messages).await {
        return SendOutcome::Held { reason };
    }
    let key = job.retry_key();
    let users: Vec<UserId> = to.iter().map(|r| r.user.clone()).collect();
    let sent = match users.as_slice() {
        [one] => {
            pacer.wait(Endpoint::Push).await;
            line.push(one, &job.messages, &key).await
        }
        many => {
            pacer.wait(Endpoint::Multicast).await;
            line.multicast(many, &job.messages, &key).await
        }
    };
    match &sent {
        Ok(Accepted::Now) => {}
        // Counted when first accepted (or never): give the reservation back.
        Ok(Accepted::Earlier) | Err(_) => pacer.unreserve(messages).await,
    }
    if let Err(e) = &sent
        && e.is_monthly_limit()
    {
        pacer.quota_exhausted().await;
        return SendOutcome::Held {
            reason: e.to_string(),
        };
    }
    let accepted = match sent {
        Ok(accepted) => accepted,
        Err(e) if e.is_retryable() => {
            return SendOutcome::Retry {
                reason: e.to_string(),
                after: e.retry_after(),
            };
        }
        Err(e) => {
            return SendOutcome::Failed {
                reason: e.to_string(),
            };
        }
    };
    // If this write fails the job is retried; the retry key makes LINE answer 409. An
    // offer's or a notice's record is the retry key alone: it is sent once.
    if job.offer.is_none()
        && !notice
        && let Err(e) = store.record_delivery(&job.mark(), &to).await
    {
        return store_failure(e);
    }
    match accepted {
        Accepted::Now => SendOutcome::Delivered {
            recipients: to.len(),
        },
        // 409: an earlier attempt of this job (or its twin, sent at the same moment) has it.
        Accepted::Earlier => SendOutcome::AlreadyDone,
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
    /// The first retry's backoff; each later one doubles it, plus jitter of up to as much again.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Give up waiting for retries after this long in total (the local drain).
    pub deadline: Duration,
    /// A job still failing this long after its first receive goes to the dead-letter queue.
    pub retry_window: Duration,
    /// When pushes wait (`None`: at any hour, as `/dev/daily` does).
    pub quiet: Option<QuietRules>,
    /// How long a job held for the month's quota waits before it is looked at again.
    pub quota_recheck: Duration,
}

impl Default for DrainPolicy {
    fn default() -> Self {
        DrainPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            deadline: Duration::from_secs(120),
            retry_window: RETRY_WINDOW,
            quiet: None,
            quota_recheck: QUOTA_RECHECK,
        }
    }
}

impl DrainPolicy {
    /// The wait before retry `attempt` of job `id`: exponential backoff with jitter (seeded
    /// by the job, so instances retrying different jobs spread out), never shorter than
    /// LINE's `Retry-After`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, id: &str) -> Duration {
        let seed = u64::from_be_bytes(spread_bytes(id, attempt));
        let backoff = backon::ExponentialBuilder::default()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .with_jitter_seed(seed)
            .without_max_times()
            .build()
            .nth(attempt.saturating_sub(1) as usize)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        retry_after.map_or(backoff, |after| after.max(backoff))
    }
}

/// Eight bytes that differ from job to job and attempt to attempt.
fn spread_bytes(id: &str, attempt: u32) -> [u8; 8] {
    let digest = Sha256::digest(format!("{id}\0{attempt}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    b
}

/// The job's place in the spread after the quiet hours.
fn quiet_spread(id: &str) -> Duration {
    let n = u64::from_be_bytes(spread_bytes(id, 0));
    Duration::from_millis(n % QUIET_SPREAD.as_millis() as u64)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    /// Messages delivered (one per resident per job).
    pub sent: usize,
    pub jobs_sent: usize,
    pub already_done: usize,
    pub retries: usize,
    pub dead_lettered: usize,
    /// Jobs put off until the quiet hours end.
    pub deferred: usize,
    /// Jobs kept back because the month's quota would be passed.
    pub held: usize,
    /// Jobs still queued when the deadline passed.
    pub left_in_queue: usize,
    /// Jobs left in the queue for later (quiet hours, quota) when the drain ended.
    pub parked: usize,
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
    /// Put back until the quiet hours end.
    Deferred,
    /// Put back because the month's quota would be passed.
    Held,
    /// Moved to the dead-letter queue with the reason.
    DeadLettered,
}

/// Sends one queued message at `now` and settles it in the queue, except for the final
/// ack: the local drain acks, while Lambda's SQS event source deletes what the function did
/// not report as failed. An unreadable body or a permanent failure goes to the dead-letter
/// queue with the reason; a retryable one is retried within `policy.max_attempts` and
/// `policy.retry_window`; a push in the quiet hours, or one the quota cannot take, waits.
pub async fn settle<S: Store + BookingStore, Q: Queue, L: LineApi>(
    store: &S,
    queue: &Q,
    line: &L,
    pacer: &Pacer,
    message: &QueuedJob,
    policy: &DrainPolicy,
    now: DateTime<Utc>,
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
    let kind = MessageKind::of(&job);
    if let Some(wait) = policy.quiet.as_ref().and_then(|q| q.hold(kind, now)) {
        let delay = (wait + quiet_spread(&job.id)).min(LONGEST_PARK);
        tracing::info!(job = %job.id, kind = kind.name(), wait_s = delay.as_secs(), "quiet hours: push deferred");
        queue.retry_later(&message.receipt, delay).await?;
        return Ok(Settled::Deferred);
    }
    match send_job(store, line, pacer, &job).await {
        SendOutcome::Delivered { recipients } => Ok(Settled::Sent { recipients }),
        SendOutcome::AlreadyDone => Ok(Settled::AlreadyDone),
        SendOutcome::Held { reason } => {
            tracing::warn!(job = %job.id, %reason, "LINE message quota: job held in the queue");
            queue
                .retry_later(&message.receipt, policy.quota_recheck)
                .await?;
            Ok(Settled::Held)
        }
        SendOutcome::Retry { reason, after } => {
            let delay = policy.delay(message.receive_count, after, &job.id);
            let age = message.first_received.map_or(Duration::ZERO, |first| {
                (now - first).to_std().unwrap_or(Duration::ZERO)
            });
            if age + delay >= policy.retry_window {
                let reason = format!(
                    "{reason}; still failing {} h after its first attempt. LINE keeps a retry key 24 h, so this job was not tried again: an earlier attempt may have been delivered; check before a redrive",
                    age.as_secs() / 3600
                );
                tracing::error!(job = %job.id, attempt = message.receive_count, %reason, "job moved to the dead-letter queue");
                queue.dead_letter(message, &reason).await?;
                Ok(Settled::DeadLettered)
            } else if message.receive_count < policy.max_attempts {
                tracing::warn!(job = %job.id, attempt = message.receive_count, %reason, delay_ms = delay.as_millis() as u64, "send will be retried");
                queue.retry_later(&message.receipt, delay).await?;
                Ok(Settled::Retrying)
            } else {
                tracing::error!(job = %job.id, attempt = message.receive_count, %reason, "job moved to the dead-letter queue");
                queue.dead_letter(message, &reason).await?;
                Ok(Settled::DeadLettered)
            }
        }
        SendOutcome::Failed { reason } => {
            tracing::error!(job = %job.id, attempt = message.receive_count, %reason, "job moved to the dead-letter queue");
            queue.dead_letter(message, &reason).await?;
            Ok(Settled::DeadLettered)
        }
    }
}

/// What the sender reads from its environment (the Lambda's variables, `serve`'s too):
/// `CHANNEL_PUSH_RATE` and `CHANNEL_MULTICAST_RATE` (requests/s for the whole channel;
/// LINE's 2,000 and 200 by default), `QUIET_HOURS` (`21:00-08:00` by default, or `off`),
/// `QUIET_HOURS_EXEMPT` (kinds sent at any hour: `milestone`, `reminder`, `offer`,
/// `notice`), `SEND_RETRY_HOURS` (1–23, default 23).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendSettings {
    pub rate: crate::pacer::ChannelRate,
    pub quiet: Option<QuietRules>,
    pub retry_window: Duration,
}

impl SendSettings {
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<SendSettings, String> {
        let number = |name: &str, default: u32, max: u32| -> Result<u32, String> {
            match env(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| format!("{name}: `{v}` is not a whole number from 1 to {max}")),
            }
        };
        let line = crate::pacer::ChannelRate::LINE;
        let rate = crate::pacer::ChannelRate {
            push: number("CHANNEL_PUSH_RATE", line.push, line.push)?,
            multicast: number("CHANNEL_MULTICAST_RATE", line.multicast, line.multicast)?,
        };
        let quiet = QuietRules::parse(
            env("QUIET_HOURS").as_deref(),
            env("QUIET_HOURS_EXEMPT").as_deref(),
        )
        .map_err(|e| format!("QUIET_HOURS / QUIET_HOURS_EXEMPT: {e}"))?;
        let hours = number("SEND_RETRY_HOURS", 23, 23)?;
        Ok(SendSettings {
            rate,
            quiet,
            retry_window: Duration::from_secs(u64::from(hours) * 3600),
        })
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
            // Nothing to send now, and what is hidden waits for the morning or the quota.
            if depth.visible == 0 && depth.hidden <= depth.parked {
                report.parked = depth.parked;
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
        // A batch's jobs go at once: the pacer spaces their requests, and one slow answer
        // from LINE does not hold up the rest.
        let now = Utc::now();
        let settled = join_all(
            batch
                .iter()
                .map(|message| settle(store, queue, line, pacer, message, policy, now)),
        )
        .await;
        for (message, settled) in batch.iter().zip(settled) {
            match settled? {
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
                Settled::Deferred => report.deferred += 1,
                Settled::Held => report.held += 1,
                Settled::DeadLettered => report.dead_lettered += 1,
            }
        }
    }
    Ok(report)
}
