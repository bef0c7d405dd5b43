//! Reading the staff's reservations file (services and slots) and the CSV files beside it
//! that it names, for `reservations check` (and `publish`). The checking is `shared`'s; this
//! module hands it each file it asks for.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, anyhow};
use chrono::{DateTime, NaiveDate, Utc};
use shared::dates::tokyo_date;
use shared::domain::Resident;
use shared::line::{HttpLineApi, LineApi, Message, RetryKey};
use shared::reservations::events::{BookingEvent, EventSink};
use shared::reservations::file::load_schedule;
use shared::reservations::{
    Booking, BookingStatus, CancelledBy, Schedule, ScheduleChanges, Service, ServiceId, SlotState,
    Waiting,
};
use shared::store::{BookingStore, LocalStore, Store, StoreError, Stranding};

use crate::catalog_file::{folder_of, read_bytes_beside};
use crate::local_events::LocalEvents;
use crate::local_line::LocalLineApi;

/// The schedule in the file at `path`, checked with its CSV files; slots before `today`
/// (an Asia/Tokyo date) are refused as past.
pub fn read(path: &Path, today: NaiveDate) -> anyhow::Result<Schedule> {
    let main = std::fs::read(path)
        .with_context(|| format!("cannot read the reservations file {}", path.display()))?;
    let dir = folder_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    load_schedule(
        &name,
        &main,
        |csv| read_bytes_beside(&dir, csv, "the reservations file's").map(|(_, bytes)| bytes),
        today,
    )
    .map_err(|e| anyhow!("{} is not a valid reservations file: {e}", path.display()))
}

pub fn check(path: &Path, today: NaiveDate) -> anyhow::Result<()> {
    let schedule = read(path, today)?;
    println!("{}", summary(path, &schedule));
    Ok(())
}

/// `example.yaml: OK — 6 services, 61 slots from 2027-01-12 to 2027-02-18`, then a line per
/// service: enough for staff to see that what they meant is what was read.
fn summary(path: &Path, schedule: &Schedule) -> String {
    let slots = match schedule.date_range() {
        Some((first, last)) => format!(
            "{} slot{} from {} to {}",
            schedule.slots.len(),
            if schedule.slots.len() == 1 { "" } else { "s" },
            first.format("%Y-%m-%d"),
            last.format("%Y-%m-%d")
        ),
        None => "no slots".to_string(),
    };
    let mut out = format!(
        "{}: OK — {} services, {slots}",
        path.display(),
        schedule.services.len()
    );
    for (id, service) in &schedule.services {
        let (n, seats) = schedule
            .slots
            .values()
            .filter(|s| &s.slot.service == id)
            .fold((0, 0), |(n, seats), s| (n + 1, seats + s.capacity));
        out.push_str(&format!(
            "\n  {id} ({}): {n} slots, {seats} seats",
            service.name
        ));
    }
    out
}

/// Where `publish` and `export` act: the local data dir or a deployed table.
pub enum Target<'a> {
    Data(&'a Path),
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    Table {
        table: &'a str,
        event_bus: Option<&'a str>,
    },
}

/// Every slot stored for these services (past ones too): what a publish compares with.
async fn stored_slots<S: BookingStore>(
    store: &S,
    services: &BTreeSet<ServiceId>,
) -> Result<Vec<SlotState>, StoreError> {
    let mut out = Vec::new();
    for id in services {
        out.extend(
            store
                .slot_states(id, NaiveDate::MIN, NaiveDate::MAX)
                .await?,
        );
    }
    Ok(out)
}

/// The bookings that would lose their seat, latest booked first within each slot (the
/// order the store gives seats back in).
async fn stranded_bookings<S: BookingStore>(
    store: &S,
    changes: &ScheduleChanges,
) -> Result<Vec<(Booking, Option<u32>)>, StoreError> {
    let mut out = Vec::new();
    for s in &changes.stranded {
        let held: Vec<Booking> = store
            .bookings_between(s.slot.date, s.slot.date)
            .await?
            .into_iter()
            .filter(|b| b.slot == s.slot && b.is_active())
            .collect();
        // The stores' own rule, so the list is the bookings a publish would cancel.
        let keep = s.capacity.unwrap_or(0) as usize;
        let losing = shared::reservations::giving_way(held.iter().collect(), keep);
        out.extend(losing.into_iter().map(|b| (b.clone(), s.capacity)));
    }
    Ok(out)
}

