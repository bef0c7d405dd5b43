//! The DynamoDB [`Store`]: one table, keyed `pk`/`sk`, plus the `anchors` GSI the daily scan
//! reads. Items:
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | resident | `user#<id>` | `profile` | `doc` (JSON), `version` |
//! | anchor entry | `user#<id>` | `anchor#<subject>` | GSI `apk` = `birth#2025-11`, `ask` = `20#<id>#<subject>` |
//! | webhook event seen | `event#<id>` | `claim` | `expires_at` (TTL) |
//! | delivery made | `delivered#<scope>` | `user#<id>` | `expires_at` (TTL) |
//! | job finished | `job#<id>` | `done` | `expires_at` (TTL) |
//! | catalog | `catalog` | `current` | `yaml`, `sha256`, `published_at` |
//!
//! An anchor range always lies inside one month, so each lookup is one GSI Query on one
//! partition key with `BETWEEN` on the day prefix: cost follows what is due, never who is
//! registered. A resident and its anchor entries change in one transaction conditioned on the
//! version that was read. DynamoDB's TTL deletes expired items only eventually, so every read
//! of an idempotency record also compares `expires_at` with the caller's clock.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, PutRequest, TransactWriteItem, WriteRequest,
};
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{AnchorEntry, AnchorKind, AnchorRange, Resident, UserId};
use crate::store::{DELIVERY_RECORD_TTL, EVENT_CLAIM_TTL, Store, StoreError};

/// The GSI over (`apk`, `ask`).
pub const ANCHOR_INDEX: &str = "anchors";
/// The attribute DynamoDB's TTL is configured on.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// DynamoDB's per-request limits.
const BATCH_GET_MAX_KEYS: usize = 100;
const BATCH_WRITE_MAX_ITEMS: usize = 25;
/// Rounds of unprocessed-item retries before a batch is reported as unavailable.
const BATCH_ROUNDS: u32 = 8;
/// A delete that races with a save is redone this often before giving up.
const DELETE_ATTEMPTS: usize = 3;

type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStore {
        DynamoStore {
            client,
            table: table.into(),
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

    /// The published catalog's YAML, if any (see [`crate::aws::publish_catalog`]).
    pub async fn catalog_yaml(&self) -> Result<Option<PublishedCatalog>, StoreError> {
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
        Ok(Some(PublishedCatalog {
            yaml: string(&item, "yaml")?,
            sha256: string(&item, "sha256")?,
            published_at: string(&item, "published_at")?,
        }))
    }

    /// Replaces the live catalog. Callers validate first (`sukusuku catalog publish`).
    pub async fn put_catalog_yaml(
        &self,
        yaml: &str,
        sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut item = key(CATALOG_PK, CATALOG_SK);
        item.insert("yaml".into(), s(yaml));
        item.insert("sha256".into(), s(sha256));
        item.insert("published_at".into(), s(&now.to_rfc3339()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
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
        self.batch_write(requests).await?;
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
        out.item.map(|item| resident_from(&item)).transpose()
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(transaction_failure(e)),
        }
    }

    /// Writes in batches of 25, retrying unprocessed items with backoff.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(BATCH_WRITE_MAX_ITEMS) {
            let mut pending = chunk.to_vec();
            let mut round = 0;
            while !pending.is_empty() {
                if round == BATCH_ROUNDS {
                    return Err(StoreError::Unavailable(format!(
                        "{} writes still unprocessed after {BATCH_ROUNDS} rounds",
                        pending.len()
                    )));
                }
                backoff(round).await;
                round += 1;
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(classify)?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }

    /// Reads keys in batches of 100 (consistently), retrying unprocessed keys with backoff.
    async fn batch_get(&self, keys: Vec<Item>, projection: &str) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH_GET_MAX_KEYS) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .projection_expression(projection)
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Rejected(e.to_string()))?,
            );
            let mut round = 0;
            while let Some(request) = pending.take() {
                if request.keys().is_empty() {
                    break;
                }
                if round == BATCH_ROUNDS {
                    return Err(StoreError::Unavailable(format!(
                        "{} reads still unprocessed after {BATCH_ROUNDS} rounds",
                        request.keys().len()
                    )));
                }
                backoff(round).await;
                round += 1;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(classify)?;
                if let Some(mut responses) = out.responses {
                    found.extend(responses.remove(&self.table).unwrap_or_default());
                }
                pending = out.unprocessed_keys.and_then(|mut m| m.remove(&self.table));
            }
        }
        Ok(found)
    }

    async fn live_record(
        &self,
        pk: &str,
        sk: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .projection_expression("#e")
            .expression_attribute_names("#e", TTL_ATTRIBUTE)
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item.is_some_and(|item| is_live(&item, now)))
    }
}

/// The catalog as published to the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedCatalog {
    pub yaml: String,
    pub sha256: String,
    pub published_at: String,
}

const PROFILE_SK: &str = "profile";
const CATALOG_PK: &str = "catalog";
const CATALOG_SK: &str = "current";

fn user_pk(user: &UserId) -> String {
    format!("user#{}", user.as_str())
}

