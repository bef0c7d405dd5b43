//! Keeps outgoing LINE requests inside the channel's limits: its request rate per endpoint
//! (push 2,000/s, multicast 200/s) and its monthly message quota.
//!
//! **The rate across instances.** Every push and multicast goes through the sender, and at
//! most `instances` senders run at once (on AWS the SQS event source's
//! `MaximumConcurrency`; locally one drain). Each instance spaces its requests evenly at its
//! [`ChannelRate::share`]: a little under `rate / instances`, so that even when every
//! instance is busy, and with the requests' travel times differing by a few per cent of a
//! second, no one-second window at LINE holds more than the channel's rate. There is no
//! shared counter to read or write per request (no cost, no extra latency); the price is
//! that fewer busy instances than `instances` leave part of the rate unused.
//!
//! **The quota.** A plan with a monthly limit is read from LINE
//! (`/v2/bot/message/quota` and `/consumption`) at most once a [`QUOTA_REFRESH`], counted
//! forward locally between reads, and a job that would pass the limit is held instead of
//! sent: the sender keeps it in the queue and tells staff.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::line::limits::{MULTICAST_REQUESTS_PER_SECOND, PUSH_REQUESTS_PER_SECOND};
use crate::line::{LineApi, Quota};

/// The share of the channel's rate the instances plan for together; the rest absorbs the
/// differences in the requests' travel times to LINE.
const HEADROOM: f64 = 0.97;

/// How long a quota reading is trusted before it is read again.
pub const QUOTA_REFRESH: Duration = Duration::from_secs(60);

/// The two endpoints with their own per-channel rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Push,
    Multicast,
}

/// Requests per second, per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelRate {
    pub push: u32,
    pub multicast: u32,
}

impl ChannelRate {
    /// LINE's published limits for one channel.
    pub const LINE: ChannelRate = ChannelRate {
        push: PUSH_REQUESTS_PER_SECOND,
        multicast: MULTICAST_REQUESTS_PER_SECOND,
    };

    /// One instance's rate when `instances` may run at once: `instances` of them, each
    /// also allowed one request of slack at a window's edge, stay within the channel's rate.
    pub fn share(&self, instances: u32) -> Result<ChannelRate, String> {
        let n = instances.max(1);
        let one = |rate: u32, name: &str| {
            let share = ((f64::from(rate) * HEADROOM - f64::from(n)) / f64::from(n)).floor();
            if share < 1.0 {
                Err(format!(
                    "a {name} rate of {rate}/s cannot be shared by {n} sender instances; raise the rate or lower the concurrency"
                ))
            } else {
                Ok(share as u32)
            }
        };
        Ok(ChannelRate {
            push: one(self.push, "push")?,
            multicast: one(self.multicast, "multicast")?,
        })
    }
}

/// The timer's resolution: a sleep may end up to this much late.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// Even spacing of one endpoint's requests.
struct Spacing {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Spacing {
    fn per_second(requests: u32) -> Spacing {
        Spacing {
            interval: Duration::from_secs(1) / requests.max(1),
            next: Mutex::new(None),
        }
    }

    async fn wait(&self) {
        // Held across the sleep: concurrent callers go one after another.
        let mut next = self.next.lock().await;
        let slot = next.map_or_else(Instant::now, |n| n.max(Instant::now()));
        tokio::time::sleep_until(slot).await;
        let woke = Instant::now();
        // Slots are planned one interval apart, so the timer's rounding up does not slow the
        // pace; a wake-up later than that (a busy instance) starts the plan again from when
        // the request really went, so the next one is not let go right behind it.
        *next = Some((slot + self.interval).max(woke + self.interval.saturating_sub(TIMER_TICK)));
    }
}

/// Whether a job may go now as far as the month's quota is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Go,
    /// Sending would pass the month's limit: keep the job for later.
    Held {
        reason: String,
    },
}

struct QuotaReading {
    at: Instant,
    quota: Quota,
    /// Messages this instance sent (or is sending) since the reading.
    sent_since: u64,
    /// LINE answered "monthly limit" since the reading.
    exhausted: bool,
}

pub struct Pacer {
    push: Spacing,
    multicast: Spacing,
    quota: Mutex<Option<QuotaReading>>,
}

impl Pacer {
    /// The same rate for both endpoints (tests and tools).
    pub fn per_second(requests: u32) -> Pacer {
        Pacer::at(ChannelRate {
            push: requests,
            multicast: requests,
        })
    }

    /// One instance at exactly `rate` (use [`ChannelRate::share`] for an instance's share).
    pub fn at(rate: ChannelRate) -> Pacer {
        Pacer {
            push: Spacing::per_second(rate.push),
            multicast: Spacing::per_second(rate.multicast),
            quota: Mutex::new(None),
        }
    }

