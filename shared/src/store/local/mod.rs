//! The embedded store: everything in memory, optionally made durable by an append-only
//! journal under a data directory (`sukusuku serve --data DIR`). Each change is written and
//! fsynced before it is applied; on open the journal is replayed and compacted. Deleting a
//! resident rewrites the journal instead of appending, so once the stop is acknowledged no
//! line on disk holds the resident any more.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

mod bookings;

use super::{EVENT_CLAIM_TTL, EventClaim, SCAN_RECORD_TTL, Store, StoreError, still_due};
use crate::delivery::{Mark, Recipient};
use crate::domain::{AnchorEntry, AnchorKind, AnchorRange, Resident, UserId};
use crate::reservations::{Booking, BookingFor, BookingId, Service, Slot, SlotRef, Waiting};

const JOURNAL_FILE: &str = "store.jsonl";

#[derive(Clone, Serialize, Deserialize)]
struct Claimed {
    event_id: String,
    expires: DateTime<Utc>,
}

impl Claimed {
    fn new(claim: &EventClaim) -> Claimed {
        Claimed {
            event_id: claim.event_id.clone(),
            expires: claim.now + EVENT_CLAIM_TTL,
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    /// A resident saved, with the webhook event that did it (one line: one atomic step).
    Put {
        resident: Resident,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claim: Option<Claimed>,
    },
    Delete {
        user_id: UserId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claim: Option<Claimed>,
    },
    Claim {
        event_id: String,
        expires: DateTime<Utc>,
    },
    /// Milestones delivered to one pregnancy or child.
    Sent {
        user_id: UserId,
        subject: String,
        milestones: Vec<String>,
    },
    /// The last step of a series delivered to one pregnancy or child.
    Stepped {
        user_id: UserId,
        subject: String,
        series: String,
        day: u32,
    },
    Scanned {
        day: NaiveDate,
        expires: DateTime<Utc>,
    },
    /// Journals written before delivery records moved under the resident; replayed as
    /// nothing and dropped by the compaction on open.
    Release {},
    Delivered {},
    /// Services and slots published by staff, and the bookings that lost their seat.
    Schedule {
        services: Vec<Service>,
        slots: Vec<Slot>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        cancelled: Vec<(UserId, BookingId)>,
        at: DateTime<Utc>,
    },
    /// The reminder of a booking sent, for the slot it was then.
    Reminded {
        user_id: UserId,
        booking: String,
        slot: String,
    },
    /// A booking stored as it now stands (taken, let go, or moved), with the resident's
    /// version after the change.
    Booking {
        booking: Booking,
        version: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claim: Option<Claimed>,
    },
    /// A place on a waiting list as it now stands (joined, or offered a seat), with the
    /// resident's version after the change when the resident made it.
    Waiting {
        entry: Waiting,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claim: Option<Claimed>,
    },
    /// A place on a waiting list gone (left, declined, or its offer lapsed).
    Unwaiting {
        user_id: UserId,
        slot: SlotRef,
        booked_for: BookingFor,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claim: Option<Claimed>,
    },
}

type AnchorDay = BTreeMap<(UserId, String), AnchorEntry>;

#[derive(Default, Clone)]
struct State {
    residents: HashMap<UserId, Resident>,
    anchors: BTreeMap<(AnchorKind, NaiveDate), AnchorDay>,
    /// Per resident and subject, the milestones delivered.
    delivered: HashMap<UserId, BTreeMap<String, BTreeSet<String>>>,
    /// Per resident and subject, the last step delivered of each series.
    steps: HashMap<UserId, BTreeMap<String, BTreeMap<String, u32>>>,
    events: HashMap<String, DateTime<Utc>>,
    scans: BTreeMap<NaiveDate, DateTime<Utc>>,
    seats: bookings::Seats,
}

impl State {
    fn apply(&mut self, op: Op) {
        match op {
            Op::Put { resident, claim } => {
                self.remove_anchors(&resident.user_id);
                if let Some(sent) = self.delivered.get_mut(&resident.user_id) {
                    sent.retain(|subject, _| resident.has_subject(subject));
                }
                if let Some(steps) = self.steps.get_mut(&resident.user_id) {
                    steps.retain(|subject, _| resident.has_subject(subject));
                }
                for e in resident.anchor_entries() {
                    self.anchors
                        .entry((e.kind, e.date))
                        .or_default()
                        .insert((e.user_id.clone(), e.subject.clone()), e);
                }
                self.residents.insert(resident.user_id.clone(), resident);
                self.claim(claim);
            }
            Op::Delete { user_id, claim } => {
                self.seats.remove_resident(&user_id);
                self.remove_anchors(&user_id);
                self.residents.remove(&user_id);
                self.delivered.remove(&user_id);
                self.steps.remove(&user_id);
                self.claim(claim);
            }
            Op::Claim { event_id, expires } => self.claim(Some(Claimed { event_id, expires })),
            Op::Sent {
                user_id,
                subject,
                milestones,
            } => {
                if self.registered(&user_id, &subject) {
                    self.delivered
                        .entry(user_id)
                        .or_default()
                        .entry(subject)
                        .or_default()
                        .extend(milestones);
                }
            }
            Op::Stepped {
                user_id,
                subject,
                series,
                day,
            } => {
                if self.registered(&user_id, &subject) {
                    let last = self
                        .steps
                        .entry(user_id)
                        .or_default()
                        .entry(subject)
                        .or_default()
                        .entry(series)
                        .or_default();
                    *last = (*last).max(day);
                }
            }
            Op::Scanned { day, expires } => {
                self.scans.insert(day, expires);
            }
            Op::Release {} | Op::Delivered {} => {}
            Op::Schedule {
                services,
                slots,
                cancelled,
                at,
            } => self.seats.publish(services, slots, &cancelled, at),
            Op::Reminded {
                user_id,
                booking,
                slot,
            } => self.seats.remind(user_id, &booking, slot),
            Op::Booking {
                booking,
                version,
                claim,
            } => {
                // Bookings only exist for stored residents (as delivery records do), and a
                // booking bumps the resident's version so a turn that read it conflicts.
                if let Some(r) = self.residents.get_mut(&booking.user) {
                    r.version = r.version.max(version);
                    self.seats.put(booking);
                }
                self.claim(claim);
            }
            Op::Waiting {
                entry,
                version,
                claim,
            } => {
                if let Some(r) = self.residents.get_mut(&entry.user) {
                    r.version = r.version.max(version.unwrap_or_default());
                    self.seats.set_waiting(entry);
                }
                self.claim(claim);
            }
            Op::Unwaiting {
                user_id,
                slot,
                booked_for,
                version,
                claim,
            } => {
                if let Some(r) = self.residents.get_mut(&user_id) {
                    r.version = r.version.max(version.unwrap_or_default());
                }
                self.seats.remove_waiting(&user_id, &slot, &booked_for);
                self.claim(claim);
            }
        }
    }

    /// Whether `subject` is still one of `user`'s pregnancy or children.
    fn registered(&self, user: &UserId, subject: &str) -> bool {
        self.residents
            .get(user)
            .is_some_and(|r| r.has_subject(subject))
    }

    fn claim(&mut self, claim: Option<Claimed>) {
        if let Some(c) = claim {
            self.events.insert(c.event_id, c.expires);
        }
    }

    fn claimed(&self, claim: Option<&EventClaim>) -> bool {
        claim.is_some_and(|c| {
            self.events
                .get(&c.event_id)
                .is_some_and(|expires| *expires > c.now)
        })
    }

    fn remove_anchors(&mut self, user: &UserId) {
        let Some(old) = self.residents.get(user) else {
            return;
        };
        for e in old.anchor_entries() {
            if let Some(day) = self.anchors.get_mut(&(e.kind, e.date)) {
                day.remove(&(e.user_id.clone(), e.subject.clone()));
                if day.is_empty() {
                    self.anchors.remove(&(e.kind, e.date));
                }
            }
        }
    }

    fn delivered_to(&self, user: &UserId, subject: &str) -> Option<&BTreeSet<String>> {
        self.delivered.get(user).and_then(|s| s.get(subject))
    }

    fn steps_of(&self, user: &UserId, subject: &str) -> Option<&BTreeMap<String, u32>> {
        self.steps.get(user).and_then(|s| s.get(subject))
    }

    /// The live records as ops, for compaction.
    fn snapshot(&self, now: DateTime<Utc>) -> Vec<Op> {
        let mut ops: Vec<Op> = self
            .residents
            .values()
            .map(|r| Op::Put {
                resident: r.clone(),
                claim: None,
            })
            .collect();
        for (user, subjects) in &self.delivered {
            for (subject, milestones) in subjects {
                ops.push(Op::Sent {
                    user_id: user.clone(),
                    subject: subject.clone(),
                    milestones: milestones.iter().cloned().collect(),
                });
            }
        }
        for (user, subjects) in &self.steps {
            for (subject, series) in subjects {
                for (id, day) in series {
                    ops.push(Op::Stepped {
                        user_id: user.clone(),
                        subject: subject.clone(),
                        series: id.clone(),
                        day: *day,
                    });
                }
            }
        }
        ops.extend(
            self.seats
                .snapshot(|user| self.residents.get(user).map_or(0, |r| r.version)),
        );
        ops.extend(
            self.events
                .iter()
                .filter(|(_, exp)| **exp > now)
                .map(|(id, exp)| Op::Claim {
                    event_id: id.clone(),
                    expires: *exp,
                }),
        );
        ops.extend(
            self.scans
                .iter()
                .filter(|(_, exp)| **exp > now)
                .map(|(day, exp)| Op::Scanned {
                    day: *day,
                    expires: *exp,
                }),
        );
        ops
    }

    /// Everything held, as text: what a whole-store search for a resident's traces reads.
    #[cfg(any(test, feature = "testing"))]
    fn dump(&self) -> String {
        let mut out = String::new();
        for op in self.snapshot(DateTime::<Utc>::MIN_UTC) {
            out.push_str(&serde_json::to_string(&op).unwrap_or_default());
            out.push('\n');
        }
        for ((kind, day), entries) in &self.anchors {
            out.push_str(&format!("{kind:?} {day}\n"));
            for ((user, subject), e) in entries {
                out.push_str(&format!("{} {subject} {}\n", user.as_str(), e.date));
            }
        }
        out
    }
}

struct Journal {
    path: PathBuf,
    file: File,
    /// Held while the store is open: a second process (a staff command while `serve` runs)
    /// would interleave its lines with ours, so it is refused instead.
    _lock: File,
}

const LOCK_FILE: &str = "store.lock";

struct Inner {
    state: State,
    journal: Option<Journal>,
}

pub struct LocalStore {
    inner: Mutex<Inner>,
    anchor_lookups: AtomicU64,
}

fn io_error(context: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{context} {}: {e}", path.display()))
}

impl LocalStore {
    /// A store that forgets everything when dropped.
    pub fn in_memory() -> LocalStore {
        LocalStore {
            inner: Mutex::new(Inner {
                state: State::default(),
                journal: None,
            }),
            anchor_lookups: AtomicU64::new(0),
        }
    }

    /// A store kept in `dir` across restarts. A journal line that cannot be read (other than
    /// a half-written last line from a crash) refuses to open rather than lose data.
    pub fn open(dir: &Path) -> Result<LocalStore, StoreError> {
        fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_error("cannot open", &lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Unavailable(format!(
                    "the data directory {} is in use by another sukusuku (a running `serve`?); \
                     stop it first, then run this again",
                    dir.display()
                )));
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_error("cannot lock", &lock_path, e)),
        }
        let path = dir.join(JOURNAL_FILE);
        let mut state = State::default();
        if path.exists() {
            let file = File::open(&path).map_err(|e| io_error("cannot open", &path, e))?;
            let lines: Vec<String> = BufReader::new(file)
                .lines()
                .collect::<Result<_, _>>()
                .map_err(|e| io_error("cannot read", &path, e))?;
            let last = lines.len();
            for (i, line) in lines.into_iter().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Op>(&line) {
                    Ok(op) => state.apply(op),
                    // The write of the last line was cut short: it was never acknowledged.
                    Err(_) if i + 1 == last => {
                        tracing::warn!(line = i + 1, "ignoring a half-written last journal line");
                    }
                    Err(e) => {
                        return Err(StoreError::Corrupt(format!(
                            "{} line {}: {e}",
                            path.display(),
                            i + 1
                        )));
                    }
                }
            }
        }
        let file = compact(&path, &state)?;
        Ok(LocalStore {
            inner: Mutex::new(Inner {
                state,
                journal: Some(Journal {
                    path,
                    file,
                    _lock: lock,
                }),
            }),
            anchor_lookups: AtomicU64::new(0),
        })
    }

    /// How many anchor-index lookups this store has answered (benchmarks, cost checks).
    pub fn anchor_lookups(&self) -> u64 {
        self.anchor_lookups.load(Ordering::Relaxed)
    }

    pub fn resident_count(&self) -> usize {
        self.lock().state.residents.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Everything the store holds in memory and on disk, as text: for tests that search the
    /// whole store for what a deleted resident left behind.
    #[cfg(any(test, feature = "testing"))]
    pub fn dump(&self) -> String {
        let inner = self.lock();
        let mut out = inner.state.dump();
        if let Some(journal) = &inner.journal {
            out.push_str(&fs::read_to_string(&journal.path).unwrap_or_default());
        }
        out
    }

    /// Applies `op` by rewriting the whole journal without the old lines (temp file, fsync,
    /// rename: the rename is the commit), so what `op` removes is gone from disk too.
    fn commit_rewriting(inner: &mut Inner, op: Op) -> Result<(), StoreError> {
        let Some(journal) = inner.journal.as_mut() else {
            inner.state.apply(op);
            return Ok(());
        };
        let mut next = inner.state.clone();
        next.apply(op);
        journal.file = compact(&journal.path, &next)?;
        inner.state = next;
        Ok(())
    }

    /// Journals then applies `op`, so nothing is acknowledged that is not on disk.
    fn commit(inner: &mut Inner, op: Op) -> Result<(), StoreError> {
        Self::commit_all(inner, vec![op])
    }

    /// Journals `ops` with one fsync, then applies them.
    fn commit_all(inner: &mut Inner, ops: Vec<Op>) -> Result<(), StoreError> {
        if let Some(Journal { file, .. }) = inner.journal.as_mut() {
            let mut buf = Vec::new();
            for op in &ops {
                serde_json::to_writer(&mut buf, op)
                    .map_err(|e| StoreError::Corrupt(format!("cannot encode a change: {e}")))?;
                buf.push(b'\n');
            }
            file.write_all(&buf)
                .and_then(|_| file.sync_data())
                .map_err(|e| StoreError::Unavailable(format!("cannot write the journal: {e}")))?;
        }
        for op in ops {
            inner.state.apply(op);
        }
        Ok(())
    }
}

