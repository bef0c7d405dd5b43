//! Loading many residents at once, for tests and benchmarks only: the same items a save
//! writes (profile and anchor entries), put with `BatchWriteItem`, without the save's
//! transaction and version check. On moto, whose transactions copy every table, saving
//! thousands of residents one transaction at a time takes minutes.

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

use super::DynamoStore;
use super::batch::batch_write;
use super::codec::{anchor_item, profile_item};
use crate::domain::Resident;
use crate::store::StoreError;

impl DynamoStore {
    /// Puts new residents as a save would leave them (never for a resident already stored).
    pub async fn seed_residents(&self, residents: &[Resident]) -> Result<(), StoreError> {
        let mut requests = Vec::new();
        for r in residents {
            let mut items = vec![profile_item(r)?];
            items.extend(r.anchor_entries().iter().map(anchor_item));
            for item in items {
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| StoreError::Rejected(e.to_string()))?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
        }
        batch_write(&self.client, &self.table, requests).await
    }
}
