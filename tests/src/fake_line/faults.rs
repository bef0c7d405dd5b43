//! What the fake LINE can be told to do wrong, per endpoint: scripted faults for the next
//! requests, seeded random storms, latency, a rate limit of its own, and the monthly
//! message quota. The decisions are made here; `super::messages` carries them out.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::line::client::contract::Refusal;

/// The message endpoints the fake can be told to misbehave on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    Reply,
    Push,
    Multicast,
}

impl Endpoint {
    pub const ALL: [Endpoint; 3] = [Endpoint::Reply, Endpoint::Push, Endpoint::Multicast];

    /// The endpoint of `/v2/bot/message/{kind}`; `None` for any other kind.
    pub fn of_kind(kind: &str) -> Option<Endpoint> {
        match kind {
            "reply" => Some(Endpoint::Reply),
            "push" => Some(Endpoint::Push),
            "multicast" => Some(Endpoint::Multicast),
            _ => None,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Reply => "/v2/bot/message/reply",
            Endpoint::Push => "/v2/bot/message/push",
            Endpoint::Multicast => "/v2/bot/message/multicast",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What one request meets instead of an ordinary answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status with LINE's error body (`{"message": …}`) and `Retry-After`;
    /// nothing is delivered and a retry key stays unused.
    Refuse(Refusal),
    /// Take the request as usual, but answer only after this long.
    Slow(Duration),
    /// Read the request and never answer; nothing is delivered.
    Hang,
    /// Close the connection (a reset) without reading the body: nothing is delivered.
    ResetBeforeBody,
    /// Read the body, then close the connection without an answer: nothing is delivered.
    ResetAfterBody,
    /// Take the request (deliver it, use up its retry key and quota), then close the
    /// connection without an answer: LINE did the work and the answer was lost.
    AcceptThenReset,
    /// Take the request, then never answer.
    AcceptThenHang,
}

impl Fault {
    /// LINE's rate-limit 429 (`{"message":"Too many requests"}`), with `Retry-After: secs`
    /// if given.
    pub fn too_many_requests(retry_after_secs: Option<u64>) -> Fault {
        Fault::Refuse(Refusal::too_many_requests(
            retry_after_secs.map(Duration::from_secs),
        ))
    }

    /// LINE's 429 when the month's messages are used up.
    pub fn monthly_limit() -> Fault {
        Fault::Refuse(Refusal::monthly_limit())
    }

    /// A 5xx (or any status) with LINE's usual message for it.
    pub fn status(status: u16) -> Fault {
        let message = match status {
            500 => "Internal server error",
            502 => "Bad gateway",
            503 => "Service unavailable",
            504 => "Gateway timeout",
            _ => "Error",
        };
        Fault::Refuse(Refusal::new(status, message))
    }
}

/// Each request to an endpoint meets `fault` with probability `share`, drawn from a
/// generator seeded with `seed`: the same seed and the same order of requests give the
/// same storm.
#[derive(Debug, Clone)]
pub struct Storm {
    pub share: f64,
    pub fault: Fault,
    pub seed: u64,
}

impl Storm {
    /// A 429 storm: `share` of the requests answered 429 (`Retry-After` if given).
    pub fn too_many_requests(share: f64, retry_after_secs: Option<u64>, seed: u64) -> Storm {
        Storm {
            share,
            fault: Fault::too_many_requests(retry_after_secs),
            seed,
        }
    }
}

/// The channel's monthly message limit (`GET /v2/bot/message/quota`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quota {
    /// No limit (`{"type":"none"}`), as the 地方公共団体プラン.
    #[default]
    Unlimited,
    /// At most this many messages a month (`{"type":"limited","value":n}`).
    Limited(u64),
}

pub(super) type LatencyFn = Arc<dyn Fn(u64) -> Duration + Send + Sync>;

/// One endpoint's misbehaviour and its arrivals.
#[derive(Default)]
pub(super) struct EndpointState {
    script: VecDeque<Fault>,
    storm: Option<(Storm, SplitMix64)>,
    latency: Option<LatencyFn>,
    /// At most this many requests admitted in any sliding second.
    rate_limit: Option<u32>,
    admitted: VecDeque<Instant>,
    /// When each request arrived, from the fake's start.
    pub(super) arrivals: Vec<Duration>,
}

/// What a request to an endpoint meets, decided when it arrives.
pub(super) struct Decision {
    pub fault: Option<Fault>,
    pub latency: Duration,
}

impl EndpointState {
    pub(super) fn script(&mut self, faults: impl IntoIterator<Item = Fault>) {
        self.script.extend(faults);
    }

