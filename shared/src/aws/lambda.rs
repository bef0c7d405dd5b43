//! The three Lambda functions' handlers over their events: API Gateway (HTTP API) requests
//! for the webhook, the EventBridge Scheduler payload for the scanner, SQS batches for the
//! sender. Each turns its event into a call of the shared handler and the result back into
//! what Lambda expects. The mains in `functions/` only build these once and run them.

use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::future::join_all;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use super::{ConfigError, DynamoStore, LiveCatalog, SqsQueue, load_catalog};
use crate::dates::{parse_ymd, tokyo_date};
use crate::handlers::offers::sweep;
use crate::handlers::scan::{ScanReport, run_daily_scan};
use crate::handlers::send::{DrainPolicy, Settled, settle};
use crate::handlers::webhook::{WebhookContext, WebhookResponse, handle_verified, verify_request};
use crate::line::signature::ChannelSecret;
use crate::line::{HttpLineApi, HttpLineApiBuilder};
use crate::pacer::Pacer;
use crate::queue::{QueuedJob, first_received, receive_count};
use crate::store::Store;

/// The webhook's AWS calls are bounded so a slow DynamoDB makes the request fail (LINE
/// redelivers) well inside LINE's 2 seconds, instead of hanging until the function's timeout.
/// An attempt that gets no answer is given up after 500 ms and tried again within 50 ms:
/// the default backoff (up to 1 s, jittered) made the retry of one lost call miss the
/// deadline about half the time.
pub fn webhook_sdk_config(base: &aws_config::SdkConfig) -> aws_config::SdkConfig {
    let retry = base
        .retry_config()
        .cloned()
        .unwrap_or_else(aws_config::retry::RetryConfig::standard)
        .with_initial_backoff(Duration::from_millis(50));
    base.to_builder()
        .retry_config(retry)
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(300))
                .operation_attempt_timeout(Duration::from_millis(500))
                .operation_timeout(crate::handlers::webhook::STORE_DEADLINE)
                .build(),
        )
        .build()
}

/// The webhook's LINE client: a reply must come back well inside LINE's 2 seconds (see
/// `REPLY_DEADLINE`), so connecting and each reply are bounded far below the defaults.
pub fn webhook_line_client(base: &str, access_token: &str) -> HttpLineApiBuilder {
    HttpLineApi::builder(base, access_token)
        .connect_timeout(Duration::from_millis(300))
        .reply_timeout(Duration::from_secs(1))
}

/// `functions/webhook`: `POST /webhook` behind the HTTP API.
pub struct WebhookFunction {
    pub store: DynamoStore,
    pub line: HttpLineApi,
    pub events: super::EventBridgeEvents,
    pub secret: ChannelSecret,
    pub catalog: LiveCatalog,
}

impl WebhookFunction {
    /// lambda_http has already decoded a base64 body (`isBase64Encoded`), so `body` holds the
    /// exact bytes LINE signed.
    pub async fn handle(&self, request: Request, now: DateTime<Utc>) -> Response<Body> {
        let signature = request
            .headers()
            .get("x-line-signature")
            .and_then(|v| v.to_str().ok());
        let body: &[u8] = match request.body() {
            Body::Empty => &[],
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => &[],
        };
        let arrived = tokio::time::Instant::now();
        // Signature first: a forged request must not cost a catalog refresh (a table read).
        // The refresh then counts against the same deadline as the store work.
        let answer = match verify_request(&self.secret, signature, body) {
            Err(refused) => refused,
            Ok(request) => {
                let deadline = arrived + crate::handlers::webhook::STORE_DEADLINE;
                match tokio::time::timeout_at(deadline, self.catalog.get()).await {
                    Err(_) => WebhookResponse::timed_out(),
                    Ok(catalog) => {
                        let ctx = WebhookContext {
                            store: &self.store,
                            line: &self.line,
                            events: &self.events,
                            catalog: &catalog,
                            secret: &self.secret,
                            now,
                        };
                        handle_verified(&ctx, request, arrived).await
                    }
                }
            }
        };
        Response::builder()
            .status(answer.status)
            .header("content-type", "application/json")
            .body(Body::Text(answer.body))
            .unwrap_or_else(|_| {
                // Only an invalid status could get here; never let it become a 200.
                let mut failed = Response::new(Body::Empty);
                *failed.status_mut() = lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR;
                failed
            })
    }
}