/// Rewrites the journal with only live records (atomically: temp file, fsync, rename).
fn compact(path: &Path, state: &State) -> Result<File, StoreError> {
    let tmp: PathBuf = path.with_extension("jsonl.tmp");
    {
        let mut out = File::create(&tmp).map_err(|e| io_error("cannot create", &tmp, e))?;
        let mut buf = Vec::new();
        for op in state.snapshot(Utc::now()) {
            serde_json::to_writer(&mut buf, &op)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode a record: {e}")))?;
            buf.push(b'\n');
        }
        out.write_all(&buf)
            .and_then(|_| out.sync_all())
            .map_err(|e| io_error("cannot write", &tmp, e))?;
    }
    fs::rename(&tmp, path).map_err(|e| io_error("cannot replace", path, e))?;
    if let Some(dir) = path.parent()
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| io_error("cannot open", path, e))
}

impl Store for LocalStore {
    async fn resident(&self, user: &UserId) -> Result<Option<Resident>, StoreError> {
        Ok(self.lock().state.residents.get(user).cloned())
    }

    async fn save_resident(
        &self,
        resident: &Resident,
        claim: Option<&EventClaim>,
    ) -> Result<Resident, StoreError> {
        let mut inner = self.lock();
        if inner.state.claimed(claim) {
            return Err(StoreError::DuplicateEvent);
        }
        let stored = inner
            .state
            .residents
            .get(&resident.user_id)
            .map(|r| r.version)
            .unwrap_or(0);
        if stored != resident.version {
            return Err(StoreError::Conflict);
        }
        let mut saved = resident.clone();
        saved.version = stored + 1;
        Self::commit(
            &mut inner,
            Op::Put {
                resident: saved.clone(),
                claim: claim.map(Claimed::new),
            },
        )?;
        Ok(saved)
    }

