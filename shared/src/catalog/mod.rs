//! The milestone catalog that municipal staff edit as YAML (DESIGN.md §4): the validated
//! [`Catalog`] and the lookups the daily scan and the preview make in it.
//!
//! - `offset`: when a milestone fires (`at:` → [`Offset`]) and the date arithmetic;
//! - `load`: YAML → [`Catalog`] with every rule checked ([`Catalog::from_yaml`]);
//! - `problem`: what is wrong and where (line, entry, field), for staff.

mod load;
mod offset;
mod problem;

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;

use crate::domain::{AnchorKind, AnchorRange};
pub use offset::{MAX_AGE_YEARS, MAX_GESTATION_DAYS, Offset};
pub use problem::{CatalogError, CatalogProblem};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub id: String,
    pub offset: Offset,
    pub category: String,
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
}

/// A validated catalog. Construct with [`Catalog::from_yaml`].
#[derive(Debug, Clone)]
pub struct Catalog {
    categories: Vec<Category>,
    milestones: Vec<Milestone>,
}

impl Catalog {
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn milestones(&self) -> &[Milestone] {
        &self.milestones
    }

    pub fn milestone(&self, id: &str) -> Option<&Milestone> {
        self.milestones.iter().find(|m| m.id == id)
    }

    /// The index lookups for day `day`: each distinct anchor range with the milestones it
    /// serves. Its length is what one daily scan costs in lookups, whatever the population.
    pub fn lookups_for(&self, day: NaiveDate) -> Vec<(AnchorRange, Vec<&Milestone>)> {
        let mut by_range: BTreeMap<AnchorRange, Vec<&Milestone>> = BTreeMap::new();
        for m in &self.milestones {
            if let Some(range) = m.offset.anchors_due_on(day) {
                by_range.entry(range).or_default().push(m);
            }
        }
        by_range.into_iter().collect()
    }

    /// Distinct offsets in the catalog (the upper bound on lookups per day).
    pub fn distinct_offsets(&self) -> usize {
        self.milestones
            .iter()
            .map(|m| m.offset)
            .collect::<HashSet<_>>()
            .len()
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
                    let found = lookups
                        .iter()
                        .any(|(r, ms)| r.contains(kind, *a) && ms.iter().any(|x| x.id == m.id));
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
