//! The queue boundary between the daily scan and the sender. [`MemoryQueue`] runs inside
//! `sukusuku serve`; SQS joins it later with the same semantics: at-least-once delivery,
//! a receive hides a message until it is acked or its retry delay passes.

mod memory;

use std::future::Future;
use std::time::Duration;

use crate::delivery::DeliveryJob;
pub use memory::MemoryQueue;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("unreadable queue message: {0}")]
    BadMessage(String),
}

/// A job handed out by [`Queue::receive`].
#[derive(Debug, Clone)]
pub struct QueuedJob {
    pub job: DeliveryJob,
    pub receipt: String,
    /// 1 on the first delivery, 2 on the first retry, …
    pub receive_count: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub visible: usize,
    /// In flight or waiting out a retry delay.
    pub hidden: usize,
}

pub trait Queue: Send + Sync {
    fn enqueue(&self, jobs: &[DeliveryJob]) -> impl Future<Output = Result<(), QueueError>> + Send;
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
    /// Give up on it: move to the dead-letter queue with a reason.
    fn dead_letter(
        &self,
        receipt: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
    fn depth(&self) -> impl Future<Output = Result<QueueDepth, QueueError>> + Send;
}
