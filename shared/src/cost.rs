//! What running sukusuku costs: AWS list prices (Tokyo, USD before tax) with their free
//! tiers, the DynamoDB request-unit arithmetic, the size of an anchor item as DynamoDB
//! counts it, and LINE's plans. Pure arithmetic over counted units; `sukusuku simulate`
//! counts the units by running the real scan day after day.
//!
//! Every price is a named constant with its date and source, and every one can be
//! overridden (the simulator has a flag per price): prices change, and a city should check
//! them against the AWS pricing pages before quoting a figure.

use serde::Serialize;

use crate::domain::AnchorEntry;

// ── Prices ──────────────────────────────────────────────────────────────────────────────
// Source for the AWS figures: the AWS Price List for ap-northeast-1 (Tokyo), USD before
// tax, as recorded in the project's TOOLING.md ("Published figures", found 2026-11).

/// Lambda on arm64, per GB-second of billed duration (INIT included on provided.al2023).
pub const LAMBDA_USD_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// Lambda, per million requests (invocations).
pub const LAMBDA_USD_PER_MILLION_REQUESTS: f64 = 0.20;
/// DynamoDB on-demand, per million write request units (after the 2024-11-01 price cut).
pub const DYNAMODB_USD_PER_MILLION_WRU: f64 = 0.715;
/// DynamoDB on-demand, per million read request units (after the 2024-11-01 price cut).
pub const DYNAMODB_USD_PER_MILLION_RRU: f64 = 0.1425;
/// SQS standard queue, per million requests (each 64 KB chunk of a payload is one).
pub const SQS_USD_PER_MILLION_REQUESTS: f64 = 0.40;
/// API Gateway HTTP API, per million requests (the webhook).
pub const HTTP_API_USD_PER_MILLION_REQUESTS: f64 = 1.29;
/// CloudWatch, per standard alarm a month.
pub const CLOUDWATCH_USD_PER_ALARM_MONTH: f64 = 0.10;
/// CloudWatch Logs, per GB ingested.
pub const CLOUDWATCH_LOGS_USD_PER_GB: f64 = 0.76;

/// Always-free a month (per account, not only in the first year), same source.
pub const LAMBDA_FREE_REQUESTS: f64 = 1_000_000.0;
pub const LAMBDA_FREE_GB_SECONDS: f64 = 400_000.0;
pub const SQS_FREE_REQUESTS: f64 = 1_000_000.0;
pub const SCHEDULER_FREE_INVOCATIONS: f64 = 14_000_000.0;

/// Yen per US dollar: 日本銀行「基準外国為替相場」for January 2026 (令和8年1月分), ¥155.
/// AWS bills in dollars (or converts at its own rate); 10% consumption tax comes on top.
pub const YEN_PER_USD: f64 = 155.0;

/// The prices one estimate uses: the constants above unless overridden.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prices {
    pub lambda_gb_second: f64,
    pub lambda_million_requests: f64,
    pub dynamodb_million_wru: f64,
    pub dynamodb_million_rru: f64,
    pub sqs_million_requests: f64,
    pub http_api_million_requests: f64,
    pub alarm_month: f64,
    pub logs_gb: f64,
    pub yen_per_usd: f64,
}

impl Default for Prices {
    fn default() -> Prices {
        Prices {
            lambda_gb_second: LAMBDA_USD_PER_GB_SECOND,
            lambda_million_requests: LAMBDA_USD_PER_MILLION_REQUESTS,
            dynamodb_million_wru: DYNAMODB_USD_PER_MILLION_WRU,
            dynamodb_million_rru: DYNAMODB_USD_PER_MILLION_RRU,
            sqs_million_requests: SQS_USD_PER_MILLION_REQUESTS,
            http_api_million_requests: HTTP_API_USD_PER_MILLION_REQUESTS,
            alarm_month: CLOUDWATCH_USD_PER_ALARM_MONTH,
            logs_gb: CLOUDWATCH_LOGS_USD_PER_GB,
            yen_per_usd: YEN_PER_USD,
        }
    }
}

