//! `BatchGetItem`: up to 100 keys a request, unprocessed keys sent again (see `aws::retry`).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::KeysAndAttributes;

use super::codec::Item;
use super::error::classify;
use crate::aws::retry::until_processed;
use crate::store::StoreError;

/// DynamoDB's per-request limits.
pub(super) const BATCH_GET_MAX_KEYS: usize = 100;
pub(super) const BATCH_WRITE_MAX_ITEMS: usize = 25;

fn still_unprocessed(what: &'static str) -> impl FnOnce(usize) -> StoreError {
    move |n| StoreError::Unavailable(format!("{n} {what} still unprocessed after retries"))
}

/// Reads `keys` consistently, `projection` naming the attributes (placeholders in `names`).
pub(super) async fn batch_get(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
    projection: &str,
    names: &[(&str, &str)],
) -> Result<Vec<Item>, StoreError> {
    let found = std::sync::Mutex::new(Vec::new());
    for chunk in keys.chunks(BATCH_GET_MAX_KEYS) {
        until_processed(
            chunk.to_vec(),
            |keys| async {
                let mut request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .projection_expression(projection)
                    .consistent_read(true);
                for (placeholder, name) in names {
                    request = request.expression_attribute_names(*placeholder, *name);
                }
                let request = request
                    .build()
                    .map_err(|e| StoreError::Rejected(e.to_string()))?;
                let out = client
                    .batch_get_item()
                    .request_items(table, request)
                    .send()
                    .await
                    .map_err(classify)?;
                if let Some(mut responses) = out.responses {
                    found
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend(responses.remove(table).unwrap_or_default());
                }
                Ok(out
                    .unprocessed_keys
                    .and_then(|mut m| m.remove(table))
                    .map(|k| k.keys)
                    .unwrap_or_default())
            },
            still_unprocessed("reads"),
        )
        .await?;
    }
    Ok(found.into_inner().unwrap_or_else(|p| p.into_inner()))
}

/// Writes in batches of 25, sending unprocessed items again.
pub(super) async fn batch_write(
    client: &Client,
    table: &str,
    requests: Vec<aws_sdk_dynamodb::types::WriteRequest>,
) -> Result<(), StoreError> {
    for chunk in requests.chunks(BATCH_WRITE_MAX_ITEMS) {
        until_processed(
            chunk.to_vec(),
            |pending| async {
                let out = client
                    .batch_write_item()
                    .request_items(table, pending)
                    .send()
                    .await
                    .map_err(classify)?;
                Ok(out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(table))
                    .unwrap_or_default())
            },
            still_unprocessed("writes"),
        )
        .await?;
    }
    Ok(())
}
