//! API Gateway (HTTP API, payload 2.0) events for the webhook Lambda, as LINE's requests
//! reach it: built from a body and its signature, handed to [`WebhookFunction::handle`].

use base64::Engine;
use chrono::Utc;
use serde_json::{Value, json};
use shared::aws::lambda::WebhookFunction;

/// An HTTP API (payload 2.0) request as API Gateway hands it to Lambda.
pub fn api_gateway_event(body: &[u8], signature: Option<&str>, base64_body: bool) -> Value {
    let mut headers = json!({
        "content-type": "application/json; charset=utf-8",
        "host": "abc123.execute-api.ap-northeast-1.amazonaws.com",
        "user-agent": "LineBotWebhook/2.0",
    });
    if let Some(sig) = signature {
        headers["x-line-signature"] = json!(sig);
    }
    let body = if base64_body {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        String::from_utf8(body.to_vec()).expect("utf-8 body")
    };
    json!({
        "version": "2.0",
        "routeKey": "POST /webhook",
        "rawPath": "/webhook",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.ap-northeast-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": "/webhook",
                "protocol": "HTTP/1.1",
                "sourceIp": "147.92.150.192",
                "userAgent": "LineBotWebhook/2.0"
            },
            "requestId": "req-1",
            "routeKey": "POST /webhook",
            "stage": "$default",
            "time": "22/Nov/2026:00:00:00 +0000",
            "timeEpoch": 1_795_305_600_000u64
        },
        "body": body,
        "isBase64Encoded": base64_body
    })
}

/// Posts `body` to a webhook function as API Gateway would; the status and the body.
pub async fn post_to(
    webhook: &WebhookFunction,
    body: &[u8],
    signature: Option<&str>,
    base64_body: bool,
) -> (u16, String) {
    let event = api_gateway_event(body, signature, base64_body).to_string();
    let request = lambda_http::request::from_str(&event).expect("a valid API Gateway event");
    let response = webhook.handle(request, Utc::now()).await;
    let status = response.status().as_u16();
    let text = match response.body() {
        lambda_http::Body::Text(t) => t.clone(),
        lambda_http::Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    (status, text)
}
