//! `sukusuku serve`: the webhook, the daily 09:00 JST scan and the sender in one process, on
//! the embedded store and the in-process queue — the same handlers the Lambda functions run.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use shared::catalog::Catalog;
use shared::dates::{add_days, parse_ymd, tokyo_date, tokyo_instant};
use shared::handlers::scan::{ScanReport, run_daily_scan};
use shared::handlers::send::{DrainPolicy, DrainReport, drain};
use shared::handlers::webhook::{WebhookContext, handle_webhook};
use shared::line::HttpLineApi;
use shared::line::limits::{MAX_WEBHOOK_BODY_BYTES, MULTICAST_REQUESTS_PER_SECOND};
use shared::line::signature::ChannelSecret;
use shared::pacer::Pacer;
use shared::queue::MemoryQueue;
use shared::store::LocalStore;
use tracing_subscriber::EnvFilter;

use crate::catalog_file;

/// The daily run goes out at this hour, Asia/Tokyo.
const DAILY_HOUR: u32 = 9;

struct App {
    store: LocalStore,
    queue: MemoryQueue,
    line: HttpLineApi,
    catalog: Catalog,
    secret: ChannelSecret,
    pacer: Pacer,
    /// One daily run at a time (timer and /dev/daily).
    daily: tokio::sync::Mutex<()>,
}

fn required_env(name: &str, hint: &str) -> anyhow::Result<String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => Err(anyhow!("{name} is not set: {hint}")),
    }
}

pub fn run(addr: SocketAddr, catalog_path: &Path, data: Option<&Path>) -> anyhow::Result<()> {
    // A broken catalog refuses to start, before anything else happens.
    let catalog = catalog_file::load(catalog_path)?;
    let secret = required_env(
        "LINE_CHANNEL_SECRET",
        "copy it from the LINE Developers console (your Messaging API channel → Basic settings)",
    )?;
    let token = required_env(
        "LINE_CHANNEL_ACCESS_TOKEN",
        "issue a long-lived token in the LINE Developers console (Messaging API tab)",
    )?;
    let base = std::env::var("LINE_API_BASE").unwrap_or_else(|_| "https://api.line.me".to_string());
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let store = match data {
        Some(dir) => LocalStore::open(dir)
            .with_context(|| format!("cannot open the data directory {}", dir.display()))?,
        None => {
            tracing::warn!(
                "no --data DIR: registrations are kept in memory and lost when sukusuku stops"
            );
            LocalStore::in_memory()
        }
    };
    let app = Arc::new(App {
        store,
        queue: MemoryQueue::new(),
        line: HttpLineApi::new(&base, &token).map_err(|e| anyhow!("{e}"))?,
        catalog,
        secret: ChannelSecret::new(secret),
        pacer: Pacer::per_second(MULTICAST_REQUESTS_PER_SECOND),
        daily: tokio::sync::Mutex::new(()),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(app, addr))
}

async fn serve(app: Arc<App>, addr: SocketAddr) -> anyhow::Result<()> {
    let router = Router::new()
        .route("/webhook", post(webhook))
        .route("/dev/daily", post(dev_daily))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY_BYTES))
        .with_state(app.clone());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr().unwrap_or(addr);
    tracing::info!(
        "sukusuku listening on http://{local} — POST /webhook for LINE, POST /dev/daily?date=YYYY-MM-DD to run a day; \
         {} milestones loaded",
        app.catalog.milestones().len()
    );
    tokio::spawn(daily_timer(app));
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server stopped")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers
        .get("x-line-signature")
        .and_then(|v| v.to_str().ok());
    let ctx = WebhookContext {
        store: &app.store,
        line: &app.line,
        catalog: &app.catalog,
        secret: &app.secret,
        now: Utc::now(),
    };
    let r = handle_webhook(&ctx, signature, &body).await;
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], r.body).into_response()
}

async fn dev_daily(
    State(app): State<Arc<App>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let date = match query.get("date") {
        None => tokyo_date(Utc::now()),
        Some(raw) => match parse_ymd(raw) {
            Some(date) => date,
            None => {
                let body = json!({"error": format!("date `{raw}` is not YYYY-MM-DD")});
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
        },
    };
    match run_daily(&app, date).await {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"error": e})),
        )
            .into_response(),
    }
}

/// The daily scan as of 09:00 on `date` (Asia/Tokyo), then the send queue drained with
/// retries. The whole run sees that instant as "now", so a run for any date behaves as it
/// would have on that day.
async fn run_daily(app: &App, date: NaiveDate) -> Result<serde_json::Value, String> {
    let _one_at_a_time = app.daily.lock().await;
    let at = tokyo_instant(date, DAILY_HOUR);
    let scan = run_daily_scan(&app.store, &app.queue, &app.catalog, date, at)
        .await
        .map_err(|e| e.to_string())?;
    let sent = drain(
        &app.store,
        &app.queue,
        &app.line,
        &app.pacer,
        &DrainPolicy::default(),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(json!(DailyRun { scan, sent }))
}

/// What `/dev/daily` and the timer report: both reports' fields side by side.
#[derive(serde::Serialize)]
struct DailyRun {
    #[serde(flatten)]
    scan: ScanReport,
    #[serde(flatten)]
    sent: DrainReport,
}

/// The next 09:00 Asia/Tokyo strictly after `now`.
fn next_daily_run(now: DateTime<Utc>) -> DateTime<Utc> {
    let today = tokyo_date(now);
    let at = tokyo_instant(today, DAILY_HOUR);
    if at > now {
        at
    } else {
        tokyo_instant(add_days(today, 1).unwrap_or(today), DAILY_HOUR)
    }
}

async fn daily_timer(app: Arc<App>) {
    loop {
        let now = Utc::now();
        let next = next_daily_run(now);
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        let date = tokyo_date(next);
        match run_daily(&app, date).await {
            Ok(report) => tracing::info!(%report, "daily run finished"),
            Err(e) => tracing::error!(error = %e, "daily run failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_daily_run_is_at_nine_tokyo_time() {
        let t = |y, m, d, h, min| {
            Utc.with_ymd_and_hms(y, m, d, h, min, 0)
                .single()
                .expect("time")
        };
        // 08:59 JST → 09:00 the same day.
        assert_eq!(
            next_daily_run(t(2026, 11, 21, 23, 59)),
            t(2026, 11, 22, 0, 0)
        );
        // 09:00 JST exactly → the next day.
        assert_eq!(next_daily_run(t(2026, 11, 22, 0, 0)), t(2026, 11, 23, 0, 0));
        // 23:30 JST on Dec 31 → Jan 1, 09:00.
        assert_eq!(next_daily_run(t(2026, 12, 31, 14, 30)), t(2027, 1, 1, 0, 0));
    }
}
