//! Reading the staff's YAML (DESIGN.md §4) into a [`Catalog`], or every problem with it.
//!
//! Two passes: the parser checks the shape (YAML syntax, types, unknown and duplicate keys,
//! size limits) and stops at the first problem; then the rules a valid shape can still break
//! (ids, categories, text lengths, offsets) are all checked, so staff fix them in one go.

use std::collections::HashSet;

use serde::Deserialize;
use serde_saphyr::{Options, Spanned};

use super::offset::{At, Offset};
use super::problem::{self, CatalogError, CatalogProblem, EntryAt, entry_name, line_of};
use super::{Catalog, Category, Milestone};
use crate::domain::AnchorKind;
use crate::line::limits;

/// Limits far above any real catalog that stop a file built to exhaust memory or time (a
/// "billion laughs" of nested aliases, or one long text repeated through aliases) before it
/// is expanded. The example catalog has 681 parser events, depth 4 and 18 KB of text; a
/// published catalog is one DynamoDB item, at most 400 KB.
fn parser_options() -> Options {
    let mut options = Options::default();
    options.budget = serde_saphyr::budget! {
        max_events: 100_000,
        max_nodes: 50_000,
        max_depth: 16,
        max_anchors: 200,
        max_aliases: 200,
        max_merge_keys: 200,
        max_recorded_anchor_events: 20_000,
        max_total_scalar_bytes: 1024 * 1024,
    };
    options.alias_limits = serde_saphyr::alias_limits! {
        max_total_replayed_events: 20_000,
        max_replay_stack_depth: 8,
        max_alias_expansions_per_anchor: 200,
    };
    // A repeated key is a mistake in a catalog (which `at:` was meant?), never an override.
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    // Messages are built from the location; the snippet would only be thrown away.
    options.with_snippet = false;
    options
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    categories: Vec<Spanned<CategoryFile>>,
    milestones: Vec<Spanned<MilestoneFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    id: Spanned<String>,
    label: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MilestoneFile {
    id: Spanned<String>,
    anchor: AnchorKind,
    at: Spanned<At>,
    category: Spanned<String>,
    text: Spanned<String>,
    #[serde(default)]
    easy_text: Option<Spanned<String>>,
}

/// Just the entries' ids and places, read leniently to name the entry a parser error is in.
#[derive(Deserialize)]
struct EntryIds {
    #[serde(default)]
    categories: Vec<Spanned<EntryId>>,
    #[serde(default)]
    milestones: Vec<Spanned<EntryId>>,
}

#[derive(Deserialize)]
struct EntryId {
    id: Option<String>,
}

fn entry_at(source: &str, section: &str, index: usize) -> Option<EntryAt> {
    let mut options = parser_options();
    // The error being named may be this very duplicate; the id is still worth finding.
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::FirstWins;
    let ids: EntryIds = serde_saphyr::from_str_with_options(source, options).ok()?;
    let entries = match section {
        "categories" => ids.categories,
        "milestones" => ids.milestones,
        _ => return None,
    };
    let entry = entries.into_iter().nth(index)?;
    Some(EntryAt {
        id: entry.value.id,
        location: entry.referenced,
    })
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn parse(source: &str) -> Result<CatalogFile, CatalogError> {
    let mut path = None;
    serde_saphyr::with_deserializer_from_str_with_options(source, parser_options(), |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            path = Some(e.path().clone());
            e.into_inner()
        })
    })
    .map_err(|e| {
        CatalogError::one(problem::from_yaml_error(
            source,
            &e,
            path.as_ref(),
            |section, i| entry_at(source, section, i),
        ))
    })
}

