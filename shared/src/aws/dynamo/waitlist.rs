//! The waiting list (キャンセル待ち) on DynamoDB: `join_waitlist` … `offer_seats` of
//! [`BookingStore`](crate::store::bookings::BookingStore); the items are listed in
//! [`codec`](super::codec).
//!
//! The slot item holds its list: `line` maps each registration in line (`<user>|<for>`, as
//! `holders` does) to when it joined and, while a seat is held for it, until when and whether
//! the push about it is queued (`t`, set by `offer_told` on the offer as it stands); `queued`
//! counts those without an offer, so a walk-in's condition is `queued = 0`. An offer counts in
//! `booked` like a booking, so no seat is ever both offered and booked, and taking the offer
//! leaves the count as it is. Each place also has an item under its resident's partition
//! (`wait#<slot>#<for>`), written in the same transactions: `waiting_of` is one Query, a stop
//! finds it with everything else of the resident, and on the GSI under the one partition
//! `waitlists` it is what the sweep's `waitlists` queries, so that costs what is on waiting
//! lists, never a scan.
//!
//! A change of a list is conditioned on the slot as it was read (its counts, and each entry
//! offered or not, and until when, as it was), so two sweeps at once never hold one seat for
//! two residents: the second finds its reading stale and reads again. Once bookings close,
//! the sweep's `offer_seats(slot, None, …)` ends the list: every place goes, item and GSI
//! entry with it, so the sweep no longer reads that slot.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use chrono::{DateTime, NaiveTime, SecondsFormat, Utc};

use super::batch::batch_get;
use super::bookings::{
    Attempt, BOOKED, CAPACITY, END, HOLDERS, SLOT_PREFIX, SlotItem, holder_booking, holder_name,
    instant, rejected, slot_from, slot_key,
};
use super::codec::{Item, key, n, s, string, user_pk};
use super::error::classify;
use super::{ANCHOR_INDEX, DynamoStore, TRANSACTION_MAX_ITEMS};
use crate::domain::UserId;
use crate::reservations::{BookingFor, ServiceId, SlotRef, Waiting, Waitlist};
use crate::store::StoreError;
use crate::store::bookings::{BookingError, Offers, Stranding, WaitChange, WaitRequest};

/// Slot attributes: the list (map), and how many in it have no offer.
pub(super) const LINE: &str = "line";
pub(super) const QUEUED: &str = "queued";
/// In a line entry: when the registration joined, and until when a seat is held for it.
const JOINED: &str = "j";
pub(super) const OFFER: &str = "o";
/// In a line entry with an offer: `true` once the push about it is queued.
const TOLD: &str = "t";
/// A place's item under its resident: `wait#<slot>#<for>`.
pub(super) const WAIT_PREFIX: &str = "wait#";
/// Wait item attributes (`slot` and `for` as a booking's).
pub(super) const JOINED_AT: &str = "joined_at";
pub(super) const OFFERED_UNTIL: &str = "offered_until";
/// On a place with an offer, as `t` on its line entry.
const WAIT_TOLD: &str = "told";
const SLOT: &str = "slot";
const FOR: &str = "for";
/// The GSI partition of every place on a waiting list.
const WAITLISTS_PARTITION: &str = "waitlists";
/// Places one transaction changes besides their slot item.
const ROOM: usize = TRANSACTION_MAX_ITEMS - 1;

