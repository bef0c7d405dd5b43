//! The staff's file of services and slots → a validated [`Schedule`], or every problem with
//! it. A YAML file defines the services (and may list slots); the slots of a busy service
//! are easier kept in a spreadsheet, so the YAML may name CSV files beside it
//! (`slots_files:`), saved from Excel in UTF-8 or CP932.
//!
//! Two passes, as for the catalog: the YAML parser checks the shape and stops at the first
//! problem; then every rule is checked, in every file, so staff fix them all in one go. Each
//! problem names its file (a CSV), line, entry and field.
//!
//! Nothing here touches the filesystem: the CSV files come through a reader the caller
//! passes.

mod rules;
mod shape;
mod slots_csv;
#[cfg(test)]
mod tests;
mod values;

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use chrono::NaiveDate;

use super::Schedule;
use crate::catalog::problem::{entry_name, line_of};
use crate::staff_file;

/// The chat's 予約 menu shows every service in one reply: an intro and four carousels of
/// twelve cards (LINE's limits: five messages, twelve bubbles).
pub const MAX_SERVICES: usize = 48;
/// Slots of every service together: a year of daily slots for a few dozen services.
pub const MAX_SLOTS: usize = 20_000;
/// The largest file read (the YAML or one CSV).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Seats in one slot.
pub const MAX_CAPACITY: u32 = 1000;
/// A service's name, as residents see it in the chat.
pub const MAX_NAME_CHARS: usize = 40;
pub const MAX_PLACE_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// `opens_days_before` and the other day counts: at most a year.
pub const MAX_DAYS_BEFORE: u32 = 366;

/// One thing wrong with a reservations file, said so staff can find and fix it:
/// `slots.csv line 5: field `日付`: `2027-02-30` is not a day of the calendar`.
pub type ScheduleProblem = crate::staff_file::FileProblem;

/// Every problem found, so staff fix them in one pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScheduleError {
    pub problems: Vec<ScheduleProblem>,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "the reservations file has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

/// The services and slots of the reservations YAML `main` (named `main_name`, as staff
/// know it), with the slots of the CSV files it names, each read through `read_beside`
/// (given the name as written, once it is known to stay beside the YAML; its error is said
/// to staff). Slots dated before `today` are refused as past.
pub fn load_schedule(
    main_name: &str,
    main: &[u8],
    mut read_beside: impl FnMut(&str) -> Result<Vec<u8>, String>,
    today: NaiveDate,
) -> Result<Schedule, ScheduleError> {
    let whole_file = |message: String| ScheduleError {
        problems: vec![ScheduleProblem {
            file: Some(main_name.to_string()),
            line: None,
            entry: String::new(),
            field: String::new(),
            message,
        }],
    };
    if main_name.to_ascii_lowercase().ends_with(".csv") {
        return Err(whole_file(
            "a slots CSV is read through the reservations YAML that lists it under \
             `slots_files:` (the services are defined there); give the YAML file instead"
                .to_string(),
        ));
    }
    if main.len() > MAX_FILE_BYTES {
        return Err(whole_file(too_large(main.len())));
    }
    let source = staff_file::decode_utf8(main).map_err(|(line, message)| ScheduleError {
        problems: vec![ScheduleProblem {
            file: None,
            line: Some(line),
            entry: String::new(),
            field: String::new(),
            message,
        }],
    })?;
    let file = shape::parse(&source)?;
    let mut p = Problems::default();

    let services = rules::services(&mut p, &file.services);

    let mut raw = Vec::new();
    for (i, s) in file.slots.iter().enumerate() {
        let s = &s.value;
        let field = |name: &str, text: String, at: serde_saphyr::Location| RawField {
            text,
            line: line_of(at),
            name: name.to_string(),
        };
        raw.push(RawSlot {
            place: Place {
                file: None,
                entry: entry_name(
                    "slots",
                    i,
                    shape::slot_name(&s.service.value, &s.date.value, &s.start.value).as_deref(),
                ),
            },
            line: line_of(file.slots[i].referenced),
            service: field("service", s.service.value.clone(), s.service.referenced),
            date: field("date", s.date.value.clone(), s.date.referenced),
            start: field("start", s.start.value.clone(), s.start.referenced),
            end: field("end", s.end.value.clone(), s.end.referenced),
            capacity: field(
                "capacity",
                s.capacity.value.to_string(),
                s.capacity.referenced,
            ),
        });
    }
    let mut too_many = raw.len() > MAX_SLOTS;
    raw.truncate(MAX_SLOTS);

    let mut listed = BTreeMap::new();
    for (i, name) in file.slots_files.iter().enumerate() {
        let place = Place::main("");
        let field = format!("slots_files[{i}]");
        let line = line_of(name.referenced);
        if let Err(message) =
            staff_file::check_file_name(&name.value, "the reservations file", "slots-2027-01.csv")
        {
            p.add(&place, line, &field, message);
            continue;
        }
        if let Some(first) = listed.insert(name.value.clone(), i) {
            p.add(
                &place,
                line,
                &field,
                format!(
                    "`{}` is listed twice (also slots_files[{first}])",
                    name.value
                ),
            );
            continue;
        }
        if too_many {
            continue;
        }
        let bytes = match read_beside(&name.value) {
            Ok(bytes) => bytes,
            Err(message) => {
                p.add(
                    &place,
                    line,
                    &field,
                    format!("cannot read `{}`: {message}", name.value),
                );
                continue;
            }
        };
        let csv_place = Place {
            file: Some(name.value.clone()),
            entry: String::new(),
        };
        if bytes.len() > MAX_FILE_BYTES {
            p.add(&csv_place, None, "", too_large(bytes.len()));
            continue;
        }
        let text = match staff_file::decode_text(&bytes) {
            Ok((text, _)) => text,
            Err((bad_line, message)) => {
                p.add(&csv_place, Some(bad_line), "", message);
                continue;
            }
        };
        let (rows, more) = slots_csv::read(&mut p, &name.value, &text, MAX_SLOTS - raw.len());
        raw.extend(rows);
        too_many |= more;
    }
    if too_many {
        p.add(
            &Place::main(""),
            None,
            "slots",
            format!(
                "there are more than {MAX_SLOTS} slots; publish fewer at a time (the slots of \
                 the coming months), and the rest later"
            ),
        );
    }

    let known: HashSet<&str> = file
        .services
        .iter()
        .map(|s| s.value.id.value.as_str())
        .collect();
    let slots = rules::slots(&mut p, raw, &services, &known, today);

    if p.0.is_empty() {
        Ok(Schedule { services, slots })
    } else {
        Err(ScheduleError { problems: p.0 })
    }
}

