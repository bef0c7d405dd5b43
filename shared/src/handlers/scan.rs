//! The daily milestone scan for one Asia/Tokyo date: one anchor-index lookup per distinct
//! anchor range in the catalog, never a walk over residents; identical messages grouped into
//! delivery jobs of at most 500 recipients; residents already served for that day skipped.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::conversation::common::notice_actions;
use crate::delivery::{DeliveryJob, milestone_scope};
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
    /// (milestone, resident) pairs due on the date.
    pub due: usize,
    /// Of those, already delivered by an earlier run.
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
    for (range, milestones) in catalog.lookups_for(day) {
        let entries = store.anchored(&range).await?;
        report.lookups += 1;
        if entries.is_empty() {
            continue;
        }
        for milestone in milestones {
            // One message per resident per milestone, even for twins; grouped by the text
            // variant each resident receives.
            let mut by_text: BTreeMap<&str, BTreeSet<UserId>> = BTreeMap::new();
            for e in &entries {
                by_text
                    .entry(milestone.text_for(e.easy_japanese))
                    .or_default()
                    .insert(e.user_id.clone());
            }
            let scope = milestone_scope(day, &milestone.id);
            let everyone: Vec<UserId> = by_text.values().flatten().cloned().collect();
            report.due += everyone.len();
            let served = store.delivered_among(&scope, &everyone, now).await?;
            report.already_delivered += served.len();
            for (text, users) in by_text {
                let pending: Vec<UserId> =
                    users.into_iter().filter(|u| !served.contains(u)).collect();
                for chunk in pending.chunks(MAX_MULTICAST_RECIPIENTS) {
                    report.enqueued += chunk.len();
                    jobs.push(DeliveryJob::new(
                        scope.clone(),
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
    tracing::info!(
        lookups = report.lookups,
        due = report.due,
        jobs = report.jobs,
        enqueued = report.enqueued,
        "daily scan done"
    );
    Ok(report)
}
