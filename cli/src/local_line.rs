//! Local mode's LINE: `serve` without an access token talks to no one. Every reply, push and
//! multicast is checked against LINE's limits like the real client does, printed readably
//! for the developer at the terminal, and appended to `<data>/outbox.jsonl`.
//!
//! Printing to stdout is the point of this mode (it is the developer's own test chat), so it
//! does not go through `tracing`, which must never carry personal data. Recipients are
//! shortened all the same: enough to tell test residents apart, not a full LINE user id.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use serde_json::json;
use shared::domain::UserId;
use shared::line::{
    Accepted, Action, Bubble, FlexBox, FlexComponent, LineApi, LineError, Message, Quota, RetryKey,
    Template, check_request,
};

/// The transcript's file name under `--data`.
pub const OUTBOX_FILE: &str = "outbox.jsonl";

/// A [`LineApi`] that delivers to the terminal and the outbox file.
pub struct LocalLineApi {
    sinks: Mutex<Sinks>,
}

struct Sinks {
    /// Where the readable transcript goes (stdout in `serve`).
    terminal: Box<dyn Write + Send>,
    outbox: Option<File>,
    /// LINE answers 409 to a push or multicast whose retry key it already accepted.
    accepted_keys: HashSet<String>,
}

/// One outgoing call, as printed and recorded.
enum Call<'a> {
    Reply,
    Push(&'a UserId),
    Multicast(&'a [UserId]),
}

impl Call<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Call::Reply => "reply",
            Call::Push(_) => "push",
            Call::Multicast(_) => "multicast",
        }
    }

    fn recipients(&self) -> Vec<String> {
        match self {
            Call::Reply => Vec::new(),
            Call::Push(to) => vec![short_id(to)],
            Call::Multicast(to) => to.iter().map(short_id).collect(),
        }
    }
}

impl LocalLineApi {
    /// Prints to `terminal`; with `data`, also appends to `<data>/outbox.jsonl`.
    pub fn new(terminal: Box<dyn Write + Send>, data: Option<&Path>) -> anyhow::Result<Self> {
        let outbox = match data {
            Some(dir) => {
                let path = outbox_path(dir);
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .with_context(|| format!("cannot open the outbox {}", path.display()))?;
                Some(file)
            }
            None => None,
        };
        Ok(LocalLineApi {
            sinks: Mutex::new(Sinks {
                terminal,
                outbox,
                accepted_keys: HashSet::new(),
            }),
        })
    }

    fn deliver(
        &self,
        call: Call<'_>,
        messages: &[Message],
        retry_key: Option<&RetryKey>,
    ) -> Result<Accepted, LineError> {
        let mut sinks = self.sinks.lock().unwrap_or_else(|p| p.into_inner());
        let multicast_to = match &call {
            Call::Multicast(to) => Some(*to),
            _ => None,
        };
        if let Err(refused) = check_request(messages, multicast_to) {
            // A bug in sukusuku, not in the developer's input: show it where they look.
            let reason = match &refused {
                LineError::Invalid(reason) => reason.clone(),
                other => other.to_string(),
            };
            let _ = writeln!(
                sinks.terminal,
                "── {} refused: LINE would reject it: {reason}\n",
                call.kind()
            );
            let _ = sinks.terminal.flush();
            return Err(refused);
        }
        if let Some(key) = retry_key
            && sinks.accepted_keys.contains(key.as_str())
        {
            return Ok(Accepted::Earlier);
        }
        if let Some(outbox) = sinks.outbox.as_mut() {
            let mut record = json!({
                "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "kind": call.kind(),
                "messages": messages,
            });
            if !matches!(call, Call::Reply) {
                record["to"] = json!(call.recipients());
            }
            if let Some(key) = retry_key {
                record["retryKey"] = json!(key.as_str());
            }
            let line = format!("{record}\n");
            // Not recorded means not sent: the sender retries, as it would after a LINE outage.
            outbox
                .write_all(line.as_bytes())
                .map_err(|e| LineError::Transport(format!("cannot append to the outbox: {e}")))?;
        }
        if let Some(key) = retry_key {
            sinks.accepted_keys.insert(key.as_str().to_string());
        }
        let _ = sinks.terminal.write_all(render(&call, messages).as_bytes());
        let _ = sinks.terminal.flush();
        Ok(Accepted::Now)
    }
}

pub fn outbox_path(data: &Path) -> PathBuf {
    data.join(OUTBOX_FILE)
}

