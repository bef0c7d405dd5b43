//! `sukusuku serve`: the webhook, the daily 09:00 JST scan and the sender in one process, on
//! the embedded store and the in-process queue — the same handlers the Lambda functions run.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
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
use shared::handlers::offers::{OfferReport, sweep};
use shared::handlers::scan::{ScanReport, run_daily_scan};
use shared::handlers::send::{DrainPolicy, DrainReport, SendSettings, drain};
use shared::handlers::webhook::{WebhookContext, handle_webhook};
use shared::quiet_hours::QuietRules;

use crate::local_events::LocalEvents;
use shared::line::limits::MAX_WEBHOOK_BODY_BYTES;
use shared::line::signature::ChannelSecret;
use shared::line::{HttpLineApi, LineApi};
use shared::pacer::Pacer;
use shared::queue::MemoryQueue;
use shared::store::LocalStore;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

use crate::catalog_file;
use crate::local_line::{self, LocalLineApi};

/// How often `serve` sweeps the waiting lists.
const OFFER_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// The daily run goes out at this hour, Asia/Tokyo.
const DAILY_HOUR: u32 = 9;

/// Where the development routes listen unless `--dev-addr` says otherwise.
pub const DEFAULT_DEV_ADDR: &str = "127.0.0.1:8081";

/// Local mode's channel secret when `LINE_CHANNEL_SECRET` is not set. It is public, which is
/// fine: local mode sends nothing to LINE, and signatures are still checked, so requests are
/// built exactly as LINE builds them.
pub const LOCAL_CHANNEL_SECRET: &str = "sukusuku-local";

/// The address of the development listener (`/dev/*`). Only a loopback address parses:
/// anyone who can reach `/dev/daily` can send tomorrow's notices today, and then they never
/// arrive on the right day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevAddr(SocketAddr);

impl FromStr for DevAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<DevAddr, String> {
        let addr: SocketAddr = s
            .parse()
            .map_err(|_| format!("`{s}` is not HOST:PORT (e.g. {DEFAULT_DEV_ADDR})"))?;
        if addr.ip().to_canonical().is_loopback() {
            Ok(DevAddr(addr))
        } else {
            Err(format!(
                "{} is not a loopback address. The development routes (/dev/daily) run days \
                 early and must not be reachable from other machines; use 127.0.0.1 or [::1], \
                 e.g. {DEFAULT_DEV_ADDR}",
                addr.ip()
            ))
        }
    }
}

impl fmt::Display for DevAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

pub struct ServeArgs<'a> {
    /// The public listener: `/webhook` and `/healthz` only.
    pub addr: SocketAddr,
    pub dev_addr: DevAddr,
    pub catalog: &'a Path,
    pub data: Option<&'a Path>,
}

struct App<L> {
    store: LocalStore,
    queue: MemoryQueue,
    line: L,
    catalog: Catalog,
    secret: ChannelSecret,
    pacer: Pacer,
    /// Rates, quiet hours and retry window, from the same variables as the sender function.
    send: SendSettings,
    events: LocalEvents,
    /// One daily run at a time (timer and /dev/daily).
    daily: tokio::sync::Mutex<()>,
}

/// Who replies: the real LINE API, or the terminal and the outbox (local mode).
enum LineMode {
    Line {
        secret: String,
        token: String,
        base: String,
    },
    Local {
        secret: String,
        /// `LINE_CHANNEL_SECRET` was not set and [`LOCAL_CHANNEL_SECRET`] is in use.
        default_secret: bool,
    },
}

