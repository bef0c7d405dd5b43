//! Delivery jobs: one milestone's message for up to 500 residents, the unit the scanner
//! enqueues and the sender sends. A job's id is derived from its content, so re-running the
//! same scan yields the same ids, the same `X-Line-Retry-Key`s, and no second send.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::UserId;
use crate::line::{Message, RetryKey};

/// One resident of a job and the pregnancy/children (anchor subjects) the milestone is for:
/// twins share one message, and the delivery is recorded on each of them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Recipient {
    pub user: UserId,
    pub subjects: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub id: String,
    /// The scan day the job was made for.
    pub day: NaiveDate,
    /// The catalog milestone id, recorded on each recipient's subjects once sent.
    pub milestone: String,
    pub recipients: Vec<Recipient>,
    pub messages: Vec<Message>,
}

impl DeliveryJob {
    /// `recipients` must already be sorted and de-duplicated; the id covers all of it.
    pub fn new(
        day: NaiveDate,
        milestone: String,
        recipients: Vec<Recipient>,
        messages: Vec<Message>,
    ) -> DeliveryJob {
        let mut h = Sha256::new();
        h.update(day.to_string().as_bytes());
        h.update([0u8]);
        h.update(milestone.as_bytes());
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
            recipients,
            messages,
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
    fn ids_depend_on_everything_in_the_job() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let job = |day: NaiveDate, m: &str, rs: Vec<Recipient>, text: &str| {
            DeliveryJob::new(day, m.into(), rs, vec![Message::text(text)])
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
        let json = serde_json::to_string(&a).expect("json");
        assert_eq!(serde_json::from_str::<DeliveryJob>(&json).expect("back"), a);
    }
}