impl Schedule {
    /// The first and last day with a slot, if any.
    pub fn date_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        let first = self.slots.keys().map(|s| s.date).min()?;
        let last = self.slots.keys().map(|s| s.date).max()?;
        Some((first, last))
    }
}

fn too_large(bytes: usize) -> String {
    format!(
        "is {:.1} MB; a reservations file may be at most {} MB (split the slots over \
         several CSV files, or publish fewer months)",
        bytes as f64 / (1024.0 * 1024.0),
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

/// Every problem found so far.
#[derive(Default)]
struct Problems(Vec<ScheduleProblem>);

impl Problems {
    fn add(&mut self, place: &Place, line: Option<usize>, field: &str, message: impl Into<String>) {
        self.0.push(ScheduleProblem {
            file: place.file.clone(),
            line,
            entry: place.entry.clone(),
            field: field.to_string(),
            message: message.into(),
        });
    }
}

/// Where a problem is: the file (`None`: the YAML itself) and the entry in it.
#[derive(Clone, Debug)]
struct Place {
    file: Option<String>,
    entry: String,
}

impl Place {
    fn main(entry: impl Into<String>) -> Place {
        Place {
            file: None,
            entry: entry.into(),
        }
    }
}

/// A slot as written, in the YAML or a CSV row, before its values are checked.
struct RawSlot {
    place: Place,
    /// Where the slot starts, to name it from another slot's problem.
    line: Option<usize>,
    service: RawField,
    date: RawField,
    start: RawField,
    end: RawField,
    capacity: RawField,
}

struct RawField {
    text: String,
    line: Option<usize>,
    /// The field as staff wrote it (`date`, or a CSV header such as `日付`).
    name: String,
}

impl RawSlot {
    /// `slots[3] (line 14)` or `slots.csv line 5`: this slot, named from another's problem.
    fn named(&self) -> String {
        let line = self.line.map(|l| format!("line {l}")).unwrap_or_default();
        match (&self.place.file, self.place.entry.is_empty()) {
            (Some(file), _) => format!("{file} {line}").trim_end().to_string(),
            (None, false) => format!("{} ({line})", self.place.entry),
            (None, true) => line,
        }
    }
}
