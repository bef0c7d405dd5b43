//! What a resident asks for, whether by tapping (postback data, versioned so old buttons in
//! the chat history keep working or fail gracefully) or by typing a keyword.

/// Version tag of postback data; bump when meanings change and keep parsing old ones.
const VERSION: &str = "v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Pregnancy,
    Child(String),
}

/// A catalog id as a postback carries it: 1–64 letters, digits, `-` or `_`, starting with a
/// letter or digit (what the catalog allows). Whether the catalog still has it is the flow's question, not the parser's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceId(String);

impl ChoiceId {
    pub fn parse(raw: &str) -> Option<ChoiceId> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| ChoiceId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One 受信設定 answer, as a button sets it. Each names the state it sets (not a toggle), so
/// an old button tapped twice does what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingChange {
    Category {
        id: ChoiceId,
        on: bool,
    },
    /// Every category back on.
    AllCategories,
    /// 地区; `None` clears the answer.
    District(Option<ChoiceId>),
    Household {
        id: ChoiceId,
        on: bool,
    },
    /// 保育所（園）の申込状況; `None` clears the answer.
    Nursery(Option<ChoiceId>),
    EasyJapanese(bool),
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
    /// 受信設定: every question with its current answer.
    Settings,
    /// Change one 受信設定 answer.
    Set(SettingChange),
    /// Which child's ニックネーム to register.
    NicknameMenu,
    /// Ask for this child's ニックネーム (the next text message is the answer).
    AskNickname(String),
    /// Forget this child's ニックネーム.
    RemoveNickname(String),
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
    /// 予約 and everything under it.
    Reserve(super::reserve::ReserveCommand),
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
            Command::Set(change) => {
                let on = |on: &bool| if *on { "on" } else { "off" };
                fn or_none(id: &Option<ChoiceId>) -> &str {
                    id.as_ref().map_or("-", ChoiceId::as_str)
                }
                match change {
                    SettingChange::Category { id, on: o } => format!("cat:{}:{}", id.0, on(o)),
                    SettingChange::AllCategories => "cat-all".to_string(),
                    SettingChange::District(id) => format!("district:{}", or_none(id)),
                    SettingChange::Household { id, on: o } => {
                        format!("household:{}:{}", id.0, on(o))
                    }
                    SettingChange::Nursery(id) => format!("nursery:{}", or_none(id)),
                    SettingChange::EasyJapanese(o) => format!("easy:{}", on(o)),
                }
            }
            Command::NicknameMenu => "nick".to_string(),
            Command::AskNickname(id) => format!("nick:{id}"),
            Command::RemoveNickname(id) => format!("nick-rm:{id}"),
            Command::RemoveMenu => "rm".to_string(),
            Command::RemoveAsk(t) => format!("rm:{}", target(t)),
            Command::RemoveConfirm(t) => format!("rm-ok:{}", target(t)),
            Command::Stop => "stop".to_string(),
            Command::StopConfirm => "stop-ok".to_string(),
            Command::Cancel => "cancel".to_string(),
            Command::Menu => "menu".to_string(),
            Command::Reserve(c) => c.body(),
        };
        format!("{VERSION}:{body}")
    }

    pub fn from_postback(data: &str) -> Option<Command> {
        let body = data.strip_prefix(VERSION)?.strip_prefix(':')?;
        if body == "rsv" || body.starts_with("rsv:") {
            return super::reserve::ReserveCommand::parse(body).map(Command::Reserve);
        }
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
        let on = |s: &str| match s {
            "on" => Some(true),
            "off" => Some(false),
            _ => None,
        };
        let id_or_none = |s: &str| match s {
            "-" => Some(None),
            id => ChoiceId::parse(id).map(Some),
        };
        let child = |t: &str| match target(t)? {
            Target::Child(id) => Some(id),
            Target::Pregnancy => None,
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
                "cat-all" => Command::Set(SettingChange::AllCategories),
                "nick" => Command::NicknameMenu,
                _ => return None,
            },
            Some(("easy", o)) => Command::Set(SettingChange::EasyJapanese(on(o)?)),
            Some(("cat", rest)) => {
                let (id, o) = rest.split_once(':')?;
                Command::Set(SettingChange::Category {
                    id: ChoiceId::parse(id)?,
                    on: on(o)?,
                })
            }
            Some(("household", rest)) => {
                let (id, o) = rest.split_once(':')?;
                Command::Set(SettingChange::Household {
                    id: ChoiceId::parse(id)?,
                    on: on(o)?,
                })
            }
            Some(("district", id)) => Command::Set(SettingChange::District(id_or_none(id)?)),
            Some(("nursery", id)) => Command::Set(SettingChange::Nursery(id_or_none(id)?)),
            Some(("nick", t)) => Command::AskNickname(child(t)?),
            Some(("nick-rm", t)) => Command::RemoveNickname(child(t)?),
            Some(("rm", t)) => Command::RemoveAsk(target(t)?),
            Some(("fix", t)) => Command::CorrectBirth(child(t)?),
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
        } else if has(&["予約の確認", "予約確認", "予約の変更", "キャンセル待ち"])
        {
            Command::Reserve(super::reserve::ReserveCommand::List)
        } else if has(&["予約", "よやく"]) {
            Command::Reserve(super::reserve::ReserveCommand::Menu)
        } else if has(&["登録内容", "確認"]) {
            Command::Show
        } else if has(&["削除"]) {
            Command::RemoveMenu
        } else if has(&["ニックネーム", "にっくねーむ", "呼び名"]) {
            Command::NicknameMenu
        } else if has(&["受信設定", "設定", "やさしい", "にほんご", "せってい"]) {
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

    fn id(s: &str) -> ChoiceId {
        ChoiceId::parse(s).expect("valid id")
    }

    #[test]
    fn postback_data_round_trips() {
        let all = [
            Command::RegisterDue,
            Command::RegisterBirth,
            Command::Show,
            Command::Settings,
            Command::Set(SettingChange::EasyJapanese(true)),
            Command::Set(SettingChange::EasyJapanese(false)),
            Command::Set(SettingChange::Category {
                id: id("dental"),
                on: false,
            }),
            Command::Set(SettingChange::Category {
                id: id(&"x".repeat(64)),
                on: true,
            }),
            Command::Set(SettingChange::AllCategories),
            Command::Set(SettingChange::District(Some(id("kita_2")))),
            Command::Set(SettingChange::District(None)),
            Command::Set(SettingChange::Household {
                id: id("single-parent"),
                on: true,
            }),
            Command::Set(SettingChange::Nursery(Some(id("planning")))),
            Command::Set(SettingChange::Nursery(None)),
            Command::NicknameMenu,
            Command::AskNickname("c3".into()),
            Command::RemoveNickname("c10".into()),
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
            "v1:cat:dental",
            "v1:cat:dental:maybe",
            "v1:cat::on",
            "v1:cat:a b:on",
            "v1:cat:a:b:on",
            "v1:district:",
            "v1:district:中央",
            "v1:nursery:a:b",
            "v1:household:x",
            "v1:nick:due",
            "v1:nick-rm:x",
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
        assert_eq!(
            Command::from_text("ニックネーム"),
            Some(Command::NicknameMenu)
        );
        assert_eq!(Command::from_text("こんにちは"), None);
    }
}
