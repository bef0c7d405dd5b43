//! The DynamoDB [`Store`]: one table, keyed `pk`/`sk`, plus the `anchors` GSI the daily scan
//! reads. The items are listed in [`codec`].
//!
//! An anchor range always lies inside one month, so each lookup is one GSI Query on one
//! partition key with `BETWEEN` on the day prefix: cost follows what is due, never who is
//! registered. A resident and its anchor entries change in one transaction conditioned on the
//! version that was read, together with the webhook event's claim. DynamoDB's TTL deletes
//! expired items only eventually, so every read of an idempotency record also compares
//! `expires_at` with the caller's clock.

mod batch;
mod bookings;
mod codec;
mod error;
#[cfg(feature = "testing")]
mod seed;
mod table;
mod waitlist;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, PutRequest, TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{StreamExt, TryStreamExt, stream};

use self::batch::{batch_get, batch_write};
use self::codec::{
    CATALOG_PK, CATALOG_SK, CLAIM_SK, DELIVERED, Item, PROFILE_SK, SCAN_PK, anchor_attributes,
    anchor_from, anchor_item, anchor_partition, anchor_sk, delivered_from, event_pk, key, n,
    profile_item, resident_from, s, set_expression, step_attribute, steps_from, string, user_pk,
};
use self::error::{classify, is_condition_failure, transaction_failure};
use crate::catalog::CatalogSource;
use crate::delivery::{Mark, Recipient};
use crate::domain::{AnchorEntry, AnchorRange, Resident, UserId};
use crate::reservations::SlotRef;
use crate::store::{EVENT_CLAIM_TTL, EventClaim, SCAN_RECORD_TTL, Store, StoreError, still_due};
pub use table::create_table;

/// The GSI over (`apk`, `ask`).
pub const ANCHOR_INDEX: &str = "anchors";
/// The attribute DynamoDB's TTL is configured on.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// DynamoDB's limit of items in one `TransactWriteItems`.
const TRANSACTION_MAX_ITEMS: usize = 100;
/// Delivery records written at once (one `UpdateItem` each).
const RECORD_CONCURRENCY: usize = 16;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Set only for moto (see [`DynamoStore::with_serialized_transactions`]).
    transaction_turns: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
}

/// DynamoDB's limit on one item: a published catalog must fit it.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The catalog as published to the table: the catalog and its files, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedCatalog {
    pub source: CatalogSource,
    pub sha256: String,
    pub published_at: String,
}

/// The catalog's item, built and measured before it is written, so a publish that cannot
/// fit is refused with its sizes instead of DynamoDB's bare error.
#[derive(Debug, Clone)]
pub struct CatalogItem {
    item: Item,
    /// The catalog and its files, in bytes of UTF-8.
    pub text_bytes: usize,
    /// The same, compressed.
    pub compressed_bytes: usize,
    /// The whole item as DynamoDB counts it.
    pub item_bytes: usize,
}

