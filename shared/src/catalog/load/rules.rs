//! The rules a well-shaped catalog can still break, one function per kind of value: ids,
//! labels (they become LINE buttons), texts (LINE's length limit, placeholders), the
//! 受信設定 questions and the audiences that refer to them.

use std::collections::{BTreeSet, HashMap};

use serde_saphyr::Spanned;

use super::shape::{AudienceFile, ChoiceFile, QuestionFile};
use super::{Place, Problems};
use crate::catalog::placeholder::{self, MAX_RENDERED_CHARS, Piece};
use crate::catalog::problem::{entry_name, line_of};
use crate::catalog::{Choice, MAX_CHOICES, Question, Questions};
use crate::domain::{AnchorKind, Audience};
use crate::line::limits;

/// Ids become keys in the store and postback data: short and plain. The first character is
/// a letter or digit, since a lone `-` in a postback means "no answer".
pub(super) fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks an id's form, and that `seen` (ids of the same namespace, with what each names)
/// does not have it yet.
pub(super) fn check_id(
    p: &mut Problems,
    place: &Place<'_>,
    id: &Spanned<String>,
    kind: &'static str,
    seen: &mut HashMap<String, &'static str>,
) {
    if !valid_id(&id.value) {
        p.add(
            place,
            line_of(id.referenced),
            "id",
            "use 1–64 letters, digits, '-' or '_', starting with a letter or digit",
        );
        return;
    }
    match seen.get(id.value.as_str()) {
        None => {
            seen.insert(id.value.clone(), kind);
        }
        Some(other) if *other == kind => p.add(
            place,
            line_of(id.referenced),
            "id",
            format!("`{}` is used twice", id.value),
        ),
        Some(other) => p.add(
            place,
            line_of(id.referenced),
            "id",
            format!(
                "`{}` is also the id of a {other}; milestones and series share ids (a \
                 resident's deliveries are recorded by id), so give this one another",
                id.value
            ),
        ),
    }
}

/// A label shown as a LINE button: 1–20 characters. Returns it trimmed.
pub(super) fn check_label(
    p: &mut Problems,
    place: &Place<'_>,
    field: &str,
    label: &Spanned<String>,
) -> String {
    let trimmed = label.value.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > limits::MAX_ACTION_LABEL_CHARS {
        p.add(
            place,
            line_of(label.referenced),
            field,
            format!(
                "must be 1–{} characters (it becomes a LINE button), not {chars}",
                limits::MAX_ACTION_LABEL_CHARS
            ),
        );
    }
    trimmed.to_string()
}

pub(super) fn check_easy_label(
    p: &mut Problems,
    place: &Place<'_>,
    label: Option<&Spanned<String>>,
) -> Option<String> {
    label.map(|l| check_label(p, place, "easy_label", l))
}

/// A text sent to residents of entries counting from `anchor`: not empty, braces balanced,
/// every placeholder known and available for the anchor, and within LINE's length limit
/// even when every placeholder is filled in at its longest.
pub(super) fn check_text(
    p: &mut Problems,
    place: &Place<'_>,
    field: &str,
    text: &Spanned<String>,
    anchor: AnchorKind,
) {
    let line = line_of(text.referenced);
    if text.value.trim().is_empty() {
        p.add(place, line, field, "is empty");
        return;
    }
    let pieces = match placeholder::pieces(&text.value) {
        Ok(pieces) => pieces,
        Err(message) => {
            p.add(
                place,
                line,
                field,
                format!("braces do not balance: {message}"),
            );
            return;
        }
    };
    let mut literal_units = 0;
    let mut placeholders = 0;
    for piece in &pieces {
        match piece {
            Piece::Literal(text) => literal_units += text.encode_utf16().count(),
            Piece::Placeholder(name) => {
                placeholders += 1;
                if let Err(message) = placeholder::check_placeholder(name, anchor) {
                    p.add(place, line, field, message);
                }
            }
        }
    }
    // A character outside the Basic Multilingual Plane (an emoji in a nickname) is two
    // UTF-16 units, so a filled-in placeholder may take twice its characters.
    let longest = literal_units + placeholders * MAX_RENDERED_CHARS * 2;
    if longest > limits::MAX_TEXT_UTF16_UNITS {
        let message = if placeholders == 0 {
            format!(
                "is {longest} UTF-16 units long; LINE allows {}",
                limits::MAX_TEXT_UTF16_UNITS
            )
        } else {
            format!(
                "could be {longest} UTF-16 units long once its {placeholders} placeholder(s) are \
                 filled in (each up to {MAX_RENDERED_CHARS} characters); LINE allows {}",
                limits::MAX_TEXT_UTF16_UNITS
            )
        };
        p.add(place, line, field, message);
    }
}

