//! Reading a catalog and the files beside it that it names (steps files) for any command,
//! with errors that say which file and why, and `catalog check|publish` on a file, the local
//! data dir or a deployed table. The checking itself is `shared`'s, which never touches the
//! filesystem: this module hands it each file it asks for.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use shared::catalog::{Catalog, CatalogSource, Question, Series, day_label};
use shared::domain::AnchorKind;
use shared::store::LocalStore;

/// The folder of a data dir that holds its published catalog, and the catalog's name in it;
/// the files the catalog names lie beside it as they lay beside the staff's file, so
/// `serve --catalog DIR/catalog/catalog.yaml --data DIR` runs exactly what was checked.
pub const PUBLISHED_FOLDER: &str = "catalog";
pub const PUBLISHED_MAIN: &str = "catalog.yaml";

/// The catalog published into the data dir `data` (see [`PUBLISHED_FOLDER`]).
pub fn published_in(data: &Path) -> PathBuf {
    data.join(PUBLISHED_FOLDER).join(PUBLISHED_MAIN)
}

/// Where `catalog check` reads and `catalog publish` writes.
pub enum Target<'a> {
    /// A local data dir, the one `serve --data` uses.
    Data(&'a Path),
    /// A deployed stack's table.
    Table(&'a str),
}

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
    println!(
        "{}",
        summary(&path.display().to_string(), &catalog, &source)
    );
    Ok(())
}

/// Checks the catalog published in a data dir or a table, by this sukusuku's rules: what is
/// live, and (after an upgrade) whether this version still reads it.
pub fn check_published(target: Target<'_>) -> anyhow::Result<()> {
    match target {
        Target::Data(dir) => {
            let path = published_in(dir);
            if !path.exists() {
                return Err(anyhow!(
                    "no catalog is published in the data directory {}: publish one with \
                     `sukusuku catalog publish FILE --data {}`",
                    dir.display(),
                    dir.display()
                ));
            }
            check(&path)
        }
        Target::Table(table) => check_table(table),
    }
}

#[cfg(feature = "aws")]
fn check_table(table: &str) -> anyhow::Result<()> {
    use shared::aws::{DynamoStore, sdk_config};
    let published = runtime()?
        .block_on(async {
            let config = sdk_config().await;
            DynamoStore::from_config(&config, table)
                .published_catalog()
                .await
        })
        .map_err(|e| anyhow!("cannot read the catalog of table {table}: {e}"))?
        .ok_or_else(|| {
            anyhow!(
                "no catalog is published in table {table}: publish one with \
                 `sukusuku catalog publish FILE --table {table}`"
            )
        })?;
    let catalog = Catalog::from_source(&published.source).map_err(|e| {
        anyhow!(
            "the catalog published in table {table} at {} is not valid for this sukusuku: {e}",
            published.published_at
        )
    })?;
    let label = format!(
        "table {table} (published {}, sha256 {})",
        published.published_at,
        published.sha256.get(..12).unwrap_or(&published.sha256)
    );
    println!("{}", summary(&label, &catalog, &published.source));
    Ok(())
}

#[cfg(not(feature = "aws"))]
fn check_table(_table: &str) -> anyhow::Result<()> {
    Err(anyhow!(
        "`catalog check --table` talks to AWS, and this sukusuku was built without the `aws` \
         feature; run it as `cargo run --release -p sukusuku --features aws -- catalog check …`"
    ))
}

