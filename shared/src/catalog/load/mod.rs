//! Reading the staff's YAML (DESIGN.md §4) — the catalog and the steps files its series
//! name — into a [`Catalog`], or every problem with it.
//!
//! Two passes: the parser checks the shape (YAML syntax, types, unknown and duplicate keys,
//! size limits) and stops at the first problem; then the rules a valid shape can still break
//! (ids, categories, choices, audiences, text lengths and placeholders, offsets, series
//! spans and steps) are all checked, so staff fix them in one go.
//!
//! Nothing here touches the filesystem: the files a catalog names come through a reader the
//! caller passes (the CLI reads them beside the catalog; a published catalog carries them in
//! its [`CatalogSource`]).

mod rules;
mod series;
mod shape;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};

use super::offset::Offset;
use super::problem::{CatalogError, CatalogProblem, entry_name, line_of};
use super::{Catalog, CatalogSource, Category, MAX_CATEGORIES, Milestone, Questions};

/// Every problem found so far.
#[derive(Default)]
pub(super) struct Problems(Vec<CatalogProblem>);

impl Problems {
    pub fn add(
        &mut self,
        place: &Place<'_>,
        line: Option<usize>,
        field: &str,
        message: impl Into<String>,
    ) {
        self.0.push(CatalogProblem {
            file: place.file.map(str::to_string),
            line,
            entry: place.entry.clone(),
            field: field.to_string(),
            message: message.into(),
        });
    }

    pub fn extend(&mut self, problems: Vec<CatalogProblem>) {
        self.0.extend(problems);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Where a problem is: the file (`None`: the catalog itself) and the entry in it.
#[derive(Clone)]
pub(super) struct Place<'a> {
    pub file: Option<&'a str>,
    pub entry: String,
}

impl Place<'static> {
    pub fn catalog(entry: impl Into<String>) -> Place<'static> {
        Place {
            file: None,
            entry: entry.into(),
        }
    }
}

/// The files a catalog names, read once each through the caller's reader.
pub(super) struct Files<'r> {
    read: &'r mut dyn FnMut(&str) -> Result<String, String>,
    got: BTreeMap<String, Result<String, String>>,
}

impl Files<'_> {
    pub fn get(&mut self, name: &str) -> Result<String, String> {
        if let Some(got) = self.got.get(name) {
            return got.clone();
        }
        let got = (self.read)(name);
        self.got.insert(name.to_string(), got.clone());
        got
    }
}

/// What a catalog without its files says about a steps file it names.
const NOT_GIVEN: &str = "it is not among the files given with the catalog (`sukusuku catalog \
                         check FILE` reads the files beside the catalog)";

impl Catalog {
    /// A catalog that names no files (no `steps_file`), or every problem found in it.
    pub fn from_yaml(source: &str) -> Result<Catalog, CatalogError> {
        Catalog::load_with_files(source, |_| Err(NOT_GIVEN.to_string())).map(|(c, _)| c)
    }

    /// A catalog with its files, as checked and published, or every problem found in it.
    pub fn from_source(source: &CatalogSource) -> Result<Catalog, CatalogError> {
        Catalog::load_with_files(&source.main, |name| {
            source
                .files
                .get(name)
                .cloned()
                .ok_or_else(|| NOT_GIVEN.to_string())
        })
        .map(|(c, _)| c)
    }

    /// The catalog in `main`, reading each file it names through `read` (given the name as
    /// written, once it is known to stay beside the catalog; its error is said to staff),
    /// with the bundle of exactly what was read: what `catalog publish` stores.
    pub fn load_with_files(
        main: &str,
        mut read: impl FnMut(&str) -> Result<String, String>,
    ) -> Result<(Catalog, CatalogSource), CatalogError> {
        let mut files = Files {
            read: &mut read,
            got: BTreeMap::new(),
        };
        let catalog = build(main, &mut files)?;
        let source = CatalogSource {
            main: main.to_string(),
            files: files
                .got
                .into_iter()
                .filter_map(|(name, got)| got.ok().map(|text| (name, text)))
                .collect(),
        };
        Ok((catalog, source))
    }
}