pub(crate) fn env_value(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl LineMode {
    /// Without an access token there is no LINE to talk to: local mode.
    fn from_env() -> anyhow::Result<LineMode> {
        LineMode::from_lookup(env_value)
    }

    fn from_lookup(env: impl Fn(&str) -> Option<String>) -> anyhow::Result<LineMode> {
        let secret = env("LINE_CHANNEL_SECRET");
        match env("LINE_CHANNEL_ACCESS_TOKEN") {
            Some(token) => Ok(LineMode::Line {
                secret: secret.ok_or_else(|| {
                    anyhow!(
                        "LINE_CHANNEL_SECRET is not set: copy it from the LINE Developers console \
                         (your Messaging API channel → Basic settings). To try sukusuku without \
                         LINE, unset LINE_CHANNEL_ACCESS_TOKEN as well (local mode)."
                    )
                })?,
                token,
                base: env("LINE_API_BASE")
                    .unwrap_or_else(|| shared::line::DEFAULT_API_BASE.to_string()),
            }),
            None => Ok(LineMode::Local {
                default_secret: secret.is_none(),
                secret: secret.unwrap_or_else(|| LOCAL_CHANNEL_SECRET.to_string()),
            }),
        }
    }
}

pub fn run(args: ServeArgs<'_>) -> anyhow::Result<()> {
    // A broken catalog refuses to start, before anything else happens.
    let catalog = catalog_file::load(args.catalog)?;
    let mode = LineMode::from_env()?;
    let send = SendSettings::from_lookup(env_value).map_err(|e| anyhow!("{e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let store = match args.data {
        Some(dir) => LocalStore::open(dir)
            .with_context(|| format!("cannot open the data directory {}", dir.display()))?,
        None => {
            tracing::warn!(
                "no --data DIR: registrations are kept in memory and lost when sukusuku stops"
            );
            LocalStore::in_memory()
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listeners = Listeners::bind(args.addr, args.dev_addr).await?;
        match mode {
            LineMode::Line {
                secret,
                token,
                base,
            } => {
                let line = HttpLineApi::new(&base, &token).map_err(|e| anyhow!("{e}"))?;
                let events = LocalEvents::new(Box::new(std::io::stdout()), args.data);
                let app = App::new(store, line, catalog, &secret, events, send)?;
                serve(app, listeners).await
            }
            LineMode::Local {
                secret,
                default_secret,
            } => {
                let line = LocalLineApi::new(Box::new(std::io::stdout()), args.data)?;
                print!(
                    "{}",
                    local_banner(&listeners, args.data, &secret, default_secret)
                );
                let events = LocalEvents::new(Box::new(std::io::stdout()), args.data);
                let app = App::new(store, line, catalog, &secret, events, send)?;
                serve(app, listeners).await
            }
        }
    })
}

impl<L: LineApi + 'static> App<L> {
    fn new(
        store: LocalStore,
        line: L,
        catalog: Catalog,
        secret: &str,
        events: LocalEvents,
        send: SendSettings,
    ) -> anyhow::Result<Arc<App<L>>> {
        Ok(Arc::new(App {
            store,
            queue: MemoryQueue::new(),
            line,
            catalog,
            secret: ChannelSecret::new(secret),
            pacer: Pacer::at(send.rate.share(1).map_err(|e| anyhow::anyhow!(e))?),
            send,
            events,
            daily: tokio::sync::Mutex::new(()),
        }))
    }
}

/// Both listeners, bound before anything is announced, so a taken port fails the start.
struct Listeners {
    public: TcpListener,
    dev: TcpListener,
}

impl Listeners {
    async fn bind(addr: SocketAddr, dev_addr: DevAddr) -> anyhow::Result<Listeners> {
        let public = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (--addr)"))?;
        let dev = TcpListener::bind(dev_addr.0)
            .await
            .with_context(|| format!("cannot listen on {dev_addr} (--dev-addr)"))?;
        Ok(Listeners { public, dev })
    }

    fn public_addr(&self) -> String {
        self.public
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    fn dev_addr(&self) -> String {
        self.dev
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }
}

/// What a developer needs to know to drive local mode, printed once at start-up.
fn local_banner(
    listeners: &Listeners,
    data: Option<&Path>,
    secret: &str,
    default_secret: bool,
) -> String {
    let kept = match data {
        Some(dir) => format!("and appended to {}", local_line::outbox_path(dir).display()),
        None => "(add --data DIR to keep them in DIR/outbox.jsonl too)".to_string(),
    };
    let secret_line = if default_secret {
        format!("the local channel secret `{secret}` (LINE_CHANNEL_SECRET is not set)")
    } else {
        "LINE_CHANNEL_SECRET".to_string()
    };
    format!(
        "sukusuku is in local mode: LINE_CHANNEL_ACCESS_TOKEN is not set, so nothing is sent to LINE.\n\
         Every reply, push and multicast is printed here {kept}.\n\
         Webhook: POST http://{public}/webhook, signed with {secret_line}:\n  \
         x-line-signature = base64(HMAC-SHA256(secret, body)), e.g. \
         openssl dgst -sha256 -hmac SECRET -binary | base64\n\
         Run a day: curl -X POST 'http://{dev}/dev/daily?date=YYYY-MM-DD'\n\
         Pass freed seats to waiting lists now (every minute anyway): curl -X POST http://{dev}/dev/offers\n\n",
        public = listeners.public_addr(),
        dev = listeners.dev_addr(),
    )
}

/// The public listener (the one LINE reaches through the HTTPS proxy) serves `/webhook` and
/// `/healthz` only; `/dev/*` is on the loopback-only development listener.
fn public_routes<L: LineApi + 'static>(app: Arc<App<L>>) -> Router {
    Router::new()
        .route("/webhook", post(webhook::<L>))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY_BYTES))
        .with_state(app)
}

