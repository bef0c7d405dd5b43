//! Items and keys: how residents, anchor entries, bookings, slots and records look in the table.
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | resident | `user#<id>` | `profile` | the resident's fields as attributes, `version` |
//! | anchor entry | `user#<id>` | `anchor#<subject>` | GSI `apk` = `birth#2025-11`, `ask` = `20#<id>#<subject>`; `settings` (map), `nickname`, `easy`: what targeting and placeholders need; `delivered`: milestone ids (string set); `step#<series>`: the last step sent of each series (number) |
//! | webhook event seen | `event#<id>` | `claim` | `expires_at` (TTL) |
//! | daily scan done | `scan` | `2026-11-22` | `completed_at`, `expires_at` (TTL) |
//! | booking | `user#<id>` | `booking#<予約番号>` | `id`, `user`, `slot` (`checkup@2027-01-15T13:30`), `for`, `booked_at`, `status` (`booked`, `cancelled`, `absent`), when released `released_at` and `cancelled_by` or `reason`; GSI `apk` = `bookings#2027-01`, `ask` = `15T13:30#checkup#<予約番号>` (staff's export by slot date) |
//! | hold | `user#<id>` | `hold#<service>` | `booking` (予約番号), `starts_at` (epoch s): the one future booking of a service that allows one; free once it starts |
//! | service | `services` | `<service id>` | `service` (map): the published service |
//! | place on a waiting list | `user#<id>` | `wait#<slot>#<for>` | `slot`, `for`, `joined_at`, while a seat is held for it `offered_until` (UTC, fixed width) and, once the push about it is queued, `told`; GSI `apk` = `waitlists`, `ask` = `<slot>#<joined_at>#<id>\|<for>` (the sweep's list of slots with waiting lists) |
//! | slot | `slot#<service>` | `2027-01-15T13:30` | `end`, `capacity`, `booked` (seats taken by bookings and offers, what the booking condition compares), `holders` (map: `<id>\|<for>` → `{b: 予約番号, at: ms}`, the order seats were taken), `line` (map: `<id>\|<for>` → `{j: joined, o: offered until, t: told}`, the waiting list), `queued` (how many in `line` have no offer: a walk-in books only at 0) |
//! | catalog | `catalog` | `current` | `bundle` (binary: the catalog and its steps files, deflate-compressed JSON), `sha256`, `published_at`, `text_bytes`; catalogs published before bundles have `yaml` instead |
//!
//! Everything of a resident shares the partition `user#<id>`: one Query finds it all for
//! deletion. The only entries elsewhere that name a resident are a slot's holder and line
//! entries, which go with the booking (release, staff cancellation, stop) or the place on
//! the waiting list (leave, booked, lapsed, stop) in the same transaction. The scan reads the
//! anchor entries (with `delivered`) from the GSI projection; bookings and places share the
//! GSI under their own partitions (`bookings#…`, `waitlists`), never read by the scan.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;

use crate::catalog::CatalogSource;
use crate::domain::{AnchorEntry, AnchorKind, Resident, Settings, UserId};
use crate::store::StoreError;

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) const PROFILE_SK: &str = "profile";
pub(super) const CATALOG_PK: &str = "catalog";
pub(super) const CATALOG_SK: &str = "current";
pub(super) const SCAN_PK: &str = "scan";
pub(super) const CLAIM_SK: &str = "claim";
/// The string set of milestone ids on an anchor entry.
pub(super) const DELIVERED: &str = "delivered";
/// Prefix of the number attribute holding a series' last step sent, one per series.
const STEP_PREFIX: &str = "step#";

/// The attribute holding the last step sent of `series` on an anchor entry.
pub(super) fn step_attribute(series: &str) -> String {
    format!("{STEP_PREFIX}{series}")
}

pub(super) fn user_pk(user: &UserId) -> String {
    format!("user#{}", user.as_str())
}

pub(super) fn anchor_sk(subject: &str) -> String {
    format!("anchor#{subject}")
}

pub(super) fn event_pk(event_id: &str) -> String {
    format!("event#{event_id}")
}

/// The GSI partition: one anchor kind in one month.
pub(super) fn anchor_partition(kind: AnchorKind, date: NaiveDate) -> String {
    format!("{}#{}", kind.key_prefix(), date.format("%Y-%m"))
}

fn anchor_sort(date: NaiveDate, user: &UserId, subject: &str) -> String {
    format!("{}#{}#{}", date.format("%d"), user.as_str(), subject)
}

pub(super) fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

pub(super) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// Most bytes a stored catalog may expand to: far above any real one (a full daily
/// programme is about 1 MB), so a damaged or hostile item cannot exhaust a function's memory.
const MAX_CATALOG_TEXT_BYTES: u64 = 32 * 1024 * 1024;

