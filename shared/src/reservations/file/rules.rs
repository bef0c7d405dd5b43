//! The rules a well-shaped reservations file can still break: a service's id, texts, who
//! may book it and its booking window; a slot's service, date, times and capacity, and how
//! it sits beside the service's other slots that day.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDate};
use serde_saphyr::Spanned;

use super::shape::{AgeFile, ServiceFile, WhoFile, WindowFile};
use super::{
    MAX_CAPACITY, MAX_DAYS_BEFORE, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_PLACE_CHARS,
    MAX_SERVICES, Place, Problems, RawField, RawSlot, values,
};
use crate::catalog::MAX_GESTATION_DAYS;
use crate::catalog::problem::{entry_name, line_of};
use crate::reservations::waitlist::{DEFAULT_OFFER_HOURS, MAX_OFFER_HOURS};
use crate::reservations::{
    Age, Eligibility, MAX_SERVICE_ID_CHARS, Service, ServiceId, Slot, SlotRef,
};

const DEFAULT_OPENS_DAYS_BEFORE: u32 = 60;
const DEFAULT_CLOSES_DAYS_BEFORE: u32 = 1;
const DEFAULT_REMIND_DAYS_BEFORE: u32 = 1;

/// The valid services of `list`, after adding the problems of the others.
pub(super) fn services(
    p: &mut Problems,
    list: &[Spanned<ServiceFile>],
) -> BTreeMap<ServiceId, Service> {
    let file = Place::main("");
    if list.is_empty() {
        p.add(
            &file,
            None,
            "services",
            "the file defines no services; list them under `services:`",
        );
    }
    if let Some(extra) = list.get(MAX_SERVICES) {
        p.add(
            &file,
            line_of(extra.referenced),
            "services",
            format!(
                "lists {} services; at most {MAX_SERVICES} can be offered",
                list.len()
            ),
        );
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut out = BTreeMap::new();
    for (i, s) in list.iter().enumerate() {
        let s = &s.value;
        let place = Place::main(entry_name("services", i, Some(&s.id.value)));
        let problems_before = p.0.len();
        let id_line = line_of(s.id.referenced);
        let id = ServiceId::parse(&s.id.value);
        if id.is_none() {
            p.add(
                &place,
                id_line,
                "id",
                format!(
                    "use 1–{MAX_SERVICE_ID_CHARS} letters, digits, '-' or '_', starting with a \
                     letter or digit"
                ),
            );
        } else if let Some(first) = seen.get(s.id.value.as_str()) {
            p.add(
                &place,
                id_line,
                "id",
                format!("`{}` is used twice (also services[{first}])", s.id.value),
            );
        } else {
            seen.insert(&s.id.value, i);
        }
        let name = text(p, &place, "name", &s.name, MAX_NAME_CHARS, Lines::One);
        let where_ = text(p, &place, "place", &s.place, MAX_PLACE_CHARS, Lines::One);
        let description = s
            .description
            .as_ref()
            .map(|d| {
                text(
                    p,
                    &place,
                    "description",
                    d,
                    MAX_DESCRIPTION_CHARS,
                    Lines::Many,
                )
            })
            .unwrap_or_default();
        let easy_name = s
            .easy_name
            .as_ref()
            .map(|n| text(p, &place, "easy_name", n, MAX_NAME_CHARS, Lines::One));
        let easy_description = s.easy_description.as_ref().map(|d| {
            text(
                p,
                &place,
                "easy_description",
                d,
                MAX_DESCRIPTION_CHARS,
                Lines::Many,
            )
        });
        let who = who(p, &place, &s.who);
        let opens = days(
            p,
            &place,
            "opens_days_before",
            s.opens_days_before.as_ref(),
            DEFAULT_OPENS_DAYS_BEFORE,
        );
        let closes = days(
            p,
            &place,
            "closes_days_before",
            s.closes_days_before.as_ref(),
            DEFAULT_CLOSES_DAYS_BEFORE,
        );
        let remind = days(
            p,
            &place,
            "remind_days_before",
            s.remind_days_before.as_ref(),
            DEFAULT_REMIND_DAYS_BEFORE,
        );
        let offer_hours = offer_hours(p, &place, s.offer_hours.as_ref());
        if closes > opens {
            let line = s
                .closes_days_before
                .as_ref()
                .or(s.opens_days_before.as_ref())
                .and_then(|d| line_of(d.referenced));
            p.add(
                &place,
                line,
                "closes_days_before",
                format!(
                    "bookings would close {closes} days before the slot, before they open \
                     ({opens} days before); closes_days_before must be at most \
                     opens_days_before"
                ),
            );
        }
        if let (Some(id), true) = (id, p.0.len() == problems_before) {
            out.insert(
                id.clone(),
                Service {
                    id,
                    name,
                    place: where_,
                    description,
                    who,
                    opens_days_before: opens,
                    closes_days_before: closes,
                    many_per_resident: s.many_per_resident,
                    remind_days_before: remind,
                    offer_hours,
                    easy_name,
                    easy_description,
                },
            );
        }
    }
    out
}

#[derive(PartialEq)]
enum Lines {
    One,
    Many,
}

/// A text residents read: not empty, not too long, on one line where it is a title.
/// Returns it trimmed.
fn text(
    p: &mut Problems,
    place: &Place,
    field: &str,
    written: &Spanned<String>,
    max_chars: usize,
    lines: Lines,
) -> String {
    let trimmed = written.value.trim();
    let line = line_of(written.referenced);
    let chars = trimmed.chars().count();
    if chars == 0 && lines == Lines::One {
        p.add(place, line, field, "is empty");
    } else if chars > max_chars {
        p.add(
            place,
            line,
            field,
            format!("has {chars} characters; at most {max_chars} fit where residents read it"),
        );
    } else if trimmed
        .chars()
        .any(|c| c.is_control() && (lines == Lines::One || c != '\n'))
    {
        p.add(
            place,
            line,
            field,
            match lines {
                Lines::One => "must be one line of text",
                Lines::Many => "holds a control character (a tab?); use spaces",
            },
        );
    }
    trimmed.to_string()
}

fn days(
    p: &mut Problems,
    place: &Place,
    field: &str,
    written: Option<&Spanned<u32>>,
    default: u32,
) -> u32 {
    let Some(written) = written else {
        return default;
    };
    if written.value > MAX_DAYS_BEFORE {
        p.add(
            place,
            line_of(written.referenced),
            field,
            format!("at most {MAX_DAYS_BEFORE} (a year)"),
        );
    }
    written.value
}

/// How long a freed seat is held for the first on the waiting list: 1 hour to a week.
fn offer_hours(p: &mut Problems, place: &Place, written: Option<&Spanned<u32>>) -> u32 {
    let Some(written) = written else {
        return DEFAULT_OFFER_HOURS;
    };
    if !(1..=MAX_OFFER_HOURS).contains(&written.value) {
        p.add(
            place,
            line_of(written.referenced),
            "offer_hours",
            format!("from 1 to {MAX_OFFER_HOURS} (a week)"),
        );
    }
    written.value
}

fn age(a: AgeFile) -> Age {
    Age {
        years: a.years,
        months: a.months,
        weeks: a.weeks,
        days: a.days,
    }
}

fn who(p: &mut Problems, place: &Place, who: &Spanned<WhoFile>) -> Eligibility {
    match &who.value {
        WhoFile::Anyone => Eligibility::Anyone,
        WhoFile::Pregnant(w) => {
            let (from, before) = window(p, place, "who.pregnant", w, pregnancy_bound);
            if let (Some(f), Some(b)) = (from, before)
                && f.gestational_days() >= b.gestational_days()
            {
                order_problem(p, place, "who.pregnant", w, f, b, "");
            }
            Eligibility::Pregnant { from, before }
        }
        WhoFile::Child(w) => {
            let (from, before) = window(p, place, "who.child", w, |_| None);
            let f = from.unwrap_or_default();
            if let Some(b) = before
                && !comes_after(f, b)
            {
                let months_and_days = (f.years + f.months > 0) != (b.years + b.months > 0);
                let note = if months_and_days && comes_after_sometimes(f, b) {
                    " for every birthdate (months are not all the same length)"
                } else {
                    ""
                };
                order_problem(p, place, "who.child", w, f, b, note);
            }
            Eligibility::Child { from, before }
        }
    }
}

/// `from` and `before` of a window, after adding what `bound` says is wrong with either.
fn window(
    p: &mut Problems,
    place: &Place,
    prefix: &str,
    w: &WindowFile,
    bound: impl Fn(Age) -> Option<String>,
) -> (Option<Age>, Option<Age>) {
    let mut read = |key: &str, a: &Option<Spanned<AgeFile>>| {
        let a = a.as_ref()?;
        let value = age(a.value);
        if let Some(message) = bound(value) {
            p.add(
                place,
                line_of(a.referenced),
                &format!("{prefix}.{key}"),
                message,
            );
        }
        Some(value)
    };
    (read("from", &w.from), read("before", &w.before))
}

fn pregnancy_bound(a: Age) -> Option<String> {
    if a.years > 0 || a.months > 0 {
        Some(
            "years and months are not allowed for a pregnancy: gestational age counts weeks \
             and days (e.g. {weeks: 28})"
                .to_string(),
        )
    } else if a.gestational_days() > MAX_GESTATION_DAYS as i64 {
        Some(format!(
            "{} is past 42週6日, the end of any pregnancy",
            a.label()
        ))
    } else {
        None
    }
}

fn order_problem(
    p: &mut Problems,
    place: &Place,
    prefix: &str,
    w: &WindowFile,
    from: Age,
    before: Age,
    note: &str,
) {
    let line = w.before.as_ref().and_then(|b| line_of(b.referenced));
    p.add(
        place,
        line,
        &format!("{prefix}.before"),
        format!(
            "{} must come after `from`, {}{note}",
            before.label(),
            from.label()
        ),
    );
}

/// Birthdates over two years, a leap day among them: where month lengths could make one
/// age come before another for some children only.
fn reference_births() -> impl Iterator<Item = NaiveDate> {
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default();
    (0..731).map(move |d| start + Duration::days(d))
}

/// Whether every child reaches `before` strictly after `from`.
fn comes_after(from: Age, before: Age) -> bool {
    reference_births().all(
        |birth| match (from.reached_on(birth), before.reached_on(birth)) {
            (Some(f), Some(b)) => f < b,
            _ => false,
        },
    )
}

fn comes_after_sometimes(from: Age, before: Age) -> bool {
    reference_births().any(
        |birth| match (from.reached_on(birth), before.reached_on(birth)) {
            (Some(f), Some(b)) => f < b,
            _ => false,
        },
    )
}

/// The valid slots of `raw`, after adding the problems of the others: each on its own, then
/// beside the other slots of its service on the same day.
pub(super) fn slots(
    p: &mut Problems,
    raw: Vec<RawSlot>,
    services: &BTreeMap<ServiceId, Service>,
    written_ids: &HashSet<&str>,
    today: NaiveDate,
) -> BTreeMap<crate::reservations::SlotRef, Slot> {
    let mut ids: Vec<&str> = written_ids.iter().copied().collect();
    ids.sort_unstable();
    let ids = ids.join(", ");
    let mut good: Vec<(Slot, usize)> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let add = |p: &mut Problems, f: &RawField, message: String| {
            p.add(&r.place, f.line, &f.name, message)
        };
        let service_id = r.service.text.trim();
        let service = if service_id.is_empty() {
            add(p, &r.service, "is empty; write a service id".into());
            None
        } else if !written_ids.contains(service_id) {
            add(
                p,
                &r.service,
                format!("`{service_id}` is not one of the services ({ids})"),
            );
            None
        } else {
            // A service with problems of its own is known: its slots are not blamed for it.
            ServiceId::parse(service_id).filter(|id| services.contains_key(id))
        };
        let date = match values::date(&r.date.text) {
            Ok(day) if day < today => {
                add(
                    p,
                    &r.date,
                    format!(
                        "{} is past (today is {}); remove the slot, or correct its date",
                        day.format("%Y-%m-%d"),
                        today.format("%Y-%m-%d")
                    ),
                );
                None
            }
            Ok(day) => Some(day),
            Err(message) => {
                add(p, &r.date, message);
                None
            }
        };
        let mut time = |f: &RawField| {
            values::time(&f.text)
                .map_err(|message| add(p, f, message))
                .ok()
        };
        let start = time(&r.start);
        let end = time(&r.end);
        if let (Some(start), Some(end)) = (start, end)
            && end <= start
        {
            add(
                p,
                &r.end,
                format!(
                    "the slot ends at {}, which is not after its start, {}",
                    end.format("%H:%M"),
                    start.format("%H:%M")
                ),
            );
        }
        let capacity = match values::count(&r.capacity.text) {
            Ok(0) => {
                add(
                    p,
                    &r.capacity,
                    "must be at least 1 (remove a slot that takes no bookings)".into(),
                );
                None
            }
            Ok(n) if n > MAX_CAPACITY => {
                add(
                    p,
                    &r.capacity,
                    format!("{n} is more than {MAX_CAPACITY} seats in one slot"),
                );
                None
            }
            Ok(n) => Some(n),
            Err(message) => {
                add(p, &r.capacity, message);
                None
            }
        };
        if let (Some(service), Some(date), Some(start), Some(end), Some(capacity)) =
            (service, date, start, end, capacity)
            && end > start
        {
            let slot = SlotRef {
                service,
                date,
                start,
            };
            good.push((
                Slot {
                    slot,
                    end,
                    capacity,
                },
                i,
            ));
        }
    }
    side_by_side(p, &raw, good)
}