    /// Waits for this request's turn at its endpoint.
    pub async fn wait(&self, endpoint: Endpoint) {
        match endpoint {
            Endpoint::Push => self.push.wait().await,
            Endpoint::Multicast => self.multicast.wait().await,
        }
    }

    /// Whether `messages` more (one per recipient) fit in the month. A quota that cannot be
    /// read does not stop delivery: LINE's own answer ("monthly limit") still holds the job.
    pub async fn admit<L: LineApi>(&self, line: &L, messages: u64) -> Admission {
        let mut reading = self.quota.lock().await;
        let stale = reading
            .as_ref()
            .is_none_or(|r| r.at.elapsed() >= QUOTA_REFRESH);
        if stale {
            match line.quota().await {
                Ok(quota) => {
                    *reading = Some(QuotaReading {
                        at: Instant::now(),
                        quota,
                        sent_since: 0,
                        exhausted: false,
                    })
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the LINE message quota; sending on");
                    // Keep what was known (a limit reached stays reached); retry the read later.
                    if let Some(r) = reading.as_mut() {
                        r.at = Instant::now();
                    }
                }
            }
        }
        let Some(r) = reading.as_ref() else {
            return Admission::Go;
        };
        if r.exhausted {
            return Admission::Held {
                reason: "LINE answered that this month's messages are used up".to_string(),
            };
        }
        match r.quota.limit {
            Some(limit) if r.quota.used + r.sent_since + messages > limit => Admission::Held {
                reason: format!(
                    "this month's LINE message quota would be passed: {} of {limit} used, {messages} more needed",
                    r.quota.used + r.sent_since
                ),
            },
            _ => {
                // Reserved now, so jobs sent at the same time cannot pass the limit together.
                if let Some(r) = reading.as_mut() {
                    r.sent_since += messages;
                }
                Admission::Go
            }
        }
    }

    /// Gives back what [`Pacer::admit`] reserved for a job LINE did not take now.
    pub async fn unreserve(&self, messages: u64) {
        if let Some(r) = self.quota.lock().await.as_mut() {
            r.sent_since = r.sent_since.saturating_sub(messages);
        }
    }

    /// LINE answered "monthly limit": hold everything until the next reading says otherwise.
    pub async fn quota_exhausted(&self) {
        let mut reading = self.quota.lock().await;
        match reading.as_mut() {
            Some(r) => r.exhausted = true,
            None => {
                *reading = Some(QuotaReading {
                    at: Instant::now(),
                    quota: Quota::UNLIMITED,
                    sent_since: 0,
                    exhausted: true,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_evenly_per_endpoint() {
        let pacer = Pacer::at(ChannelRate {
            push: 400,
            multicast: 200,
        });
        let start = Instant::now();
        for _ in 0..201 {
            pacer.wait(Endpoint::Multicast).await;
        }
        // 201 requests at 200/s need exactly one second of (virtual) time…
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
        // …and the other endpoint has its own pace.
        let start = Instant::now();
        for _ in 0..401 {
            pacer.wait(Endpoint::Push).await;
        }
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_request_does_not_bring_the_next_one_closer() {
        let pacer = Pacer::per_second(10);
        pacer.wait(Endpoint::Push).await;
        // The caller was busy for 250 ms: the next may go at once, the one after 100 ms later.
        tokio::time::advance(Duration::from_millis(250)).await;
        let before = Instant::now();
        pacer.wait(Endpoint::Push).await;
        assert_eq!(Instant::now(), before);
        pacer.wait(Endpoint::Push).await;
        assert_eq!(Instant::now() - before, Duration::from_millis(100));
    }

    #[test]
    fn shares_keep_every_busy_instance_together_under_the_channel_rate() {
        for instances in [1u32, 2, 4, 10, 50] {
            let share = ChannelRate::LINE.share(instances).expect("share");
            for (rate, one) in [(2000, share.push), (200, share.multicast)] {
                // Each instance: its share, plus one request at a window's edge, plus 3% of
                // travel-time jitter: never above the rate in any second.
                let worst = f64::from(instances) * (f64::from(one) * 1.03 + 1.0);
                assert!(worst <= f64::from(rate), "{instances} × {one} vs {rate}");
                // And the instances together plan for at least 90 % of it when they can.
                if instances <= 4 {
                    assert!(
                        f64::from(one * instances) >= 0.9 * f64::from(rate),
                        "{instances} × {one} vs {rate}"
                    );
                }
            }
        }
        let e = ChannelRate {
            push: 2000,
            multicast: 10,
        }
        .share(10)
        .expect_err("too thin");
        assert!(e.contains("multicast rate of 10/s"), "{e}");
    }
}