/// The scanner's payload. The schedule sends the time it was due,
/// `{"scheduled_time": "2026-11-22T00:00:00Z"}`, so a late or retried run still scans the
/// day it was meant for; a re-run or backfill names the day, `{"date": "2026-11-22"}`;
/// `{}` scans today.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub scheduled_time: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanFailure {
    #[error("scheduler payload is not valid: {0}")]
    BadPayload(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("scan failed: {0}")]
    Scan(#[from] crate::handlers::scan::ScanError),
}

/// Which Asia/Tokyo date a scan payload asks for.
pub fn scan_date(
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<NaiveDate, ScanFailure> {
    // A scheduler may send `null` or nothing at all for "today".
    let request: ScanRequest = match payload {
        serde_json::Value::Null => ScanRequest::default(),
        other => serde_json::from_value(other.clone())
            .map_err(|e| ScanFailure::BadPayload(e.to_string()))?,
    };
    match (request.date, request.scheduled_time) {
        (Some(_), Some(_)) => Err(ScanFailure::BadPayload(
            "give either `date` or `scheduled_time`, not both".into(),
        )),
        (None, None) => Ok(tokyo_date(now)),
        (Some(raw), None) => parse_ymd(&raw).ok_or_else(|| {
            ScanFailure::BadPayload(format!(
                "`date` must be a real YYYY-MM-DD date, not `{raw}`"
            ))
        }),
        (None, Some(raw)) => DateTime::parse_from_rfc3339(&raw)
            .map(|t| tokyo_date(t.with_timezone(&Utc)))
            .map_err(|e| {
                ScanFailure::BadPayload(format!(
                    "`scheduled_time` must be an RFC 3339 time such as 2026-11-22T00:00:00Z, not `{raw}`: {e}"
                ))
            }),
    }
}

/// Whether a scanner payload asks for the waiting-list sweep (`{"sweep": "offers"}`)
/// rather than a day's scan.
pub fn sweep_requested(payload: &serde_json::Value) -> Result<bool, ScanFailure> {
    match payload.get("sweep") {
        None => Ok(false),
        Some(v) if v == "offers" && payload.as_object().is_some_and(|o| o.len() == 1) => Ok(true),
        Some(other) => Err(ScanFailure::BadPayload(format!(
            "`sweep` can only be `offers`, alone, not {other}"
        ))),
    }
}

/// `functions/scanner`: the daily scan for the payload's date with the published catalog,
/// reporting `ScanDaysMissed` and `DailyScanCompleted` as CloudWatch embedded metrics; or,
/// with `{"sweep": "offers"}` (a schedule every minute), the waiting-list sweep.
pub struct ScannerFunction {
    pub store: DynamoStore,
    pub queue: SqsQueue,
    /// The booking bus, for the waiting-list offers' events.
    pub events: super::EventBridgeEvents,
    /// `METRICS_NAMESPACE`; without it no metrics are written.
    pub metrics_namespace: Option<String>,
    /// `QUIET_HOURS` / `QUIET_HOURS_EXEMPT`: the sweep makes no offers in them.
    pub quiet: Option<crate::quiet_hours::QuietRules>,
}

impl ScannerFunction {
    pub async fn handle(
        &self,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<ScanReport, ScanFailure> {
        let day = scan_date(&payload, now)?;
        // Before the scan, so the alarm also hears about the gap when this run fails.
        let last = self
            .store
            .last_scanned_before(day)
            .await
            .map_err(crate::handlers::scan::ScanError::from)?;
        self.emit(now, &[("ScanDaysMissed", days_missed(last, day) as f64)]);
        let catalog = load_catalog(&self.store).await?;
        let report = run_daily_scan(&self.store, &self.queue, &catalog, day, now).await?;
        self.emit(now, &[("DailyScanCompleted", 1.0)]);
        Ok(report)
    }

    /// Runs what the payload asks: the waiting-list sweep for `{"sweep": "offers"}`, else
    /// the daily scan; the report as JSON.
    pub async fn invoke(
        &self,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<serde_json::Value, ScanFailure> {
        let json = |r: Result<serde_json::Value, serde_json::Error>| {
            r.map_err(|e| ScanFailure::BadPayload(e.to_string()))
        };
        if sweep_requested(&payload)? {
            let report = sweep(
                &self.store,
                &self.queue,
                &self.events,
                now,
                self.quiet.as_ref(),
            )
            .await?;
            json(serde_json::to_value(report))
        } else {
            json(serde_json::to_value(self.handle(payload, now).await?))
        }
    }

    fn emit(&self, now: DateTime<Utc>, metrics: &[(&str, f64)]) {
        if let Some(namespace) = &self.metrics_namespace {
            println!("{}", embedded_metrics(namespace, now, metrics));
        }
    }
}

/// Days between the last completed scan before `day` and `day` that have no completed scan (0 when the
/// previous day completed, when `day` is a backfill, or when nothing was ever scanned).
pub fn days_missed(last: Option<NaiveDate>, day: NaiveDate) -> i64 {
    match last {
        Some(last) if last < day => (day - last).num_days() - 1,
        _ => 0,
    }
}

/// One CloudWatch embedded-metric-format line: Lambda's log pipeline turns it into metrics
/// without a PutMetricData call (and its IAM permission).
pub fn embedded_metrics(namespace: &str, now: DateTime<Utc>, metrics: &[(&str, f64)]) -> String {
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[]],
                "Metrics": metrics
                    .iter()
                    .map(|(name, _)| serde_json::json!({ "Name": name, "Unit": "Count" }))
                    .collect::<Vec<_>>(),
            }],
        },
    });
    for (name, value) in metrics {
        line[*name] = serde_json::json!(value);
    }
    line.to_string()
}