/// An instant as a list stores it: fixed-width UTC, so the strings compare as the times do
/// (the condition that an offer is still live is a string comparison).
pub(super) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn parse_stamp(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn wait_key(user: &UserId, slot: &SlotRef, who: &BookingFor) -> Item {
    key(
        &user_pk(user),
        &format!("{WAIT_PREFIX}{slot}#{}", who.as_str()),
    )
}

fn wait_item(w: &Waiting) -> Item {
    let mut item = wait_key(&w.user, &w.slot, &w.booked_for);
    let joined = stamp(w.joined_at);
    item.insert(SLOT.into(), s(&w.slot.to_string()));
    item.insert(FOR.into(), s(w.booked_for.as_str()));
    item.insert(JOINED_AT.into(), s(&joined));
    item.insert("apk".into(), s(WAITLISTS_PARTITION));
    item.insert(
        "ask".into(),
        s(&format!(
            "{}#{joined}#{}",
            w.slot,
            holder_name(&w.user, &w.booked_for)
        )),
    );
    if let Some(until) = w.offered_until {
        item.insert(OFFERED_UNTIL.into(), s(&stamp(until)));
    }
    if w.told {
        item.insert(WAIT_TOLD.into(), AttributeValue::Bool(true));
    }
    item
}

/// A flag stored only while true (a missing one reads false).
fn flag(item: &HashMap<String, AttributeValue>, name: &str) -> bool {
    matches!(item.get(name), Some(AttributeValue::Bool(true)))
}

/// A place as its resident's item has it (`user` is the partition's).
pub(super) fn wait_from(user: &UserId, item: &Item) -> Result<Waiting, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("a waiting-list place's {what}"));
    Ok(Waiting {
        user: user.clone(),
        slot: SlotRef::parse(&string(item, SLOT)?).ok_or_else(|| corrupt("slot"))?,
        booked_for: BookingFor(string(item, FOR)?),
        joined_at: instant(item, JOINED_AT)?,
        offered_until: match item.get(OFFERED_UNTIL) {
            Some(_) => Some(instant(item, OFFERED_UNTIL)?),
            None => None,
        },
        told: flag(item, WAIT_TOLD),
    })
}

/// A line entry: when the registration joined (an offer is added later).
fn line_entry(joined: DateTime<Utc>) -> AttributeValue {
    AttributeValue::M([(JOINED.to_string(), s(&stamp(joined)))].into())
}

fn line_map(item: &Item) -> Option<&HashMap<String, AttributeValue>> {
    match item.get(LINE) {
        Some(AttributeValue::M(map)) => Some(map),
        _ => None,
    }
}

/// A slot item's waiting list, in its order.
pub(super) fn line_of(slot: &SlotRef, item: &Item) -> Result<Vec<Waiting>, StoreError> {
    let corrupt = || StoreError::Corrupt("a slot's waiting list is malformed".into());
    let mut out = Vec::new();
    for (name, entry) in line_map(item).into_iter().flatten() {
        let AttributeValue::M(entry) = entry else {
            return Err(corrupt());
        };
        let (user, who) = name.split_once('|').ok_or_else(corrupt)?;
        let at = |field: &str| match entry.get(field) {
            Some(AttributeValue::S(raw)) => parse_stamp(raw).map(Some).ok_or_else(corrupt),
            None => Ok(None),
            _ => Err(corrupt()),
        };
        out.push(Waiting {
            user: UserId::parse(user).ok_or_else(corrupt)?,
            slot: slot.clone(),
            booked_for: BookingFor(who.to_string()),
            joined_at: at(JOINED)?.ok_or_else(corrupt)?,
            offered_until: at(OFFER)?,
            told: flag(entry, TOLD),
        });
    }
    out.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    Ok(out)
}

/// Until when the slot item holds a seat for the registration, if it does.
pub(super) fn offer_in(item: &Item, user: &UserId, who: &BookingFor) -> Option<DateTime<Utc>> {
    match line_map(item)?.get(&holder_name(user, who))? {
        AttributeValue::M(entry) => match entry.get(OFFER)? {
            AttributeValue::S(raw) => parse_stamp(raw),
            _ => None,
        },
        _ => None,
    }
}

/// One item's update or conditioned delete, built a piece at a time: every name and value
/// gets a numbered placeholder, so any number of map entries can be changed and checked in
/// one expression.
#[derive(Default)]
struct Expression {
    set: Vec<String>,
    remove: Vec<String>,
    add: Vec<String>,
    conditions: Vec<String>,
    names: HashMap<String, String>,
    placeholders: HashMap<String, String>,
    values: Item,
}

impl Expression {
    fn name(&mut self, name: &str) -> String {
        if let Some(p) = self.placeholders.get(name) {
            return p.clone();
        }
        let p = format!("#p{}", self.names.len());
        self.names.insert(p.clone(), name.to_string());
        self.placeholders.insert(name.to_string(), p.clone());
        p
    }