fn build(main: &str, files: &mut Files<'_>) -> Result<Catalog, CatalogError> {
    let file = shape::parse_catalog(main)?;
    let mut p = Problems::default();

    if file.categories.len() > MAX_CATEGORIES {
        p.add(
            &Place::catalog(""),
            file.categories
                .get(MAX_CATEGORIES)
                .and_then(|c| line_of(c.referenced)),
            "categories",
            format!(
                "lists {} categories; at most {MAX_CATEGORIES} fit the chat's 受信設定",
                file.categories.len()
            ),
        );
    }
    let mut category_seen = HashMap::new();
    let mut categories = Vec::new();
    for (i, c) in file.categories.iter().enumerate() {
        let c = &c.value;
        let place = Place::catalog(entry_name("categories", i, Some(&c.id.value)));
        rules::check_id(&mut p, &place, &c.id, "category", &mut category_seen);
        let label = rules::check_label(&mut p, &place, "label", &c.label);
        let easy_label = rules::check_easy_label(&mut p, &place, c.easy_label.as_ref());
        categories.push(Category {
            id: c.id.value.clone(),
            label,
            easy_label,
        });
    }
    let category_ids: HashSet<&str> = categories.iter().map(|c| c.id.as_str()).collect();

    let settings = file.settings.unwrap_or_default();
    let questions = Questions {
        district: rules::question(&mut p, "district", settings.district.as_ref()),
        household: rules::question(&mut p, "household", settings.household.as_ref()),
        nursery: rules::question(&mut p, "nursery", settings.nursery.as_ref()),
    };

    if file.milestones.is_empty() && file.series.is_empty() {
        p.add(
            &Place::catalog(""),
            None,
            "milestones",
            "the catalog has no milestones and no series",
        );
    }
    // Milestones and series share one namespace: deliveries are recorded by id.
    let mut ids = HashMap::new();
    let mut milestones = Vec::new();
    for (i, m) in file.milestones.iter().enumerate() {
        let m = &m.value;
        let place = Place::catalog(entry_name("milestones", i, Some(&m.id.value)));
        rules::check_id(&mut p, &place, &m.id, "milestone", &mut ids);
        if !category_ids.contains(m.category.value.as_str()) {
            p.add(
                &place,
                line_of(m.category.referenced),
                "category",
                format!("`{}` is not one of the categories", m.category.value),
            );
        }
        let audience = rules::audience(&mut p, &place, m.audience.as_ref(), &questions);
        rules::check_text(&mut p, &place, "text", &m.text, m.anchor);
        if let Some(easy) = &m.easy_text {
            rules::check_text(&mut p, &place, "easy_text", easy, m.anchor);
        }
        let service = m.service.as_ref().and_then(|id| {
            let parsed = crate::reservations::ServiceId::parse(&id.value);
            if parsed.is_none() {
                p.add(
                    &place,
                    line_of(id.referenced),
                    "service",
                    format!(
                        "`{}` is not a service id (letters, digits, - and _, at most 32, as in the reservations file)",
                        id.value
                    ),
                );
            }
            parsed
        });
        match Offset::from_at(m.anchor, m.at.value) {
            Ok(offset) => milestones.push(Milestone {
                service,
                id: m.id.value.clone(),
                offset,
                category: m.category.value.clone(),
                audience,
                text: m.text.value.clone(),
                easy_text: m
                    .easy_text
                    .as_ref()
                    .map(|t| t.value.clone())
                    .filter(|t| !t.trim().is_empty()),
            }),
            Err(message) => p.add(&place, line_of(m.at.referenced), "at", message),
        }
    }

    let mut all_series = Vec::new();
    for (i, s) in file.series.iter().enumerate() {
        if let Some(s) = series::series(&mut p, i, s, &category_ids, &questions, &mut ids, files) {
            all_series.push(s);
        }
    }

    if p.0.is_empty() {
        Ok(Catalog {
            categories,
            questions,
            milestones,
            series: all_series,
        })
    } else {
        Err(CatalogError { problems: p.0 })
    }
}