impl CatalogItem {
    pub fn new(
        source: &CatalogSource,
        sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<CatalogItem, StoreError> {
        let bundle = codec::compress_catalog(source)?;
        let text_bytes = source.text_bytes();
        let compressed_bytes = bundle.len();
        let mut item = key(CATALOG_PK, CATALOG_SK);
        item.insert("bundle".into(), AttributeValue::B(bundle.into()));
        item.insert("sha256".into(), s(sha256));
        item.insert("published_at".into(), s(&now.to_rfc3339()));
        item.insert("text_bytes".into(), n(text_bytes as i64));
        Ok(CatalogItem {
            item_bytes: codec::item_size(&item),
            item,
            text_bytes,
            compressed_bytes,
        })
    }

    pub fn fits(&self) -> bool {
        self.item_bytes <= MAX_ITEM_BYTES
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStore {
        DynamoStore {
            client,
            table: table.into(),
            transaction_turns: None,
        }
    }

    /// For moto only: this store's transactions take turns. moto's `TransactWriteItems` is
    /// not isolated (it checks and writes item by item while other requests run, and a
    /// cancelled one restores a copy of the whole table taken when it started, undoing
    /// writes that finished in between); DynamoDB's are serializable. Reads and single-item
    /// writes still race freely, and conditions still decide every outcome.
    #[cfg(feature = "testing")]
    pub fn with_serialized_transactions(mut self) -> DynamoStore {
        self.transaction_turns = Some(Default::default());
        self
    }

    /// The turn of one transaction (nothing to wait for, except on moto).
    async fn transaction_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.transaction_turns {
            Some(turns) => Some(turns.lock().await),
            None => None,
        }
    }

    pub fn from_config(config: &aws_config::SdkConfig, table: impl Into<String>) -> DynamoStore {
        DynamoStore::new(Client::new(config), table)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The published catalog and its files, if any (see [`crate::aws::publish_catalog`]).
    pub async fn published_catalog(&self) -> Result<Option<PublishedCatalog>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(CATALOG_PK, CATALOG_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let source = match (item.get("bundle"), item.get("yaml")) {
            (Some(AttributeValue::B(bundle)), _) => codec::decompress_catalog(bundle.as_ref())?,
            // Published before catalogs had files: the YAML alone, as it was.
            (None, Some(AttributeValue::S(yaml))) => CatalogSource::without_files(yaml.clone()),
            _ => {
                return Err(StoreError::Corrupt(
                    "the catalog item has neither `bundle` nor `yaml`".into(),
                ));
            }
        };
        Ok(Some(PublishedCatalog {
            source,
            sha256: string(&item, "sha256")?,
            published_at: string(&item, "published_at")?,
        }))
    }

    /// Replaces the live catalog. Callers validate first (`sukusuku catalog publish`) and
    /// check that it [fits](CatalogItem::fits).
    pub async fn put_catalog(&self, catalog: CatalogItem) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(catalog.item))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Bulk-loads residents that are not stored yet (a migration from another system, or a
    /// benchmark's population) with `BatchWriteItem`: 25 items a request instead of one
    /// transaction each. Unlike [`Store::save_resident`] it checks no versions, so it must
    /// not be used on residents that may already exist. Returns the stored copies.
    pub async fn import(&self, residents: &[Resident]) -> Result<Vec<Resident>, StoreError> {
        let mut requests = Vec::new();
        let mut stored = Vec::with_capacity(residents.len());
        for r in residents {
            let mut next = r.clone();
            next.version = 1;
            requests.push(put_request(profile_item(&next)?)?);
            for e in next.anchor_entries() {
                requests.push(put_request(anchor_item(&e))?);
            }
            stored.push(next);
        }
        batch_write(&self.client, &self.table, requests).await?;
        Ok(stored)
    }

    async fn profile(&self, user: &UserId) -> Result<Option<Resident>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(&user_pk(user), PROFILE_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(resident_from).transpose()
    }

    /// Every item under the resident's partition: the keys and, for the profile, its version,
    /// for a booking, its status and slot, for a place on a waiting list, the place.
    async fn partition(&self, user: &UserId) -> Result<Vec<Item>, StoreError> {
        self.query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(&user_pk(user)))
                .projection_expression("pk, sk, version, #st, #sl, #fo, #ja, #ou")
                .expression_attribute_names("#st", bookings::STATUS)
                .expression_attribute_names("#sl", bookings::SLOT)
                .expression_attribute_names("#fo", "for")
                .expression_attribute_names("#ja", waitlist::JOINED_AT)
                .expression_attribute_names("#ou", waitlist::OFFERED_UNTIL)
                .consistent_read(true),
        )
        .await
    }

