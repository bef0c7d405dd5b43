//! The milestone catalog that municipal staff edit as YAML (DESIGN.md §4): the validated
//! [`Catalog`] and the lookups the daily scan and the preview make in it.
//!
//! - `offset`: when a milestone fires (`at:` → [`Offset`]) and the date arithmetic;
//! - `series`: a daily programme (every N days between two day numbers, a text per step);
//! - `placeholder`: `{age}`, `{nickname}`, … in texts, checked at load, filled in per recipient;
//! - `load`: YAML → [`Catalog`] with every rule checked ([`Catalog::from_yaml`]);
//! - `problem`: what is wrong and where (line, entry, field), for staff.

mod load;
mod offset;
pub mod placeholder;
mod problem;
mod series;

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate};

use crate::domain::{AnchorKind, AnchorRange, Audience, Settings};
pub use offset::{MAX_AGE_YEARS, MAX_GESTATION_DAYS, Offset};
pub use problem::{CatalogError, CatalogProblem};
pub use series::{Series, Step, day_number};

/// At most this many categories: the chat shows them in cards of ten, within LINE's twelve.
pub const MAX_CATEGORIES: usize = 30;
/// At most this many choices per 受信設定 question, for the same reason.
pub const MAX_CHOICES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: String,
    pub label: String,
    /// The label in やさしい日本語, if the city wrote one.
    pub easy_label: Option<String>,
}

/// One answer a 受信設定 question offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub id: String,
    pub label: String,
    pub easy_label: Option<String>,
}

/// A 受信設定 question of the city's: its label and choices (no choices: not asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Question {
    pub label: String,
    pub easy_label: Option<String>,
    pub choices: Vec<Choice>,
}

impl Question {
    pub fn choice(&self, id: &str) -> Option<&Choice> {
        self.choices.iter().find(|c| c.id == id)
    }
}

/// The city's 受信設定 questions besides the categories: 地区 (one), 世帯の状況 (any number),
/// 保育所（園）の申込状況 (one). The language question (ふつう / やさしい日本語) is built in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Questions {
    pub district: Question,
    pub household: Question,
    pub nursery: Question,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub id: String,
    pub offset: Offset,
    pub category: String,
    /// Who besides the category's subscribers it is for (default: everyone).
    pub audience: Audience,
    pub text: String,
    pub easy_text: Option<String>,
}

impl Milestone {
    /// The text for a resident, preferring やさしい日本語 where they asked for it and it exists.
    pub fn text_for(&self, easy_japanese: bool) -> &str {
        match (&self.easy_text, easy_japanese) {
            (Some(easy), true) => easy,
            _ => &self.text,
        }
    }

    /// Whether a resident with these settings gets it (category on, in the audience).
    pub fn reaches(&self, settings: &Settings) -> bool {
        settings.receives(&self.category) && self.audience.admits(settings)
    }
}

impl Series {
    /// Whether a resident with these settings gets it (category on, in the audience).
    pub fn reaches(&self, settings: &Settings) -> bool {
        settings.receives(&self.category) && self.audience.admits(settings)
    }
}

/// One index lookup of a daily scan: a run of anchor dates inside one calendar month, and
/// what may be due for an entry in it (each milestone with the exact anchors it fires for).
#[derive(Debug, Clone)]
pub struct Lookup<'c> {
    pub range: AnchorRange,
    pub milestones: Vec<(AnchorRange, &'c Milestone)>,
    pub series: Vec<&'c Series>,
}

/// A validated catalog. Construct with [`Catalog::from_yaml`].
#[derive(Debug, Clone)]
pub struct Catalog {
    categories: Vec<Category>,
    questions: Questions,
    milestones: Vec<Milestone>,
    series: Vec<Series>,
}

impl Catalog {
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    pub fn questions(&self) -> &Questions {
        &self.questions
    }

    pub fn milestones(&self) -> &[Milestone] {
        &self.milestones
    }

    pub fn milestone(&self, id: &str) -> Option<&Milestone> {
        self.milestones.iter().find(|m| m.id == id)
    }

    pub fn series(&self) -> &[Series] {
        &self.series
    }

