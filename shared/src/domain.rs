//! Residents and what they registered, in the words the municipality uses. No AWS or LINE
//! types here: the store and the conversation both speak these.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The anchor subject of a resident's pregnancy; a child's is its id (`c1`, `c2`, …).
pub const PREGNANCY_SUBJECT: &str = "pregnancy";

/// At most this many children per resident: the removal menu must fit one quick reply.
pub const MAX_CHILDREN: usize = 10;

/// A LINE user id. `Debug` is redacted so an id never reaches a log by accident.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// LINE ids look like `U` + 32 hex digits; anything printable and short is accepted so a
    /// LINE-compatible client can use its own ids, but nothing that could break a key.
    pub fn parse(raw: &str) -> Option<UserId> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        ok.then(|| UserId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserId(<redacted>)")
    }
}

/// What a milestone counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnchorKind {
    DueDate,
    BirthDate,
}

impl AnchorKind {
    pub fn key_prefix(self) -> &'static str {
        match self {
            AnchorKind::DueDate => "due",
            AnchorKind::BirthDate => "birth",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pregnancy {
    pub due_date: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Child {
    /// Stable within the resident (`c1`, `c2`, …) so postbacks can name a child.
    pub id: String,
    pub birth_date: NaiveDate,
    /// ニックネーム the resident registered, used by the catalog's `{nickname}` placeholder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
}

/// 受信設定: what a resident chose. Ids refer to the catalog's categories and questions; an
/// id the catalog no longer has is simply ignored, so removing a choice breaks nobody.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Categories turned off. Stored as opt-outs so a category the city adds later reaches
    /// everyone (the documented default: every category on).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub muted: BTreeSet<String>,
    /// 地区 (one of the catalog's districts), if answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// 世帯の状況 (ひとり親, 多胎, 外国にルーツ, …): any number of the catalog's choices.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub household: BTreeSet<String>,
    /// 保育所（園）の申込状況 (one of the catalog's choices), if answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nursery: Option<String>,
}

impl Settings {
    /// Whether the resident receives notices of `category` (every category unless muted).
    pub fn receives(&self, category: &str) -> bool {
        !self.muted.contains(category)
    }

    /// Whether a notice of `category` for `audience` reaches this resident: the one rule
    /// the scan, the preview and segments all apply.
    pub fn wants(&self, category: &str, audience: &Audience) -> bool {
        self.receives(category) && audience.admits(self)
    }
}

/// Who a notice is for beyond its category: each non-empty list must match. Reusable by
/// anything that selects residents by their settings (milestones, series, broadcasts).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    /// The resident's 地区 is one of these. A resident who has not answered is not in it.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub districts: BTreeSet<String>,
    /// The household has at least one of these attributes.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub household: BTreeSet<String>,
    /// The 保育所 status is one of these. A resident who has not answered is not in it.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub nursery: BTreeSet<String>,
}

impl Audience {
    pub fn is_everyone(&self) -> bool {
        self.districts.is_empty() && self.household.is_empty() && self.nursery.is_empty()
    }

    pub fn admits(&self, settings: &Settings) -> bool {
        let one_of = |wanted: &BTreeSet<String>, answer: &Option<String>| {
            wanted.is_empty() || answer.as_ref().is_some_and(|a| wanted.contains(a))
        };
        one_of(&self.districts, &settings.district)
            && one_of(&self.nursery, &settings.nursery)
            && (self.household.is_empty()
                || self
                    .household
                    .iter()
                    .any(|h| settings.household.contains(h)))
    }
}

/// A question the conversation asked and whose answer is the resident's next text message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Awaiting {
    /// The ニックネーム of this child, asked at `asked_ms` (LINE event time).
    Nickname { child: String, asked_ms: i64 },
}

impl Awaiting {
    /// How long a question waits for its answer: a text typed days later is not a reply to it.
    pub const WAITS_MS: i64 = 10 * 60 * 1000;

    pub fn still_open(&self, now_ms: i64) -> bool {
        match self {
            Awaiting::Nickname { asked_ms, .. } => now_ms - asked_ms <= Self::WAITS_MS,
        }
    }
}

/// One person on the LINE account and everything they chose to register.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resident {
    pub user_id: UserId,
    /// Optimistic concurrency: a save must name the version it read (0 = never stored).
    #[serde(default)]
    pub version: u64,
    #[serde(default)]
    pub pregnancy: Option<Pregnancy>,
    #[serde(default)]
    pub children: Vec<Child>,
    /// Receive やさしい日本語: the catalog's `easy_text` where it has one, and every reply.
    #[serde(default)]
    pub easy_japanese: bool,
    #[serde(default)]
    pub settings: Settings,
    /// Set while the resident is asked to type something (a nickname).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting: Option<Awaiting>,
    #[serde(default)]
    pub next_child_no: u32,
    /// Newest LINE event timestamp applied (ms), so a late redelivered follow/unfollow
    /// cannot undo something newer.
    #[serde(default)]
    pub last_event_ms: i64,
}