    /// Every item a Query finds, page after page.
    pub(super) async fn query_all(
        &self,
        query: QueryFluentBuilder,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = query
                .clone()
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// Runs one transaction; the claim, if any, goes last.
    async fn transact(
        &self,
        mut items: Vec<TransactWriteItem>,
        claim: Option<&EventClaim>,
    ) -> Result<(), StoreError> {
        let claim_at = match claim {
            Some(c) => {
                items.push(self.claim_put(c)?);
                Some(items.len() - 1)
            }
            None => None,
        };
        let _turn = self.transaction_turn().await;
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(|e| transaction_failure(e, claim_at))?;
        Ok(())
    }

    fn claim_item(claim: &EventClaim) -> Item {
        let mut item = key(&event_pk(&claim.event_id), CLAIM_SK);
        item.insert(
            TTL_ATTRIBUTE.into(),
            n((claim.now + EVENT_CLAIM_TTL).timestamp()),
        );
        item
    }

    /// Claims are new, or expired (TTL deletes only eventually).
    const CLAIM_CONDITION: &str = "attribute_not_exists(pk) OR #e <= :now";

    fn claim_put(&self, claim: &EventClaim) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::claim_item(claim)))
            .condition_expression(Self::CLAIM_CONDITION)
            .expression_attribute_names("#e", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", n(claim.now.timestamp()))
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn profile_put(
        &self,
        next: &Resident,
        read_version: u64,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(profile_item(next)?));
        let put = if read_version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :v")
                .expression_attribute_values(":v", n(read_version as i64))
        };
        let put = put
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Sets an anchor entry's attributes without touching its `delivered` set, so a corrected
    /// date keeps what was delivered.
    fn anchor_update(&self, e: &AnchorEntry) -> Result<TransactWriteItem, StoreError> {
        let (expression, names, values) = set_expression(anchor_attributes(e));
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&user_pk(&e.user_id), &anchor_sk(&e.subject))))
            .update_expression(expression)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn delete(&self, key: Item, version: Option<u64>) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder().table_name(&self.table).set_key(Some(key));
        let delete = match version {
            Some(v) => delete
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(v as i64)),
            None => delete,
        };
        let delete = delete
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Records `mark` on one anchor entry if the entry still exists: a milestone is added to
    /// `delivered`; a step raises `step#<series>` and never lowers it.
    async fn mark_delivered(
        &self,
        user: &UserId,
        subject: &str,
        mark: &Mark<'_>,
    ) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&user_pk(user), &anchor_sk(subject))));
        let request = match *mark {
            Mark::Reminder { slot } => {
                let Some(id) = crate::reservations::BookingId::parse(subject) else {
                    return Ok(());
                };
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(bookings::booking_key(user, &id)))
                    .update_expression("SET #r = :slot")
                    .condition_expression("attribute_exists(pk) AND #st = :booked AND #sl = :slot")
                    .expression_attribute_names("#r", bookings::REMINDED)
                    .expression_attribute_names("#st", bookings::STATUS)
                    .expression_attribute_names("#sl", bookings::SLOT)
                    .expression_attribute_values(":slot", s(slot))
                    .expression_attribute_values(":booked", s(bookings::STATUS_BOOKED))
            }
            Mark::Milestone(id) => request
                .update_expression("ADD #d :m")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#d", DELIVERED)
                .expression_attribute_values(":m", AttributeValue::Ss(vec![id.to_string()])),
            Mark::Step { series, day } => request
                .update_expression("SET #s = :n")
                .condition_expression(
                    "attribute_exists(pk) AND (attribute_not_exists(#s) OR #s < :n)",
                )
                .expression_attribute_names("#s", step_attribute(series))
                .expression_attribute_values(":n", n(day as i64)),
        };
        match request.send().await {
            Ok(_) => Ok(()),
            // Deleted meanwhile (a stop, a removed child): nothing to record, nothing left.
            // Or, for a step, a later one is already recorded: keep it.
            // A reminder for a booking let go or moved meanwhile: nothing to record.
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    /// Of `recipients` (予約番号 as subjects), who still gets the reminder for `slot`: the
    /// booking is active, still on that slot, and not reminded for it yet.
    async fn reminders_due(
        &self,
        slot: &str,
        recipients: &[Recipient],
    ) -> Result<Vec<Recipient>, StoreError> {
        let mut keys = Vec::new();
        for r in recipients {
            for subject in &r.subjects {
                if let Some(id) = crate::reservations::BookingId::parse(subject) {
                    keys.push(bookings::booking_key(&r.user, &id));
                }
            }
        }
        let found = batch_get(
            &self.client,
            &self.table,
            keys,
            "pk, sk, #st, #sl, #r",
            &[
                ("#st", bookings::STATUS),
                ("#sl", bookings::SLOT),
                ("#r", bookings::REMINDED),
            ],
        )
        .await?;
        let mut had: HashMap<(String, String), bool> = HashMap::new();
        for item in &found {
            let active = item.get(bookings::STATUS)
                == Some(&AttributeValue::S(bookings::STATUS_BOOKED.into()));
            let same_slot = item.get(bookings::SLOT) == Some(&AttributeValue::S(slot.into()));
            if active && same_slot {
                let sent = item.get(bookings::REMINDED) == Some(&AttributeValue::S(slot.into()));
                had.insert((string(item, "pk")?, string(item, "sk")?), sent);
            }
        }
        Ok(still_due(recipients, |user, subject| {
            let key = (
                user_pk(user),
                format!("{}{subject}", bookings::BOOKING_PREFIX),
            );
            had.get(&key).copied()
        }))
    }
}

/// What a stop takes from one slot: the resident's items that held its seats or places in
/// line, and those seats and places.
#[derive(Default)]
struct SlotExit {
    deletes: Vec<TransactWriteItem>,
    seats: Vec<crate::reservations::BookingFor>,
    places: Vec<crate::reservations::Waiting>,
}

