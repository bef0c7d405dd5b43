//! Outgoing LINE messages: the few shapes sukusuku sends, serialised exactly as the
//! Messaging API expects, and checked against its limits before they are sent.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

pub use super::action::Action;
use super::action::check_len;
use super::flex::FlexContainer;
use super::limits;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Message {
    Text {
        text: String,
        #[serde(
            rename = "quickReply",
            skip_serializing_if = "Option::is_none",
            default
        )]
        quick_reply: Option<QuickReply>,
    },
    Template {
        #[serde(rename = "altText")]
        alt_text: String,
        template: Template,
        #[serde(
            rename = "quickReply",
            skip_serializing_if = "Option::is_none",
            default
        )]
        quick_reply: Option<QuickReply>,
    },
    /// Bubbles of rows and buttons: choices with their current state visible.
    Flex {
        #[serde(rename = "altText")]
        alt_text: String,
        contents: FlexContainer,
        #[serde(
            rename = "quickReply",
            skip_serializing_if = "Option::is_none",
            default
        )]
        quick_reply: Option<QuickReply>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Template {
    Confirm { text: String, actions: Vec<Action> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    pub items: Vec<QuickReplyItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReplyItem {
    /// Always `action`.
    #[serde(rename = "type")]
    pub kind: String,
    pub action: Action,
}

impl QuickReply {
    pub fn new(actions: Vec<Action>) -> Option<QuickReply> {
        if actions.is_empty() {
            return None;
        }
        Some(QuickReply {
            items: actions
                .into_iter()
                .map(|action| QuickReplyItem {
                    kind: "action".to_string(),
                    action,
                })
                .collect(),
        })
    }

    fn validate(&self) -> Result<(), String> {
        if self.items.is_empty() || self.items.len() > limits::MAX_QUICK_REPLY_ITEMS {
            return Err(format!(
                "a quick reply has {} items; it must have 1–{}",
                self.items.len(),
                limits::MAX_QUICK_REPLY_ITEMS
            ));
        }
        for item in &self.items {
            if item.kind != "action" {
                return Err(format!(
                    "quick reply item type `{}` is not `action`",
                    item.kind
                ));
            }
            item.action.validate()?;
        }
        Ok(())
    }
}

impl Message {
    pub fn text(text: impl Into<String>) -> Message {
        Message::Text {
            text: text.into(),
            quick_reply: None,
        }
    }

    pub fn text_with(text: impl Into<String>, actions: Vec<Action>) -> Message {
        Message::Text {
            text: text.into(),
            quick_reply: QuickReply::new(actions),
        }
    }

    /// A yes/no question with two buttons; the text doubles as the alt text.
    pub fn confirm(text: impl Into<String>, yes: Action, no: Action) -> Message {
        let text = text.into();
        Message::Template {
            alt_text: text.chars().take(limits::MAX_ALT_TEXT_CHARS).collect(),
            template: Template::Confirm {
                text,
                actions: vec![yes, no],
            },
            quick_reply: None,
        }
    }

    /// Flex bubbles with a quick reply; the alt text is what notifications and the chat
    /// list show, so it says the same in words.
    pub fn flex(alt_text: &str, contents: FlexContainer, actions: Vec<Action>) -> Message {
        let alt_text = if alt_text.chars().count() > limits::MAX_FLEX_ALT_TEXT_CHARS {
            let mut cut: String = alt_text
                .chars()
                .take(limits::MAX_FLEX_ALT_TEXT_CHARS - 1)
                .collect();
            cut.push('…');
            cut
        } else {
            alt_text.to_string()
        };
        Message::Flex {
            alt_text,
            contents,
            quick_reply: QuickReply::new(actions),
        }
    }

    /// The message's visible text (for tests, previews and logs of counts).
    pub fn plain_text(&self) -> Cow<'_, str> {
        match self {
            Message::Text { text, .. } => Cow::Borrowed(text),
            Message::Template {
                template: Template::Confirm { text, .. },
                ..
            } => Cow::Borrowed(text),
            Message::Flex { contents, .. } => Cow::Owned(contents.plain_text()),
        }
    }

    pub fn quick_reply(&self) -> Option<&QuickReply> {
        match self {
            Message::Text { quick_reply, .. }
            | Message::Template { quick_reply, .. }
            | Message::Flex { quick_reply, .. } => quick_reply.as_ref(),
        }
    }

    /// Every button the message offers: its quick reply, a confirm's two, a Flex message's.
    pub fn actions(&self) -> Vec<&Action> {
        let mut out: Vec<&Action> = match self {
            Message::Text { .. } => Vec::new(),
            Message::Template {
                template: Template::Confirm { actions, .. },
                ..
            } => actions.iter().collect(),
            Message::Flex { contents, .. } => contents.actions(),
        };
        if let Some(q) = self.quick_reply() {
            out.extend(q.items.iter().map(|i| &i.action));
        }
        out
    }

    /// Every limit the Messaging API enforces on these shapes.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Message::Text { text, .. } => {
                let units = text.encode_utf16().count();
                if text.is_empty() || units > limits::MAX_TEXT_UTF16_UNITS {
                    return Err(format!(
                        "text is {units} UTF-16 units; it must be 1–{}",
                        limits::MAX_TEXT_UTF16_UNITS
                    ));
                }
            }
            Message::Template {
                alt_text,
                template: Template::Confirm { text, actions },
                ..
            } => {
                if alt_text.is_empty() {
                    return Err("altText is empty".into());
                }
                check_len("altText", alt_text, limits::MAX_ALT_TEXT_CHARS)?;
                if text.is_empty() {
                    return Err("confirm text is empty".into());
                }
                check_len("confirm text", text, limits::MAX_CONFIRM_TEXT_CHARS)?;
                if actions.len() != limits::CONFIRM_ACTIONS {
                    return Err(format!(
                        "a confirm template needs {} actions",
                        limits::CONFIRM_ACTIONS
                    ));
                }
                for a in actions {
                    a.validate()?;
                }
            }
            Message::Flex {
                alt_text, contents, ..
            } => {
                if alt_text.is_empty() {
                    return Err("altText is empty".into());
                }
                check_len("altText", alt_text, limits::MAX_FLEX_ALT_TEXT_CHARS)?;
                contents.validate()?;
            }
        }
        if let Some(q) = self.quick_reply() {
            q.validate()?;
        }
        Ok(())
    }
}

