//! Reading a catalog file for any command, with errors that say which file and why.

use std::path::Path;

use anyhow::{Context, anyhow};
use shared::catalog::Catalog;

pub fn load(path: &Path) -> anyhow::Result<Catalog> {
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the catalog {}", path.display()))?;
    Catalog::from_yaml(&source)
        .map_err(|e| anyhow!("{} is not a valid catalog: {e}", path.display()))
}

pub fn check(path: &Path) -> anyhow::Result<()> {
    let catalog = load(path)?;
    println!(
        "{}: OK — {} milestones in {} categories, {} distinct timings",
        path.display(),
        catalog.milestones().len(),
        catalog.categories().len(),
        catalog.distinct_offsets()
    );
    Ok(())
}

/// Checks the file, then writes it to the table's catalog item; the scanner reads it on its
/// next run and warm webhook instances within five minutes.
#[cfg(feature = "aws")]
pub fn publish(path: &Path, table: &str) -> anyhow::Result<()> {
    use shared::aws::{DynamoStore, publish_catalog, sdk_config};
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the catalog {}", path.display()))?;
    // Validate before touching AWS, so a broken file never needs credentials to be refused.
    load(path)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (catalog, digest) = runtime
        .block_on(async {
            let config = sdk_config().await;
            let store = DynamoStore::from_config(&config, table);
            publish_catalog(&store, &source, chrono::Utc::now()).await
        })
        .map_err(|e| anyhow!("{} was not published: {e}", path.display()))?;
    println!(
        "{}: published to table {table} — {} milestones, {} distinct timings (sha256 {}). \
         The next daily scan uses it; replies use it within 5 minutes.",
        path.display(),
        catalog.milestones().len(),
        catalog.distinct_offsets(),
        &digest[..12]
    );
    Ok(())
}

#[cfg(not(feature = "aws"))]
pub fn publish(_path: &Path, _table: &str) -> anyhow::Result<()> {
    Err(anyhow!(
        "`catalog publish` talks to AWS, and this sukusuku was built without the `aws` feature; \
         run it as `cargo run --release -p sukusuku --features aws -- catalog publish …`"
    ))
}
