//! Keeps outgoing LINE requests under the channel's rate limit by spacing them evenly.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

pub struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    pub fn per_second(requests: u32) -> Pacer {
        Pacer {
            interval: Duration::from_secs(1) / requests.max(1),
            next: Mutex::new(None),
        }
    }

    /// Waits for this request's slot.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_evenly() {
        let pacer = Pacer::per_second(200);
        let start = Instant::now();
        for _ in 0..201 {
            pacer.wait().await;
        }
        // 201 requests at 200/s need exactly one second of (virtual) time.
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
    }
}