/// What one calendar month used (the free tiers are monthly).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Usage {
    pub lambda_requests: f64,
    pub lambda_gb_seconds: f64,
    pub read_units: f64,
    pub write_units: f64,
    pub sqs_requests: f64,
    pub http_api_requests: f64,
    pub scheduler_invocations: f64,
    pub log_bytes: f64,
    /// Alarm-months (8 alarms for a whole month is 8; a part of a month is a share).
    pub alarm_months: f64,
}

impl Usage {
    pub fn add(&mut self, o: &Usage) {
        self.lambda_requests += o.lambda_requests;
        self.lambda_gb_seconds += o.lambda_gb_seconds;
        self.read_units += o.read_units;
        self.write_units += o.write_units;
        self.sqs_requests += o.sqs_requests;
        self.http_api_requests += o.http_api_requests;
        self.scheduler_invocations += o.scheduler_invocations;
        self.log_bytes += o.log_bytes;
        self.alarm_months += o.alarm_months;
    }
}

/// A month's AWS bill in dollars, by service, after the free tiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Bill {
    pub lambda: f64,
    pub dynamodb: f64,
    pub sqs: f64,
    pub http_api: f64,
    pub scheduler: f64,
    pub cloudwatch: f64,
}

impl Bill {
    pub fn total_usd(&self) -> f64 {
        self.lambda + self.dynamodb + self.sqs + self.http_api + self.scheduler + self.cloudwatch
    }

    pub fn add(&mut self, o: &Bill) {
        self.lambda += o.lambda;
        self.dynamodb += o.dynamodb;
        self.sqs += o.sqs;
        self.http_api += o.http_api;
        self.scheduler += o.scheduler;
        self.cloudwatch += o.cloudwatch;
    }
}

const MILLION: f64 = 1_000_000.0;
const GB: f64 = 1024.0 * 1024.0 * 1024.0;

/// One calendar month's bill: each free tier taken off that month's usage first. Scheduler
/// invocations past the free tier are not priced (a city uses about 45,000 of 14 million).
pub fn monthly_bill(u: &Usage, p: &Prices) -> Bill {
    let over = |used: f64, free: f64| (used - free).max(0.0);
    Bill {
        lambda: over(u.lambda_requests, LAMBDA_FREE_REQUESTS) / MILLION * p.lambda_million_requests
            + over(u.lambda_gb_seconds, LAMBDA_FREE_GB_SECONDS) * p.lambda_gb_second,
        dynamodb: u.read_units / MILLION * p.dynamodb_million_rru
            + u.write_units / MILLION * p.dynamodb_million_wru,
        sqs: over(u.sqs_requests, SQS_FREE_REQUESTS) / MILLION * p.sqs_million_requests,
        http_api: u.http_api_requests / MILLION * p.http_api_million_requests,
        scheduler: 0.0,
        cloudwatch: u.alarm_months * p.alarm_month + u.log_bytes / GB * p.logs_gb,
    }
}

// ── DynamoDB units ──────────────────────────────────────────────────────────────────────
// From the DynamoDB developer guide, "DynamoDB read and write operations": reads in 4 KB
// units (an eventually consistent read is half a unit), writes in 1 KB units, a Query
// reads the sum of its items' sizes rounded up per 1 MB page, and a read that finds
// nothing still costs its minimum.

pub const READ_UNIT_BYTES: u64 = 4096;
pub const WRITE_UNIT_BYTES: u64 = 1024;
pub const QUERY_PAGE_BYTES: u64 = 1024 * 1024;

/// Read units for reading `bytes` in one request (at least one 4 KB unit).
pub fn read_units(bytes: u64, strongly_consistent: bool) -> f64 {
    let units = bytes.div_ceil(READ_UNIT_BYTES).max(1) as f64;
    if strongly_consistent {
        units
    } else {
        units / 2.0
    }
}

/// Write units for writing an item of `bytes` (at least one 1 KB unit).
pub fn write_units(bytes: u64) -> f64 {
    bytes.div_ceil(WRITE_UNIT_BYTES).max(1) as f64
}

/// Read units of one eventually consistent Query (a GSI's only kind) that returns items of
/// these sizes: each 1 MB page rounded up to 4 KB units on its own; an empty result costs
/// the minimum.
pub fn query_read_units(sizes: impl IntoIterator<Item = u64>) -> f64 {
    let (mut units, mut page, mut pages) = (0.0, 0u64, 0u32);
    for size in sizes {
        if page > 0 && page + size > QUERY_PAGE_BYTES {
            units += read_units(page, false);
            pages += 1;
            page = 0;
        }
        page += size;
    }
    if page > 0 || pages == 0 {
        units += read_units(page, false);
    }
    units
}

