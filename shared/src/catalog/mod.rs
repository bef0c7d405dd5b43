//! The milestone catalog that municipal staff edit as YAML (DESIGN.md §4): the validated
//! [`Catalog`] and the lookups the daily scan and the preview make in it.
//!
//! - `offset`: when a milestone fires (`at:` → [`Offset`]) and the date arithmetic;
//! - `series`: a daily programme (every N days between two day numbers, a text per step);
//! - `placeholder`: `{age}`, `{nickname}`, … in texts, checked at load, filled in per recipient;
//! - `load`: YAML (the catalog and the steps files it names, as a [`CatalogSource`]) →
//!   [`Catalog`] with every rule checked ([`Catalog::from_source`], [`Catalog::from_yaml`]);
//! - `problem`: what is wrong and where (file, line, entry, field), for staff.

mod load;
mod offset;
pub mod placeholder;
pub(crate) mod problem;
mod series;

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::{AnchorKind, AnchorRange, Audience, Settings};
pub use offset::{MAX_AGE_YEARS, MAX_GESTATION_DAYS, MAX_SERIES_AGE_DAYS, Offset};
pub use problem::{CatalogError, CatalogProblem};
pub use series::{Series, Step, day_label, day_label_easy, day_number};

/// Most categories a catalog may have: the chat lists them as buttons, at most 10 to a
/// Flex bubble, and three pages of them are as many as a resident will page through.
pub const MAX_CATEGORIES: usize = 30;
/// Most choices one 受信設定 question may offer (two bubbles of 10 buttons).
pub const MAX_CHOICES: usize = 20;

/// A catalog as staff wrote it: the main YAML and the files its series name (steps files),
/// keyed by the name written in the catalog. Pure data: the CLI reads it from disk, `catalog
/// publish` stores it whole, and every Lambda function loads exactly what was checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogSource {
    pub main: String,
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

impl CatalogSource {
    /// A catalog that names no files.
    pub fn without_files(main: impl Into<String>) -> CatalogSource {
        CatalogSource {
            main: main.into(),
            files: BTreeMap::new(),
        }
    }

    /// The bytes of text it holds (the catalog and every file).
    pub fn text_bytes(&self) -> usize {
        self.main.len() + self.files.values().map(String::len).sum::<usize>()
    }
}

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
    /// The reservations service its notice offers to book (予約する), if any.
    pub service: Option<crate::reservations::ServiceId>,
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
        settings.wants(&self.category, &self.audience)
    }
}

impl Series {
    /// Whether a resident with these settings gets it (category on, in the audience).
    pub fn reaches(&self, settings: &Settings) -> bool {
        settings.wants(&self.category, &self.audience)
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

/// The example catalog shipped in `infra/catalog/`, with the steps files it names, for
/// tests and benchmarks (a test below fails if a file it names is missing here).
#[cfg(any(test, feature = "testing"))]
pub fn example_source() -> CatalogSource {
    CatalogSource {
        main: include_str!("../../../infra/catalog/example.yaml").to_string(),
        files: [
            (
                "pregnancy-weekly.yaml",
                include_str!("../../../infra/catalog/pregnancy-weekly.yaml"),
            ),
            (
                "newborn-daily.yaml",
                include_str!("../../../infra/catalog/newborn-daily.yaml"),
            ),
        ]
        .into_iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect(),
    }
}

/// A validated catalog. Construct with [`Catalog::from_source`] (or [`Catalog::from_yaml`]
/// for a catalog that names no files).
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
            for (a, b) in crate::dates::month_pieces(first, last) {
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

    /// Series of both anchors and several cadences, beside a milestone, as `lookups_for`
    /// must serve them together.
    const SERIES: &str = r#"
categories:
  - {id: daily, label: 毎日のひとこと}
milestones:
  - id: one-month
    anchor: birth_date
    at: {months: 1}
    category: daily
    text: "1か月"
series:
  - id: pregnancy-daily
    anchor: due_date
    from: {weeks: 4}
    to: {weeks: 41, days: 6}
    every: {days: 1}
    category: daily
    text: "妊娠{gestational_weeks}週{gestational_days}日"
  - id: newborn-daily
    anchor: birth_date
    from: {days: 0}
    to: {days: 100}
    every: {days: 1}
    category: daily
    text: "生後{days_old}日"
  - id: every-3-days
    anchor: birth_date
    from: {days: 101}
    to: {days: 365}
    every: {days: 3}
    category: daily
    text: "生後{days_old}日"
  - id: weekly
    anchor: due_date
    from: {weeks: 5, days: 3}
    to: {weeks: 29, days: 3}
    every: {weeks: 2}
    category: daily
    text: "妊娠{gestational_weeks}週"
"#;

    #[test]
    fn lookups_cover_exactly_the_anchors_a_series_step_falls_on() {
        // For every day of a year and every anchor that could be in any series: the anchor
        // has a step that day iff a lookup covers it and offers that series.
        let c = Catalog::from_yaml(SERIES).expect("valid");
        let anchors: Vec<NaiveDate> = d("2024-09-01").iter_days().take(900).collect();
        for day in d("2025-12-20").iter_days().take(400) {
            let lookups = c.lookups_for(day);
            // One lookup per month partition a span touches, whatever the population.
            let partitions: HashSet<(AnchorKind, i32, u32)> = lookups
                .iter()
                .map(|l| (l.range.kind, l.range.first.year(), l.range.first.month()))
                .collect();
            assert_eq!(
                partitions.len(),
                lookups.len(),
                "{day}: one lookup per partition"
            );
            for l in &lookups {
                assert_eq!(
                    (l.range.first.year(), l.range.first.month()),
                    (l.range.last.year(), l.range.last.month()),
                    "a lookup stays in its month"
                );
            }
            for s in c.series() {
                for a in &anchors {
                    let n = s.day_number(*a, day);
                    let due = n >= s.first as i64
                        && n <= s.last as i64
                        && (n - s.first as i64) % s.every as i64 == 0;
                    assert_eq!(due, s.step_on(*a, day).is_some(), "{} {a} {day}", s.id);
                    let found = lookups.iter().any(|l| {
                        l.range.contains(s.anchor, *a)
                            && l.series
                                .iter()
                                .any(|x| x.id == s.id && x.step_on(*a, day).is_some())
                    });
                    assert_eq!(due, found, "{} anchor {a} day {day}", s.id);
                }
            }
        }
    }

    #[test]
    fn a_daily_programme_costs_one_lookup_per_month_of_anchors() {
        // Its lookups per day follow the months its series' anchors span, never the number
        // of steps or residents.
        let c = Catalog::from_yaml(SERIES).expect("valid");
        let most = d("2026-01-01")
            .iter_days()
            .take(366)
            .map(|day| c.lookups_for(day).len())
            .max()
            .unwrap_or(0);
        // Pregnancy 4w0d–41w6d spans 266 due dates (≤ 10 months); birth days 0–365 (≤ 13).
        assert!(most <= 10 + 13 + 1, "{most} lookups");
    }

    #[test]
    fn the_example_loads_with_its_files() {
        let c = Catalog::from_source(&example_source()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.categories().len(), 19);
        assert_eq!(c.series().len(), 3);
        // Without its files it is refused, naming what is missing.
        let e = Catalog::from_yaml(&example_source().main).expect_err("needs its files");
        assert_eq!(e.problems.len(), 2, "{e}");
        assert!(e.to_string().contains("pregnancy-weekly.yaml"), "{e}");
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
