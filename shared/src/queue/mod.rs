//! The queue boundary between the daily scan and the sender, with SQS semantics:
//! at-least-once delivery, a receive hides a message until it is acked or its retry delay
//! passes, and a dead-letter queue keeps what could not be sent with the reason.
//! [`MemoryQueue`] runs inside `sukusuku serve`; `aws::SqsQueue` passes the same
//! [`contract`] on the moto server. Messages travel as JSON, so a body that is not a
//! [`DeliveryJob`] can arrive (an operator's hand-sent message) and must be dead-lettered.

#[cfg(any(test, feature = "testing"))]
pub mod contract;
mod memory;

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::delivery::DeliveryJob;
pub use memory::MemoryQueue;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("unreadable queue message: {0}")]
    BadMessage(String),
}

/// A message handed out by [`Queue::receive`] (or by Lambda's SQS event source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedJob {
    pub body: String,
    pub receipt: String,
    /// 1 on the first delivery, 2 on the first retry, …
    pub receive_count: u32,
    /// When the message was first handed out (SQS's `ApproximateFirstReceiveTimestamp`):
    /// the start of the 24 hours in which a retry with the job's retry key is safe.
    pub first_received: Option<DateTime<Utc>>,
}

impl QueuedJob {
    pub fn job(&self) -> Result<DeliveryJob, QueueError> {
        serde_json::from_str(&self.body).map_err(|e| QueueError::BadMessage(e.to_string()))
    }
}

/// SQS's `ApproximateReceiveCount` attribute; a message without one is on its first receive.
pub fn receive_count(attribute: Option<&str>) -> u32 {
    attribute.and_then(|v| v.parse().ok()).unwrap_or(1)
}

/// SQS's `ApproximateFirstReceiveTimestamp` attribute (epoch milliseconds).
pub fn first_received(attribute: Option<&str>) -> Option<DateTime<Utc>> {
    attribute
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_millis)
}

/// The message body of a job.
pub fn job_body(job: &DeliveryJob) -> Result<String, QueueError> {
    serde_json::to_string(job).map_err(|e| QueueError::BadMessage(e.to_string()))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub visible: usize,
    /// In flight or waiting out a retry delay.
    pub hidden: usize,
    /// Of the hidden, those put away for longer than [`PARKED_AFTER`] (quiet hours, a used-up
    /// quota), which a drain need not wait for. SQS cannot tell them apart: always 0 there.
    pub parked: usize,
}

/// A message hidden for longer than this is parked rather than waiting for a retry.
pub const PARKED_AFTER: Duration = Duration::from_secs(60);

pub trait Queue: Send + Sync {
    /// Sends message bodies as they are (jobs go through [`Queue::enqueue`]).
    fn enqueue_bodies(
        &self,
        bodies: &[String],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    fn enqueue(&self, jobs: &[DeliveryJob]) -> impl Future<Output = Result<(), QueueError>> + Send {
        async move {
            let bodies = jobs.iter().map(job_body).collect::<Result<Vec<_>, _>>()?;
            self.enqueue_bodies(&bodies).await
        }
    }

    fn receive(
        &self,
        max: usize,
    ) -> impl Future<Output = Result<Vec<QueuedJob>, QueueError>> + Send;
    /// Done with it: remove.
    fn ack(&self, receipt: &str) -> impl Future<Output = Result<(), QueueError>> + Send;
    /// Make it visible again after `delay`.
    fn retry_later(
        &self,
        receipt: &str,
        delay: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
    /// Give up on it: copy it to the dead-letter queue with the reason, then remove it.
    fn dead_letter(
        &self,
        message: &QueuedJob,
        reason: &str,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
    fn depth(&self) -> impl Future<Output = Result<QueueDepth, QueueError>> + Send;
    /// What the dead-letter queue holds: (body, reason), for operators and tests.
    fn dead_lettered(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, String)>, QueueError>> + Send;
}
