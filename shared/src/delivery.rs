//! Delivery jobs: one message set for up to 500 residents, the unit the scanner enqueues and
//! the sender sends. A job's id is derived from its content, so re-running the same scan
//! yields the same ids, the same `X-Line-Retry-Key`s, and no second send.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::UserId;
use crate::line::{Message, RetryKey};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub id: String,
    /// What was delivered, for the per-resident delivery record
    /// (`milestone#2026-11-22#dental-checkup`).
    pub scope: String,
    pub recipients: Vec<UserId>,
    pub messages: Vec<Message>,
}

impl DeliveryJob {
    /// `recipients` must already be sorted and de-duplicated; the id covers all of it.
    pub fn new(scope: String, recipients: Vec<UserId>, messages: Vec<Message>) -> DeliveryJob {
        let mut h = Sha256::new();
        h.update(scope.as_bytes());
        for m in &messages {
            h.update([0u8]);
            h.update(serde_json::to_vec(m).unwrap_or_default());
        }
        for r in &recipients {
            h.update([1u8]);
            h.update(r.as_str().as_bytes());
        }
        let id = h
            .finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        DeliveryJob {
            id,
            scope,
            recipients,
            messages,
        }
    }

    pub fn retry_key(&self) -> RetryKey {
        RetryKey::derive(&self.id)
    }
}

/// The delivery scope of a catalog milestone on a day.
pub fn milestone_scope(day: chrono::NaiveDate, milestone_id: &str) -> String {
    format!("milestone#{day}#{milestone_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_on_everything_in_the_job() {
        let u = |s: &str| UserId::parse(s).expect("id");
        let a = DeliveryJob::new("s".into(), vec![u("U1"), u("U2")], vec![Message::text("x")]);
        let b = DeliveryJob::new("s".into(), vec![u("U1"), u("U2")], vec![Message::text("x")]);
        assert_eq!(a.id, b.id);
        assert_eq!(a.retry_key(), b.retry_key());
        assert_ne!(
            a.id,
            DeliveryJob::new("t".into(), vec![u("U1"), u("U2")], vec![Message::text("x")]).id
        );
        assert_ne!(
            a.id,
            DeliveryJob::new("s".into(), vec![u("U1")], vec![Message::text("x")]).id
        );
        assert_ne!(
            a.id,
            DeliveryJob::new("s".into(), vec![u("U1"), u("U2")], vec![Message::text("y")]).id
        );
        let json = serde_json::to_string(&a).expect("json");
        assert_eq!(serde_json::from_str::<DeliveryJob>(&json).expect("back"), a);
    }
}
