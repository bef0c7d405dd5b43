//! The LINE webhook behind the HTTP API (`POST /webhook`). Init reads the LINE credentials
//! from SSM, loads the catalog (warming DynamoDB) and warms the LINE connection; each request
//! then runs the shared webhook handler.

use std::time::Duration;

use lambda_http::{Error, Request, run, service_fn};
use shared::aws::lambda::{WebhookFunction, webhook_line_client, webhook_sdk_config};
use shared::aws::{
    DynamoStore, EventBridgeEvents, LineCredentials, LiveCatalog, Settings, init_tracing, required,
    sdk_config,
};

/// How long a warm instance keeps a catalog before reading the published one again.
const CATALOG_MAX_AGE: Duration = Duration::from_secs(300);

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = Settings::from_env()?;
    let config = sdk_config().await;
    let credentials = LineCredentials::from_ssm(&config).await?;
    let store = DynamoStore::from_config(&webhook_sdk_config(&config), &settings.table);
    let catalog = LiveCatalog::load(store.clone(), CATALOG_MAX_AGE).await?;
    // A rotated token is read again from SSM on LINE's first 401.
    let line = webhook_line_client(&settings.line_api_base, &credentials.access_token)
        .reread_token_from(credentials.token_source())
        .build()?;
    line.warm().await;
    let events =
        EventBridgeEvents::from_config(&webhook_sdk_config(&config), required("EVENT_BUS_NAME")?);
    let function = &*Box::leak(Box::new(WebhookFunction {
        store,
        line,
        events,
        secret: credentials.secret,
        catalog,
    }));
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(function.handle(request, chrono::Utc::now()).await)
    }))
    .await
}
