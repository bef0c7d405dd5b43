//! Delivery jobs: one milestone's message for up to 500 residents, the unit the scanner
//! enqueues and the sender sends. A job's id is derived from its content, so re-running the
//! same scan yields the same ids, the same `X-Line-Retry-Key`s, and no second send.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{AnchorEntry, UserId};
use crate::line::{Message, RetryKey};

/// One resident of a job and the pregnancy/children (anchor subjects) the milestone is for:
/// twins share one message, and the delivery is recorded on each of them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Recipient {
    pub user: UserId,
    pub subjects: Vec<String>,
}

/// What a job delivers, as recorded on each recipient's anchor entry once sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark<'a> {
    /// A catalog milestone, added to the entry's `delivered` set.
    Milestone(&'a str),
    /// The step on day number `day` of a series: stored as the series' last step sent, so a
    /// daily programme keeps one number per series instead of a growing list.
    Step { series: &'a str, day: u32 },
    /// The reminder of a booking for its slot (`service@2027-01-15T13:30`): the recipient's
    /// subjects are 予約番号, and the record is kept on the booking, so a booking moved to
    /// another slot is reminded again and one let go is not reminded at all.
    Reminder { slot: &'a str },
}

impl Mark<'_> {
    /// Whether an entry with these delivery records already had it. A step counts as had
    /// when a later one was sent (a corrected date must not send a day twice).
    pub fn had(
        &self,
        delivered: Option<&BTreeSet<String>>,
        steps: Option<&BTreeMap<String, u32>>,
    ) -> bool {
        match *self {
            Mark::Milestone(id) => delivered.is_some_and(|d| d.contains(id)),
            Mark::Step { series, day } => steps
                .and_then(|s| s.get(series))
                .is_some_and(|last| *last >= day),
            // Kept on the booking, not on anchor entries: the stores ask the booking.
            Mark::Reminder { .. } => false,
        }
    }

    pub fn delivered_on(&self, entry: &AnchorEntry) -> bool {
        self.had(Some(&entry.delivered), Some(&entry.steps))
    }
}

/// The `milestone` of a reminder job (no catalog id can be it: ids have no `!`).
pub const REMINDER: &str = "!reminder";
/// The `milestone` of a waiting-list offer's job.
pub const OFFER: &str = "!offer";
/// The `milestone` of a one-off notice (a waiting list's end): sent as it is, once per
/// retry key, with no record.
pub const NOTICE: &str = "!notice";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub id: String,
    /// The scan day the job was made for.
    pub day: NaiveDate,
    /// The catalog milestone id, or the series id when `step` is set; recorded on each
    /// recipient's subjects once sent.
    pub milestone: String,
    /// The series step's day number, for a job of a series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u32>,
    /// The slot a booking reminder is for; the recipients' subjects are then 予約番号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder: Option<String>,
    /// The slot of a waiting-list offer: sent only while the seat is still held for the
    /// recipient's registration (its subject).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
    /// … and held until this time: a hold withdrawn and offered again is another push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_until: Option<chrono::DateTime<chrono::Utc>>,
    pub recipients: Vec<Recipient>,
    pub messages: Vec<Message>,
}

impl DeliveryJob {
    /// `recipients` must already be sorted and de-duplicated; the id covers all of it.
    pub fn new(
        day: NaiveDate,
        mark: Mark<'_>,
        recipients: Vec<Recipient>,
        messages: Vec<Message>,
    ) -> DeliveryJob {
        let (milestone, step, reminder) = match mark {
            Mark::Milestone(id) => (id.to_string(), None, None),
            Mark::Step { series, day } => (series.to_string(), Some(day), None),
            Mark::Reminder { slot } => (REMINDER.to_string(), None, Some(slot.to_string())),
        };
        let mut h = Sha256::new();
        h.update(day.to_string().as_bytes());
        h.update([0u8]);
        h.update(milestone.as_bytes());
        if let Some(step) = step {
            h.update([4u8]);
            h.update(step.to_be_bytes());
        }
        if let Some(slot) = &reminder {
            h.update([5u8]);
            h.update(slot.as_bytes());
        }
        for m in &messages {
            h.update([1u8]);
            h.update(serde_json::to_vec(m).unwrap_or_default());
        }
        for r in &recipients {
            h.update([2u8]);
            h.update(r.user.as_str().as_bytes());
            for s in &r.subjects {
                h.update([3u8]);
                h.update(s.as_bytes());
            }
        }
        let id = h
            .finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        DeliveryJob {
            id,
            day,
            milestone,
            step,
            reminder,
            offer: None,
            offered_until: None,
            recipients,
            messages,
        }
    }

