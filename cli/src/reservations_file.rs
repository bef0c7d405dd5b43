//! Reading the staff's reservations file (services and slots) and the CSV files beside it
//! that it names, for `reservations check` (and `publish`). The checking is `shared`'s; this
//! module hands it each file it asks for.

use std::path::Path;

use anyhow::{Context, anyhow};
use chrono::NaiveDate;
use shared::reservations::Schedule;
use shared::reservations::file::load_schedule;

use crate::catalog_file::{folder_of, read_bytes_beside};

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
            "{} slots from {} to {}",
            schedule.slots.len(),
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
