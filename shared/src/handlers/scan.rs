//! The daily milestone scan for one Asia/Tokyo date: one anchor-index lookup per run of
//! anchor dates in one month that the catalog's milestones and series need, never a walk
//! over residents. Each entry found carries the resident's settings, so targeting (category
//! on, audience matched) costs nothing more; texts are filled in per recipient and identical
//! messages grouped into delivery jobs of at most 500 recipients. A pregnancy or child that
//! already received a milestone or a series step (the entry carries that) is skipped.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::conversation::common::notice_actions;
use crate::delivery::{DeliveryJob, Mark, Recipient};
use crate::domain::UserId;
use crate::line::Message;
use crate::line::limits::MAX_MULTICAST_RECIPIENTS;
use crate::queue::{Queue, QueueError};
use crate::reservations::Service;
use crate::store::{BookingStore, Store, StoreError};
use crate::targeting::{Outcome, notices_for};

/// SQS takes ten messages per `SendMessageBatch`.
const ENQUEUE_BATCH: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    pub date: Option<NaiveDate>,
    /// Anchor-index lookups made: the scan's cost, independent of the population.
    pub lookups: usize,
    /// Index entries the lookups returned.
    pub entries_read: usize,
    /// (milestone or series step, pregnancy or child) pairs due on the date.
    pub due: usize,
    /// Of those, not for this resident: the category is off, or the audience does not match.
    pub not_targeted: usize,
    /// Of those, already delivered (by an earlier run, or before a date was corrected).
    pub already_delivered: usize,
    pub jobs: usize,
    /// Messages enqueued (one per resident per milestone).
    pub enqueued: usize,
    /// Booking reminders enqueued (one job each: the message names the booking).
    pub reminders: usize,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ScanError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Who gets one message: by what is delivered and the text it renders to, the residents and
/// their subjects (one message per resident even for twins, recorded on each).
/// The register is part of the key: やさしい日本語 readers get the same text (where the
/// catalog has no easy one) with buttons in their register.
type Groups<'c> = BTreeMap<(Mark<'c>, Cow<'c, str>, bool), BTreeMap<UserId, Vec<String>>>;

/// Scans `day` and records it as completed (the missed-day alarm reads that record).
pub async fn run_daily_scan<S: Store + BookingStore, Q: Queue>(
    store: &S,
    queue: &Q,
    catalog: &Catalog,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ScanReport, ScanError> {
    let mut report = ScanReport {
        date: Some(day),
        ..ScanReport::default()
    };
    let mut groups: Groups<'_> = BTreeMap::new();
    for lookup in catalog.lookups_for(day) {
        let entries = store.anchored(&lookup.range).await?;
        report.lookups += 1;
        report.entries_read += entries.len();
        for e in &entries {
            for notice in notices_for(catalog, &lookup, day, e) {
                report.due += 1;
                match notice.outcome {
                    Outcome::NotTargeted => report.not_targeted += 1,
                    Outcome::AlreadyDelivered => report.already_delivered += 1,
                    Outcome::Send => groups
                        .entry((notice.mark, notice.text, e.easy_japanese))
                        .or_default()
                        .entry(e.user_id.clone())
                        .or_default()
                        .push(e.subject.clone()),
                }
            }
        }
    }
    // Jobs go out in full batches of ten (one SQS request each) as they are made.
    let mut jobs = Vec::new();
    for ((mark, text, easy), users) in groups {
        let pending: Vec<Recipient> = users
            .into_iter()
            .map(|(user, mut subjects)| {
                subjects.sort();
                Recipient { user, subjects }
            })
            .collect();
        // A milestone that names a service offers to book it right there.
        let mut actions = notice_actions(easy);
        if let Mark::Milestone(id) = mark
            && let Some(service) = catalog.milestone(id).and_then(|m| m.service.as_ref())
        {
            actions.insert(
                0,
                crate::conversation::reserve::book_service_action(easy, service),
            );
        }
        for chunk in pending.chunks(MAX_MULTICAST_RECIPIENTS) {
            report.enqueued += chunk.len();
            jobs.push(DeliveryJob::new(
                day,
                mark,
                chunk.to_vec(),
                vec![Message::text_with(text.as_ref(), actions.clone())],
            ));
        }
        let full = jobs.len() - jobs.len() % ENQUEUE_BATCH;
        if full > 0 {
            queue.enqueue(&jobs[..full]).await?;
            report.jobs += full;
            jobs.drain(..full);
        }
    }
    if !jobs.is_empty() {
        queue.enqueue(&jobs).await?;
        report.jobs += jobs.len();
    }
    enqueue_reminders(store, queue, day, &mut report).await?;
    store.record_scan(day, now).await?;
    tracing::info!(
        lookups = report.lookups,
        entries_read = report.entries_read,
        due = report.due,
        not_targeted = report.not_targeted,
        jobs = report.jobs,
        enqueued = report.enqueued,
        reminders = report.reminders,
        "daily scan done"
    );
    Ok(report)
}

/// The reminders due on `day`: for each number of days ahead a service reminds at, one
/// lookup of the bookings on that date (its cost follows the bookings due, not the
/// residents), and one job per active booking. A booking already reminded for its slot is
/// skipped by the sender, so a re-run sends nothing twice.
async fn enqueue_reminders<S: Store + BookingStore, Q: Queue>(
    store: &S,
    queue: &Q,
    day: NaiveDate,
    report: &mut ScanReport,
) -> Result<(), ScanError> {
    let services = store.services().await?;
    let mut by_days: BTreeMap<u32, Vec<&Service>> = BTreeMap::new();
    for s in services.iter().filter(|s| s.remind_days_before > 0) {
        by_days.entry(s.remind_days_before).or_default().push(s);
    }
    let mut jobs = Vec::new();
    for (days, reminding) in by_days {
        let Some(date) = crate::dates::add_days(day, days as i64) else {
            continue;
        };
        for booking in store.bookings_between(date, date).await? {
            let Some(service) = reminding
                .iter()
                .find(|s| s.id == booking.slot.service && booking.is_active())
            else {
                continue;
            };
            let resident = store.resident(&booking.user).await?;
            let message =
                crate::conversation::reserve::reminder(resident.as_ref(), service, &booking, days);
            let slot = booking.slot.to_string();
            jobs.push(DeliveryJob::new(
                day,
                Mark::Reminder { slot: &slot },
                vec![Recipient {
                    user: booking.user.clone(),
                    subjects: vec![booking.id.to_string()],
                }],
                vec![message],
            ));
        }
    }
    for batch in jobs.chunks(ENQUEUE_BATCH) {
        queue.enqueue(batch).await?;
        report.jobs += batch.len();
        report.reminders += batch.len();
    }
    Ok(())
}
