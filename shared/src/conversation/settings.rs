//! 受信設定: what kinds of notices a resident receives (the city's categories), and the
//! answers that target them (地区, 世帯の状況, 保育所（園）の申込状況) plus the language
//! (ふつう / やさしい日本語). The questions are the city's, from the catalog.
//!
//! 受信設定 shows every question as a Flex card with the current answer visible and one
//! tappable row per choice; a tap saves at once, confirms in words, and shows that card
//! again with the new state, so the next tap is right there. Long lists are cut into cards of
//! [`ROWS_PER_CARD`] rows, which keeps any catalog the check accepts inside LINE's limits.

use super::command::Command;
use super::command::{ChoiceId, SettingChange};
use super::common::{
    Lang, action, birth_picker, due_picker, main_actions, menu_action, settings_action, show_action,
};
use super::turn::{Change, Response, Turn, editable};
use crate::catalog::{Catalog, Question};
use crate::domain::{Resident, Settings};
use crate::line::{Action, Bubble, FlexBox, FlexComponent, FlexContainer, FlexText, Message};

/// Rows on one card: a phone screen's worth.
pub const ROWS_PER_CARD: usize = 10;

const GREEN: &str = "#06C755";
const GREY: &str = "#8C8C8C";
const OUTLINE: &str = "#D9D9D9";
const HEADER_BACKGROUND: &str = "#F2FBF5";

/// One question of 受信設定, as the cards name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Topic {
    Categories,
    District,
    Household,
    Nursery,
    Language,
}

/// A choice on a card: its label, whether it is chosen, and the change a tap makes.
struct Row {
    label: String,
    chosen: bool,
    tap: SettingChange,
}

/// How a card reads: multi-select (✓ / –) or single choice (● / ○).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Many,
    One,
}

fn label_of<'a>(l: Lang, label: &'a str, easy: Option<&'a str>) -> &'a str {
    match easy {
        Some(e) if l.easy() => e,
        _ => label,
    }
}

fn id(raw: &str) -> Option<ChoiceId> {
    ChoiceId::parse(raw)
}

fn question_title<'a>(l: Lang, q: &'a Question, fallback: &'a str) -> &'a str {
    let title = label_of(l, &q.label, q.easy_label.as_deref());
    if title.trim().is_empty() {
        fallback
    } else {
        title
    }
}

/// The cards' titles and rows for one topic (empty when the city does not ask it).
fn topic_rows(catalog: &Catalog, l: Lang, r: &Resident, topic: Topic) -> (String, Kind, Vec<Row>) {
    let s = &r.settings;
    let q = catalog.questions();
    match topic {
        Topic::Categories => (
            l.pick("受け取るお知らせ", "うけとる おしらせ").to_string(),
            Kind::Many,
            catalog
                .categories()
                .iter()
                .filter_map(|c| {
                    let on = s.receives(&c.id);
                    Some(Row {
                        label: label_of(l, &c.label, c.easy_label.as_deref()).to_string(),
                        chosen: on,
                        tap: SettingChange::Category {
                            id: id(&c.id)?,
                            on: !on,
                        },
                    })
                })
                .collect(),
        ),
        Topic::District => {
            let rows = single_rows(l, &q.district, s.district.as_deref(), |id| {
                SettingChange::District(id)
            });
            (
                question_title(l, &q.district, "地区").to_string(),
                Kind::One,
                rows,
            )
        }
        Topic::Household => (
            question_title(l, &q.household, "世帯の状況").to_string(),
            Kind::Many,
            q.household
                .choices
                .iter()
                .filter_map(|c| {
                    let on = s.household.contains(&c.id);
                    Some(Row {
                        label: label_of(l, &c.label, c.easy_label.as_deref()).to_string(),
                        chosen: on,
                        tap: SettingChange::Household {
                            id: id(&c.id)?,
                            on: !on,
                        },
                    })
                })
                .collect(),
        ),
        Topic::Nursery => {
            let rows = single_rows(l, &q.nursery, s.nursery.as_deref(), |id| {
                SettingChange::Nursery(id)
            });
            (
                question_title(l, &q.nursery, "保育所（園）の申込状況").to_string(),
                Kind::One,
                rows,
            )
        }
        Topic::Language => (
            l.pick("お知らせの日本語", "にほんご").to_string(),
            Kind::One,
            vec![
                Row {
                    label: l.pick("ふつうの日本語", "ふつうの にほんご").to_string(),
                    chosen: !r.easy_japanese,
                    tap: SettingChange::EasyJapanese(false),
                },
                Row {
                    label: l.pick("やさしい日本語", "やさしい にほんご").to_string(),
                    chosen: r.easy_japanese,
                    tap: SettingChange::EasyJapanese(true),
                },
            ],
        ),
    }
}

