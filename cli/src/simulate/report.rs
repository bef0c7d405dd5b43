//! The simulation's report for a city's staff: the month table (deliveries, LINE requests,
//! AWS units, yen), totals, the busiest and a typical day, a bar chart in the terminal and
//! as SVG, and LINE's messages against its plans, kept apart from the AWS bill.

use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::Serialize;
use shared::cost::{self, Bill, LINE_MUNICIPAL_PLAN, Prices, cheapest_line_plan, monthly_bill};

use super::meter::{self, Day};
use super::population;

/// What was simulated.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    pub catalog: String,
    pub daily_programme: bool,
    pub residents: usize,
    pub days: u32,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub seed: u64,
    pub prices: Prices,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PopulationSummary {
    pub at_start: usize,
    pub pregnant_at_start: usize,
    pub children_at_start: usize,
    pub joined: usize,
    pub births: usize,
    pub stopped: usize,
    pub blocked: usize,
    pub at_end: usize,
}

/// LINE's side of a month: messages (one per recipient of a push or multicast; replies
/// are never billed) against the plans.
#[derive(Debug, Clone, Serialize)]
pub struct LineMonth {
    pub messages: u64,
    pub municipal_plan_yen: f64,
    pub cheapest_ordinary_plan: &'static str,
    pub cheapest_ordinary_yen: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Month {
    pub month: String,
    pub days: usize,
    pub counts: Day,
    pub lambda_invocations: u64,
    pub bill_usd: Bill,
    pub aws_usd: f64,
    pub aws_yen: f64,
    pub line: LineMonth,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub setup: Setup,
    pub population: PopulationSummary,
    pub months: Vec<Month>,
    pub total: Month,
    pub busiest_day: Day,
    pub typical_day: Day,
    pub quietest_day: Day,
    /// The largest anchor item the scan read, and reads of items over 1 KB (a delivery
    /// record on one costs more than the writes counted).
    pub largest_anchor_item_bytes: u64,
    pub anchor_reads_over_1kb: u64,
    pub assumptions: Vec<(&'static str, f64)>,
    pub per_day: Vec<Day>,
}

fn line_month(messages: u64) -> LineMonth {
    let (plan, yen) = cheapest_line_plan(messages);
    LineMonth {
        messages,
        municipal_plan_yen: 0.0,
        cheapest_ordinary_plan: plan.name,
        cheapest_ordinary_yen: yen,
    }
}

impl Report {
    pub fn new(
        setup: Setup,
        population: PopulationSummary,
        days: Vec<Day>,
        (largest, over_1kb): (u64, u64),
    ) -> Report {
        let p = setup.prices;
        let months: Vec<Month> = super::by_month(&days)
            .into_iter()
            .map(|(month, ds)| {
                let mut counts = Day::default();
                for d in &ds {
                    counts.add(d);
                }
                counts.date = None;
                let bill = monthly_bill(&counts.usage(), &p);
                Month {
                    month,
                    days: ds.len(),
                    lambda_invocations: counts.lambda_invocations(),
                    aws_usd: bill.total_usd(),
                    aws_yen: bill.total_usd() * p.yen_per_usd,
                    line: line_month(counts.deliveries),
                    bill_usd: bill,
                    counts,
                }
            })
            .collect();
        let mut counts = Day::default();
        let mut bill = Bill::default();
        let mut line_yen = 0.0;
        for m in &months {
            counts.add(&m.counts);
            bill.add(&m.bill_usd);
            line_yen += m.line.cheapest_ordinary_yen;
        }
        let total = Month {
            month: "total".into(),
            days: days.len(),
            lambda_invocations: counts.lambda_invocations(),
            aws_usd: bill.total_usd(),
            aws_yen: bill.total_usd() * p.yen_per_usd,
            line: LineMonth {
                cheapest_ordinary_yen: line_yen,
                ..line_month(counts.deliveries)
            },
            bill_usd: bill,
            counts,
        };
        let mut ranked: Vec<&Day> = days.iter().collect();
        // Stable: the earliest of equal days comes first.
        ranked.sort_by_key(|d| std::cmp::Reverse(d.deliveries));
        let pick = |i: usize| ranked.get(i).map(|d| (*d).clone()).unwrap_or_default();
        Report {
            busiest_day: pick(0),
            typical_day: pick(ranked.len() / 2),
            quietest_day: pick(ranked.len().saturating_sub(1)),
            setup,
            population,
            months,
            total,
            largest_anchor_item_bytes: largest,
            anchor_reads_over_1kb: over_1kb,
            assumptions: assumptions(),
            per_day: days,
        }
    }

    fn yen(&self, usd: f64) -> String {
        yen(usd * self.setup.prices.yen_per_usd)
    }

    pub fn text(&self) -> String {
        let s = &self.setup;
        let pop = &self.population;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "sukusuku simulate: {}{}, {} residents, {} days from {} to {} (seed {})",
            s.catalog,
            if s.daily_programme {
                " + daily programme"
            } else {
                ""
            },
            n(s.residents as u64),
            s.days,
            s.start,
            s.end,
            s.seed
        );
        let _ = writeln!(
            out,
            "Friends: {} at the start ({} pregnant, {} children aged 0–6); {} joined, {} births \
             registered, {} stopped (配信停止), {} blocked; {} at the end.",
            n(pop.at_start as u64),
            n(pop.pregnant_at_start as u64),
            n(pop.children_at_start as u64),
            n(pop.joined as u64),
            n(pop.births as u64),
            n(pop.stopped as u64),
            n(pop.blocked as u64),
            n(pop.at_end as u64)
        );
        let _ = writeln!(
            out,
            "\nAWS per month (ap-northeast-1 list prices, ¥{}/USD, before tax, after the monthly free tiers):\n",
            s.prices.yen_per_usd
        );
        let header = [
            "month",
            "deliveries",
            "push",
            "multicast",
            "Lambda",
            "GB-s",
            "RRU",
            "WRU",
            "SQS",
            "AWS ¥",
        ];
        let mut rows: Vec<[String; 10]> = Vec::new();
        for m in self.months.iter().chain(std::iter::once(&self.total)) {
            let c = &m.counts;
            rows.push([
                m.month.clone(),
                n(c.deliveries),
                n(c.push),
                n(c.multicast),
                n(m.lambda_invocations),
                n(c.gb_seconds.round() as u64),
                n(c.read_units.round() as u64),
                n(c.write_units.round() as u64),
                n(c.sqs_requests.round() as u64),
                yen(m.aws_yen),
            ]);
        }
        out.push_str(&table(&header, &rows));
        let b = &self.total.bill_usd;
        let _ = writeln!(
            out,
            "\nAWS for the period, by service: Lambda {}, DynamoDB {}, SQS {}, HTTP API {}, \
             CloudWatch {} ({} alarms and logs), EventBridge Scheduler {} ({} invocations, \
             inside its 14 million a month free). Total {} (${:.2}).",
            self.yen(b.lambda),
            self.yen(b.dynamodb),
            self.yen(b.sqs),
            self.yen(b.http_api),
            self.yen(b.cloudwatch),
            super::meter::ALARMS,
            self.yen(b.scheduler),
            n(self.total.counts.scheduler_invocations as u64),
            yen(self.total.aws_yen),
            self.total.aws_usd
        );
        let t = &self.total.counts;
        let _ = writeln!(
            out,
            "Lambda invocations: {} scanner (the 09:00 scan and the every-minute waiting-list \
             sweep), {} sender (SQS batches of up to 10 jobs), {} webhook (chat turns). SQS \
             requests include the sender's pollers' empty receives ({} a day).",
            n(t.scanner_invocations),
            n(t.sender_invocations),
            n(t.webhook_invocations),
            n(meter::SQS_IDLE_RECEIVES_PER_DAY)
        );
        out.push_str("\nDays:\n");
        for (label, d) in [
            ("busiest", &self.busiest_day),
            ("typical (median)", &self.typical_day),
            ("quietest", &self.quietest_day),
        ] {
            let _ = writeln!(
                out,
                "  {label:<17} {}: {} deliveries in {} jobs ({} push, {} multicast); the scan read \
                 {} index entries in {} lookups, about {:.1} s on Lambda",
                d.date.map(|d| d.to_string()).unwrap_or_default(),
                n(d.deliveries),
                n(d.jobs),
                n(d.push),
                n(d.multicast),
                n(d.entries_read),
                n(d.lookups),
                d.scan_seconds
            );
        }
        out.push_str("\nDeliveries per month:\n");
        let most = self
            .months
            .iter()
            .map(|m| m.counts.deliveries)
            .max()
            .unwrap_or(0);
        for m in &self.months {
            let _ = writeln!(
                out,
                "  {} {:<40} {:>11}  AWS {}",
                m.month,
                bar(m.counts.deliveries, most, 40),
                n(m.counts.deliveries),
                yen(m.aws_yen)
            );
        }
        let _ = writeln!(
            out,
            "\nLINE (billed by LINE, not AWS): a message per recipient of a push or multicast; \
             replies are free. With the {LINE_MUNICIPAL_PLAN} (a verified municipality's \
             account) every month is ¥0. On an ordinary plan:\n"
        );
        let mut rows: Vec<[String; 4]> = Vec::new();
        for m in self.months.iter().chain(std::iter::once(&self.total)) {
            rows.push([
                m.month.clone(),
                n(m.line.messages),
                yen(m.line.municipal_plan_yen),
                if m.month == "total" {
                    yen(m.line.cheapest_ordinary_yen)
                } else {
                    format!(
                        "{} {}",
                        m.line.cheapest_ordinary_plan,
                        yen(m.line.cheapest_ordinary_yen)
                    )
                },
            ]);
        }
        out.push_str(&table(
            &[
                "month",
                "messages",
                LINE_MUNICIPAL_PLAN,
                "cheapest ordinary plan",
            ],
            &rows,
        ));
        let _ = writeln!(
            out,
            "\nAssumptions (named constants in cli/src/simulate/ and shared/src/cost.rs; `--json` \
             lists them): friends {:.0}% pregnant at the start ({:.0}% of them with children), \
             1–3 children aged 0–6, {:.0}% of children with a ニックネーム; {:.0}% more friends a \
             year, {:.0}% stop and {:.0}% block a year; 受信設定 as the daily-scan benchmark's \
             realistic mix. Lambda durations are modelled (a call to DynamoDB or SQS {} ms, LINE \
             {}–{} ms); every function has {} MB. The largest anchor item read was {} bytes.",
            population::PREGNANT_SHARE * 100.0,
            population::PREGNANT_WITH_CHILDREN * 100.0,
            population::NICKNAME_SHARE * 100.0,
            population::JOINS_PER_YEAR * 100.0,
            population::STOPS_PER_YEAR * 100.0,
            population::BLOCKS_PER_YEAR * 100.0,
            meter::AWS_CALL_MS,
            meter::LINE_PUSH_MS,
            meter::LINE_MULTICAST_MS,
            meter::LAMBDA_MEMORY_MB,
            self.largest_anchor_item_bytes
        );
        if self.anchor_reads_over_1kb > 0 {
            let _ = writeln!(
                out,
                "Note: {} anchor items read were over 1 KB; delivery records on them cost more \
                 write units than counted.",
                n(self.anchor_reads_over_1kb)
            );
        }
        if let Some(slow) = self
            .per_day
            .iter()
            .find(|d| d.scan_seconds > SCANNER_TIMEOUT_SECONDS)
        {
            let _ = writeln!(
                out,
                "Warning: the scan of {} would take about {:.0} s, over the scanner's {} s \
                 timeout (template.yaml).",
                slow.date.map(|d| d.to_string()).unwrap_or_default(),
                slow.scan_seconds,
                SCANNER_TIMEOUT_SECONDS
            );
        }
        out
    }

    /// The months as a chart: deliveries above, AWS yen below, one bar a month.
    pub fn svg(&self) -> String {
        const W: f64 = 760.0;
        const PANEL: f64 = 170.0;
        const LEFT: f64 = 90.0;
        const TOP: f64 = 50.0;
        let count = self.months.len().max(1) as f64;
        let slot = (W - LEFT - 20.0) / count;
        let mut svg = String::new();
        let height = TOP + 2.0 * (PANEL + 60.0);
        let _ = writeln!(
            svg,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="sans-serif" font-size="11">"##
        );
        let title = format!(
            "sukusuku simulate: {}{}, {} residents, {} – {}",
            self.setup.catalog,
            if self.setup.daily_programme {
                " + daily programme"
            } else {
                ""
            },
            n(self.setup.residents as u64),
            self.setup.start,
            self.setup.end
        );
        let _ = writeln!(svg, "<title>{}</title>", xml(&title));
        let _ = writeln!(
            svg,
            r##"<rect width="{W}" height="{height}" fill="#ffffff"/>"##
        );
        let _ = writeln!(
            svg,
            r##"<text x="{LEFT}" y="24" font-size="14" font-weight="bold">{}</text>"##,
            xml(&title)
        );
        // (title, colour, each month's value and how it is shown)
        type Panel<'a> = (&'a str, &'a str, Vec<(f64, String)>);
        let panels: [Panel<'_>; 2] = [
            (
                "Deliveries a month (messages to residents)",
                "#3b7dd8",
                self.months
                    .iter()
                    .map(|m| (m.counts.deliveries as f64, n(m.counts.deliveries)))
                    .collect(),
            ),
            (
                "AWS a month (yen, after free tiers)",
                "#e07b39",
                self.months
                    .iter()
                    .map(|m| (m.aws_yen, yen(m.aws_yen)))
                    .collect(),
            ),
        ];
        for (k, (label, colour, values)) in panels.iter().enumerate() {
            let top = TOP + k as f64 * (PANEL + 60.0);
            let base = top + PANEL;
            let most = values.iter().map(|v| v.0).fold(0.0, f64::max);
            let _ = writeln!(
                svg,
                r##"<text x="{LEFT}" y="{}" font-size="12" font-weight="bold">{}</text>"##,
                top - 8.0,
                xml(label)
            );
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{base}" x2="{}" y2="{base}" stroke="#333333"/>"##,
                W - 20.0
            );
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}" text-anchor="end">{}</text>"##,
                LEFT - 6.0,
                top + 10.0,
                xml(&values
                    .iter()
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|v| v.1.clone())
                    .unwrap_or_default())
            );
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{base}" text-anchor="end">0</text>"##,
                LEFT - 6.0
            );
            for (i, ((value, shown), m)) in values.iter().zip(&self.months).enumerate() {
                let h = if most > 0.0 {
                    value / most * PANEL
                } else {
                    0.0
                };
                let x = LEFT + i as f64 * slot + slot * 0.15;
                let _ = writeln!(
                    svg,
                    r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{colour}"><title>{}: {}</title></rect>"##,
                    base - h,
                    slot * 0.7,
                    m.month,
                    xml(shown)
                );
                let _ = writeln!(
                    svg,
                    r##"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"##,
                    x + slot * 0.35,
                    base + 14.0,
                    m.month.get(2..).unwrap_or(&m.month)
                );
            }
        }
        svg.push_str("</svg>\n");
        svg
    }
}

