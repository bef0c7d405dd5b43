//! Reservations (予約): the services a city lets residents book in LINE (母子手帳交付,
//! 妊婦面談, 乳幼児健診, 相談 …), their slots, and the bookings residents hold. Pure domain:
//! the store keeps slots and bookings, the conversation offers them, and a booking is taken
//! only where a seat is left — the store makes that one atomic step, so no slot is ever
//! overbooked, whatever the concurrency.
//!
//! Staff define services and slots in a file ([`file`]); `sukusuku reservations publish`
//! validates it and turns it into a [`Schedule`], which [`Schedule::changes_from`] compares
//! with what is stored, refusing to strand booked residents unless told to.

pub mod events;
pub mod file;
pub mod waitlist;

pub use waitlist::{Waiting, Waitlist};

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::dates;
use crate::domain::{PREGNANCY_SUBJECT, Resident, UserId};

/// Longest service id: it travels in postback data (300 characters) with a slot and child.
pub const MAX_SERVICE_ID_CHARS: usize = 32;

/// A service's id, as staff wrote it: letters, digits, `-` and `_`, starting with a letter or
/// digit (the same rule as catalog ids, so postbacks and keys never need escaping).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceId(String);

impl ServiceId {
    pub fn parse(raw: &str) -> Option<ServiceId> {
        let ok = raw.chars().count() <= MAX_SERVICE_ID_CHARS
            && raw
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        ok.then(|| ServiceId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One slot of a service: a date and a start time (a service has at most one slot starting
/// at a given minute). Written `service@2027-01-15T13:30` in postbacks, keys and exports.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SlotRef {
    pub service: ServiceId,
    pub date: NaiveDate,
    pub start: NaiveTime,
}

impl SlotRef {
    /// `2027-01-15T13:30`: the slot within its service, sorting by time.
    pub fn when_key(&self) -> String {
        format!(
            "{}T{}",
            self.date.format("%Y-%m-%d"),
            self.start.format("%H:%M")
        )
    }

    /// `service@202701151330`: the slot in postback data (no `:`, which separates fields).
    pub fn token(&self) -> String {
        format!(
            "{}@{}{}",
            self.service,
            self.date.format("%Y%m%d"),
            self.start.format("%H%M")
        )
    }

    pub fn from_token(raw: &str) -> Option<SlotRef> {
        let (service, when) = raw.split_once('@')?;
        if when.len() != 12 || !when.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (date, time) = when.split_at(8);
        Some(SlotRef {
            service: ServiceId::parse(service)?,
            date: NaiveDate::parse_from_str(date, "%Y%m%d").ok()?,
            start: NaiveTime::from_hms_opt(time[..2].parse().ok()?, time[2..].parse().ok()?, 0)?,
        })
    }

    /// 13:30
    pub fn start_label(&self) -> String {
        self.start.format("%H:%M").to_string()
    }

    pub fn parse(raw: &str) -> Option<SlotRef> {
        let (service, when) = raw.split_once('@')?;
        let (date, start) = when.split_once('T')?;
        Some(SlotRef {
            service: ServiceId::parse(service)?,
            date: dates::parse_ymd(date)?,
            start: parse_hm(start)?,
        })
    }
}

impl fmt::Display for SlotRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.service, self.when_key())
    }
}

impl fmt::Debug for SlotRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `13:30` (or `9:05`): a time of day, to the minute.
pub fn parse_hm(raw: &str) -> Option<NaiveTime> {
    let (h, m) = raw.trim().split_once(':')?;
    if m.len() != 2 || h.is_empty() || h.len() > 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// A bound of an age or pregnancy window, as staff count it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Age {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub years: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub months: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weeks: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub days: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Age {
    /// The day a child born on `birth` reaches this age (a missing day clamps to the month's
    /// end, as catalog milestones do).
    fn reached_on(self, birth: NaiveDate) -> Option<NaiveDate> {
        let months = self.years.checked_mul(12)?.checked_add(self.months)?;
        let day = birth.checked_add_months(chrono::Months::new(months))?;
        day.checked_add_signed(Duration::days(self.weeks as i64 * 7 + self.days as i64))
    }

    /// Gestational age in days (months and years are refused for pregnancies by the file).
    fn gestational_days(self) -> i64 {
        self.weeks as i64 * 7 + self.days as i64
    }

    /// 3か月 / 1歳6か月 / 28週 — how a resident reads it.
    pub fn label(self) -> String {
        let mut out = String::new();
        if self.years > 0 {
            out.push_str(&format!("{}歳", self.years));
        }
        if self.months > 0 {
            out.push_str(&format!("{}か月", self.months));
        }
        if self.weeks > 0 {
            out.push_str(&format!("{}週", self.weeks));
        }
        if self.days > 0 || out.is_empty() {
            out.push_str(&format!("{}日", self.days));
        }
        out
    }
}

