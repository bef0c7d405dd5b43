//! What a simulated day costs, counted as it runs: a store wrapper that sizes every item the
//! scan's index queries return (DynamoDB bills reads by bytes), a queue wrapper that splits
//! enqueued jobs into `SendMessageBatch` calls as the SQS queue does, and the sender's
//! part (as `handlers::send::send_job` does it: the recipients still due, push for one,
//! multicast for more, the delivery recorded). What cannot be counted here (how long a
//! Lambda call takes, what a webhook turn reads and writes) is modelled by the named
//! assumptions below.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use shared::catalog::Catalog;
use shared::cost::{
    QUERY_PAGE_BYTES, anchor_item_bytes, number_bytes, query_read_units, read_units, write_units,
};
use shared::delivery::{DeliveryJob, Mark, Recipient};
use shared::domain::{AnchorEntry, AnchorKind, AnchorRange, Resident, UserId};
use shared::queue::{Queue, QueueDepth, QueueError, QueuedJob};
use shared::reservations::{
    Booking, Schedule, Service, ServiceId, SlotRef, SlotState, Waiting, Waitlist,
};
use shared::store::{
    BookingError, BookingRequest, BookingStore, EventClaim, LocalStore, Offers, Release,
    SeatChange, Store, StoreError, Stranding, WaitChange, WaitRequest,
};

use super::population::Population;

// ── Assumptions: AWS as deployed by template.yaml ───────────────────────────────────────

/// Every function's `MemorySize` in template.yaml (Globals).
pub const LAMBDA_MEMORY_MB: f64 = 256.0;
/// Lambda gives a function one vCPU at 1,769 MB, and CPU in proportion below that.
pub const LAMBDA_MB_PER_VCPU: f64 = 1769.0;
/// The sender's SQS `BatchSize`: jobs per invocation.
pub const SENDER_BATCH: usize = 10;
/// The waiting-list sweep's schedule, `rate(1 minute)`: invocations a day.
pub const SWEEPS_PER_DAY: u64 = 24 * 60;
/// SQS limits the queue's `SendMessageBatch` respects (aws/sqs.rs), and SQS's billing unit.
pub const SQS_BATCH_ENTRIES: usize = 10;
pub const SQS_BATCH_BYTES: usize = 256 * 1024;
pub const SQS_BILLING_CHUNK_BYTES: usize = 64 * 1024;
/// Receives a Lambda SQS event source makes on an idle queue: five pollers long-polling
/// for 20 s each, about 15 empty receives a minute (CloudWatch `NumberOfEmptyReceives`,
/// reported in getlift/lift issue #132, 2021-11-09).
pub const SQS_IDLE_RECEIVES_PER_DAY: u64 = 15 * 24 * 60;
/// Alarms template.yaml creates (its tests check the count).
pub const ALARMS: f64 = 9.0;

// ── Assumptions: how long things take (not measurable here) ─────────────────────────────

/// One DynamoDB or SQS call from Lambda in the same region.
pub const AWS_CALL_MS: f64 = 8.0;
/// A LINE push / multicast call (multicast carries up to 500 ids).
pub const LINE_PUSH_MS: f64 = 60.0;
pub const LINE_MULTICAST_MS: f64 = 150.0;
/// Start-up (INIT, billed on provided.al2023) of a function with its SDK clients; TOOLING.md
/// measured 112 ms for a Rust function building a DynamoDB client.
pub const INIT_MS: f64 = 150.0;
/// Scanner cold starts a day: the every-minute sweep keeps it warm; Lambda still recycles
/// instances every few hours.
pub const SCANNER_COLD_STARTS_PER_DAY: f64 = 6.0;
/// Sender cold starts on a day with jobs: its `MaximumConcurrency` (2) instances.
pub const SENDER_COLD_STARTS_PER_DAY: f64 = 2.0;
/// A waiting-list sweep with no waiting list: one index query and the report.
pub const SWEEP_MS: f64 = 20.0;
/// The daily scan's fixed part: the catalog read and parsed, the missed-day check, the
/// completion record and metrics.
pub const SCAN_FIXED_MS: f64 = 150.0;
/// CPU per index entry the scan reads (decode, target) and per recipient it enqueues
/// (render, group, JSON), at one vCPU. This simulator's own run of the real scan measured
/// about 4.5 µs per entry read for both together (release build on a shared 2-core x86
/// machine, 2026-12, the example with the daily programme); scaled to the function's
/// share of a vCPU.
pub const SCAN_CPU_US_PER_ENTRY: f64 = 2.5;
pub const SCAN_CPU_US_PER_RECIPIENT: f64 = 2.5;
/// A webhook turn: verify, read the resident, store the change, answer with LINE's reply.
pub const WEBHOOK_TURN_MS: f64 = 80.0;
/// Webhook cold starts: about one per hour in which anyone wrote (at most 24 a day).
pub const WEBHOOK_COLD_STARTS_PER_ACTIVE_HOUR: f64 = 1.0;
/// Bytes of CloudWatch Logs per invocation: Lambda's START/END/REPORT lines and the
/// function's JSON summary line.
pub const LOG_BYTES_PER_INVOCATION: f64 = 600.0;