/// Bytes DynamoDB counts for a number: about one per two significant digits, plus one.
pub fn number_bytes(n: u64) -> u64 {
    let digits = n.checked_ilog10().map_or(1, |d| d + 1) as u64;
    digits.div_ceil(2) + 1
}

/// The size of a pregnancy's or child's anchor item (and its copy in the `anchors` index,
/// which projects every attribute), by the layout in `aws::dynamo::codec`: the keys, the
/// index keys, kind, date, user, subject, easy, settings (a map; its sets stored as lists),
/// nickname, `delivered` (a string set) and one `step#<series>` number per series.
pub fn anchor_item_bytes(e: &AnchorEntry) -> u64 {
    let user = e.user_id.as_str().len() as u64;
    let subject = e.subject.len() as u64;
    let s = |name: &str, value: u64| name.len() as u64 + value;
    let list = |items: &mut dyn Iterator<Item = &String>| {
        3 + items.map(|v| 1 + v.len() as u64).sum::<u64>()
    };
    let mut settings = 3;
    let st = &e.settings;
    if !st.muted.is_empty() {
        settings += 1 + "muted".len() as u64 + list(&mut st.muted.iter());
    }
    if let Some(d) = &st.district {
        settings += 1 + "district".len() as u64 + d.len() as u64;
    }
    if !st.household.is_empty() {
        settings += 1 + "household".len() as u64 + list(&mut st.household.iter());
    }
    if let Some(n) = &st.nursery {
        settings += 1 + "nursery".len() as u64 + n.len() as u64;
    }
    let kind = e.kind.key_prefix().len() as u64;
    s("pk", 5 + user)
        + s("sk", 7 + subject)
        // `birth#2025-11`, `20#<user>#<subject>`
        + s("apk", kind + 8)
        + s("ask", 4 + user + subject)
        + s("kind", kind)
        + s("date", 10)
        + s("user", user)
        + s("subject", subject)
        + s("easy", 1)
        + s("settings", settings)
        + s("nickname", e.nickname.as_ref().map_or(1, |n| n.len() as u64))
        + if e.delivered.is_empty() {
            0
        } else {
            s(
                "delivered",
                e.delivered.iter().map(|d| d.len() as u64).sum(),
            )
        }
        + e.steps
            .iter()
            .map(|(series, n)| s("step#", series.len() as u64 + number_bytes(*n as u64)))
            .sum::<u64>()
}

// ── LINE ────────────────────────────────────────────────────────────────────────────────
// Source: TOOLING.md (LINE official account plans, found 2026-11). Replies are never
// billed; push and multicast count one message per recipient.

/// One of LINE's ordinary plans: a monthly fee covering `included` messages; the standard
/// plan sells more at about `extra_yen` each, the smaller ones stop at their allowance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LinePlan {
    pub name: &'static str,
    pub monthly_yen: f64,
    pub included: u64,
    pub extra_yen: Option<f64>,
}

pub const LINE_PLANS: [LinePlan; 3] = [
    LinePlan {
        name: "コミュニケーションプラン",
        monthly_yen: 0.0,
        included: 200,
        extra_yen: None,
    },
    LinePlan {
        name: "ライトプラン",
        monthly_yen: 5_000.0,
        included: 5_000,
        extra_yen: None,
    },
    LinePlan {
        name: "スタンダードプラン",
        monthly_yen: 15_000.0,
        included: 30_000,
        extra_yen: Some(3.0),
    },
];

/// The 地方公共団体プラン: a verified municipality's account, ¥0 a month, unlimited messages.
pub const LINE_MUNICIPAL_PLAN: &str = "地方公共団体プラン";

