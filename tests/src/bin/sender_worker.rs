//! The sender function outside Lambda, for the fault-injection suite: `SenderFunction` built
//! by `from_env` exactly as the function's main builds it, fed by a loop that does what
//! Lambda's SQS event source does — receive up to 10 messages with their attributes, hand
//! them over as one `SqsEvent`, then delete those not reported as batch item failures.
//! A test starts several of these against moto and the fake LINE API and kills them at
//! random moments, mid-batch included.

use std::collections::HashSet;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde_json::{Value, json};
use shared::aws::lambda::SenderFunction;
use shared::aws::sdk_config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = sdk_config().await;
    let function = SenderFunction::from_env(&config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let sqs = function.queue.client().clone();
    let url = function.queue.url().to_string();
    eprintln!("sender-worker ready");
    loop {
        let out = match sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                eprintln!("receive failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if out.messages().is_empty() {
            continue;
        }
        let records: Vec<Value> = out
            .messages()
            .iter()
            .map(|m| {
                let attributes: serde_json::Map<String, Value> = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_string(), json!(v)))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                })
            })
            .collect();
        let event: SqsEvent = serde_json::from_value(json!({ "Records": records }))?;
        let response = function.handle(event, chrono::Utc::now()).await;
        let failed: HashSet<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        for m in out.messages() {
            if failed.contains(m.message_id().unwrap_or_default()) {
                continue;
            }
            if let Some(receipt) = m.receipt_handle()
                && let Err(e) = sqs
                    .delete_message()
                    .queue_url(&url)
                    .receipt_handle(receipt)
                    .send()
                    .await
            {
                eprintln!("delete failed: {e}");
            }
        }
    }
}
