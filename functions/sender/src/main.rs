//! Sends delivery jobs from SQS (`ReportBatchItemFailures`). Each instance paces LINE calls
//! at its share of the channel's rates (`CHANNEL_PUSH_RATE`, `CHANNEL_MULTICAST_RATE`), so
//! all `MAX_CONCURRENCY` instances together stay under them; quiet hours, the retry window
//! and the quota guard are in the shared sender.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::aws::lambda::{SenderFunction, sender_policy};
use shared::aws::{
    ConfigError, DynamoStore, LineCredentials, Settings, SqsQueue, init_tracing, number_setting,
    sdk_config,
};
use shared::delivery::Recipient;
use shared::domain::UserId;
use shared::handlers::send::SendSettings;
use shared::line::HttpLineApi;
use shared::pacer::Pacer;
use shared::store::Store;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = Settings::from_env()?;
    let (queue_url, dead_letter_url) = settings.queues()?;
    let concurrency = number_setting("MAX_CONCURRENCY", 2)?;
    let invalid = |message: String| ConfigError::Invalid {
        name: "sender settings".to_string(),
        message,
    };
    let send = SendSettings::from_lookup(|name| std::env::var(name).ok()).map_err(invalid)?;
    let share = send.rate.share(concurrency).map_err(invalid)?;
    let config = sdk_config().await;
    let credentials = LineCredentials::from_ssm(&config).await?;
    let store = DynamoStore::from_config(&config, &settings.table);
    // A rotated token is read again from SSM on LINE's first 401.
    let line = HttpLineApi::builder(&settings.line_api_base, &credentials.access_token)
        .reread_token_from(credentials.token_source())
        .build()?;
    // Open both connections before the first batch arrives.
    // (A read of a key that never exists, with the one read action the sender may use.)
    if let Some(nobody) = UserId::parse("warm-up") {
        let probe = Recipient {
            user: nobody,
            subjects: vec!["none".to_string()],
        };
        let _ = store
            .undelivered(&shared::delivery::Mark::Milestone("warm-up"), &[probe])
            .await;
    }
    line.warm().await;
    let function = &*Box::leak(Box::new(SenderFunction {
        store,
        queue: SqsQueue::from_config(&config, queue_url, dead_letter_url),
        line,
        pacer: Pacer::at(share),
        policy: sender_policy(&send),
        metrics_namespace: std::env::var("METRICS_NAMESPACE").ok(),
    }));
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(function.handle(event.payload, chrono::Utc::now()).await)
    }))
    .await
}