/// Publishes `schedule` into a store: slots before `today` stay as they are (their bookings
/// are history); a publish that would take seats residents hold is refused with the list of
/// those bookings, unless `cancel_bookings`, when they are cancelled and each resident is told
/// in Japanese (and the city's systems by a booking event).
pub async fn publish_into<S, L, E>(
    store: &S,
    line: Option<&L>,
    events: &E,
    mut schedule: Schedule,
    cancel_bookings: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<String>
where
    S: Store + BookingStore,
    L: LineApi,
    E: EventSink,
{
    let today = tokyo_date(now);
    let stored_services = store.services().await?;
    let ids: BTreeSet<ServiceId> = stored_services
        .iter()
        .map(|s| s.id.clone())
        .chain(schedule.services.keys().cloned())
        .collect();
    let stored = stored_slots(store, &ids).await?;
    for past in stored.iter().filter(|s| s.slot.slot.date < today) {
        schedule
            .slots
            .insert(past.slot.slot.clone(), past.slot.clone());
        if !schedule.services.contains_key(&past.slot.slot.service)
            && let Some(service) = stored_services
                .iter()
                .find(|s| s.id == past.slot.slot.service)
        {
            schedule
                .services
                .insert(service.id.clone(), service.clone());
        }
    }
    let changes = schedule.changes_from(&stored);
    let stranded = stranded_bookings(store, &changes).await?;
    if !stranded.is_empty() && !cancel_bookings {
        let mut text = format!(
            "nothing was published: {} booking{} would lose their seat:",
            stranded.len(),
            if stranded.len() == 1 { "" } else { "s" }
        );
        for (b, capacity) in &stranded {
            let why = match capacity {
                Some(c) => format!("capacity lowered to {c}"),
                None => "slot removed".to_string(),
            };
            text.push_str(&format!(
                "\n  予約番号 {} — {} {} {} ({why})",
                b.id,
                b.slot.service,
                b.slot.date,
                b.slot.start_label()
            ));
        }
        text.push_str(
            "\nKeep those slots and capacities in the file, or run again with \
             --cancel-bookings to cancel these bookings and tell the residents in LINE.",
        );
        return Err(anyhow!(text));
    }
    // Residents whose held seat or place in line this publish takes away are told too.
    let touches_lists = stored.iter().any(|s| {
        let held = s.offered + s.waiting > 0;
        match schedule.slots.get(&s.slot.slot) {
            None => held,
            Some(kept) => s.offered > 0 && s.booked + s.offered > kept.capacity,
        }
    });
    let line = match (line, stranded.is_empty() && !touches_lists) {
        (Some(line), _) => Some(line),
        (None, true) => None,
        (None, false) => {
            return Err(anyhow!(
                "nothing was published: it cancels bookings or takes seats or places from \
                 residents on a waiting list, and each of them is told in LINE, so set \
                 LINE_CHANNEL_ACCESS_TOKEN (the channel's access token) first"
            ));
        }
    };
    // Told not to cancel, the store refuses rather than take a seat booked since the check.
    let stranding = if cancel_bookings {
        Stranding::Cancel
    } else {
        Stranding::Refuse
    };
    let published = match store.publish(&schedule, now, stranding).await {
        Err(StoreError::Conflict) => {
            return Err(anyhow!(
                "not published: a resident booked a seat of a slot this file removes or shrinks \
                 while it was being published, and no booking is cancelled without \
                 --cancel-bookings. Run it again to see the bookings it would take."
            ));
        }
        other => other?,
    };
    let mut told = 0;
    for b in &published.cancelled {
        let resident = store.resident(&b.user).await?;
        let message = shared::conversation::reserve::cancelled_by_city(
            resident.as_ref(),
            schedule.services.get(&b.slot.service),
            b,
        );
        let key = RetryKey::derive(&format!("staff-cancel/{}", b.id));
        let Some(line) = line else { continue };
        match line
            .push(&b.user, std::slice::from_ref(&message), &key)
            .await
        {
            Ok(_) => told += 1,
            // The booking is cancelled either way; staff see who was not told.
            Err(e) => eprintln!("予約番号 {}: the resident could not be told: {e}", b.id),
        }
    }
    // A service the file drops is still named by its name, as stored before.
    let service_of = |id: &ServiceId| {
        schedule
            .services
            .get(id)
            .or_else(|| stored_services.iter().find(|s| s.id == *id))
    };
    // Residents whose held seat a lowered capacity took back hear it, keeping their place;
    // residents waiting for a removed slot hear that the wait is over. (Without a token
    // they find it in 予約の確認; staff are told how many.)
    let withdrawn_told = tell_places(
        store,
        line,
        &published.withdrawn,
        "staff-withdraw",
        |resident, w| {
            shared::conversation::reserve::offer_withdrawn(resident, service_of(&w.slot.service), w)
        },
    )
    .await?;
    let waits_told = tell_places(
        store,
        line,
        &published.dropped,
        "staff-unwait",
        |resident, w| {
            shared::conversation::reserve::waiting_list_closed(
                resident,
                service_of(&w.slot.service),
                w,
            )
        },
    )
    .await?;
    let events_of: Vec<BookingEvent> = published
        .cancelled
        .iter()
        .map(|b| BookingEvent::of(b, None, now))
        .collect();
    if !events_of.is_empty()
        && let Err(e) = events.publish(&events_of).await
    {
        eprintln!("booking events not published: {e}");
    }
    let future = schedule
        .slots
        .values()
        .filter(|s| s.slot.date >= today)
        .count();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut waits = String::new();
    if !published.withdrawn.is_empty() {
        waits.push_str(&format!(
            "; {} seat{} held for a waiting list taken back by a lower capacity, {withdrawn_told} told",
            published.withdrawn.len(),
            plural(published.withdrawn.len())
        ));
    }
    if !published.dropped.is_empty() {
        waits.push_str(&format!(
            "; {} place{} on the waiting lists of removed slots ended, {waits_told} told",
            published.dropped.len(),
            plural(published.dropped.len())
        ));
    }
    Ok(format!(
        "published: {} services, {future} slots from today on ({} added, {} removed, {} capacities changed); {} booking{} cancelled, {told} resident{} told{waits}",
        schedule.services.len(),
        changes.added.len(),
        changes.removed.len(),
        changes.resized.len(),
        published.cancelled.len(),
        if published.cancelled.len() == 1 {
            ""
        } else {
            "s"
        },
        if told == 1 { "" } else { "s" },
    ))
}

/// Pushes each resident on a waiting list what `message` says about their place (once:
/// the retry key names the place and `kind`); how many were told.
async fn tell_places<S: Store, L: LineApi>(
    store: &S,
    line: Option<&L>,
    places: &[Waiting],
    kind: &str,
    message: impl Fn(Option<&Resident>, &Waiting) -> Message,
) -> anyhow::Result<usize> {
    let Some(line) = line else {
        return Ok(0);
    };
    let mut told = 0;
    for w in places {
        let resident = store.resident(&w.user).await?;
        let key = RetryKey::derive(&format!(
            "{kind}/{}/{}/{}/{}",
            w.user.as_str(),
            w.slot,
            w.booked_for.as_str(),
            w.offered_until.map(|t| t.timestamp()).unwrap_or_default()
        ));
        let message = message(resident.as_ref(), w);
        match line
            .push(&w.user, std::slice::from_ref(&message), &key)
            .await
        {
            Ok(_) => told += 1,
            Err(e) => eprintln!(
                "a resident on the waiting list of {} could not be told: {e}",
                w.slot
            ),
        }
    }
    Ok(told)
}

pub fn publish(
    path: &Path,
    target: Target<'_>,
    cancel_bookings: bool,
    today: Option<NaiveDate>,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let schedule = read(path, today.unwrap_or_else(|| tokyo_date(now)))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        match target {
            Target::Data(dir) => {
                let store = LocalStore::open(dir)
                    .with_context(|| format!("cannot open the data directory {}", dir.display()))?;
                let events = LocalEvents::new(Box::new(std::io::stdout()), Some(dir));
                match line_from_env()? {
                    Some(line) => {
                        publish_into(&store, Some(&line), &events, schedule, cancel_bookings, now)
                            .await
                    }
                    None => {
                        // As `serve` in local mode: residents' messages are printed and kept in
                        // the outbox instead of sent.
                        let line = LocalLineApi::new(Box::new(std::io::stdout()), Some(dir))?;
                        publish_into(&store, Some(&line), &events, schedule, cancel_bookings, now)
                            .await
                    }
                }
            }
            Target::Table { table, event_bus } => {
                publish_to_table(table, event_bus, schedule, cancel_bookings, now).await
            }
        }
    })?;
    println!("{}: {report}", path.display());
    Ok(())
}

