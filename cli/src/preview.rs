//! `sukusuku preview`: what one resident would receive, day by day, as staff would check it.

use std::io::Write;

use shared::domain::AnchorKind;

use crate::PreviewArgs;
use crate::catalog_file;

pub fn run(args: &PreviewArgs) -> anyhow::Result<()> {
    let catalog = catalog_file::load(&args.catalog)?;
    let (kind, anchor, who) = match (args.due, args.birth) {
        (Some(due), _) => (AnchorKind::DueDate, due, format!("出産予定日 {due}")),
        (None, Some(birth)) => (AnchorKind::BirthDate, birth, format!("生年月日 {birth}")),
        (None, None) => anyhow::bail!("give --due or --birth"),
    };
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        anyhow::bail!("--from {from} is after --to {to}");
    }
    let schedule = catalog.schedule(kind, anchor, args.from, args.to);
    let mut out = format!(
        "# {who}: {} 件{}\n",
        schedule.len(),
        if args.easy {
            "（やさしい日本語）"
        } else {
            ""
        }
    );
    for (day, milestone) in schedule {
        out.push_str(&format!(
            "\n{day}  {}  （{}）\n",
            milestone.id,
            milestone.offset.label()
        ));
        for line in milestone.text_for(args.easy).lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    // A reader that stops early (`| head`) is not an error.
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