    /// A one-off push to `user`; `about` names what it is about (in the id, hence the retry
    /// key: the same notice is sent once).
    pub fn notice(day: NaiveDate, user: &UserId, about: &str, message: Message) -> DeliveryJob {
        let mark = format!("{NOTICE}{about}");
        let mut job = DeliveryJob::new(
            day,
            Mark::Milestone(&mark),
            vec![Recipient {
                user: user.clone(),
                subjects: Vec::new(),
            }],
            vec![message],
        );
        job.milestone = NOTICE.to_string();
        job
    }

    /// The push telling `w` that a seat is held for them until its `offered_until`.
    pub fn offer(
        day: NaiveDate,
        w: &crate::reservations::Waiting,
        message: Message,
    ) -> DeliveryJob {
        let until = w.offered_until.map(|t| t.to_rfc3339()).unwrap_or_default();
        let slot = w.slot.to_string();
        // The milestone names the offer, so its id (and retry key) differs per slot and hold.
        let mark = format!("{OFFER}{slot}#{until}");
        let mut job = DeliveryJob::new(
            day,
            Mark::Milestone(&mark),
            vec![Recipient {
                user: w.user.clone(),
                subjects: vec![w.booked_for.as_str().to_string()],
            }],
            vec![message],
        );
        job.milestone = OFFER.to_string();
        // One push per hold, whatever the day it is queued on or the words it is sent in: a
        // re-sent push (its first was queued but not recorded) keeps the retry key.
        let digest = Sha256::digest(
            format!(
                "{OFFER}\0{}\0{slot}\0{}\0{until}",
                w.user.as_str(),
                w.booked_for.as_str()
            )
            .as_bytes(),
        );
        job.id = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        job.offer = Some(slot);
        job.offered_until = w.offered_until;
        job
    }

    pub fn mark(&self) -> Mark<'_> {
        if let Some(slot) = &self.reminder {
            return Mark::Reminder { slot };
        }
        match self.step {
            Some(day) => Mark::Step {
                series: &self.milestone,
                day,
            },
            None => Mark::Milestone(&self.milestone),
        }
    }

    pub fn retry_key(&self) -> RetryKey {
        RetryKey::derive(&self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(user: &str, subjects: &[&str]) -> Recipient {
        Recipient {
            user: UserId::parse(user).expect("id"),
            subjects: subjects.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_step_counts_as_had_once_it_or_a_later_one_was_sent() {
        let steps: BTreeMap<String, u32> = [("daily".to_string(), 30)].into();
        let had = |day| {
            Mark::Step {
                series: "daily",
                day,
            }
            .had(None, Some(&steps))
        };
        assert!(had(29) && had(30));
        assert!(!had(31));
        assert!(
            !Mark::Step {
                series: "other",
                day: 1
            }
            .had(None, Some(&steps))
        );
        let delivered: BTreeSet<String> = ["m".to_string()].into();
        assert!(Mark::Milestone("m").had(Some(&delivered), None));
        assert!(!Mark::Milestone("n").had(Some(&delivered), None));
    }

    #[test]
    fn ids_depend_on_everything_in_the_job() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let job = |day: NaiveDate, m: &str, rs: Vec<Recipient>, text: &str| {
            DeliveryJob::new(day, Mark::Milestone(m), rs, vec![Message::text(text)])
        };
        let both = || vec![r("U1", &["c1"]), r("U2", &["c1", "c2"])];
        let a = job(day, "m", both(), "x");
        let b = job(day, "m", both(), "x");
        assert_eq!(a.id, b.id);
        assert_eq!(a.retry_key(), b.retry_key());
        assert_ne!(a.id, job(day.succ_opt().expect("day"), "m", both(), "x").id);
        assert_ne!(a.id, job(day, "n", both(), "x").id);
        assert_ne!(a.id, job(day, "m", vec![r("U1", &["c1"])], "x").id);
        assert_ne!(
            a.id,
            job(day, "m", vec![r("U1", &["c1"]), r("U2", &["c1"])], "x").id
        );
        assert_ne!(a.id, job(day, "m", both(), "y").id);
        let step = |n| {
            DeliveryJob::new(
                day,
                Mark::Step {
                    series: "m",
                    day: n,
                },
                both(),
                vec![Message::text("x")],
            )
        };
        assert_ne!(a.id, step(1).id);
        assert_ne!(step(1).id, step(2).id);
        assert_eq!(
            step(2).mark(),
            Mark::Step {
                series: "m",
                day: 2
            }
        );
        for j in [a, step(7)] {
            let json = serde_json::to_string(&j).expect("json");
            assert_eq!(serde_json::from_str::<DeliveryJob>(&json).expect("back"), j);
        }
    }
}