/// The LINE API from the environment, when a token is set (as `serve` decides).
fn line_from_env() -> anyhow::Result<Option<HttpLineApi>> {
    let Some(token) = crate::serve::env_value("LINE_CHANNEL_ACCESS_TOKEN") else {
        return Ok(None);
    };
    let base = crate::serve::env_value("LINE_API_BASE")
        .unwrap_or_else(|| shared::line::DEFAULT_API_BASE.to_string());
    HttpLineApi::new(&base, &token)
        .map(Some)
        .map_err(|e| anyhow!("cannot set up the LINE client: {e}"))
}

#[cfg(feature = "aws")]
async fn publish_to_table(
    table: &str,
    event_bus: Option<&str>,
    schedule: Schedule,
    cancel_bookings: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    use shared::aws::{DynamoStore, EventBridgeEvents, sdk_config};
    let config = sdk_config().await;
    let store = DynamoStore::from_config(&config, table);
    let line = line_from_env()?;
    match event_bus {
        Some(bus) => {
            let events = EventBridgeEvents::from_config(&config, bus);
            publish_into(
                &store,
                line.as_ref(),
                &events,
                schedule,
                cancel_bookings,
                now,
            )
            .await
        }
        None => {
            eprintln!(
                "no --event-bus: bookings this publish cancels reach no other system (the \
                 stack's BookingBusName output names the bus)"
            );
            publish_into(
                &store,
                line.as_ref(),
                &shared::reservations::events::NoEvents,
                schedule,
                cancel_bookings,
                now,
            )
            .await
        }
    }
}