/// A catalog and its files as stored: JSON, deflate-compressed. Japanese text compresses to
/// about a quarter, so a full daily programme (~1 MB) fits one item.
pub(super) fn compress_catalog(source: &CatalogSource) -> Result<Vec<u8>, StoreError> {
    use std::io::Write;
    let json =
        serde_json::to_vec(source).map_err(|e| StoreError::Rejected(format!("catalog: {e}")))?;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(&json)
        .and_then(|()| encoder.finish())
        .map_err(|e| StoreError::Rejected(format!("catalog: {e}")))
}

pub(super) fn decompress_catalog(bytes: &[u8]) -> Result<CatalogSource, StoreError> {
    use std::io::Read;
    let mut json = Vec::new();
    flate2::read::DeflateDecoder::new(bytes)
        .take(MAX_CATALOG_TEXT_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|e| StoreError::Corrupt(format!("catalog: {e}")))?;
    if json.len() as u64 > MAX_CATALOG_TEXT_BYTES {
        return Err(StoreError::Corrupt(format!(
            "catalog: expands to more than {MAX_CATALOG_TEXT_BYTES} bytes"
        )));
    }
    serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt(format!("catalog: {e}")))
}

/// The size DynamoDB counts against its 400 KB item limit: each attribute's name plus its
/// value (strings and binaries by their bytes, numbers by at most 21 bytes).
pub(super) fn item_size(item: &Item) -> usize {
    fn value_size(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) => s.len(),
            AttributeValue::B(b) => b.as_ref().len(),
            AttributeValue::N(_) => 21,
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
            AttributeValue::L(v) => 3 + v.iter().map(|x| 1 + value_size(x)).sum::<usize>(),
            AttributeValue::M(m) => {
                3 + m
                    .iter()
                    .map(|(k, x)| 1 + k.len() + value_size(x))
                    .sum::<usize>()
            }
            _ => 0,
        }
    }
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

pub(super) fn string(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(StoreError::Corrupt(format!(
            "attribute `{name}` is missing"
        ))),
    }
}

/// The profile item: the resident's fields as attributes (so later features can filter on
/// them) plus the keys.
pub(super) fn profile_item(resident: &Resident) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(resident)
        .map_err(|e| StoreError::Rejected(format!("resident: {e}")))?;
    item.extend(key(&user_pk(&resident.user_id), PROFILE_SK));
    Ok(item)
}

pub(super) fn resident_from(mut item: Item) -> Result<Resident, StoreError> {
    item.remove("pk");
    item.remove("sk");
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(format!("resident: {e}")))
}

/// The attributes an anchor entry's item has besides its key and `delivered`, as
/// (name, value) pairs for a `SET` update or a put.
pub(super) fn anchor_attributes(e: &AnchorEntry) -> Vec<(&'static str, AttributeValue)> {
    vec![
        ("apk", s(&anchor_partition(e.kind, e.date))),
        ("ask", s(&anchor_sort(e.date, &e.user_id, &e.subject))),
        ("kind", s(e.kind.key_prefix())),
        ("date", s(&e.date.to_string())),
        ("user", s(e.user_id.as_str())),
        ("subject", s(&e.subject)),
        ("easy", AttributeValue::Bool(e.easy_japanese)),
        (
            "settings",
            // A struct of strings and string sets always converts; an empty map is the default.
            serde_dynamo::to_attribute_value(&e.settings)
                .unwrap_or_else(|_| AttributeValue::M(HashMap::new())),
        ),
        (
            "nickname",
            match &e.nickname {
                Some(name) => s(name),
                None => AttributeValue::Null(true),
            },
        ),
    ]
}

pub(super) fn anchor_item(e: &AnchorEntry) -> Item {
    let mut item = key(&user_pk(&e.user_id), &anchor_sk(&e.subject));
    for (name, value) in anchor_attributes(e) {
        item.insert(name.to_string(), value);
    }
    item
}

pub(super) fn delivered_from(item: &Item) -> BTreeSet<String> {
    match item.get(DELIVERED) {
        Some(AttributeValue::Ss(ids)) => ids.iter().cloned().collect(),
        _ => BTreeSet::new(),
    }
}

/// The last step sent of each series, from an entry's `step#<series>` attributes.
pub(super) fn steps_from(item: &Item) -> BTreeMap<String, u32> {
    item.iter()
        .filter_map(|(name, value)| {
            let series = name.strip_prefix(STEP_PREFIX)?;
            match value {
                AttributeValue::N(n) => Some((series.to_string(), n.parse().ok()?)),
                _ => None,
            }
        })
        .collect()
}

