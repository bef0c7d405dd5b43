//! The shape of the staff's files, as the parser reads them: the catalog (categories, the
//! 受信設定 questions, milestones, series) and a steps file (a list of steps). The parser
//! checks types, unknown and duplicate keys and the size limits, and stops at the first
//! problem, named by line, column, entry and field.

use serde::Deserialize;
use serde_saphyr::{Options, Spanned};

use super::super::offset::At;
use super::super::problem::{self, CatalogError, EntryAt, STEPS};
use crate::domain::AnchorKind;

/// Limits far above any real catalog that stop a file built to exhaust memory or time (a
/// "billion laughs" of nested aliases, or one long text repeated through aliases) before it
/// is expanded. The example catalog is a 40 KB file of depth 5, far inside them.
fn parser_options() -> Options {
    options_with(1024 * 1024)
}

/// A steps file holds a whole programme's texts: a daily one over a pregnancy is about 270
/// steps of a few hundred characters in two versions, up to about 1 MB of UTF-8.
fn steps_parser_options() -> Options {
    options_with(4 * 1024 * 1024)
}

fn options_with(max_total_scalar_bytes: usize) -> Options {
    problem::yaml_options(100_000, 50_000, max_total_scalar_bytes)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CatalogFile {
    pub categories: Vec<Spanned<CategoryFile>>,
    #[serde(default)]
    pub settings: Option<SettingsFile>,
    #[serde(default)]
    pub milestones: Vec<Spanned<MilestoneFile>>,
    #[serde(default)]
    pub series: Vec<Spanned<SeriesFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CategoryFile {
    pub id: Spanned<String>,
    pub label: Spanned<String>,
    #[serde(default)]
    pub easy_label: Option<Spanned<String>>,
}

/// `settings:`: the 受信設定 questions besides the categories and the language; each optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct SettingsFile {
    #[serde(default)]
    pub district: Option<Spanned<QuestionFile>>,
    #[serde(default)]
    pub household: Option<Spanned<QuestionFile>>,
    #[serde(default)]
    pub nursery: Option<Spanned<QuestionFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QuestionFile {
    pub label: Spanned<String>,
    #[serde(default)]
    pub easy_label: Option<Spanned<String>>,
    pub choices: Spanned<Vec<Spanned<ChoiceFile>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChoiceFile {
    pub id: Spanned<String>,
    pub label: Spanned<String>,
    #[serde(default)]
    pub easy_label: Option<Spanned<String>>,
}

/// `audience:` of a milestone or series: choice ids of each question; each list optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AudienceFile {
    #[serde(default)]
    pub districts: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub household: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub nursery: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MilestoneFile {
    pub id: Spanned<String>,
    pub anchor: AnchorKind,
    pub at: Spanned<At>,
    pub category: Spanned<String>,
    #[serde(default)]
    pub audience: Option<Spanned<AudienceFile>>,
    pub text: Spanned<String>,
    #[serde(default)]
    pub easy_text: Option<Spanned<String>>,
    /// A reservations service id: the notice then carries 予約する for it.
    #[serde(default)]
    pub service: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SeriesFile {
    pub id: Spanned<String>,
    pub anchor: AnchorKind,
    pub from: Spanned<At>,
    pub to: Spanned<At>,
    pub every: Spanned<At>,
    pub category: Spanned<String>,
    #[serde(default)]
    pub audience: Option<Spanned<AudienceFile>>,
    /// The texts: exactly one of a steps file, steps written here, or one template.
    #[serde(default)]
    pub steps_file: Option<Spanned<String>>,
    #[serde(default)]
    pub steps: Option<Spanned<Vec<Spanned<StepFile>>>>,
    #[serde(default)]
    pub text: Option<Spanned<String>>,
    #[serde(default)]
    pub easy_text: Option<Spanned<String>>,
}

/// One step of a series, inline or in a steps file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StepFile {
    pub at: Spanned<At>,
    pub text: Spanned<String>,
    #[serde(default)]
    pub easy_text: Option<Spanned<String>>,
}

/// Just the entries' ids and places, read leniently to name the entry a parser error is in.
#[derive(Deserialize)]
struct EntryIds {
    #[serde(default)]
    categories: Vec<Spanned<EntryId>>,
    #[serde(default)]
    milestones: Vec<Spanned<EntryId>>,
    #[serde(default)]
    series: Vec<Spanned<EntryId>>,
}

#[derive(Deserialize)]
struct EntryId {
    id: Option<String>,
}

/// A step's `at`, read leniently to name the step a parser error is in.
#[derive(Deserialize)]
struct StepAt {
    at: Option<At>,
}

fn lenient(mut options: Options) -> Options {
    // The error being named may be this very duplicate; the id is still worth finding.
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::FirstWins;
    options
}

fn entry_at(source: &str, section: &str, index: usize) -> Option<EntryAt> {
    let ids: EntryIds =
        serde_saphyr::from_str_with_options(source, lenient(parser_options())).ok()?;
    let entries = match section {
        "categories" => ids.categories,
        "milestones" => ids.milestones,
        "series" => ids.series,
        _ => return None,
    };
    let entry = entries.into_iter().nth(index)?;
    Some(EntryAt {
        id: entry.value.id,
        location: entry.referenced,
    })
}

fn step_at(source: &str, anchor: AnchorKind, section: &str, index: usize) -> Option<EntryAt> {
    if section != STEPS {
        return None;
    }
    let steps: Vec<Spanned<StepAt>> =
        serde_saphyr::from_str_with_options(source, lenient(steps_parser_options())).ok()?;
    let step = steps.into_iter().nth(index)?;
    Some(EntryAt {
        id: step
            .value
            .at
            .and_then(|at| at.day_number().ok())
            .map(|n| crate::catalog::day_label(anchor, n)),
        location: step.referenced,
    })
}

fn parse_with<T: for<'de> Deserialize<'de>>(
    source: &str,
    options: Options,
    entry_at: impl Fn(&str, usize) -> Option<EntryAt>,
) -> Result<T, CatalogError> {
    problem::parse_yaml("a catalog", source, options, entry_at).map_err(CatalogError::one)
}

/// The catalog's shape, or the first problem with it.
pub(super) fn parse_catalog(source: &str) -> Result<CatalogFile, CatalogError> {
    parse_with(source, parser_options(), |section, i| {
        entry_at(source, section, i)
    })
}

/// A steps file's shape (a list of steps) for a series counting from `anchor`, or the first
/// problem with it, named in the file `name`.
pub(super) fn parse_steps(
    name: &str,
    source: &str,
    anchor: AnchorKind,
) -> Result<Vec<Spanned<StepFile>>, CatalogError> {
    parse_with(source, steps_parser_options(), |section, i| {
        step_at(source, anchor, section, i)
    })
    .map_err(|mut e| {
        for p in &mut e.problems {
            p.file = Some(name.to_string());
        }
        e
    })
}