// ── Assumptions: what the chat costs in DynamoDB ────────────────────────────────────────

/// Friends' chat turns a month that change nothing stored (登録内容, 使い方, a question):
/// each reads the resident and records the event.
pub const READ_ONLY_TURNS_PER_RESIDENT_MONTH: f64 = 1.0;
/// A webhook event's claim item, and a resident's profile item, in bytes (both < 1 KB).
pub const CLAIM_ITEM_BYTES: u64 = 80;
/// Catalog item: the catalog and its files compressed to about a quarter (codec.rs).
pub const CATALOG_COMPRESSION: f64 = 0.25;
/// The sender reads each recipient's entry with `BatchGetItem` (consistent): one unit per
/// key for items under 4 KB; it records each delivery with one `UpdateItem` on an item
/// under 1 KB, which the `anchors` index (projecting every attribute) writes again.
pub const SENDER_READ_UNITS_PER_KEY: f64 = 1.0;
pub const RECORD_WRITE_UNITS: f64 = 2.0;

/// Lambda GB-seconds of `ms` at the template's memory.
pub fn gb_seconds(ms: f64) -> f64 {
    ms.ceil() / 1000.0 * LAMBDA_MEMORY_MB / 1024.0
}

/// How much slower CPU work is on the function than on one vCPU.
fn cpu_factor() -> f64 {
    LAMBDA_MB_PER_VCPU / LAMBDA_MEMORY_MB
}

/// Billed requests of an SQS request carrying `bytes`.
pub fn sqs_billed(bytes: usize) -> f64 {
    bytes.div_ceil(SQS_BILLING_CHUNK_BYTES).max(1) as f64
}

/// One simulated day's counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Day {
    pub date: Option<NaiveDate>,
    /// Messages to residents (one per recipient of a push or multicast).
    pub deliveries: u64,
    pub push: u64,
    pub multicast: u64,
    pub jobs: u64,
    pub lookups: u64,
    pub entries_read: u64,
    pub due: u64,
    pub not_targeted: u64,
    pub query_pages: u64,
    /// The scan's modelled duration on Lambda, in seconds.
    pub scan_seconds: f64,
    pub scanner_invocations: u64,
    pub sender_invocations: u64,
    pub webhook_invocations: u64,
    pub gb_seconds: f64,
    pub read_units: f64,
    pub write_units: f64,
    pub sqs_requests: f64,
    pub sqs_send_batches: u64,
    pub http_api_requests: f64,
    pub scheduler_invocations: f64,
    pub alarm_months: f64,
    pub log_bytes: f64,
    pub joins: u64,
    pub births: u64,
    pub stops: u64,
    pub blocks: u64,
}

impl Day {
    pub fn lambda_invocations(&self) -> u64 {
        self.scanner_invocations + self.sender_invocations + self.webhook_invocations
    }

