//! Sends delivery jobs from SQS (`ReportBatchItemFailures`). Each instance paces LINE calls
//! at its share of the channel's rates (`CHANNEL_PUSH_RATE`, `CHANNEL_MULTICAST_RATE`), so
//! all `MAX_CONCURRENCY` instances together stay under them; quiet hours, the retry window
//! and the quota guard are in the shared sender.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::aws::lambda::SenderFunction;
use shared::aws::{init_tracing, sdk_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = sdk_config().await;
    let function = &*Box::leak(Box::new(SenderFunction::from_env(&config).await?));
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(function.handle(event.payload, chrono::Utc::now()).await)
    }))
    .await
}
