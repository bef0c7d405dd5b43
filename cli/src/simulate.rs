//! `sukusuku simulate`: what a year of sukusuku costs a city. A synthetic population
//! (`population`) is registered in the embedded store and run day after day through the
//! real daily scan (`shared::handlers::scan::run_daily_scan`), whose jobs are then sent as
//! the sender sends them (the deliveries recorded, so each next day behaves as in
//! production). Everything AWS bills is counted as it happens or modelled by named
//! assumptions (`meter`), priced with `shared::cost`, and reported per month and per day
//! with LINE's side apart (`report`).

mod meter;
mod population;
mod report;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use clap::Args;
use shared::catalog::Catalog;
use shared::cost::{self, Prices};
use shared::dates::add_days;
use shared::handlers::scan::run_daily_scan;
use shared::store::{LocalStore, Store};
use shared::synthetic::{self, Choices, PROGRAMME_CATEGORY};

use crate::catalog_file;
use meter::{CountingQueue, Day, Metered};
use population::{Leave, Plan, Population};

/// More friends than any prefecture has families with small children.
pub const MAX_RESIDENTS: u64 = 5_000_000;
/// Three years.
pub const MAX_DAYS: u64 = 1_096;
/// The default first day: the start of a Japanese fiscal year (a city budgets from April).
pub const DEFAULT_START: (i32, u32, u32) = (2027, 4, 1);
/// Days in an average month, for rates given a month.
const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

#[derive(Args)]
pub struct SimulateArgs {
    /// The catalog to run (its steps files beside it), checked as `catalog check` does.
    #[arg(long, value_name = "FILE")]
    catalog: PathBuf,
    /// Friends registered on the first day (more join, and some leave, during the period).
    #[arg(long, value_name = "N")]
    residents: u64,
    /// Days to run, one daily scan each.
    #[arg(long, value_name = "D", default_value_t = 365)]
    days: u64,
    /// The first day (default 2027-04-01, the start of a fiscal year).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::parse_date)]
    start: Option<NaiveDate>,
    /// The population's seed: the same seed and flags give the same population and report.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Add a きずな-style daily programme (the five series the example catalog's header
    /// shows, 533 generated steps in the category `daily`) to the catalog.
    #[arg(long)]
    daily_programme: bool,
    /// Also draw the months as an SVG chart into FILE.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Print the report as JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Write every simulated resident (registration, 受信設定, joining, birth, leaving) and
    /// the messages they received, one JSON object a line, into FILE.
    #[arg(long, value_name = "FILE")]
    residents_out: Option<PathBuf>,
    #[command(flatten)]
    prices: PriceArgs,
}

/// Each price of `shared::cost`, overridable (USD, ap-northeast-1, before tax).
#[derive(Args)]
struct PriceArgs {
    /// Yen per US dollar (default: 日本銀行 基準外国為替相場, January 2026).
    #[arg(long, value_name = "YEN", default_value_t = cost::YEN_PER_USD)]
    yen_per_usd: f64,
    /// Lambda arm64, USD per GB-second.
    #[arg(long, value_name = "USD", default_value_t = cost::LAMBDA_USD_PER_GB_SECOND)]
    price_lambda_gb_second: f64,
    /// Lambda, USD per million requests.
    #[arg(long, value_name = "USD", default_value_t = cost::LAMBDA_USD_PER_MILLION_REQUESTS)]
    price_lambda_requests: f64,
    /// DynamoDB on-demand, USD per million write request units.
    #[arg(long, value_name = "USD", default_value_t = cost::DYNAMODB_USD_PER_MILLION_WRU)]
    price_dynamodb_wru: f64,
    /// DynamoDB on-demand, USD per million read request units.
    #[arg(long, value_name = "USD", default_value_t = cost::DYNAMODB_USD_PER_MILLION_RRU)]
    price_dynamodb_rru: f64,
    /// SQS standard, USD per million requests.
    #[arg(long, value_name = "USD", default_value_t = cost::SQS_USD_PER_MILLION_REQUESTS)]
    price_sqs_requests: f64,
    /// API Gateway HTTP API, USD per million requests.
    #[arg(long, value_name = "USD", default_value_t = cost::HTTP_API_USD_PER_MILLION_REQUESTS)]
    price_http_api_requests: f64,
    /// CloudWatch, USD per alarm a month.
    #[arg(long, value_name = "USD", default_value_t = cost::CLOUDWATCH_USD_PER_ALARM_MONTH)]
    price_alarm_month: f64,
    /// CloudWatch Logs, USD per GB ingested.
    #[arg(long, value_name = "USD", default_value_t = cost::CLOUDWATCH_LOGS_USD_PER_GB)]
    price_logs_gb: f64,
}