    pub fn add(&mut self, o: &Day) {
        self.deliveries += o.deliveries;
        self.push += o.push;
        self.multicast += o.multicast;
        self.jobs += o.jobs;
        self.lookups += o.lookups;
        self.entries_read += o.entries_read;
        self.due += o.due;
        self.not_targeted += o.not_targeted;
        self.query_pages += o.query_pages;
        self.scan_seconds += o.scan_seconds;
        self.scanner_invocations += o.scanner_invocations;
        self.sender_invocations += o.sender_invocations;
        self.webhook_invocations += o.webhook_invocations;
        self.gb_seconds += o.gb_seconds;
        self.read_units += o.read_units;
        self.write_units += o.write_units;
        self.sqs_requests += o.sqs_requests;
        self.sqs_send_batches += o.sqs_send_batches;
        self.http_api_requests += o.http_api_requests;
        self.scheduler_invocations += o.scheduler_invocations;
        self.alarm_months += o.alarm_months;
        self.log_bytes += o.log_bytes;
        self.joins += o.joins;
        self.births += o.births;
        self.stops += o.stops;
        self.blocks += o.blocks;
    }

    /// What the month's bill is made of.
    pub fn usage(&self) -> shared::cost::Usage {
        shared::cost::Usage {
            lambda_requests: self.lambda_invocations() as f64,
            lambda_gb_seconds: self.gb_seconds,
            read_units: self.read_units,
            write_units: self.write_units,
            sqs_requests: self.sqs_requests,
            http_api_requests: self.http_api_requests,
            scheduler_invocations: self.scheduler_invocations,
            log_bytes: self.log_bytes,
            alarm_months: self.alarm_months,
        }
    }

    /// A Lambda invocation of `ms`.
    fn invoked(&mut self, ms: f64) {
        self.gb_seconds += gb_seconds(ms);
        self.log_bytes += LOG_BYTES_PER_INVOCATION;
    }
}

// ── The store: index queries sized as DynamoDB bills them ───────────────────────────────

#[derive(Default)]
struct Reads {
    units: f64,
    pages: u64,
    /// The largest anchor item read, and how many were over 1 KB (a delivery record on one
    /// costs more than `RECORD_WRITE_UNITS`).
    largest: u64,
    over_1kb: u64,
}

/// The local store, with every index query's read units counted. Residents registered
/// before the period are counted with the milestones they had received before it (their
/// items are that much larger), which the store itself does not hold.
pub struct Metered<'a> {
    pub inner: &'a LocalStore,
    catalog: &'a Catalog,
    start: NaiveDate,
    initial: usize,
    reads: Mutex<Reads>,
    /// Bytes of earlier delivery records, by anchor.
    earlier: Mutex<HashMap<(AnchorKind, NaiveDate), u64>>,
}

impl<'a> Metered<'a> {
    pub fn new(
        inner: &'a LocalStore,
        catalog: &'a Catalog,
        start: NaiveDate,
        initial: usize,
    ) -> Self {
        Metered {
            inner,
            catalog,
            start,
            initial,
            reads: Mutex::new(Reads::default()),
            earlier: Mutex::new(HashMap::new()),
        }
    }

    /// Read units and pages of the index queries since the last call.
    pub fn take_reads(&self) -> (f64, u64) {
        let mut r = lock(&self.reads);
        let out = (r.units, r.pages);
        r.units = 0.0;
        r.pages = 0;
        out
    }

    /// The largest anchor item read and how many reads were of items over 1 KB.
    pub fn largest_item(&self) -> (u64, u64) {
        let r = lock(&self.reads);
        (r.largest, r.over_1kb)
    }

    /// What an anchor had received before the period: the catalog's milestones that fell
    /// due before the start (recorded in `delivered`) and a `step#` number per series begun.
    fn earlier_bytes(&self, e: &AnchorEntry) -> u64 {
        let key = (e.kind, e.date);
        if let Some(b) = lock(&self.earlier).get(&key) {
            return *b;
        }
        let ids: u64 = self
            .catalog
            .milestones()
            .iter()
            .filter(|m| m.offset.anchor_kind() == e.kind)
            .filter(|m| m.offset.fire_date(e.date).is_some_and(|d| d < self.start))
            .map(|m| m.id.len() as u64)
            .sum();
        let steps: u64 = self
            .catalog
            .series()
            .iter()
            .filter(|s| s.anchor == e.kind && s.day_number(e.date, self.start) > i64::from(s.first))
            .map(|s| "step#".len() as u64 + s.id.len() as u64 + number_bytes(u64::from(s.last)))
            .sum();
        let bytes = ids + if ids > 0 { "delivered".len() as u64 } else { 0 } + steps;
        lock(&self.earlier).insert(key, bytes);
        bytes
    }

