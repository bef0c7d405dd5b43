//! Checking a `series:` entry: its span and cadence in day numbers, and its texts (a steps
//! file beside the catalog, steps written inline, or one template for every step).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_saphyr::Spanned;

use super::rules::{self, check_text};
use super::shape::{self, SeriesFile, StepFile};
use super::{Files, Place, Problems};
use crate::catalog::offset::{At, MAX_GESTATION_DAYS, MAX_SERIES_AGE_DAYS};
use crate::catalog::problem::{STEPS, entry_name, line_of};
use crate::catalog::{Questions, Series, Step, day_label};
use crate::domain::AnchorKind;

/// Missing steps listed by name in one problem; the rest are counted.
const MISSING_LISTED: usize = 5;

/// The last day number a series of `anchor` may reach.
fn max_day(anchor: AnchorKind) -> u32 {
    match anchor {
        AnchorKind::DueDate => MAX_GESTATION_DAYS,
        AnchorKind::BirthDate => MAX_SERIES_AGE_DAYS,
    }
}

/// `妊娠5週2日 (day 37)`: how staff find a day in their files.
fn named(anchor: AnchorKind, n: u32) -> String {
    format!("{} (day {n})", day_label(anchor, n))
}

/// Whether `name` is a file beside the catalog (or below it): relative, without `..`.
fn check_file_name(name: &str) -> Result<(), String> {
    crate::staff_file::check_file_name(name, "the catalog", "pregnancy-weekly.yaml")
}

/// A day-number field of a series (`from`, `to`): within what the anchor allows.
fn span_day(
    p: &mut Problems,
    place: &Place<'_>,
    field: &str,
    at: &Spanned<At>,
    anchor: AnchorKind,
) -> Option<u32> {
    let line = line_of(at.referenced);
    match at.value.day_number() {
        Err(message) => {
            p.add(place, line, field, message);
            None
        }
        Ok(n) if n > max_day(anchor) => {
            p.add(
                place,
                line,
                field,
                format!(
                    "day {n} is past the last day a series may reach, {}",
                    named(anchor, max_day(anchor))
                ),
            );
            None
        }
        Ok(n) => Some(n),
    }
}

/// The series in `s`, or `None` after adding its problems.
pub(super) fn series(
    p: &mut Problems,
    index: usize,
    s: &Spanned<SeriesFile>,
    category_ids: &HashSet<&str>,
    questions: &Questions,
    ids: &mut HashMap<String, &'static str>,
    files: &mut Files<'_>,
) -> Option<Series> {
    let line_of_entry = line_of(s.referenced);
    let s = &s.value;
    let anchor = s.anchor;
    let place = Place::catalog(entry_name("series", index, Some(&s.id.value)));
    let problems_before = p.len();
    rules::check_id(p, &place, &s.id, "series", ids);
    if !category_ids.contains(s.category.value.as_str()) {
        p.add(
            &place,
            line_of(s.category.referenced),
            "category",
            format!("`{}` is not one of the categories", s.category.value),
        );
    }
    let audience = rules::audience(p, &place, s.audience.as_ref(), questions);

    let first = span_day(p, &place, "from", &s.from, anchor);
    let last = span_day(p, &place, "to", &s.to, anchor);
    let every = match s.every.value.day_number() {
        Ok(0) => {
            p.add(
                &place,
                line_of(s.every.referenced),
                "every",
                "must be at least 1 day ({days: 1} for daily, {weeks: 1} for weekly)",
            );
            None
        }
        Ok(n) => Some(n),
        Err(message) => {
            p.add(&place, line_of(s.every.referenced), "every", message);
            None
        }
    };
    let span = match (first, last, every) {
        (Some(first), Some(last), _) if last < first => {
            p.add(
                &place,
                line_of(s.to.referenced),
                "to",
                format!(
                    "{} comes before `from`, {}",
                    named(anchor, last),
                    named(anchor, first)
                ),
            );
            None
        }
        // A `to` between two steps would silently never be sent: staff wrote it expecting it.
        (Some(first), Some(last), Some(every)) if (last - first) % every != 0 => {
            let before = last - (last - first) % every;
            p.add(
                &place,
                line_of(s.to.referenced),
                "to",
                format!(
                    "{} is not one of the series' days ({} from {}); end at {} or {}",
                    named(anchor, last),
                    every_label(every),
                    named(anchor, first),
                    named(anchor, before),
                    named(anchor, before + every)
                ),
            );
            None
        }
        (Some(first), Some(last), Some(every)) => Some(Span {
            anchor,
            first,
            last,
            every,
        }),
        _ => None,
    };

    let sources = [s.steps_file.is_some(), s.steps.is_some(), s.text.is_some()];
    let steps = match sources.iter().filter(|given| **given).count() {
        0 => {
            p.add(
                &place,
                line_of_entry,
                "steps_file",
                "give the texts: steps_file (a file beside the catalog), steps (a list here) or \
                 text (one text for every step)",
            );
            None
        }
        1 => texts(p, &place, s, span.as_ref(), files),
        _ => {
            let line = [
                s.steps_file.as_ref().map(|f| f.referenced),
                s.steps.as_ref().map(|f| f.referenced),
                s.text.as_ref().map(|f| f.referenced),
            ]
            .into_iter()
            .flatten()
            .nth(1)
            .and_then(line_of);
            p.add(
                &place,
                line,
                "steps_file",
                "give only one of steps_file, steps and text",
            );
            None
        }
    };
    if s.text.is_none()
        && let Some(easy) = &s.easy_text
    {
        p.add(
            &place,
            line_of(easy.referenced),
            "easy_text",
            "goes with `text`; a series with steps has an easy_text per step",
        );
    }

    let (span, steps) = (span?, steps?);
    (p.len() == problems_before).then(|| Series {
        id: s.id.value.clone(),
        anchor,
        first: span.first,
        last: span.last,
        every: span.every,
        category: s.category.value.clone(),
        audience,
        steps,
    })
}

