//! Conversations as scripts: the resident follows, types and taps the buttons they are shown;
//! each step asserts the replies. Every reply is checked against LINE's limits and must offer
//! a way forward (quick reply or confirm buttons) — no dead ends.

use chrono::NaiveDate;

use super::{Change, Incoming, Turn, respond};
use crate::catalog::Catalog;
use crate::domain::{Resident, UserId};
use crate::line::{Action, Message};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

/// Words of the ふつう replies that a やさしい日本語 reader should never see.
const PLAIN_WORDS: &[&str] = &[
    "お子さま",
    "お知らせ",
    "登録しました",
    "してください",
    "選んで",
    "削除",
    "変更",
    "キャンセル",
    "いただき",
    "今日",
];
/// The same for button labels (which keep 予定日, 誕生日, 受信設定 and 配信停止).
const PLAIN_LABEL_WORDS: &[&str] = &["登録", "変更", "削除", "キャンセル", "見る", "生年月日"];

/// A LINE chat with one resident, the stored record simulated the way the store keeps it.
struct Chat {
    catalog: Catalog,
    user: UserId,
    today: NaiveDate,
    clock_ms: i64,
    resident: Option<Resident>,
    last: Vec<Message>,
    /// Turns of a やさしい日本語 reader checked for ふつう words.
    easy_replies: usize,
}

impl Chat {
    fn new(today: &str) -> Chat {
        Chat::with(
            Catalog::from_source(&crate::catalog::example_source())
                .expect("example catalog is valid"),
            today,
        )
    }

    fn with_catalog(catalog: &str, today: &str) -> Chat {
        Chat::with(
            Catalog::from_yaml(catalog).expect("the catalog is valid"),
            today,
        )
    }

    fn with(catalog: Catalog, today: &str) -> Chat {
        Chat {
            catalog,
            user: UserId::parse("U0123456789abcdef0123456789abcdef").expect("id"),
            today: d(today),
            clock_ms: 1_700_000_000_000,
            resident: None,
            last: vec![],
            easy_replies: 0,
        }
    }

    fn send(&mut self, incoming: Incoming<'_>) -> &mut Chat {
        self.clock_ms += 1000;
        self.send_at(incoming, self.clock_ms)
    }