/// One put in a `BatchWriteItem`.
fn put_request(item: Item) -> Result<WriteRequest, StoreError> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(|e| StoreError::Rejected(e.to_string()))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

impl Store for DynamoStore {
    async fn resident(&self, user: &UserId) -> Result<Option<Resident>, StoreError> {
        self.profile(user).await
    }

    async fn save_resident(
        &self,
        resident: &Resident,
        claim: Option<&EventClaim>,
    ) -> Result<Resident, StoreError> {
        // The stored copy tells which anchor entries exist now; the transaction's version
        // condition makes sure nobody changed them since.
        let stored = self.profile(&resident.user_id).await?;
        let stored_version = stored.as_ref().map_or(0, |r| r.version);
        if stored_version != resident.version {
            return Err(StoreError::Conflict);
        }
        let old: HashMap<String, AnchorEntry> = stored
            .map(|r| r.anchor_entries())
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.subject.clone(), e))
            .collect();
        let mut next = resident.clone();
        next.version = resident.version + 1;
        let mut items = vec![self.profile_put(&next, resident.version)?];
        let new = next.anchor_entries();
        for e in &new {
            if old.get(&e.subject) != Some(e) {
                items.push(self.anchor_update(e)?);
            }
        }
        for subject in old.keys().filter(|s| !new.iter().any(|e| &&e.subject == s)) {
            items.push(self.delete(key(&user_pk(&resident.user_id), &anchor_sk(subject)), None)?);
        }
        self.transact(items, claim).await?;
        Ok(next)
    }

    async fn delete_resident(
        &self,
        user: &UserId,
        claim: Option<&EventClaim>,
    ) -> Result<bool, StoreError> {
        let items = self.partition(user).await?;
        let mut profile_version = None;
        // Deletions that must happen together: what held a seat or a place in line goes with
        // it, so a stop frees every seat the resident held. Per slot, one update of the slot
        // item frees them all (a transaction touches an item once).
        let mut groups: Vec<Vec<TransactWriteItem>> = Vec::new();
        let mut slots: BTreeMap<SlotRef, SlotExit> = BTreeMap::new();
        for item in items {
            let sk = match item.get("sk") {
                Some(AttributeValue::S(sk)) => sk.clone(),
                _ => return Err(StoreError::Corrupt("an item has no sort key".into())),
            };
            if sk == PROFILE_SK {
                let version = match item.get("version") {
                    Some(AttributeValue::N(v)) => v.parse().ok(),
                    _ => None,
                };
                profile_version = Some(version.ok_or_else(|| {
                    StoreError::Corrupt("the profile has no readable version".into())
                })?);
                continue;
            }
            let k = key(&user_pk(user), &sk);
            if sk.starts_with(waitlist::WAIT_PREFIX) {
                let place = waitlist::wait_from(user, &item)?;
                let exit = slots.entry(place.slot.clone()).or_default();
                exit.deletes.push(self.delete(k, None)?);
                exit.places.push(place);
                continue;
            }
            let active_slot = match (item.get(bookings::STATUS), item.get(bookings::SLOT)) {
                (Some(AttributeValue::S(status)), Some(AttributeValue::S(slot)))
                    if sk.starts_with(bookings::BOOKING_PREFIX) && status == "booked" =>
                {
                    Some(slot.clone())
                }
                _ => None,
            };
            match active_slot {
                Some(slot) => {
                    let parsed = SlotRef::parse(&slot).ok_or_else(|| {
                        StoreError::Corrupt("a booking's slot is malformed".into())
                    })?;
                    let who = match item.get("for") {
                        Some(AttributeValue::S(w)) => crate::reservations::BookingFor(w.clone()),
                        _ => {
                            return Err(StoreError::Corrupt(
                                "a booking names no registration".into(),
                            ));
                        }
                    };
                    let exit = slots.entry(parsed).or_default();
                    exit.deletes.push(self.delete_active_booking(k, &slot)?);
                    exit.seats.push(who);
                }
                None => groups.push(vec![self.delete(k, None)?]),
            }
        }
        for (slot, exit) in slots {
            let mut group = exit.deletes;
            group.push(self.slot_exit(&slot, user, &exit.seats, &exit.places)?);
            groups.push(group);
        }
        if profile_version.is_none() && groups.is_empty() {
            return match claim {
                Some(c) if !self.claim_event(c).await? => Err(StoreError::DuplicateEvent),
                _ => Ok(false),
            };
        }
        // The profile goes in the last transaction, conditioned on the version read: a save
        // or booking in between (which could add an item this Query missed) makes it a
        // conflict, and the turn is redone. Earlier transactions only exist for more than
        // ~100 items.
        let mut last = Vec::new();
        if let Some(v) = profile_version {
            last.push(self.delete(key(&user_pk(user), PROFILE_SK), Some(v))?);
        }
        let room = TRANSACTION_MAX_ITEMS - 1;
        while let Some(group) = groups.pop_if(|g| last.len() + g.len() <= room) {
            last.extend(group);
        }
        let mut earlier: Vec<TransactWriteItem> = Vec::new();
        for group in groups {
            if earlier.len() + group.len() > TRANSACTION_MAX_ITEMS {
                self.transact(std::mem::take(&mut earlier), None).await?;
            }
            earlier.extend(group);
        }
        if !earlier.is_empty() {
            self.transact(earlier, None).await?;
        }
        self.transact(last, claim).await?;
        Ok(profile_version.is_some())
    }

    async fn claim_event(&self, claim: &EventClaim) -> Result<bool, StoreError> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::claim_item(claim)))
            .condition_expression(Self::CLAIM_CONDITION)
            .expression_attribute_names("#e", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", n(claim.now.timestamp()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }

    async fn anchored(&self, range: &AnchorRange) -> Result<Vec<AnchorEntry>, StoreError> {
        let partition = anchor_partition(range.kind, range.first);
        // `$` sorts right after `#`, so "31$" is above every "31#…" key.
        let low = range.first.format("%d").to_string();
        let high = format!("{}$", range.last.format("%d"));
        let items = self
            .query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(ANCHOR_INDEX)
                    .key_condition_expression("apk = :p AND ask BETWEEN :lo AND :hi")
                    .expression_attribute_values(":p", s(&partition))
                    .expression_attribute_values(":lo", s(&low))
                    .expression_attribute_values(":hi", s(&high)),
            )
            .await?;
        let entries = items
            .iter()
            .map(anchor_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(entries)
    }

    async fn undelivered(
        &self,
        mark: &Mark<'_>,
        recipients: &[Recipient],
    ) -> Result<Vec<Recipient>, StoreError> {
        // Only the record this mark is about is read back.
        let record = match *mark {
            Mark::Milestone(_) => DELIVERED.to_string(),
            Mark::Step { series, .. } => step_attribute(series),
            Mark::Reminder { slot } => return self.reminders_due(slot, recipients).await,
        };
        let mut keys = BTreeSet::new();
        for r in recipients {
            for subject in &r.subjects {
                keys.insert((user_pk(&r.user), anchor_sk(subject)));
            }
        }
        let keys = keys.iter().map(|(pk, sk)| key(pk, sk)).collect();
        let found = batch_get(
            &self.client,
            &self.table,
            keys,
            "pk, sk, #r",
            &[("#r", record.as_str())],
        )
        .await?;
        let mut had: HashMap<(String, String), bool> = HashMap::new();
        for item in &found {
            let done = mark.had(Some(&delivered_from(item)), Some(&steps_from(item)));
            had.insert((string(item, "pk")?, string(item, "sk")?), done);
        }
        Ok(still_due(recipients, |user, subject| {
            had.get(&(user_pk(user), anchor_sk(subject))).copied()
        }))
    }

    async fn record_delivery(
        &self,
        mark: &Mark<'_>,
        recipients: &[Recipient],
    ) -> Result<(), StoreError> {
        let mut marks = Vec::new();
        for r in recipients {
            for subject in &r.subjects {
                marks.push((r.user.clone(), subject.clone()));
            }
        }
        stream::iter(marks)
            .map(|(user, subject)| async move { self.mark_delivered(&user, &subject, mark).await })
            .buffer_unordered(RECORD_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn record_scan(&self, day: NaiveDate, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut item = key(SCAN_PK, &day.to_string());
        item.insert("completed_at".into(), s(&now.to_rfc3339()));
        item.insert(TTL_ATTRIBUTE.into(), n((now + SCAN_RECORD_TTL).timestamp()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn last_scanned_before(&self, day: NaiveDate) -> Result<Option<NaiveDate>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk < :day")
            .expression_attribute_values(":pk", s(SCAN_PK))
            .expression_attribute_values(":day", s(&day.to_string()))
            .projection_expression("sk")
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(classify)?;
        match out.items().first() {
            None => Ok(None),
            Some(item) => crate::dates::parse_ymd(&string(item, "sk")?)
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt("a scan record's day is not YYYY-MM-DD".into())),
        }
    }
}