#[cfg(not(feature = "aws"))]
async fn publish_to_table(
    _table: &str,
    _event_bus: Option<&str>,
    _schedule: Schedule,
    _cancel_bookings: bool,
    _now: DateTime<Utc>,
) -> anyhow::Result<String> {
    Err(anyhow!(
        "the file is valid, but `reservations publish --table` talks to AWS, and this sukusuku \
         was built without the `aws` feature; run it as \
         `cargo run --release -p sukusuku --features aws -- reservations publish …`"
    ))
}

/// Bookings, cancellations and absences as CSV for Excel: UTF-8 with a BOM (so Excel reads
/// the Japanese), CRLF, one row per booking, no LINE user id.
pub fn export_csv(
    bookings: &[Booking],
    services: &[Service],
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record([
        "予約番号",
        "サービス",
        "サービスID",
        "日付",
        "開始",
        "状態",
        "欠席の理由",
        "取り消し",
        "対象",
        "予約日時",
        "変更日時",
    ])?;
    for b in bookings {
        let name = services
            .iter()
            .find(|s| s.id == b.slot.service)
            .map_or("", |s| s.name.as_str());
        let (status, reason, by, changed) = match &b.status {
            BookingStatus::Booked => ("予約中", "", "", String::new()),
            BookingStatus::Cancelled { at, by } => (
                "キャンセル",
                "",
                match by {
                    CancelledBy::Resident => "本人",
                    CancelledBy::Stop => "配信停止",
                    CancelledBy::Staff => "市（日程変更）",
                },
                jst(*at),
            ),
            BookingStatus::Absent { at, reason } => ("欠席", reason.label(), "", jst(*at)),
        };
        let whom = match b.booked_for.as_str() {
            "resident" => "本人",
            "pregnancy" => "妊娠中",
            _ => "お子さま",
        };
        w.write_record([
            b.id.as_str(),
            name,
            b.slot.service.as_str(),
            &b.slot.date.format("%Y-%m-%d").to_string(),
            &b.slot.start_label(),
            status,
            reason,
            by,
            whom,
            &jst(b.booked_at),
            &changed,
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn jst(at: DateTime<Utc>) -> String {
    at.with_timezone(&shared::dates::tokyo())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The bookings an export covers: one day, or from a year back to a year ahead.
pub async fn export_from<S: BookingStore>(
    store: &S,
    service: Option<&ServiceId>,
    date: Option<NaiveDate>,
    today: NaiveDate,
) -> anyhow::Result<(Vec<Booking>, Vec<Service>)> {
    let (from, to) = match date {
        Some(d) => (d, d),
        None => (
            today - chrono::Duration::days(366),
            today + chrono::Duration::days(366),
        ),
    };
    let services = store.services().await?;
    if let Some(id) = service
        && !services.iter().any(|s| s.id == *id)
    {
        let known: Vec<&str> = services.iter().map(|s| s.id.as_str()).collect();
        return Err(anyhow!(
            "--service {id}: no such service; published: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    }
    let bookings = store
        .bookings_between(from, to)
        .await?
        .into_iter()
        .filter(|b| service.is_none_or(|id| b.slot.service == *id))
        .collect();
    Ok((bookings, services))
}

pub fn export(
    target: Target<'_>,
    service: Option<&str>,
    date: Option<NaiveDate>,
) -> anyhow::Result<()> {
    let service = match service {
        Some(raw) => Some(
            ServiceId::parse(raw).ok_or_else(|| anyhow!("--service {raw}: not a service id"))?,
        ),
        None => None,
    };
    let today = tokyo_date(Utc::now());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (bookings, services) = runtime.block_on(async {
        match target {
            Target::Data(dir) => {
                let store = LocalStore::open(dir)
                    .with_context(|| format!("cannot open the data directory {}", dir.display()))?;
                export_from(&store, service.as_ref(), date, today).await
            }
            Target::Table { table, .. } => export_table(table, service.as_ref(), date, today).await,
        }
    })?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    export_csv(&bookings, &services, &mut out)
}

#[cfg(feature = "aws")]
async fn export_table(
    table: &str,
    service: Option<&ServiceId>,
    date: Option<NaiveDate>,
    today: NaiveDate,
) -> anyhow::Result<(Vec<Booking>, Vec<Service>)> {
    let config = shared::aws::sdk_config().await;
    let store = shared::aws::DynamoStore::from_config(&config, table);
    export_from(&store, service, date, today).await
}

#[cfg(not(feature = "aws"))]
async fn export_table(
    _table: &str,
    _service: Option<&ServiceId>,
    _date: Option<NaiveDate>,
    _today: NaiveDate,
) -> anyhow::Result<(Vec<Booking>, Vec<Service>)> {
    Err(anyhow!(
        "`reservations export --table` talks to AWS, and this sukusuku was built without the \
         `aws` feature; run it as `cargo run --release -p sukusuku --features aws -- reservations export …`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use shared::domain::{Resident, UserId};
    use shared::line::{LineCall, MemoryLineApi};
    use shared::reservations::events::{BookingEventKind, MemoryEvents};
    use shared::reservations::{BookingFor, BookingId, SlotRef};
    use shared::store::BookingRequest;

    const FILE: &str = "services:\n  - id: consult\n    name: 育児相談\n    place: 保健センター\n    who: anyone\n    many_per_resident: true\nslots:\n  - {service: consult, date: 2027-01-15, start: \"10:00\", end: \"11:00\", capacity: 3}\n  - {service: consult, date: 2027-01-16, start: \"10:00\", end: \"11:00\", capacity: 3}\n";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 4, 1, 0, 0)
            .single()
            .expect("t")
    }

    fn schedule(text: &str) -> Schedule {
        load_schedule(
            "r.yaml",
            text.as_bytes(),
            |_| Err("none".into()),
            tokyo_date(now()),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn book(store: &LocalStore, n: u32, slot: &str, minutes: i64) -> Booking {
        let user = UserId::parse(&format!("Ures{n}")).expect("id");
        let r = store
            .save_resident(&Resident::new(user.clone()), None)
            .await
            .expect("save");
        store
            .book(&BookingRequest {
                id: BookingId::derive(&format!("b{n}")),
                user,
                resident_version: r.version,
                slot: SlotRef::parse(slot).expect("slot"),
                booked_for: BookingFor::parse("resident").expect("for"),
                one_per_resident: false,
                now: now() + chrono::Duration::minutes(minutes),
                claim: None,
            })
            .await
            .expect("booked")
    }

    #[tokio::test]
    async fn a_publish_that_strands_bookings_is_refused_then_cancels_the_latest_and_tells_them() {
        let store = LocalStore::in_memory();
        let line = MemoryLineApi::new();
        let events = MemoryEvents::new();
        publish_into(&store, Some(&line), &events, schedule(FILE), false, now())
            .await
            .expect("first publish");
        let early = book(&store, 1, "consult@2027-01-15T10:00", 1).await;
        let late = book(&store, 2, "consult@2027-01-15T10:00", 2).await;
        let gone = book(&store, 3, "consult@2027-01-16T10:00", 3).await;
        // The 15th shrinks to one seat, the 16th is dropped.
        let smaller = FILE
            .replace("capacity: 3}\n  - {service: consult, date: 2027-01-16, start: \"10:00\", end: \"11:00\", capacity: 3}\n", "capacity: 1}\n");
        let refused = publish_into(
            &store,
            Some(&line),
            &events,
            schedule(&smaller),
            false,
            now(),
        )
        .await
        .expect_err("refused");
        let text = refused.to_string();
        assert!(text.contains("nothing was published: 2 bookings"), "{text}");
        assert!(
            text.contains(late.id.as_str()) && text.contains(gone.id.as_str()),
            "{text}"
        );
        assert!(
            !text.contains(early.id.as_str()),
            "the earliest keeps the seat: {text}"
        );
        assert!(line.calls().is_empty());
        assert_eq!(
            store
                .slot_states(&early.slot.service, early.slot.date, gone.slot.date)
                .await
                .expect("slots")
                .len(),
            2,
            "nothing changed"
        );
        // Without a way to tell them, nothing happens either.
        publish_into::<_, MemoryLineApi, _>(&store, None, &events, schedule(&smaller), true, now())
            .await
            .expect_err("needs LINE");
        let report = publish_into(
            &store,
            Some(&line),
            &events,
            schedule(&smaller),
            true,
            now(),
        )
        .await
        .expect("published with cancellations");
        assert!(
            report.contains("2 bookings cancelled, 2 residents told"),
            "{report}"
        );
        let told: Vec<String> = line
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                LineCall::Push { messages, .. } => Some(messages[0].plain_text().into_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(told.len(), 2);
        assert!(
            told.iter().all(|t| t.contains("予約取り消しのお知らせ")),
            "{told:?}"
        );
        let kinds: Vec<_> = events.events().iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec![BookingEventKind::Cancelled; 2]);
        // Staff see all three in the export, with what happened.
        let (bookings, services) = export_from(&store, None, None, tokyo_date(now()))
            .await
            .expect("export");
        let mut csv = Vec::new();
        export_csv(&bookings, &services, &mut csv).expect("csv");
        let csv = String::from_utf8(csv).expect("utf-8");
        assert!(csv.starts_with('\u{feff}'), "a BOM for Excel");
        assert!(csv.contains("\r\n"), "CRLF for Excel");
        assert_eq!(csv.matches("市（日程変更）").count(), 2, "{csv}");
        assert_eq!(csv.matches("予約中").count(), 1, "{csv}");
        assert!(!csv.contains("Ures"), "no LINE user id: {csv}");
    }

    /// Lowering a capacity takes back a seat held for the waiting list before any booking,
    /// and that resident is told, keeping their place; a removed slot's list ends, told.
    #[tokio::test]
    async fn a_lower_capacity_takes_back_held_seats_and_tells_the_residents() {
        use shared::store::WaitRequest;
        let store = LocalStore::in_memory();
        let line = MemoryLineApi::new();
        let events = MemoryEvents::new();
        publish_into(&store, Some(&line), &events, schedule(FILE), false, now())
            .await
            .expect("first publish");
        for n in 1..=3 {
            book(&store, n, "consult@2027-01-15T10:00", n as i64).await;
        }
        let waiter = UserId::parse("Uwaiter").expect("id");
        let r = store
            .save_resident(&Resident::new(waiter.clone()), None)
            .await
            .expect("save");
        let slot = SlotRef::parse("consult@2027-01-15T10:00").expect("slot");
        store
            .join_waitlist(&WaitRequest {
                user: waiter.clone(),
                resident_version: r.version,
                slot: slot.clone(),
                booked_for: BookingFor::parse("resident").expect("for"),
                now: now(),
                claim: None,
            })
            .await
            .expect("joined");
        // Staff add a seat: it is held for the one in line.
        let bigger = FILE.replacen("capacity: 3}", "capacity: 4}", 1);
        publish_into(
            &store,
            Some(&line),
            &events,
            schedule(&bigger),
            false,
            now(),
        )
        .await
        .expect("bigger");
        let offered = store
            .offer_seats(&slot, Some(now() + chrono::Duration::hours(24)), now())
            .await
            .expect("offer");
        assert_eq!(offered.offered.len(), 1);
        // Then think better of it: the held seat goes, no booking does.
        let report = publish_into(&store, Some(&line), &events, schedule(FILE), false, now())
            .await
            .expect("back to three");
        assert!(
            report.contains("0 bookings cancelled")
                && report.contains(
                    "1 seat held for a waiting list taken back by a lower capacity, 1 told"
                ),
            "{report}"
        );
        let told: Vec<String> = line
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                LineCall::Push { to, messages, .. } if to == waiter => {
                    Some(messages[0].plain_text().into_owned())
                }
                _ => None,
            })
            .collect();
        assert_eq!(told.len(), 1);
        assert!(
            told[0].contains("キャンセル待ちの順番はそのままです"),
            "{}",
            told[0]
        );
        let mine = store.waiting_of(&waiter).await.expect("mine");
        assert_eq!(mine[0].offered_until, None, "back in line");
        // Without a way to tell them, a publish that ends their wait is refused.
        let without = FILE.replacen(
            "  - {service: consult, date: 2027-01-15, start: \"10:00\", end: \"11:00\", capacity: 3}\n",
            "",
            1,
        );
        let refused = publish_into::<_, MemoryLineApi, _>(
            &store,
            None,
            &events,
            schedule(&without),
            true,
            now(),
        )
        .await
        .expect_err("refused");
        assert!(
            refused.to_string().contains("LINE_CHANNEL_ACCESS_TOKEN"),
            "{refused}"
        );
        assert_eq!(store.waiting_of(&waiter).await.expect("mine").len(), 1);
    }

    #[tokio::test]
    async fn past_slots_and_their_bookings_are_left_alone() {
        let store = LocalStore::in_memory();
        let events = MemoryEvents::new();
        publish_into::<_, MemoryLineApi, _>(&store, None, &events, schedule(FILE), false, now())
            .await
            .expect("publish");
        let held = book(&store, 1, "consult@2027-01-15T10:00", 1).await;
        // A week later the file no longer lists the 15th (it is past): its booking stays.
        let later = now() + chrono::Duration::days(12);
        let next = "services:\n  - id: consult\n    name: 育児相談\n    place: 保健センター\n    who: anyone\nslots:\n  - {service: consult, date: 2027-01-20, start: \"10:00\", end: \"11:00\", capacity: 3}\n";
        let file = load_schedule(
            "r.yaml",
            next.as_bytes(),
            |_| Err("none".into()),
            tokyo_date(later),
        )
        .expect("valid");
        publish_into::<_, MemoryLineApi, _>(&store, None, &events, file, false, later)
            .await
            .expect("publish without touching the past");
        let kept = store.bookings_of(&held.user).await.expect("bookings");
        assert!(kept[0].is_active());
        assert_eq!(
            store
                .slot_states(&held.slot.service, held.slot.date, held.slot.date)
                .await
                .expect("slots")[0]
                .booked,
            1
        );
    }
}