    /// `#p0.#p1…`: a path into maps.
    fn path(&mut self, parts: &[&str]) -> String {
        parts
            .iter()
            .map(|part| self.name(part))
            .collect::<Vec<_>>()
            .join(".")
    }

    fn value(&mut self, v: AttributeValue) -> String {
        let p = format!(":v{}", self.values.len());
        self.values.insert(p.clone(), v);
        p
    }

    fn set(&mut self, path: &str, v: AttributeValue) {
        let v = self.value(v);
        self.set.push(format!("{path} = {v}"));
    }

    fn remove(&mut self, path: &str) {
        self.remove.push(path.to_string());
    }

    /// Adds `delta` to the number `attribute` (one that is missing counts from zero).
    fn add(&mut self, attribute: &str, delta: i64) {
        if delta != 0 {
            let (name, v) = (self.name(attribute), self.value(n(delta)));
            self.add.push(format!("{name} {v}"));
        }
    }

    fn require(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// The condition that the number at `path` is `count` as read (a missing one reads 0).
    fn require_count(&mut self, path: &str, count: u32) {
        let v = self.value(n(count as i64));
        self.require(if count == 0 {
            format!("(attribute_not_exists({path}) OR {path} = {v})")
        } else {
            format!("{path} = {v}")
        });
    }

    fn condition(&self) -> Option<String> {
        (!self.conditions.is_empty()).then(|| self.conditions.join(" AND "))
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<Item> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    /// The update; on a failed condition DynamoDB returns the item as it was if `old`.
    fn update(self, table: &str, key: Item, old: bool) -> Result<TransactWriteItem, StoreError> {
        let mut clauses = Vec::new();
        for (word, parts) in [
            ("SET", &self.set),
            ("REMOVE", &self.remove),
            ("ADD", &self.add),
        ] {
            if !parts.is_empty() {
                clauses.push(format!("{word} {}", parts.join(", ")));
            }
        }
        let mut update = Update::builder()
            .table_name(table)
            .set_key(Some(key))
            .update_expression(clauses.join(" "))
            .set_condition_expression(self.condition())
            .set_expression_attribute_names(self.names())
            .set_expression_attribute_values(self.values());
        if old {
            update = update.return_values_on_condition_check_failure(
                ReturnValuesOnConditionCheckFailure::AllOld,
            );
        }
        Ok(TransactWriteItem::builder()
            .update(update.build().map_err(rejected)?)
            .build())
    }

    /// The item's deletion under the conditions (no update clauses).
    fn delete(self, table: &str, key: Item) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(table)
            .set_key(Some(key))
            .set_condition_expression(self.condition())
            .set_expression_attribute_names(self.names())
            .set_expression_attribute_values(self.values())
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

impl DynamoStore {
    /// A place's item goes (it left the line, or took its seat).
    pub(super) fn delete_wait(
        &self,
        user: &UserId,
        slot: &SlotRef,
        who: &BookingFor,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(wait_key(user, slot, who)))
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// A place's offer as it now stands on its resident's item (`None`: no offer), if the
    /// place is still there; nobody is told of a new offer yet, nor of one withdrawn.
    fn set_wait_offer(
        &self,
        w: &Waiting,
        until: Option<DateTime<Utc>>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expression::default();
        let o = e.name(OFFERED_UNTIL);
        match until {
            Some(until) => e.set(&o, s(&stamp(until))),
            None => e.remove(&o),
        }
        let told = e.name(WAIT_TOLD);
        e.remove(&told);
        let pk = e.name("pk");
        e.require(format!("attribute_exists({pk})"));
        e.update(
            &self.table,
            wait_key(&w.user, &w.slot, &w.booked_for),
            false,
        )
    }

    /// `user` leaves `slot`: the seats their registrations `seats` hold and their places
    /// `entries` (each as read: with its offer, or waiting) go from the slot item in one
    /// update, conditioned on being there as read. A stop's and a leave's.
    pub(super) fn slot_exit(
        &self,
        slot: &SlotRef,
        user: &UserId,
        seats: &[BookingFor],
        entries: &[Waiting],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expression::default();
        let mut taken = 0;
        let mut queued = 0;
        for who in seats {
            let holder = e.path(&[HOLDERS, holder_name(user, who).as_str()]);
            e.remove(&holder);
            e.require(format!("attribute_exists({holder})"));
            taken += 1;
        }
        for w in entries {
            let place = e.path(&[LINE, holder_name(&w.user, &w.booked_for).as_str()]);
            let offer = format!("{place}.{}", e.name(OFFER));
            e.remove(&place);
            match w.offered_until {
                Some(until) => {
                    let v = e.value(s(&stamp(until)));
                    e.require(format!("{offer} = {v}"));
                    taken += 1;
                }
                None => {
                    e.require(format!(
                        "attribute_exists({place}) AND attribute_not_exists({offer})"
                    ));
                    queued += 1;
                }
            }
        }
        e.add(BOOKED, -taken);
        e.add(QUEUED, -queued);
        e.update(&self.table, slot_key(slot), false)
    }

    pub(super) async fn try_join(&self, r: &WaitRequest) -> Result<Waiting, Attempt> {
        let entry = Waiting {
            user: r.user.clone(),
            slot: r.slot.clone(),
            booked_for: r.booked_for.clone(),
            joined_at: r.now,
            offered_until: None,
            told: false,
        };
        let name = holder_name(&r.user, &r.booked_for);
        let mut e = Expression::default();
        let (pk, line, q) = (e.name("pk"), e.name(LINE), e.name(QUEUED));
        let (booked, capacity) = (e.name(BOOKED), e.name(CAPACITY));
        let holder = e.path(&[HOLDERS, name.as_str()]);
        let place = e.path(&[LINE, name.as_str()]);
        e.set(&place, line_entry(r.now));
        e.add(QUEUED, 1);
        let zero = e.value(n(0));
        e.require(format!(
            "attribute_exists({pk}) AND attribute_exists({line})"
        ));
        e.require(format!(
            "attribute_not_exists({holder}) AND attribute_not_exists({place})"
        ));
        // No seat for anyone: all taken, or someone in line already waits for the next.
        e.require(format!("({booked} >= {capacity} OR {q} > {zero})"));
        const SLOT_AT: usize = 0;
        const PROFILE: usize = 2;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(wait_item(&entry)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(rejected)?;
        let mut items = vec![
            e.update(&self.table, slot_key(&r.slot), true)?,
            TransactWriteItem::builder().put(put).build(),
            self.bump_version(&r.user, r.resident_version)?,
        ];
        let claim_at = self.push_claim(&mut items, r.claim.as_ref())?;
        let Some(reasons) = self.try_transaction(items).await? else {
            return Ok(entry);
        };
        if reasons.failed(claim_at) {
            return Err(StoreError::DuplicateEvent.into());
        }
        if reasons.failed(Some(PROFILE)) {
            return Err(StoreError::Conflict.into());
        }
        if !reasons.failed(Some(SLOT_AT)) {
            return Err(reasons.otherwise());
        }
        let Some(slot) = reasons.old_item(SLOT_AT) else {
            return Err(BookingError::NoSuchSlot.into());
        };
        if let Some(held) = holder_booking(slot, &r.user, &r.booked_for) {
            return Err(self
                .already(&r.user, &held, BookingError::AlreadyBooked)
                .await);
        }
        if let Some(w) = line_of(&r.slot, slot)?
            .into_iter()
            .find(|w| w.user == r.user && w.booked_for == r.booked_for)
        {
            return Err(BookingError::AlreadyWaiting(Box::new(w)).into());
        }
        if line_map(slot).is_none() {
            // Stored before waiting lists and not published since: give it an empty list.
            self.start_line(&r.slot).await?;
            return Err(Attempt::Again);
        }
        Err(BookingError::SeatsLeft.into())
    }

    async fn start_line(&self, slot: &SlotRef) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(slot_key(slot)))
            .update_expression("SET #l = if_not_exists(#l, :none), #q = if_not_exists(#q, :zero)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#l", LINE)
            .expression_attribute_names("#q", QUEUED)
            .expression_attribute_values(":none", AttributeValue::M(Default::default()))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    pub(super) async fn try_leave(&self, c: &WaitChange<'_>) -> Result<Waiting, Attempt> {
        let Some(item) = self.get(wait_key(c.user, c.slot, c.booked_for)).await? else {
            return Err(self
                .refusal(
                    c.user,
                    c.resident_version,
                    c.claim,
                    BookingError::NotWaiting,
                )
                .await
                .into());
        };
        let entry = wait_from(c.user, &item)?;
        const PROFILE: usize = 2;
        let mut items = vec![
            // An offered seat is free again; the caller offers it on.
            self.slot_exit(c.slot, c.user, &[], std::slice::from_ref(&entry))?,
            self.delete_wait(c.user, c.slot, c.booked_for)?,
            self.bump_version(c.user, c.resident_version)?,
        ];
        let claim_at = self.push_claim(&mut items, c.claim)?;
        let Some(reasons) = self.try_transaction(items).await? else {
            return Ok(entry);
        };
        if reasons.failed(claim_at) {
            return Err(StoreError::DuplicateEvent.into());
        }
        if reasons.failed(Some(PROFILE)) {
            return Err(StoreError::Conflict.into());
        }
        // The place changed since it was read (an offer came or went): read again.
        Err(reasons.otherwise())
    }

    /// One transaction of a sweep: lapses what ran out by `now`, then holds free seats for
    /// the next in line until `until`, or (`None`: bookings have closed) ends the list, every
    /// place going with the seat it held. Also says whether there may be more to do than one
    /// transaction could carry.
    pub(super) async fn try_offer(
        &self,
        slot: &SlotRef,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(Offers, bool), Attempt> {
        let Some(item) = self.get(slot_key(slot)).await? else {
            return Ok((Offers::default(), false));
        };
        let state = slot_from(&slot.service, &item)?;
        let (lapsed, staying): (Vec<Waiting>, Vec<Waiting>) = state
            .line
            .iter()
            .cloned()
            .partition(|w| w.offer_lapsed(now));
        let lapsed: Vec<Waiting> = lapsed.into_iter().take(ROOM).collect();
        let room = ROOM - lapsed.len();
        let (offered, ended): (Vec<Waiting>, Vec<Waiting>) = match until {
            Some(until) => (
                staying
                    .iter()
                    .filter(|w| w.offered_until.is_none())
                    .take((state.free() as usize + lapsed.len()).min(room))
                    .map(|w| Waiting {
                        offered_until: Some(until),
                        told: false,
                        ..w.clone()
                    })
                    .collect(),
                Vec::new(),
            ),
            None => (Vec::new(), staying.into_iter().take(room).collect()),
        };
        if lapsed.is_empty() && offered.is_empty() && ended.is_empty() {
            return Ok((Offers::default(), false));
        }
        let more = lapsed.len() + offered.len() + ended.len() == ROOM;
        let mut e = Expression::default();
        let (booked, capacity, q) = (e.name(BOOKED), e.name(CAPACITY), e.name(QUEUED));
        e.require_count(&booked, state.taken);
        e.require_count(&capacity, state.slot.capacity);
        e.require_count(&q, state.queued);
        let mut items = Vec::new();
        // Places leaving the line (each as read), and how many seats and queued they held.
        let (mut freed, mut unqueued) = (0u32, 0u32);
        for w in lapsed.iter().chain(&ended) {
            let place = e.path(&[LINE, holder_name(&w.user, &w.booked_for).as_str()]);
            let offer = format!("{place}.{}", e.name(OFFER));
            match w.offered_until {
                Some(until) => {
                    let was = e.value(s(&stamp(until)));
                    e.require(format!("{offer} = {was}"));
                    freed += 1;
                }
                None => {
                    e.require(format!(
                        "attribute_exists({place}) AND attribute_not_exists({offer})"
                    ));
                    unqueued += 1;
                }
            }
            e.remove(&place);
            items.push(self.delete_wait(&w.user, &w.slot, &w.booked_for)?);
        }
        for w in &offered {
            let place = e.path(&[LINE, holder_name(&w.user, &w.booked_for).as_str()]);
            let offer = format!("{place}.{}", e.name(OFFER));
            let told = format!("{place}.{}", e.name(TOLD));
            e.require(format!(
                "attribute_exists({place}) AND attribute_not_exists({offer})"
            ));
            e.set(&offer, s(&stamp(w.offered_until.unwrap_or(now))));
            e.remove(&told);
            items.push(self.set_wait_offer(w, w.offered_until)?);
        }
        let taken = state.taken.saturating_sub(freed) + offered.len() as u32;
        let queued = state.queued.saturating_sub(unqueued + offered.len() as u32);
        e.set(&booked, n(taken as i64));
        e.set(&q, n(queued as i64));
        items.insert(0, e.update(&self.table, slot_key(slot), false)?);
        match self.try_transaction(items).await? {
            None => Ok((
                Offers {
                    lapsed,
                    offered,
                    ended,
                },
                more,
            )),
            // Someone booked, left, joined or swept meanwhile: read again.
            Some(reasons) => Err(reasons.otherwise()),
        }
    }

    /// Records that the push about `w`'s offer is queued, on its line entry and its place,
    /// if the offer still stands until the same time; `false` if it does not.
    pub(super) async fn try_tell(&self, w: &Waiting) -> Result<bool, Attempt> {
        let Some(until) = w.offered_until else {
            return Ok(false);
        };
        let mut e = Expression::default();
        let place = e.path(&[LINE, holder_name(&w.user, &w.booked_for).as_str()]);
        let (offer, told) = (
            format!("{place}.{}", e.name(OFFER)),
            format!("{place}.{}", e.name(TOLD)),
        );
        let was = e.value(s(&stamp(until)));
        e.require(format!("{offer} = {was}"));
        e.set(&told, AttributeValue::Bool(true));
        let mut mine = Expression::default();
        let (offered_until, wait_told) = (mine.name(OFFERED_UNTIL), mine.name(WAIT_TOLD));
        let was = mine.value(s(&stamp(until)));
        mine.require(format!("{offered_until} = {was}"));
        mine.set(&wait_told, AttributeValue::Bool(true));
        let items = vec![
            e.update(&self.table, slot_key(&w.slot), false)?,
            mine.update(
                &self.table,
                wait_key(&w.user, &w.slot, &w.booked_for),
                false,
            )?,
        ];
        match self.try_transaction(items).await? {
            None => Ok(true),
            // Taken, declined, lapsed or withdrawn: not this offer any more.
            Some(reasons) if reasons.failed(Some(0)) || reasons.failed(Some(1)) => Ok(false),
            Some(reasons) => Err(reasons.otherwise()),
        }
    }

    /// Takes back the seat held for `w` (its offer as read) in the slot's update `e`, and on
    /// its place: they wait again where they were, not told of anything.
    fn withdraw(
        &self,
        e: &mut Expression,
        w: &Waiting,
        items: &mut Vec<TransactWriteItem>,
    ) -> Result<(), StoreError> {
        let place = e.path(&[LINE, holder_name(&w.user, &w.booked_for).as_str()]);
        let (offer, told) = (
            format!("{place}.{}", e.name(OFFER)),
            format!("{place}.{}", e.name(TOLD)),
        );
        let was = e.value(s(&stamp(w.offered_until.unwrap_or_default())));
        e.require(format!("{offer} = {was}"));
        e.remove(&offer);
        e.remove(&told);
        items.push(self.set_wait_offer(w, None)?);
        Ok(())
    }

    /// Withdraws offers of `slot` beyond its capacity (a lowered one), the latest in line
    /// first: those residents wait again where they were. The offers as they were.
    pub(super) async fn try_withdraw_offers(
        &self,
        slot: &SlotRef,
    ) -> Result<Vec<Waiting>, Attempt> {
        let Some(item) = self.get(slot_key(slot)).await? else {
            return Ok(Vec::new());
        };
        let state = slot_from(&slot.service, &item)?;
        let mut withdrawn = withdrawable(&state, state.slot.capacity);
        withdrawn.truncate(ROOM);
        if withdrawn.is_empty() {
            return Ok(withdrawn);
        }
        let mut e = Expression::default();
        let mut items = Vec::new();
        for w in &withdrawn {
            self.withdraw(&mut e, w, &mut items)?;
        }
        e.add(BOOKED, -(withdrawn.len() as i64));
        e.add(QUEUED, withdrawn.len() as i64);
        items.insert(0, e.update(&self.table, slot_key(slot), false)?);
        match self.try_transaction(items).await? {
            None => Ok(withdrawn),
            Some(reasons) => Err(reasons.otherwise()),
        }
    }

    /// Gives the slot `item` (as read, with more seats taken than `capacity`) its new
    /// capacity, and `end` if given, in one transaction with the offers it takes back (the
    /// latest in line first), conditioned on the slot as read: no seat taken or given back
    /// meanwhile, so the bookings still fit what the offers leave. With
    /// [`Stranding::Refuse`], bookings that would not fit refuse it ([`StoreError::Conflict`])
    /// and nothing changes. Answers the offers withdrawn (as they were) and whether the
    /// capacity is set: more offers than one transaction carries are withdrawn first, under
    /// the old capacity, and the caller asks again (those stay withdrawn if a booking made
    /// meanwhile then refuses the capacity; no booking is touched).
    pub(super) async fn try_resize(
        &self,
        slot: &SlotRef,
        item: &Item,
        end: Option<NaiveTime>,
        capacity: u32,
        stranding: Stranding,
    ) -> Result<(Vec<Waiting>, bool), Attempt> {
        let state = slot_from(&slot.service, item)?;
        let bookings = state.taken.saturating_sub(state.offered());
        if stranding == Stranding::Refuse && bookings > capacity {
            return Err(StoreError::Conflict.into());
        }
        let mut withdrawn = withdrawable(&state, capacity);
        let set = withdrawn.len() <= ROOM;
        withdrawn.truncate(ROOM);
        let mut e = Expression::default();
        let (pk, booked, cap) = (e.name("pk"), e.name(BOOKED), e.name(CAPACITY));
        e.require(format!("attribute_exists({pk})"));
        e.require_count(&booked, state.taken);
        e.require_count(&cap, state.slot.capacity);
        if set {
            e.set(&cap, n(capacity as i64));
            if let Some(end) = end {
                let end_at = e.name(END);
                e.set(&end_at, s(&end.format("%H:%M").to_string()));
            }
            if stranding == Stranding::Refuse {
                // What the refusal is about, said outright: the bookings fit.
                let (holders, c) = (e.name(HOLDERS), e.value(n(capacity as i64)));
                e.require(format!(
                    "(attribute_not_exists({holders}) OR size({holders}) <= {c})"
                ));
            }
        }
        let mut items = Vec::new();
        for w in &withdrawn {
            self.withdraw(&mut e, w, &mut items)?;
        }
        e.add(BOOKED, -(withdrawn.len() as i64));
        e.add(QUEUED, withdrawn.len() as i64);
        items.insert(0, e.update(&self.table, slot_key(slot), false)?);
        match self.try_transaction(items).await? {
            None => Ok((withdrawn, set)),
            // A seat taken, given back or offered meanwhile: read again.
            Some(reasons) => Err(reasons.otherwise()),
        }
    }

    /// Deletes a closed slot (no seat taken) with its waiting list; the places go to
    /// `dropped` as `had` had them (with the offers closing withdrew).
    pub(super) async fn delete_slot(
        &self,
        slot: &SlotRef,
        had: &[Waiting],
        dropped: &mut Vec<Waiting>,
    ) -> Result<(), StoreError> {
        loop {
            let Some(item) = self.get(slot_key(slot)).await? else {
                return Ok(());
            };
            let state = slot_from(&slot.service, &item)?;
            if state.taken > 0 {
                // A seat was taken back in between: publishing again finishes it.
                return Err(StoreError::Conflict);
            }
            let last = state.line.len() <= ROOM;
            let chunk: Vec<Waiting> = state.line.into_iter().take(ROOM).collect();
            let mut e = Expression::default();
            for w in &chunk {
                let place = e.path(&[LINE, holder_name(&w.user, &w.booked_for).as_str()]);
                let offer = format!("{place}.{}", e.name(OFFER));
                e.require(format!(
                    "attribute_exists({place}) AND attribute_not_exists({offer})"
                ));
                if !last {
                    e.remove(&place);
                }
            }
            let (booked, q) = (e.name(BOOKED), e.name(QUEUED));
            e.require_count(&booked, 0);
            e.require_count(&q, state.queued);
            let first = if last {
                e.delete(&self.table, slot_key(slot))?
            } else {
                e.add(QUEUED, -(chunk.len() as i64));
                e.update(&self.table, slot_key(slot), false)?
            };
            let mut items = vec![first];
            for w in &chunk {
                items.push(self.delete_wait(&w.user, slot, &w.booked_for)?);
            }
            if self.try_transaction(items).await?.is_some() {
                // Someone joined, left or took a seat meanwhile: publishing again finishes.
                return Err(StoreError::Conflict);
            }
            dropped.extend(chunk.into_iter().map(|w| {
                let offered_until = had
                    .iter()
                    .find(|h| h.user == w.user && h.booked_for == w.booked_for)
                    .and_then(|h| h.offered_until);
                Waiting { offered_until, ..w }
            }));
            if last {
                return Ok(());
            }
        }
    }

    /// The resident's places, soonest slot first.
    pub(super) async fn stored_waiting(&self, user: &UserId) -> Result<Vec<Waiting>, StoreError> {
        let items = self
            .query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND begins_with(sk, :w)")
                    .expression_attribute_values(":pk", s(&user_pk(user)))
                    .expression_attribute_values(":w", s(WAIT_PREFIX))
                    .consistent_read(true),
            )
            .await?;
        let mut out = items
            .iter()
            .map(|item| wait_from(user, item))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| (&a.slot, a.order_key()).cmp(&(&b.slot, b.order_key())));
        Ok(out)
    }

    /// Every slot with a waiting list: the places on the GSI name the slots, whose items
    /// (read consistently) have the lists and their free seats. The GSI lags a little behind
    /// the table; the sweep it serves runs again, and `offer_seats` reads the slot afresh.
    pub(super) async fn stored_waitlists(&self) -> Result<Vec<Waitlist>, StoreError> {
        let places = self
            .query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(ANCHOR_INDEX)
                    .key_condition_expression("apk = :p")
                    .expression_attribute_values(":p", s(WAITLISTS_PARTITION))
                    .projection_expression("#sl")
                    .expression_attribute_names("#sl", SLOT),
            )
            .await?;
        let slots: BTreeSet<SlotRef> = places
            .iter()
            .map(|item| {
                SlotRef::parse(&string(item, SLOT)?).ok_or_else(|| {
                    StoreError::Corrupt("a waiting-list place's slot is malformed".into())
                })
            })
            .collect::<Result<_, _>>()?;
        let found = batch_get(
            &self.client,
            &self.table,
            slots.iter().map(slot_key).collect(),
            "pk, sk, #e, #c, #n, #q, #l",
            &[
                ("#e", END),
                ("#c", CAPACITY),
                ("#n", BOOKED),
                ("#q", QUEUED),
                ("#l", LINE),
            ],
        )
        .await?;
        let mut out = Vec::new();
        for item in &found {
            let state = slot_item(item)?;
            if !state.line.is_empty() {
                out.push(Waitlist {
                    free: state.free(),
                    slot: state.slot.slot,
                    entries: state.line,
                });
            }
        }
        out.sort_by(|a, b| a.slot.cmp(&b.slot));
        Ok(out)
    }
}

/// The offers a capacity takes back from a slot as read: as many as its seats taken exceed
/// it (at most all of them), the latest in line first.
fn withdrawable(state: &SlotItem, capacity: u32) -> Vec<Waiting> {
    let over = state.taken.saturating_sub(capacity) as usize;
    state
        .line
        .iter()
        .rev()
        .filter(|w| w.offered_until.is_some())
        .take(over)
        .cloned()
        .collect()
}

/// A slot item read with its `pk`.
fn slot_item(item: &Item) -> Result<SlotItem, StoreError> {
    let service = string(item, "pk")?
        .strip_prefix(SLOT_PREFIX)
        .and_then(ServiceId::parse)
        .ok_or_else(|| StoreError::Corrupt("a slot's key is malformed".into()))?;
    slot_from(&service, item)
}
