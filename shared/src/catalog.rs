//! The milestone catalog that municipal staff edit as YAML: loading, validation with errors
//! that name the line, entry and field, and the date semantics of DESIGN.md §4 in both
//! directions (when a milestone fires for an anchor; which anchors are due on a day).

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::dates::{self, GESTATION_AT_DUE_DAYS};
use crate::domain::{AnchorKind, AnchorRange};
use crate::line::limits;

/// Latest gestational age a milestone may name: 42w6d, the end of a post-term pregnancy.
pub const MAX_GESTATION_DAYS: u32 = 42 * 7 + 6;
/// Children are followed up to their 18th year.
pub const MAX_AGE_YEARS: u32 = 18;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: String,
    pub label: String,
}

/// When a milestone fires, normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Offset {
    /// Fires on the day gestational age equals `days`.
    Gestation { days: u32 },
    /// Fires on birth + `months` calendar months (clamped) + `days`.
    Age { months: u32, days: u32 },
}

impl Offset {
    pub fn anchor_kind(self) -> AnchorKind {
        match self {
            Offset::Gestation { .. } => AnchorKind::DueDate,
            Offset::Age { .. } => AnchorKind::BirthDate,
        }
    }

    /// The day this offset falls on for an anchor date.
    pub fn fire_date(self, anchor: NaiveDate) -> Option<NaiveDate> {
        match self {
            Offset::Gestation { days } => {
                dates::add_days(anchor, days as i64 - GESTATION_AT_DUE_DAYS)
            }
            Offset::Age { months, days } => {
                dates::add_days(dates::add_months(anchor, months)?, days as i64)
            }
        }
    }

    /// The anchor dates for which this offset falls on `day`: one index lookup.
    pub fn anchors_due_on(self, day: NaiveDate) -> Option<AnchorRange> {
        match self {
            Offset::Gestation { days } => {
                let due = dates::add_days(day, GESTATION_AT_DUE_DAYS - days as i64)?;
                Some(AnchorRange {
                    kind: AnchorKind::DueDate,
                    first: due,
                    last: due,
                })
            }
            Offset::Age { months, days } => {
                let before_days = dates::add_days(day, -(days as i64))?;
                let (first, last) = dates::months_before(before_days, months)?;
                Some(AnchorRange {
                    kind: AnchorKind::BirthDate,
                    first,
                    last,
                })
            }
        }
    }

    /// 妊娠24週0日 / 生後7日 / 3カ月 / 1歳2カ月: how staff and residents name the timing.
    pub fn label(self) -> String {
        match self {
            Offset::Gestation { days } => format!("妊娠{}週{}日", days / 7, days % 7),
            Offset::Age { months, days } => {
                let mut s = String::new();
                if months == 0 {
                    s.push_str(&format!("生後{days}日"));
                    return s;
                }
                if months >= 12 {
                    s.push_str(&format!("{}歳", months / 12));
                    if months % 12 > 0 {
                        s.push_str(&format!("{}カ月", months % 12));
                    }
                } else {
                    s.push_str(&format!("生後{months}カ月"));
                }
                if days > 0 {
                    s.push_str(&format!("{days}日"));
                }
                s
            }
        }
    }
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

/// One thing wrong with a catalog, said so staff can find and fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogProblem {
    pub line: Option<usize>,
    /// `milestones[3] (dental-checkup)`, `categories[0] (health)`, or empty for the file.
    pub entry: String,
    pub field: String,
    pub message: String,
}

impl fmt::Display for CatalogProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        match (self.entry.is_empty(), self.field.is_empty()) {
            (false, false) => write!(f, "{}, field `{}`: ", self.entry, self.field)?,
            (false, true) => write!(f, "{}: ", self.entry)?,
            (true, false) => write!(f, "field `{}`: ", self.field)?,
            (true, true) => {}
        }
        f.write_str(&self.message)
    }
}

