//! Registering a due date or a child's birthdate from LINE's date picker. Dates are checked
//! here again (a client can send anything), and a rejected date brings the picker back.

use chrono::NaiveDate;

use super::common::{
    Lang, birth_date_window, birth_picker, due_date_window, due_picker, main_actions, next_notice,
};
use super::turn::{Change, Response, Turn, editable};
use crate::dates::{self, japanese_date};
use crate::domain::{AnchorKind, MAX_CHILDREN, Pregnancy, Resident};
use crate::line::Message;

/// A birth this close to the registered due date ends the pregnancy registration: from 22
/// weeks of gestation (viability) to 6 weeks past the due date.
const BIRTH_ENDS_PREGNANCY_FROM_GA_DAYS: i64 = 22 * 7;
const BIRTH_ENDS_PREGNANCY_UNTIL_DAYS_AFTER_DUE: i64 = 42;

/// What this registration will bring: the promise of morning notices and the next one, or,
/// when nothing lies ahead, why (every kind turned off in 受信設定, or none planned).
fn what_comes(
    turn: &Turn<'_>,
    kind: AnchorKind,
    anchor: NaiveDate,
    r: &Resident,
    l: Lang,
) -> String {
    if let Some(next) = next_notice(turn.catalog, kind, anchor, turn.today, &r.settings, l) {
        let promise = match (kind, l.easy()) {
            (AnchorKind::DueDate, false) => {
                "妊娠週数に合わせたお知らせを、朝9時ごろにお届けします。"
            }
            (AnchorKind::BirthDate, false) => {
                "お子さまの月齢・年齢に合わせたお知らせを、朝9時ごろにお届けします。"
            }
            (_, true) => "あさ 9じごろに おしらせを おくります。",
        };
        return format!("\n\n{promise}\n{next}");
    }
    let muted_all = turn
        .catalog
        .categories()
        .iter()
        .all(|c| !r.settings.receives(&c.id));
    let why = match (muted_all, l.easy()) {
        (true, false) => {
            "いまの受信設定では、どの種類のお知らせも届きません。受け取るには「受信設定」から種類を選んでください。"
        }
        (true, true) => {
            "いまの 受信設定（じゅしんせってい）では、おしらせが なにも とどきません。うけとる ときは「受信設定」で えらんで ください。"
        }
        (false, false) => "この先にお届けする予定のお知らせは、いまはありません。",
        (false, true) => "これから おくる おしらせは、いまは ありません。",
    };
    format!("\n\n{why}")
}

fn ask_again(text: String, picker: crate::line::Action) -> Response {
    Response::reply(Change::Keep, Message::text_with(text, vec![picker]))
}

/// The date the picker sent, or the reply that asks for one again (a button tapped without
/// a date, or a date that is not one).
// The error is the turn's whole answer, returned at once to the resident: boxing it would
// only add an allocation.
#[allow(clippy::result_large_err)]
fn picked(
    l: Lang,
    date: Option<&str>,
    prompt: &str,
    picker: &crate::line::Action,
) -> Result<NaiveDate, Response> {
    let Some(raw) = date else {
        return Err(ask_again(prompt.to_string(), picker.clone()));
    };
    dates::parse_ymd(raw.trim()).ok_or_else(|| {
        ask_again(
            l.pick(
                "日付を読み取れませんでした。お手数ですが、カレンダーからもう一度選んでください。",
                "ひにちが わかりませんでした。カレンダーから もう いちど えらんで ください。",
            )
            .to_string(),
            picker.clone(),
        )
    })
}

