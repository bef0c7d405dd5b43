//! A deployed stack's AWS side on moto, for running the function code as Lambda would: the
//! table with the published example catalog, the delivery queue and its dead-letter queue,
//! and the LINE secrets in SSM.

use shared::aws::dynamo::create_table;
use shared::aws::sqs::create_queues;
use shared::aws::testing::{moto_config, unique_name};
use shared::aws::{DynamoStore, publish_catalog};
use shared::catalog::example_source;

use crate::server::{ACCESS_TOKEN, CHANNEL_SECRET};

/// The AWS resources and settings the functions start against.
pub struct Stack {
    pub table: String,
    pub queue_url: String,
    pub dead_letter_url: String,
    pub secret_param: String,
    pub token_param: String,
}

impl Stack {
    /// A new stack named after `prefix`; the delivery queue's redrive policy after
    /// `max_receives`.
    pub async fn create(endpoint: &str, prefix: &str, max_receives: u32) -> Stack {
        let config = moto_config(endpoint).await;
        let table = unique_name(prefix);
        let store = DynamoStore::from_config(&config, &table);
        create_table(store.client(), &table)
            .await
            .expect("create table");
        publish_catalog(&store, &example_source(), chrono::Utc::now())
            .await
            .expect("publish catalog");
        let sqs = aws_sdk_sqs::Client::new(&config);
        let (queue_url, dead_letter_url) =
            create_queues(&sqs, &unique_name(&format!("{prefix}-jobs")), max_receives)
                .await
                .expect("queues");
        let ssm = aws_sdk_ssm::Client::new(&config);
        let path = unique_name(&format!("/{prefix}"));
        let (secret_param, token_param) = (format!("{path}/secret"), format!("{path}/token"));
        for (name, value) in [
            (&secret_param, CHANNEL_SECRET),
            (&token_param, ACCESS_TOKEN),
        ] {
            ssm.put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .send()
                .await
                .expect("put parameter");
        }
        Stack {
            table,
            queue_url,
            dead_letter_url,
            secret_param,
            token_param,
        }
    }

    /// What a function's process needs to reach this stack on moto, and LINE at
    /// `line_base`: credentials, region and endpoint, the table, the queues, the secrets'
    /// parameter names. Nothing from the caller's own environment reaches the SDK.
    pub fn environment(&self, moto: &str, line_base: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_REGION", "ap-northeast-1".to_string()),
            ("AWS_DEFAULT_REGION", "ap-northeast-1".to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_SESSION_TOKEN", "testing".to_string()),
            ("AWS_ENDPOINT_URL", moto.to_string()),
            ("TZ", ":UTC".to_string()),
            ("TABLE_NAME", self.table.clone()),
            ("LINE_API_BASE", line_base.to_string()),
            ("QUEUE_URL", self.queue_url.clone()),
            ("DEAD_LETTER_QUEUE_URL", self.dead_letter_url.clone()),
            ("LINE_CHANNEL_SECRET_PARAM", self.secret_param.clone()),
            ("LINE_CHANNEL_ACCESS_TOKEN_PARAM", self.token_param.clone()),
        ]
    }
}
