//! What is wrong with a catalog and where, said so staff can find it in their editor:
//! `line 8: milestones[0] (dental-checkup), field `at`: …`. Lines and columns come from the
//! YAML parser's spans; entry and field from where in the catalog's shape the problem sits.

use std::fmt;

use serde_path_to_error::{Path, Segment};
use serde_saphyr::{Location, MessageFormatter, UserMessageFormatter};

/// One thing wrong with a catalog, said so staff can find and fix it.
pub type CatalogProblem = crate::staff_file::FileProblem;

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

impl CatalogError {
    pub(super) fn one(problem: CatalogProblem) -> Self {
        CatalogError {
            problems: vec![problem],
        }
    }
}

/// The 1-based line of a parsed node; `None` where the parser knows none (line 0).
pub(crate) fn line_of(location: Location) -> Option<usize> {
    usize::try_from(location.line()).ok().filter(|l| *l > 0)
}

/// Names a list entry the way every message does: `milestones[3] (dental-checkup)`.
pub(crate) fn entry_name(section: &str, index: usize, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("{section}[{index}] ({id})"),
        None => format!("{section}[{index}]"),
    }
}

/// An entry of a file the parser refused, as a lenient second reading found it.
pub(crate) struct EntryAt {
    pub id: Option<String>,
    /// Where the entry starts.
    pub location: Location,
}

/// Parser limits for a staff YAML file, far above any real one, that stop a file built to
/// exhaust memory or time (a "billion laughs" of nested aliases, one long text repeated
/// through aliases) before it is expanded. A repeated key is refused, never an override.
pub(crate) fn yaml_options(
    max_events: usize,
    max_nodes: usize,
    max_total_scalar_bytes: usize,
) -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.budget = serde_saphyr::budget! {
        max_events: max_events,
        max_nodes: max_nodes,
        max_depth: 16,
        max_anchors: 200,
        max_aliases: 200,
        max_merge_keys: 200,
        max_recorded_anchor_events: 20_000,
        max_total_scalar_bytes: max_total_scalar_bytes,
    };
    options.alias_limits = serde_saphyr::alias_limits! {
        max_total_replayed_events: 20_000,
        max_replay_stack_depth: 8,
        max_alias_expansions_per_anchor: 200,
    };
    // Which `at:` (or `capacity:`) was meant? A repeated key is a mistake.
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    // Messages are built from the location; the snippet would only be thrown away.
    options.with_snippet = false;
    options
}

/// A staff YAML file in its shape, or the first problem with it, named as
/// [`from_yaml_error`] names it.
pub(crate) fn parse_yaml<T: for<'de> serde::Deserialize<'de>>(
    what: &str,
    source: &str,
    options: serde_saphyr::Options,
    entry_at: impl Fn(&str, usize) -> Option<EntryAt>,
) -> Result<T, CatalogProblem> {
    let mut path = None;
    serde_saphyr::with_deserializer_from_str_with_options(source, options, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            path = Some(e.path().clone());
            e.into_inner()
        })
    })
    .map_err(|e| from_yaml_error(what, source, &e, path.as_ref(), entry_at))
}

