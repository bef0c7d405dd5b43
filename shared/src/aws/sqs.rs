//! The SQS [`Queue`]: delivery jobs as JSON bodies, sent in batches of ten (and under the
//! batch byte limit), a dead-letter queue that keeps the reason as a message attribute.
//! The queue's own `RedrivePolicy` catches what a crashed sender never settled.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, SdkError};
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};

use super::retry::until_processed;
use crate::queue::{Queue, QueueDepth, QueueError, QueuedJob, first_received, receive_count};

/// SQS's limits per message and per batch request.
const MAX_BATCH_ENTRIES: usize = 10;
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Longest visibility delay SQS accepts (12 hours).
const MAX_VISIBILITY_SECS: u64 = 43_200;
/// The message attribute carrying why a message was dead-lettered.
pub const REASON_ATTRIBUTE: &str = "reason";

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dead_letter_url: String,
}

impl SqsQueue {
    pub fn new(
        client: Client,
        queue_url: impl Into<String>,
        dead_letter_url: impl Into<String>,
    ) -> SqsQueue {
        SqsQueue {
            client,
            queue_url: queue_url.into(),
            dead_letter_url: dead_letter_url.into(),
        }
    }

    pub fn from_config(
        config: &aws_config::SdkConfig,
        queue_url: impl Into<String>,
        dead_letter_url: impl Into<String>,
    ) -> SqsQueue {
        SqsQueue::new(Client::new(config), queue_url, dead_letter_url)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.queue_url
    }

    pub fn dead_letter_url(&self) -> &str {
        &self.dead_letter_url
    }

    async fn send_batch(&self, bodies: &[&String]) -> Result<(), QueueError> {
        let numbered: Vec<(usize, &String)> = bodies.iter().copied().enumerate().collect();
        until_processed(
            numbered,
            |pending| async move {
                let entries = pending
                    .iter()
                    .map(|(i, body)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message_body(body.as_str())
                            .build()
                            .map_err(|e| QueueError::BadMessage(e.to_string()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(unavailable)?;
                let failed = out.failed();
                if let Some(fault) = failed.iter().find(|f| f.sender_fault) {
                    return Err(QueueError::BadMessage(format!(
                        "SQS refused a message: {} {}",
                        fault.code,
                        fault.message.as_deref().unwrap_or("")
                    )));
                }
                Ok(pending
                    .into_iter()
                    .filter(|(i, _)| failed.iter().any(|f| f.id == i.to_string()))
                    .collect())
            },
            |n| QueueError::Unavailable(format!("{n} messages not accepted after retries")),
        )
        .await
    }
}

fn unavailable<E: std::error::Error + Send + Sync + 'static>(e: SdkError<E>) -> QueueError {
    QueueError::Unavailable(DisplayErrorContext(&e).to_string())
}

fn count(
    attributes: Option<&std::collections::HashMap<QueueAttributeName, String>>,
    name: QueueAttributeName,
) -> usize {
    attributes
        .and_then(|a| a.get(&name))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl Queue for SqsQueue {
    async fn enqueue_bodies(&self, bodies: &[String]) -> Result<(), QueueError> {
        let mut batch: Vec<&String> = Vec::new();
        let mut bytes = 0;
        for body in bodies {
            if body.len() > MAX_BATCH_BYTES {
                return Err(QueueError::BadMessage(format!(
                    "a message of {} bytes is over the SQS limit of {MAX_BATCH_BYTES}",
                    body.len()
                )));
            }
            if batch.len() == MAX_BATCH_ENTRIES || bytes + body.len() > MAX_BATCH_BYTES {
                self.send_batch(&batch).await?;
                batch.clear();
                bytes = 0;
            }
            bytes += body.len();
            batch.push(body);
        }
        if !batch.is_empty() {
            self.send_batch(&batch).await?;
        }
        Ok(())
    }

    async fn receive(&self, max: usize) -> Result<Vec<QueuedJob>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max.clamp(1, MAX_BATCH_ENTRIES) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(
                MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
            )
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| QueuedJob {
                receive_count: receive_count(
                    m.attributes()
                        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                        .map(String::as_str),
                ),
                first_received: first_received(
                    m.attributes()
                        .and_then(|a| {
                            a.get(&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp)
                        })
                        .map(String::as_str),
                ),
                body: m.body.unwrap_or_default(),
                receipt: m.receipt_handle.unwrap_or_default(),
            })
            .collect())
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn retry_later(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let secs = delay.as_secs_f64().ceil() as u64;
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(secs.min(MAX_VISIBILITY_SECS) as i32)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn dead_letter(&self, message: &QueuedJob, reason: &str) -> Result<(), QueueError> {
        let reason_value = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build()
            .map_err(|e| QueueError::BadMessage(e.to_string()))?;
        // An empty body cannot be sent to SQS; keep a marker so the reason survives.
        let body = if message.body.is_empty() {
            "(empty body)"
        } else {
            &message.body
        };
        self.client
            .send_message()
            .queue_url(&self.dead_letter_url)
            .message_body(body)
            .message_attributes(REASON_ATTRIBUTE, reason_value)
            .send()
            .await
            .map_err(unavailable)?;
        self.ack(&message.receipt).await
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(unavailable)?;
        let a = out.attributes();
        Ok(QueueDepth {
            visible: count(a, QueueAttributeName::ApproximateNumberOfMessages),
            hidden: count(a, QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                + count(a, QueueAttributeName::ApproximateNumberOfMessagesDelayed),
            parked: 0,
        })
    }

    async fn dead_lettered(&self) -> Result<Vec<(String, String)>, QueueError> {
        // Received with a visibility timeout, then made visible again: a look, not a take.
        let mut seen = Vec::new();
        let mut receipts = Vec::new();
        loop {
            let out = self
                .client
                .receive_message()
                .queue_url(&self.dead_letter_url)
                .max_number_of_messages(MAX_BATCH_ENTRIES as i32)
                .visibility_timeout(30)
                .message_attribute_names(REASON_ATTRIBUTE)
                .send()
                .await
                .map_err(unavailable)?;
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for m in messages {
                let reason = m
                    .message_attributes()
                    .and_then(|a| a.get(REASON_ATTRIBUTE))
                    .and_then(|v| v.string_value())
                    .unwrap_or("moved by the queue's redrive policy")
                    .to_string();
                receipts.extend(m.receipt_handle.clone());
                seen.push((m.body.unwrap_or_default(), reason));
            }
        }
        for receipt in receipts {
            self.client
                .change_message_visibility()
                .queue_url(&self.dead_letter_url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(seen)
    }
}

/// Creates a queue and its dead-letter queue (`max_receives` before redrive) and returns
/// their URLs, for tests and benchmarks against moto; deployed queues come from the template.
pub async fn create_queues(
    client: &Client,
    name: &str,
    max_receives: u32,
) -> Result<(String, String), QueueError> {
    let dlq_url = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .map_err(unavailable)?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(unavailable)?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap_or_default();
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": max_receives.to_string(),
    })
    .to_string();
    let url = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .attributes(QueueAttributeName::VisibilityTimeout, "180")
        .send()
        .await
        .map_err(unavailable)?
        .queue_url
        .unwrap_or_default();
    Ok((url, dlq_url))
}
