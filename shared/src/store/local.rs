//! The embedded store: everything in memory, optionally made durable by an append-only
//! journal under a data directory (`sukusuku serve --data DIR`). Each change is written and
//! fsynced before it is applied; on open the journal is replayed and compacted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{DELIVERY_RECORD_TTL, EVENT_CLAIM_TTL, Store, StoreError};
use crate::domain::{AnchorEntry, AnchorKind, AnchorRange, Resident, UserId};

const JOURNAL_FILE: &str = "store.jsonl";

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    Put {
        resident: Resident,
    },
    Delete {
        user_id: UserId,
    },
    Claim {
        event_id: String,
        expires: DateTime<Utc>,
    },
    Release {
        event_id: String,
    },
    Delivered {
        job_id: String,
        scope: String,
        users: Vec<UserId>,
        expires: DateTime<Utc>,
    },
}

type AnchorDay = BTreeMap<(UserId, String), AnchorEntry>;

#[derive(Default)]
struct State {
    residents: HashMap<UserId, Resident>,
    anchors: BTreeMap<(AnchorKind, NaiveDate), AnchorDay>,
    events: HashMap<String, DateTime<Utc>>,
    deliveries: HashMap<String, HashMap<UserId, DateTime<Utc>>>,
    jobs: HashMap<String, DateTime<Utc>>,
}

impl State {
    fn apply(&mut self, op: Op) {
        match op {
            Op::Put { resident } => {
                self.remove_anchors(&resident.user_id);
                for e in resident.anchor_entries() {
                    self.anchors
                        .entry((e.kind, e.date))
                        .or_default()
                        .insert((e.user_id.clone(), e.subject.clone()), e);
                }
                self.residents.insert(resident.user_id.clone(), resident);
            }
            Op::Delete { user_id } => {
                self.remove_anchors(&user_id);
                self.residents.remove(&user_id);
            }
            Op::Claim { event_id, expires } => {
                self.events.insert(event_id, expires);
            }
            Op::Release { event_id } => {
                self.events.remove(&event_id);
            }
            Op::Delivered {
                job_id,
                scope,
                users,
                expires,
            } => {
                if !users.is_empty() {
                    let scoped = self.deliveries.entry(scope).or_default();
                    for u in users {
                        scoped.insert(u, expires);
                    }
                }
                if !job_id.is_empty() {
                    self.jobs.insert(job_id, expires);
                }
            }
        }
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

    /// The live records as ops, for compaction.
    fn snapshot(&self, now: DateTime<Utc>) -> Vec<Op> {
        let mut ops: Vec<Op> = self
            .residents
            .values()
            .map(|r| Op::Put {
                resident: r.clone(),
            })
            .collect();
        ops.extend(
            self.events
                .iter()
                .filter(|(_, exp)| **exp > now)
                .map(|(id, exp)| Op::Claim {
                    event_id: id.clone(),
                    expires: *exp,
                }),
        );
        for (scope, users) in &self.deliveries {
            for (user, exp) in users.iter().filter(|(_, exp)| **exp > now) {
                ops.push(Op::Delivered {
                    job_id: String::new(),
                    scope: scope.clone(),
                    users: vec![user.clone()],
                    expires: *exp,
                });
            }
        }
        ops.extend(
            self.jobs
                .iter()
                .filter(|(_, exp)| **exp > now)
                .map(|(id, exp)| Op::Delivered {
                    job_id: id.clone(),
                    scope: String::new(),
                    users: vec![],
                    expires: *exp,
                }),
        );
        ops
    }
}

struct Inner {
    state: State,
    journal: Option<File>,
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
        let journal = compact(&path, &state)?;
        Ok(LocalStore {
            inner: Mutex::new(Inner {
                state,
                journal: Some(journal),
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

    /// Journals then applies `op`, so nothing is acknowledged that is not on disk.
    fn commit(inner: &mut Inner, op: Op) -> Result<(), StoreError> {
        if let Some(file) = inner.journal.as_mut() {
            let mut line = serde_json::to_string(&op)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode a change: {e}")))?;
            line.push('\n');
            file.write_all(line.as_bytes())
                .and_then(|_| file.sync_data())
                .map_err(|e| StoreError::Unavailable(format!("cannot write the journal: {e}")))?;
        }
        inner.state.apply(op);
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

    async fn save_resident(&self, resident: &Resident) -> Result<Resident, StoreError> {
        let mut inner = self.lock();
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
            },
        )?;
        Ok(saved)
    }

    async fn delete_resident(&self, user: &UserId) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if !inner.state.residents.contains_key(user) {
            return Ok(false);
        }
        Self::commit(
            &mut inner,
            Op::Delete {
                user_id: user.clone(),
            },
        )?;
        Ok(true)
    }

    async fn anchored(&self, range: &AnchorRange) -> Result<Vec<AnchorEntry>, StoreError> {
        self.anchor_lookups.fetch_add(1, Ordering::Relaxed);
        let inner = self.lock();
        Ok(inner
            .state
            .anchors
            .range((range.kind, range.first)..=(range.kind, range.last))
            .flat_map(|(_, day)| day.values().cloned())
            .collect())
    }

    async fn claim_event(&self, event_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner
            .state
            .events
            .get(event_id)
            .is_some_and(|exp| *exp > now)
        {
            return Ok(false);
        }
        Self::commit(
            &mut inner,
            Op::Claim {
                event_id: event_id.to_string(),
                expires: now + EVENT_CLAIM_TTL,
            },
        )?;
        Ok(true)
    }

    async fn release_event(&self, event_id: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.state.events.contains_key(event_id) {
            return Ok(());
        }
        Self::commit(
            &mut inner,
            Op::Release {
                event_id: event_id.to_string(),
            },
        )
    }

    async fn delivered_among(
        &self,
        scope: &str,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<HashSet<UserId>, StoreError> {
        let inner = self.lock();
        let Some(scoped) = inner.state.deliveries.get(scope) else {
            return Ok(HashSet::new());
        };
        Ok(users
            .iter()
            .filter(|u| scoped.get(*u).is_some_and(|exp| *exp > now))
            .cloned()
            .collect())
    }

    async fn record_delivery(
        &self,
        job_id: &str,
        scope: &str,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        Self::commit(
            &mut inner,
            Op::Delivered {
                job_id: job_id.to_string(),
                scope: scope.to_string(),
                users: users.to_vec(),
                expires: now + DELIVERY_RECORD_TTL,
            },
        )
    }

    async fn job_done(&self, job_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .state
            .jobs
            .get(job_id)
            .is_some_and(|exp| *exp > now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract;

    #[tokio::test]
    async fn in_memory_store_meets_the_contract() {
        contract::run_all(|| async { LocalStore::in_memory() }).await;
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
        let _ = fs::remove_dir_all(&base);
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
            store.save_resident(&r).await.expect("save");
            assert!(store.claim_event("ev1", now).await.expect("claim"));
            store
                .record_delivery("job1", "scope", std::slice::from_ref(&user), now)
                .await
                .expect("record");
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
        assert!(!store.claim_event("ev1", now).await.expect("claim"));
        assert!(store.job_done("job1", now).await.expect("job"));
        assert_eq!(
            store
                .delivered_among("scope", std::slice::from_ref(&user), now)
                .await
                .expect("d")
                .len(),
            1
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
