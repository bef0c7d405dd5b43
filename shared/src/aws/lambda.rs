//! The three Lambda functions' handlers over their events: API Gateway (HTTP API) requests
//! for the webhook, the EventBridge Scheduler payload for the scanner, SQS batches for the
//! sender. Each turns its event into a call of the shared handler and the result back into
//! what Lambda expects. The mains in `functions/` only build these once and run them.

use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::{DateTime, NaiveDate, Utc};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use super::{ConfigError, DynamoStore, LiveCatalog, SqsQueue, load_catalog};
use crate::dates::{parse_ymd, tokyo_date};
use crate::handlers::scan::{ScanReport, run_daily_scan};
use crate::handlers::send::{DrainPolicy, Settled, settle};
use crate::handlers::webhook::{WebhookContext, handle_webhook};
use crate::line::HttpLineApi;
use crate::line::signature::ChannelSecret;
use crate::pacer::Pacer;
use crate::queue::{QueuedJob, receive_count};

/// `functions/webhook`: `POST /webhook` behind the HTTP API.
pub struct WebhookFunction {
    pub store: DynamoStore,
    pub line: HttpLineApi,
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
        let catalog = self.catalog.get().await;
        let ctx = WebhookContext {
            store: &self.store,
            line: &self.line,
            catalog: &catalog,
            secret: &self.secret,
            now,
        };
        let answer = handle_webhook(&ctx, signature, body).await;
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

/// The scanner's payload. The schedule sends `{}`; a re-run or backfill names the day:
/// `{"date": "2026-11-22"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    #[serde(default)]
    pub date: Option<String>,
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
    match request.date {
        None => Ok(tokyo_date(now)),
        Some(raw) => parse_ymd(&raw).ok_or_else(|| {
            ScanFailure::BadPayload(format!(
                "`date` must be a real YYYY-MM-DD date, not `{raw}`"
            ))
        }),
    }
}

/// `functions/scanner`: the daily scan for the payload's date with the published catalog.
pub struct ScannerFunction {
    pub store: DynamoStore,
    pub queue: SqsQueue,
}

impl ScannerFunction {
    pub async fn handle(
        &self,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<ScanReport, ScanFailure> {
        let day = scan_date(&payload, now)?;
        let catalog = load_catalog(&self.store).await?;
        Ok(run_daily_scan(&self.store, &self.queue, &catalog, day, now).await?)
    }
}

/// `functions/sender`: one SQS batch. Messages sent, already done or dead-lettered are
/// settled (Lambda deletes them); retryable ones are reported as item failures after their
/// visibility was set to the backoff, so SQS hands them out again then.
pub struct SenderFunction {
    pub store: DynamoStore,
    pub queue: SqsQueue,
    pub line: HttpLineApi,
    pub pacer: Pacer,
    pub policy: DrainPolicy,
}

/// Backoff for queue redeliveries: seconds to minutes, unlike the local drain's
/// milliseconds, since each retry is a new invocation.
pub fn sender_policy(max_attempts: u32) -> DrainPolicy {
    DrainPolicy {
        max_attempts,
        base_delay: Duration::from_secs(10),
        max_delay: Duration::from_secs(900),
        deadline: Duration::ZERO,
    }
}

impl SenderFunction {
    pub async fn handle(&self, event: SqsEvent, now: DateTime<Utc>) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for record in event.records {
            let id = record.message_id.clone().unwrap_or_default();
            let message = QueuedJob {
                receive_count: receive_count(
                    record
                        .attributes
                        .get("ApproximateReceiveCount")
                        .map(String::as_str),
                ),
                body: record.body.unwrap_or_default(),
                receipt: record.receipt_handle.unwrap_or_default(),
            };
            let failed = match settle(
                &self.store,
                &self.queue,
                &self.line,
                &self.pacer,
                &message,
                now,
                &self.policy,
            )
            .await
            {
                Ok(Settled::Retrying) => true,
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
        response
    }
}