fn single_rows(
    l: Lang,
    q: &Question,
    answer: Option<&str>,
    set: impl Fn(Option<ChoiceId>) -> SettingChange,
) -> Vec<Row> {
    q.choices
        .iter()
        .filter_map(|c| {
            Some(Row {
                label: label_of(l, &c.label, c.easy_label.as_deref()).to_string(),
                chosen: answer == Some(c.id.as_str()),
                tap: set(Some(id(&c.id)?)),
            })
        })
        .collect()
}

/// The current answer in words, shown under a card's title.
/// The current answer in words. On a card it stands under the question (いまの回答：…); in
/// the alt text it follows the question's name, so it is the answer alone.
fn summary(l: Lang, kind: Kind, topic: Topic, rows: &[Row], on_card: bool) -> String {
    let chosen: Vec<&str> = rows
        .iter()
        .filter(|r| r.chosen)
        .map(|r| r.label.as_str())
        .collect();
    match (topic, kind) {
        (Topic::Categories, _) => {
            if l.easy() {
                format!(
                    "{}こ うけとって います（ぜんぶで {}こ）",
                    chosen.len(),
                    rows.len()
                )
            } else {
                format!("{}種類中{}種類を受け取っています", rows.len(), chosen.len())
            }
        }
        (_, Kind::Many) if chosen.is_empty() => {
            l.pick("選んでいません", "えらんで いません").to_string()
        }
        (_, Kind::Many) if on_card => format!(
            "{}{}",
            l.pick("選択中：", "えらんだ もの："),
            chosen.join("、")
        ),
        (_, Kind::Many) => chosen.join("、"),
        (_, Kind::One) => {
            let answer = match chosen.first() {
                Some(answer) => answer.to_string(),
                // A stored id the city has since removed reads as no answer too.
                None if on_card => l
                    .pick("未回答（答えなくても大丈夫です）", "こたえて いません")
                    .to_string(),
                None => l.pick("未回答", "こたえて いません").to_string(),
            };
            if on_card {
                format!("{}{answer}", l.pick("いまの回答：", "いま："))
            } else {
                answer
            }
        }
    }
}

/// What a row says of its state: a category is received or not, a household attribute
/// applies or not, a single choice is the answer or can be chosen.
fn status_words(l: Lang, topic: Topic, chosen: bool) -> &'static str {
    match (topic, chosen) {
        (Topic::Categories, true) => l.pick("受け取る", "うけとる"),
        (Topic::Categories, false) => l.pick("受け取らない", "うけとらない"),
        (Topic::Household, true) => l.pick("当てはまる", "あてはまる"),
        (Topic::Household, false) => l.pick("当てはまらない", "あてはまらない"),
        (_, true) => l.pick("選択中", "えらんで いる"),
        (_, false) => l.pick("選ぶ", "えらぶ"),
    }
}