/// Checks a whole request's message list (1–5 messages, each valid).
pub fn validate_messages(messages: &[Message]) -> Result<(), String> {
    if messages.is_empty() || messages.len() > limits::MAX_MESSAGES_PER_REQUEST {
        return Err(format!(
            "{} messages in one request; LINE takes 1–{}",
            messages.len(),
            limits::MAX_MESSAGES_PER_REQUEST
        ));
    }
    messages.iter().try_for_each(Message::validate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn serialises_as_the_api_expects() {
        let m = Message::text_with(
            "こんにちは",
            vec![Action::date_picker(
                "出産予定日を登録",
                "v1:due",
                d("2027-01-01"),
                d("2026-11-22"),
                d("2027-08-29"),
            )],
        );
        let json = serde_json::to_value(&m).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "type": "text",
                "text": "こんにちは",
                "quickReply": {"items": [{"type": "action", "action": {
                    "type": "datetimepicker", "label": "出産予定日を登録", "data": "v1:due",
                    "mode": "date", "initial": "2027-01-01", "min": "2026-11-22", "max": "2027-08-29"}}]}
            })
        );
        let c = Message::confirm(
            "停止しますか？",
            Action::postback("停止する", "v1:stop-ok"),
            Action::postback("やめる", "v1:cancel"),
        );
        let json = serde_json::to_value(&c).expect("json");
        assert_eq!(json["type"], "template");
        assert_eq!(json["altText"], "停止しますか？");
        assert_eq!(json["template"]["type"], "confirm");
        assert_eq!(json["template"]["actions"][0]["type"], "postback");
        assert_eq!(json["template"]["actions"][0]["displayText"], "停止する");
        let back: Message = serde_json::from_value(json).expect("round trip");
        assert_eq!(back, c);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn limits_are_enforced() {
        assert!(Message::text("").validate().is_err());
        assert!(Message::text("a".repeat(5000)).validate().is_ok());
        // 😀 is two UTF-16 units.
        assert!(Message::text("😀".repeat(2501)).validate().is_err());
        let many = (0..14)
            .map(|i| Action::postback(&format!("b{i}"), "x"))
            .collect();
        assert!(Message::text_with("x", many).validate().is_err());
        assert!(
            Message::text_with("x", vec![Action::postback(&"長".repeat(21), "x")])
                .validate()
                .is_err()
        );
        assert!(
            Message::text_with("x", vec![Action::postback("ok", &"x".repeat(301))])
                .validate()
                .is_err()
        );
        let picker = Action::date_picker(
            "日付",
            "d",
            d("2020-01-01"),
            d("2026-01-01"),
            d("2025-01-01"),
        );
        assert!(Message::text_with("x", vec![picker]).validate().is_err());
        assert!(validate_messages(&[]).is_err());
        assert!(validate_messages(&vec![Message::text("x"); 6]).is_err());
        assert!(validate_messages(&vec![Message::text("x"); 5]).is_ok());
    }
}
