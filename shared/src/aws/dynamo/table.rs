//! The table for tests and benchmarks against moto.

use aws_sdk_dynamodb::Client;

use super::ANCHOR_INDEX;
use super::error::classify;
use crate::store::StoreError;

/// Creates a table shaped like `template.yaml`'s, for tests and benchmarks against moto;
/// deployed tables come from the template (a test keeps the two in step).
pub async fn create_table(client: &Client, name: &str) -> Result<(), StoreError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))
    };
    let key_el = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))
    };
    let index = GlobalSecondaryIndex::builder()
        .index_name(ANCHOR_INDEX)
        .key_schema(key_el("apk", KeyType::Hash)?)
        .key_schema(key_el("ask", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| StoreError::Rejected(e.to_string()))?;
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .attribute_definitions(attr("apk")?)
        .attribute_definitions(attr("ask")?)
        .key_schema(key_el("pk", KeyType::Hash)?)
        .key_schema(key_el("sk", KeyType::Range)?)
        .global_secondary_indexes(index)
        .send()
        .await
        .map_err(classify)?;
    Ok(())
}