    pub fn series_named(&self, id: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.id == id)
    }

    /// The index lookups for day `day`. Each milestone's anchors and each series' span are
    /// cut at month ends (one index partition per month), and runs that overlap or touch in
    /// the same month become one lookup: a daily programme costs one lookup per calendar
    /// month its anchors span, not one per day. Its length is what one daily scan costs in
    /// lookups, whatever the population.
    pub fn lookups_for(&self, day: NaiveDate) -> Vec<Lookup<'_>> {
        // Every run needed, by partition (kind, year, month).
        let mut runs: BTreeMap<(AnchorKind, i32, u32), Vec<(NaiveDate, NaiveDate)>> =
            BTreeMap::new();
        let mut add = |kind: AnchorKind, first: NaiveDate, last: NaiveDate| {
            for (a, b) in month_pieces(first, last) {
                runs.entry((kind, a.year(), a.month()))
                    .or_default()
                    .push((a, b));
            }
        };
        let due_milestones: Vec<(AnchorRange, &Milestone)> = self
            .milestones
            .iter()
            .filter_map(|m| m.offset.anchors_due_on(day).map(|r| (r, m)))
            .collect();
        for (r, _) in &due_milestones {
            add(r.kind, r.first, r.last);
        }
        let spans: Vec<(&Series, NaiveDate, NaiveDate)> = self
            .series
            .iter()
            .filter_map(|s| s.anchors_on(day).map(|(a, b)| (s, a, b)))
            .collect();
        for (s, a, b) in &spans {
            add(s.anchor, *a, *b);
        }
        let mut lookups = Vec::new();
        for ((kind, _, _), mut pieces) in runs {
            pieces.sort();
            let mut merged: Vec<(NaiveDate, NaiveDate)> = Vec::new();
            for (a, b) in pieces {
                match merged.last_mut() {
                    Some(last) if a <= last.1 + chrono::Duration::days(1) => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            for (first, last) in merged {
                let range = AnchorRange { kind, first, last };
                let overlaps = |a: NaiveDate, b: NaiveDate| a <= last && first <= b;
                lookups.push(Lookup {
                    range,
                    milestones: due_milestones
                        .iter()
                        .filter(|(r, _)| r.kind == kind && overlaps(r.first, r.last))
                        .copied()
                        .collect(),
                    series: spans
                        .iter()
                        .filter(|(s, a, b)| s.anchor == kind && overlaps(*a, *b))
                        .map(|(s, _, _)| *s)
                        .collect(),
                });
            }
        }
        lookups
    }

    /// Distinct offsets in the catalog (the upper bound on lookups per day for milestones).
    pub fn distinct_offsets(&self) -> usize {
        self.milestones
            .iter()
            .map(|m| m.offset)
            .collect::<HashSet<_>>()
            .len()
    }

    /// The first day after `after` on which a milestone (not a series step) reaches a
    /// resident with `settings` for this anchor: the `{next_date}` placeholder.
    pub fn next_milestone_date(
        &self,
        kind: AnchorKind,
        anchor: NaiveDate,
        after: NaiveDate,
        settings: &Settings,
    ) -> Option<NaiveDate> {
        self.milestones
            .iter()
            .filter(|m| m.offset.anchor_kind() == kind && m.reaches(settings))
            .filter_map(|m| m.offset.fire_date(anchor))
            .filter(|d| *d > after)
            .min()
    }

    /// Dated milestones for one anchor between two days inclusive, in date order.
    pub fn schedule(
        &self,
        kind: AnchorKind,
        anchor: NaiveDate,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Vec<(NaiveDate, &Milestone)> {
        let mut out: Vec<(NaiveDate, &Milestone)> = self
            .milestones
            .iter()
            .filter(|m| m.offset.anchor_kind() == kind)
            .filter_map(|m| m.offset.fire_date(anchor).map(|d| (d, m)))
            .filter(|(d, _)| from.is_none_or(|f| *d >= f) && to.is_none_or(|t| *d <= t))
            .collect();
        out.sort_by_key(|(d, m)| (*d, m.offset));
        out
    }
}

/// `first..=last` cut at month ends.
fn month_pieces(first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut start = first;
    while start <= last {
        let month_end = crate::dates::last_day_of_month(start.year(), start.month());
        let end = start.with_day(month_end).unwrap_or(start).min(last);
        out.push((start, end));
        match end.succ_opt() {
            Some(next) => start = next,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    pub(super) const GOOD: &str = r#"
categories:
  - {id: health, label: 健診・予防接種}
  - {id: life, label: 子育て情報}
milestones:
  - id: dental-checkup
    anchor: due_date
    at: {weeks: 24}
    category: health
    text: "妊婦歯科検診のご案内"
    easy_text: "はいしゃさんの けんしん"
  - id: one-week
    anchor: birth_date
    at: {weeks: 1}
    category: life
    text: "1週間誕生日おめでとうございます"
  - id: fluoride
    anchor: birth_date
    at: {years: 1, months: 2}
    category: health
    text: "フッ化物塗布のご案内"
"#;

    #[test]
    fn lookups_cover_exactly_the_due_anchors() {
        // For many days and anchors, an anchor is in a lookup range iff the milestone fires.
        let c = Catalog::from_yaml(GOOD).expect("valid");
        let anchors: Vec<NaiveDate> = d("2024-01-01").iter_days().take(1200).collect();
        for day in d("2025-12-20").iter_days().take(500) {
            let lookups = c.lookups_for(day);
            assert!(lookups.len() <= c.distinct_offsets());
            for m in c.milestones() {
                let kind = m.offset.anchor_kind();
                for a in &anchors {
                    let fires = m.offset.fire_date(*a) == Some(day);
                    let found = lookups.iter().any(|l| {
                        l.range.contains(kind, *a)
                            && l.milestones
                                .iter()
                                .any(|(r, x)| x.id == m.id && r.contains(kind, *a))
                    });
                    assert_eq!(fires, found, "{} anchor {a} day {day}", m.id);
                }
            }
        }
    }

    #[test]
    fn schedule_lists_milestones_in_order() {
        let c = Catalog::from_yaml(GOOD).expect("valid");
        let s = c.schedule(AnchorKind::BirthDate, d("2025-11-20"), None, None);
        let ids: Vec<(String, &str)> = s
            .iter()
            .map(|(d, m)| (d.to_string(), m.id.as_str()))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("2025-11-27".to_string(), "one-week"),
                ("2027-01-20".to_string(), "fluoride")
            ]
        );
        let later = c.schedule(
            AnchorKind::BirthDate,
            d("2025-11-20"),
            Some(d("2025-12-01")),
            None,
        );
        assert_eq!(later.len(), 1);
    }
}