/// The scanner's `Timeout` in template.yaml.
const SCANNER_TIMEOUT_SECONDS: f64 = 300.0;

/// The named assumptions, for `--json`.
fn assumptions() -> Vec<(&'static str, f64)> {
    use meter::*;
    use population::*;
    vec![
        ("PREGNANT_SHARE", PREGNANT_SHARE),
        ("PREGNANT_WITH_CHILDREN", PREGNANT_WITH_CHILDREN),
        ("TWIN_SHARE", TWIN_SHARE),
        ("NICKNAME_SHARE", NICKNAME_SHARE),
        ("JOINS_PER_YEAR", JOINS_PER_YEAR),
        ("JOIN_PREGNANT", JOIN_PREGNANT),
        ("STOPS_PER_YEAR", STOPS_PER_YEAR),
        ("BLOCKS_PER_YEAR", BLOCKS_PER_YEAR),
        ("LAMBDA_MEMORY_MB", LAMBDA_MEMORY_MB),
        ("AWS_CALL_MS", AWS_CALL_MS),
        ("LINE_PUSH_MS", LINE_PUSH_MS),
        ("LINE_MULTICAST_MS", LINE_MULTICAST_MS),
        ("INIT_MS", INIT_MS),
        ("SCANNER_COLD_STARTS_PER_DAY", SCANNER_COLD_STARTS_PER_DAY),
        ("SENDER_COLD_STARTS_PER_DAY", SENDER_COLD_STARTS_PER_DAY),
        ("SWEEP_MS", SWEEP_MS),
        ("SCAN_FIXED_MS", SCAN_FIXED_MS),
        ("SCAN_CPU_US_PER_ENTRY", SCAN_CPU_US_PER_ENTRY),
        ("SCAN_CPU_US_PER_RECIPIENT", SCAN_CPU_US_PER_RECIPIENT),
        ("WEBHOOK_TURN_MS", WEBHOOK_TURN_MS),
        ("LOG_BYTES_PER_INVOCATION", LOG_BYTES_PER_INVOCATION),
        (
            "READ_ONLY_TURNS_PER_RESIDENT_MONTH",
            READ_ONLY_TURNS_PER_RESIDENT_MONTH,
        ),
        (
            "SQS_IDLE_RECEIVES_PER_DAY",
            SQS_IDLE_RECEIVES_PER_DAY as f64,
        ),
        ("SENDER_READ_UNITS_PER_KEY", SENDER_READ_UNITS_PER_KEY),
        ("RECORD_WRITE_UNITS", RECORD_WRITE_UNITS),
        ("CATALOG_COMPRESSION", CATALOG_COMPRESSION),
        ("ALARMS", ALARMS),
        ("LAMBDA_FREE_REQUESTS", cost::LAMBDA_FREE_REQUESTS),
        ("LAMBDA_FREE_GB_SECONDS", cost::LAMBDA_FREE_GB_SECONDS),
        ("SQS_FREE_REQUESTS", cost::SQS_FREE_REQUESTS),
    ]
}