/// `functions/sender`: one SQS batch. Messages sent, already done or dead-lettered are
/// settled (Lambda deletes them); retried, deferred (quiet hours) and held (quota) ones are
/// reported as item failures after their visibility was set to the wait, so SQS hands them
/// out again then.
pub struct SenderFunction {
    pub store: DynamoStore,
    pub queue: SqsQueue,
    pub line: HttpLineApi,
    pub pacer: Pacer,
    pub policy: DrainPolicy,
    /// `METRICS_NAMESPACE`; without it no metrics are written.
    pub metrics_namespace: Option<String>,
}

/// The Lambda sender's policy: backoff from seconds to 15 minutes (each retry is a new
/// invocation), bounded by the retry window rather than a count, and the quiet hours.
pub fn sender_policy(settings: &crate::handlers::send::SendSettings) -> DrainPolicy {
    DrainPolicy {
        max_attempts: u32::MAX,
        base_delay: Duration::from_secs(10),
        max_delay: Duration::from_secs(900),
        deadline: Duration::ZERO,
        retry_window: settings.retry_window,
        quiet: settings.quiet.clone(),
        quota_recheck: crate::handlers::send::QUOTA_RECHECK,
    }
}

/// What one batch came to, for the sender's metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchTally {
    pub held: usize,
    pub deferred: usize,
    pub dead_lettered: usize,
}

impl SenderFunction {
    /// The sender as its function builds it at init, from its environment (table, queues,
    /// `MAX_CONCURRENCY`, the [`crate::handlers::send::SendSettings`] variables, the LINE
    /// secrets' SSM names) and the AWS config; both connections are opened before the
    /// first batch arrives.
    pub async fn from_env(config: &aws_config::SdkConfig) -> Result<SenderFunction, ConfigError> {
        let settings = super::Settings::from_env()?;
        let (queue_url, dead_letter_url) = settings.queues()?;
        let concurrency = super::number_setting("MAX_CONCURRENCY", 2)?;
        let invalid = |message: String| ConfigError::Invalid {
            name: "sender settings".to_string(),
            message,
        };
        let send =
            crate::handlers::send::SendSettings::from_lookup(|name| std::env::var(name).ok())
                .map_err(invalid)?;
        let share = send.rate.share(concurrency).map_err(invalid)?;
        let credentials = super::LineCredentials::from_ssm(config).await?;
        // A rotated token is read again from SSM on LINE's first 401.
        let line = HttpLineApi::builder(&settings.line_api_base, &credentials.access_token)
            .reread_token_from(credentials.token_source())
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        let function = SenderFunction {
            store: DynamoStore::from_config(config, &settings.table),
            queue: SqsQueue::from_config(config, queue_url, dead_letter_url),
            line,
            pacer: Pacer::at(share),
            policy: sender_policy(&send),
            metrics_namespace: std::env::var("METRICS_NAMESPACE").ok(),
        };
        function.warm().await;
        Ok(function)
    }

    /// Opens the DynamoDB and LINE connections: a read of a key that never exists, with the
    /// one read action the sender may use, and LINE's bot info.
    async fn warm(&self) {
        if let Some(nobody) = crate::domain::UserId::parse("warm-up") {
            let probe = crate::delivery::Recipient {
                user: nobody,
                subjects: vec!["none".to_string()],
            };
            let _ = self
                .store
                .undelivered(&crate::delivery::Mark::Milestone("warm-up"), &[probe])
                .await;
        }
        self.line.warm().await;
    }

