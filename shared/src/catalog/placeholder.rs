//! Placeholders in catalog texts (`{gestational_weeks}`, `{age}`, `{nickname}`, …), filled in
//! per recipient by the daily scan. `catalog check` rejects an unknown or misplaced one, so
//! rendering never fails at send time. `{{` and `}}` write literal braces.

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};

use crate::dates;
use crate::domain::AnchorKind;

/// Every placeholder: its name, the anchor it needs (`None`: any), and what it becomes.
pub const PLACEHOLDERS: &[(&str, Option<AnchorKind>, &str)] = &[
    (
        "gestational_weeks",
        Some(AnchorKind::DueDate),
        "妊娠週数（16）",
    ),
    (
        "gestational_days",
        Some(AnchorKind::DueDate),
        "週数に加える日数（3）",
    ),
    (
        "pregnancy_month",
        Some(AnchorKind::DueDate),
        "妊娠月数（5）",
    ),
    (
        "days_to_due",
        Some(AnchorKind::DueDate),
        "予定日までの日数（120）",
    ),
    (
        "age",
        Some(AnchorKind::BirthDate),
        "月齢・年齢（生後10日 / 生後3か月 / 1歳2か月）",
    ),
    ("age_years", Some(AnchorKind::BirthDate), "満年齢（1）"),
    (
        "age_months",
        Some(AnchorKind::BirthDate),
        "年齢に加える月数（2）",
    ),
    (
        "days_old",
        Some(AnchorKind::BirthDate),
        "生まれてからの日数（誕生日が0）",
    ),
    (
        "nickname",
        Some(AnchorKind::BirthDate),
        "ニックネーム（未登録なら「お子さん」）",
    ),
    (
        "next_date",
        None,
        "次のお知らせ（シリーズを除く）の日（3月1日、予定がなければ「未定」）",
    ),
];

/// What `{nickname}` becomes for a child without one.
pub const NICKNAME_FALLBACK: &str = "お子さん";
/// What `{next_date}` becomes when no later milestone is scheduled.
pub const NO_NEXT_DATE: &str = "未定";
/// The same two in やさしい日本語 texts.
pub const NICKNAME_FALLBACK_EASY: &str = "こども";
pub const NO_NEXT_DATE_EASY: &str = "まだ きまって いません";
/// The longest ニックネーム the chat accepts; the catalog check budgets texts with it.
pub const MAX_NICKNAME_CHARS: usize = 20;
/// The longest any placeholder renders to, in characters (a nickname is the longest).
pub const MAX_RENDERED_CHARS: usize = MAX_NICKNAME_CHARS;

/// What a text is filled in with for one recipient on one day.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    pub anchor: AnchorKind,
    pub anchor_date: NaiveDate,
    pub day: NaiveDate,
    pub nickname: Option<&'a str>,
    /// The date of the next milestone this recipient will get, if any.
    pub next: Option<NaiveDate>,
    /// The text is the catalog's やさしい日本語 one: values read that way too (うまれて 3かげつ).
    pub easy: bool,
}

/// A piece of a template: literal text or a placeholder name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Literal(Cow<'a, str>),
    Placeholder(&'a str),
}

/// Splits a template, or says what is wrong with its braces.
pub fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        literal.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            literal.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            literal.push('}');
            rest = after;
        } else if tail.starts_with('}') {
            return Err("a `}` without its `{` (write `}}` for a literal brace)".into());
        } else {
            let Some(end) = tail.find('}') else {
                return Err("a `{` that is never closed (write `{{` for a literal brace)".into());
            };
            if !literal.is_empty() {
                out.push(Piece::Literal(Cow::Owned(std::mem::take(&mut literal))));
            }
            out.push(Piece::Placeholder(tail[1..end].trim()));
            rest = &tail[end + 1..];
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        out.push(Piece::Literal(Cow::Owned(literal)));
    }
    Ok(out)
}

/// Why `name` cannot be used in a text of an entry anchored on `anchor`, if it cannot.
pub fn check_placeholder(name: &str, anchor: AnchorKind) -> Result<(), String> {
    match PLACEHOLDERS.iter().find(|(n, _, _)| *n == name) {
        None => Err(format!(
            "unknown placeholder {{{name}}}; known: {}",
            PLACEHOLDERS
                .iter()
                .map(|(n, _, _)| format!("{{{n}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Some((_, Some(needs), _)) if *needs != anchor => Err(format!(
            "placeholder {{{name}}} needs anchor {}, but this entry counts from {}",
            anchor_name(*needs),
            anchor_name(anchor)
        )),
        Some(_) => Ok(()),
    }
}

fn anchor_name(kind: AnchorKind) -> &'static str {
    match kind {
        AnchorKind::DueDate => "due_date",
        AnchorKind::BirthDate => "birth_date",
    }
}

/// Whether the text names `{next_date}` (the only placeholder that costs a catalog search),
/// however it is spaced (`{ next_date }` renders the same).
pub fn needs_next_date(template: &str) -> bool {
    template.contains("next_date")
        && pieces(template).is_ok_and(|pieces| {
            pieces
                .iter()
                .any(|p| matches!(p, Piece::Placeholder("next_date")))
        })
}

/// The text for one recipient. Texts without braces are returned as they are.
pub fn render<'t>(template: &'t str, ctx: &RenderContext<'_>) -> Cow<'t, str> {
    if !template.contains(['{', '}']) {
        return Cow::Borrowed(template);
    }
    let Ok(pieces) = pieces(template) else {
        // Unreachable for a checked catalog; the text as written beats no message.
        return Cow::Borrowed(template);
    };
    let mut out = String::with_capacity(template.len() + 16);
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(&text),
            Piece::Placeholder(name) => out.push_str(&value(name, ctx)),
        }
    }
    Cow::Owned(out)
}

