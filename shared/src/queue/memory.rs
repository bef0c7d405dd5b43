//! An in-process queue with SQS-like visibility: received jobs stay hidden until acked,
//! retried after a delay, or reappear when the visibility timeout lapses (a crashed send).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Queue, QueueDepth, QueueError, QueuedJob};

/// A received job not acked within this time is handed out again.
const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(60);

struct Entry {
    body: String,
    visible_at: Instant,
    receive_count: u32,
    first_received: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Default)]
struct Inner {
    next_seq: u64,
    entries: BTreeMap<u64, Entry>,
    dead: Vec<(String, String)>,
}

#[derive(Default)]
pub struct MemoryQueue {
    inner: Mutex<Inner>,
}

impl MemoryQueue {
    pub fn new() -> MemoryQueue {
        MemoryQueue::default()
    }

    /// When the next hidden job becomes visible, if any.
    pub fn next_visible_in(&self) -> Option<Duration> {
        let now = Instant::now();
        self.lock()
            .entries
            .values()
            .map(|e| e.visible_at.saturating_duration_since(now))
            .min()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Receipts name the entry and the receive, so an old receipt cannot ack a later receive.
fn receipt(seq: u64, count: u32) -> String {
    format!("{seq}.{count}")
}

fn parse_receipt(r: &str) -> Result<(u64, u32), QueueError> {
    let bad = || QueueError::BadMessage(format!("unknown receipt `{r}`"));
    let (seq, count) = r.split_once('.').ok_or_else(bad)?;
    Ok((
        seq.parse().map_err(|_| bad())?,
        count.parse().map_err(|_| bad())?,
    ))
}

impl Inner {
    fn current(&mut self, r: &str) -> Result<Option<u64>, QueueError> {
        let (seq, count) = parse_receipt(r)?;
        Ok(self
            .entries
            .get(&seq)
            .filter(|e| e.receive_count == count)
            .map(|_| seq))
    }
}

impl Queue for MemoryQueue {
    async fn enqueue_bodies(&self, bodies: &[String]) -> Result<(), QueueError> {
        let mut inner = self.lock();
        let now = Instant::now();
        for body in bodies {
            let seq = inner.next_seq;
            inner.next_seq += 1;
            inner.entries.insert(
                seq,
                Entry {
                    body: body.clone(),
                    visible_at: now,
                    receive_count: 0,
                    first_received: None,
                },
            );
        }
        Ok(())
    }

    async fn receive(&self, max: usize) -> Result<Vec<QueuedJob>, QueueError> {
        let mut inner = self.lock();
        let now = Instant::now();
        let mut out = Vec::new();
        for (seq, e) in inner.entries.iter_mut() {
            if out.len() >= max {
                break;
            }
            if e.visible_at <= now {
                e.receive_count += 1;
                e.visible_at = now + VISIBILITY_TIMEOUT;
                let first = *e.first_received.get_or_insert_with(chrono::Utc::now);
                out.push(QueuedJob {
                    body: e.body.clone(),
                    receipt: receipt(*seq, e.receive_count),
                    receive_count: e.receive_count,
                    first_received: Some(first),
                });
            }
        }
        Ok(out)
    }

    async fn ack(&self, r: &str) -> Result<(), QueueError> {
        let mut inner = self.lock();
        if let Some(seq) = inner.current(r)? {
            inner.entries.remove(&seq);
        }
        Ok(())
    }

    async fn retry_later(&self, r: &str, delay: Duration) -> Result<(), QueueError> {
        let mut inner = self.lock();
        if let Some(seq) = inner.current(r)?
            && let Some(e) = inner.entries.get_mut(&seq)
        {
            e.visible_at = Instant::now() + delay;
        }
        Ok(())
    }

    async fn dead_letter(&self, message: &QueuedJob, reason: &str) -> Result<(), QueueError> {
        let mut inner = self.lock();
        if let Some(seq) = inner.current(&message.receipt)? {
            inner.entries.remove(&seq);
            inner.dead.push((message.body.clone(), reason.to_string()));
        }
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let inner = self.lock();
        let now = Instant::now();
        let visible = inner
            .entries
            .values()
            .filter(|e| e.visible_at <= now)
            .count();
        let parked = inner
            .entries
            .values()
            .filter(|e| e.visible_at > now + super::PARKED_AFTER)
            .count();
        Ok(QueueDepth {
            visible,
            hidden: inner.entries.len() - visible,
            parked,
        })
    }

    async fn dead_lettered(&self) -> Result<Vec<(String, String)>, QueueError> {
        Ok(self.lock().dead.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_queue_meets_the_queue_contract() {
        crate::queue::contract::run_all(|| async { MemoryQueue::new() }).await;
    }
}