fn dev_routes<L: LineApi + 'static>(app: Arc<App<L>>) -> Router {
    Router::new()
        .route("/dev/daily", post(dev_daily::<L>))
        .route("/dev/offers", post(dev_offers::<L>))
        .with_state(app)
}

async fn serve<L: LineApi + 'static>(app: Arc<App<L>>, listeners: Listeners) -> anyhow::Result<()> {
    tracing::info!(
        "sukusuku listening on http://{} (POST /webhook for LINE); development routes on \
         http://{} (POST /dev/daily?date=YYYY-MM-DD runs a day); {} milestones loaded",
        listeners.public_addr(),
        listeners.dev_addr(),
        app.catalog.milestones().len()
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    tokio::spawn(daily_timer(app.clone()));
    tokio::spawn(offers_timer(app.clone()));
    let public = axum::serve(listeners.public, public_routes(app.clone()))
        .with_graceful_shutdown(stopped(stop_rx.clone()));
    let dev = axum::serve(listeners.dev, dev_routes(app)).with_graceful_shutdown(stopped(stop_rx));
    tokio::try_join!(
        async { public.await.context("the public HTTP server stopped") },
        async { dev.await.context("the development HTTP server stopped") },
    )?;
    Ok(())
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

async fn webhook<L: LineApi>(
    State(app): State<Arc<App<L>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers
        .get("x-line-signature")
        .and_then(|v| v.to_str().ok());
    let ctx = WebhookContext {
        store: &app.store,
        line: &app.line,
        events: &app.events,
        catalog: &app.catalog,
        secret: &app.secret,
        now: Utc::now(),
    };
    let r = handle_webhook(&ctx, signature, &body).await;
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], r.body).into_response()
}