fn value(name: &str, ctx: &RenderContext<'_>) -> String {
    let ga = dates::gestational_age_days(ctx.anchor_date, ctx.day).max(0);
    let age = dates::age_months_days(ctx.anchor_date, ctx.day).unwrap_or((0, 0));
    match name {
        "gestational_weeks" => (ga / 7).to_string(),
        "gestational_days" => (ga % 7).to_string(),
        "pregnancy_month" => (ga / 28 + 1).min(10).to_string(),
        "days_to_due" => (ctx.anchor_date - ctx.day).num_days().max(0).to_string(),
        "age" if ctx.easy => dates::describe_age_easy(ctx.anchor_date, ctx.day),
        "age" => dates::describe_age(ctx.anchor_date, ctx.day),
        "age_years" => (age.0 / 12).to_string(),
        "age_months" => (age.0 % 12).to_string(),
        "days_old" => (ctx.day - ctx.anchor_date).num_days().max(0).to_string(),
        "nickname" => ctx
            .nickname
            .unwrap_or(if ctx.easy {
                NICKNAME_FALLBACK_EASY
            } else {
                NICKNAME_FALLBACK
            })
            .to_string(),
        "next_date" => match ctx.next {
            Some(d) => format!("{}月{}日", d.month(), d.day()),
            None if ctx.easy => NO_NEXT_DATE_EASY.to_string(),
            None => NO_NEXT_DATE.to_string(),
        },
        other => format!("{{{other}}}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    #[test]
    fn fills_in_pregnancy_and_child_values() {
        let preg = RenderContext {
            anchor: AnchorKind::DueDate,
            anchor_date: d("2027-03-01"),
            day: d("2026-11-25"),
            nickname: None,
            next: Some(d("2026-12-03")),
            easy: false,
        };
        assert_eq!(
            render(
                "妊娠{gestational_weeks}週{gestational_days}日（{pregnancy_month}か月）、次は{next_date}",
                &preg
            ),
            "妊娠26週2日（7か月）、次は12月3日"
        );
        let child = RenderContext {
            anchor: AnchorKind::BirthDate,
            anchor_date: d("2025-09-25"),
            day: d("2026-11-25"),
            nickname: Some("はるちゃん"),
            next: None,
            easy: false,
        };
        assert_eq!(
            render(
                "{nickname}は{age}（{age_years}歳{age_months}か月、{days_old}日目）。次は{next_date}{{済}}",
                &child
            ),
            "はるちゃんは1歳2か月（1歳2か月、426日目）。次は未定{済}"
        );
        let easy = RenderContext {
            nickname: None,
            easy: true,
            ..child
        };
        assert_eq!(
            render("{nickname}は {age}。つぎは {next_date}", &easy),
            "こどもは 1さい 2かげつ。つぎは まだ きまって いません"
        );
        let plain = "ふつうの文";
        assert!(matches!(render(plain, &child), Cow::Borrowed(_)));
    }

    #[test]
    fn unknown_misplaced_and_broken_placeholders_are_named() {
        assert!(check_placeholder("age", AnchorKind::BirthDate).is_ok());
        assert!(check_placeholder("next_date", AnchorKind::DueDate).is_ok());
        let e = check_placeholder("agee", AnchorKind::BirthDate).expect_err("unknown");
        assert!(e.contains("unknown placeholder {agee}"), "{e}");
        let e = check_placeholder("nickname", AnchorKind::DueDate).expect_err("misplaced");
        assert!(e.contains("birth_date"), "{e}");
        assert!(needs_next_date("次は{ next_date }"));
        assert!(needs_next_date("次は{next_date}"));
        assert!(!needs_next_date("{{next_date}} と書きます"));
        assert!(pieces("abc {age").is_err());
        assert!(pieces("abc } x").is_err());
        assert_eq!(
            pieces("{{}}").expect("ok"),
            vec![Piece::Literal("{}".into())]
        );
    }
}