fn row_component(l: Lang, topic: Topic, kind: Kind, row: &Row) -> FlexComponent {
    let mark = match (kind, row.chosen) {
        (Kind::Many, true) => "✓",
        (Kind::Many, false) => "－",
        (Kind::One, true) => "●",
        (Kind::One, false) => "○",
    };
    let status = status_words(l, topic, row.chosen);
    let color = if row.chosen { GREEN } else { GREY };
    // What the chat shows as the resident's own message: the state the tap sets.
    let tapped = match kind {
        Kind::Many => format!("{}：{}", row.label, status_words(l, topic, !row.chosen)),
        Kind::One => row.label.clone(),
    };
    let tap = Action::postback_shown(&row.label, &Command::Set(row.tap.clone()).data(), &tapped);
    FlexBox::horizontal(vec![
        FlexText::new(format!("{mark} {}", row.label))
            .size("sm")
            .flex(3)
            .color(if row.chosen { "#111111" } else { GREY })
            .into(),
        FlexText::new(status)
            .size("xs")
            .flex(2)
            .align_end()
            .color(color)
            .into(),
    ])
    .padding("md")
    .outlined(if row.chosen { GREEN } else { OUTLINE })
    .on_tap(tap)
    .into()
}

/// The cards for one topic: rows cut into pages, each titled with the current answer.
fn topic_cards(catalog: &Catalog, l: Lang, r: &Resident, topic: Topic) -> Vec<Bubble> {
    let (title, kind, rows) = topic_rows(catalog, l, r, topic);
    if rows.is_empty() {
        return Vec::new();
    }
    let summary = summary(l, kind, topic, &rows, true);
    let pages: Vec<&[Row]> = rows.chunks(ROWS_PER_CARD).collect();
    let hint = match kind {
        Kind::Many => l.pick(
            "タップで切り替わります（いくつでも）",
            "おすと かわります（いくつでも）",
        ),
        Kind::One => l.pick("ひとつ選んでください", "ひとつ えらんで ください"),
    };
    let mut cards = Vec::with_capacity(pages.len());
    for (i, page) in pages.iter().enumerate() {
        let title = if pages.len() > 1 {
            format!("{title}（{}/{}）", i + 1, pages.len())
        } else {
            title.clone()
        };
        let mut body: Vec<FlexComponent> = vec![FlexText::new(hint).size("xs").color(GREY).into()];
        body.extend(page.iter().map(|row| row_component(l, topic, kind, row)));
        let footer_action = match topic {
            Topic::Categories if rows.iter().any(|r| !r.chosen) => Some(action(
                l.pick("すべて受け取る", "ぜんぶ うけとる"),
                Command::Set(SettingChange::AllCategories),
            )),
            // Answering is optional: an answer can be taken back, from whichever card of the
            // question is shown.
            Topic::District if rows.iter().any(|r| r.chosen) => Some(action(
                l.pick("回答を取り消す", "こたえを けす"),
                Command::Set(SettingChange::District(None)),
            )),
            Topic::Nursery if rows.iter().any(|r| r.chosen) => Some(action(
                l.pick("回答を取り消す", "こたえを けす"),
                Command::Set(SettingChange::Nursery(None)),
            )),
            _ => None,
        };
        let footer = footer_action
            .map(|a| FlexBox::vertical(vec![crate::line::FlexButton::new(a, false).into()]));
        cards.push(Bubble {
            kind: Default::default(),
            size: Some("kilo".into()),
            header: Some(
                FlexBox::vertical(vec![
                    FlexText::new(title).bold().size("md").into(),
                    FlexText::new(summary.clone())
                        .size("xs")
                        .color(GREEN)
                        .margin("sm")
                        .into(),
                ])
                .background(HEADER_BACKGROUND)
                .padding("lg"),
            ),
            body: Some(FlexBox::vertical(body).spacing("sm").padding("lg")),
            footer,
        });
    }
    cards
}

const TOPICS: [Topic; 5] = [
    Topic::Categories,
    Topic::District,
    Topic::Household,
    Topic::Nursery,
    Topic::Language,
];

/// The 受信設定 in words: notifications and the chat list show this for the cards.
fn alt_text(catalog: &Catalog, l: Lang, r: &Resident) -> String {
    let mut parts = Vec::new();
    for topic in TOPICS {
        let (title, kind, rows) = topic_rows(catalog, l, r, topic);
        if !rows.is_empty() {
            parts.push(format!(
                "{title}：{}",
                summary(l, kind, topic, &rows, false)
            ));
        }
    }
    format!(
        "{}\n{}",
        l.pick("【受信設定】", "【受信設定（じゅしんせってい）】"),
        parts.join("\n")
    )
}

