//! The store boundary: residents, the anchor-date index the daily scan reads, and the
//! idempotency records (webhook events seen, milestones delivered, days scanned).
//! [`LocalStore`] is the embedded implementation (`sukusuku serve`, tests);
//! `aws::DynamoStore` passes the same contract tests ([`contract`]) on the moto server.
//!
//! Everything that belongs to a resident lives under the resident: the profile, one anchor
//! entry per pregnancy or child, and on each entry the milestones already delivered to it.
//! Deleting the resident deletes all of it in one step, and a correction of a date keeps
//! the delivered milestones, so nobody gets the same milestone twice for one child.

#[cfg(any(test, feature = "testing"))]
pub mod booking_contract;
pub mod bookings;
#[cfg(any(test, feature = "testing"))]
pub mod contract;
mod local;

use std::future::Future;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::delivery::{Mark, Recipient};
use crate::domain::{AnchorEntry, AnchorRange, Resident, UserId};
pub use bookings::{
    BookingError, BookingRequest, BookingStore, Offers, Release, SeatChange, Stranding, WaitChange,
    WaitRequest,
};
pub use local::LocalStore;

/// A webhook event id is remembered this long (LINE redelivers within hours).
pub const EVENT_CLAIM_TTL: Duration = Duration::days(7);
/// A completed daily scan is remembered this long (the missed-day alarm looks back one day;
/// operators can see a year of runs).
pub const SCAN_RECORD_TTL: Duration = Duration::days(400);

/// A LINE webhook event being processed. Stored in the same atomic step as the change the
/// event causes, so a redelivery after any crash is processed exactly once: either the change
/// and the claim are both stored (the redelivery is a duplicate) or neither is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventClaim {
    pub event_id: String,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// The store could not be reached or throttled us; trying again may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Someone saved the resident since it was read; read again and redo the change.
    #[error("the resident was changed by another request")]
    Conflict,
    /// The webhook event named in the [`EventClaim`] was already processed; nothing changed.
    #[error("the webhook event was already processed")]
    DuplicateEvent,
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
    /// version. Otherwise [`StoreError::Conflict`] and nothing changes. An anchor entry that
    /// stays (same subject, maybe a corrected date) keeps its delivered milestones. With a
    /// claim, the claim is stored in the same step, or [`StoreError::DuplicateEvent`] and
    /// nothing changes.
    fn save_resident(
        &self,
        resident: &Resident,
        claim: Option<&EventClaim>,
    ) -> impl Future<Output = Result<Resident, StoreError>> + Send;

    /// Removes everything stored under the resident (profile, anchor entries, delivered
    /// milestones); `false` if there was no profile. The claim works as in `save_resident`.
    fn delete_resident(
        &self,
        user: &UserId,
        claim: Option<&EventClaim>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records a webhook event whose turn changes nothing; `false` if it was already
    /// recorded and not expired.
    fn claim_event(
        &self,
        claim: &EventClaim,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// One index lookup: every anchor entry in the range, with the resident's settings as of
    /// their last save and its delivery records.
    fn anchored(
        &self,
        range: &AnchorRange,
    ) -> impl Future<Output = Result<Vec<AnchorEntry>, StoreError>> + Send;

    /// Of `recipients`, who still should get what `mark` names: each keeps only the subjects
    /// that are still registered and have not had it. Recipients left with none are dropped.
    fn undelivered(
        &self,
        mark: &Mark<'_>,
        recipients: &[Recipient],
    ) -> impl Future<Output = Result<Vec<Recipient>, StoreError>> + Send;

    /// Records `mark` delivered on each recipient's subjects that still exist; a subject
    /// deleted in the meantime gets no record (nothing is left behind after a stop). A step
    /// never lowers the series' last step.
    fn record_delivery(
        &self,
        mark: &Mark<'_>,
        recipients: &[Recipient],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records that the daily scan for `day` completed.
    fn record_scan(
        &self,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The latest day before `day` whose scan completed, if any is remembered. Only days
    /// before count, so a run for a later day (by hand) cannot hide a gap.
    fn last_scanned_before(
        &self,
        day: NaiveDate,
    ) -> impl Future<Output = Result<Option<NaiveDate>, StoreError>> + Send;
}

/// What `undelivered` answers, given `had(user, subject)`: `None` when the subject is not
/// registered (any more), else whether it already had the milestone.
pub(crate) fn still_due(
    recipients: &[Recipient],
    had: impl Fn(&UserId, &str) -> Option<bool>,
) -> Vec<Recipient> {
    recipients
        .iter()
        .filter_map(|r| {
            let subjects: Vec<String> = r
                .subjects
                .iter()
                .filter(|s| had(&r.user, s) == Some(false))
                .cloned()
                .collect();
            (!subjects.is_empty()).then(|| Recipient {
                user: r.user.clone(),
                subjects,
            })
        })
        .collect()
}