/// The slots of one service on one day may neither share a start (a slot is named by its
/// start) nor overlap: each problem names both slots.
fn side_by_side(
    p: &mut Problems,
    raw: &[RawSlot],
    mut good: Vec<(Slot, usize)>,
) -> BTreeMap<SlotRef, Slot> {
    // By service, day and start; equal starts in file order.
    good.sort_by(|a, b| a.0.slot.cmp(&b.0.slot).then(a.1.cmp(&b.1)));
    let mut out = BTreeMap::new();
    // The slot of the same service and day that ends last so far.
    let mut latest: Option<(&Slot, usize)> = None;
    for (slot, i) in &good {
        let r = &raw[*i];
        let same_day = |other: &Slot| {
            other.slot.service == slot.slot.service && other.slot.date == slot.slot.date
        };
        if let Some((other, j)) = latest.filter(|(other, _)| same_day(other)) {
            let hm =
                |s: &Slot| format!("{}–{}", s.slot.start.format("%H:%M"), s.end.format("%H:%M"));
            if other.slot.start == slot.slot.start {
                p.add(
                    &r.place,
                    r.start.line,
                    &r.start.name,
                    format!(
                        "{} starts at the same time as {} ({}); a service has one slot per \
                         start time (raise that slot's capacity instead)",
                        hm(slot),
                        raw[j].named(),
                        hm(other)
                    ),
                );
                continue;
            }
            if slot.slot.start < other.end {
                p.add(
                    &r.place,
                    r.start.line,
                    &r.start.name,
                    format!(
                        "{} overlaps {} ({}) of the same service and day",
                        hm(slot),
                        raw[j].named(),
                        hm(other)
                    ),
                );
            }
        }
        if latest.is_none_or(|(other, _)| !same_day(other) || other.end < slot.end) {
            latest = Some((slot, *i));
        }
        out.insert(slot.slot.clone(), slot.clone());
    }
    out
}