    fn send_at(&mut self, incoming: Incoming<'_>, timestamp_ms: i64) -> &mut Chat {
        let turn = Turn {
            user_id: &self.user,
            today: self.today,
            timestamp_ms,
            catalog: &self.catalog,
            reservations: None,
        };
        let is_unfollow = incoming == Incoming::Unfollow;
        let response = respond(&turn, self.resident.as_ref(), incoming);
        for m in &response.replies {
            m.validate()
                .unwrap_or_else(|e| panic!("reply breaks a LINE limit: {e}\n{m:?}"));
        }
        crate::line::message::validate_messages(&response.replies)
            .or_else(|e| {
                if response.replies.is_empty() {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .unwrap_or_else(|e| panic!("the reply breaks a LINE limit: {e}"));
        // The register after this turn: a switch back to ふつう answers in ふつう.
        let easy_after = match &response.change {
            Change::Save(r) => r.easy_japanese,
            Change::Keep | Change::Delete | Change::Seat(_) => {
                self.resident.as_ref().is_some_and(|r| r.easy_japanese)
            }
        };
        if easy_after {
            self.easy_replies += 1;
            for m in &response.replies {
                let text = m.plain_text();
                for plain in PLAIN_WORDS {
                    assert!(!text.contains(plain), "`{plain}` in an easy reply:\n{text}");
                }
                for a in m.actions() {
                    for plain in PLAIN_LABEL_WORDS {
                        assert!(
                            !a.label().contains(plain),
                            "`{plain}` on an easy button: {}",
                            a.label()
                        );
                    }
                }
            }
        }
        // LINE shows the quick reply of the last message only: that one must lead on.
        if let Some(last) = response.replies.last() {
            assert!(
                !last.actions().is_empty(),
                "dead end: {}",
                last.plain_text()
            );
        }
        if !is_unfollow {
            assert!(!response.replies.is_empty() || response.change == Change::Keep);
        }
        match response.change {
            Change::Keep => {}
            Change::Save(mut r) => {
                assert_eq!(
                    r.version,
                    self.resident.as_ref().map_or(0, |x| x.version),
                    "saves name the version read"
                );
                r.version += 1;
                self.resident = Some(*r);
            }
            Change::Delete => self.resident = None,
            // 予約 turns need the store: tests/reservations.rs runs them through the handler.
            Change::Seat(act) => panic!("a seat change in a script without a store: {act:?}"),
        }
        self.last = response.replies;
        self
    }

    fn follow(&mut self) -> &mut Chat {
        self.send(Incoming::Follow { unblocked: false })
    }

    fn say(&mut self, text: &str) -> &mut Chat {
        self.send(Incoming::Text(text))
    }

    /// Every button of the last reply: quick replies, a confirm's, a card's rows.
    fn actions(&self) -> Vec<Action> {
        self.last
            .iter()
            .flat_map(|m| m.actions().into_iter().cloned())
            .collect()
    }

    fn labels(&self) -> Vec<String> {
        self.actions()
            .into_iter()
            .map(|a| a.label().to_string())
            .collect()
    }

    fn action(&self, wanted: &str) -> Action {
        self.actions()
            .into_iter()
            .find(|a| matches!(a, Action::Postback { label, .. } | Action::DatetimePicker { label, .. } if label == wanted))
            .unwrap_or_else(|| panic!("no button `{wanted}` in {:?}", self.labels()))
    }

    /// Taps a postback button shown in the last reply.
    fn tap(&mut self, label: &str) -> &mut Chat {
        match self.action(label) {
            Action::Postback { data, .. } => self.send(Incoming::Postback {
                data: &data,
                date: None,
            }),
            other => panic!("`{label}` is not a button: {other:?}"),
        }
    }

    /// Picks a date in a date picker shown in the last reply; LINE's picker keeps it
    /// within min/max, which this checks too.
    fn pick(&mut self, label: &str, date: &str) -> &mut Chat {
        match self.action(label) {
            Action::DatetimePicker { data, min, max, .. } => {
                assert!(
                    min.as_str() <= date && date <= max.as_str(),
                    "{date} outside the picker's {min}..{max}"
                );
                self.send(Incoming::Postback {
                    data: &data,
                    date: Some(date),
                })
            }
            other => panic!("`{label}` is not a date picker: {other:?}"),
        }
    }

    /// A client that ignores the picker's bounds (or a forged postback).
    fn pick_anyway(&mut self, label: &str, date: &str) -> &mut Chat {
        match self.action(label) {
            Action::DatetimePicker { data, .. } => self.send(Incoming::Postback {
                data: &data,
                date: Some(date),
            }),
            other => panic!("`{label}` is not a date picker: {other:?}"),
        }
    }

    fn text(&self) -> String {
        self.last
            .iter()
            .map(|m| m.plain_text().into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn expect(&mut self, fragment: &str) -> &mut Chat {
        let text = self.text();
        assert!(text.contains(fragment), "expected `{fragment}` in:\n{text}");
        self
    }

    fn expect_buttons(&mut self, labels: &[&str]) -> &mut Chat {
        let have = self.labels();
        for l in labels {
            assert!(
                have.iter().any(|h| h == l),
                "expected button `{l}` in {have:?}"
            );
        }
        self
    }
}

#[test]
fn follow_then_register_a_due_date() {
    let mut chat = Chat::new("2026-11-22");
    chat.follow()
        .expect("友だち追加ありがとうございます")
        .expect_buttons(&[
            "出産予定日を登録",
            "子どもの生年月日を登録",
            "受信設定",
            "使い方",
        ]);
    assert_eq!(
        chat.resident, None,
        "following alone stores nothing personal"
    );
    let picker = chat.action("出産予定日を登録");
    match picker {
        Action::DatetimePicker { min, max, .. } => {
            assert_eq!(min, "2026-11-22");
            assert_eq!(max, "2027-08-29");
        }
        other => panic!("{other:?}"),
    }
    // Due 2027-05-07 → today is 280 − 166 = 114 days = 16w2d.
    chat.pick("出産予定日を登録", "2027-05-07")
        .expect("出産予定日を2027年5月7日（金）で登録しました。")
        .expect("今日は妊娠16週2日（妊娠5か月）です。")
        .expect("次のお知らせは2026年11月27日（金）（妊娠17週0日）の予定です。")
        .expect_buttons(&["登録内容を見る", "出産予定日を変更", "配信停止"]);
    let r = chat.resident.clone().expect("stored");
    assert_eq!(r.pregnancy.map(|p| p.due_date), Some(d("2027-05-07")));
    // Changing it says so.
    chat.pick("出産予定日を変更", "2027-05-10")
        .expect("で変更しました");
}

#[test]
fn impossible_due_dates_are_refused_and_the_picker_comes_back() {
    let mut chat = Chat::new("2026-11-22");
    chat.follow();
    chat.pick_anyway("出産予定日を登録", "2026-11-21")
        .expect("過ぎた日付です")
        .expect_buttons(&["出産予定日を登録", "子どもの生年月日を登録"]);
    assert_eq!(chat.resident, None);
    chat.pick_anyway("出産予定日を登録", "2027-08-30")
        .expect("280日（約10か月）以内");
    assert_eq!(chat.resident, None);
    chat.pick_anyway("出産予定日を登録", "2027-02-30")
        .expect("日付を読み取れませんでした");
    chat.send(Incoming::Postback {
        data: "v1:due",
        date: None,
    })
    .expect("カレンダーから選んでください");
    assert_eq!(chat.resident, None, "nothing stored by any refusal");
}

#[test]
fn register_children_with_ages_twins_and_limits() {
    let mut chat = Chat::new("2027-01-20");
    chat.follow();
    chat.pick("子どもの生年月日を登録", "2025-11-20")
        .expect("お子さま（2025年11月20日（木）生まれ）を登録しました。")
        .expect("今日で1歳2か月です。")
        .expect("次のお知らせは2027年5月20日（木）（1歳6か月）の予定です。");
    chat.pick("生年月日を追加登録", "2025-11-20")
        .expect("ふたごなどの場合はこのままで大丈夫です");
    assert_eq!(chat.resident.as_ref().map(|r| r.children.len()), Some(2));
    chat.pick_anyway("生年月日を追加登録", "2027-01-21")
        .expect("未来の日付は登録できません");
    chat.pick_anyway("生年月日を追加登録", "2009-01-19")
        .expect("18歳までのお子さま");
    chat.pick("生年月日を追加登録", "2009-01-20")
        .expect("今日で18歳0か月です。");
    for day in 1..=7 {
        chat.pick("生年月日を追加登録", &format!("2020-01-{day:02}"));
    }
    assert_eq!(chat.resident.as_ref().map(|r| r.children.len()), Some(10));
    assert!(
        !chat.labels().iter().any(|l| l == "生年月日を追加登録"),
        "no button for an 11th child"
    );
    chat.send(Incoming::Postback {
        data: "v1:birth",
        date: Some("2021-01-01"),
    })
    .expect("10人までです");
    assert_eq!(chat.resident.as_ref().map(|r| r.children.len()), Some(10));
}

#[test]
fn a_birth_near_the_due_date_ends_the_pregnancy_registration() {
    let mut chat = Chat::new("2027-03-10");
    chat.follow().pick("出産予定日を登録", "2027-03-20");
    chat.pick("子どもの生年月日を登録", "2027-03-08")
        .expect("ご出産おめでとうございます！")
        .expect("今日で生後2日です。");
    let r = chat.resident.clone().expect("stored");
    assert!(r.pregnancy.is_none());
    assert_eq!(r.children.len(), 1);
    // An older sibling does not end a current pregnancy.
    let mut chat = Chat::new("2027-03-10");
    chat.follow().pick("出産予定日を登録", "2027-06-20");
    chat.pick("子どもの生年月日を登録", "2024-04-01");
    assert!(!chat.text().contains("おめでとう"));
    assert!(
        chat.resident
            .as_ref()
            .is_some_and(|r| r.pregnancy.is_some())
    );
}

#[test]
fn review_and_remove_one_registration() {
    let mut chat = Chat::new("2026-11-22");
    chat.follow().pick("出産予定日を登録", "2027-03-01");
    chat.pick("子どもの生年月日を登録", "2024-06-15");
    chat.say("登録内容")
        .expect("【登録内容】")
        .expect("出産予定日：2027年3月1日（月）")
        .expect("今日は妊娠25週6日（妊娠7か月）")
        .expect("お子さま：2024年6月15日生まれ（2歳5か月）")
        .expect("お知らせの日本語：ふつうの日本語")
        .expect_buttons(&["登録を削除", "受信設定", "配信停止"]);
    chat.tap("登録を削除")
        .expect("どの登録を削除しますか？")
        .expect_buttons(&["出産予定日の登録", "2024年6月15日生まれ", "やめる"]);
    chat.tap("2024年6月15日生まれ")
        .expect("2024年6月15日生まれのお子さまの登録を削除しますか？");
    chat.tap("削除する")
        .expect("2024年6月15日生まれのお子さまの登録を削除しました。");
    let r = chat.resident.clone().expect("still registered");
    assert!(r.children.is_empty());
    assert!(r.pregnancy.is_some());
    // The same confirm tapped again (old message) finds nothing and says so.
    chat.send(Incoming::Postback {
        data: "v1:rm-ok:c1",
        date: None,
    })
    .expect("見つかりませんでした");
    chat.tap("登録内容を見る")
        .tap("登録を削除")
        .tap("出産予定日の登録")
        .tap("やめる")
        .expect("キャンセルしました");
    assert!(
        chat.resident
            .as_ref()
            .is_some_and(|r| r.pregnancy.is_some()),
        "cancel keeps it"
    );
}

#[test]
fn stop_takes_three_steps_and_deletes_personal_data() {
    let mut chat = Chat::new("2026-11-22");
    chat.follow().pick("出産予定日を登録", "2027-03-01");
    chat.say("配信停止")
        .expect("配信を停止しますか？")
        .expect_buttons(&["停止する", "やめる"]);
    assert!(chat.resident.is_some(), "asking changes nothing");
    chat.tap("停止する")
        .expect("登録情報をすべて削除しました")
        .expect_buttons(&["出産予定日を登録"]);
    assert_eq!(chat.resident, None);
    // Tapping the old confirm again is harmless.
    chat.send(Incoming::Postback {
        data: "v1:stop-ok",
        date: None,
    })
    .expect("停止済み");
    // Changing one's mind at step 2 keeps everything.
    chat.pick("出産予定日を登録", "2027-03-01");
    chat.tap("配信停止")
        .tap("やめる")
        .expect("キャンセルしました");
    assert!(chat.resident.is_some());
}

#[test]
fn blocking_deletes_and_unblocking_starts_over() {
    let mut chat = Chat::new("2026-11-22");
    chat.follow().pick("子どもの生年月日を登録", "2026-01-01");
    let at_registration = chat.clock_ms;
    // A redelivered unfollow older than the registration is ignored.
    chat.send_at(Incoming::Unfollow, at_registration - 5000);
    assert!(chat.resident.is_some());
    chat.send(Incoming::Unfollow);
    assert_eq!(chat.resident, None);
    assert!(
        chat.last.is_empty(),
        "nothing is said to a resident who blocked"
    );
    chat.send(Incoming::Follow { unblocked: true })
        .expect("おかえりなさい")
        .expect("もう一度登録してください")
        .expect_buttons(&["出産予定日を登録", "子どもの生年月日を登録"]);
    assert_eq!(chat.resident, None);
    // If the block was never reported, unblocking still starts over.
    chat.pick("子どもの生年月日を登録", "2026-01-01");
    chat.send(Incoming::Follow { unblocked: true });
    assert_eq!(chat.resident, None);
}

#[test]
fn settings_switch_to_easy_japanese_and_back() {
    let mut chat = Chat::new("2026-11-22");
    chat.follow()
        .tap("受信設定")
        .expect("【受信設定】")
        .expect("● ふつうの日本語");
    chat.tap("やさしい日本語").expect("やさしい にほんごで");
    assert!(chat.resident.as_ref().is_some_and(|r| r.easy_japanese));
    chat.say("受信設定")
        .expect("【受信設定（じゅしんせってい）】")
        .tap("ふつうの にほんご")
        .expect("ふつうの日本語でお知らせします");
    assert!(chat.resident.as_ref().is_some_and(|r| !r.easy_japanese));
}

#[test]
fn anything_unexpected_gets_a_kind_answer_with_buttons() {
    let mut chat = Chat::new("2026-11-22");
    chat.follow();
    chat.say("こんにちは")
        .expect("個別のご質問にはお答えできません")
        .expect_buttons(&["出産予定日を登録"]);
    chat.send(Incoming::OtherMessage("sticker"))
        .expect("スタンプありがとうございます");
    chat.send(Incoming::OtherMessage("image"))
        .expect("メッセージありがとうございます");
    chat.send(Incoming::Postback {
        data: "v0:something-old",
        date: None,
    })
    .expect("このボタンは使えなくなりました");
    chat.say("使い方").expect("できること");
    chat.say("登録内容").expect("現在、登録はありません");
    chat.say("削除").expect("現在、登録はありません");
    chat.say("配信停止").expect("現在、登録はありません");
    assert_eq!(chat.resident, None);
}

#[test]
fn labels_use_the_words_residents_expect() {
    let mut chat = Chat::new("2026-11-22");
    chat.follow();
    chat.pick("出産予定日を登録", "2027-03-01");
    chat.pick("子どもの生年月日を登録", "2024-01-01");
    for a in chat.actions() {
        match a {
            Action::DatetimePicker { label, data, .. } if data == "v1:due" => {
                assert!(label.contains("予定日"), "{label}")
            }
            Action::DatetimePicker { label, data, .. } if data == "v1:birth" => {
                assert!(
                    label.contains("生年月日") || label.contains("誕生日"),
                    "{label}"
                )
            }
            Action::Postback { label, data, .. } if data == "v1:settings" => {
                assert!(label.contains("受信設定"))
            }
            Action::Postback { label, data, .. } if data == "v1:stop" => {
                assert!(label.contains("配信停止"))
            }
            _ => {}
        }
    }
}

#[test]
fn a_childs_birthdate_is_corrected_as_the_same_child() {
    let mut chat = Chat::new("2027-01-20");
    chat.follow();
    chat.pick("子どもの生年月日を登録", "2025-11-20");
    chat.say("登録内容").expect_buttons(&["生年月日を変更"]);
    chat.tap("生年月日を変更")
        .expect("生年月日を変更するお子さまのボタンを押して")
        .expect_buttons(&["2025年11月20日生まれを変更", "キャンセル"]);
    chat.pick_anyway("2025年11月20日生まれを変更", "2027-01-21")
        .expect("今日までの日付を選んでください")
        .expect_buttons(&["2025年11月20日生まれを変更"]);
    assert_eq!(
        chat.resident.as_ref().map(|r| r.children[0].birth_date),
        Some(d("2025-11-20")),
        "a refused date changes nothing"
    );
    chat.pick("2025年11月20日生まれを変更", "2025-11-13")
        .expect("お子さまの生年月日を2025年11月13日（木）に変更しました。")
        .expect("もう一度届くことはありません");
    let r = chat.resident.as_ref().expect("stored");
    assert_eq!(r.children.len(), 1);
    // The same child (same id: its index entry and delivered milestones stay).
    assert_eq!(r.children[0].id, "c1");
    assert_eq!(r.children[0].birth_date, d("2025-11-13"));
}

/// A city's 受信設定 in a few lines: 12 categories (two cards), three districts, household
/// and nursery questions, and milestones that target them.
const SETTINGS_CATALOG: &str = r#"
categories:
  - {id: pregnancy, label: 妊娠・出産, easy_label: にんしん・おさん}
  - {id: checkup, label: 健診, easy_label: けんしん}
  - {id: vaccination, label: 予防接種, easy_label: よぼうせっしゅ}
  - {id: money, label: 手当・助成}
  - {id: dental, label: 歯の健康}
  - {id: food, label: 離乳食・食育}
  - {id: growth, label: 発達・ことば}
  - {id: consult, label: 子育て相談}
  - {id: nursery, label: 保育所・幼稚園}
  - {id: events, label: 子育てイベント・教室}
  - {id: library, label: 図書館・読み聞かせ}
  - {id: disaster, label: 防災}
settings:
  district:
    label: お住まいの地区
    easy_label: すんで いる ところ
    choices:
      - {id: chuo, label: 中央地区, easy_label: ちゅうおう}
      - {id: kita, label: 北地区, easy_label: きた}
      - {id: minami, label: 南地区, easy_label: みなみ}
  household:
    label: 世帯の状況
    choices:
      - {id: single-parent, label: ひとり親家庭}
      - {id: multiple-birth, label: 多胎（ふたご・みつご）}
      - {id: foreign-roots, label: 外国にルーツのある家庭}
  nursery:
    label: 保育所（園）の申込状況
    choices:
      - {id: none, label: 予定なし}
      - {id: planning, label: 申込予定}
      - {id: applied, label: 申込中}
      - {id: enrolled, label: 利用中}
milestones:
  - id: one-month
    anchor: birth_date
    at: {months: 1}
    category: checkup
    text: "1か月児健診のご案内"
  - id: hokatsu
    anchor: birth_date
    at: {months: 3}
    category: nursery
    audience: {nursery: [planning]}
    text: "保育所の申込み（保活）のご案内"
  - id: four-months
    anchor: birth_date
    at: {months: 4}
    category: checkup
    text: "4か月児健診のご案内"
"#;

impl Chat {
    fn settings(&self) -> crate::domain::Settings {
        self.resident
            .as_ref()
            .map(|r| r.settings.clone())
            .unwrap_or_default()
    }

    fn version(&self) -> u64 {
        self.resident.as_ref().map_or(0, |r| r.version)
    }

    /// The titles of the Flex cards in the last reply.
    fn cards(&self) -> Vec<String> {
        self.last
            .iter()
            .filter_map(|m| match m {
                Message::Flex { contents, .. } => Some(contents),
                _ => None,
            })
            .flat_map(|c| c.bubbles().iter())
            .filter_map(|b| b.header.as_ref())
            .map(|h| {
                h.plain_text()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    fn expect_not(&mut self, fragment: &str) -> &mut Chat {
        let text = self.text();
        assert!(
            !text.contains(fragment),
            "unexpected `{fragment}` in:\n{text}"
        );
        self
    }

    fn postback(&mut self, data: &str) -> &mut Chat {
        self.send(Incoming::Postback { data, date: None })
    }
}

#[test]
fn settings_show_every_question_with_its_current_answer() {
    let mut chat = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    chat.follow().tap("受信設定");
    assert_eq!(
        chat.cards(),
        vec![
            "受け取るお知らせ（1/2）",
            "受け取るお知らせ（2/2）",
            "お住まいの地区",
            "世帯の状況",
            "保育所（園）の申込状況",
            "お知らせの日本語",
        ]
    );
    chat.expect("12種類中12種類を受け取っています")
        .expect("✓ 防災")
        .expect("いまの回答：未回答")
        .expect("選んでいません")
        .expect("● ふつうの日本語")
        .expect_buttons(&["使い方"]);
    assert_eq!(chat.resident, None, "looking stores nothing");
}

#[test]
fn a_category_is_turned_off_and_on_with_one_tap_each() {
    let mut chat = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    chat.follow().pick("子どもの生年月日を登録", "2026-10-01");
    chat.tap("受信設定").tap("健診");
    chat.expect("「健診」のお知らせを止めました")
        .expect("12種類中11種類を受け取っています")
        .expect("－ 健診");
    assert!(chat.settings().muted.contains("checkup"));
    // The card shown with the confirmation is the one the row was on, ready for more taps.
    assert_eq!(chat.cards(), vec!["受け取るお知らせ（1/2）"]);
    let saved = chat.version();
    // The same old button again: nothing to write.
    chat.postback("v1:cat:checkup:off");
    assert_eq!(chat.version(), saved);
    chat.tap("健診").expect("「健診」のお知らせを受け取ります");
    assert!(chat.settings().muted.is_empty());
    // A category on the second card answers with the second card.
    chat.tap("受信設定").tap("防災");
    assert_eq!(chat.cards(), vec!["受け取るお知らせ（2/2）"]);
    chat.expect_buttons(&["すべて受け取る", "受信設定"]);
    chat.tap("すべて受け取る")
        .expect("すべての種類のお知らせを受け取ります");
    assert!(chat.settings().muted.is_empty());
}

#[test]
fn turning_every_category_off_warns_that_nothing_will_come() {
    let mut chat = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    chat.follow();
    let ids = [
        "pregnancy",
        "checkup",
        "vaccination",
        "money",
        "dental",
        "food",
        "growth",
        "consult",
        "nursery",
        "events",
        "library",
        "disaster",
    ];
    for id in ids {
        chat.postback(&format!("v1:cat:{id}:off"));
    }
    chat.expect("どの種類のお知らせも届きません")
        .expect_not("これまでどおり届きます");
    assert_eq!(chat.settings().muted.len(), 12);
    // A registration made now says nothing will come, instead of promising notices.
    chat.pick("子どもの生年月日を登録", "2026-10-01")
        .expect("どの種類のお知らせも届きません")
        .expect_not("お届けします")
        .expect_buttons(&["受信設定"]);
}

#[test]
fn the_settings_intro_names_only_the_questions_this_city_asks() {
    let mut chat = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    chat.follow()
        .tap("受信設定")
        .expect("お住まいの地区・世帯の状況・保育所（園）の申込状況を選べます")
        .expect("横にスクロール");
    let bare = "categories:\n  - {id: checkup, label: 健診}\nmilestones:\n  - {id: m, anchor: birth_date, at: {months: 1}, category: checkup, text: 1か月}\n";
    let mut chat = Chat::with_catalog(bare, "2026-11-22");
    chat.follow()
        .tap("受信設定")
        .expect("種類と、お知らせの日本語")
        .expect_not("地区")
        .expect_not("世帯")
        .expect_not("スクロール");
}

#[test]
fn past_the_first_year_the_next_step_is_named_by_age() {
    let catalog = "categories:\n  - {id: advice, label: 毎日のひとこと}\nmilestones: []\nseries:\n  - id: weekly\n    anchor: birth_date\n    from: {days: 0}\n    to: {weeks: 156}\n    every: {weeks: 1}\n    category: advice\n    text: \"{age}のあなたへ\"\n";
    let mut chat = Chat::with_catalog(catalog, "2026-12-03");
    chat.follow()
        .pick("子どもの生年月日を登録", "2025-06-05")
        .expect("（1歳6か月）の予定です")
        .expect_not("生後5");
}

#[test]
fn a_repeated_follow_greets_a_registered_easy_reader_as_one() {
    let mut chat = Chat::new("2026-11-22");
    chat.follow().tap("やさしい にほんご");
    chat.pick("子どもの 誕生日を とうろく", "2026-01-01");
    let kept = chat.resident.clone();
    // A follow without isUnblocked (redelivered, or a block LINE never reported).
    chat.follow()
        .expect("そのまま のこって います")
        .expect_not("やさしい にほんご」を おして");
    assert!(
        !chat.labels().iter().any(|l| l == "やさしい にほんご"),
        "no offer of what they already read: {:?}",
        chat.labels()
    );
    assert_eq!(chat.resident, kept, "nothing is lost");
}

#[test]
fn district_household_and_nursery_are_answered_and_cleared() {
    let mut chat = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    chat.follow().tap("受信設定").tap("北地区");
    chat.expect("「お住まいの地区」を「北地区」にしました")
        .expect("いまの回答：北地区")
        .expect("● 北地区");
    assert_eq!(chat.settings().district.as_deref(), Some("kita"));
    chat.tap("南地区");
    assert_eq!(chat.settings().district.as_deref(), Some("minami"));
    chat.tap("回答を取り消す").expect("回答を取り消しました");
    assert_eq!(chat.settings().district, None);

    chat.tap("受信設定")
        .tap("ひとり親家庭")
        .expect("「ひとり親家庭」を選びました");
    chat.tap("多胎（ふたご・みつご）")
        .expect("選択中：ひとり親家庭、多胎（ふたご・みつご）");
    assert_eq!(chat.settings().household.len(), 2);
    chat.tap("ひとり親家庭")
        .expect("「ひとり親家庭」を外しました");
    assert_eq!(
        chat.settings().household.into_iter().collect::<Vec<_>>(),
        vec!["multiple-birth".to_string()]
    );

    chat.tap("受信設定")
        .tap("申込予定")
        .expect("「保育所（園）の申込状況」を「申込予定」にしました");
    assert_eq!(chat.settings().nursery.as_deref(), Some("planning"));
    chat.tap("申込中");
    assert_eq!(chat.settings().nursery.as_deref(), Some("applied"));
    chat.tap("回答を取り消す")
        .expect("「保育所（園）の申込状況」の回答を取り消しました")
        .expect("いまの回答：未回答");
    assert_eq!(chat.settings().nursery, None);
}

#[test]
fn settings_decide_the_next_notice_a_confirmation_names() {
    let mut chat = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    chat.follow()
        .pick("子どもの生年月日を登録", "2026-11-01")
        .expect("次のお知らせは2026年12月1日（火）（生後1か月）");
    chat.postback("v1:cat:checkup:off");
    chat.postback("v1:nursery:planning");
    chat.say("登録内容")
        .pick("生年月日を追加登録", "2026-11-02")
        .expect("次のお知らせは2027年2月2日（火）（生後3か月）");
}

#[test]
fn tampered_settings_postbacks_change_nothing_and_show_the_settings() {
    let mut chat = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    chat.follow().postback("v1:district:kita");
    let before = chat.resident.clone();
    for data in [
        "v1:cat:no-such-category:off",
        "v1:district:atlantis",
        "v1:nursery:maybe",
        "v1:household:royal:on",
    ] {
        chat.postback(data)
            .expect("その選択肢は、いまは選べません")
            .expect("いまの回答：北地区");
        assert_eq!(chat.resident, before, "{data} changed nothing");
        assert_eq!(chat.cards().len(), 6, "{data} shows every card again");
    }
    // Malformed settings data too: the settings as they are.
    for data in ["v1:cat:checkup:maybe", "v1:easy:maybe", "v1:district:中央"] {
        chat.postback(data)
            .expect("その選択肢は、いまは選べません")
            .expect("いまの回答：北地区");
        assert_eq!(chat.resident, before, "{data} changed nothing");
    }
}

#[test]
fn a_category_the_city_removed_is_ignored_not_an_error() {
    let mut chat = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    chat.follow().pick("子どもの生年月日を登録", "2026-10-01");
    if let Some(r) = chat.resident.as_mut() {
        r.settings.muted.insert("old-category".into());
        r.settings.district = Some("old-district".into());
    }
    chat.tap("受信設定")
        .expect("12種類中12種類を受け取っています")
        .expect("いまの回答：未回答");
    // Every category the city has is on, so no すべて受け取る button is needed; the
    // button from an older card still clears the stale id.
    chat.postback("v1:cat-all");
    assert!(chat.settings().muted.is_empty(), "the stale id is gone");
}

#[test]
fn easy_japanese_carries_through_every_reply() {
    let mut chat = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    chat.follow()
        .expect("やさしい にほんご（Easy Japanese）")
        .tap("やさしい にほんご")
        .expect("やさしい にほんごで");
    chat.pick("予定日を とうろく", "2027-05-07")
        .expect("うまれる 予定日を 2027年5月7日（金）に とうろく しました")
        .expect("にんしん 16しゅう 2にち")
        .expect_not("登録しました")
        .expect_buttons(&[
            "とうろくを みる",
            "受信設定（じゅしんせってい）",
            "配信停止（おしらせを とめる）",
        ]);
    chat.pick("子どもの 誕生日を とうろく", "2025-11-20")
        .expect("子ども（2025年11月20日（木）うまれ）を とうろく しました")
        .expect("1さい 0かげつ");
    chat.tap("とうろくを みる")
        .expect("【とうろく した こと】")
        .expect("うけとる おしらせ：12こ");
    chat.tap("受信設定（じゅしんせってい）")
        .expect("【受信設定（じゅしんせってい）】")
        .expect("うけとる おしらせ（1/2）")
        .expect("✓ けんしん");
    chat.tap("けんしん")
        .expect("「けんしん」の おしらせを とめました");
    chat.say("こんにちは")
        .expect("しつもんに こたえる ことが できません");
    chat.say("使い方")
        .expect("できる こと")
        .expect("受信設定（じゅしんせってい）：うけとる おしらせ、すんで いる ところ、世帯の状況");
    chat.postback("v0:old")
        .expect("この ボタンは もう つかえません");
    chat.tap("配信停止（おしらせを とめる）")
        .expect("おしらせを とめますか？")
        .tap("もどる")
        .expect("もどりました。なにも かわって いません");
    chat.say("ニックネーム")
        .expect("うまれの 子どもの ニックネームを、この トークに おくって ください")
        .tap("もどる");
    chat.tap("とうろくを みる")
        .tap("とうろくを けす")
        .tap("2025年11月20日うまれ");
    chat.tap("もどる");
    chat.say("配信停止")
        .tap("とめる（ぜんぶ けす）")
        .expect("ぜんぶ けしました")
        .expect_buttons(&["予定日を とうろく", "子どもの 誕生日を とうろく"]);
    assert_eq!(chat.resident, None);
    assert!(
        chat.easy_replies > 15,
        "{} replies checked",
        chat.easy_replies
    );
}

#[test]
fn a_nickname_is_asked_typed_and_shown() {
    let mut chat = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    chat.follow().pick("子どもの生年月日を登録", "2026-10-01");
    chat.tap("登録内容を見る")
        .tap("ニックネーム")
        .expect("2026年10月1日生まれのお子さまのニックネームを、このトークに送ってください");
    assert!(chat.resident.as_ref().is_some_and(|r| r.awaiting.is_some()));
    chat.say(&"あ".repeat(21))
        .expect("20文字までで送ってください");
    chat.say("  はるちゃん ")
        .expect("ニックネームを「はるちゃん」で登録しました");
    let r = chat.resident.clone().expect("stored");
    assert_eq!(r.children[0].nickname.as_deref(), Some("はるちゃん"));
    assert_eq!(r.awaiting, None);
    chat.say("登録内容")
        .expect("お子さま「はるちゃん」：2026年10月1日生まれ");
    // A later text is an ordinary message again.
    chat.say("こんにちは")
        .expect("個別のご質問にはお答えできません");
    // Changing and removing it.
    chat.say("ニックネーム")
        .expect("現在のニックネーム：はるちゃん")
        .tap("ニックネームを消す")
        .expect("ニックネームを消しました");
    assert_eq!(
        chat.resident
            .as_ref()
            .and_then(|r| r.children[0].nickname.clone()),
        None
    );
}

#[test]
fn a_nickname_question_ends_with_cancel_stop_or_time() {
    let mut chat = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    chat.follow().pick("子どもの生年月日を登録", "2026-10-01");
    chat.pick("生年月日を追加登録", "2024-04-01");
    chat.say("ニックネーム")
        .expect("どのお子さまのニックネームを登録しますか？")
        .tap("2024年4月1日生まれ");
    chat.tap("やめる").expect("キャンセルしました");
    assert_eq!(
        chat.resident.as_ref().and_then(|r| r.awaiting.clone()),
        None
    );
    // 配信停止 is never taken for a name.
    chat.say("ニックネーム").tap("2024年4月1日生まれ");
    chat.say("配信停止").expect("配信を停止しますか？");
    // A text long after the question is not an answer.
    chat.say("ニックネーム").tap("2024年4月1日生まれ");
    chat.clock_ms += 11 * 60 * 1000;
    chat.say("ゆうと")
        .expect("個別のご質問にはお答えできません");
    assert!(
        chat.resident
            .as_ref()
            .is_some_and(|r| r.children.iter().all(|c| c.nickname.is_none()))
    );
    // Someone who taps something else has moved on: a later text is not a name.
    chat.say("ニックネーム").tap("2024年4月1日生まれ");
    chat.postback("v1:show"); // the rich menu's 登録・変更
    chat.say("ありがとうございました")
        .expect("個別のご質問にはお答えできません");
    assert!(
        chat.resident.as_ref().is_some_and(
            |r| r.awaiting.is_none() && r.children.iter().all(|c| c.nickname.is_none())
        )
    );
    // Twins read apart on every button that names a child.
    let mut twins = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    twins.follow().pick("子どもの生年月日を登録", "2026-06-01");
    twins.pick("生年月日を追加登録", "2026-06-01");
    twins
        .say("ニックネーム")
        .expect_buttons(&["2026年6月1日生まれ（1人目）", "2026年6月1日生まれ（2人目）"]);
    twins
        .say("登録内容")
        .tap("生年月日を変更")
        .expect_buttons(&[
            "2026年6月1日生まれ（1人目）を変更",
            "2026年6月1日生まれ（2人目）を変更",
        ]);
    // A due date only: nothing to correct, and the reply says so.
    let mut pregnant = Chat::with_catalog(SETTINGS_CATALOG, "2026-11-22");
    pregnant.follow().pick("出産予定日を登録", "2027-03-01");
    pregnant
        .postback("v1:fix:c1")
        .expect("お子さまの生年月日は、まだ登録されていません");
    // Someone else's child, or one removed, cannot be named.
    chat.postback("v1:nick:c9")
        .expect("そのお子さまの登録は見つかりませんでした");
}
