//! One 受信設定 change end to end, per second: a signed webhook event (a settings postback)
//! through `handle_webhook`, the conversation, and the store write that copies the new
//! settings onto the resident's anchor entries, on the embedded store in memory and
//! journaled to disk (a temporary data dir, one fsync per change).
//!
//! Residents are registered first (not timed). Every timed event changes something (a
//! category off or on, all categories back on, a 地区, a household attribute, a 保育所
//! answer, やさしい日本語), each with its own `webhookEventId`. Every answer must be 200;
//! afterwards each resident's stored settings must equal what its events set (and its version
//! must show one write per event), its anchor entries must carry them, and the journaled
//! store must hold the same after a restart. Times are reported, never asserted.
//! Run: cargo bench --workspace --features sukusuku/aws --bench settings_change

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::json;
use shared::catalog::Catalog;
use shared::dates::add_days;
use shared::domain::{AnchorKind, AnchorRange, Pregnancy, Resident, Settings, UserId};
use shared::handlers::webhook::{WebhookContext, handle_webhook};
use shared::line::client::NullLineApi;
use shared::line::signature::ChannelSecret;
use shared::store::{LocalStore, Store};

const RESIDENTS: usize = 5_000;
/// Settings changes per resident; the events go round the residents, one change each a round.
const ROUNDS: usize = 10;

fn user(u: usize) -> UserId {
    UserId::parse(&format!("U{u:032x}")).expect("id")
}

fn birth_date(u: usize) -> NaiveDate {
    let newest = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
    add_days(newest, -((u * 37 % 1500) as i64)).expect("date")
}

/// Resident `u` as registered before the timed events: one child, a pregnancy for every
/// fourth, every 受信設定 at its default.
fn registered(u: usize) -> Resident {
    let mut r = Resident::new(user(u));
    r.add_child(birth_date(u));
    if u.is_multiple_of(4) {
        r.pregnancy = Some(Pregnancy {
            due_date: NaiveDate::from_ymd_opt(2027, 3, 1).expect("date"),
        });
    }
    r
}

/// The catalog's choice ids the events name.
struct Choices {
    categories: Vec<String>,
    districts: Vec<String>,
    household: Vec<String>,
    nursery: Vec<String>,
}

/// What a resident's events set, as the bench keeps track (the conversation's semantics:
/// each postback names the state it sets).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Model {
    settings: Settings,
    easy: bool,
}

/// The postback for resident `u`'s `j`-th change, chosen from what it has now so that it
/// changes something; applies it to the model.
fn next_change(u: usize, j: usize, m: &mut Model, c: &Choices) -> String {
    let before = m.clone();
    let s = &mut m.settings;
    let data = match (u + j) % 5 {
        // The second time round, half the residents turn categories back on (every third
        // of them with 全部受け取る), the others turn one more off.
        0 if !s.muted.is_empty() && (u / 5 + j / 5) % 2 == 1 && u.is_multiple_of(3) => {
            s.muted.clear();
            "v1:cat-all".to_string()
        }
        0 if !s.muted.is_empty() && (u / 5 + j / 5) % 2 == 1 => {
            let id = s.muted.iter().next().cloned().expect("muted");
            s.muted.remove(&id);
            format!("v1:cat:{id}:on")
        }
        0 => {
            let n = c.categories.len();
            let id = (0..n)
                .map(|k| &c.categories[(u * 7 + j * 3 + k) % n])
                .find(|id| !s.muted.contains(*id))
                .expect("a category still on")
                .clone();
            s.muted.insert(id.clone());
            format!("v1:cat:{id}:off")
        }
        1 if s.district.is_some() && (u + j).is_multiple_of(4) => {
            s.district = None;
            "v1:district:-".to_string()
        }
        1 => {
            let n = c.districts.len();
            let id = (0..n)
                .map(|k| &c.districts[(u + j + k) % n])
                .find(|id| s.district.as_ref() != Some(*id))
                .expect("another district")
                .clone();
            s.district = Some(id.clone());
            format!("v1:district:{id}")
        }
        2 => {
            // Even residents turn the same attribute off again, odd ones add a second.
            let id = c.household[(u + (j / 5) * (u % 2)) % c.household.len()].clone();
            let on = !s.household.contains(&id);
            if on {
                s.household.insert(id.clone());
            } else {
                s.household.remove(&id);
            }
            format!("v1:household:{id}:{}", if on { "on" } else { "off" })
        }
        3 if s.nursery.is_some() && (u + j).is_multiple_of(3) => {
            s.nursery = None;
            "v1:nursery:-".to_string()
        }
        3 => {
            let n = c.nursery.len();
            let id = (0..n)
                .map(|k| &c.nursery[(u * 3 + j + k) % n])
                .find(|id| s.nursery.as_ref() != Some(*id))
                .expect("another answer")
                .clone();
            s.nursery = Some(id.clone());
            format!("v1:nursery:{id}")
        }
        _ => {
            m.easy = !m.easy;
            format!("v1:easy:{}", if m.easy { "on" } else { "off" })
        }
    };
    assert_ne!(*m, before, "every event changes something ({data})");
    data
}

fn body(n: usize, u: usize, data: &str) -> Vec<u8> {
    let event = json!({
        "type": "postback", "postback": {"data": data},
        "mode": "active", "timestamp": 1_763_773_200_000i64 + n as i64,
        "webhookEventId": format!("01SETTINGS{n:016}"), "deliveryContext": {"isRedelivery": false},
        "source": {"type": "user", "userId": user(u).as_str()}, "replyToken": format!("rt{n}"),
    });
    serde_json::to_vec(&json!({"destination": "U0", "events": [event]})).expect("json")
}