fn quick_actions(turn: &Turn<'_>, l: Lang, r: &Resident, more: bool) -> Vec<Action> {
    let mut actions = Vec::new();
    if more {
        actions.push(settings_action(l));
    }
    if r.has_registrations() {
        actions.push(show_action(l));
    } else {
        // Someone who starts with 受信設定 registers next.
        actions.push(due_picker(turn.today, Some(r)));
        actions.push(birth_picker(turn.today, Some(r)));
    }
    if !r.children.is_empty() {
        actions.push(action(
            l.pick("ニックネーム", "ニックネーム"),
            Command::NicknameMenu,
        ));
    }
    actions.push(menu_action(l));
    actions
}

/// Every question's cards, as two carousels: the categories, then the questions about the
/// resident. Each stays inside LINE's 12 cards and 50 KB whatever the catalog the check
/// accepts (see the test below).
fn all_cards(turn: &Turn<'_>, l: Lang, r: &Resident) -> Vec<Message> {
    let catalog = turn.catalog;
    let alt = alt_text(catalog, l, r);
    let groups: [&[Topic]; 2] = [
        &[Topic::Categories],
        &[
            Topic::District,
            Topic::Household,
            Topic::Nursery,
            Topic::Language,
        ],
    ];
    let carousels: Vec<Vec<Bubble>> = groups
        .iter()
        .map(|topics| {
            topics
                .iter()
                .flat_map(|t| topic_cards(catalog, l, r, *t))
                .collect::<Vec<_>>()
        })
        .filter(|cards| !cards.is_empty())
        .collect();
    let last = carousels.len().saturating_sub(1);
    carousels
        .into_iter()
        .enumerate()
        .map(|(i, cards)| {
            let actions = if i == last {
                quick_actions(turn, l, r, false)
            } else {
                Vec::new()
            };
            Message::flex(&alt, FlexContainer::carousel(cards), actions)
        })
        .collect()
}

/// The opening words name only the questions this city asks (a catalog may ask none
/// besides the categories), and mention scrolling only when a carousel has more than one card.
fn intro(catalog: &Catalog, l: Lang, cards: &[Message]) -> Message {
    let q = catalog.questions();
    let about_you: Vec<&str> = [&q.district, &q.household, &q.nursery]
        .into_iter()
        .filter(|question| !question.choices.is_empty())
        .map(|question| question_title(l, question, ""))
        .filter(|title| !title.is_empty())
        .collect();
    let mut text = l
        .pick("【受信設定】\n", "【受信設定（じゅしんせってい）】\n")
        .to_string();
    if about_you.is_empty() {
        text.push_str(l.pick(
            "受け取るお知らせの種類と、お知らせの日本語（ふつう / やさしい日本語）を選べます。",
            "うけとる おしらせと、にほんご（ふつう / やさしい にほんご）を えらべます。",
        ));
    } else {
        let list = about_you.join(l.pick("・", "、"));
        if l.easy() {
            text.push_str(&format!(
                "うけとる おしらせを えらべます。{list}も えらべます。えらぶと、あなたに かんけいの ある おしらせも とどきます（こたえなくても だいじょうぶです）。"
            ));
        } else {
            text.push_str(&format!(
                "受け取るお知らせの種類と、{list}を選べます。答えると、あなたに関係のあるお知らせも届くようになります（答えなくても大丈夫です）。"
            ));
        }
    }
    let scroll = cards.iter().any(|m| match m {
        Message::Flex { contents, .. } => contents.bubbles().len() > 1,
        _ => false,
    });
    text.push_str(match (scroll, l.easy()) {
        (true, false) => {
            "\n\nカードを横にスクロールして、変えたいところをタップしてください。すぐに保存されます。"
        }
        (true, true) => {
            "\n\nカードを よこに うごかして、かえたい ところを おして ください。すぐに かわります。"
        }
        (false, false) => "\n\nカードの、変えたいところをタップしてください。すぐに保存されます。",
        (false, true) => "\n\nカードの、かえたい ところを おして ください。すぐに かわります。",
    });
    Message::text(text)
}