    fn item_bytes(&self, e: &AnchorEntry) -> u64 {
        let earlier = match Population::index_of(&e.user_id) {
            Some(i) if i < self.initial => self.earlier_bytes(e),
            _ => 0,
        };
        anchor_item_bytes(e) + earlier
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Store for Metered<'_> {
    async fn resident(&self, user: &UserId) -> Result<Option<Resident>, StoreError> {
        self.inner.resident(user).await
    }

    async fn save_resident(
        &self,
        resident: &Resident,
        claim: Option<&EventClaim>,
    ) -> Result<Resident, StoreError> {
        self.inner.save_resident(resident, claim).await
    }

    async fn delete_resident(
        &self,
        user: &UserId,
        claim: Option<&EventClaim>,
    ) -> Result<bool, StoreError> {
        self.inner.delete_resident(user, claim).await
    }

    async fn claim_event(&self, claim: &EventClaim) -> Result<bool, StoreError> {
        self.inner.claim_event(claim).await
    }

    async fn anchored(&self, range: &AnchorRange) -> Result<Vec<AnchorEntry>, StoreError> {
        let entries = self.inner.anchored(range).await?;
        let sizes: Vec<u64> = entries.iter().map(|e| self.item_bytes(e)).collect();
        let total: u64 = sizes.iter().sum();
        let mut r = lock(&self.reads);
        r.units += query_read_units(sizes.iter().copied());
        r.pages += total.div_ceil(QUERY_PAGE_BYTES).max(1);
        for s in sizes {
            r.largest = r.largest.max(s);
            if s > 1024 {
                r.over_1kb += 1;
            }
        }
        Ok(entries)
    }

    async fn undelivered(
        &self,
        mark: &Mark<'_>,
        recipients: &[Recipient],
    ) -> Result<Vec<Recipient>, StoreError> {
        self.inner.undelivered(mark, recipients).await
    }

    async fn record_delivery(
        &self,
        mark: &Mark<'_>,
        recipients: &[Recipient],
    ) -> Result<(), StoreError> {
        self.inner.record_delivery(mark, recipients).await
    }

    async fn record_scan(&self, day: NaiveDate, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.inner.record_scan(day, now).await
    }

    async fn last_scanned_before(&self, day: NaiveDate) -> Result<Option<NaiveDate>, StoreError> {
        self.inner.last_scanned_before(day).await
    }
}

/// The scan reads the published services for reminders; everything else of bookings is
/// the local store's (the simulation books nothing).
impl BookingStore for Metered<'_> {
    async fn services(&self) -> Result<Vec<Service>, StoreError> {
        self.inner.services().await
    }

    async fn slot_states(
        &self,
        service: &ServiceId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SlotState>, StoreError> {
        self.inner.slot_states(service, from, to).await
    }

    async fn publish(
        &self,
        schedule: &Schedule,
        now: DateTime<Utc>,
        stranding: Stranding,
    ) -> Result<shared::store::bookings::Published, StoreError> {
        self.inner.publish(schedule, now, stranding).await
    }

    async fn book(&self, request: &BookingRequest) -> Result<Booking, BookingError> {
        self.inner.book(request).await
    }

    async fn release(
        &self,
        change: &SeatChange<'_>,
        how: Release,
    ) -> Result<Booking, BookingError> {
        self.inner.release(change, how).await
    }

    async fn change_slot(
        &self,
        change: &SeatChange<'_>,
        to: &SlotRef,
    ) -> Result<Booking, BookingError> {
        self.inner.change_slot(change, to).await
    }

    async fn bookings_of(&self, user: &UserId) -> Result<Vec<Booking>, StoreError> {
        self.inner.bookings_of(user).await
    }

    async fn bookings_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Booking>, StoreError> {
        self.inner.bookings_between(from, to).await
    }

    async fn join_waitlist(&self, request: &WaitRequest) -> Result<Waiting, BookingError> {
        self.inner.join_waitlist(request).await
    }

    async fn leave_waitlist(&self, change: &WaitChange<'_>) -> Result<Waiting, BookingError> {
        self.inner.leave_waitlist(change).await
    }

    async fn waiting_of(&self, user: &UserId) -> Result<Vec<Waiting>, StoreError> {
        self.inner.waiting_of(user).await
    }

    async fn waitlists(&self) -> Result<Vec<Waitlist>, StoreError> {
        self.inner.waitlists().await
    }

    async fn offer_seats(
        &self,
        slot: &SlotRef,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Offers, StoreError> {
        self.inner.offer_seats(slot, until, now).await
    }

    async fn offer_told(&self, offered: &Waiting) -> Result<bool, StoreError> {
        self.inner.offer_told(offered).await
    }
}

// ── The queue: SendMessageBatch calls as the SQS queue makes them ───────────────────────

#[derive(Default)]
struct Queued {
    jobs: std::collections::VecDeque<(DeliveryJob, usize)>,
    batches: u64,
    billed: f64,
}

/// The send queue, counting each enqueue as the `SendMessageBatch` requests `aws::SqsQueue`
/// makes of it (at most ten messages and 256 KiB a request), billed per 64 KB chunk. Jobs
/// are kept as they are, with their JSON size, rather than as JSON to be parsed again:
/// at a prefecture's size that round trip would cost more than the scan.
#[derive(Default)]
pub struct CountingQueue {
    queued: Mutex<Queued>,
}

/// Bytes of a job's message body, without building it.
fn body_bytes(job: &DeliveryJob) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, job);
    count.0
}

