//! Reading a catalog and the files beside it that it names (steps files) for any command,
//! with errors that say which file and why. The checking itself is `shared`'s, which never
//! touches the filesystem: this module hands it each file it asks for.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use shared::catalog::{Catalog, CatalogSource, Question, Series, day_label};
use shared::domain::AnchorKind;

/// The catalog at `path`, checked with its files.
pub fn load(path: &Path) -> anyhow::Result<Catalog> {
    read(path).map(|(catalog, _)| catalog)
}

/// The catalog at `path` with its files, checked, and the bundle of exactly what was read.
pub fn read(path: &Path) -> anyhow::Result<(Catalog, CatalogSource)> {
    let main = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the catalog {}", path.display()))?;
    let dir = folder_of(path);
    Catalog::load_with_files(&main, |name| read_beside(&dir, name))
        .map_err(|e| anyhow!("{} is not a valid catalog: {e}", path.display()))
}

/// A file the catalog names, which the catalog check has already seen to be a relative
/// path without `..`.
fn read_beside(dir: &Path, name: &str) -> Result<String, String> {
    let (path, bytes) = read_bytes_beside(dir, name, "the catalog's")?;
    String::from_utf8(bytes)
        .map_err(|_| format!("{} is not UTF-8 text; save it as UTF-8", path.display()))
}

/// A file a staff file names (its name already checked to be relative, without `..`). A
/// symbolic link could still lead elsewhere; what is published must be what lies beside the
/// staff file, so the real path has to stay under its folder too (`whose`: `the catalog's`).
pub fn read_bytes_beside(
    dir: &Path,
    name: &str,
    whose: &str,
) -> Result<(PathBuf, Vec<u8>), String> {
    let path = dir.join(name);
    let describe = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => format!("there is no file {}", path.display()),
        _ => format!("{}: {e}", path.display()),
    };
    let real = path.canonicalize().map_err(describe)?;
    let root = dir.canonicalize().map_err(describe)?;
    if !real.starts_with(&root) {
        return Err(format!(
            "{} leads outside {whose} folder (a symbolic link?)",
            path.display()
        ));
    }
    let bytes = std::fs::read(&real).map_err(describe)?;
    Ok((path, bytes))
}

/// The folder of a file given on the command line, for the files it names.
pub fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub fn check(path: &Path) -> anyhow::Result<()> {
    let (catalog, source) = read(path)?;
    println!("{}", summary(path, &catalog, &source));
    Ok(())
}

/// What `catalog check` says about a valid catalog: enough for staff to see that what they
/// meant is what was read.
fn summary(path: &Path, catalog: &Catalog, source: &CatalogSource) -> String {
    let mut out = format!(
        "{}: OK — {} milestones in {} categories, {} distinct timings; {} series",
        path.display(),
        catalog.milestones().len(),
        catalog.categories().len(),
        catalog.distinct_offsets(),
        catalog.series().len(),
    );
    let targeted = catalog
        .milestones()
        .iter()
        .filter(|m| !m.audience.is_everyone())
        .count();
    if targeted > 0 {
        out.push_str(&format!(
            "\n  {targeted} milestones for part of the residents only (audience)"
        ));
    }
    for s in catalog.series() {
        out.push_str(&format!("\n  series {}", series_line(s)));
    }
    let q = catalog.questions();
    let questions: Vec<String> = [&q.district, &q.household, &q.nursery]
        .into_iter()
        .filter(|q| !q.choices.is_empty())
        .map(question_line)
        .collect();
    out.push_str(&format!(
        "\n  受信設定: {} categories; {}language (ふつう / やさしい日本語)",
        catalog.categories().len(),
        questions
            .iter()
            .map(|q| format!("{q}; "))
            .collect::<String>()
    ));
    if !source.files.is_empty() {
        out.push_str(&format!(
            "\n  files: {} ({} bytes of text with the catalog)",
            source
                .files
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            source.text_bytes()
        ));
    }
    out
}

fn series_line(s: &Series) -> String {
    let anchor = match s.anchor {
        AnchorKind::DueDate => "due_date",
        AnchorKind::BirthDate => "birth_date",
    };
    let every = match s.every {
        1 => "every day".to_string(),
        7 => "every week".to_string(),
        n if n % 7 == 0 => format!("every {} weeks", n / 7),
        n => format!("every {n} days"),
    };
    let easy = s
        .steps
        .values()
        .filter(|step| step.easy_text.is_some())
        .count();
    format!(
        "{} ({anchor}, {}–{}, {every}): {} steps, {easy} with やさしい日本語, category {}{}",
        s.id,
        day_label(s.anchor, s.first),
        day_label(s.anchor, s.last),
        s.steps.len(),
        s.category,
        if s.audience.is_everyone() {
            ""
        } else {
            ", for part of the residents (audience)"
        }
    )
}

fn question_line(q: &Question) -> String {
    format!("{} ({} choices)", q.label, q.choices.len())
}

/// Checks the catalog with its files, then stores exactly that bundle in the table's
/// catalog item; the scanner reads it on its next run and warm webhook instances within
/// five minutes.
#[cfg(feature = "aws")]
pub fn publish(path: &Path, table: &str) -> anyhow::Result<()> {
    use shared::aws::{DynamoStore, publish_catalog, sdk_config};
    // Validate before touching AWS, so a broken file never needs credentials to be refused.
    let (_, source) = read(path)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let published = runtime
        .block_on(async {
            let config = sdk_config().await;
            let store = DynamoStore::from_config(&config, table);
            publish_catalog(&store, &source, chrono::Utc::now()).await
        })
        .map_err(|e| anyhow!("{} was not published: {e}", path.display()))?;
    println!(
        "{}: published to table {table} — {} milestones, {} series, {} distinct timings \
         (sha256 {}; {} bytes of text stored as {} bytes). The next daily scan uses it; \
         replies use it within 5 minutes.",
        path.display(),
        published.catalog.milestones().len(),
        published.catalog.series().len(),
        published.catalog.distinct_offsets(),
        published.sha256.get(..12).unwrap_or(&published.sha256),
        published.text_bytes,
        published.stored_bytes,
    );
    Ok(())
}

#[cfg(not(feature = "aws"))]
pub fn publish(path: &Path, _table: &str) -> anyhow::Result<()> {
    // A broken file is named as such first, as the AWS build would, before the feature is.
    read(path)?;
    Err(anyhow!(
        "{}: the catalog is valid, but `catalog publish` talks to AWS, and this sukusuku was \
         built without the `aws` feature; run it as \
         `cargo run --release -p sukusuku --features aws -- catalog publish …`",
        path.display()
    ))
}