/// The resident as stored, or how a new resident starts (the documented default: every
/// category on, nothing answered, ふつうの日本語).
fn current(turn: &Turn<'_>, resident: Option<&Resident>) -> Resident {
    editable(turn, resident)
}

pub fn show(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let r = current(turn, resident);
    let l = Lang::of(Some(&r));
    let cards = all_cards(turn, l, &r);
    let mut replies = vec![intro(turn.catalog, l, &cards)];
    replies.extend(cards);
    Response {
        change: Change::Keep,
        replies,
    }
}

/// Whether postback data is a 受信設定 button's, even one that no longer parses.
pub fn is_settings_data(data: &str) -> bool {
    [
        "v1:cat",
        "v1:household:",
        "v1:district:",
        "v1:nursery:",
        "v1:easy:",
    ]
    .iter()
    .any(|prefix| data.starts_with(prefix))
}

/// A tap that names something the catalog no longer offers (or never did): nothing changes,
/// and the current settings are shown again.
pub fn not_offered(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let r = current(turn, resident);
    let l = Lang::of(Some(&r));
    let mut replies = vec![Message::text(l.pick(
        "その選択肢は、いまは選べません（内容が変わったのかもしれません）。受信設定は変わっていません。いまの受信設定はこちらです。",
        "その こたえは いまは えらべません。せっていは かわって いません。いまの せっていは これです。",
    ))];
    replies.extend(all_cards(turn, l, &r));
    Response {
        change: Change::Keep,
        replies,
    }
}

/// A multi-select choice a tap turned on or off, for the confirmation.
struct Toggled<'c> {
    label: &'c str,
    easy_label: Option<&'c str>,
    on: bool,
}

pub fn set(turn: &Turn<'_>, resident: Option<&Resident>, change: &SettingChange) -> Response {
    let catalog = turn.catalog;
    let q = catalog.questions();
    let mut r = current(turn, resident);
    let before = (r.settings.clone(), r.easy_japanese);
    let (topic, toggled) = match change {
        SettingChange::Category { id, on } => {
            let Some(c) = catalog.category(id.as_str()) else {
                return not_offered(turn, resident);
            };
            if *on {
                r.settings.muted.remove(&c.id);
            } else {
                r.settings.muted.insert(c.id.clone());
            }
            let toggled = Toggled {
                label: &c.label,
                easy_label: c.easy_label.as_deref(),
                on: *on,
            };
            (Topic::Categories, Some(toggled))
        }
        SettingChange::AllCategories => {
            // Ids the city removed go too: nothing stale stays on the resident.
            r.settings.muted.clear();
            (Topic::Categories, None)
        }
        SettingChange::District(id) => {
            if !set_single(&q.district, id, &mut r.settings.district) {
                return not_offered(turn, resident);
            }
            (Topic::District, None)
        }
        SettingChange::Nursery(id) => {
            if !set_single(&q.nursery, id, &mut r.settings.nursery) {
                return not_offered(turn, resident);
            }
            (Topic::Nursery, None)
        }
        SettingChange::Household { id, on } => {
            let Some(c) = q.household.choice(id.as_str()) else {
                return not_offered(turn, resident);
            };
            if *on {
                r.settings.household.insert(c.id.clone());
            } else {
                r.settings.household.remove(&c.id);
            }
            let toggled = Toggled {
                label: &c.label,
                easy_label: c.easy_label.as_deref(),
                on: *on,
            };
            (Topic::Household, Some(toggled))
        }
        SettingChange::EasyJapanese(on) => {
            r.easy_japanese = *on;
            (Topic::Language, None)
        }
    };
    // The confirmation is in the register the resident reads from now on.
    let l = Lang::of(Some(&r));
    let text = confirmation(catalog, l, &r, topic, toggled);
    let page = page_of(catalog, l, &r, topic, change);
    let replies = match topic_cards(catalog, l, &r, topic).into_iter().nth(page) {
        Some(card) => vec![
            Message::text(text),
            Message::flex(
                &alt_text(catalog, l, &r),
                FlexContainer::Bubble(Box::new(card)),
                quick_actions(turn, l, &r, true),
            ),
        ],
        None => vec![Message::text_with(text, main_actions(turn.today, Some(&r)))],
    };
    // The same answer again (an old button tapped twice) needs no write.
    let unchanged = (r.settings.clone(), r.easy_japanese) == before;
    Response {
        change: if unchanged {
            Change::Keep
        } else {
            Change::Save(Box::new(r))
        },
        replies,
    }
}