impl CountingQueue {
    /// `SendMessageBatch` requests since the last call, and their billed requests.
    pub fn take_sends(&self) -> (u64, f64) {
        let mut q = lock(&self.queued);
        let out = (q.batches, q.billed);
        (q.batches, q.billed) = (0, 0.0);
        out
    }

    /// Up to `max` jobs, oldest first, with their body sizes (what a poller receives).
    pub fn take(&self, max: usize) -> Vec<(DeliveryJob, usize)> {
        let mut q = lock(&self.queued);
        let n = max.min(q.jobs.len());
        q.jobs.drain(..n).collect()
    }

    fn push(&self, jobs: Vec<(DeliveryJob, usize)>) {
        let mut q = lock(&self.queued);
        let (mut n, mut bytes) = (0usize, 0usize);
        for (_, size) in &jobs {
            if n == SQS_BATCH_ENTRIES || (n > 0 && bytes + size > SQS_BATCH_BYTES) {
                q.batches += 1;
                q.billed += sqs_billed(bytes);
                (n, bytes) = (0, 0);
            }
            n += 1;
            bytes += size;
        }
        if n > 0 {
            q.batches += 1;
            q.billed += sqs_billed(bytes);
        }
        q.jobs.extend(jobs);
    }
}

impl Queue for CountingQueue {
    async fn enqueue(&self, jobs: &[DeliveryJob]) -> Result<(), QueueError> {
        self.push(jobs.iter().map(|j| (j.clone(), body_bytes(j))).collect());
        Ok(())
    }