pub fn due_date(turn: &Turn<'_>, resident: Option<&Resident>, date: Option<&str>) -> Response {
    let l = Lang::of(resident);
    let picker = due_picker(turn.today, resident);
    let due = match picked(
        l,
        date,
        l.pick(
            "出産予定日を、下のボタンのカレンダーから選んでください。",
            "うまれる 予定日を、下の ボタンの カレンダーから えらんで ください。",
        ),
        &picker,
    ) {
        Ok(due) => due,
        Err(ask) => return ask,
    };
    let (min, max) = due_date_window(turn.today);
    if due < min {
        return ask_again(
            if l.easy() {
                format!(
                    "{}は もう すぎた ひです。きょうより あとの ひを えらんで ください。\n\
                     もう うまれた ときは、子どもの 誕生日を とうろく して ください。",
                    japanese_date(due)
                )
            } else {
                format!(
                    "{}は過ぎた日付です。出産予定日は今日以降の日付を選んでください。\n\
                     すでにお生まれの場合は、お子さまの生年月日を登録してください。",
                    japanese_date(due)
                )
            },
            picker,
        )
        .with_extra_action(birth_picker(turn.today, resident));
    }
    if due > max {
        return ask_again(
            if l.easy() {
                format!(
                    "うまれる 予定日は、きょうから {}までの ひを えらんで ください（280にち まで）。",
                    japanese_date(max)
                )
            } else {
                format!(
                    "出産予定日は、今日から280日（約10か月）以内、{}までの日付を選んでください。",
                    japanese_date(max)
                )
            },
            picker,
        );
    }
    let mut r = editable(turn, resident);
    let changed = r.pregnancy.as_ref().is_some_and(|p| p.due_date != due);
    r.pregnancy = Some(Pregnancy { due_date: due });
    let mut text = if l.easy() {
        format!(
            "うまれる 予定日を {}に {}。\nきょうは {}です。",
            japanese_date(due),
            if changed {
                "かえました"
            } else {
                "とうろく しました"
            },
            l.pregnancy(due, turn.today)
        )
    } else {
        format!(
            "出産予定日を{}で{}しました。\n今日は{}です。",
            japanese_date(due),
            if changed { "変更" } else { "登録" },
            l.pregnancy(due, turn.today)
        )
    };
    text.push_str(&what_comes(turn, AnchorKind::DueDate, due, &r, l));
    let actions = main_actions(turn.today, Some(&r));
    Response::reply(Change::Save(Box::new(r)), Message::text_with(text, actions))
}

pub fn birth_date(turn: &Turn<'_>, resident: Option<&Resident>, date: Option<&str>) -> Response {
    let l = Lang::of(resident);
    let picker = birth_picker(turn.today, resident);
    if resident.is_some_and(|r| r.children.len() >= MAX_CHILDREN) {
        return Response::reply(
            Change::Keep,
            Message::text_with(
                if l.easy() {
                    format!(
                        "子どもは {MAX_CHILDREN}にん まで とうろく できます。いらない とうろくを けして ください。"
                    )
                } else {
                    format!(
                        "登録できるお子さまは{MAX_CHILDREN}人までです。登録内容から、不要な登録を削除してください。"
                    )
                },
                main_actions(turn.today, resident),
            ),
        );
    }
    let birth = match picked(
        l,
        date,
        l.pick(
            "お子さまの生年月日を、下のボタンのカレンダーから選んでください。",
            "子どもの 誕生日を、下の ボタンの カレンダーから えらんで ください。",
        ),
        &picker,
    ) {
        Ok(birth) => birth,
        Err(ask) => return ask,
    };
    let (min, max) = birth_date_window(turn.today);
    if birth > max {
        return ask_again(
            l.pick(
                "生年月日に未来の日付は登録できません。もう一度選んでください。\n\
                 妊娠中の場合は、出産予定日を登録してください。",
                "誕生日に これからの ひは とうろく できません。もう いちど えらんで ください。\n\
                 おなかに 赤ちゃんが いる ときは、うまれる 予定日を とうろく して ください。",
            )
            .to_string(),
            picker,
        )
        .with_extra_action(due_picker(turn.today, resident));
    }
    if birth < min {
        return ask_again(
            if l.easy() {
                format!(
                    "18さい までの 子どもが つかえます。{}より あとの 誕生日を えらんで ください。",
                    japanese_date(min)
                )
            } else {
                format!(
                    "このサービスは18歳までのお子さまが対象です。{}以降の生年月日を選んでください。",
                    japanese_date(min)
                )
            },
            picker,
        );
    }
    let mut r = editable(turn, resident);
    let twin = r.children.iter().any(|c| c.birth_date == birth);
    let ends_pregnancy = r.pregnancy.as_ref().is_some_and(|p| {
        let ga_at_birth = dates::gestational_age_days(p.due_date, birth);
        ga_at_birth >= BIRTH_ENDS_PREGNANCY_FROM_GA_DAYS
            && (birth - p.due_date).num_days() <= BIRTH_ENDS_PREGNANCY_UNTIL_DAYS_AFTER_DUE
    });
    if ends_pregnancy {
        r.pregnancy = None;
    }
    r.add_child(birth);
    let mut text = String::new();
    if ends_pregnancy {
        text.push_str(l.pick(
            "ご出産おめでとうございます！\n妊娠中のお知らせは終了し、お子さまのお知らせに切り替えました。\n\n",
            "おめでとう ございます！\nこれからは 子どもの おしらせを おくります。\n\n",
        ));
    }
    text.push_str(&if l.easy() {
        format!(
            "子ども（{}うまれ）を とうろく しました。\nきょうで {}です。",
            japanese_date(birth),
            l.age(birth, turn.today)
        )
    } else {
        format!(
            "お子さま（{}生まれ）を登録しました。\n今日で{}です。",
            japanese_date(birth),
            l.age(birth, turn.today)
        )
    });
    text.push_str(&what_comes(turn, AnchorKind::BirthDate, birth, &r, l));
    if twin {
        text.push_str(l.pick(
            "\n\n同じ生年月日のお子さまがすでに登録されています。ふたごなどの場合はこのままで大丈夫です。\
             まちがえた場合は「登録内容を見る」から削除できます。",
            "\n\nおなじ 誕生日の 子どもが もう います。ふたごなら このままで だいじょうぶです。\
             まちがえた ときは「とうろくを みる」から けせます。",
        ));
    }
    let actions = main_actions(turn.today, Some(&r));
    Response::reply(Change::Save(Box::new(r)), Message::text_with(text, actions))
}