impl Resident {
    pub fn new(user_id: UserId) -> Resident {
        Resident {
            user_id,
            version: 0,
            pregnancy: None,
            children: Vec::new(),
            easy_japanese: false,
            settings: Settings::default(),
            awaiting: None,
            next_child_no: 1,
            last_event_ms: 0,
        }
    }

    pub fn has_registrations(&self) -> bool {
        self.pregnancy.is_some() || !self.children.is_empty()
    }

    pub fn add_child(&mut self, birth_date: NaiveDate) -> &Child {
        let no = self.next_child_no.max(1);
        self.next_child_no = no + 1;
        self.children.push(Child {
            id: format!("c{no}"),
            birth_date,
            nickname: None,
        });
        self.children.sort_by_key(|c| c.birth_date);
        let index = self
            .children
            .iter()
            .position(|c| c.id == format!("c{no}"))
            .unwrap_or(0);
        &self.children[index]
    }

    pub fn child(&self, id: &str) -> Option<&Child> {
        self.children.iter().find(|c| c.id == id)
    }

    /// Whether `subject` names one of this resident's anchor entries (the pregnancy or a
    /// child), without building them.
    pub fn has_subject(&self, subject: &str) -> bool {
        if subject == PREGNANCY_SUBJECT {
            self.pregnancy.is_some()
        } else {
            self.child(subject).is_some()
        }
    }

    /// The anchor-index entries this resident should have: what the daily scan looks up.
    pub fn anchor_entries(&self) -> Vec<AnchorEntry> {
        let mut entries = Vec::with_capacity(self.children.len() + 1);
        if let Some(p) = &self.pregnancy {
            entries.push(AnchorEntry {
                kind: AnchorKind::DueDate,
                date: p.due_date,
                user_id: self.user_id.clone(),
                subject: PREGNANCY_SUBJECT.to_string(),
                easy_japanese: self.easy_japanese,
                settings: self.settings.clone(),
                nickname: None,
                delivered: BTreeSet::new(),
                steps: BTreeMap::new(),
            });
        }
        for c in &self.children {
            entries.push(AnchorEntry {
                kind: AnchorKind::BirthDate,
                date: c.birth_date,
                user_id: self.user_id.clone(),
                subject: c.id.clone(),
                easy_japanese: self.easy_japanese,
                settings: self.settings.clone(),
                nickname: c.nickname.clone(),
                delivered: BTreeSet::new(),
                steps: BTreeMap::new(),
            });
        }
        entries
    }
}

/// One row of the anchor index: enough to address, target and word a delivery without
/// reading the resident. The resident's settings are copied here on every save, so the
/// daily scan filters by category and audience on what it looked up anyway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorEntry {
    pub kind: AnchorKind,
    pub date: NaiveDate,
    pub user_id: UserId,
    pub subject: String,
    pub easy_japanese: bool,
    #[serde(default)]
    pub settings: Settings,
    /// The child's ニックネーム (never for a pregnancy).
    #[serde(default)]
    pub nickname: Option<String>,
    /// Catalog milestone ids already delivered for this pregnancy or child, whatever its
    /// date was then: a corrected date does not make a milestone come again.
    #[serde(default)]
    pub delivered: BTreeSet<String>,
    /// Per catalog series, the last step (its day number) delivered: one number per series
    /// instead of one id per day, so a daily programme does not grow the entry.
    #[serde(default)]
    pub steps: BTreeMap<String, u32>,
}

impl AnchorEntry {
    /// Whether the entry carries the same resident-side facts (what a save writes); the
    /// delivery records are the store's and do not count.
    pub fn same_registration(&self, other: &AnchorEntry) -> bool {
        self.kind == other.kind
            && self.date == other.date
            && self.user_id == other.user_id
            && self.subject == other.subject
            && self.easy_japanese == other.easy_japanese
            && self.settings == other.settings
            && self.nickname == other.nickname
    }
}

/// An inclusive run of anchor dates of one kind inside one calendar month: what one index
/// lookup covers (month-end clamping makes a birth offset map to up to four days).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AnchorRange {
    pub kind: AnchorKind,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl AnchorRange {
    pub fn contains(&self, kind: AnchorKind, date: NaiveDate) -> bool {
        kind == self.kind && self.first <= date && date <= self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_debug_is_redacted() {
        let id = UserId::parse("U4af4980629b7b63f2f5a9e1c4d3a0b9e").expect("valid");
        assert_eq!(format!("{id:?}"), "UserId(<redacted>)");
        assert!(UserId::parse("").is_none());
        assert!(UserId::parse("U x").is_none());
        assert!(UserId::parse(&"U".repeat(65)).is_none());
    }

    #[test]
    fn children_keep_stable_ids_and_birth_order() {
        let mut r = Resident::new(UserId::parse("U1").expect("valid"));
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        r.add_child(d("2025-01-01"));
        let second = r.add_child(d("2023-05-05")).id.clone();
        assert_eq!(second, "c2");
        assert_eq!(r.children[0].id, "c2");
        r.children.retain(|c| c.id != "c1");
        assert_eq!(r.add_child(d("2026-01-01")).id, "c3");
        let entries = r.anchor_entries();
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().all(|e| e.kind == AnchorKind::BirthDate));
    }
}
