//! The daily milestone scan, invoked by EventBridge Scheduler at 09:00 Asia/Tokyo with
//! `{"scheduled_time": "<when it was due>"}` (so a late retry scans the right day), or by hand
//! with `{"date": "YYYY-MM-DD"}` to re-run or backfill a day (re-runs send nothing twice).
//! A failed scan is retried by Lambda, then lands in the scan DLQ. A second schedule sends
//! `{"sweep": "offers"}` every minute: the waiting-list sweep.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::aws::lambda::ScannerFunction;
use shared::aws::{
    DynamoStore, EventBridgeEvents, Settings, SqsQueue, init_tracing, required, sdk_config,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = Settings::from_env()?;
    let (queue_url, dead_letter_url) = settings.queues()?;
    let quiet = shared::quiet_hours::QuietRules::parse(
        std::env::var("QUIET_HOURS").ok().as_deref(),
        std::env::var("QUIET_HOURS_EXEMPT").ok().as_deref(),
    )
    .map_err(|message| shared::aws::ConfigError::Invalid {
        name: "QUIET_HOURS".to_string(),
        message,
    })?;
    let config = sdk_config().await;
    let function = &*Box::leak(Box::new(ScannerFunction {
        store: DynamoStore::from_config(&config, &settings.table),
        queue: SqsQueue::from_config(&config, queue_url, dead_letter_url),
        events: EventBridgeEvents::from_config(&config, required("EVENT_BUS_NAME")?),
        metrics_namespace: std::env::var("METRICS_NAMESPACE").ok(),
        quiet,
    }));
    run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let report = function.invoke(event.payload, chrono::Utc::now()).await;
            report.map_err(|e| {
                tracing::error!(error = %e, "scan or sweep failed");
                Error::from(e)
            })
        },
    ))
    .await
}