impl Response {
    /// Adds one more button to the first reply's quick reply (e.g. "register a birth instead").
    fn with_extra_action(mut self, action: crate::line::Action) -> Response {
        if let Some(Message::Text {
            quick_reply: Some(q),
            ..
        }) = self.replies.first_mut()
        {
            q.items.push(crate::line::QuickReplyItem {
                kind: "action".to_string(),
                action,
            });
        }
        self
    }
}

/// Corrects one child's birthdate. The child keeps its id, so its index entry (and the
/// milestones it already received) stays: a corrected date does not send them again.
pub fn correct_birth(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    child_id: &str,
    date: Option<&str>,
) -> Response {
    let Some((r, child)) = resident.and_then(|r| r.child(child_id).map(|c| (r, c))) else {
        return super::review::correct_menu(turn, resident);
    };
    let l = Lang::of(resident);
    let picker = super::review::correct_picker(turn.today, r, child, l);
    let birth = match picked(
        l,
        date,
        l.pick(
            "正しい生年月日を、下のボタンのカレンダーから選んでください。",
            "ただしい 誕生日を、下の ボタンの カレンダーから えらんで ください。",
        ),
        &picker,
    ) {
        Ok(birth) => birth,
        Err(ask) => return ask,
    };
    let (min, max) = birth_date_window(turn.today);
    if birth > max || birth < min {
        return ask_again(
            if l.easy() {
                format!(
                    "誕生日は {}から きょうまでの ひを えらんで ください。",
                    japanese_date(min)
                )
            } else {
                format!(
                    "生年月日は{}から今日までの日付を選んでください。",
                    japanese_date(min)
                )
            },
            picker,
        );
    }
    let mut r = editable(turn, resident);
    if let Some(c) = r.children.iter_mut().find(|c| c.id == child_id) {
        c.birth_date = birth;
    }
    r.children.sort_by_key(|c| c.birth_date);
    let text = if l.easy() {
        format!(
            "子どもの 誕生日を {}に なおしました。\nきょうで {}です。\n\n\
             もう おくった おしらせを、また おくる ことは ありません。",
            japanese_date(birth),
            l.age(birth, turn.today)
        )
    } else {
        format!(
            "お子さまの生年月日を{}に変更しました。\n今日で{}です。\n\n\
             これからのお知らせは新しい生年月日でお届けします。すでにお届けしたお知らせが、もう一度届くことはありません。",
            japanese_date(birth),
            l.age(birth, turn.today)
        )
    };
    let actions = main_actions(turn.today, Some(&r));
    Response::reply(Change::Save(Box::new(r)), Message::text_with(text, actions))
}
