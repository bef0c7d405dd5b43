//! The daily milestone scan for one Asia/Tokyo date: one anchor-index lookup per distinct
//! anchor range in the catalog, never a walk over residents; identical messages grouped into
//! delivery jobs of at most 500 recipients; a pregnancy or child that already received a
//! milestone (the index entry carries what it received) is skipped, whatever day that was.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::conversation::common::notice_actions;
use crate::delivery::{DeliveryJob, Recipient};
use crate::domain::UserId;
use crate::line::Message;
use crate::line::limits::MAX_MULTICAST_RECIPIENTS;
use crate::queue::{Queue, QueueError};
use crate::store::{Store, StoreError};

/// SQS takes ten messages per `SendMessageBatch`.
const ENQUEUE_BATCH: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    pub date: Option<NaiveDate>,
    /// Anchor-index lookups made: the scan's cost, independent of the population.
    pub lookups: usize,
    /// (milestone, pregnancy or child) pairs due on the date.
    pub due: usize,
    /// Of those, already delivered (by an earlier run, or before a date was corrected).
    pub already_delivered: usize,
    pub jobs: usize,
    /// Messages enqueued (one per resident per milestone).
    pub enqueued: usize,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ScanError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Scans `day` and records it as completed (the missed-day alarm reads that record).
pub async fn run_daily_scan<S: Store, Q: Queue>(
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
    // Jobs are enqueued in full batches of ten (one SQS request each) as they accumulate.
    let mut jobs = Vec::new();
    for lookup in catalog.lookups_for(day) {
        let entries = store.anchored(&lookup.range).await?;
        report.lookups += 1;
        if entries.is_empty() {
            continue;
        }
        for (fires_for, milestone) in lookup.milestones {
            // One message per resident per milestone, even for twins (recorded on each);
            // grouped by the text variant each resident receives.
            let mut by_text: BTreeMap<&str, BTreeMap<&UserId, Vec<String>>> = BTreeMap::new();
            for e in entries
                .iter()
                .filter(|e| fires_for.contains(e.kind, e.date))
            {
                report.due += 1;
                if e.delivered.contains(&milestone.id) {
                    report.already_delivered += 1;
                    continue;
                }
                by_text
                    .entry(milestone.text_for(e.easy_japanese))
                    .or_default()
                    .entry(&e.user_id)
                    .or_default()
                    .push(e.subject.clone());
            }
            for (text, users) in by_text {
                let pending: Vec<Recipient> = users
                    .into_iter()
                    .map(|(user, mut subjects)| {
                        subjects.sort();
                        Recipient {
                            user: user.clone(),
                            subjects,
                        }
                    })
                    .collect();
                for chunk in pending.chunks(MAX_MULTICAST_RECIPIENTS) {
                    report.enqueued += chunk.len();
                    jobs.push(DeliveryJob::new(
                        day,
                        milestone.id.clone(),
                        chunk.to_vec(),
                        vec![Message::text_with(text, notice_actions())],
                    ));
                }
            }
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
    store.record_scan(day, now).await?;
    tracing::info!(
        lookups = report.lookups,
        due = report.due,
        jobs = report.jobs,
        enqueued = report.enqueued,
        "daily scan done"
    );
    Ok(report)
}