/// A file the parser refused (broken YAML, a wrong type, an unknown or duplicate key, a
/// document over the size limits), named by line, column, entry and field.
///
/// `path` is where in the file's shape the parser was; `entry_at` finds an entry's id
/// (for its name) and start, when the rest of the file can still be read. `what` names the
/// kind of file in a message on the size limits (`a catalog`).
pub(crate) fn from_yaml_error(
    what: &str,
    source: &str,
    error: &serde_saphyr::Error,
    path: Option<&Path>,
    entry_at: impl Fn(&str, usize) -> Option<EntryAt>,
) -> CatalogProblem {
    use serde_saphyr::Error as E;
    // The use site of an alias is where staff look; the cause is the aliased error.
    let mut location = error.location();
    let mut cause = error.without_snippet();
    while let E::AliasError { error, .. } | E::WithSnippet { error, .. } = cause {
        cause = error;
    }
    let (entry, mut field, entry_location) = match path {
        Some(path) => entry_and_field(path, entry_at),
        None => Default::default(),
    };
    let mut message = match cause {
        E::Budget { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => format!(
            "the file is larger than {what} can be, or repeats anchors (&name / *name) too \
             often ({})",
            UserMessageFormatter.format_message(cause)
        ),
        // Every number in a catalog is a `u32` (the parts of `at:`), and so is every
        // number of a reservations file.
        E::InvalidScalar { ty: "u32", .. } => {
            let written = location
                .and_then(|l| written_at(source, l))
                .map(|w| {
                    format!(
                        ", not `{}`",
                        w.split_whitespace().collect::<Vec<_>>().join(" ")
                    )
                })
                .unwrap_or_default();
            format!("must be a whole number, 0 or more{written}")
        }
        E::DuplicateMappingKey { key: Some(key), .. } => {
            // The path ends at the mapping that holds the key twice.
            field = join(&field, key);
            format!("`{key}` is written twice; keep one")
        }
        E::SerdeMissingField { field: missing, .. } => {
            // The path ends at the entry that lacks it; the parser stands at its end.
            field = join(&field, missing);
            location = entry_location
                .filter(|l| line_of(*l).is_some())
                .or(location);
            format!("missing field `{missing}`")
        }
        _ => UserMessageFormatter.format_message(cause).into_owned(),
    };
    message = plain(&message);
    if let Some(column) = location
        .and_then(|l| usize::try_from(l.column()).ok())
        .filter(|c| *c > 0)
    {
        message.push_str(&format!(" (column {column})"));
    }
    CatalogProblem {
        file: None,
        line: location.and_then(line_of),
        entry,
        field,
        message,
    }
}

/// The source text a location spans (a scalar the parser could not read as a number).
fn written_at(source: &str, location: Location) -> Option<&str> {
    let span = location.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    source
        .get(start..start.checked_add(len)?)
        .filter(|t| !t.is_empty())
}

fn join(field: &str, key: &str) -> String {
    if field.is_empty() {
        key.to_string()
    } else {
        format!("{field}.{key}")
    }
}

/// `milestones[1].at.weeks` → (`milestones[1] (one-week)`, `at.weeks`, where the entry
/// starts); a top-level key is a field of the file itself.
fn entry_and_field(
    path: &Path,
    entry_at: impl Fn(&str, usize) -> Option<EntryAt>,
) -> (String, String, Option<Location>) {
    // `Spanned` values (which carry the locations for later checks) add a `value` step the
    // staff never wrote; no catalog field is called `value`.
    let segments: Vec<&Segment> = path
        .iter()
        .filter(|s| !matches!(s, Segment::Map { key } if key == "value"))
        .collect();
    match segments.as_slice() {
        [
            Segment::Map { key: section },
            Segment::Seq { index },
            rest @ ..,
        ] => {
            let found = entry_at(section, *index);
            let id = found.as_ref().and_then(|e| e.id.as_deref());
            (
                entry_name(section, *index, id),
                field_path(rest),
                found.map(|e| e.location),
            )
        }
        // A steps file is a list at its top level; its entries are steps.
        [Segment::Seq { index }, rest @ ..] => {
            let found = entry_at(STEPS, *index);
            let id = found.as_ref().and_then(|e| e.id.as_deref());
            (
                entry_name(STEPS, *index, id),
                field_path(rest),
                found.map(|e| e.location),
            )
        }
        rest => (String::new(), field_path(rest), None),
    }
}

/// How the entries of a steps file are named: `steps[3] (妊娠5週0日)`.
pub(super) const STEPS: &str = "steps";

fn field_path(segments: &[&Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            // `who: {child: {from: …}}`: the variant is a key staff wrote.
            Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(variant);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// Parser messages quote the staff's text; a control character in it must not reach the
/// terminal as one.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_reads_line_entry_field_message() {
        let p = CatalogProblem {
            file: None,
            line: Some(8),
            entry: "milestones[0] (dental-checkup)".into(),
            field: "at".into(),
            message: "is wrong".into(),
        };
        assert_eq!(
            p.to_string(),
            "line 8: milestones[0] (dental-checkup), field `at`: is wrong"
        );
        let file_level = CatalogProblem {
            file: None,
            line: None,
            entry: String::new(),
            field: "milestones".into(),
            message: "the catalog has no milestones".into(),
        };
        assert_eq!(
            file_level.to_string(),
            "field `milestones`: the catalog has no milestones"
        );
        let e = CatalogError {
            problems: vec![p, file_level],
        };
        assert!(
            e.to_string()
                .starts_with("the catalog has 2 problems:\n  - line 8:")
        );
        let in_steps_file = CatalogProblem {
            file: Some("pregnancy-weekly.yaml".into()),
            line: Some(3),
            entry: "steps[0] (妊娠4週0日)".into(),
            field: "text".into(),
            message: "is empty".into(),
        };
        assert_eq!(
            in_steps_file.to_string(),
            "pregnancy-weekly.yaml line 3: steps[0] (妊娠4週0日), field `text`: is empty"
        );
    }

    #[test]
    fn control_characters_in_quoted_text_are_neutralised() {
        assert_eq!(
            plain("unknown variant `a\u{1b}[2Jb`"),
            "unknown variant `a [2Jb`"
        );
    }
}