    async fn enqueue_bodies(&self, bodies: &[String]) -> Result<(), QueueError> {
        let jobs = bodies
            .iter()
            .map(|b| {
                serde_json::from_str(b)
                    .map(|job| (job, b.len()))
                    .map_err(|e| QueueError::BadMessage(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.push(jobs);
        Ok(())
    }

    async fn receive(&self, max: usize) -> Result<Vec<QueuedJob>, QueueError> {
        self.take(max)
            .into_iter()
            .map(|(job, _)| {
                Ok(QueuedJob {
                    body: shared::queue::job_body(&job)?,
                    receipt: job.id.clone(),
                    receive_count: 1,
                    first_received: None,
                })
            })
            .collect()
    }

    /// Jobs leave the queue when taken: the simulation's sends do not fail.
    async fn ack(&self, _receipt: &str) -> Result<(), QueueError> {
        Ok(())
    }

    async fn retry_later(
        &self,
        _receipt: &str,
        _delay: std::time::Duration,
    ) -> Result<(), QueueError> {
        Ok(())
    }

    async fn dead_letter(&self, _message: &QueuedJob, _reason: &str) -> Result<(), QueueError> {
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        Ok(QueueDepth {
            visible: lock(&self.queued).jobs.len(),
            hidden: 0,
            parked: 0,
        })
    }

    async fn dead_lettered(&self) -> Result<Vec<(String, String)>, QueueError> {
        Ok(Vec::new())
    }
}

// ── The sender ──────────────────────────────────────────────────────────────────────────

/// Who received what, for the per-resident check (`--residents-out`).
pub type Received = Vec<u32>;

/// Sends everything queued, ten jobs an invocation as Lambda's SQS event source hands them
/// over, as `handlers::send::send_job` does: the recipients' entries read (`BatchGetItem`),
/// one push for a single recipient or one multicast for more, and the delivery recorded on
/// each pregnancy or child with the store's own `record_delivery` (one `UpdateItem` each),
/// so the next day's scan sees it. Nothing changes between the 09:00 scan and the send here
/// (the day's joins, births and stops happen before it), so every recipient is still due:
/// the sender's read is counted, not made. Counts into `day`, and per resident into
/// `received`.
pub async fn send_all<S: Store>(
    store: &S,
    queue: &CountingQueue,
    day: &mut Day,
    received: &mut Received,
) -> anyhow::Result<()> {
    loop {
        let batch = queue.take(SENDER_BATCH);
        if batch.is_empty() {
            break;
        }
        let bytes: usize = batch.iter().map(|(_, size)| size).sum();
        // ReceiveMessage (per 64 KB returned) and DeleteMessageBatch.
        day.sqs_requests += sqs_billed(bytes) + 1.0;
        day.sender_invocations += 1;
        let mut ms = AWS_CALL_MS;
        for (job, _) in &batch {
            let to = &job.recipients;
            let records: usize = to.iter().map(|r| r.subjects.len()).sum();
            day.read_units += records as f64 * SENDER_READ_UNITS_PER_KEY;
            ms += records.div_ceil(100) as f64 * AWS_CALL_MS;
            if to.is_empty() {
                continue;
            }
            if to.len() == 1 {
                day.push += 1;
                ms += LINE_PUSH_MS;
            } else {
                day.multicast += 1;
                ms += LINE_MULTICAST_MS;
            }
            day.deliveries += to.len() as u64;
            store.record_delivery(&job.mark(), to).await?;
            day.write_units += records as f64 * RECORD_WRITE_UNITS;
            // The store records sixteen at a time (aws/dynamo RECORD_CONCURRENCY).
            ms += records.div_ceil(16) as f64 * AWS_CALL_MS;
            for r in to {
                if let Some(n) = Population::index_of(&r.user).and_then(|i| received.get_mut(i)) {
                    *n += 1;
                }
            }
        }
        day.invoked(ms);
    }
    Ok(())
}

/// The scanner's day: the daily run (modelled from what the scan did) and the sweeps.
pub fn scanner_day(day: &mut Day, catalog_bytes: usize, enqueued: u64) {
    let cpu_ms = (day.entries_read as f64 * SCAN_CPU_US_PER_ENTRY
        + enqueued as f64 * SCAN_CPU_US_PER_RECIPIENT)
        / 1000.0
        * cpu_factor();
    // Queries and SendMessageBatch calls are made one after another.
    let scan_ms =
        SCAN_FIXED_MS + cpu_ms + (day.query_pages + day.sqs_send_batches) as f64 * AWS_CALL_MS;
    day.scan_seconds = scan_ms / 1000.0;
    day.scanner_invocations += 1 + SWEEPS_PER_DAY;
    day.scheduler_invocations += (1 + SWEEPS_PER_DAY) as f64;
    day.invoked(scan_ms);
    day.gb_seconds += gb_seconds(SWEEP_MS) * SWEEPS_PER_DAY as f64
        + gb_seconds(INIT_MS) * SCANNER_COLD_STARTS_PER_DAY;
    day.log_bytes += LOG_BYTES_PER_INVOCATION * SWEEPS_PER_DAY as f64;
    // The catalog (consistent GetItem), the missed-day check, the completion record; each
    // sweep's query of the waiting lists (empty: the minimum).
    let catalog_item = (catalog_bytes as f64 * CATALOG_COMPRESSION) as u64;
    day.read_units += read_units(catalog_item, true)
        + read_units(0, false)
        + SWEEPS_PER_DAY as f64 * read_units(0, false);
    day.write_units += write_units(CLAIM_ITEM_BYTES);
    day.sqs_requests += SQS_IDLE_RECEIVES_PER_DAY as f64;
}

/// The sender's cold starts on a day it ran.
pub fn sender_day(day: &mut Day) {
    if day.sender_invocations > 0 {
        day.gb_seconds += gb_seconds(INIT_MS) * SENDER_COLD_STARTS_PER_DAY;
    }
}

// ── The chat ────────────────────────────────────────────────────────────────────────────

/// Bytes of the resident's profile item (its fields as attributes, about their JSON size).
pub fn profile_bytes(r: &Resident) -> u64 {
    serde_json::to_vec(r).map_or(512, |v| v.len() as u64) + 20
}

fn anchor_bytes(r: &Resident) -> Vec<u64> {
    r.anchor_entries().iter().map(anchor_item_bytes).collect()
}

/// One webhook turn: the invocation and its HTTP API request.
fn turn(day: &mut Day) {
    day.webhook_invocations += 1;
    day.http_api_requests += 1.0;
    day.invoked(WEBHOOK_TURN_MS);
}

/// A turn that changes nothing stored: the resident read, the event claimed.
pub fn read_only_turn(day: &mut Day) {
    read_only_turns(day, 1);
}

pub fn read_only_turns(day: &mut Day, n: u64) {
    let n_f = n as f64;
    day.webhook_invocations += n;
    day.http_api_requests += n_f;
    day.gb_seconds += gb_seconds(WEBHOOK_TURN_MS) * n_f;
    day.log_bytes += LOG_BYTES_PER_INVOCATION * n_f;
    day.read_units += read_units(0, true) * n_f;
    day.write_units += write_units(CLAIM_ITEM_BYTES) * n_f;
}

/// A turn that saves the resident: read twice (the turn, then the save's version check),
/// then one transaction (twice the units) of the claim, the profile and the anchor items
/// written, each anchor written again by the index (and removed ones deleted from both).
pub fn saving_turn(day: &mut Day, after: &Resident, written: &[u64], removed: &[u64]) {
    turn(day);
    day.read_units += 2.0 * read_units(profile_bytes(after), true);
    let items: f64 = [CLAIM_ITEM_BYTES, profile_bytes(after)]
        .iter()
        .chain(written)
        .chain(removed)
        .map(|b| write_units(*b))
        .sum();
    let index: f64 = written.iter().chain(removed).map(|b| write_units(*b)).sum();
    day.write_units += 2.0 * items + index;
}

/// A stop or a block: the resident's partition read and every item deleted in one
/// transaction with the claim; the index drops the anchors.
pub fn deleting_turn(day: &mut Day, r: &Resident) {
    turn(day);
    let anchors = anchor_bytes(r);
    let partition = profile_bytes(r) + anchors.iter().sum::<u64>();
    day.read_units += read_units(profile_bytes(r), true) + read_units(partition, true);
    let items: f64 = [CLAIM_ITEM_BYTES, profile_bytes(r)]
        .iter()
        .chain(&anchors)
        .map(|b| write_units(*b))
        .sum();
    day.write_units += 2.0 * items + anchors.iter().map(|b| write_units(*b)).sum::<f64>();
}

/// A new friend's turns: the follow, the registration, then one 受信設定 tap per answer
/// (each rewrites the anchor items, which carry the settings).
pub fn joining_turns(day: &mut Day, r: &Resident) {
    read_only_turn(day);
    let anchors = anchor_bytes(r);
    saving_turn(day, r, &anchors, &[]);
    let s = &r.settings;
    let taps = s.muted.len()
        + s.household.len()
        + usize::from(s.district.is_some())
        + usize::from(s.nursery.is_some())
        + usize::from(r.easy_japanese);
    if taps > 0 {
        read_only_turn(day);
    }
    for _ in 0..taps {
        saving_turn(day, r, &anchors, &[]);
    }
}

/// Registering a birth: 登録内容, then the date picked (the pregnancy's anchor deleted, the
/// child's written).
pub fn birth_turns(day: &mut Day, before: &Resident, after: &Resident) {
    read_only_turn(day);
    let sizes = |r: &Resident, keep: &dyn Fn(&AnchorEntry) -> bool| -> Vec<u64> {
        r.anchor_entries()
            .iter()
            .filter(|e| keep(e))
            .map(anchor_item_bytes)
            .collect()
    };
    let written = sizes(after, &|e| !before.has_subject(&e.subject));
    let removed = sizes(before, &|e| !after.has_subject(&e.subject));
    saving_turn(day, after, &written, &removed);
}

/// The webhook's cold starts on a day: about one an hour with any turn.
pub fn webhook_day(day: &mut Day) {
    let hours = day.webhook_invocations.min(24) as f64 * WEBHOOK_COLD_STARTS_PER_ACTIVE_HOUR;
    day.gb_seconds += gb_seconds(INIT_MS) * hours;
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::catalog::Catalog;
    use shared::handlers::scan::run_daily_scan;

    const ONE_NOTICE: &str = "categories:\n  - {id: health, label: 健診}\nmilestones:\n  - id: one-week\n    anchor: birth_date\n    at: {weeks: 1}\n    category: health\n    text: 1週間です\n";

    /// `n` residents with a child born the same day; the day their one notice is due.
    async fn residents(store: &LocalStore, n: usize) -> NaiveDate {
        let born = NaiveDate::from_ymd_opt(2027, 5, 1).expect("date");
        for i in 0..n {
            let mut r = Resident::new(Population::user(i));
            r.add_child(born);
            store.save_resident(&r, None).await.expect("save");
        }
        NaiveDate::from_ymd_opt(2027, 5, 8).expect("date")
    }

    async fn send_day(n: usize) -> Day {
        let catalog = Catalog::from_yaml(ONE_NOTICE).expect("catalog");
        let local = LocalStore::in_memory();
        let day = residents(&local, n).await;
        let store = Metered::new(&local, &catalog, day, 0);
        let queue = CountingQueue::default();
        let report = run_daily_scan(&store, &queue, &catalog, day, Utc::now())
            .await
            .expect("scan");
        let mut counts = Day::default();
        let mut received = vec![0; n];
        send_all(&store, &queue, &mut counts, &mut received)
            .await
            .expect("send");
        (counts.sqs_send_batches, _) = queue.take_sends();
        counts.jobs = report.jobs as u64;
        assert!(received.iter().all(|r| *r == 1));
        counts
    }

    #[tokio::test]
    async fn identical_recipients_go_in_multicasts_of_500() {
        let d = send_day(1_200).await;
        assert_eq!(
            (d.deliveries, d.multicast, d.push, d.jobs),
            (1_200, 3, 0, 3)
        );
        assert_eq!(d.sender_invocations, 1);
        assert_eq!(d.sqs_send_batches, 1);
        assert_eq!(d.write_units, 2_400.0);
        // 1,001: two multicasts of 500, and a job of one, which is a push.
        let d = send_day(1_001).await;
        assert_eq!((d.deliveries, d.multicast, d.push), (1_001, 2, 1));
        let d = send_day(1).await;
        assert_eq!((d.multicast, d.push), (0, 1));
    }

    fn job(text_bytes: usize) -> (DeliveryJob, usize) {
        let job = DeliveryJob::new(
            NaiveDate::from_ymd_opt(2027, 5, 8).expect("date"),
            Mark::Milestone("m"),
            vec![],
            vec![shared::line::Message::text("x".repeat(text_bytes))],
        );
        let size = body_bytes(&job);
        assert_eq!(size, shared::queue::job_body(&job).expect("json").len());
        (job, size)
    }

    #[test]
    fn sqs_batches_follow_the_queue_s_limits() {
        let q = CountingQueue::default();
        q.push(vec![job(1_000); 25]);
        assert_eq!(q.take_sends(), (3, 3.0));
        // Ten of 100 KB do not fit one 256 KiB request: two a request, each 4 chunks.
        q.push(vec![job(100_000); 10]);
        assert_eq!(q.take_sends(), (5, 20.0));
        assert_eq!(q.take(100).len(), 35);
        assert_eq!(sqs_billed(0), 1.0);
        assert_eq!(sqs_billed(65_536), 1.0);
        assert_eq!(sqs_billed(65_537), 2.0);
    }
}