/// Who may book a service, judged on the slot's date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Eligibility {
    /// Any resident (相談, 母子手帳交付 …).
    Anyone,
    /// A registered pregnancy whose gestational age on the slot's date is at least `from`
    /// and, if given, less than `before`.
    Pregnant {
        from: Option<Age>,
        before: Option<Age>,
    },
    /// A registered child whose age on the slot's date is at least `from` and, if given, less
    /// than `before` (`{months: 3}`..`{months: 5}`: 3か月0日 to the day before 5か月).
    Child {
        from: Option<Age>,
        before: Option<Age>,
    },
}

/// Who a booking is for: the resident themself, their pregnancy, or one child.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BookingFor(pub String);

/// The resident themself (a service open to anyone).
pub const FOR_RESIDENT: &str = "resident";
/// Whichever registration may book (a notice's 予約する, sent to many residents at once,
/// cannot name each one's child): the chat asks when more than one may.
pub const FOR_ANY: &str = "any";

impl BookingFor {
    /// `resident`, `pregnancy` or a child id (`c1` …), as postback data carries it.
    pub fn parse(raw: &str) -> Option<BookingFor> {
        let child = raw.len() >= 2
            && raw.len() <= 8
            && raw.starts_with('c')
            && raw[1..].bytes().all(|b| b.is_ascii_digit());
        (raw == FOR_RESIDENT || raw == PREGNANCY_SUBJECT || raw == FOR_ANY || child)
            .then(|| BookingFor(raw.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Eligibility {
    /// Whom of this resident's registrations the service may be booked for on `day`, in the
    /// order the chat offers them.
    pub fn who_may_book(&self, resident: &Resident, day: NaiveDate) -> Vec<BookingFor> {
        match self {
            Eligibility::Anyone => vec![BookingFor(FOR_RESIDENT.into())],
            Eligibility::Pregnant { from, before } => resident
                .pregnancy
                .iter()
                .filter(|p| {
                    let ga = dates::gestational_age_days(p.due_date, day);
                    from.is_none_or(|f| ga >= f.gestational_days())
                        && before.is_none_or(|b| ga < b.gestational_days())
                        && ga >= 0
                })
                .map(|_| BookingFor(PREGNANCY_SUBJECT.into()))
                .collect(),
            Eligibility::Child { from, before } => resident
                .children
                .iter()
                .filter(|c| {
                    c.birth_date <= day
                        && from.is_none_or(|f| f.reached_on(c.birth_date).is_some_and(|d| d <= day))
                        && before
                            .is_none_or(|b| b.reached_on(c.birth_date).is_some_and(|d| day < d))
                })
                .map(|c| BookingFor(c.id.clone()))
                .collect(),
        }
    }
}

/// A service staff offer for booking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub id: ServiceId,
    /// 4か月児健診: the title residents see (at most 40 characters).
    pub name: String,
    /// 保健センター 2階: where it takes place.
    pub place: String,
    #[serde(default)]
    pub description: String,
    pub who: Eligibility,
    /// Bookings open this many days before the slot's date …
    pub opens_days_before: u32,
    /// … and close this many days before it (0: until the slot starts).
    pub closes_days_before: u32,
    /// Whether one resident may hold more than one future booking of this service.
    pub many_per_resident: bool,
    /// The reminder goes out this many days before (0: no reminder).
    pub remind_days_before: u32,
    /// How long a freed seat is held for the first resident on its waiting list.
    #[serde(default = "default_offer_hours")]
    pub offer_hours: u32,
    /// The name and description for やさしい日本語 readers, where staff wrote them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easy_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub easy_description: Option<String>,
}

fn default_offer_hours() -> u32 {
    waitlist::DEFAULT_OFFER_HOURS
}

impl Service {
    /// The name as this reader reads it.
    pub fn name_for(&self, easy: bool) -> &str {
        match &self.easy_name {
            Some(n) if easy => n,
            _ => &self.name,
        }
    }

    pub fn description_for(&self, easy: bool) -> &str {
        match &self.easy_description {
            Some(d) if easy => d,
            _ => &self.description,
        }
    }

    /// Whether a slot of this service has seats and will open for booking after `now`.
    pub fn is_open_later(&self, state: &SlotState, now: DateTime<Utc>) -> bool {
        let today = dates::tokyo_date(now);
        let opens = state.slot.slot.date - Duration::days(self.opens_days_before as i64);
        state.seats_left() > 0 && opens > today
    }

    /// Whether a slot of this service can be booked (or a seat taken) at `now`.
    pub fn is_open(&self, slot: &Slot, now: DateTime<Utc>) -> bool {
        let today = dates::tokyo_date(now);
        let starts = slot.starts_at();
        let opens = slot.slot.date - Duration::days(self.opens_days_before as i64);
        let closes = slot.slot.date - Duration::days(self.closes_days_before as i64);
        today >= opens && today <= closes && now < starts
    }
}

/// A slot with its capacity, as staff defined it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub slot: SlotRef,
    pub end: NaiveTime,
    pub capacity: u32,
}

impl Slot {
    /// When the slot starts, as an instant (Asia/Tokyo is a fixed +09:00).
    pub fn starts_at(&self) -> DateTime<Utc> {
        dates::tokyo_at(self.slot.date, self.slot.start)
    }
}

/// A slot as stored, with its seats taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotState {
    pub slot: Slot,
    /// Seats held by bookings.
    pub booked: u32,
    /// Seats held for residents of the waiting list who were offered them.
    pub offered: u32,
    /// Residents on the waiting list who have no offer yet.
    pub waiting: u32,
}

impl SlotState {
    /// Seats anyone may book now: none while someone waits, since a freed seat is theirs.
    pub fn seats_left(&self) -> u32 {
        if self.waiting > 0 {
            return 0;
        }
        self.slot
            .capacity
            .saturating_sub(self.booked.saturating_add(self.offered))
    }
}

/// Why a resident was absent (欠席連絡), as the chat offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceReason {
    /// 体調不良
    Illness,
    /// 都合が悪くなった
    Inconvenient,
    /// その他
    Other,
}