/// What a question's choices are called in messages.
fn choices_word(question: &str) -> &'static str {
    match question {
        "district" => "districts",
        "household" => "household choices",
        _ => "nursery choices",
    }
}

/// One 受信設定 question of `settings:` (`district`, `household` or `nursery`).
pub(super) fn question(
    p: &mut Problems,
    name: &str,
    file: Option<&Spanned<QuestionFile>>,
) -> Question {
    let Some(file) = file else {
        return Question::default();
    };
    let q = &file.value;
    let place = Place::catalog(format!("settings.{name}"));
    let label = check_label(p, &place, "label", &q.label);
    let easy_label = check_easy_label(p, &place, q.easy_label.as_ref());
    let choices_line = line_of(q.choices.referenced);
    if q.choices.value.is_empty() {
        p.add(
            &place,
            choices_line.or(line_of(file.referenced)),
            "choices",
            "lists no choices; list at least one, or leave the question out",
        );
    } else if q.choices.value.len() > MAX_CHOICES {
        p.add(
            &place,
            choices_line,
            "choices",
            format!(
                "lists {} choices; at most {MAX_CHOICES} fit the chat's buttons",
                q.choices.value.len()
            ),
        );
    }
    let mut seen = HashMap::new();
    let choices = q
        .choices
        .value
        .iter()
        .enumerate()
        .map(|(i, c)| choice(p, name, i, &c.value, &mut seen))
        .collect();
    Question {
        label,
        easy_label,
        choices,
    }
}

fn choice(
    p: &mut Problems,
    question: &str,
    index: usize,
    c: &ChoiceFile,
    seen: &mut HashMap<String, &'static str>,
) -> Choice {
    let place = Place::catalog(entry_name(
        &format!("settings.{question}.choices"),
        index,
        Some(&c.id.value),
    ));
    check_id(p, &place, &c.id, "choice", seen);
    let label = check_label(p, &place, "label", &c.label);
    let easy_label = check_easy_label(p, &place, c.easy_label.as_ref());
    Choice {
        id: c.id.value.clone(),
        label,
        easy_label,
    }
}

/// An entry's `audience:`: each list names choices of the matching question.
pub(super) fn audience(
    p: &mut Problems,
    place: &Place<'_>,
    file: Option<&Spanned<AudienceFile>>,
    questions: &Questions,
) -> Audience {
    let Some(file) = file else {
        return Audience::default();
    };
    let a = &file.value;
    let mut ids = |field: &str,
                   question_name: &str,
                   question: &Question,
                   list: &Option<Spanned<Vec<Spanned<String>>>>|
     -> BTreeSet<String> {
        let Some(list) = list else {
            return BTreeSet::new();
        };
        let field = format!("audience.{field}");
        if list.value.is_empty() {
            p.add(
                place,
                line_of(list.referenced),
                &field,
                "is empty; leave it out to reach everyone",
            );
        }
        let mut out = BTreeSet::new();
        for id in &list.value {
            if question.choice(&id.value).is_none() {
                let known = if question.choices.is_empty() {
                    format!("settings.{question_name} lists none")
                } else {
                    format!(
                        "settings.{question_name} lists {}",
                        question
                            .choices
                            .iter()
                            .map(|c| c.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                p.add(
                    place,
                    line_of(id.referenced),
                    &field,
                    format!(
                        "`{}` is not one of the {} ({known})",
                        id.value,
                        choices_word(question_name)
                    ),
                );
            }
            out.insert(id.value.clone());
        }
        out
    };
    let districts = ids("districts", "district", &questions.district, &a.districts);
    let household = ids("household", "household", &questions.household, &a.household);
    let nursery = ids("nursery", "nursery", &questions.nursery, &a.nursery);
    let audience = Audience {
        districts,
        household,
        nursery,
    };
    if a.districts.is_none() && a.household.is_none() && a.nursery.is_none() {
        p.add(
            place,
            line_of(file.referenced),
            "audience",
            "names no districts, household or nursery; leave it out to reach everyone",
        );
    }
    audience
}