    pub(super) fn set_storm(&mut self, storm: Option<Storm>) {
        self.storm = storm.map(|s| {
            let rng = SplitMix64(s.seed);
            (s, rng)
        });
    }

    pub(super) fn set_latency(&mut self, latency: Option<LatencyFn>) {
        self.latency = latency;
    }

    pub(super) fn set_rate_limit(&mut self, per_second: Option<u32>) {
        self.rate_limit = per_second;
        self.admitted.clear();
    }

    /// Takes the next scripted fault if it must happen before the body is read.
    pub(super) fn take_reset_before_body(&mut self) -> bool {
        if self.script.front() == Some(&Fault::ResetBeforeBody) {
            self.script.pop_front();
            return true;
        }
        false
    }

    /// Whether the fake's own rate limit lets this request through (a sliding second of
    /// admitted requests; refused ones do not count, or a busy client would never pass).
    pub(super) fn admit(&mut self, now: Instant) -> bool {
        let Some(limit) = self.rate_limit else {
            return true;
        };
        while self
            .admitted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.admitted.pop_front();
        }
        if self.admitted.len() >= limit as usize {
            return false;
        }
        self.admitted.push_back(now);
        true
    }

    /// The scripted fault first, then the storm's draw; and the latency for request `n`.
    pub(super) fn decide(&mut self, n: u64) -> Decision {
        let fault = self.script.pop_front().or_else(|| {
            let (storm, rng) = self.storm.as_mut()?;
            (rng.next_f64() < storm.share).then(|| storm.fault.clone())
        });
        let latency = self.latency.as_ref().map_or(Duration::ZERO, |f| f(n));
        Decision { fault, latency }
    }
}

/// Per-endpoint states, indexed by [`Endpoint`].
#[derive(Default)]
pub(super) struct Endpoints([EndpointState; 3]);

impl Endpoints {
    pub(super) fn get(&mut self, endpoint: Endpoint) -> &mut EndpointState {
        &mut self.0[endpoint.index()]
    }

    pub(super) fn arrivals(&self, endpoint: Endpoint) -> &[Duration] {
        &self.0[endpoint.index()].arrivals
    }
}

/// The most requests in any window of `window` (start included, end excluded).
pub fn max_in_window(arrivals: &[Duration], window: Duration) -> usize {
    let mut times = arrivals.to_vec();
    times.sort();
    let mut first = 0;
    let mut best = 0;
    for last in 0..times.len() {
        while times[last] - times[first] >= window {
            first += 1;
        }
        best = best.max(last - first + 1);
    }
    best
}

/// A small seeded generator (SplitMix64): storms repeat exactly for the same seed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // The top 53 bits as a fraction in [0, 1).
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn the_busiest_second_is_found_wherever_it_starts() {
        let one = Duration::from_secs(1);
        assert_eq!(max_in_window(&[], one), 0);
        assert_eq!(max_in_window(&ms(&[0, 999, 1000, 1500, 1999]), one), 3);
        assert_eq!(max_in_window(&ms(&[0, 100, 999, 1000]), one), 3);
        // A request exactly one second later is in the next window.
        assert_eq!(max_in_window(&ms(&[0, 1000, 2000]), one), 1);
        assert_eq!(max_in_window(&ms(&[1500, 0, 600, 900]), one), 3);
    }

    #[test]
    fn a_storm_repeats_for_the_same_seed() {
        let draws = |seed| {
            let mut rng = SplitMix64(seed);
            (0..1000).map(|_| rng.next_f64()).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        let hits = draws(7).iter().filter(|x| **x < 0.3).count();
        assert!((250..350).contains(&hits), "{hits}");
    }

    #[test]
    fn the_rate_limit_slides() {
        let mut state = EndpointState::default();
        state.set_rate_limit(Some(2));
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert!(state.admit(at(0)));
        assert!(state.admit(at(500)));
        assert!(!state.admit(at(999)), "a third in the same second");
        assert!(state.admit(at(1000)), "the first left the window");
        assert!(!state.admit(at(1400)));
        assert!(state.admit(at(1500)));
    }
}