impl Catalog {
    /// The catalog in `source`, or every problem found in it.
    pub fn from_yaml(source: &str) -> Result<Catalog, CatalogError> {
        let file = parse(source)?;
        let mut problems = Vec::new();
        let mut problem = |at: Option<usize>, entry: &str, field: &str, message: String| {
            problems.push(CatalogProblem {
                line: at,
                entry: entry.to_string(),
                field: field.to_string(),
                message,
            })
        };

        let mut category_ids = HashSet::new();
        let mut categories = Vec::new();
        for (i, c) in file.categories.iter().enumerate() {
            let entry = entry_name("categories", i, Some(&c.value.id.value));
            let (id, label) = (&c.value.id, &c.value.label);
            if !valid_id(&id.value) {
                problem(
                    line_of(id.referenced),
                    &entry,
                    "id",
                    "use 1–64 letters, digits, '-' or '_'".into(),
                );
            } else if !category_ids.insert(id.value.as_str()) {
                problem(
                    line_of(id.referenced),
                    &entry,
                    "id",
                    format!("`{}` is used twice", id.value),
                );
            }
            let label_chars = label.value.trim().chars().count();
            if label_chars == 0 || label_chars > limits::MAX_ACTION_LABEL_CHARS {
                problem(
                    line_of(label.referenced),
                    &entry,
                    "label",
                    format!(
                        "must be 1–{} characters (it becomes a LINE button), not {label_chars}",
                        limits::MAX_ACTION_LABEL_CHARS
                    ),
                );
            }
            categories.push(Category {
                id: id.value.clone(),
                label: label.value.trim().to_string(),
                easy_label: None,
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
            let m = &m.value;
            let entry = entry_name("milestones", i, Some(&m.id.value));
            if !valid_id(&m.id.value) {
                problem(
                    line_of(m.id.referenced),
                    &entry,
                    "id",
                    "use 1–64 letters, digits, '-' or '_'".into(),
                );
            } else if !milestone_ids.insert(m.id.value.as_str()) {
                problem(
                    line_of(m.id.referenced),
                    &entry,
                    "id",
                    format!("`{}` is used twice", m.id.value),
                );
            }
            if !category_ids.contains(m.category.value.as_str()) {
                problem(
                    line_of(m.category.referenced),
                    &entry,
                    "category",
                    format!("`{}` is not one of the categories", m.category.value),
                );
            }
            for (field, text) in [("text", Some(&m.text)), ("easy_text", m.easy_text.as_ref())] {
                let Some(text) = text else { continue };
                let units = text.value.encode_utf16().count();
                if text.value.trim().is_empty() {
                    problem(line_of(text.referenced), &entry, field, "is empty".into());
                } else if units > limits::MAX_TEXT_UTF16_UNITS {
                    problem(
                        line_of(text.referenced),
                        &entry,
                        field,
                        format!(
                            "is {units} UTF-16 units long; LINE allows {}",
                            limits::MAX_TEXT_UTF16_UNITS
                        ),
                    );
                }
            }
            match Offset::from_at(m.anchor, m.at.value) {
                Ok(offset) => milestones.push(Milestone {
                    id: m.id.value.clone(),
                    offset,
                    category: m.category.value.clone(),
                    audience: crate::domain::Audience::default(),
                    text: m.text.value.clone(),
                    easy_text: m
                        .easy_text
                        .as_ref()
                        .map(|t| t.value.clone())
                        .filter(|t| !t.trim().is_empty()),
                }),
                Err(message) => problem(line_of(m.at.referenced), &entry, "at", message),
            }
        }

        if problems.is_empty() {
            Ok(Catalog {
                categories,
                questions: super::Questions::default(),
                milestones,
                series: Vec::new(),
            })
        } else {
            Err(CatalogError { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::catalog::tests::GOOD;

    fn problems(yaml: &str) -> Vec<String> {
        match Catalog::from_yaml(yaml) {
            Ok(_) => vec![],
            Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
        }
    }

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

    /// The one problem a file has, as staff read it.
    fn only_problem(yaml: &str) -> String {
        let p = problems(yaml);
        assert_eq!(p.len(), 1, "{p:?}");
        p.into_iter().next().unwrap_or_default()
    }

    #[test]
    fn yaml_errors_name_line_entry_field_and_column() {
        assert_eq!(
            only_problem(&GOOD.replace(
                "anchor: birth_date\n    at: {weeks: 1}",
                "anchor: birthday\n    at: {weeks: 1}",
            )),
            "line 13: milestones[1] (one-week), field `anchor`: unknown variant `birthday`, \
             expected one of due_date, birth_date (column 13)"
        );
        assert!(
            only_problem(&GOOD.replace("easy_text:", "easytext:")).starts_with(
                "line 11: milestones[0] (dental-checkup), field `easytext`: unknown field `easytext`"
            )
        );
        assert!(
            only_problem(&GOOD.replace("categories:", "categorys:"))
                .starts_with("line 2: field `categorys`: unknown field `categorys`")
        );
        assert_eq!(
            only_problem("milestones: ["),
            "line 1: field `milestones`: unclosed bracket '[' (column 13)"
        );
        assert!(only_problem("").contains("unexpected end of file"));
        assert!(
            only_problem("categories: []\nmilestones: []\n---\ncategories: []\n")
                .contains("only single YAML document expected")
        );
        assert!(problems("categories: []\nmilestones: []\n")[0].contains("no milestones"));
    }

    #[test]
    fn wrong_types_say_what_was_written_and_what_is_wanted() {
        for (written, expected) in [
            (
                "{weeks: -1}",
                "field `at.weeks`: must be a whole number, 0 or more, not `-1`",
            ),
            (
                "{weeks: 1.5}",
                "field `at.weeks`: must be a whole number, 0 or more, not `1.5`",
            ),
            (
                "{weeks: many}",
                "field `at.weeks`: must be a whole number, 0 or more, not `many`",
            ),
            ("{weeks: 99999999999}", "not `99999999999`"),
            ("7", "field `at`: expected mapping"),
        ] {
            let p = only_problem(&GOOD.replace("at: {weeks: 1}", &format!("at: {written}")));
            assert!(p.starts_with("line 14: milestones[1] (one-week), "), "{p}");
            assert!(p.contains(expected), "{written}: {p}");
        }
        let p = only_problem(&GOOD.replace(
            "text: \"フッ化物塗布のご案内\"",
            "text: [\"フッ化物塗布のご案内\"]",
        ));
        assert!(
            p.starts_with("line 21: milestones[2] (fluoride), field `text`: expected string"),
            "{p}"
        );
    }

    #[test]
    fn a_missing_field_is_named_as_the_field() {
        let p = only_problem(&GOOD.replace("    category: life\n", ""));
        assert!(
            p.starts_with(
                "line 12: milestones[1] (one-week), field `category`: missing field `category` \
                 (column 5)"
            ),
            "{p}"
        );
    }

    #[test]
    fn duplicate_keys_are_refused_wherever_they_are() {
        assert_eq!(
            only_problem(&GOOD.replace(
                "    category: life\n",
                "    category: life\n    category: health\n"
            )),
            "line 16: milestones[1] (one-week), field `category`: `category` is written twice; \
             keep one (column 5)"
        );
        assert!(
            only_problem(&GOOD.replace("at: {weeks: 1}", "at: {weeks: 1, weeks: 2}")).starts_with(
                "line 14: milestones[1] (one-week), field `at.weeks`: `weeks` is written twice"
            )
        );
        assert!(
            only_problem(&format!("{GOOD}categories: []\n"))
                .starts_with("line 22: field `categories`: `categories` is written twice")
        );
        assert!(
            only_problem(&GOOD.replace(
                "{id: life, label: 子育て情報}",
                "{id: life, label: 子育て情報, label: 育児}"
            ))
            .starts_with("line 4: categories[1] (life), field `label`: `label` is written twice")
        );
    }

    /// Ten levels of nine aliases each: a billion `lol`s if anything expanded them.
    fn billion_laughs(indent: &str) -> String {
        (0..10)
            .map(|level| {
                let items = if level == 0 {
                    vec!["lol".to_string(); 9]
                } else {
                    vec![format!("*lol{}", level - 1); 9]
                };
                format!("{indent}l{level}: &lol{level} [{}]\n", items.join(", "))
            })
            .collect()
    }

    #[test]
    fn a_billion_laughs_is_refused_at_once() {
        let started = std::time::Instant::now();
        // Inside an entry, where naming the entry reads the file a second time and skips
        // unknown keys: the alias limits must stop that pass too.
        let p = only_problem(&GOOD.replace(
            "    category: life\n",
            &format!("    category: life\n{}", billion_laughs("    ")),
        ));
        assert!(
            p.starts_with("line 16: milestones[1], field `l0`: unknown field `l0`"),
            "{p}"
        );
        let p = only_problem(&format!("{}{}", billion_laughs(""), GOOD.trim_start()));
        assert!(p.contains("unknown field `l0`"), "{p}");
        // Unbounded expansion takes minutes and gigabytes; refusal takes milliseconds.
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn a_text_repeated_through_aliases_is_refused_at_the_size_limit() {
        // Each alias is small, but expands to the whole entry with its 12 KB text.
        let mut yaml = format!(
            "categories:\n  - {{id: a, label: b}}\nmilestones:\n  - &m {{id: x, anchor: due_date, \
             at: {{weeks: 1}}, category: a, text: \"{}\"}}\n",
            "あ".repeat(4000)
        );
        for _ in 0..150 {
            yaml.push_str("  - *m\n");
        }
        let p = only_problem(&yaml);
        assert!(
            p.contains("the file is larger than a catalog can be, or repeats anchors"),
            "{p}"
        );
        assert!(p.starts_with("line 91: milestones[87]"), "{p}");
    }

    #[test]
    fn anchors_and_aliases_within_the_limits_load() {
        let yaml = GOOD
            .replace(
                "text: \"フッ化物塗布のご案内\"",
                "text: &fluoride \"フッ化物塗布のご案内\"\n    easy_text: *fluoride",
            )
            .replace("at: {weeks: 1}", "at: &week {weeks: 1}");
        let c = Catalog::from_yaml(&yaml).expect("valid");
        let m = c.milestone("fluoride").expect("exists");
        assert_eq!(m.easy_text.as_deref(), Some("フッ化物塗布のご案内"));
    }

    #[test]
    fn rule_problems_point_at_the_line_of_the_value() {
        let yaml = GOOD
            .replace("category: life", "category: lifestyle")
            .replace("label: 子育て情報", "label: \" \"")
            .replace("id: fluoride", "id: dental-checkup")
            .replace(
                "text: \"フッ化物塗布のご案内\"",
                &format!(
                    "text: |-\n      {}\n    easy_text: \"  \"",
                    "あ".repeat(5001)
                ),
            );
        assert_eq!(
            problems(&yaml),
            vec![
                "line 4: categories[1] (life), field `label`: must be 1–20 characters \
                 (it becomes a LINE button), not 0",
                "line 15: milestones[1] (one-week), field `category`: `lifestyle` is not one of \
                 the categories",
                "line 17: milestones[2] (dental-checkup), field `id`: `dental-checkup` is used twice",
                // A block text (`|-`) is found by its first line.
                "line 22: milestones[2] (dental-checkup), field `text`: is 5001 UTF-16 units long; \
                 LINE allows 5000",
                "line 23: milestones[2] (dental-checkup), field `easy_text`: is empty",
            ]
        );
    }
}