/// Every resident's stored settings, language and version, and its anchor entries' copy of
/// them, against what its events set.
async fn check(store: &LocalStore, expected: &[Model]) -> Result<(), String> {
    for (u, want) in expected.iter().enumerate() {
        let r = store
            .resident(&user(u))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("resident {u} is gone"))?;
        if r.settings != want.settings || r.easy_japanese != want.easy {
            return Err(format!(
                "resident {u}: stored {:?} easy {}, its events set {:?} easy {}",
                r.settings, r.easy_japanese, want.settings, want.easy
            ));
        }
        // Registration was write 1; each event one more.
        if r.version != 1 + ROUNDS as u64 {
            return Err(format!(
                "resident {u}: version {}, not {}",
                r.version,
                1 + ROUNDS
            ));
        }
        let mut ranges = vec![(AnchorKind::BirthDate, birth_date(u))];
        if let Some(p) = &r.pregnancy {
            ranges.push((AnchorKind::DueDate, p.due_date));
        }
        for (kind, day) in ranges {
            let entries = store
                .anchored(&AnchorRange {
                    kind,
                    first: day,
                    last: day,
                })
                .await
                .map_err(|e| e.to_string())?;
            let entry = entries
                .iter()
                .find(|e| e.user_id == r.user_id)
                .ok_or_else(|| format!("resident {u}: no {kind:?} entry"))?;
            if entry.settings != want.settings || entry.easy_japanese != want.easy {
                return Err(format!(
                    "resident {u}: the {kind:?} entry carries {:?} easy {}, not the settings saved",
                    entry.settings, entry.easy_japanese
                ));
            }
        }
    }
    Ok(())
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn run(
    runtime: &tokio::runtime::Runtime,
    label: &str,
    store: &LocalStore,
    catalog: &Catalog,
    secret: &ChannelSecret,
    requests: &[(Vec<u8>, String)],
    expected: &[Model],
) {
    let registering = Instant::now();
    runtime.block_on(async {
        for u in 0..RESIDENTS {
            store
                .save_resident(&registered(u), None)
                .await
                .expect("register");
        }
    });
    let registered_in = registering.elapsed();
    let line = NullLineApi;
    let ctx = WebhookContext {
        store,
        line: &line,
        events: &shared::reservations::events::NoEvents,
        catalog,
        secret,
        now: Utc
            .with_ymd_and_hms(2026, 11, 22, 1, 0, 0)
            .single()
            .expect("time"),
    };
    let mut latencies: Vec<Duration> = Vec::with_capacity(requests.len());
    let started = Instant::now();
    runtime.block_on(async {
        for (n, (b, s)) in requests.iter().enumerate() {
            let t = Instant::now();
            let r = handle_webhook(&ctx, Some(s), b).await;
            latencies.push(t.elapsed());
            assert_eq!(r.status, 200, "event {n}: {}", r.body);
        }
    });
    let elapsed = started.elapsed();
    latencies.sort();
    runtime
        .block_on(check(store, expected))
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    println!(
        "  {label} ({RESIDENTS} residents registered first in {registered_in:.1?}, not timed)"
    );
    println!(
        "    {} changes in {:.2?}  →  {:.0} events/s on one thread",
        requests.len(),
        elapsed,
        requests.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "    per event: p50 {:?}  p99 {:?}  max {:?}",
        pct(&latencies, 0.50),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0)
    );
    println!(
        "    checked: every answer 200; every resident's settings, version and anchor entries as its events set"
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let catalog = Catalog::from_source(&shared::catalog::example_source())
        .unwrap_or_else(|e| panic!("the example catalog: {e}"));
    let q = catalog.questions();
    let ids = |cs: &[shared::catalog::Choice]| cs.iter().map(|c| c.id.clone()).collect();
    let choices = Choices {
        categories: catalog.categories().iter().map(|c| c.id.clone()).collect(),
        districts: ids(&q.district.choices),
        household: ids(&q.household.choices),
        nursery: ids(&q.nursery.choices),
    };
    let secret = ChannelSecret::new("bench-secret");
    // The events, round by round across the residents, and what they leave each resident with.
    let mut expected = vec![Model::default(); RESIDENTS];
    let mut requests = Vec::with_capacity(RESIDENTS * ROUNDS);
    for j in 0..ROUNDS {
        for (u, model) in expected.iter_mut().enumerate() {
            let data = next_change(u, j, model, &choices);
            let b = body(requests.len(), u, &data);
            let s = secret.sign(&b);
            requests.push((b, s));
        }
    }
    println!(
        "settings change: {} signed 受信設定 postbacks (categories off/on, 地区, household, 保育所, やさしい日本語), each a change, through handle_webhook",
        requests.len()
    );
    let memory = LocalStore::in_memory();
    run(
        &runtime,
        "in memory",
        &memory,
        &catalog,
        &secret,
        &requests,
        &expected,
    );
    drop(memory);

    let dir = std::env::temp_dir().join(format!("sukusuku-bench-settings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let journaled = LocalStore::open(&dir).expect("open the journaled store");
    run(
        &runtime,
        "journaled to disk",
        &journaled,
        &catalog,
        &secret,
        &requests,
        &expected,
    );
    drop(journaled);
    let journal_bytes = journal_size(&dir);
    let reopening = Instant::now();
    let reopened = LocalStore::open(&dir).expect("reopen the journaled store");
    let reopened_in = reopening.elapsed();
    runtime
        .block_on(check(&reopened, &expected))
        .unwrap_or_else(|e| panic!("after a restart: {e}"));
    println!(
        "    after a restart ({:.1} MB journal replayed and compacted in {reopened_in:.1?}): the same settings",
        journal_bytes as f64 / 1e6
    );
    drop(reopened);
    let _ = std::fs::remove_dir_all(&dir);
}

fn journal_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