/// Sets a single-choice answer; false if the id is not one of the question's choices.
fn set_single(q: &Question, id: &Option<ChoiceId>, answer: &mut Option<String>) -> bool {
    match id {
        None => {
            *answer = None;
            true
        }
        Some(id) => match q.choice(id.as_str()) {
            Some(c) => {
                *answer = Some(c.id.clone());
                true
            }
            None => false,
        },
    }
}

/// Which card of the topic holds the row that was tapped (categories span several).
fn page_of(
    catalog: &Catalog,
    l: Lang,
    r: &Resident,
    topic: Topic,
    change: &SettingChange,
) -> usize {
    let (_, _, rows) = topic_rows(catalog, l, r, topic);
    let same_row = |tap: &SettingChange| match (tap, change) {
        (SettingChange::Category { id: a, .. }, SettingChange::Category { id: b, .. })
        | (SettingChange::Household { id: a, .. }, SettingChange::Household { id: b, .. }) => {
            a == b
        }
        (a, b) => a == b,
    };
    rows.iter()
        .position(|row| same_row(&row.tap))
        .map_or(0, |i| i / ROWS_PER_CARD)
}

fn confirmation(
    catalog: &Catalog,
    l: Lang,
    r: &Resident,
    topic: Topic,
    toggled: Option<Toggled<'_>>,
) -> String {
    let q = catalog.questions();
    let nothing_received = catalog
        .categories()
        .iter()
        .all(|c| !r.settings.receives(&c.id));
    let mut text = match (topic, toggled) {
        (Topic::Categories, Some(t)) => {
            let name = label_of(l, t.label, t.easy_label);
            match (t.on, l.easy()) {
                (true, false) => format!("「{name}」のお知らせを受け取ります。"),
                (true, true) => format!("「{name}」の おしらせを うけとります。"),
                // The last kind turned off: no "the others still come" (the warning below).
                (false, false) if nothing_received => {
                    format!("「{name}」のお知らせを止めました。")
                }
                (false, false) => format!(
                    "「{name}」のお知らせを止めました。ほかの種類のお知らせは、これまでどおり届きます。"
                ),
                (false, true) => format!("「{name}」の おしらせを とめました。"),
            }
        }
        (Topic::Categories, None) => l
            .pick(
                "すべての種類のお知らせを受け取ります。",
                "ぜんぶの おしらせを うけとります。",
            )
            .to_string(),
        (Topic::Household, Some(t)) => {
            let name = label_of(l, t.label, t.easy_label);
            match (t.on, l.easy()) {
                (true, false) => {
                    format!("「{name}」を選びました。関係するお知らせが届くようになります。")
                }
                (true, true) => format!("「{name}」を えらびました。"),
                (false, false) => format!("「{name}」を外しました。"),
                (false, true) => format!("「{name}」を はずしました。"),
            }
        }
        (Topic::District | Topic::Nursery, _) => {
            let (question, answer) = if topic == Topic::District {
                (&q.district, r.settings.district.as_deref())
            } else {
                (&q.nursery, r.settings.nursery.as_deref())
            };
            let title = question_title(l, question, "");
            match (answer.and_then(|a| question.choice(a)), l.easy()) {
                (Some(c), false) => format!(
                    "「{title}」を「{}」にしました。",
                    label_of(l, &c.label, c.easy_label.as_deref())
                ),
                (Some(c), true) => format!(
                    "「{title}」を「{}」に しました。",
                    label_of(l, &c.label, c.easy_label.as_deref())
                ),
                (None, false) => format!("「{title}」の回答を取り消しました。"),
                (None, true) => format!("「{title}」の こたえを けしました。"),
            }
        }
        (Topic::Language | Topic::Household, _) => {
            if r.easy_japanese {
                "これから やさしい にほんごで おしらせします。\n（もどす ときは「受信設定（じゅしんせってい）」を おして ください）".to_string()
            } else {
                "これからは、ふつうの日本語でお知らせします。".to_string()
            }
        }
    };
    if topic == Topic::Categories && nothing_received {
        text.push_str(l.pick(
            "\n\nいまは、どの種類のお知らせも届きません。受け取りたい種類をタップしてください。",
            "\n\nいまは、おしらせが なにも とどきません。うけとりたい ものを おして ください。",
        ));
    }
    text
}