impl PriceArgs {
    fn prices(&self) -> anyhow::Result<Prices> {
        let prices = Prices {
            lambda_gb_second: self.price_lambda_gb_second,
            lambda_million_requests: self.price_lambda_requests,
            dynamodb_million_wru: self.price_dynamodb_wru,
            dynamodb_million_rru: self.price_dynamodb_rru,
            sqs_million_requests: self.price_sqs_requests,
            http_api_million_requests: self.price_http_api_requests,
            alarm_month: self.price_alarm_month,
            logs_gb: self.price_logs_gb,
            yen_per_usd: self.yen_per_usd,
        };
        for (flag, value) in [
            ("--price-lambda-gb-second", prices.lambda_gb_second),
            ("--price-lambda-requests", prices.lambda_million_requests),
            ("--price-dynamodb-wru", prices.dynamodb_million_wru),
            ("--price-dynamodb-rru", prices.dynamodb_million_rru),
            ("--price-sqs-requests", prices.sqs_million_requests),
            (
                "--price-http-api-requests",
                prices.http_api_million_requests,
            ),
            ("--price-alarm-month", prices.alarm_month),
            ("--price-logs-gb", prices.logs_gb),
        ] {
            if !value.is_finite() || value < 0.0 {
                bail!("{flag} must be a price in USD, 0 or more (got {value})");
            }
        }
        if !prices.yen_per_usd.is_finite() || prices.yen_per_usd <= 0.0 {
            bail!(
                "--yen-per-usd must be more than 0 (got {})",
                prices.yen_per_usd
            );
        }
        Ok(prices)
    }
}

pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    if args.residents == 0 || args.residents > MAX_RESIDENTS {
        bail!(
            "--residents must be from 1 to {MAX_RESIDENTS} (got {}): the friends registered on \
             the first day",
            args.residents
        );
    }
    if args.days == 0 || args.days > MAX_DAYS {
        bail!(
            "--days must be from 1 to {MAX_DAYS} (got {}): one daily scan a day",
            args.days
        );
    }
    let prices = args.prices.prices()?;
    let start = args.start.unwrap_or_else(|| {
        NaiveDate::from_ymd_opt(DEFAULT_START.0, DEFAULT_START.1, DEFAULT_START.2)
            .unwrap_or_default()
    });
    let days = args.days as u32;
    let end = add_days(start, i64::from(days) - 1)
        .ok_or_else(|| anyhow!("--start {start} plus {days} days is past the calendar"))?;
    let (catalog, source) = catalog_file::read(&args.catalog)?;
    let (catalog, catalog_bytes) = if args.daily_programme {
        if catalog.category(PROGRAMME_CATEGORY).is_none() {
            bail!(
                "--daily-programme puts its notices in the category `{PROGRAMME_CATEGORY}`, \
                 which {} does not have; add `- {{id: {PROGRAMME_CATEGORY}, label: 毎日のひとこと}}` \
                 to its categories",
                args.catalog.display()
            );
        }
        let (with, _) = synthetic::with_daily_programme(source);
        let catalog = Catalog::from_source(&with).map_err(|e| {
            anyhow!(
                "the daily programme could not be added to {}: {e}",
                args.catalog.display()
            )
        })?;
        (catalog, with.text_bytes())
    } else {
        (catalog, source.text_bytes())
    };
    let population = Population::new(
        args.seed,
        args.residents as usize,
        start,
        days,
        Choices::of(&catalog),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let started = Instant::now();
    let run = runtime.block_on(simulate(&catalog, catalog_bytes, &population))?;
    let elapsed = started.elapsed();
    if let Some(path) = &args.residents_out {
        write_residents(path, &population, &run.received)?;
    }
    let report = report::Report::new(
        report::Setup {
            catalog: args.catalog.display().to_string(),
            daily_programme: args.daily_programme,
            residents: population.initial,
            days,
            start,
            end,
            seed: args.seed,
            prices,
        },
        run.population,
        run.days,
        run.largest_item,
    );
    if let Some(path) = &args.svg {
        std::fs::write(path, report.svg())
            .with_context(|| format!("cannot write the chart to {}", path.display()))?;
    }
    let out = if args.json {
        serde_json::to_string_pretty(&report).context("cannot encode the report")? + "\n"
    } else {
        report.text()
    };
    std::io::stdout()
        .write_all(out.as_bytes())
        .context("cannot write the report")?;
    eprintln!(
        "simulated {} residents over {days} days in {:.1} s",
        population.len(),
        elapsed.as_secs_f64()
    );
    Ok(())
}

