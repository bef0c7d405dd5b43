//! The store boundary: residents, the anchor-date index the daily scan reads, and the
//! idempotency records (webhook events seen, deliveries made). [`LocalStore`] is the
//! embedded implementation (`sukusuku serve`, tests); `aws::DynamoStore` passes the same
//! contract tests ([`contract`]) on the moto server.

#[cfg(any(test, feature = "testing"))]
pub mod contract;
mod local;

use std::collections::HashSet;
use std::future::Future;

use chrono::{DateTime, Duration, Utc};

use crate::domain::{AnchorEntry, AnchorRange, Resident, UserId};
pub use local::LocalStore;

/// A webhook event id is remembered this long (LINE redelivers within hours).
pub const EVENT_CLAIM_TTL: Duration = Duration::days(7);
/// A delivery is remembered this long, so re-running a past day sends nothing twice.
pub const DELIVERY_RECORD_TTL: Duration = Duration::days(400);

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// The store could not be reached or throttled us; trying again may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Someone saved the resident since it was read; read again and redo the change.
    #[error("the resident was changed by another request")]
    Conflict,
    /// Stored data cannot be read; retrying will not help.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// The store refused the request (a misconfigured table, an oversized item); retrying
    /// will not help.
    #[error("the store refused the request: {0}")]
    Rejected(String),
}

impl StoreError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Conflict)
    }
}

pub trait Store: Send + Sync {
    fn resident(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<Resident>, StoreError>> + Send;

    /// Stores the resident and its anchor entries if the stored version still equals
    /// `resident.version` (0: must not exist yet); returns the stored copy with its new
    /// version. Otherwise [`StoreError::Conflict`] and nothing changes.
    fn save_resident(
        &self,
        resident: &Resident,
    ) -> impl Future<Output = Result<Resident, StoreError>> + Send;

    /// Removes the resident and every anchor entry; `false` if there was none.
    fn delete_resident(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// One index lookup: every anchor entry in the range.
    fn anchored(
        &self,
        range: &AnchorRange,
    ) -> impl Future<Output = Result<Vec<AnchorEntry>, StoreError>> + Send;

    /// Records a webhook event id; `false` if it was already recorded and not expired.
    fn claim_event(
        &self,
        event_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Forgets a claim whose processing failed, so LINE's redelivery is processed.
    fn release_event(&self, event_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Which of `users` already received the delivery named `scope`.
    fn delivered_among(
        &self,
        scope: &str,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<HashSet<UserId>, StoreError>> + Send;

    /// Marks job `job_id` done and `users` as having received `scope`.
    fn record_delivery(
        &self,
        job_id: &str,
        scope: &str,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn job_done(
        &self,
        job_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