/// The cheapest ordinary plan that can send `messages` in a month, and its yen.
pub fn cheapest_line_plan(messages: u64) -> (LinePlan, f64) {
    LINE_PLANS
        .iter()
        .filter_map(|p| {
            let extra = messages.saturating_sub(p.included);
            match (extra, p.extra_yen) {
                (0, _) => Some((*p, p.monthly_yen)),
                (n, Some(each)) => Some((*p, p.monthly_yen + n as f64 * each)),
                (_, None) => None,
            }
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((LINE_PLANS[2], LINE_PLANS[2].monthly_yen))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Resident, UserId};

    #[test]
    fn free_tiers_come_off_each_month_and_the_rest_is_priced() {
        let p = Prices::default();
        let inside = Usage {
            lambda_requests: 999_999.0,
            lambda_gb_seconds: 400_000.0,
            sqs_requests: 1_000_000.0,
            scheduler_invocations: 44_640.0,
            ..Usage::default()
        };
        assert_eq!(monthly_bill(&inside, &p).total_usd(), 0.0);
        let over = Usage {
            lambda_requests: 3_000_000.0,
            lambda_gb_seconds: 500_000.0,
            read_units: 2_000_000.0,
            write_units: 1_000_000.0,
            sqs_requests: 2_000_000.0,
            http_api_requests: 1_000_000.0,
            log_bytes: GB,
            alarm_months: 8.0,
            ..Usage::default()
        };
        let b = monthly_bill(&over, &p);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(b.lambda, 2.0 * 0.20 + 100_000.0 * 0.000_013_333_4));
        assert!(close(b.dynamodb, 2.0 * 0.1425 + 0.715));
        assert!(close(b.sqs, 0.40));
        assert!(close(b.http_api, 1.29));
        assert!(close(b.cloudwatch, 0.80 + 0.76));
        // Overridden prices are the ones used.
        let doubled = Prices {
            dynamodb_million_wru: 1.43,
            ..p
        };
        assert!(close(monthly_bill(&over, &doubled).dynamodb, 0.285 + 1.43));
    }

    #[test]
    fn request_units_round_up_per_request_and_per_page() {
        assert_eq!(read_units(0, true), 1.0);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(write_units(1), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(query_read_units([]), 0.5);
        // 10 items of 500 bytes: 5,000 bytes, two 4 KB units, halved.
        assert_eq!(query_read_units([500; 10]), 1.0);
        // 3,000 items of 700 bytes (2.1 MB) make three pages, each rounded up on its own.
        let per_page = 1_048_576 / 700; // 1,497 items fit a page
        let pages = [per_page, per_page, 3_000 - 2 * per_page];
        let want: f64 = pages.iter().map(|n| read_units(*n * 700, false)).sum();
        assert_eq!(query_read_units([700; 3_000]), want);
        assert_eq!(number_bytes(0), 2);
        assert_eq!(number_bytes(7), 2);
        assert_eq!(number_bytes(1092), 3);
        assert_eq!(number_bytes(12345), 4);
    }

    #[test]
    fn an_anchor_item_grows_with_what_it_received() {
        let mut r = Resident::new(UserId::parse(&format!("U{:032x}", 1)).expect("id"));
        r.add_child(chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("date"));
        let mut e = r.anchor_entries().remove(0);
        let bare = anchor_item_bytes(&e);
        // Keys and fixed attributes of a 33-character LINE id and child `c1`.
        assert_eq!(
            bare,
            (2 + 38)
                + (2 + 9)
                + (3 + 13)
                + (3 + 39)
                + (4 + 5)
                + (4 + 10)
                + (4 + 33)
                + (7 + 2)
                + (4 + 1)
                + (8 + 3)
                + (8 + 1)
        );
        e.delivered.insert("one-week".into());
        assert_eq!(anchor_item_bytes(&e), bare + 9 + 8);
        e.steps.insert("daily-newborn".into(), 12);
        assert_eq!(anchor_item_bytes(&e), bare + 17 + 5 + 13 + 2);
    }

    #[test]
    fn the_cheapest_line_plan_follows_the_messages() {
        assert_eq!(cheapest_line_plan(0).0.name, "コミュニケーションプラン");
        assert_eq!(cheapest_line_plan(200).1, 0.0);
        assert_eq!(cheapest_line_plan(201), (LINE_PLANS[1], 5_000.0));
        assert_eq!(cheapest_line_plan(30_000), (LINE_PLANS[2], 15_000.0));
        assert_eq!(cheapest_line_plan(30_010).1, 15_030.0);
    }
}