/// What happens to a resident on a day, before the 09:00 scan.
#[derive(Clone, Copy)]
enum Event {
    Join,
    Birth,
    Leave(Leave),
}

struct Run {
    days: Vec<Day>,
    population: report::PopulationSummary,
    /// Messages each resident received, by resident number.
    received: Vec<u32>,
    /// The largest anchor item read, and reads of items over 1 KB.
    largest_item: (u64, u64),
}

async fn simulate(
    catalog: &Catalog,
    catalog_bytes: usize,
    population: &Population,
) -> anyhow::Result<Run> {
    let local = LocalStore::in_memory();
    let store = Metered::new(&local, catalog, population.start, population.initial);
    let queue = CountingQueue::default();
    let mut events: Vec<Vec<(usize, Event)>> = vec![Vec::new(); population.days as usize];
    let mut summary = report::PopulationSummary {
        at_start: population.initial,
        ..Default::default()
    };
    for index in 0..population.len() {
        let plan = population.plan(index);
        let mut at = |day: u32, e: Event| {
            if let Some(list) = events.get_mut(day as usize) {
                list.push((index, e));
            }
        };
        match plan.joins {
            None => {
                summary.pregnant_at_start += usize::from(plan.due.is_some());
                summary.children_at_start += plan.children.len();
                store
                    .save_resident(&plan.resident(), None)
                    .await
                    .context("cannot register a resident")?;
            }
            Some(day) => at(day, Event::Join),
        }
        if let Some(b) = &plan.birth {
            at(b.registered, Event::Birth);
        }
        if let Some((day, how)) = plan.leaves {
            at(day, Event::Leave(how));
        }
    }
    let mut received = vec![0u32; population.len()];
    let mut active = population.initial as f64;
    let mut chat = 0.0;
    let mut days = Vec::with_capacity(population.days as usize);
    let mut timing = (0.0, 0.0);
    for (n, today) in events.iter().enumerate() {
        let date = add_days(population.start, n as i64).unwrap_or(population.start);
        let mut day = Day {
            date: Some(date),
            ..Day::default()
        };
        for (index, event) in today {
            happen(&store, population, *index, *event, &mut day).await?;
        }
        active += day.joins as f64 - (day.stops + day.blocks) as f64;
        // Everyday chat, spread evenly.
        chat += active * meter::READ_ONLY_TURNS_PER_RESIDENT_MONTH / DAYS_PER_MONTH;
        let turns = chat.floor();
        chat -= turns;
        meter::read_only_turns(&mut day, turns as u64);
        meter::webhook_day(&mut day);
        // 09:00 Asia/Tokyo is midnight UTC.
        let now = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default());
        let t0 = Instant::now();
        let scan = run_daily_scan(&store, &queue, catalog, date, now)
            .await
            .with_context(|| format!("the daily scan of {date} failed"))?;
        timing.0 += t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let (units, pages) = store.take_reads();
        let (batches, billed) = queue.take_sends();
        day.read_units += units;
        day.query_pages = pages;
        day.sqs_send_batches = batches;
        day.sqs_requests += billed;
        day.lookups = scan.lookups as u64;
        day.entries_read = scan.entries_read as u64;
        day.due = scan.due as u64;
        day.not_targeted = scan.not_targeted as u64;
        day.jobs = scan.jobs as u64;
        meter::scanner_day(&mut day, catalog_bytes, scan.enqueued as u64);
        meter::send_all(&store, &queue, &mut day, &mut received).await?;
        timing.1 += t1.elapsed().as_secs_f64();
        meter::sender_day(&mut day);
        day.alarm_months = meter::ALARMS / f64::from(days_in_month(date));
        summary.joined += day.joins as usize;
        summary.births += day.births as usize;
        summary.stopped += day.stops as usize;
        summary.blocked += day.blocks as usize;
        days.push(day);
    }
    summary.at_end = local.resident_count();
    eprintln!(
        "the daily scans took {:.1} s, sending and recording {:.1} s",
        timing.0, timing.1
    );
    Ok(Run {
        days,
        population: summary,
        received,
        largest_item: store.largest_item(),
    })
}

