//! Booking events in `serve`: printed as they happen and, with `--data DIR`, appended to
//! `DIR/events.jsonl` (one EventBridge-shaped entry per line), so a city can try its own
//! integration locally before it subscribes to the deployed bus.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::json;
use shared::reservations::events::{BookingEvent, EVENT_SOURCE, EventSink};

pub const EVENTS_FILE: &str = "events.jsonl";

pub struct LocalEvents {
    file: Option<PathBuf>,
    out: Mutex<Box<dyn Write + Send>>,
}

impl LocalEvents {
    pub fn new(out: Box<dyn Write + Send>, data: Option<&Path>) -> LocalEvents {
        LocalEvents {
            file: data.map(|d| d.join(EVENTS_FILE)),
            out: Mutex::new(out),
        }
    }
}

/// How `serve` shows an event: one line a person reads at a glance.
pub fn describe(e: &BookingEvent) -> String {
    let mut line = format!(
        "booking event  {} {} {} {}",
        e.kind.detail_type(),
        e.service,
        e.slot.date,
        e.slot.start,
    );
    if !e.booking_id.is_empty() {
        line.push_str(&format!(" 予約番号 {}", e.booking_id));
    }
    if let Some(until) = e.offered_until {
        let until = until.with_timezone(&shared::dates::tokyo());
        line.push_str(&format!(" held until {}", until.format("%Y-%m-%d %H:%M")));
    }
    if let Some(p) = &e.previous_slot {
        line.push_str(&format!(" (was {} {})", p.date, p.start));
    }
    if let Some(r) = e.reason {
        line.push_str(&format!(" reason {}", r.label()));
    }
    line
}

impl EventSink for LocalEvents {
    async fn publish(&self, events: &[BookingEvent]) -> Result<(), String> {
        {
            let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
            for e in events {
                let _ = writeln!(out, "{}", describe(e));
            }
            let _ = out.flush();
        }
        let Some(path) = &self.file else {
            return Ok(());
        };
        let mut text = String::new();
        for e in events {
            let entry = json!({
                "source": EVENT_SOURCE,
                "detail-type": e.kind.detail_type(),
                "detail": e,
            });
            text.push_str(&entry.to_string());
            text.push('\n');
        }
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| format!("cannot append to {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::UserId;
    use shared::reservations::{BookingFor, SlotRef, Waiting};

    #[test]
    fn an_offer_is_shown_with_its_time_and_without_its_resident() {
        let at = chrono::DateTime::parse_from_rfc3339("2027-01-04T01:00:00Z")
            .expect("time")
            .to_utc();
        let w = Waiting {
            user: UserId::parse("Usecret").expect("id"),
            slot: SlotRef::parse("checkup@2027-01-22T13:30").expect("slot"),
            booked_for: BookingFor::parse("c1").expect("for"),
            joined_at: at,
            offered_until: Some(at + chrono::Duration::hours(24)),
            told: false,
        };
        let line = describe(&BookingEvent::offered(&w, at));
        assert_eq!(
            line,
            "booking event  BookingOffered checkup 2027-01-22 13:30 held until 2027-01-05 10:00"
        );
    }
}