pub(super) fn anchor_from(item: &Item) -> Result<AnchorEntry, StoreError> {
    let kind = match string(item, "kind")?.as_str() {
        "due" => AnchorKind::DueDate,
        "birth" => AnchorKind::BirthDate,
        other => {
            return Err(StoreError::Corrupt(format!(
                "unknown anchor kind `{other}`"
            )));
        }
    };
    let date = crate::dates::parse_ymd(&string(item, "date")?)
        .ok_or_else(|| StoreError::Corrupt("anchor date is not YYYY-MM-DD".into()))?;
    let user_id = UserId::parse(&string(item, "user")?)
        .ok_or_else(|| StoreError::Corrupt("anchor user id is malformed".into()))?;
    Ok(AnchorEntry {
        kind,
        date,
        user_id,
        subject: string(item, "subject")?,
        easy_japanese: matches!(item.get("easy"), Some(AttributeValue::Bool(true))),
        // Entries written before settings existed have none: the default.
        settings: match item.get("settings") {
            Some(v) => serde_dynamo::from_attribute_value(v.clone())
                .map_err(|e| StoreError::Corrupt(format!("anchor settings: {e}")))?,
            None => Settings::default(),
        },
        nickname: match item.get("nickname") {
            Some(AttributeValue::S(name)) => Some(name.clone()),
            _ => None,
        },
        delivered: delivered_from(item),
        steps: steps_from(item),
    })
}

/// `SET #a0 = :a0, #a1 = :a1, …` with its names and values: DynamoDB reserves words such as
/// `date` and `user`, so every attribute goes through a placeholder.
pub(super) fn set_expression(
    attributes: Vec<(&'static str, AttributeValue)>,
) -> (String, HashMap<String, String>, Item) {
    let mut parts = Vec::with_capacity(attributes.len());
    let mut names = HashMap::new();
    let mut values = Item::new();
    for (i, (name, value)) in attributes.into_iter().enumerate() {
        parts.push(format!("#a{i} = :a{i}"));
        names.insert(format!("#a{i}"), name.to_string());
        values.insert(format!(":a{i}"), value);
    }
    (format!("SET {}", parts.join(", ")), names, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_attributes_not_a_json_string() {
        let mut r = Resident::new(UserId::parse("Uabc").expect("id"));
        r.version = 3;
        r.add_child(NaiveDate::from_ymd_opt(2025, 1, 2).expect("date"));
        let item = profile_item(&r).expect("item");
        assert_eq!(item.get("version"), Some(&n(3)));
        assert_eq!(
            item.get("easy_japanese"),
            Some(&AttributeValue::Bool(false))
        );
        assert!(matches!(item.get("children"), Some(AttributeValue::L(_))));
        assert_eq!(resident_from(item).expect("back"), r);
    }

    #[test]
    fn the_cost_model_sizes_an_anchor_item_as_it_is_stored() {
        let mut r = Resident::new(UserId::parse(&format!("U{:032x}", 5)).expect("id"));
        r.add_child(NaiveDate::from_ymd_opt(2025, 1, 2).expect("date"));
        r.settings.district = Some("chuo".into());
        r.settings.nursery = Some("planning".into());
        r.settings
            .muted
            .extend(["events".to_string(), "daily".to_string()]);
        r.settings.household.insert("multiple-birth".into());
        let mut e = r.anchor_entries().remove(0);
        e.nickname = Some("はるちゃん".into());
        let mut item = anchor_item(&e);
        assert_eq!(item_size(&item) as u64, crate::cost::anchor_item_bytes(&e));
        item.insert(
            DELIVERED.into(),
            AttributeValue::Ss(vec!["one-week".into(), "bcg".into()]),
        );
        e.delivered
            .extend(["one-week".to_string(), "bcg".to_string()]);
        assert_eq!(item_size(&item) as u64, crate::cost::anchor_item_bytes(&e));
        // Numbers (the series' steps) are sized exactly there, at their upper bound here.
    }

    #[test]
    fn anchors_round_trip_with_their_delivered_milestones() {
        let mut r = Resident::new(UserId::parse("Uabc").expect("id"));
        r.add_child(NaiveDate::from_ymd_opt(2025, 1, 2).expect("date"));
        let mut e = r.anchor_entries().remove(0);
        let mut item = anchor_item(&e);
        assert_eq!(anchor_from(&item).expect("entry"), e);
        item.insert(DELIVERED.into(), AttributeValue::Ss(vec!["m1".into()]));
        e.delivered.insert("m1".into());
        assert_eq!(anchor_from(&item).expect("entry"), e);
        item.insert(step_attribute("daily"), n(12));
        e.steps.insert("daily".into(), 12);
        assert_eq!(anchor_from(&item).expect("entry"), e);
        e.settings.district = Some("chuo".into());
        e.settings.muted.insert("events".into());
        e.nickname = Some("はる".into());
        let mut item = anchor_item(&e);
        item.insert(DELIVERED.into(), AttributeValue::Ss(vec!["m1".into()]));
        item.insert(step_attribute("daily"), n(12));
        assert_eq!(anchor_from(&item).expect("entry"), e);
        assert_eq!(item.get("apk"), Some(&s("birth#2025-01")));
    }
}