/// Applies one event to the store as the chat would, and counts its webhook turns.
async fn happen(
    store: &Metered<'_>,
    population: &Population,
    index: usize,
    event: Event,
    day: &mut Day,
) -> anyhow::Result<()> {
    let user = Population::user(index);
    match event {
        Event::Join => {
            let resident = population.plan(index).resident();
            store
                .save_resident(&resident, None)
                .await
                .context("cannot register a new friend")?;
            meter::joining_turns(day, &resident);
            day.joins += 1;
        }
        Event::Birth => {
            let Some(birth) = population.plan(index).birth else {
                return Ok(());
            };
            let Some(before) = store.resident(&user).await? else {
                return Ok(());
            };
            let mut after = before.clone();
            after.pregnancy = None;
            for nickname in birth.nicknames {
                population::add_child(&mut after, birth.date, nickname);
            }
            store
                .save_resident(&after, None)
                .await
                .context("cannot register a birth")?;
            meter::birth_turns(day, &before, &after);
            day.births += 1;
        }
        Event::Leave(how) => {
            let Some(resident) = store.resident(&user).await? else {
                return Ok(());
            };
            store
                .delete_resident(&user, None)
                .await
                .context("cannot delete a resident")?;
            match how {
                Leave::Stop => {
                    meter::read_only_turn(day);
                    meter::deleting_turn(day, &resident);
                    day.stops += 1;
                }
                Leave::Block => {
                    meter::deleting_turn(day, &resident);
                    day.blocks += 1;
                }
            }
        }
    }
    Ok(())
}

fn days_in_month(date: NaiveDate) -> u32 {
    let first = date.with_day(1).unwrap_or(date);
    let next = shared::dates::add_months(first, 1).unwrap_or(first);
    (next - first).num_days().max(1) as u32
}

/// One JSON line per resident: the plan and the messages received.
fn write_residents(
    path: &std::path::Path,
    population: &Population,
    received: &[u32],
) -> anyhow::Result<()> {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        user: String,
        #[serde(flatten)]
        plan: &'a Plan,
        joins_on: Option<NaiveDate>,
        leaves_on: Option<NaiveDate>,
        birth_registered_on: Option<NaiveDate>,
        received: u32,
    }
    let on = |day: u32| add_days(population.start, i64::from(day));
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path)
            .with_context(|| format!("cannot write the residents to {}", path.display()))?,
    );
    for (index, received) in received.iter().enumerate() {
        let plan = population.plan(index);
        let line = Line {
            user: Population::user(index).as_str().to_string(),
            joins_on: plan.joins.and_then(on),
            leaves_on: plan.leaves.and_then(|(d, _)| on(d)),
            birth_registered_on: plan.birth.as_ref().and_then(|b| on(b.registered)),
            plan: &plan,
            received: *received,
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
        .with_context(|| format!("cannot write the residents to {}", path.display()))
}

/// Month keys (`2027-04`) in order, for grouping days.
fn month_of(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// Days grouped by calendar month, in order.
fn by_month(days: &[Day]) -> BTreeMap<String, Vec<&Day>> {
    let mut months: BTreeMap<String, Vec<&Day>> = BTreeMap::new();
    for d in days {
        if let Some(date) = d.date {
            months.entry(month_of(date)).or_default().push(d);
        }
    }
    months
}