impl AbsenceReason {
    pub fn label(self) -> &'static str {
        match self {
            AbsenceReason::Illness => "体調不良",
            AbsenceReason::Inconvenient => "都合が悪くなった",
            AbsenceReason::Other => "その他",
        }
    }
}

/// Where a booking stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum BookingStatus {
    Booked,
    /// Cancelled by the resident, by a stop (配信停止 / block), or by staff removing the slot.
    Cancelled {
        at: DateTime<Utc>,
        by: CancelledBy,
    },
    /// A 欠席連絡: the seat is released and staff see the reason.
    Absent {
        at: DateTime<Utc>,
        reason: AbsenceReason,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    Resident,
    Stop,
    Staff,
}

/// A resident's booking of one slot. Its id is the 予約番号 a resident shows at the counter
/// and staff see in the export: it carries no personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    pub user: UserId,
    pub slot: SlotRef,
    pub booked_for: BookingFor,
    pub booked_at: DateTime<Utc>,
    pub status: BookingStatus,
}

impl Booking {
    pub fn is_active(&self) -> bool {
        self.status == BookingStatus::Booked
    }
}

/// 予約番号: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), derived from
/// the webhook event that made the booking, so a redelivered event names the same booking.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BookingId(String);

const BOOKING_ID_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const BOOKING_ID_LEN: usize = 8;

