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