fn anchor_sk(subject: &str) -> String {
    format!("anchor#{subject}")
}

/// The GSI partition: one anchor kind in one month.
fn anchor_partition(kind: AnchorKind, date: NaiveDate) -> String {
    format!("{}#{}", kind.key_prefix(), date.format("%Y-%m"))
}

fn anchor_sort(date: NaiveDate, user: &UserId, subject: &str) -> String {
    format!("{}#{}#{}", date.format("%d"), user.as_str(), subject)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

fn string(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(StoreError::Corrupt(format!(
            "attribute `{name}` is missing"
        ))),
    }
}

fn number(item: &Item, name: &str) -> Result<i64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("attribute `{name}` is not an integer"))),
        _ => Err(StoreError::Corrupt(format!(
            "attribute `{name}` is missing"
        ))),
    }
}

fn is_live(item: &Item, now: DateTime<Utc>) -> bool {
    number(item, TTL_ATTRIBUTE).is_ok_and(|at| at > now.timestamp())
}

fn resident_from(item: &Item) -> Result<Resident, StoreError> {
    let doc = string(item, "doc")?;
    let mut resident: Resident = serde_json::from_str(&doc)
        .map_err(|e| StoreError::Corrupt(format!("resident document: {e}")))?;
    resident.version = u64::try_from(number(item, "version")?)
        .map_err(|_| StoreError::Corrupt("negative version".into()))?;
    Ok(resident)
}

fn profile_item(resident: &Resident) -> Result<Item, StoreError> {
    let doc = serde_json::to_string(resident)
        .map_err(|e| StoreError::Rejected(format!("resident document: {e}")))?;
    let mut item = key(&user_pk(&resident.user_id), PROFILE_SK);
    item.insert("doc".into(), s(&doc));
    item.insert("version".into(), n(resident.version as i64));
    Ok(item)
}

fn anchor_item(e: &AnchorEntry) -> Item {
    let mut item = key(&user_pk(&e.user_id), &anchor_sk(&e.subject));
    item.insert("apk".into(), s(&anchor_partition(e.kind, e.date)));
    item.insert(
        "ask".into(),
        s(&anchor_sort(e.date, &e.user_id, &e.subject)),
    );
    item.insert("kind".into(), s(e.kind.key_prefix()));
    item.insert("date".into(), s(&e.date.to_string()));
    item.insert("user".into(), s(e.user_id.as_str()));
    item.insert("subject".into(), s(&e.subject));
    item.insert("easy".into(), AttributeValue::Bool(e.easy_japanese));
    item
}

fn anchor_from(item: &Item) -> Result<AnchorEntry, StoreError> {
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
    })
}

/// A condition expression with its values, split the way the SDK builders take them.
fn condition_parts(condition: Option<(&str, Item)>) -> (Option<String>, Option<Item>) {
    match condition {
        None => (None, None),
        Some((expr, values)) => (
            Some(expr.to_string()),
            (!values.is_empty()).then_some(values),
        ),
    }
}