impl BookingId {
    /// From any unique seed (the webhook event id, with the slot): a hash, so the number
    /// reveals nothing of the seed.
    pub fn derive(seed: &str) -> BookingId {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(seed.as_bytes());
        let id = digest
            .iter()
            .take(BOOKING_ID_LEN)
            .map(|b| BOOKING_ID_ALPHABET[*b as usize % BOOKING_ID_ALPHABET.len()] as char)
            .collect();
        BookingId(id)
    }

    pub fn parse(raw: &str) -> Option<BookingId> {
        (raw.len() == BOOKING_ID_LEN && raw.bytes().all(|b| BOOKING_ID_ALPHABET.contains(&b)))
            .then(|| BookingId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BookingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for BookingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which of a slot's active bookings give their seat back when the slot keeps only `keep`
/// seats: the latest booked first (a move keeps its booking time; ties by 予約番号), so
/// whoever booked first keeps theirs. The one rule for a publish and for its refusal's list
/// (DynamoDB orders its holders the same way).
pub fn giving_way(mut held: Vec<&Booking>, keep: usize) -> Vec<&Booking> {
    held.sort_by(|a, b| (a.booked_at, &a.id).cmp(&(b.booked_at, &b.id)));
    held.into_iter().skip(keep).rev().collect()
}

/// Everything staff publish: the services and their slots, validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    pub services: BTreeMap<ServiceId, Service>,
    pub slots: BTreeMap<SlotRef, Slot>,
}

/// What a publish changes, compared with what is stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScheduleChanges {
    pub added: Vec<SlotRef>,
    pub removed: Vec<SlotRef>,
    /// Capacity changed: (slot, old, new).
    pub resized: Vec<(SlotRef, u32, u32)>,
    /// Slots that would be removed or shrunk below what is booked, and the bookings that
    /// would lose their seat (the newest first go, so the earliest bookers keep theirs).
    pub stranded: Vec<Stranded>,
}

/// A slot a publish takes seats from that residents hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stranded {
    pub slot: SlotRef,
    /// The new capacity; `None`: the slot is removed.
    pub capacity: Option<u32>,
    pub booked: u32,
}

