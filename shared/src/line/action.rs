//! Actions: what a button, a quick-reply item, a Flex row or a rich-menu area does when
//! tapped, and LINE's limits on them.

use serde::{Deserialize, Serialize};

use super::limits;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Action {
    #[serde(rename = "postback")]
    Postback {
        label: String,
        data: String,
        #[serde(
            rename = "displayText",
            skip_serializing_if = "Option::is_none",
            default
        )]
        display_text: Option<String>,
    },
    /// Date picker (`mode: date`); `initial`, `min`, `max` are `YYYY-MM-DD`.
    #[serde(rename = "datetimepicker")]
    DatetimePicker {
        label: String,
        data: String,
        mode: String,
        initial: String,
        min: String,
        max: String,
    },
}

impl Action {
    pub fn postback(label: &str, data: &str) -> Action {
        Action::Postback {
            label: label.to_string(),
            data: data.to_string(),
            display_text: Some(label.to_string()),
        }
    }

    /// A postback whose tap shows `shown` in the chat as the resident's own words.
    pub fn postback_shown(label: &str, data: &str, shown: &str) -> Action {
        Action::Postback {
            label: label.to_string(),
            data: data.to_string(),
            display_text: Some(shown.to_string()),
        }
    }

    pub fn date_picker(
        label: &str,
        data: &str,
        initial: chrono::NaiveDate,
        min: chrono::NaiveDate,
        max: chrono::NaiveDate,
    ) -> Action {
        let fmt = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        Action::DatetimePicker {
            label: label.to_string(),
            data: data.to_string(),
            mode: "date".to_string(),
            initial: fmt(if min <= max {
                initial.clamp(min, max)
            } else {
                initial
            }),
            min: fmt(min),
            max: fmt(max),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Action::Postback { label, .. } | Action::DatetimePicker { label, .. } => label,
        }
    }

    /// The postback data the action sends back.
    pub fn data(&self) -> &str {
        match self {
            Action::Postback { data, .. } | Action::DatetimePicker { data, .. } => data,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        let label = self.label().chars().count();
        if label == 0 || label > limits::MAX_ACTION_LABEL_CHARS {
            return Err(format!(
                "action label `{}` must be 1–{} characters",
                self.label(),
                limits::MAX_ACTION_LABEL_CHARS
            ));
        }
        match self {
            Action::Postback {
                data, display_text, ..
            } => {
                check_len("postback data", data, limits::MAX_POSTBACK_DATA_CHARS)?;
                if let Some(t) = display_text {
                    check_len("displayText", t, limits::MAX_DISPLAY_TEXT_CHARS)?;
                }
            }
            Action::DatetimePicker {
                data,
                mode,
                initial,
                min,
                max,
                ..
            } => {
                check_len("datetimepicker data", data, limits::MAX_POSTBACK_DATA_CHARS)?;
                if mode != "date" {
                    return Err(format!("datetimepicker mode `{mode}` is not `date`"));
                }
                let parse = crate::dates::parse_ymd;
                match (parse(initial), parse(min), parse(max)) {
                    (Some(i), Some(lo), Some(hi)) if lo <= i && i <= hi => {}
                    _ => {
                        return Err(format!(
                            "date picker needs min <= initial <= max, got {min} / {initial} / {max}"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

pub(super) fn check_len(what: &str, s: &str, max: usize) -> Result<(), String> {
    let n = s.chars().count();
    if n > max {
        return Err(format!("{what} is {n} characters; the limit is {max}"));
    }
    Ok(())
}