#[cfg(feature = "aws")]
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// What `catalog check` says about a valid catalog (`what`: its file, or where it is
/// published): enough for staff to see that what they meant is what was read.
fn summary(what: &str, catalog: &Catalog, source: &CatalogSource) -> String {
    let mut out = format!(
        "{what}: OK — {} milestones in {} categories, {} distinct timings; {} series",
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

/// Checks the catalog with its files, then makes exactly that bundle live in the data dir
/// or the table. Nothing changes if it is invalid.
pub fn publish(path: &Path, target: Target<'_>) -> anyhow::Result<()> {
    match target {
        Target::Data(dir) => publish_to_data(path, dir),
        Target::Table(table) => publish_to_table(path, table),
    }
}

/// Copies the checked catalog and its files into the data dir, replacing the one published
/// there before, while holding the data dir's lock: a running `serve` (which holds it) read
/// its catalog at start, so publishing under it is refused rather than silently not used.
fn publish_to_data(path: &Path, data: &Path) -> anyhow::Result<()> {
    let (catalog, source) = read(path)?;
    if let Some(name) = source
        .files
        .keys()
        .find(|n| n.as_str() == PUBLISHED_MAIN || n.starts_with(&format!("{PUBLISHED_MAIN}/")))
    {
        return Err(anyhow!(
            "{} was not published: it names a file `{name}`, and the data directory keeps the \
             catalog itself as {PUBLISHED_MAIN}; give that file another name",
            path.display()
        ));
    }
    let _lock =
        LocalStore::open(data).map_err(|e| anyhow!("{} was not published: {e}", path.display()))?;
    let live = replace_published(data, &source).map_err(|e| {
        anyhow!(
            "{} was not published into {}: {e:#}",
            path.display(),
            data.display()
        )
    })?;
    println!(
        "{}: published to the data directory {} as {} — {} milestones, {} series, {} distinct \
         timings. `sukusuku serve --catalog {} --data {}` runs it.",
        path.display(),
        data.display(),
        live.display(),
        catalog.milestones().len(),
        catalog.series().len(),
        catalog.distinct_offsets(),
        live.display(),
        data.display(),
    );
    Ok(())
}

/// Writes `source` as `DIR/catalog.next/`, reads it back (it must be the same catalog, file
/// for file), then swaps it in for `DIR/catalog/`. Each file is fsynced before the swap, so
/// a crash leaves the old catalog or the new one whole, never a mix; a crash between the
/// swap's two renames leaves the old one as `catalog.old`, which the next publish restores
/// before it starts.
fn replace_published(data: &Path, source: &CatalogSource) -> anyhow::Result<PathBuf> {
    let live = data.join(PUBLISHED_FOLDER);
    let next = data.join(format!("{PUBLISHED_FOLDER}.next"));
    let old = data.join(format!("{PUBLISHED_FOLDER}.old"));
    if !is_there(&live) && is_there(&old) {
        fs::rename(&old, &live).with_context(|| format!("cannot restore {}", old.display()))?;
    }
    remove(&next)?;
    remove(&old)?;
    let mut written = vec![(next.join(PUBLISHED_MAIN), source.main.as_str())];
    written.extend(
        source
            .files
            .iter()
            .map(|(name, text)| (next.join(name), text.as_str())),
    );
    for (file, text) in &written {
        let folder = folder_of(file);
        fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        let mut out =
            fs::File::create(file).with_context(|| format!("cannot create {}", file.display()))?;
        io::Write::write_all(&mut out, text.as_bytes())
            .and_then(|_| out.sync_all())
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    for (file, _) in &written {
        sync_folder(&folder_of(file));
    }
    // What serve will read: the same catalog, file for file (a file system that folds
    // case, say, could have merged two steps files).
    let copy = next.join(PUBLISHED_MAIN);
    let (_, again) = read(&copy)?;
    if &again != source {
        return Err(anyhow!(
            "{} does not read back as the catalog that was checked",
            copy.display()
        ));
    }
    if is_there(&live) {
        fs::rename(&live, &old).with_context(|| format!("cannot move {}", live.display()))?;
    }
    fs::rename(&next, &live).with_context(|| format!("cannot move {}", next.display()))?;
    sync_folder(data);
    // The new catalog is live; a leftover `.old` is removed by the next publish.
    let _ = remove(&old);
    Ok(live.join(PUBLISHED_MAIN))
}

fn is_there(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn remove(path: &Path) -> anyhow::Result<()> {
    let removed = match fs::symlink_metadata(path) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    };
    removed.with_context(|| format!("cannot remove {}", path.display()))
}

/// Makes a folder's new entries durable (renames and created files); where folders cannot
/// be opened (Windows), the files' own fsync is what there is.
fn sync_folder(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Stores exactly the checked bundle in the table's catalog item; the scanner reads it on
/// its next run and warm webhook instances within five minutes.
#[cfg(feature = "aws")]
fn publish_to_table(path: &Path, table: &str) -> anyhow::Result<()> {
    use shared::aws::{DynamoStore, publish_catalog, sdk_config};
    // Validate before touching AWS, so a broken file never needs credentials to be refused.
    let (_, source) = read(path)?;
    let published = runtime()?
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
fn publish_to_table(path: &Path, _table: &str) -> anyhow::Result<()> {
    // A broken file is named as such first, as the AWS build would, before the feature is.
    read(path)?;
    Err(anyhow!(
        "{}: the catalog is valid, but `catalog publish --table` talks to AWS, and this \
         sukusuku was built without the `aws` feature; publish into a local data dir with \
         --data DIR, or run it as \
         `cargo run --release -p sukusuku --features aws -- catalog publish …`",
        path.display()
    ))
}