/// 1234567 → `1,234,567`.
pub fn n(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Yen, whole (`¥1,234`); a cost under one yen is `<¥1`, none is `¥0`.
pub fn yen(v: f64) -> String {
    if v > 0.0 && v < 0.5 {
        "<¥1".into()
    } else {
        format!("¥{}", n(v.round().max(0.0) as u64))
    }
}

/// A bar of `width` cells for `v` of `most`, in eighths.
fn bar(v: u64, most: u64, width: usize) -> String {
    if most == 0 {
        return String::new();
    }
    let eighths = (v as f64 / most as f64 * (width * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    const PART: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    s.push_str(PART[eighths % 8]);
    s
}

/// Columns: the first left-aligned, the rest right-aligned; widths by characters.
fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let width = |s: &str| {
        s.chars()
            .map(|c| if c.is_ascii() { 1 } else { 2 })
            .sum::<usize>()
    };
    let mut widths = header.map(width);
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(width(c));
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            let pad = " ".repeat(w.saturating_sub(width(c)));
            if i == 0 {
                let _ = write!(out, "{c}{pad}");
            } else {
                let _ = write!(out, "  {pad}{c}");
            }
        }
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
        &mut out,
    );
    for r in rows {
        line(r.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// Text for an SVG text node or attribute.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_yen_read_as_staff_write_them() {
        assert_eq!(n(0), "0");
        assert_eq!(n(999), "999");
        assert_eq!(n(1_000), "1,000");
        assert_eq!(n(1_234_567), "1,234,567");
        assert_eq!(yen(0.0), "¥0");
        assert_eq!(yen(0.3), "<¥1");
        assert_eq!(yen(1_234.4), "¥1,234");
        assert_eq!(bar(8, 8, 2), "██");
        assert_eq!(bar(1, 2, 1), "▌");
        assert_eq!(bar(1, 16, 1), "▏");
        assert_eq!(xml("a<&>\""), "a&lt;&amp;&gt;&quot;");
    }
}
