//! `template.yaml` facts that cfn-lint does not check (TOOLING.md): the scaling floor, the
//! schedule, the queue timings, least privilege, and that the table the template creates is
//! the table the code (and its moto tests) expects.

use std::collections::BTreeSet;

use serde_yaml::Value;

fn template() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let text = std::fs::read_to_string(&path).expect("template.yaml is readable");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    let r = &t["Resources"][name];
    assert!(!r.is_null(), "resource {name} is missing");
    r
}

fn number(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().expect("integer"),
        Value::String(s) => s.parse().expect("integer string"),
        other => panic!("not a number: {other:?}"),
    }
}

fn functions(t: &Value) -> Vec<(&str, &Value)> {
    t["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(k, r)| (k.as_str().expect("name"), r))
        .collect()
}

#[test]
fn three_rust_functions_built_by_cargo_lambda_for_arm64() {
    let t = template();
    assert_eq!(t["Globals"]["Function"]["Runtime"], "provided.al2023");
    assert_eq!(t["Globals"]["Function"]["Architectures"][0], "arm64");
    let mut binaries = BTreeSet::new();
    for (name, f) in functions(&t) {
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        binaries.insert(
            f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("binary")
                .to_string(),
        );
        // Each binary is a workspace package under functions/.
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../functions")
            .join(binaries.last().expect("one"))
            .join("Cargo.toml");
        assert!(manifest.exists(), "{} is missing", manifest.display());
    }
    assert_eq!(
        binaries,
        BTreeSet::from(["scanner".into(), "sender".into(), "webhook".into()])
    );
}

#[test]
fn the_scan_runs_daily_at_nine_tokyo_time() {
    let t = template();
    let daily = &resource(&t, "ScannerFunction")["Properties"]["Events"]["Daily"];
    assert_eq!(daily["Type"], "ScheduleV2");
    assert_eq!(
        daily["Properties"]["ScheduleExpressionTimezone"],
        "Asia/Tokyo"
    );
    let expr = daily["Properties"]["ScheduleExpression"]
        .as_str()
        .expect("expression");
    let fields: Vec<&str> = expr
        .strip_prefix("cron(")
        .and_then(|e| e.strip_suffix(')'))
        .expect("a cron() expression")
        .split(' ')
        .collect();
    // minutes hours day-of-month month day-of-week year; one of the day fields must be `?`.
    assert_eq!(fields, vec!["0", "9", "*", "*", "?", "*"]);
    // The payload must be one the scanner accepts.
    let input = daily["Properties"]["Input"].as_str().expect("input");
    let payload: serde_json::Value = serde_json::from_str(input).expect("JSON input");
    assert!(
        shared::aws::lambda::scan_date(&payload, chrono::Utc::now()).is_ok(),
        "the scheduler's payload is accepted"
    );
}

#[test]
fn sender_scaling_and_queue_timings_are_safe() {
    let t = template();
    let param = &t["Parameters"]["SenderMaxConcurrency"];
    assert!(
        number(&param["MinValue"]) >= 2,
        "SQS rejects MaximumConcurrency < 2"
    );
    assert!(number(&param["Default"]) >= 2);
    let sender = &resource(&t, "SenderFunction")["Properties"];
    let jobs = &sender["Events"]["Jobs"]["Properties"];
    assert_eq!(jobs["FunctionResponseTypes"][0], "ReportBatchItemFailures");
    assert!(!jobs["ScalingConfig"]["MaximumConcurrency"].is_null());
    let timeout = number(&sender["Timeout"]);
    let visibility = number(&resource(&t, "DeliveryQueue")["Properties"]["VisibilityTimeout"]);
    assert!(
        visibility >= 6 * timeout,
        "visibility {visibility}s < 6 × sender timeout {timeout}s"
    );
    let redrive = &resource(&t, "DeliveryQueue")["Properties"]["RedrivePolicy"];
    assert!(
        number(&redrive["maxReceiveCount"])
            > number(&t["Parameters"]["SendMaxAttempts"]["MaxValue"]),
        "the sender dead-letters with a reason before the redrive policy does"
    );
}

#[test]
fn the_table_is_the_one_the_code_expects() {
    let t = template();
    let table = &resource(&t, "Table")["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        shared::aws::dynamo::TTL_ATTRIBUTE
    );
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["SSESpecification"]["SSEEnabled"], true);
    let keys = |v: &Value| -> Vec<(String, String)> {
        v.as_sequence()
            .expect("key schema")
            .iter()
            .map(|k| {
                (
                    k["AttributeName"].as_str().expect("name").to_string(),
                    k["KeyType"].as_str().expect("type").to_string(),
                )
            })
            .collect()
    };
    let pair = |a: &str, b: &str| vec![(a.into(), "HASH".into()), (b.into(), "RANGE".into())];
    assert_eq!(keys(&table["KeySchema"]), pair("pk", "sk"));
    let index = &table["GlobalSecondaryIndexes"][0];
    assert_eq!(index["IndexName"], shared::aws::dynamo::ANCHOR_INDEX);
    assert_eq!(keys(&index["KeySchema"]), pair("apk", "ask"));
    assert_eq!(index["Projection"]["ProjectionType"], "ALL");
}