/// The days a series sends on.
struct Span {
    anchor: AnchorKind,
    first: u32,
    last: u32,
    every: u32,
}

impl Span {
    fn days(&self) -> impl Iterator<Item = u32> + '_ {
        (self.first..=self.last).step_by(self.every as usize)
    }

    fn label(&self) -> String {
        format!(
            "{} from {} to {}",
            every_label(self.every),
            named(self.anchor, self.first),
            named(self.anchor, self.last)
        )
    }
}

fn every_label(every: u32) -> String {
    match every {
        1 => "every day".to_string(),
        7 => "every week".to_string(),
        n if n % 7 == 0 => format!("every {} weeks", n / 7),
        n => format!("every {n} days"),
    }
}

/// The series' texts by day number, from whichever source it names.
fn texts(
    p: &mut Problems,
    place: &Place<'_>,
    s: &SeriesFile,
    span: Option<&Span>,
    files: &mut Files<'_>,
) -> Option<BTreeMap<u32, Step>> {
    let anchor = s.anchor;
    if let Some(text) = &s.text {
        check_text(p, place, "text", text, anchor);
        if let Some(easy) = &s.easy_text {
            check_text(p, place, "easy_text", easy, anchor);
        }
        let step = Step {
            text: text.value.clone(),
            easy_text: s
                .easy_text
                .as_ref()
                .map(|t| t.value.clone())
                .filter(|t| !t.trim().is_empty()),
        };
        return Some(span?.days().map(|n| (n, step.clone())).collect());
    }
    if let Some(steps) = &s.steps {
        let (got, ok) = steps_by_day(p, None, place, "steps", &steps.value, anchor, span);
        // Missing days are reported even when some steps have problems of their own, so
        // staff see everything in one check.
        return complete(
            p,
            place,
            "steps",
            line_of(steps.referenced),
            "`steps`",
            got,
            span?,
        )
        .filter(|_| ok);
    }
    let file = s.steps_file.as_ref()?;
    let line = line_of(file.referenced);
    if let Err(message) = check_file_name(&file.value) {
        p.add(place, line, "steps_file", message);
        return None;
    }
    let source = match files.get(&file.value) {
        Ok(source) => source,
        Err(message) => {
            p.add(
                place,
                line,
                "steps_file",
                format!("cannot read `{}`: {message}", file.value),
            );
            return None;
        }
    };
    let parsed = match shape::parse_steps(&file.value, &source, anchor) {
        Ok(parsed) => parsed,
        Err(e) => {
            p.extend(e.problems);
            return None;
        }
    };
    let (got, ok) = steps_by_day(p, Some(&file.value), place, "", &parsed, anchor, span);
    complete(
        p,
        place,
        "steps_file",
        line,
        &format!("`{}`", file.value),
        got,
        span?,
    )
    .filter(|_| ok)
}