/// Every problem found, so staff fix them in one pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CatalogError {
    pub problems: Vec<CatalogProblem>,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "the catalog has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    categories: Vec<CategoryFile>,
    milestones: Vec<MilestoneFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    id: String,
    label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MilestoneFile {
    id: String,
    anchor: AnchorKind,
    at: AtFile,
    category: String,
    text: String,
    #[serde(default)]
    easy_text: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AtFile {
    years: Option<u32>,
    months: Option<u32>,
    weeks: Option<u32>,
    days: Option<u32>,
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Catalog {
    pub fn from_yaml(source: &str) -> Result<Catalog, CatalogError> {
        let file: CatalogFile = serde_yaml::from_str(source).map_err(|e| CatalogError {
            problems: vec![CatalogProblem {
                line: e.location().map(|l| l.line()),
                entry: String::new(),
                field: String::new(),
                message: yaml_message(&e),
            }],
        })?;
        let lines = SourceLines::new(source);
        let mut problems = Vec::new();
        let mut problem = |line: Option<usize>, entry: &str, field: &str, message: String| {
            problems.push(CatalogProblem {
                line,
                entry: entry.to_string(),
                field: field.to_string(),
                message,
            })
        };

        let mut category_ids = HashSet::new();
        let mut categories = Vec::new();
        for (i, c) in file.categories.iter().enumerate() {
            let entry = format!("categories[{i}] ({})", c.id);
            let line = lines.entry_line("categories", i);
            if !valid_id(&c.id) {
                problem(
                    line,
                    &entry,
                    "id",
                    "use 1–64 letters, digits, '-' or '_'".into(),
                );
            } else if !category_ids.insert(c.id.as_str()) {
                problem(line, &entry, "id", format!("`{}` is used twice", c.id));
            }
            let label_chars = c.label.trim().chars().count();
            if label_chars == 0 || label_chars > limits::MAX_ACTION_LABEL_CHARS {
                problem(
                    lines.field_line(line, "label"),
                    &entry,
                    "label",
                    format!(
                        "must be 1–{} characters (it becomes a LINE button), not {label_chars}",
                        limits::MAX_ACTION_LABEL_CHARS
                    ),
                );
            }
            categories.push(Category {
                id: c.id.clone(),
                label: c.label.trim().to_string(),
            });
        }

        if file.milestones.is_empty() {
            problem(
                None,
                "",
                "milestones",
                "the catalog has no milestones".into(),
            );
        }
        let mut milestone_ids = HashSet::new();
        let mut milestones = Vec::new();
        for (i, m) in file.milestones.iter().enumerate() {
            let entry = format!("milestones[{i}] ({})", m.id);
            let line = lines.entry_line("milestones", i);
            let field_line = |field: &str| lines.field_line(line, field);
            if !valid_id(&m.id) {
                problem(
                    line,
                    &entry,
                    "id",
                    "use 1–64 letters, digits, '-' or '_'".into(),
                );
            } else if !milestone_ids.insert(m.id.as_str()) {
                problem(line, &entry, "id", format!("`{}` is used twice", m.id));
            }
            if !category_ids.contains(m.category.as_str()) {
                problem(
                    field_line("category"),
                    &entry,
                    "category",
                    format!("`{}` is not one of the categories", m.category),
                );
            }
            for (field, text) in [("text", Some(&m.text)), ("easy_text", m.easy_text.as_ref())] {
                let Some(text) = text else { continue };
                let units = text.encode_utf16().count();
                if text.trim().is_empty() {
                    problem(field_line(field), &entry, field, "is empty".into());
                } else if units > limits::MAX_TEXT_UTF16_UNITS {
                    problem(
                        field_line(field),
                        &entry,
                        field,
                        format!(
                            "is {units} UTF-16 units long; LINE allows {}",
                            limits::MAX_TEXT_UTF16_UNITS
                        ),
                    );
                }
            }
            let at = &m.at;
            if at.years.is_none() && at.months.is_none() && at.weeks.is_none() && at.days.is_none()
            {
                problem(
                    field_line("at"),
                    &entry,
                    "at",
                    "name at least one of years, months, weeks, days (e.g. {days: 0} for the day itself)"
                        .into(),
                );
                continue;
            }
            let offset = match m.anchor {
                AnchorKind::DueDate => {
                    if at.years.is_some() || at.months.is_some() {
                        problem(
                            field_line("at"),
                            &entry,
                            "at",
                            "years and months are not allowed with anchor due_date; \
                             pregnancy is counted in weeks and days (e.g. {weeks: 24})"
                                .into(),
                        );
                        None
                    } else {
                        let total = at.weeks.unwrap_or(0) as u64 * 7 + at.days.unwrap_or(0) as u64;
                        if total > MAX_GESTATION_DAYS as u64 {
                            problem(
                                field_line("at"),
                                &entry,
                                "at",
                                format!(
                                    "gestational age must be at most 42 weeks 6 days, not {} days",
                                    total
                                ),
                            );
                            None
                        } else {
                            Some(Offset::Gestation { days: total as u32 })
                        }
                    }
                }
                AnchorKind::BirthDate => {
                    let months = at.years.unwrap_or(0) as u64 * 12 + at.months.unwrap_or(0) as u64;
                    let days = at.weeks.unwrap_or(0) as u64 * 7 + at.days.unwrap_or(0) as u64;
                    if months + days.div_ceil(28) >= (MAX_AGE_YEARS as u64 + 1) * 12 {
                        problem(
                            field_line("at"),
                            &entry,
                            "at",
                            format!(
                                "must fall before the child's {}th birthday",
                                MAX_AGE_YEARS + 1
                            ),
                        );
                        None
                    } else {
                        Some(Offset::Age {
                            months: months as u32,
                            days: days as u32,
                        })
                    }
                }
            };
            if let Some(offset) = offset {
                milestones.push(Milestone {
                    id: m.id.clone(),
                    offset,
                    category: m.category.clone(),
                    text: m.text.clone(),
                    easy_text: m.easy_text.clone().filter(|t| !t.trim().is_empty()),
                });
            }
        }

        if problems.is_empty() {
            Ok(Catalog {
                categories,
                milestones,
            })
        } else {
            Err(CatalogError { problems })
        }
    }

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

fn yaml_message(e: &serde_yaml::Error) -> String {
    // serde_yaml appends " at line X column Y"; the line is reported separately.
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => {
            let (msg, loc) = text.split_at(i);
            let column = loc.rsplit(' ').next().unwrap_or("");
            format!("{msg} (column {column})")
        }
        None => text,
    }
}

/// Finds where entries and fields sit in the YAML text, for messages that name a line.
/// Best effort: the catalog is simple block-style YAML; a line it cannot find is omitted.
struct SourceLines<'a> {
    lines: Vec<&'a str>,
}

impl<'a> SourceLines<'a> {
    fn new(source: &'a str) -> Self {
        SourceLines {
            lines: source.lines().collect(),
        }
    }

    /// 1-based line of the `index`th `- ` item under the top-level `section:` key.
    fn entry_line(&self, section: &str, index: usize) -> Option<usize> {
        let start = self
            .lines
            .iter()
            .position(|l| l.trim_end().starts_with(&format!("{section}:")))?;
        let mut item_indent = None;
        let mut seen = 0;
        for (n, line) in self.lines.iter().enumerate().skip(start + 1) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            if indent == 0 && !trimmed.starts_with('-') {
                return None; // next top-level key
            }
            if trimmed.starts_with("- ") || trimmed == "-" {
                match item_indent {
                    None => item_indent = Some(indent),
                    Some(i) if i != indent => continue,
                    _ => {}
                }
                if seen == index {
                    return Some(n + 1);
                }
                seen += 1;
            }
        }
        None
    }

    /// 1-based line of `field:` inside the entry starting at `entry_line`.
    fn field_line(&self, entry_line: Option<usize>, field: &str) -> Option<usize> {
        let start = entry_line? - 1;
        let first = self.lines.get(start)?;
        let entry_indent = first.len() - first.trim_start().len();
        let key = format!("{field}:");
        for (n, line) in self.lines.iter().enumerate().skip(start) {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if n > start
                && !trimmed.is_empty()
                && indent <= entry_indent
                && !trimmed.starts_with('#')
            {
                break;
            }
            let body = trimmed.trim_start_matches("- ").trim_start();
            // Block style (`at:`) or flow style (`- {id: x, label: y}`).
            if body.starts_with(&key)
                || body.contains(&format!("{{{key}"))
                || body.contains(&format!(", {key}"))
            {
                return Some(n + 1);
            }
        }
        entry_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    const GOOD: &str = r#"
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
    fn loads_a_good_catalog() {
        let c = Catalog::from_yaml(GOOD).expect("valid catalog");
        assert_eq!(c.categories().len(), 2);
        assert_eq!(c.milestones().len(), 3);
        assert_eq!(
            c.milestone("dental-checkup").map(|m| m.offset),
            Some(Offset::Gestation { days: 168 })
        );
        assert_eq!(
            c.milestone("fluoride").map(|m| m.offset),
            Some(Offset::Age {
                months: 14,
                days: 0
            })
        );
        assert_eq!(c.distinct_offsets(), 3);
        let m = c.milestone("dental-checkup").expect("exists");
        assert_eq!(m.text_for(true), "はいしゃさんの けんしん");
        assert_eq!(m.text_for(false), "妊婦歯科検診のご案内");
        assert_eq!(
            c.milestone("one-week").expect("exists").text_for(true),
            "1週間誕生日おめでとうございます"
        );
    }

    #[test]
    fn gestation_fires_when_age_in_days_matches() {
        // Due 2027-03-01: 24w0d is 280-168 = 112 days before.
        let off = Offset::Gestation { days: 168 };
        assert_eq!(off.fire_date(d("2027-03-01")), Some(d("2026-11-09")));
        let range = off.anchors_due_on(d("2026-11-09")).expect("range");
        assert_eq!(
            (range.first, range.last),
            (d("2027-03-01"), d("2027-03-01"))
        );
        let weeks_days = Offset::Gestation { days: 16 * 7 + 3 };
        assert_eq!(weeks_days.fire_date(d("2027-03-01")), Some(d("2026-09-17")));
    }

    #[test]
    fn age_offsets_add_months_then_days() {
        let off = Offset::Age { months: 1, days: 7 };
        // Jan 31 + 1 month = Feb 28, + 7 days = Mar 7.
        assert_eq!(off.fire_date(d("2027-01-31")), Some(d("2027-03-07")));
        let range = off.anchors_due_on(d("2027-03-07")).expect("range");
        assert_eq!(
            (range.first, range.last),
            (d("2027-01-28"), d("2027-01-31"))
        );
        assert_eq!(
            Offset::Age { months: 0, days: 7 }.fire_date(d("2027-02-25")),
            Some(d("2027-03-04"))
        );
    }

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

    #[test]
    fn labels_name_the_timing() {
        assert_eq!(Offset::Gestation { days: 168 }.label(), "妊娠24週0日");
        assert_eq!(Offset::Age { months: 0, days: 7 }.label(), "生後7日");
        assert_eq!(Offset::Age { months: 3, days: 0 }.label(), "生後3カ月");
        assert_eq!(
            Offset::Age {
                months: 14,
                days: 0
            }
            .label(),
            "1歳2カ月"
        );
        assert_eq!(
            Offset::Age {
                months: 36,
                days: 0
            }
            .label(),
            "3歳"
        );
    }

    fn problems(yaml: &str) -> Vec<String> {
        match Catalog::from_yaml(yaml) {
            Ok(_) => vec![],
            Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn months_with_due_date_are_rejected_naming_line_entry_and_field() {
        let bad = GOOD.replace("at: {weeks: 24}", "at: {months: 6}");
        let p = problems(&bad);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("line 8: milestones[0] (dental-checkup), field `at`:"),
            "{}",
            p[0]
        );
        assert!(p[0].contains("not allowed with anchor due_date"));
    }

    #[test]
    fn broken_catalogs_are_rejected_with_a_reason() {
        let cases: Vec<(String, &str)> = vec![
            (
                GOOD.replace("category: life", "category: lifestyle"),
                "`lifestyle` is not one of the categories",
            ),
            (
                GOOD.replace("id: one-week", "id: dental-checkup"),
                "`dental-checkup` is used twice",
            ),
            (
                GOOD.replace("at: {weeks: 1}", "at: {}"),
                "name at least one of",
            ),
            (
                GOOD.replace("at: {weeks: 24}", "at: {weeks: 44}"),
                "at most 42 weeks 6 days",
            ),
            (
                GOOD.replace("at: {years: 1, months: 2}", "at: {years: 19}"),
                "before the child's 19th birthday",
            ),
            (
                GOOD.replace("text: \"フッ化物塗布のご案内\"", "text: \"  \""),
                "field `text`: is empty",
            ),
            (
                GOOD.replace(
                    "text: \"フッ化物塗布のご案内\"",
                    &format!("text: \"{}\"", "あ".repeat(5001)),
                ),
                "LINE allows 5000",
            ),
            (
                GOOD.replace(
                    "label: 子育て情報",
                    "label: とてもとてもとてもながい子育て情報のラベル",
                ),
                "1–20 characters",
            ),
            (
                GOOD.replace("id: fluoride", "id: フッ素"),
                "use 1–64 letters",
            ),
        ];
        for (yaml, expected) in cases {
            let p = problems(&yaml);
            assert!(
                p.iter().any(|x| x.contains(expected)),
                "expected {expected:?} in {p:?}"
            );
        }
    }

    #[test]
    fn yaml_errors_name_the_line() {
        let p = problems(&GOOD.replace(
            "anchor: birth_date\n    at: {weeks: 1}",
            "anchor: birthday\n    at: {weeks: 1}",
        ));
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("line 13:"), "{}", p[0]);
        assert!(p[0].contains("unknown variant `birthday`"), "{}", p[0]);
        let p = problems(&GOOD.replace("easy_text:", "easytext:"));
        assert!(p[0].contains("unknown field `easytext`"), "{}", p[0]);
        assert!(p[0].starts_with("line 11:"), "{}", p[0]);
        let p = problems(&GOOD.replace("at: {weeks: 1}", "at: {weeks: -1}"));
        assert!(p[0].contains("line 14"), "{}", p[0]);
        let p = problems("milestones: [");
        assert_eq!(p.len(), 1);
        let p = problems("categories: []\nmilestones: []\n");
        assert!(p[0].contains("no milestones"), "{p:?}");
    }
}