/// Settings as the cards would show them, for other flows that mention them (登録内容).
pub fn describe(catalog: &Catalog, l: Lang, settings: &Settings) -> String {
    let total = catalog.categories().len();
    let on = catalog
        .categories()
        .iter()
        .filter(|c| settings.receives(&c.id))
        .count();
    if l.easy() {
        format!("うけとる おしらせ：{on}こ（ぜんぶで {total}こ）")
    } else {
        format!("受け取るお知らせ：{total}種類中{on}種類")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    /// The largest 受信設定 the catalog check lets through, with the longest labels: every
    /// card and the whole carousel must still be inside LINE's limits.
    #[test]
    fn the_largest_settings_fit_lines_limits() {
        use crate::catalog::{MAX_CATEGORIES, MAX_CHOICES};
        let label = |i: usize| format!("{i:02}{}", "長".repeat(18));
        let choices = |prefix: &str| {
            (0..MAX_CHOICES)
                .map(|i| {
                    format!(
                        "      - {{id: {prefix}-{i}, label: {}, easy_label: {}}}\n",
                        label(i),
                        label(i)
                    )
                })
                .collect::<String>()
        };
        let yaml = format!(
            "categories:\n{}settings:\n  district:\n    label: {}\n    choices:\n{}  household:\n    label: {}\n    choices:\n{}  nursery:\n    label: {}\n    choices:\n{}milestones:\n  - {{id: m, anchor: birth_date, at: {{days: 7}}, category: c-0, text: x}}\n",
            (0..MAX_CATEGORIES)
                .map(|i| format!(
                    "  - {{id: c-{i}, label: {}, easy_label: {}}}\n",
                    label(i),
                    label(i)
                ))
                .collect::<String>(),
            label(0),
            choices("d"),
            label(1),
            choices("h"),
            label(2),
            choices("n"),
        );
        let catalog = Catalog::from_yaml(&yaml).expect("the largest catalog is valid");
        let user = UserId::parse("U1").expect("id");
        let turn = Turn {
            user_id: &user,
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"),
            timestamp_ms: 0,
            catalog: &catalog,
            reservations: None,
        };
        for easy in [false, true] {
            let mut r = Resident::new(user.clone());
            r.easy_japanese = easy;
            r.settings.household = (0..MAX_CHOICES).map(|i| format!("h-{i}")).collect();
            let cards = all_cards(&turn, Lang::of(Some(&r)), &r);
            let mut replies = vec![intro(&catalog, Lang::of(Some(&r)), &cards)];
            replies.extend(cards);
            crate::line::message::validate_messages(&replies).unwrap_or_else(|e| panic!("{e}"));
            let cards: usize = replies
                .iter()
                .map(|m| match m {
                    Message::Flex { contents, .. } => contents.bubbles().len(),
                    _ => 0,
                })
                .sum();
            assert_eq!(cards, 3 + 2 + 2 + 2 + 1, "every choice is on a card");
        }
    }
}
