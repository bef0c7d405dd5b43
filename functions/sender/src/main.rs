//! Sends delivery jobs from SQS (`ReportBatchItemFailures`). Each instance paces LINE calls
//! at its share of the channel's multicast limit, so all `MAX_CONCURRENCY` instances together
//! stay under it.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::aws::lambda::{SenderFunction, sender_policy};
use shared::aws::{
    DynamoStore, LineCredentials, Settings, SqsQueue, init_tracing, number_setting, sdk_config,
};
use shared::delivery::Recipient;
use shared::domain::UserId;
use shared::line::HttpLineApi;
use shared::line::limits::MULTICAST_REQUESTS_PER_SECOND;
use shared::pacer::Pacer;
use shared::store::Store;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = Settings::from_env()?;
    let (queue_url, dead_letter_url) = settings.queues()?;
    let concurrency = number_setting("MAX_CONCURRENCY", 2)?;
    let max_attempts = number_setting("SEND_MAX_ATTEMPTS", 5)?;
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
        pacer: Pacer::per_second(MULTICAST_REQUESTS_PER_SECOND / concurrency),
        policy: sender_policy(max_attempts),
    }));
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(function.handle(event.payload).await)
    }))
    .await
}
