//! What a resident asks for, whether by tapping (postback data, versioned so old buttons in
//! the chat history keep working or fail gracefully) or by typing a keyword.

/// Version tag of postback data; bump when meanings change and keep parsing old ones.
const VERSION: &str = "v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Pregnancy,
    Child(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Register or change the due date (a date picker's postback carries the date).
    RegisterDue,
    /// Register a child's birthdate.
    RegisterBirth,
    /// Which child's birthdate to correct.
    CorrectMenu,
    /// Correct this child's birthdate (a date picker's postback carries the date); the child
    /// stays the same child, so milestones already received do not come again.
    CorrectBirth(String),
    /// 登録内容
    Show,
    /// 受信設定
    Settings,
    SetEasyJapanese(bool),
    /// Which registration to remove.
    RemoveMenu,
    RemoveAsk(Target),
    RemoveConfirm(Target),
    /// 配信停止, step 1 → confirm.
    Stop,
    /// 配信停止, step 2 → done.
    StopConfirm,
    Cancel,
    Menu,
}

impl Command {
    pub fn data(&self) -> String {
        let target = |t: &Target| match t {
            Target::Pregnancy => "due".to_string(),
            Target::Child(id) => id.clone(),
        };
        let body = match self {
            Command::RegisterDue => "due".to_string(),
            Command::RegisterBirth => "birth".to_string(),
            Command::CorrectMenu => "fix".to_string(),
            Command::CorrectBirth(id) => format!("fix:{id}"),
            Command::Show => "show".to_string(),
            Command::Settings => "settings".to_string(),
            Command::SetEasyJapanese(true) => "easy:on".to_string(),
            Command::SetEasyJapanese(false) => "easy:off".to_string(),
            Command::RemoveMenu => "rm".to_string(),
            Command::RemoveAsk(t) => format!("rm:{}", target(t)),
            Command::RemoveConfirm(t) => format!("rm-ok:{}", target(t)),
            Command::Stop => "stop".to_string(),
            Command::StopConfirm => "stop-ok".to_string(),
            Command::Cancel => "cancel".to_string(),
            Command::Menu => "menu".to_string(),
        };
        format!("{VERSION}:{body}")
    }

    pub fn from_postback(data: &str) -> Option<Command> {
        let body = data.strip_prefix(VERSION)?.strip_prefix(':')?;
        let target = |t: &str| match t {
            "due" => Some(Target::Pregnancy),
            id if id.starts_with('c')
                && (2..=8).contains(&id.len())
                && id[1..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some(Target::Child(id.to_string()))
            }
            _ => None,
        };
        Some(match body.split_once(':') {
            None => match body {
                "due" => Command::RegisterDue,
                "birth" => Command::RegisterBirth,
                "fix" => Command::CorrectMenu,
                "show" => Command::Show,
                "settings" => Command::Settings,
                "rm" => Command::RemoveMenu,
                "stop" => Command::Stop,
                "stop-ok" => Command::StopConfirm,
                "cancel" => Command::Cancel,
                "menu" => Command::Menu,
                _ => return None,
            },
            Some(("easy", "on")) => Command::SetEasyJapanese(true),
            Some(("easy", "off")) => Command::SetEasyJapanese(false),
            Some(("rm", t)) => Command::RemoveAsk(target(t)?),
            Some(("fix", t)) => match target(t)? {
                Target::Child(id) => Command::CorrectBirth(id),
                Target::Pregnancy => return None,
            },
            Some(("rm-ok", t)) => Command::RemoveConfirm(target(t)?),
            _ => return None,
        })
    }

    /// Typed words residents use. Stopping is checked first so "配信停止" never registers.
    pub fn from_text(text: &str) -> Option<Command> {
        let t: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
        Some(if has(&["配信停止", "停止", "退会", "解除"]) {
            Command::Stop
        } else if has(&["登録内容", "確認"]) {
            Command::Show
        } else if has(&["削除"]) {
            Command::RemoveMenu
        } else if has(&["受信設定", "設定", "やさしい", "にほんご"]) {
            Command::Settings
        } else if has(&["予定日", "妊娠"]) {
            Command::RegisterDue
        } else if has(&[
            "生年月日",
            "誕生日",
            "たんじょうび",
            "出生",
            "生まれ",
            "出産",
        ]) {
            Command::RegisterBirth
        } else if has(&[
            "登録",
            "はじめ",
            "スタート",
            "メニュー",
            "ヘルプ",
            "help",
            "menu",
            "使い方",
            "つかいかた",
        ]) {
            Command::Menu
        } else {
            return None;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postback_data_round_trips() {
        let all = [
            Command::RegisterDue,
            Command::RegisterBirth,
            Command::Show,
            Command::Settings,
            Command::SetEasyJapanese(true),
            Command::SetEasyJapanese(false),
            Command::RemoveMenu,
            Command::CorrectMenu,
            Command::CorrectBirth("c2".into()),
            Command::RemoveAsk(Target::Pregnancy),
            Command::RemoveAsk(Target::Child("c12".into())),
            Command::RemoveConfirm(Target::Child("c3".into())),
            Command::RemoveConfirm(Target::Pregnancy),
            Command::Stop,
            Command::StopConfirm,
            Command::Cancel,
            Command::Menu,
        ];
        for c in all {
            assert_eq!(
                Command::from_postback(&c.data()),
                Some(c.clone()),
                "{}",
                c.data()
            );
            assert!(c.data().len() <= 300);
        }
        for bad in [
            "",
            "due",
            "v2:due",
            "v1:",
            "v1:rm:x",
            "v1:rm:c",
            "v1:rm:c1x",
            "v1:easy:maybe",
            "v1:rm-ok:c99999999",
            "v1:fix:due",
            "v1:fix:x",
        ] {
            assert_eq!(Command::from_postback(bad), None, "{bad}");
        }
    }

    #[test]
    fn typed_words_map_to_commands() {
        assert_eq!(Command::from_text("配信停止"), Some(Command::Stop));
        assert_eq!(Command::from_text(" 登録内容 "), Some(Command::Show));
        assert_eq!(
            Command::from_text("出産予定日を登録"),
            Some(Command::RegisterDue)
        );
        assert_eq!(
            Command::from_text("子どもの生年月日"),
            Some(Command::RegisterBirth)
        );
        assert_eq!(Command::from_text("登録"), Some(Command::Menu));
        assert_eq!(Command::from_text("受信設定"), Some(Command::Settings));
        assert_eq!(Command::from_text("こんにちは"), None);
    }
}
