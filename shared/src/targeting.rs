//! What one anchor entry gets on one day: the decision the daily scan makes for every entry
//! an index lookup returns, and that `sukusuku preview` makes for one imagined resident, so
//! staff see exactly what the scan will do. Pure: no store, no queue.

use std::borrow::Cow;

use chrono::NaiveDate;

use crate::catalog::placeholder::{self, RenderContext};
use crate::catalog::{Catalog, Lookup};
use crate::delivery::Mark;
use crate::domain::AnchorEntry;

/// Why a due notice is or is not sent to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Send,
    /// The category is off, or the audience does not include the resident.
    NotTargeted,
    /// Sent before (an earlier run, or before a date was corrected).
    AlreadyDelivered,
}

/// A milestone or series step due for an entry on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice<'c> {
    pub mark: Mark<'c>,
    pub category: &'c str,
    pub outcome: Outcome,
    /// The text with its placeholders filled in (rendered only when it is to be sent).
    pub text: Cow<'c, str>,
}

/// Everything of `lookup` due for `entry` on `day`, milestones first, in catalog order.
pub fn notices_for<'c>(
    catalog: &'c Catalog,
    lookup: &Lookup<'c>,
    day: NaiveDate,
    entry: &AnchorEntry,
) -> Vec<Notice<'c>> {
    let mut out = Vec::new();
    for (fires_for, m) in &lookup.milestones {
        if fires_for.contains(entry.kind, entry.date) {
            let mark = Mark::Milestone(&m.id);
            let reaches = m.reaches(&entry.settings);
            let template = m.text_for(entry.easy_japanese);
            let easy = entry.easy_japanese && m.easy_text.is_some();
            out.push(decide(
                catalog,
                day,
                entry,
                mark,
                &m.category,
                reaches,
                (template, easy),
            ));
        }
    }
    for series in &lookup.series {
        if let Some((n, step)) = series.step_on(entry.date, day) {
            let mark = Mark::Step {
                series: &series.id,
                day: n,
            };
            let reaches = series.reaches(&entry.settings);
            let template = step.text_for(entry.easy_japanese);
            let easy = entry.easy_japanese && step.easy_text.is_some();
            out.push(decide(
                catalog,
                day,
                entry,
                mark,
                &series.category,
                reaches,
                (template, easy),
            ));
        }
    }
    out
}

fn decide<'c>(
    catalog: &'c Catalog,
    day: NaiveDate,
    e: &AnchorEntry,
    mark: Mark<'c>,
    category: &'c str,
    reaches: bool,
    (template, easy): (&'c str, bool),
) -> Notice<'c> {
    let outcome = if !reaches {
        Outcome::NotTargeted
    } else if mark.delivered_on(e) {
        Outcome::AlreadyDelivered
    } else {
        Outcome::Send
    };
    let text = if outcome == Outcome::Send {
        render(catalog, day, e, template, easy)
    } else {
        Cow::Borrowed(template)
    };
    Notice {
        mark,
        category,
        outcome,
        text,
    }
}

/// The text for this entry on this day (`{next_date}` looks up the entry's next milestone
/// under its settings, only when the text asks for it).
pub fn render<'c>(
    catalog: &Catalog,
    day: NaiveDate,
    e: &AnchorEntry,
    template: &'c str,
    easy: bool,
) -> Cow<'c, str> {
    let next = placeholder::needs_next_date(template)
        .then(|| catalog.next_milestone_date(e.kind, e.date, day, &e.settings))
        .flatten();
    placeholder::render(
        template,
        &RenderContext {
            anchor: e.kind,
            anchor_date: e.date,
            day,
            nickname: e.nickname.as_deref(),
            next,
            easy,
        },
    )
}