    async fn delete_resident(
        &self,
        user: &UserId,
        claim: Option<&EventClaim>,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner.state.claimed(claim) {
            return Err(StoreError::DuplicateEvent);
        }
        // Delivery records only exist for registered residents (see `State::apply`), so the
        // profile tells whether anything is held.
        let existed = inner.state.residents.contains_key(user);
        let op = Op::Delete {
            user_id: user.clone(),
            claim: claim.map(Claimed::new),
        };
        if existed {
            Self::commit_rewriting(&mut inner, op)?;
        } else if claim.is_some() {
            Self::commit(&mut inner, op)?;
        }
        Ok(existed)
    }

    async fn claim_event(&self, claim: &EventClaim) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner.state.claimed(Some(claim)) {
            return Ok(false);
        }
        let Claimed { event_id, expires } = Claimed::new(claim);
        Self::commit(&mut inner, Op::Claim { event_id, expires })?;
        Ok(true)
    }

    async fn anchored(&self, range: &AnchorRange) -> Result<Vec<AnchorEntry>, StoreError> {
        self.anchor_lookups.fetch_add(1, Ordering::Relaxed);
        let inner = self.lock();
        let state = &inner.state;
        Ok(state
            .anchors
            .range((range.kind, range.first)..=(range.kind, range.last))
            .flat_map(|(_, day)| day.values())
            .map(|e| {
                let mut e = e.clone();
                if let Some(sent) = state.delivered_to(&e.user_id, &e.subject) {
                    e.delivered = sent.clone();
                }
                if let Some(steps) = state.steps_of(&e.user_id, &e.subject) {
                    e.steps = steps.clone();
                }
                e
            })
            .collect())
    }

    async fn undelivered(
        &self,
        mark: &Mark<'_>,
        recipients: &[Recipient],
    ) -> Result<Vec<Recipient>, StoreError> {
        let inner = self.lock();
        let state = &inner.state;
        if let Mark::Reminder { slot } = *mark {
            return Ok(still_due(recipients, |user, booking| {
                state.seats.reminder_had(user, booking, slot)
            }));
        }
        Ok(still_due(recipients, |user, subject| {
            state.registered(user, subject).then(|| {
                mark.had(
                    state.delivered_to(user, subject),
                    state.steps_of(user, subject),
                )
            })
        }))
    }

    async fn record_delivery(
        &self,
        mark: &Mark<'_>,
        recipients: &[Recipient],
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let mut ops = Vec::new();
        for r in recipients {
            // Only what is still registered gets a record (`State::apply` checks too), so a
            // resident who stopped meanwhile adds no journal line.
            for subject in &r.subjects {
                if let Mark::Reminder { slot } = *mark {
                    if inner
                        .state
                        .seats
                        .reminder_had(&r.user, subject, slot)
                        .is_some()
                    {
                        ops.push(Op::Reminded {
                            user_id: r.user.clone(),
                            booking: subject.clone(),
                            slot: slot.to_string(),
                        });
                    }
                    continue;
                }
                if inner.state.registered(&r.user, subject) {
                    ops.push(match *mark {
                        Mark::Milestone(id) => Op::Sent {
                            user_id: r.user.clone(),
                            subject: subject.clone(),
                            milestones: vec![id.to_string()],
                        },
                        Mark::Step { series, day } => Op::Stepped {
                            user_id: r.user.clone(),
                            subject: subject.clone(),
                            series: series.to_string(),
                            day,
                        },
                        Mark::Reminder { .. } => continue,
                    });
                }
            }
        }
        if ops.is_empty() {
            return Ok(());
        }
        Self::commit_all(&mut inner, ops)
    }

    async fn record_scan(&self, day: NaiveDate, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        Self::commit(
            &mut inner,
            Op::Scanned {
                day,
                expires: now + SCAN_RECORD_TTL,
            },
        )
    }

    async fn last_scanned_before(&self, day: NaiveDate) -> Result<Option<NaiveDate>, StoreError> {
        Ok(self
            .lock()
            .state
            .scans
            .range(..day)
            .next_back()
            .map(|(d, _)| *d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract;

    fn claim(id: &str, now: DateTime<Utc>) -> EventClaim {
        EventClaim {
            event_id: id.to_string(),
            now,
        }
    }

    fn recipient(user: &UserId, subject: &str) -> Recipient {
        Recipient {
            user: user.clone(),
            subjects: vec![subject.to_string()],
        }
    }

    #[tokio::test]
    async fn in_memory_store_meets_the_contract() {
        contract::run_all(|| async { LocalStore::in_memory() }).await;
        let store = LocalStore::in_memory();
        contract::deletion_leaves_no_trace(&store, |s| {
            let text = s.dump();
            async move { text }
        })
        .await;
    }

    #[tokio::test]
    async fn bookings_meet_the_contract_in_memory_and_journaled() {
        contract_for_bookings(|| async { LocalStore::in_memory() }).await;
        let base = temp_dir("booking-contract");
        let counter = AtomicU64::new(0);
        contract_for_bookings(|| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let store = LocalStore::open(&base.join(n.to_string())).expect("open store");
            async move { store }
        })
        .await;
        let _ = fs::remove_dir_all(&base);
    }

    #[tokio::test]
    async fn bookings_survive_a_restart_and_a_stop_leaves_no_line_of_them() {
        use crate::reservations::{
            BookingFor, BookingId, Eligibility, Schedule, Service, ServiceId, Slot, SlotRef,
        };
        use crate::store::bookings::{BookingRequest, BookingStore};
        let dir = temp_dir("bookings-restart");
        let slot = SlotRef::parse("consult@2027-01-15T10:00").expect("slot");
        let service = ServiceId::parse("consult").expect("id");
        let schedule = Schedule {
            services: [(
                service.clone(),
                Service {
                    id: service.clone(),
                    name: "育児相談".into(),
                    place: "保健センター".into(),
                    description: String::new(),
                    who: Eligibility::Anyone,
                    opens_days_before: 30,
                    closes_days_before: 0,
                    many_per_resident: true,
                    remind_days_before: 1,
                    offer_hours: 24,
                    easy_name: None,
                    easy_description: None,
                },
            )]
            .into(),
            slots: [(
                slot.clone(),
                Slot {
                    slot: slot.clone(),
                    end: slot.start,
                    capacity: 2,
                },
            )]
            .into(),
        };
        let now = Utc::now();
        let users: Vec<UserId> = ["Ufirst", "Usecond"]
            .iter()
            .map(|u| UserId::parse(u).expect("id"))
            .collect();
        {
            let store = LocalStore::open(&dir).expect("open");
            store
                .publish_schedule(&schedule, now)
                .await
                .expect("publish");
            for (i, u) in users.iter().enumerate() {
                let r = store
                    .save_resident(&Resident::new(u.clone()), None)
                    .await
                    .expect("save");
                store
                    .book(&BookingRequest {
                        id: BookingId::derive(&format!("ev{i}")),
                        user: u.clone(),
                        resident_version: r.version,
                        slot: slot.clone(),
                        booked_for: BookingFor("resident".into()),
                        one_per_resident: false,
                        now: now + chrono::Duration::seconds(i as i64),
                        claim: None,
                    })
                    .await
                    .expect("book");
            }
        }
        let store = LocalStore::open(&dir).expect("reopen");
        let states = store
            .slot_states(&service, slot.date, slot.date)
            .await
            .expect("slots");
        assert_eq!(states[0].booked, 2);
        let first = store
            .resident(&users[0])
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(
            first.version, 2,
            "the booking's version bump is replayed once"
        );
        // Shrinking after the restart still cancels the later booker.
        let mut smaller = schedule.clone();
        if let Some(s) = smaller.slots.get_mut(&slot) {
            s.capacity = 1;
        }
        let published = store.publish_schedule(&smaller, now).await.expect("shrink");
        assert_eq!(published.cancelled.len(), 1);
        assert_eq!(published.cancelled[0].user, users[1]);
        assert!(store.delete_resident(&users[0], None).await.expect("stop"));
        drop(store);
        let text = fs::read_to_string(dir.join(JOURNAL_FILE)).expect("journal");
        assert!(!text.contains(users[0].as_str()), "{text}");
        let store = LocalStore::open(&dir).expect("reopen again");
        assert_eq!(
            store
                .slot_states(&service, slot.date, slot.date)
                .await
                .expect("slots")[0]
                .booked,
            0
        );
        let _ = fs::remove_dir_all(&dir);
    }

    async fn contract_for_bookings<F, Fut>(make: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = LocalStore>,
    {
        crate::store::booking_contract::run_booking_suite(make).await;
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sukusuku-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[tokio::test]
    async fn journaled_store_meets_the_contract() {
        let base = temp_dir("contract");
        let counter = AtomicU64::new(0);
        contract::run_all(|| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let store = LocalStore::open(&base.join(n.to_string())).expect("open store");
            async move { store }
        })
        .await;
        let store = LocalStore::open(&base.join("no-trace")).expect("open store");
        contract::deletion_leaves_no_trace(&store, |s| {
            let text = s.dump();
            async move { text }
        })
        .await;
        // Also after a restart: nothing of the resident comes back from the journal.
        drop(store);
        let reopened = LocalStore::open(&base.join("no-trace")).expect("reopen store");
        let text = reopened.dump();
        assert!(!text.contains(contract::NO_TRACE_USER), "{text}");
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn a_data_dir_opens_in_one_process_at_a_time() {
        let dir = temp_dir("lock");
        let first = LocalStore::open(&dir).expect("open");
        match LocalStore::open(&dir) {
            Err(StoreError::Unavailable(msg)) => assert!(msg.contains("in use"), "{msg}"),
            Err(other) => panic!("expected Unavailable, got {other}"),
            Ok(_) => panic!("a second store opened the same journal"),
        }
        drop(first);
        LocalStore::open(&dir).expect("free again once the first is closed");
        let _ = fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn data_survives_a_restart_and_a_torn_last_line() {
        let dir = temp_dir("restart");
        let user = UserId::parse("Urestart").expect("id");
        let now = Utc::now();
        {
            let store = LocalStore::open(&dir).expect("open");
            let mut r = Resident::new(user.clone());
            r.add_child(NaiveDate::from_ymd_opt(2025, 11, 20).expect("date"));
            store.save_resident(&r, None).await.expect("save");
            assert!(store.claim_event(&claim("ev1", now)).await.expect("claim"));
            store
                .record_delivery(&Mark::Milestone("m1"), &[recipient(&user, "c1")])
                .await
                .expect("record");
            store
                .record_scan(NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"), now)
                .await
                .expect("scan");
        }
        // Simulate a crash in the middle of writing one more line.
        let path = dir.join(JOURNAL_FILE);
        let mut f = OpenOptions::new().append(true).open(&path).expect("append");
        f.write_all(b"{\"op\":\"put\",\"resid").expect("write");
        drop(f);
        let store = LocalStore::open(&dir).expect("reopen");
        let r = store
            .resident(&user)
            .await
            .expect("read")
            .expect("still there");
        assert_eq!(r.children.len(), 1);
        assert_eq!(r.version, 1);
        assert!(!store.claim_event(&claim("ev1", now)).await.expect("claim"));
        assert_eq!(
            store
                .undelivered(&Mark::Milestone("m1"), &[recipient(&user, "c1")])
                .await
                .expect("d"),
            vec![]
        );
        assert_eq!(
            store
                .last_scanned_before(NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"))
                .await
                .expect("scan"),
            NaiveDate::from_ymd_opt(2026, 11, 22)
        );
        let range = AnchorRange {
            kind: AnchorKind::BirthDate,
            first: NaiveDate::from_ymd_opt(2025, 11, 20).expect("date"),
            last: NaiveDate::from_ymd_opt(2025, 11, 20).expect("date"),
        };
        assert_eq!(store.anchored(&range).await.expect("lookup").len(), 1);
        drop(store);
        // A damaged line in the middle is refused, not silently dropped.
        let mut text = fs::read_to_string(&path).expect("read");
        text.insert_str(0, "garbage\n");
        fs::write(&path, text).expect("write");
        match LocalStore::open(&dir) {
            Err(StoreError::Corrupt(msg)) => assert!(msg.contains("line 1"), "{msg}"),
            Err(other) => panic!("expected Corrupt, got {other}"),
            Ok(_) => panic!("expected Corrupt, got a store"),
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