/// `U0123…cdef`: tells test residents apart without printing a whole LINE user id.
fn short_id(user: &UserId) -> String {
    let id = user.as_str();
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 10 {
        return id.to_string();
    }
    let head: String = chars[..5].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// The terminal block for one call: a header, then each message's type and text, then its
/// buttons with the postback data a developer would send back to press them.
fn render(call: &Call<'_>, messages: &[Message]) -> String {
    let header = match call {
        Call::Reply => "reply".to_string(),
        Call::Push(to) => format!("push to {}", short_id(to)),
        Call::Multicast(to) => {
            let shown: Vec<String> = to.iter().take(5).map(short_id).collect();
            let more = to.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!(
                "multicast to {} residents: {}{more}",
                to.len(),
                shown.join(", ")
            )
        }
    };
    let rule = "─".repeat(60usize.saturating_sub(header.chars().count()));
    let mut out = format!("── {header} {rule}\n");
    for message in messages {
        match message {
            Message::Text { text, .. } => field(&mut out, "text", text),
            Message::Template {
                template: Template::Confirm { text, actions },
                ..
            } => {
                field(&mut out, "confirm", text);
                field(&mut out, "buttons", &buttons(actions.iter()));
            }
            Message::Flex { contents, .. } => {
                for (i, bubble) in contents.bubbles().iter().enumerate() {
                    field(&mut out, &format!("card {}", i + 1), &card(bubble));
                }
            }
        }
        if let Some(quick) = message.quick_reply() {
            let actions = quick.items.iter().map(|item| &item.action);
            field(&mut out, "quick reply", &buttons(actions));
        }
    }
    out.push('\n');
    out
}

const LABEL_WIDTH: usize = 12;

/// `label` in a column, then the value with its continuation lines indented under it.
fn field(out: &mut String, label: &str, value: &str) {
    let indent = " ".repeat(LABEL_WIDTH);
    for (i, line) in value.lines().enumerate() {
        if i == 0 {
            out.push_str(&format!("{label:<LABEL_WIDTH$}{line}\n"));
        } else if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{indent}{line}\n"));
        }
    }
}

/// A Flex bubble as lines: plain texts, and each tappable row or button with its data.
fn card(bubble: &Bubble) -> String {
    fn walk(b: &FlexBox, lines: &mut Vec<String>) {
        if let Some(action) = &b.action {
            lines.push(format!("[{} → {}]", b.texts().join(" "), action.data()));
            return;
        }
        for c in &b.contents {
            match c {
                FlexComponent::Box(inner) => walk(inner, lines),
                FlexComponent::Text(t) => lines.push(t.text.clone()),
                FlexComponent::Button(button) => {
                    lines.push(buttons(std::iter::once(&button.action)))
                }
                FlexComponent::Separator(_) => {}
            }
        }
    }
    let mut lines = Vec::new();
    for b in [&bubble.header, &bubble.body, &bubble.footer]
        .into_iter()
        .flatten()
    {
        walk(b, &mut lines);
    }
    lines.join("\n")
}

