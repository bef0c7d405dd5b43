//! Webhook request bodies, parsed leniently per event: LINE adds event types and fields over
//! time, so anything unknown or oddly shaped becomes [`EventKind::Unknown`] and is ignored,
//! while a body that is not a LINE callback at all is rejected.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::domain::UserId;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is not a LINE webhook callback: {0}")]
    NotCallback(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Active,
    /// Another channel owns the chat (module channels): never reply or change anything.
    Standby,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    User(UserId),
    /// Group or multi-person chat: sukusuku works one to one.
    Group,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    Follow {
        unblocked: bool,
    },
    Unfollow,
    /// The account was invited into a group chat.
    Join,
    Text(String),
    /// A message that is not text (sticker, image, location, …), by its type.
    OtherMessage(String),
    Postback {
        data: String,
        params: BTreeMap<String, String>,
    },
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub webhook_event_id: Option<String>,
    pub timestamp_ms: i64,
    pub mode: Mode,
    pub is_redelivery: bool,
    pub source: Source,
    pub reply_token: Option<String>,
    pub kind: EventKind,
}

#[derive(Deserialize)]
struct RawCallback {
    events: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    mode: Option<String>,
    webhook_event_id: Option<String>,
    timestamp: Option<i64>,
    delivery_context: Option<RawDeliveryContext>,
    source: Option<RawSource>,
    reply_token: Option<String>,
    message: Option<RawMessage>,
    postback: Option<RawPostback>,
    follow: Option<RawFollow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDeliveryContext {
    is_redelivery: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSource {
    #[serde(rename = "type")]
    kind: String,
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
}

#[derive(Deserialize)]
struct RawPostback {
    data: String,
    #[serde(default)]
    params: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFollow {
    is_unblocked: Option<bool>,
}

/// Parses a callback body. An empty `events` array is LINE's connection check.
pub fn parse_callback(body: &[u8]) -> Result<Vec<WebhookEvent>, BodyError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| BodyError::NotJson(e.to_string()))?;
    let callback: RawCallback =
        serde_json::from_value(value).map_err(|e| BodyError::NotCallback(e.to_string()))?;
    Ok(callback.events.into_iter().map(parse_event).collect())
}

fn parse_event(value: Value) -> WebhookEvent {
    let type_name = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let raw: RawEvent = match serde_json::from_value(value) {
        Ok(raw) => raw,
        Err(_) => {
            return WebhookEvent {
                webhook_event_id: None,
                timestamp_ms: 0,
                mode: Mode::Active,
                is_redelivery: false,
                source: Source::Unknown,
                reply_token: None,
                kind: EventKind::Unknown(format!("malformed {type_name}")),
            };
        }
    };
    let source = match raw.source {
        Some(s) if s.kind == "user" => s
            .user_id
            .as_deref()
            .and_then(UserId::parse)
            .map(Source::User)
            .unwrap_or(Source::Unknown),
        Some(s) if s.kind == "group" || s.kind == "room" => Source::Group,
        _ => Source::Unknown,
    };
    let kind = match (raw.kind.as_str(), raw.message, raw.postback) {
        ("follow", _, _) => EventKind::Follow {
            unblocked: raw.follow.and_then(|f| f.is_unblocked).unwrap_or(false),
        },
        ("unfollow", _, _) => EventKind::Unfollow,
        ("join", _, _) => EventKind::Join,
        ("message", Some(m), _) if m.kind == "text" => EventKind::Text(m.text.unwrap_or_default()),
        ("message", Some(m), _) => EventKind::OtherMessage(m.kind),
        ("postback", _, Some(p)) => EventKind::Postback {
            data: p.data,
            params: p
                .params
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                .collect(),
        },
        (other, _, _) => EventKind::Unknown(other.to_string()),
    };
    WebhookEvent {
        webhook_event_id: raw.webhook_event_id,
        timestamp_ms: raw.timestamp.unwrap_or(0),
        mode: match raw.mode.as_deref() {
            Some("standby") => Mode::Standby,
            _ => Mode::Active,
        },
        is_redelivery: raw
            .delivery_context
            .and_then(|d| d.is_redelivery)
            .unwrap_or(false),
        source,
        reply_token: raw.reply_token.filter(|t| !t.is_empty()),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> WebhookEvent {
        let body = format!(r#"{{"destination":"Uabc","events":[{json}]}}"#);
        let mut events = parse_callback(body.as_bytes()).expect("valid callback");
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    #[test]
    fn parses_the_events_sukusuku_acts_on() {
        let e = one(
            r#"{"type":"follow","mode":"active","timestamp":1700000000000,"webhookEventId":"01H","deliveryContext":{"isRedelivery":true},"source":{"type":"user","userId":"U1234"},"replyToken":"rt","follow":{"isUnblocked":true}}"#,
        );
        assert_eq!(e.kind, EventKind::Follow { unblocked: true });
        assert!(e.is_redelivery);
        assert_eq!(e.source, Source::User(UserId::parse("U1234").expect("id")));
        assert_eq!(e.reply_token.as_deref(), Some("rt"));

        let e = one(
            r#"{"type":"postback","mode":"active","timestamp":1,"webhookEventId":"x","deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"U1"},"replyToken":"r","postback":{"data":"v1:due","params":{"date":"2027-03-01"}}}"#,
        );
        match e.kind {
            EventKind::Postback { data, params } => {
                assert_eq!(data, "v1:due");
                assert_eq!(params.get("date").map(String::as_str), Some("2027-03-01"));
            }
            other => panic!("unexpected {other:?}"),
        }
        let e = one(
            r#"{"type":"message","mode":"standby","timestamp":1,"source":{"type":"user","userId":"U1"},"message":{"type":"text","id":"1","text":"登録"}}"#,
        );
        assert_eq!(e.kind, EventKind::Text("登録".into()));
        assert_eq!(e.mode, Mode::Standby);
    }

    #[test]
    fn unknown_and_odd_events_are_tolerated() {
        assert_eq!(
            one(r#"{"type":"membership","extra":{"a":1}}"#).kind,
            EventKind::Unknown("membership".into())
        );
        assert!(matches!(
            one(r#"{"type":"follow","timestamp":"yesterday"}"#).kind,
            EventKind::Unknown(_)
        ));
        assert!(matches!(
            one(r#"{"no":"type"}"#).kind,
            EventKind::Unknown(_)
        ));
        assert!(matches!(one(r#"42"#).kind, EventKind::Unknown(_)));
        assert_eq!(
            one(r#"{"type":"message","message":{"type":"sticker","id":"1"}}"#).kind,
            EventKind::OtherMessage("sticker".into())
        );
        assert_eq!(one(r#"{"type":"message","source":{"type":"group","groupId":"C1","userId":"U1"},"message":{"type":"text","text":"hi"}}"#).source, Source::Group);
    }

    #[test]
    fn non_callbacks_are_rejected() {
        assert!(matches!(parse_callback(b"{"), Err(BodyError::NotJson(_))));
        assert!(matches!(
            parse_callback(b"[]"),
            Err(BodyError::NotCallback(_))
        ));
        assert!(matches!(
            parse_callback(br#"{"events":{}}"#),
            Err(BodyError::NotCallback(_))
        ));
        assert_eq!(
            parse_callback(br#"{"destination":"U0","events":[]}"#),
            Ok(vec![])
        );
    }
}