    pub async fn handle(&self, event: SqsEvent, now: DateTime<Utc>) -> SqsBatchResponse {
        let messages: Vec<(String, QueuedJob)> = event
            .records
            .into_iter()
            .map(|record| {
                let attribute = |name: &str| record.attributes.get(name).map(String::as_str);
                let message = QueuedJob {
                    receive_count: receive_count(attribute("ApproximateReceiveCount")),
                    first_received: first_received(attribute("ApproximateFirstReceiveTimestamp")),
                    body: record.body.clone().unwrap_or_default(),
                    receipt: record.receipt_handle.clone().unwrap_or_default(),
                };
                (record.message_id.clone().unwrap_or_default(), message)
            })
            .collect();
        // The batch's jobs go at once: the pacer spaces their requests, and one slow answer
        // from LINE does not hold up the rest.
        let settled = join_all(messages.iter().map(|(_, message)| {
            settle(
                &self.store,
                &self.queue,
                &self.line,
                &self.pacer,
                message,
                &self.policy,
                now,
            )
        }))
        .await;
        let mut response = SqsBatchResponse::default();
        let mut tally = BatchTally::default();
        for ((id, _), settled) in messages.into_iter().zip(settled) {
            let failed = match settled {
                Ok(Settled::Retrying) => true,
                Ok(Settled::Deferred) => {
                    tally.deferred += 1;
                    true
                }
                Ok(Settled::Held) => {
                    tally.held += 1;
                    true
                }
                Ok(Settled::DeadLettered) => {
                    tally.dead_lettered += 1;
                    false
                }
                Ok(_) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "could not settle a message; SQS will redeliver it");
                    true
                }
            };
            if failed {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
        if let Some(namespace) = &self.metrics_namespace
            && tally != BatchTally::default()
        {
            println!(
                "{}",
                embedded_metrics(
                    namespace,
                    now,
                    &[
                        ("QuotaHeldJobs", tally.held as f64),
                        ("QuietHoursDeferredJobs", tally.deferred as f64),
                        ("DeadLetteredJobs", tally.dead_lettered as f64),
                    ],
                )
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("time")
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn the_schedule_names_the_day_even_when_the_run_is_late() {
        // Due at 09:00 JST on Nov 22, retried after midnight JST: still Nov 22.
        let late = utc(2026, 11, 22, 16);
        let payload = json!({"scheduled_time": "2026-11-22T00:00:00Z"});
        assert_eq!(scan_date(&payload, late).expect("date"), day(2026, 11, 22));
        assert_eq!(
            scan_date(&json!({}), late).expect("date"),
            day(2026, 11, 23),
            "without a schedule time, today"
        );
        assert_eq!(
            scan_date(&json!({"date": "2026-11-20"}), late).expect("date"),
            day(2026, 11, 20)
        );
        for bad in [
            json!({"scheduled_time": "yesterday"}),
            json!({"scheduled_time": "2026-11-22T00:00:00Z", "date": "2026-11-22"}),
            json!({"scheduled": "2026-11-22T00:00:00Z"}),
        ] {
            assert!(
                matches!(scan_date(&bad, late), Err(ScanFailure::BadPayload(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn missed_days_count_the_gap_since_the_last_completed_scan() {
        assert_eq!(days_missed(Some(day(2026, 11, 21)), day(2026, 11, 22)), 0);
        assert_eq!(days_missed(Some(day(2026, 11, 19)), day(2026, 11, 22)), 2);
        assert_eq!(days_missed(Some(day(2026, 11, 22)), day(2026, 11, 22)), 0);
        assert_eq!(
            days_missed(Some(day(2026, 11, 25)), day(2026, 11, 22)),
            0,
            "a backfill"
        );
        assert_eq!(days_missed(None, day(2026, 11, 22)), 0, "a new deployment");
    }

    #[test]
    fn metrics_are_cloudwatch_embedded_metric_format() {
        let line = embedded_metrics(
            "sukusuku/city",
            utc(2026, 11, 22, 0),
            &[("ScanDaysMissed", 2.0)],
        );
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["ScanDaysMissed"], json!(2.0));
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], json!("sukusuku/city"));
        assert_eq!(directive["Metrics"][0]["Name"], json!("ScanDaysMissed"));
        assert_eq!(directive["Dimensions"], json!([[]]));
        assert_eq!(v["_aws"]["Timestamp"], json!(1_795_305_600_000i64));
    }
}