/// Each step's text by its day number, and whether every step was sound; a step off the
/// series' days is a problem. `file` is the steps file the steps are in (`None`: inline in
/// the series `place`).
fn steps_by_day(
    p: &mut Problems,
    file: Option<&str>,
    place: &Place<'_>,
    field_prefix: &str,
    steps: &[Spanned<StepFile>],
    anchor: AnchorKind,
    span: Option<&Span>,
) -> (BTreeMap<u32, (usize, Step)>, bool) {
    let problems_before = p.len();
    let mut out: BTreeMap<u32, (usize, Step)> = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        let step = &step.value;
        let day = step.at.value.day_number().ok();
        // In a steps file each step is an entry of its own; inline, a field of the series.
        let (step_place, prefix) = match file {
            Some(file) => (
                Place {
                    file: Some(file),
                    entry: entry_name(STEPS, i, day.map(|n| day_label(anchor, n)).as_deref()),
                },
                String::new(),
            ),
            None => (place.clone(), format!("{field_prefix}[{i}].")),
        };
        let field = |name: &str| format!("{prefix}{name}");
        let at_line = line_of(step.at.referenced);
        check_text(p, &step_place, &field("text"), &step.text, anchor);
        if let Some(easy) = &step.easy_text {
            check_text(p, &step_place, &field("easy_text"), easy, anchor);
        }
        let n = match step.at.value.day_number() {
            Ok(n) => n,
            Err(message) => {
                p.add(&step_place, at_line, &field("at"), message);
                continue;
            }
        };
        if let Some(span) = span {
            if n < span.first || n > span.last {
                p.add(
                    &step_place,
                    at_line,
                    &field("at"),
                    format!(
                        "{} is outside the series, which runs {}",
                        named(anchor, n),
                        span.label()
                    ),
                );
                continue;
            }
            if !(n - span.first).is_multiple_of(span.every) {
                let before = n - (n - span.first) % span.every;
                let after = before + span.every;
                let mut near = named(anchor, before);
                if after <= span.last {
                    near.push_str(&format!(" or {}", named(anchor, after)));
                }
                p.add(
                    &step_place,
                    at_line,
                    &field("at"),
                    format!(
                        "{} is not one of the series' days ({}); the nearest is {near}",
                        named(anchor, n),
                        span.label()
                    ),
                );
                continue;
            }
        }
        if let Some((other, _)) = out.get(&n) {
            let other = match file {
                Some(_) => entry_name(STEPS, *other, None),
                None => format!("{field_prefix}[{other}]"),
            };
            p.add(
                &step_place,
                at_line,
                &field("at"),
                format!("{} is written twice (also {other})", named(anchor, n)),
            );
            continue;
        }
        out.insert(
            n,
            (
                i,
                Step {
                    text: step.text.value.clone(),
                    easy_text: step
                        .easy_text
                        .as_ref()
                        .map(|t| t.value.clone())
                        .filter(|t| !t.trim().is_empty()),
                },
            ),
        );
    }
    let ok = p.len() == problems_before;
    (out, ok)
}

/// The steps if every day of the series has one; otherwise a problem naming the first
/// missing days.
fn complete(
    p: &mut Problems,
    place: &Place<'_>,
    field: &str,
    line: Option<usize>,
    what: &str,
    got: BTreeMap<u32, (usize, Step)>,
    span: &Span,
) -> Option<BTreeMap<u32, Step>> {
    let missing: Vec<u32> = span.days().filter(|n| !got.contains_key(n)).collect();
    if missing.is_empty() {
        return Some(got.into_iter().map(|(n, (_, step))| (n, step)).collect());
    }
    let total = span.days().count();
    let mut listed: Vec<String> = missing
        .iter()
        .take(MISSING_LISTED)
        .map(|n| named(span.anchor, *n))
        .collect();
    if missing.len() > MISSING_LISTED {
        listed.push(format!("and {} more", missing.len() - MISSING_LISTED));
    }
    p.add(
        place,
        line,
        field,
        format!(
            "{what} has no step for {} of the series' {total} days ({}): {}",
            missing.len(),
            span.label(),
            listed.join(", ")
        ),
    );
    None
}
