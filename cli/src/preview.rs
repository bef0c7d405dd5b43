//! `sukusuku preview`: what one resident with given settings would receive, day by day, as
//! staff would check it before publishing. It runs the daily scan's own decision
//! (`shared::targeting`) for an imagined resident on every day, so what it shows is what
//! the scan will do.

use std::io::Write;

use anyhow::{anyhow, bail};
use chrono::NaiveDate;
use shared::catalog::{Catalog, Question, day_label, day_number};
use shared::delivery::Mark;
use shared::domain::{AnchorEntry, AnchorKind, Audience, Settings, UserId};
use shared::targeting::{Outcome, notices_for};

use crate::PreviewArgs;
use crate::catalog_file;

pub fn run(args: &PreviewArgs) -> anyhow::Result<()> {
    let catalog = catalog_file::load(&args.catalog)?;
    let (kind, anchor, who) = match (args.due, args.birth) {
        (Some(due), _) => (AnchorKind::DueDate, due, format!("出産予定日 {due}")),
        (None, Some(birth)) => (AnchorKind::BirthDate, birth, format!("生年月日 {birth}")),
        (None, None) => bail!("give --due or --birth"),
    };
    if kind == AnchorKind::DueDate && args.nickname.is_some() {
        bail!("--nickname is a child's ニックネーム: use it with --birth, not --due");
    }
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        bail!("--from {from} is after --to {to}");
    }
    let settings = settings(&catalog, args)?;
    let resident = AnchorEntry {
        kind,
        date: anchor,
        user_id: UserId::parse("Upreview").ok_or_else(|| anyhow!("preview id"))?,
        subject: "preview".into(),
        easy_japanese: args.easy,
        settings,
        nickname: args.nickname.clone(),
        delivered: Default::default(),
        steps: Default::default(),
    };
    let Some((first, last)) = span(&catalog, kind, anchor) else {
        return write(format!(
            "# {who}: 0 件（このカタログにはお知らせがありません）\n"
        ));
    };
    let first = args.from.map_or(first, |f| f.max(first));
    let last = args.to.map_or(last, |t| t.min(last));

    let mut body = String::new();
    let mut turned_away = Vec::new();
    let mut sent = 0usize;
    for day in first.iter_days().take_while(|d| *d <= last) {
        for lookup in catalog.lookups_for(day) {
            if !lookup.range.contains(kind, anchor) {
                continue;
            }
            for notice in notices_for(&catalog, &lookup, day, &resident) {
                let (id, timing, audience) = match notice.mark {
                    Mark::Milestone(id) => {
                        let m = catalog.milestone(id);
                        (
                            id.to_string(),
                            m.map(|m| m.offset.label()).unwrap_or_default(),
                            m.map(|m| &m.audience),
                        )
                    }
                    Mark::Step { series, day: n } => (
                        series.to_string(),
                        day_label(kind, n),
                        catalog.series_named(series).map(|s| &s.audience),
                    ),
                    // The catalog makes no reminders (bookings do).
                    Mark::Reminder { .. } => continue,
                };
                if notice.outcome != Outcome::Send {
                    let why = if !resident.settings.receives(notice.category) {
                        format!(
                            "受け取らないカテゴリ（{}）",
                            catalog
                                .category(notice.category)
                                .map_or(notice.category, |c| c.label.as_str())
                        )
                    } else {
                        format!(
                            "対象外（{}）",
                            audience.map(|a| describe(&catalog, a)).unwrap_or_default()
                        )
                    };
                    turned_away.push(format!("#   {day}  {id}  {why}\n"));
                    continue;
                }
                sent += 1;
                body.push_str(&format!(
                    "\n{day}  {id}  （{timing}）  [{}]\n",
                    notice.category
                ));
                for line in notice.text.lines() {
                    body.push_str(&format!("    {line}\n"));
                }
            }
        }
    }
    let mut out = format!(
        "# {who}: {sent} 件{}\n",
        if args.easy {
            "（やさしい日本語）"
        } else {
            ""
        }
    );
    if !turned_away.is_empty() {
        out.push_str(&format!(
            "# この受信設定では届かないお知らせ: {} 件\n",
            turned_away.len()
        ));
        out.extend(turned_away);
    }
    out.push_str(&body);
    write(out)
}

fn write(out: String) -> anyhow::Result<()> {
    // A reader that stops early (`| head`) is not an error.
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// The resident's 受信設定 from the flags, every id checked against the catalog.
fn settings(catalog: &Catalog, args: &PreviewArgs) -> anyhow::Result<Settings> {
    let mut settings = Settings::default();
    if !args.category.is_empty() {
        let known: Vec<&str> = catalog.categories().iter().map(|c| c.id.as_str()).collect();
        for id in &args.category {
            if !known.contains(&id.as_str()) {
                bail!(
                    "--category {id}: the catalog has no such category (it has: {})",
                    known.join(", ")
                );
            }
        }
        // Only the categories named are on.
        settings.muted = known
            .iter()
            .filter(|c| !args.category.iter().any(|a| a == *c))
            .map(|c| c.to_string())
            .collect();
    }
    let q = catalog.questions();
    settings.district = one_of(&q.district, "--district", args.district.as_deref())?;
    settings.nursery = one_of(&q.nursery, "--nursery", args.nursery.as_deref())?;
    for h in &args.household {
        settings
            .household
            .extend(one_of(&q.household, "--household", Some(h))?);
    }
    Ok(settings)
}

fn one_of(question: &Question, flag: &str, id: Option<&str>) -> anyhow::Result<Option<String>> {
    let Some(id) = id else { return Ok(None) };
    if question.choice(id).is_none() {
        let known: Vec<String> = question
            .choices
            .iter()
            .map(|c| format!("{} ({})", c.id, c.label))
            .collect();
        bail!(
            "{flag} {id}: not one of the catalog's choices{}",
            if known.is_empty() {
                " (the catalog asks no such question)".to_string()
            } else {
                format!(": {}", known.join(", "))
            }
        );
    }
    Ok(Some(id.to_string()))
}

/// The first and last day anything in the catalog can reach an anchor.
fn span(catalog: &Catalog, kind: AnchorKind, anchor: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let milestones = catalog
        .schedule(kind, anchor, None, None)
        .into_iter()
        .map(|(d, _)| d);
    let steps = catalog
        .series()
        .iter()
        .filter(|s| s.anchor == kind)
        .flat_map(|s| [s.first, s.last])
        .filter_map(|n| {
            let offset = n as i64 - day_number(kind, anchor, anchor);
            anchor.checked_add_signed(chrono::Duration::days(offset))
        });
    let days: Vec<NaiveDate> = milestones.chain(steps).collect();
    Some((*days.iter().min()?, *days.iter().max()?))
}

/// Who an audience is, by the catalog's labels: お住まいの地区: 北部地区・川北地区.
fn describe(catalog: &Catalog, audience: &Audience) -> String {
    let q = catalog.questions();
    [
        (&q.district, &audience.districts),
        (&q.household, &audience.household),
        (&q.nursery, &audience.nursery),
    ]
    .into_iter()
    .filter(|(_, ids)| !ids.is_empty())
    .map(|(question, ids)| {
        let names: Vec<&str> = ids
            .iter()
            .map(|id| {
                question
                    .choice(id)
                    .map_or(id.as_str(), |c| c.label.as_str())
            })
            .collect();
        format!("{}: {}", question.label, names.join("・"))
    })
    .collect::<Vec<_>>()
    .join("、")
}