fn buttons<'a>(actions: impl Iterator<Item = &'a Action>) -> String {
    actions
        .map(|action| match action {
            Action::Postback { label, data, .. } => format!("[{label} → {data}]"),
            Action::DatetimePicker {
                label,
                data,
                min,
                max,
                ..
            } => format!("[{label} → {data}, date {min}..{max}]"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl LineApi for LocalLineApi {
    async fn reply(&self, _reply_token: &str, messages: &[Message]) -> Result<(), LineError> {
        self.deliver(Call::Reply, messages, None).map(|_| ())
    }

    async fn push(
        &self,
        to: &UserId,
        messages: &[Message],
        retry_key: &RetryKey,
    ) -> Result<Accepted, LineError> {
        self.deliver(Call::Push(to), messages, Some(retry_key))
    }

    async fn multicast(
        &self,
        to: &[UserId],
        messages: &[Message],
        retry_key: &RetryKey,
    ) -> Result<Accepted, LineError> {
        self.deliver(Call::Multicast(to), messages, Some(retry_key))
    }

    /// Local mode sends nothing to LINE, so nothing is counted against a plan.
    async fn quota(&self) -> Result<Quota, LineError> {
        Ok(Quota::UNLIMITED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A terminal the test can read back.
    #[derive(Clone, Default)]
    struct Screen(Arc<Mutex<Vec<u8>>>);

    impl Write for Screen {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("screen").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Screen {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().expect("screen").clone()).expect("utf8")
        }
    }

    fn user(n: u32) -> UserId {
        UserId::parse(&format!("U{n:032x}")).expect("user id")
    }

    fn date(s: &str) -> chrono::NaiveDate {
        shared::dates::parse_ymd(s).expect("date")
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sukusuku-local-line-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    fn outbox_records(dir: &Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(outbox_path(dir))
            .expect("outbox")
            .lines()
            .map(|l| serde_json::from_str(l).expect("outbox line is JSON"))
            .collect()
    }

    #[tokio::test]
    async fn replies_are_printed_with_their_buttons_and_recorded() {
        let dir = scratch("reply");
        let screen = Screen::default();
        let line = LocalLineApi::new(Box::new(screen.clone()), Some(&dir)).expect("local line");
        let greeting = Message::text_with(
            "友だち追加ありがとうございます。\n下のボタンから登録してください。",
            vec![
                Action::date_picker(
                    "生年月日を登録",
                    "v1:birth",
                    date("2026-11-25"),
                    date("2008-11-26"),
                    date("2026-11-25"),
                ),
                Action::postback("使い方", "v1:help"),
            ],
        );
        let stop = Message::confirm(
            "配信を停止しますか？",
            Action::postback("停止する", "v1:stop-ok"),
            Action::postback("やめる", "v1:cancel"),
        );
        line.reply("token", &[greeting.clone(), stop.clone()])
            .await
            .expect("reply");

        let shown = screen.text();
        assert!(shown.starts_with("── reply "), "{shown}");
        assert!(
            shown.contains(
                "text        友だち追加ありがとうございます。\n            下のボタンから"
            ),
            "{shown}"
        );
        assert!(
            shown.contains(
                "quick reply [生年月日を登録 → v1:birth, date 2008-11-26..2026-11-25] [使い方 → v1:help]"
            ),
            "{shown}"
        );
        assert!(
            shown.contains("confirm     配信を停止しますか？"),
            "{shown}"
        );
        assert!(
            shown.contains("buttons     [停止する → v1:stop-ok] [やめる → v1:cancel]"),
            "{shown}"
        );

        let records = outbox_records(&dir);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0]["kind"], "reply");
        assert!(records[0].get("to").is_none());
        // The exact message JSON LINE would have received.
        assert_eq!(records[0]["messages"], json!([greeting, stop]));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn pushes_and_multicasts_show_shortened_recipients_and_honour_retry_keys() {
        let dir = scratch("push");
        let screen = Screen::default();
        let line = LocalLineApi::new(Box::new(screen.clone()), Some(&dir)).expect("local line");
        let notice = [Message::text("【1週間誕生日おめでとうございます】")];
        let key = RetryKey::derive("job-1");
        assert_eq!(
            line.push(&user(1), &notice, &key).await.expect("push"),
            Accepted::Now
        );
        // The same retry key again: accepted earlier, like LINE's 409; not shown twice.
        assert_eq!(
            line.push(&user(1), &notice, &key).await.expect("push"),
            Accepted::Earlier
        );
        let many: Vec<UserId> = (1..=7).map(user).collect();
        line.multicast(&many, &notice, &RetryKey::derive("job-2"))
            .await
            .expect("multicast");

        let shown = screen.text();
        assert_eq!(shown.matches("── push to U0000…0001").count(), 1, "{shown}");
        assert!(
            shown.contains("── multicast to 7 residents: U0000…0001, U0000…0002, U0000…0003, U0000…0004, U0000…0005 and 2 more"),
            "{shown}"
        );
        assert!(
            !shown.contains(user(1).as_str()),
            "whole user ids are not printed"
        );
        let records = outbox_records(&dir);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["kind"], "push");
        assert_eq!(records[0]["to"], json!(["U0000…0001"]));
        assert_eq!(records[0]["retryKey"], key.as_str());
        assert_eq!(records[1]["kind"], "multicast");
        assert_eq!(records[1]["to"].as_array().map(Vec::len), Some(7));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn what_line_would_reject_is_refused_and_shown() {
        let screen = Screen::default();
        let line = LocalLineApi::new(Box::new(screen.clone()), None).expect("local line");
        let err = line
            .reply("token", &[])
            .await
            .expect_err("no messages is not a request LINE takes");
        assert!(!err.is_retryable());
        let err = line
            .multicast(&[], &[Message::text("x")], &RetryKey::derive("j"))
            .await
            .expect_err("nobody to send to");
        assert!(matches!(err, LineError::Invalid(_)));
        let shown = screen.text();
        assert!(
            shown.contains("── reply refused: LINE would reject it"),
            "{shown}"
        );
        assert!(shown.contains("── multicast refused"), "{shown}");
    }
}
