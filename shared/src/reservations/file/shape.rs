//! The shape of the reservations YAML, as the parser reads it. The parser checks types,
//! unknown and duplicate keys and the size limits, and stops at the first problem, named by
//! line, column, entry and field; the rules a valid shape can break are checked afterwards.
//!
//! Dates and times are read as text and checked by [`super::values`], the same way as a CSV
//! cell, so `2027/1/15` and `9:00` are read alike in both files.

use serde::Deserialize;
use serde_saphyr::{Options, Spanned};

use super::ScheduleError;
use crate::catalog::problem::{self, EntryAt};

/// Limits that stop a file built to exhaust memory or time (nested aliases, one long text
/// repeated) before it is expanded, yet fit the largest schedule: 20,000 slots written as
/// one-line entries are about 250,000 events in a file under 5 MB.
fn parser_options() -> Options {
    problem::yaml_options(600_000, 400_000, super::MAX_FILE_BYTES)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReservationsFile {
    #[serde(default)]
    pub services: Vec<Spanned<ServiceFile>>,
    #[serde(default)]
    pub slots: Vec<Spanned<SlotFile>>,
    /// CSV files of slots beside this file.
    #[serde(default)]
    pub slots_files: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServiceFile {
    pub id: Spanned<String>,
    pub name: Spanned<String>,
    pub place: Spanned<String>,
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    /// やさしい日本語 versions, for residents who chose it.
    #[serde(default)]
    pub easy_name: Option<Spanned<String>>,
    #[serde(default)]
    pub easy_description: Option<Spanned<String>>,
    pub who: Spanned<WhoFile>,
    #[serde(default)]
    pub opens_days_before: Option<Spanned<u32>>,
    #[serde(default)]
    pub closes_days_before: Option<Spanned<u32>>,
    #[serde(default)]
    pub many_per_resident: bool,
    #[serde(default)]
    pub remind_days_before: Option<Spanned<u32>>,
    #[serde(default)]
    pub offer_hours: Option<Spanned<u32>>,
}

/// `who: anyone`, `who: {pregnant: {from: …, before: …}}` or `who: {child: {…}}`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum WhoFile {
    Anyone,
    Pregnant(WindowFile),
    Child(WindowFile),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WindowFile {
    #[serde(default)]
    pub from: Option<Spanned<AgeFile>>,
    #[serde(default)]
    pub before: Option<Spanned<AgeFile>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub(super) struct AgeFile {
    #[serde(default)]
    pub years: u32,
    #[serde(default)]
    pub months: u32,
    #[serde(default)]
    pub weeks: u32,
    #[serde(default)]
    pub days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SlotFile {
    pub service: Spanned<String>,
    pub date: Spanned<String>,
    pub start: Spanned<String>,
    pub end: Spanned<String>,
    pub capacity: Spanned<u32>,
}

/// Just what names an entry, read leniently to name the entry a parser error is in.
#[derive(Deserialize)]
struct EntryNames {
    #[serde(default)]
    services: Vec<Spanned<ServiceName>>,
    #[serde(default)]
    slots: Vec<Spanned<SlotName>>,
}

#[derive(Deserialize)]
struct ServiceName {
    id: Option<String>,
}

#[derive(Deserialize)]
struct SlotName {
    service: Option<String>,
    date: Option<String>,
    start: Option<String>,
}

/// `checkup-4m@2027-01-15T13:30`: how a slot is named in messages, exports and postbacks.
pub(super) fn slot_name(service: &str, date: &str, start: &str) -> Option<String> {
    let slot = crate::reservations::SlotRef {
        service: crate::reservations::ServiceId::parse(service)?,
        date: super::values::date(date).ok()?,
        start: super::values::time(start).ok()?,
    };
    Some(slot.to_string())
}

fn entry_at(source: &str, section: &str, index: usize) -> Option<EntryAt> {
    let mut options = parser_options();
    // The error being named may be this very duplicate; the name is still worth finding.
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::FirstWins;
    let names: EntryNames = serde_saphyr::from_str_with_options(source, options).ok()?;
    match section {
        "services" => names.services.into_iter().nth(index).map(|s| EntryAt {
            id: s.value.id,
            location: s.referenced,
        }),
        "slots" => names.slots.into_iter().nth(index).map(|s| EntryAt {
            id: match (s.value.service, s.value.date, s.value.start) {
                (Some(service), Some(date), Some(start)) => slot_name(&service, &date, &start),
                _ => None,
            },
            location: s.referenced,
        }),
        _ => None,
    }
}

/// The file's shape, or the first problem with it.
pub(super) fn parse(source: &str) -> Result<ReservationsFile, ScheduleError> {
    problem::parse_yaml(
        "a reservations file",
        source,
        parser_options(),
        |section, i| entry_at(source, section, i),
    )
    .map_err(|p| ScheduleError { problems: vec![p] })
}