async fn dev_daily<L: LineApi>(
    State(app): State<Arc<App<L>>>,
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
async fn run_daily<L: LineApi>(app: &App<L>, date: NaiveDate) -> Result<serde_json::Value, String> {
    let _one_at_a_time = app.daily.lock().await;
    let at = tokyo_instant(date, DAILY_HOUR);
    let scan = run_daily_scan(&app.store, &app.queue, &app.catalog, date, at)
        .await
        .map_err(|e| e.to_string())?;
    let sent = drain_queue(app, None).await?;
    Ok(json!(DailyRun { scan, sent }))
}

/// The waiting-list sweep now (offers lapse and pass on, freed seats go to the first in
/// line), then the send queue drained. The timer keeps the quiet hours (`quiet`);
/// `/dev/offers`, like `/dev/daily`, runs at once whatever the hour.
async fn run_offers<L: LineApi>(
    app: &App<L>,
    quiet: Option<&QuietRules>,
) -> Result<serde_json::Value, String> {
    let _one_at_a_time = app.daily.lock().await;
    let offers = sweep(&app.store, &app.queue, &app.events, Utc::now(), quiet)
        .await
        .map_err(|e| e.to_string())?;
    let sent = drain_queue(app, quiet).await?;
    Ok(json!(OffersRun { offers, sent }))
}

/// Sends what is queued, retries included (the caller holds `app.daily`); pushes met in
/// the `quiet` hours stay queued for the morning.
async fn drain_queue<L: LineApi>(
    app: &App<L>,
    quiet: Option<&QuietRules>,
) -> Result<DrainReport, String> {
    let policy = DrainPolicy {
        retry_window: app.send.retry_window,
        quiet: quiet.cloned(),
        ..DrainPolicy::default()
    };
    drain(&app.store, &app.queue, &app.line, &app.pacer, &policy)
        .await
        .map_err(|e| e.to_string())
}

#[derive(serde::Serialize)]
struct OffersRun {
    #[serde(flatten)]
    offers: OfferReport,
    #[serde(flatten)]
    sent: DrainReport,
}

/// The sweep every minute, as the deployed stack's schedule does.
async fn offers_timer<L: LineApi>(app: Arc<App<L>>) {
    let mut every = tokio::time::interval(OFFER_SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match run_offers(&app, app.send.quiet.as_ref()).await {
            // Said only when something changed, not every minute a list merely waits.
            Ok(report) if report["pushes"] != 0 || report["ended"] != 0 => {
                tracing::info!(%report, "waiting lists swept")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "waiting-list sweep failed"),
        }
    }
}

async fn dev_offers<L: LineApi>(State(app): State<Arc<App<L>>>) -> Response {
    match run_offers(&app, None).await {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"error": e})),
        )
            .into_response(),
    }
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

async fn daily_timer<L: LineApi>(app: Arc<App<L>>) {
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

    #[test]
    fn development_routes_listen_only_on_loopback() {
        for ok in [
            "127.0.0.1:8081",
            "127.0.0.2:0",
            "[::1]:8081",
            "[::ffff:127.0.0.1]:8081",
        ] {
            assert!(ok.parse::<DevAddr>().is_ok(), "{ok}");
        }
        for public in [
            "0.0.0.0:8081",
            "[::]:8081",
            "192.168.1.10:8081",
            "[::ffff:10.0.0.1]:8081",
        ] {
            let err = public.parse::<DevAddr>().expect_err(public);
            assert!(err.contains("is not a loopback address"), "{err}");
        }
        let err = "localhost".parse::<DevAddr>().expect_err("not HOST:PORT");
        assert!(err.contains("is not HOST:PORT"), "{err}");
    }

    fn mode(vars: &[(&str, &str)]) -> anyhow::Result<LineMode> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LineMode::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn without_an_access_token_serve_is_in_local_mode() {
        match mode(&[]).expect("local mode") {
            LineMode::Local {
                secret,
                default_secret,
            } => {
                assert_eq!(secret, LOCAL_CHANNEL_SECRET);
                assert!(default_secret);
            }
            LineMode::Line { .. } => panic!("no token, no LINE"),
        }
        // A secret of one's own is used when given (e.g. real LINE events, no token yet).
        match mode(&[("LINE_CHANNEL_SECRET", "mine")]).expect("local mode") {
            LineMode::Local {
                secret,
                default_secret,
            } => {
                assert_eq!(secret, "mine");
                assert!(!default_secret);
            }
            LineMode::Line { .. } => panic!("no token, no LINE"),
        }
        match mode(&[
            ("LINE_CHANNEL_SECRET", "s"),
            ("LINE_CHANNEL_ACCESS_TOKEN", "t"),
        ])
        .expect("LINE mode")
        {
            LineMode::Line { base, .. } => assert_eq!(base, "https://api.line.me"),
            LineMode::Local { .. } => panic!("a token means LINE"),
        }
        let err = mode(&[("LINE_CHANNEL_ACCESS_TOKEN", "t")])
            .err()
            .expect("a token without its secret is refused");
        assert!(
            err.to_string().contains("LINE_CHANNEL_SECRET is not set"),
            "{err}"
        );
    }
}