impl Schedule {
    /// What publishing `self` changes over `stored` (slots with their seats taken).
    pub fn changes_from(&self, stored: &[SlotState]) -> ScheduleChanges {
        let mut changes = ScheduleChanges::default();
        let old: BTreeMap<&SlotRef, &SlotState> =
            stored.iter().map(|s| (&s.slot.slot, s)).collect();
        for (r, slot) in &self.slots {
            match old.get(r) {
                None => changes.added.push(r.clone()),
                Some(s) => {
                    if s.slot.capacity != slot.capacity {
                        changes
                            .resized
                            .push((r.clone(), s.slot.capacity, slot.capacity));
                    }
                    if s.booked > slot.capacity {
                        changes.stranded.push(Stranded {
                            slot: r.clone(),
                            capacity: Some(slot.capacity),
                            booked: s.booked,
                        });
                    }
                }
            }
        }
        for (r, s) in old {
            if !self.slots.contains_key(r) {
                changes.removed.push(r.clone());
                if s.booked > 0 {
                    changes.stranded.push(Stranded {
                        slot: r.clone(),
                        capacity: None,
                        booked: s.booked,
                    });
                }
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Child, Pregnancy};

    fn d(s: &str) -> NaiveDate {
        dates::parse_ymd(s).expect("test date")
    }

    #[test]
    fn slot_refs_round_trip_and_refuse_garbage() {
        let r = SlotRef::parse("4m-checkup@2027-01-15T13:30").expect("parses");
        assert_eq!(r.to_string(), "4m-checkup@2027-01-15T13:30");
        assert_eq!(r.when_key(), "2027-01-15T13:30");
        assert_eq!(r.token(), "4m-checkup@202701151330");
        assert_eq!(SlotRef::from_token(&r.token()), Some(r.clone()));
        for bad in [
            "4m@20270230T1330",
            "4m@202701151360",
            "4m@2027011513",
            "@202701151330",
        ] {
            assert_eq!(SlotRef::from_token(bad), None, "{bad}");
        }
        for bad in [
            "",
            "x",
            "4m@2027-02-30T13:30",
            "4m@2027-01-15T25:00",
            "4m@2027-01-15T13:3",
            "-x@2027-01-15T13:30",
            "a b@2027-01-15T13:30",
        ] {
            assert_eq!(SlotRef::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn booking_ids_are_stable_short_and_unambiguous() {
        let a = BookingId::derive("event-1/slot");
        assert_eq!(a, BookingId::derive("event-1/slot"));
        assert_ne!(a, BookingId::derive("event-2/slot"));
        assert_eq!(a.as_str().len(), 8);
        assert!(!a.as_str().contains(['0', 'O', '1', 'I', 'L']));
        assert_eq!(BookingId::parse(a.as_str()), Some(a));
        assert_eq!(BookingId::parse("ABC"), None);
    }

    #[test]
    fn eligibility_follows_age_and_pregnancy_on_the_slots_date() {
        let mut r = Resident::new(UserId::parse("U1").expect("id"));
        r.pregnancy = Some(Pregnancy {
            due_date: d("2027-03-01"),
        });
        r.children = vec![
            Child {
                id: "c1".into(),
                birth_date: d("2026-09-15"),
                nickname: None,
            },
            Child {
                id: "c2".into(),
                birth_date: d("2024-01-31"),
                nickname: None,
            },
        ];
        let four_months = Eligibility::Child {
            from: Some(Age {
                months: 3,
                ..Age::default()
            }),
            before: Some(Age {
                months: 5,
                ..Age::default()
            }),
        };
        // c1 is 3 months on 2026-12-15 and 5 months on 2027-02-15.
        assert!(four_months.who_may_book(&r, d("2026-12-14")).is_empty());
        assert_eq!(
            four_months.who_may_book(&r, d("2026-12-15")),
            vec![BookingFor("c1".into())]
        );
        assert_eq!(four_months.who_may_book(&r, d("2027-02-14")).len(), 1);
        assert!(four_months.who_may_book(&r, d("2027-02-15")).is_empty());
        let late_pregnancy = Eligibility::Pregnant {
            from: Some(Age {
                weeks: 28,
                ..Age::default()
            }),
            before: None,
        };
        // 28w0d is 84 days before the due date.
        assert!(late_pregnancy.who_may_book(&r, d("2026-12-06")).is_empty());
        assert_eq!(
            late_pregnancy.who_may_book(&r, d("2026-12-07")),
            vec![BookingFor(PREGNANCY_SUBJECT.into())]
        );
        assert_eq!(
            Eligibility::Anyone.who_may_book(&r, d("2026-12-07")),
            vec![BookingFor(FOR_RESIDENT.into())]
        );
    }

    fn slot(r: &str, capacity: u32) -> Slot {
        let slot = SlotRef::parse(r).expect("slot");
        Slot {
            end: slot.start,
            slot,
            capacity,
        }
    }

    #[test]
    fn a_publish_names_the_slots_whose_booked_seats_it_would_take() {
        let stored = vec![
            SlotState {
                slot: slot("s@2027-01-15T10:00", 10),
                booked: 6,
                offered: 0,
                waiting: 0,
            },
            SlotState {
                slot: slot("s@2027-01-15T13:00", 10),
                booked: 2,
                offered: 0,
                waiting: 0,
            },
            SlotState {
                slot: slot("s@2027-01-16T10:00", 10),
                booked: 0,
                offered: 0,
                waiting: 0,
            },
        ];
        let mut schedule = Schedule::default();
        for (r, c) in [("s@2027-01-15T10:00", 5), ("s@2027-01-17T10:00", 8)] {
            let s = slot(r, c);
            schedule.slots.insert(s.slot.clone(), s);
        }
        let changes = schedule.changes_from(&stored);
        assert_eq!(changes.added.len(), 1);
        assert_eq!(changes.removed.len(), 2);
        assert_eq!(changes.resized.len(), 1);
        assert_eq!(
            changes.stranded,
            vec![
                Stranded {
                    slot: SlotRef::parse("s@2027-01-15T10:00").expect("slot"),
                    capacity: Some(5),
                    booked: 6
                },
                Stranded {
                    slot: SlotRef::parse("s@2027-01-15T13:00").expect("slot"),
                    capacity: None,
                    booked: 2
                },
            ]
        );
    }
}