impl DynamoStore {
    fn put(
        &self,
        item: Item,
        condition: Option<(&str, Item)>,
    ) -> Result<TransactWriteItem, StoreError> {
        let (expr, values) = condition_parts(condition);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(expr)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn delete(
        &self,
        key: Item,
        condition: Option<(&str, Item)>,
    ) -> Result<TransactWriteItem, StoreError> {
        let (expr, values) = condition_parts(condition);
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .set_condition_expression(expr)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

/// One put in a `BatchWriteItem`.
fn put_request(item: Item) -> Result<WriteRequest, StoreError> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(|e| StoreError::Rejected(e.to_string()))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

/// The keys of the delivery records of `scope` for each distinct user.
fn delivery_keys(scope: &str, users: &[UserId]) -> Vec<Item> {
    let pk = format!("delivered#{scope}");
    let mut unique: Vec<&UserId> = users.iter().collect();
    unique.sort();
    unique.dedup();
    unique.into_iter().map(|u| key(&pk, &user_pk(u))).collect()
}

/// The condition that the stored profile is still at `version` (0: absent).
fn version_condition(version: u64) -> (&'static str, Item) {
    if version == 0 {
        ("attribute_not_exists(pk)", Item::new())
    } else {
        (
            "version = :v",
            HashMap::from([(":v".to_string(), n(version as i64))]),
        )
    }
}

/// Throttling, timeouts and 5xx are worth retrying; a refused request is not.
fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    e: SdkError<E>,
) -> StoreError {
    let retryable_code = matches!(
        e.code(),
        Some(
            "ThrottlingException"
                | "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable"
                | "TransactionInProgressException"
        )
    );
    let detail = aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string();
    match e {
        SdkError::ServiceError(_) if !retryable_code => StoreError::Rejected(detail),
        _ => StoreError::Unavailable(detail),
    }
}

fn transaction_failure(e: SdkError<TransactWriteItemsError>) -> StoreError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error() {
        let lost_race = c.cancellation_reasons().iter().any(|r| {
            matches!(
                r.code(),
                Some("ConditionalCheckFailed" | "TransactionConflict")
            )
        });
        if lost_race {
            return StoreError::Conflict;
        }
        let throttled = c.cancellation_reasons().iter().any(|r| {
            matches!(
                r.code(),
                Some("ThrottlingError" | "ProvisionedThroughputExceeded")
            )
        });
        if throttled {
            return StoreError::Unavailable("transaction throttled".into());
        }
    }
    classify(e)
}

async fn backoff(round: u32) {
    if round > 0 {
        let ms = 25u64 << round.min(6);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

impl Store for DynamoStore {
    async fn resident(&self, user: &UserId) -> Result<Option<Resident>, StoreError> {
        self.profile(user).await
    }

    async fn save_resident(&self, resident: &Resident) -> Result<Resident, StoreError> {
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
        let mut items = vec![self.put(
            profile_item(&next)?,
            Some(version_condition(resident.version)),
        )?];
        let new = next.anchor_entries();
        let keep: HashSet<&str> = new.iter().map(|e| e.subject.as_str()).collect();
        for e in &new {
            if old.get(&e.subject) != Some(e) {
                items.push(self.put(anchor_item(e), None)?);
            }
        }
        for subject in old.keys().filter(|s| !keep.contains(s.as_str())) {
            items.push(self.delete(key(&user_pk(&resident.user_id), &anchor_sk(subject)), None)?);
        }
        self.transact(items).await?;
        Ok(next)
    }

    async fn delete_resident(&self, user: &UserId) -> Result<bool, StoreError> {
        for _ in 0..DELETE_ATTEMPTS {
            let Some(stored) = self.profile(user).await? else {
                return Ok(false);
            };
            let mut items = vec![self.delete(
                key(&user_pk(user), PROFILE_SK),
                Some(version_condition(stored.version)),
            )?];
            for e in stored.anchor_entries() {
                items.push(self.delete(key(&user_pk(user), &anchor_sk(&e.subject)), None)?);
            }
            match self.transact(items).await {
                Ok(()) => return Ok(true),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    async fn anchored(&self, range: &AnchorRange) -> Result<Vec<AnchorEntry>, StoreError> {
        let partition = anchor_partition(range.kind, range.first);
        // `$` sorts right after `#`, so "31$" is above every "31#…" key.
        let low = range.first.format("%d").to_string();
        let high = format!("{}$", range.last.format("%d"));
        let mut entries = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(ANCHOR_INDEX)
                .key_condition_expression("apk = :p AND ask BETWEEN :lo AND :hi")
                .expression_attribute_values(":p", s(&partition))
                .expression_attribute_values(":lo", s(&low))
                .expression_attribute_values(":hi", s(&high))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for item in out.items() {
                entries.push(anchor_from(item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(entries)
    }

    async fn claim_event(&self, event_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut item = key(&format!("event#{event_id}"), "claim");
        item.insert(TTL_ATTRIBUTE.into(), n((now + EVENT_CLAIM_TTL).timestamp()));
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #e <= :now")
            .expression_attribute_names("#e", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", n(now.timestamp()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }

    async fn release_event(&self, event_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&format!("event#{event_id}"), "claim")))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn delivered_among(
        &self,
        scope: &str,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<HashSet<UserId>, StoreError> {
        let found = self
            .batch_get(delivery_keys(scope, users), "sk, expires_at")
            .await?;
        Ok(found
            .iter()
            .filter(|item| is_live(item, now))
            .filter_map(|item| string(item, "sk").ok())
            .filter_map(|sk| sk.strip_prefix("user#").and_then(UserId::parse))
            .collect())
    }

    async fn record_delivery(
        &self,
        job_id: &str,
        scope: &str,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let expires = n((now + DELIVERY_RECORD_TTL).timestamp());
        let mut requests = Vec::with_capacity(users.len());
        for mut item in delivery_keys(scope, users) {
            item.insert(TTL_ATTRIBUTE.into(), expires.clone());
            requests.push(put_request(item)?);
        }
        self.batch_write(requests).await?;
        // Last, so a job is only "done" once every recipient is recorded.
        let mut job = key(&format!("job#{job_id}"), "done");
        job.insert(TTL_ATTRIBUTE.into(), expires);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn job_done(&self, job_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.live_record(&format!("job#{job_id}"), "done", now)
            .await
    }
}

/// Creates a table shaped like `template.yaml`'s, for tests and benchmarks against moto;
/// deployed tables come from the template (a test keeps the two in step).
pub async fn create_table(client: &Client, name: &str) -> Result<(), StoreError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))
    };
    let key_el = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))
    };
    let index = GlobalSecondaryIndex::builder()
        .index_name(ANCHOR_INDEX)
        .key_schema(key_el("apk", KeyType::Hash)?)
        .key_schema(key_el("ask", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| StoreError::Rejected(e.to_string()))?;
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .attribute_definitions(attr("apk")?)
        .attribute_definitions(attr("ask")?)
        .key_schema(key_el("pk", KeyType::Hash)?)
        .key_schema(key_el("sk", KeyType::Range)?)
        .global_secondary_indexes(index)
        .send()
        .await
        .map_err(classify)?;
    Ok(())
}