fn walk<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(v);
    match v {
        Value::Mapping(m) => m.values().for_each(|x| walk(x, out)),
        Value::Sequence(s) => s.iter().for_each(|x| walk(x, out)),
        Value::Tagged(t) => walk(&t.value, out),
        _ => {}
    }
}

#[test]
fn iam_is_least_privilege_and_secrets_are_not_parameters() {
    let t = template();
    let mut all = Vec::new();
    walk(&t["Resources"], &mut all);
    for v in &all {
        if let Some(action) = v.get("Action") {
            let actions: Vec<&str> = match action {
                Value::String(s) => vec![s.as_str()],
                Value::Sequence(s) => s.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            for a in actions {
                assert!(!a.contains('*'), "wildcard action {a}");
            }
        }
    }
    for (name, f) in functions(&t) {
        let policies = f["Properties"]["Policies"].as_sequence().expect("policies");
        assert!(!policies.is_empty(), "{name} has no scoped policies");
        for p in policies {
            assert!(
                p.as_str().is_none(),
                "{name} uses a managed policy by name: {p:?}"
            );
        }
    }
    // Only parameter *names* are passed; no parameter may carry a secret value.
    for (name, p) in t["Parameters"].as_mapping().expect("parameters") {
        let name = name.as_str().expect("name");
        if name.contains("Secret") || name.contains("Token") {
            assert!(
                p["Default"].as_str().is_some_and(|d| d.starts_with('/')),
                "{name} must name an SSM parameter"
            );
        }
        assert!(
            p.get("NoEcho").is_none(),
            "{name}: secrets do not belong in parameters"
        );
    }
}

#[test]
fn alarms_watch_dead_letters_and_errors_and_the_url_is_an_output() {
    let t = template();
    let alarms: Vec<&Value> = t["Resources"]
        .as_mapping()
        .expect("resources")
        .values()
        .filter(|r| r["Type"] == "AWS::CloudWatch::Alarm")
        .collect();
    let watched = |metric: &str| {
        alarms
            .iter()
            .filter(|a| a["Properties"]["MetricName"] == metric)
            .count()
    };
    assert_eq!(
        watched("ApproximateNumberOfMessagesVisible"),
        2,
        "both DLQs"
    );
    assert_eq!(watched("Errors"), 3, "every function");
    for a in &alarms {
        assert_eq!(a["Properties"]["Threshold"], 0);
        assert_eq!(
            a["Properties"]["ComparisonOperator"],
            "GreaterThanThreshold"
        );
    }
    let url = format!("{:?}", t["Outputs"]["WebhookUrl"]["Value"]);
    assert!(url.contains("/webhook"), "{url}");
}
