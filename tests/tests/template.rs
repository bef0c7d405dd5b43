//! `template.yaml` facts that cfn-lint does not check (TOOLING.md): the scaling floor, the
//! schedule, the queue timings, what each function's role grants (exactly
//! `shared::aws::iam`), the abuse and cost limits, the alarms, that the table the template
//! creates is the table the code (and its moto tests) expects, and that the README's
//! figures are the template's.

use std::collections::{BTreeMap, BTreeSet};

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::{Value, json};
use shared::aws::iam::{self, Resource};

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The template in CloudFormation's JSON form: each short tag (`!Ref X`, `!GetAtt A.B`,
/// `!Sub s`, `!If [...]`) becomes the long form it stands for (`{"Ref": "X"}`,
/// `{"Fn::GetAtt": ["A", "B"]}`, ...), as CloudFormation itself reads it.
fn template() -> Value {
    parse_template(&repo_file("template.yaml"))
}

fn parse_template(text: &str) -> Value {
    let docs = Yaml::load_from_str(text).expect("template.yaml is YAML");
    assert_eq!(docs.len(), 1, "one YAML document");
    to_json(&docs[0])
}

fn to_json(node: &Yaml) -> Value {
    match node {
        Yaml::Value(Scalar::Null) => Value::Null,
        Yaml::Value(Scalar::Boolean(b)) => json!(b),
        Yaml::Value(Scalar::Integer(i)) => json!(i),
        Yaml::Value(Scalar::FloatingPoint(f)) => json!(f.into_inner()),
        Yaml::Value(Scalar::String(s)) => json!(s),
        Yaml::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Yaml::Tagged(tag, inner) => {
            assert_eq!(tag.handle, "!", "unexpected tag {tag}");
            let inner = to_json(inner);
            let (key, value) = match (tag.suffix.as_str(), inner) {
                (name @ ("Ref" | "Condition"), inner) => (name.to_string(), inner),
                ("GetAtt", Value::String(s)) => {
                    let (resource, attribute) =
                        s.split_once('.').expect("!GetAtt Resource.Attribute");
                    ("Fn::GetAtt".to_string(), json!([resource, attribute]))
                }
                (function, inner) => (format!("Fn::{function}"), inner),
            };
            Value::Object(serde_json::Map::from_iter([(key, value)]))
        }
        other => panic!("unsupported YAML node in template.yaml: {other:?}"),
    }
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

fn resources_of<'a>(t: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    t["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(k, r)| (k.as_str(), r))
        .collect()
}

fn functions(t: &Value) -> Vec<(&str, &Value)> {
    resources_of(t, "AWS::Serverless::Function")
}

/// The function whose binary is `binary` (`functions/<binary>`).
fn function<'a>(t: &'a Value, binary: &str) -> (&'a str, &'a Value) {
    functions(t)
        .into_iter()
        .find(|(_, f)| f["Metadata"]["BuildProperties"]["Binary"] == binary)
        .unwrap_or_else(|| panic!("no function builds {binary}"))
}

fn get_att(resource: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [resource, attribute] })
}

fn reference(name: &str) -> Value {
    json!({ "Ref": name })
}

/// A value with `Ref`, `Fn::If`, `Fn::Equals`, `Fn::Not` and `Condition` worked out for the
/// given parameter values (others take their defaults), as CloudFormation would: a `Ref` to
/// a parameter is its value as a string; `None` is `AWS::NoValue`, i.e. the property is left
/// out. Other functions are kept as they are.
fn resolve(t: &Value, v: &Value, params: &BTreeMap<&str, &str>) -> Option<Value> {
    let Some(map) = v.as_object().filter(|m| m.len() == 1) else {
        return Some(v.clone());
    };
    let (function, args) = map.iter().next().expect("one entry");
    let condition = |name: &str| {
        let c = &t["Conditions"][name];
        assert!(!c.is_null(), "condition {name} is missing");
        resolve(t, c, params) == Some(json!(true))
    };
    match function.as_str() {
        "Ref" => {
            let name = args.as_str().expect("Ref name");
            if name == "AWS::NoValue" {
                return None;
            }
            let p = &t["Parameters"][name];
            if p.is_null() {
                return Some(v.clone());
            }
            let value = params
                .get(name)
                .map(|s| json!(s))
                .unwrap_or_else(|| match &p["Default"] {
                    Value::String(s) => json!(s),
                    other => json!(other.to_string()),
                });
            Some(value)
        }
        "Condition" => Some(json!(condition(args.as_str().expect("name")))),
        "Fn::If" => {
            let args = args.as_array().expect("[condition, then, else]");
            let branch = if condition(args[0].as_str().expect("name")) {
                &args[1]
            } else {
                &args[2]
            };
            resolve(t, branch, params)
        }
        "Fn::Not" => {
            let inner = resolve(t, &args[0], params);
            Some(json!(inner != Some(json!(true))))
        }
        "Fn::Equals" => {
            let side = |i: usize| match resolve(t, &args[i], params) {
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => panic!("AWS::NoValue in Fn::Equals"),
            };
            Some(json!(side(0) == side(1)))
        }
        _ => Some(v.clone()),
    }
}

#[test]
fn short_tags_become_cloudformations_long_form() {
    let t = parse_template(
        "a: !Ref X\nb: !GetAtt T.Arn\nc: !Sub ${T.Arn}/index/i\nd: !If [C, 1, !Ref AWS::NoValue]\ne: !Not [!Equals [!Ref P, \"0\"]]\n",
    );
    assert_eq!(t["a"], json!({"Ref": "X"}));
    assert_eq!(t["b"], json!({"Fn::GetAtt": ["T", "Arn"]}));
    assert_eq!(t["c"], json!({"Fn::Sub": "${T.Arn}/index/i"}));
    assert_eq!(t["d"], json!({"Fn::If": ["C", 1, {"Ref": "AWS::NoValue"}]}));
    assert_eq!(
        t["e"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, "0"]}]})
    );
}

#[test]
fn three_rust_functions_built_by_cargo_lambda_for_arm64() {
    let t = template();
    assert_eq!(t["Globals"]["Function"]["Runtime"], "provided.al2023");
    assert_eq!(t["Globals"]["Function"]["Architectures"][0], "arm64");
    let mut binaries = BTreeSet::new();
    for (name, f) in functions(&t) {
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        let binary = f["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("binary");
        binaries.insert(binary.to_string());
        // Each binary is a workspace package under functions/.
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../functions")
            .join(binary)
            .join("Cargo.toml");
        assert!(manifest.exists(), "{} is missing", manifest.display());
    }
    assert_eq!(
        binaries,
        BTreeSet::from(["scanner".into(), "sender".into(), "webhook".into()])
    );
}

fn daily_schedule(t: &Value) -> &Value {
    let (_, scanner) = function(t, "scanner");
    let daily = &scanner["Properties"]["Events"]["Daily"];
    assert_eq!(daily["Type"], "ScheduleV2");
    &daily["Properties"]
}

#[test]
fn the_scan_runs_daily_at_nine_tokyo_time_for_the_scheduled_day() {
    let t = template();
    let daily = daily_schedule(&t);
    assert_eq!(daily["ScheduleExpressionTimezone"], "Asia/Tokyo");
    let expr = daily["ScheduleExpression"].as_str().expect("expression");
    let fields: Vec<&str> = expr
        .strip_prefix("cron(")
        .and_then(|e| e.strip_suffix(')'))
        .expect("a cron() expression")
        .split(' ')
        .collect();
    // minutes hours day-of-month month day-of-week year; one of the day fields must be `?`.
    assert_eq!(fields, vec!["0", "9", "*", "*", "?", "*"]);
    // The day comes from the schedule: EventBridge Scheduler fills in the time the run was
    // scheduled for, so a retried or late run scans the right day.
    let input = daily["Input"].as_str().expect("input");
    let payload: Value = serde_json::from_str(input).expect("JSON input");
    assert_eq!(
        payload,
        json!({"scheduled_time": "<aws.scheduler.scheduled-time>"})
    );
}

#[test]
fn the_scheduled_day_is_scanned_even_when_the_run_is_a_day_late() {
    let t = template();
    let input = daily_schedule(&t)["Input"].as_str().expect("input");
    // What EventBridge Scheduler sends for the 09:00 JST run of 2026-11-22.
    let sent = input.replace("<aws.scheduler.scheduled-time>", "2026-11-22T00:00:00Z");
    let payload: Value = serde_json::from_str(&sent).expect("JSON");
    let late = chrono::DateTime::parse_from_rfc3339("2026-11-23T00:30:00Z")
        .expect("time")
        .to_utc();
    let day = shared::aws::lambda::scan_date(&payload, late).expect("accepted");
    assert_eq!(day.to_string(), "2026-11-22");
}

/// キャンセル待ち: the scanner also runs the waiting-list sweep every minute, with a
/// payload it reads as the sweep (not a day's scan), and may publish the offers' events.
#[test]
fn the_waiting_list_sweep_runs_every_minute() {
    let t = template();
    let (_, scanner) = function(&t, "scanner");
    let sweep = &scanner["Properties"]["Events"]["WaitingListSweep"];
    assert_eq!(sweep["Type"], "ScheduleV2");
    assert_eq!(sweep["Properties"]["ScheduleExpression"], "rate(1 minute)");
    let input = sweep["Properties"]["Input"].as_str().expect("input");
    let payload: Value = serde_json::from_str(input).expect("JSON input");
    assert!(shared::aws::lambda::sweep_requested(&payload).expect("accepted"));
    let daily = daily_schedule(&t)["Input"].as_str().expect("input");
    let daily: Value = serde_json::from_str(daily).expect("JSON input");
    assert!(!shared::aws::lambda::sweep_requested(&daily).expect("accepted"));
    assert!(shared::aws::lambda::sweep_requested(&json!({"sweep": "everything"})).is_err());
    assert_eq!(
        scanner["Properties"]["Environment"]["Variables"]["EVENT_BUS_NAME"],
        reference("BookingBus")
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
    let (_, sender) = function(&t, "sender");
    let sender = &sender["Properties"];
    let jobs = &sender["Events"]["Jobs"]["Properties"];
    assert_eq!(jobs["FunctionResponseTypes"][0], "ReportBatchItemFailures");
    assert!(!jobs["ScalingConfig"]["MaximumConcurrency"].is_null());
    let timeout = number(&sender["Timeout"]);
    let visibility = number(&resource(&t, "DeliveryQueue")["Properties"]["VisibilityTimeout"]);
    assert!(
        visibility >= 6 * timeout,
        "visibility {visibility}s < 6 × sender timeout {timeout}s"
    );
    let queue = &resource(&t, "DeliveryQueue")["Properties"];
    // Receives of one job in its life: retries for up to SendRetryHours (backoff from 10 s
    // to 15 min), one a night in the quiet hours, and a look every 30 minutes while the
    // quota holds it, for as long as the queue keeps it.
    let retention_days = number(&queue["MessageRetentionPeriod"]) / 86_400;
    assert_eq!(retention_days, 14, "held work is kept as long as SQS can");
    let retry_hours = number(&t["Parameters"]["SendRetryHours"]["MaxValue"]);
    assert!(
        retry_hours < 24,
        "retries end before LINE forgets the retry key"
    );
    let receives = retry_hours * 4 + 10 + retention_days * (1 + 48);
    let redrive = &queue["RedrivePolicy"];
    assert!(
        number(&redrive["maxReceiveCount"]) > receives,
        "the sender dead-letters with a reason (or keeps the job) before the redrive policy steps in"
    );
    let vars = &sender["Environment"]["Variables"];
    for (var, parameter) in [
        ("CHANNEL_PUSH_RATE", "ChannelPushRate"),
        ("CHANNEL_MULTICAST_RATE", "ChannelMulticastRate"),
        ("QUIET_HOURS", "QuietHours"),
        ("QUIET_HOURS_EXEMPT", "QuietHoursExempt"),
        ("SEND_RETRY_HOURS", "SendRetryHours"),
        ("MAX_CONCURRENCY", "SenderMaxConcurrency"),
    ] {
        assert_eq!(vars[var], reference(parameter), "{var}");
    }
    // Every value the parameters allow is one the sender accepts at start-up.
    let (_, scanner) = function(&t, "scanner");
    for var in ["QUIET_HOURS", "QUIET_HOURS_EXEMPT"] {
        assert_eq!(
            scanner["Properties"]["Environment"]["Variables"][var], vars[var],
            "the sweep keeps the sender's quiet hours"
        );
    }
    // The quota alarm watches what this sender reports.
    let quota_alarm = &resource(&t, "QuotaHeldAlarm")["Properties"];
    assert_eq!(quota_alarm["Namespace"], vars["METRICS_NAMESPACE"]);
    assert_eq!(quota_alarm["MetricName"], "QuotaHeldJobs");
    let settings = |quiet: &str, exempt: &str| {
        shared::handlers::send::SendSettings::from_lookup(|name| match name {
            "QUIET_HOURS" => Some(quiet.to_string()),
            "QUIET_HOURS_EXEMPT" => Some(exempt.to_string()),
            _ => None,
        })
    };
    for (quiet, exempt) in [
        ("21:00-08:00", ""),
        ("off", ""),
        ("23:59-00:00", "milestone,reminder,offer,notice"),
        ("00:00-06:30", "offer"),
    ] {
        assert!(settings(quiet, exempt).is_ok(), "{quiet} {exempt}");
    }
    assert_eq!(
        t["Parameters"]["QuietHours"]["Default"],
        shared::quiet_hours::QuietHours::DEFAULT
    );
    let rate = shared::pacer::ChannelRate::LINE;
    assert_eq!(
        number(&t["Parameters"]["ChannelPushRate"]["MaxValue"]),
        i64::from(rate.push)
    );
    assert_eq!(
        number(&t["Parameters"]["ChannelMulticastRate"]["MaxValue"]),
        i64::from(rate.multicast)
    );
    // LINE's rates leave each of the most instances a share.
    let most = number(&t["Parameters"]["SenderMaxConcurrency"]["MaxValue"]) as u32;
    assert!(
        shared::pacer::ChannelRate::LINE.share(most).is_ok(),
        "LINE's rates shared by {most} instances"
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
        v.as_array()
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
        Value::Object(m) => m.values().for_each(|x| walk(x, out)),
        Value::Array(s) => s.iter().for_each(|x| walk(x, out)),
        _ => {}
    }
}

/// A statement's `Action` or `Resource`: one value or a list.
fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => vec![],
        other => vec![other],
    }
}

/// What one `Resource` entry of a function's role names, as `iam.rs` words it; the two LINE
/// parameters are told apart, since a grant needs both. Anything that is not one of these
/// exact ARNs (a wildcard, another table's index, another function's log group) is refused.
fn target(t: &Value, v: &Value, own_log_group: &str) -> String {
    let kind = |name: &str, expected: &str| {
        assert_eq!(resource(t, name)["Type"], expected, "{name}");
    };
    let ssm = |param: &str| {
        json!({ "Fn::Sub": format!(
            "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter${{{param}}}"
        ) })
    };
    let index =
        json!({ "Fn::Sub": format!("${{Table.Arn}}/index/{}", shared::aws::dynamo::ANCHOR_INDEX) });
    // (exact ARN, the template resource it must be, its type, what iam.rs calls it)
    let known = [
        (
            get_att("Table", "Arn"),
            "Table",
            "AWS::DynamoDB::Table",
            Resource::Table,
        ),
        (
            index,
            "Table",
            "AWS::DynamoDB::Table",
            Resource::AnchorIndex,
        ),
        (
            get_att("DeliveryQueue", "Arn"),
            "DeliveryQueue",
            "AWS::SQS::Queue",
            Resource::DeliveryQueue,
        ),
        (
            get_att("DeliveryDeadLetterQueue", "Arn"),
            "DeliveryDeadLetterQueue",
            "AWS::SQS::Queue",
            Resource::DeliveryDeadLetterQueue,
        ),
        (
            get_att("ScanDeadLetterQueue", "Arn"),
            "ScanDeadLetterQueue",
            "AWS::SQS::Queue",
            Resource::ScanDeadLetterQueue,
        ),
        (
            get_att(own_log_group, "Arn"),
            own_log_group,
            "AWS::Logs::LogGroup",
            Resource::OwnLogGroup,
        ),
        (
            get_att("BookingBus", "Arn"),
            "BookingBus",
            "AWS::Events::EventBus",
            Resource::BookingBus,
        ),
    ];
    if let Some((_, name, expected, found)) = known.iter().find(|(arn, ..)| arn == v) {
        kind(name, expected);
        return format!("{found:?}");
    }
    for param in LINE_PARAMETERS {
        if *v == ssm(param) {
            return format!("{:?}:{param}", Resource::LineParameters);
        }
    }
    panic!("unrecognised resource {v}: name one of iam.rs's resources by its exact ARN");
}

const LINE_PARAMETERS: [&str; 2] = [
    "LineChannelSecretParameter",
    "LineChannelAccessTokenParameter",
];

/// `(action, target)` pairs in the words of [`target`].
fn expected(grants: &[iam::Grant]) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for g in grants {
        if g.resource == Resource::LineParameters {
            for p in LINE_PARAMETERS {
                out.insert((g.action.to_string(), format!("{:?}:{p}", g.resource)));
            }
        } else {
            out.insert((g.action.to_string(), format!("{:?}", g.resource)));
        }
    }
    out
}

/// Everything a function's role grants, as `(action, target)`, read from the role the
/// function names. Fails on anything that would grant more than the role's own inline
/// statements say (SAM policy templates, managed policies, wildcards, Not* elements).
fn granted(t: &Value, name: &str, f: &Value) -> BTreeSet<(String, String)> {
    let props = &f["Properties"];
    assert!(
        props["Policies"].is_null(),
        "{name}: `Policies` (SAM policy templates or statements) is not allowed; \
         write the grant into the function's role"
    );
    let role_name = props["Role"]["Fn::GetAtt"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: Role must be !GetAtt <its role>.Arn"));
    assert_eq!(props["Role"], get_att(role_name, "Arn"), "{name}");
    let role = resource(t, role_name);
    assert_eq!(role["Type"], "AWS::IAM::Role", "{name}");
    let role = &role["Properties"];
    assert!(
        role["ManagedPolicyArns"].is_null(),
        "{name}: managed policies grant more than the function calls"
    );
    let trust = &role["AssumeRolePolicyDocument"]["Statement"];
    assert_eq!(
        trust,
        &json!([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]),
        "{name}: only Lambda assumes the role"
    );
    let own_log_group = props["LoggingConfig"]["LogGroup"]["Ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: LoggingConfig.LogGroup must be !Ref its log group"));
    let mut out = BTreeSet::new();
    for policy in role["Policies"].as_array().expect("inline policies") {
        for s in policy["PolicyDocument"]["Statement"]
            .as_array()
            .expect("statements")
        {
            assert_eq!(s["Effect"], "Allow", "{name}: {s}");
            for widening in ["NotAction", "NotResource", "Condition"] {
                assert!(s[widening].is_null(), "{name}: {widening} in {s}");
            }
            let resources = one_or_many(&s["Resource"]);
            assert!(
                !resources.is_empty(),
                "{name}: a statement without Resource"
            );
            for action in one_or_many(&s["Action"]) {
                let action = action.as_str().expect("action");
                assert!(
                    !action.contains(['*', '?']),
                    "{name}: wildcard action {action}"
                );
                for r in &resources {
                    out.insert((action.to_string(), target(t, r, own_log_group)));
                }
            }
        }
    }
    out
}

#[test]
fn each_function_holds_exactly_what_it_calls() {
    let t = template();
    assert!(
        t["Globals"]["Function"]["Policies"].is_null()
            && t["Globals"]["Function"]["Role"].is_null(),
        "no grants shared through Globals"
    );
    // Nothing else may attach permissions to the roles.
    for kind in [
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
        "AWS::Serverless::Connector",
    ] {
        assert!(resources_of(&t, kind).is_empty(), "{kind} in the template");
    }
    let mut roles = BTreeSet::new();
    for (binary, calls) in iam::FUNCTIONS {
        let (name, f) = function(&t, binary);
        assert!(
            roles.insert(f["Properties"]["Role"].to_string()),
            "{name} shares its role"
        );
        let granted = granted(&t, name, f);
        for (action, on) in &granted {
            assert_ne!(action, "dynamodb:Scan", "{name} can Scan {on}");
        }
        let expected = expected(calls);
        let extra: Vec<_> = granted.difference(&expected).collect();
        let missing: Vec<_> = expected.difference(&granted).collect();
        assert!(
            extra.is_empty(),
            "{name} holds {extra:?}, which iam::{} does not list",
            binary.to_uppercase()
        );
        assert!(
            missing.is_empty(),
            "{name} lacks {missing:?}, which iam::{} lists",
            binary.to_uppercase()
        );
    }
    assert_eq!(
        roles.len(),
        functions(&t).len(),
        "every function is checked"
    );
}

#[test]
fn the_resources_granted_are_the_ones_each_function_uses() {
    let t = template();
    // The table, queues and log groups in the functions' settings are the ones granted.
    assert_eq!(
        t["Globals"]["Function"]["Environment"]["Variables"]["TABLE_NAME"],
        reference("Table")
    );
    for binary in ["scanner", "sender"] {
        let vars = &function(&t, binary).1["Properties"]["Environment"]["Variables"];
        assert_eq!(vars["QUEUE_URL"], reference("DeliveryQueue"), "{binary}");
        assert_eq!(
            vars["DEAD_LETTER_QUEUE_URL"],
            reference("DeliveryDeadLetterQueue"),
            "{binary}"
        );
    }
    for binary in ["webhook", "sender"] {
        let vars = &function(&t, binary).1["Properties"]["Environment"]["Variables"];
        for p in LINE_PARAMETERS {
            assert!(
                vars.as_object()
                    .expect("variables")
                    .values()
                    .any(|v| *v == reference(p)),
                "{binary} reads {p}"
            );
        }
    }
    // The ARN is `parameter` + the name, so a name may not smuggle in a wildcard.
    for p in LINE_PARAMETERS {
        let pattern = t["Parameters"][p]["AllowedPattern"]
            .as_str()
            .expect("pattern");
        assert!(
            pattern.starts_with("^/") && !pattern.contains(['*', '?']),
            "{p}"
        );
    }
    // Lambda polls with the sender's role, and dead-letters failed scans with the scanner's.
    let (_, sender) = function(&t, "sender");
    assert_eq!(
        sender["Properties"]["Events"]["Jobs"]["Properties"]["Queue"],
        get_att("DeliveryQueue", "Arn")
    );
    let (_, scanner) = function(&t, "scanner");
    assert_eq!(
        scanner["Properties"]["DeadLetterQueue"],
        json!({"Type": "SQS", "TargetArn": get_att("ScanDeadLetterQueue", "Arn")})
    );
    // Each function logs to its own group, which keeps the retention setting.
    let mut groups = BTreeSet::new();
    for (name, f) in functions(&t) {
        let group = f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
            .as_str()
            .expect("log group");
        assert!(groups.insert(group), "{name} shares a log group");
        assert_eq!(
            resource(&t, group)["Properties"]["RetentionInDays"],
            reference("LogRetentionDays")
        );
    }
}

#[test]
fn no_action_anywhere_is_a_wildcard_and_secrets_are_not_parameters() {
    let t = template();
    let mut all = Vec::new();
    walk(&t["Resources"], &mut all);
    for v in &all {
        for key in ["Action", "NotAction"] {
            for a in one_or_many(&v[key]) {
                if let Some(a) = a.as_str() {
                    assert!(!a.contains(['*', '?']), "wildcard action {a}");
                }
            }
        }
    }
    // Only parameter *names* are passed; no parameter may carry a secret value.
    for (name, p) in t["Parameters"].as_object().expect("parameters") {
        if name.contains("Secret") || name.contains("Token") {
            assert!(
                p["Default"].as_str().is_some_and(|d| d.starts_with('/')),
                "{name} must name an SSM parameter"
            );
        }
        assert!(
            p["NoEcho"].is_null(),
            "{name}: secrets do not belong in parameters"
        );
    }
}

#[test]
fn the_public_route_is_throttled_and_the_webhook_capped() {
    let t = template();
    let params = &t["Parameters"];
    // Throttling on the one API, which is the one serving /webhook.
    let apis = resources_of(&t, "AWS::Serverless::HttpApi");
    assert_eq!(apis.len(), 1, "one HTTP API");
    assert!(resources_of(&t, "AWS::Serverless::Api").is_empty());
    let (api, http) = apis[0];
    let (_, webhook) = function(&t, "webhook");
    assert_eq!(
        webhook["Properties"]["Events"]["Webhook"]["Properties"]["ApiId"],
        reference(api)
    );
    let route = &http["Properties"]["DefaultRouteSettings"];
    assert_eq!(route["ThrottlingRateLimit"], reference("WebhookRateLimit"));
    assert_eq!(
        route["ThrottlingBurstLimit"],
        reference("WebhookBurstLimit")
    );
    let rate = &params["WebhookRateLimit"];
    let burst = &params["WebhookBurstLimit"];
    assert_eq!(number(&rate["Default"]), 50);
    assert_eq!(number(&burst["Default"]), 100);
    assert!(
        number(&rate["MinValue"]) >= 1 && number(&burst["MinValue"]) >= 1,
        "0 would refuse every webhook"
    );
    assert!(number(&burst["Default"]) >= number(&rate["Default"]));

    // The cap, and 0 meaning "no reservation" rather than Lambda's "never run".
    let cap = &params["WebhookReservedConcurrency"];
    assert_eq!(number(&cap["Default"]), 20);
    assert_eq!(number(&cap["MinValue"]), 0);
    let reserved = &webhook["Properties"]["ReservedConcurrentExecutions"];
    let with = |value: &str| {
        resolve(
            &t,
            reserved,
            &BTreeMap::from([("WebhookReservedConcurrency", value)]),
        )
    };
    assert_eq!(with("20"), Some(json!("20")));
    assert_eq!(with("5"), Some(json!("5")));
    assert_eq!(with("0"), None, "0 must leave the property out");
    assert_eq!(resolve(&t, reserved, &BTreeMap::new()), Some(json!("20")));
    // The other functions are bounded elsewhere (one scheduled run; SQS MaximumConcurrency).
    for binary in ["scanner", "sender"] {
        assert!(function(&t, binary).1["Properties"]["ReservedConcurrentExecutions"].is_null());
    }
}

fn alarms(t: &Value) -> Vec<(&str, &Value)> {
    resources_of(t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(name, a)| (name, &a["Properties"]))
        .collect()
}

#[test]
fn alarms_watch_dead_letters_errors_and_the_daily_scan() {
    let t = template();
    let alarms = alarms(&t);
    let watched = |metric: &str| {
        alarms
            .iter()
            .filter(|(_, a)| a["MetricName"] == metric)
            .count()
    };
    assert_eq!(
        watched("ApproximateNumberOfMessagesVisible"),
        2,
        "both DLQs"
    );
    assert_eq!(watched("Errors"), 3, "every function");
    assert_eq!(watched("5xx"), 1, "the webhook's answers");
    assert_eq!(watched("ScanDaysMissed"), 1);
    assert_eq!(watched("DailyScanCompleted"), 1);
    assert_eq!(watched("QuotaHeldJobs"), 1, "a used-up LINE quota");
    assert_eq!(alarms.len(), 9);
    for (name, a) in &alarms {
        assert_eq!(
            a["AlarmActions"],
            json!([reference("AlarmTopic")]),
            "{name}"
        );
        // CloudWatch's limits on an alarm's periods.
        let period = number(&a["Period"]);
        let range = period * number(&a["EvaluationPeriods"]);
        assert!([10, 20, 30].contains(&period) || period % 60 == 0, "{name}");
        let limit = if period < 3600 { 86_400 } else { 604_800 };
        assert!(range <= limit, "{name}: evaluates {range}s");
        if a["Namespace"]
            .as_str()
            .is_some_and(|n| n.starts_with("AWS/"))
        {
            assert_eq!(a["Threshold"], 0, "{name}");
            assert_eq!(a["ComparisonOperator"], "GreaterThanThreshold", "{name}");
            assert_eq!(a["TreatMissingData"], "notBreaching", "{name}");
        }
    }
    let url = t["Outputs"]["WebhookUrl"]["Value"].to_string();
    assert!(url.contains("/webhook"), "{url}");
}

#[test]
fn a_missed_or_failed_daily_scan_raises_an_alarm() {
    let t = template();
    let (_, scanner) = function(&t, "scanner");
    let namespace = &scanner["Properties"]["Environment"]["Variables"]["METRICS_NAMESPACE"];
    assert_eq!(
        namespace,
        &json!({"Fn::Sub": "sukusuku/${AWS::StackName}"}),
        "one namespace per stack"
    );
    let alarms = alarms(&t);
    let on = |metric: &str| {
        let (name, a) = alarms
            .iter()
            .find(|(_, a)| a["MetricName"] == metric)
            .unwrap_or_else(|| panic!("no alarm on {metric}"));
        // The scanner's metrics carry no dimensions; an alarm with any would watch nothing.
        assert_eq!(&a["Namespace"], namespace, "{name}");
        assert!(a["Dimensions"].is_null(), "{name}");
        (*name, *a)
    };

    // A day with no completion record, reported by the next run: on for a day at once.
    let (name, missed) = on("ScanDaysMissed");
    assert_eq!(missed["Statistic"], "Maximum", "{name}");
    assert_eq!(missed["Threshold"], 1, "{name}");
    assert_eq!(
        missed["ComparisonOperator"], "GreaterThanOrEqualToThreshold",
        "{name}"
    );
    assert_eq!(missed["DatapointsToAlarm"], 1, "{name}");
    assert_eq!(
        number(&missed["Period"]) * number(&missed["EvaluationPeriods"]),
        86_400,
        "{name}: one value keeps it on for a day"
    );
    assert_eq!(missed["TreatMissingData"], "notBreaching", "{name}");

    // No run completed at all: no data is the failure, so missing data breaches, and only
    // a whole window without a completion alarms. The window must be longer than the
    // 24 hours between two 09:00 runs (or every day would alarm briefly) but short enough
    // to raise it on the same working day.
    let (name, completed) = on("DailyScanCompleted");
    assert_eq!(completed["Statistic"], "Sum", "{name}");
    assert_eq!(completed["Threshold"], 1, "{name}");
    assert_eq!(
        completed["ComparisonOperator"], "LessThanThreshold",
        "{name}"
    );
    assert_eq!(completed["TreatMissingData"], "breaching", "{name}");
    let periods = number(&completed["EvaluationPeriods"]);
    let datapoints = completed["DatapointsToAlarm"].as_i64().unwrap_or(periods);
    assert_eq!(
        datapoints, periods,
        "{name}: every period must lack a completion"
    );
    let window = number(&completed["Period"]) * periods;
    assert!(
        (25 * 3600..=28 * 3600).contains(&window),
        "{name}: window {window}s"
    );
    assert!(
        number(&completed["Period"]) <= 3600,
        "{name}: hour-sized periods"
    );
}

/// The README's parameter table and cost table say what the template says.
#[test]
fn readme_figures_match_the_template() {
    let t = template();
    let readme = repo_file("README.md");
    for (name, p) in t["Parameters"].as_object().expect("parameters") {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("README's parameter table lacks {name}"));
        let default = row
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .expect("default column")
            .trim();
        match &p["Default"] {
            Value::String(s) if s.is_empty() => {
                assert!(default.starts_with("empty"), "{name}: {default}")
            }
            Value::String(s) => assert_eq!(default, format!("`{s}`"), "{name}"),
            other => assert_eq!(default, format!("`{other}`"), "{name}"),
        }
    }
    let alarms = alarms(&t).len();
    assert!(
        readme.contains(&format!("- {alarms} CloudWatch alarms:")),
        "README's deploy section must count {alarms} alarms"
    );
    // The cost simulator prices the same alarms.
    let meter = repo_file("cli/src/simulate/meter.rs");
    assert!(
        meter.contains(&format!("pub const ALARMS: f64 = {alarms}.0;")),
        "sukusuku simulate must price {alarms} alarms"
    );
}

/// The staff rule's pattern, as the template writes it, run by EventBridge (moto) against
/// every kind of booking event from today to five days ahead: only cancellations and
/// absences of today, tomorrow and the day after reach the staff.
#[tokio::test]
async fn the_staff_rule_picks_near_cancellations_and_absences_only() {
    use shared::aws::testing::{moto_config, moto_endpoint, unique_name};
    use shared::reservations::events::{BookingEvent, BookingEventKind, EventSink, EventSlot};
    let Some(ep) = moto_endpoint() else { return };
    let t = template();
    let rule = resource(&t, "SoonCancelledRule");
    let pattern = rule["Properties"]["EventPattern"].to_string();
    let config = moto_config(&ep).await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let bus = unique_name("bookings");
    events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("bus");
    let queue = sqs
        .create_queue()
        .queue_name(unique_name("staff"))
        .send()
        .await
        .expect("queue");
    let url = queue.queue_url().expect("url").to_string();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attributes")
        .attributes()
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("queue arn");
    events
        .put_rule()
        .name("soon-cancelled")
        .event_bus_name(&bus)
        .event_pattern(&pattern)
        .send()
        .await
        .expect("rule");
    events
        .put_targets()
        .rule("soon-cancelled")
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("staff")
                .arn(arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("target");
    let sink = shared::aws::EventBridgeEvents::from_config(&config, &bus);
    let at = chrono::Utc::now();
    let mut all = Vec::new();
    for kind in [
        BookingEventKind::Booked,
        BookingEventKind::Changed,
        BookingEventKind::Cancelled,
        BookingEventKind::Absent,
        // An offer is for the resident in line, not for staff.
        BookingEventKind::Offered,
    ] {
        for days_ahead in 0..=5 {
            all.push(BookingEvent {
                kind,
                booking_id: format!("{kind:?}{days_ahead}"),
                service: "checkup-4m".into(),
                slot: EventSlot {
                    date: shared::dates::tokyo_date(at) + chrono::Duration::days(days_ahead),
                    start: "13:30".into(),
                },
                previous_slot: None,
                reason: None,
                cancelled_by: None,
                offered_until: None,
                days_ahead,
                at,
            });
        }
    }
    sink.publish(&all).await.expect("published");
    let mut got = BTreeSet::new();
    for _ in 0..10 {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        if out.messages().is_empty() {
            break;
        }
        for m in out.messages() {
            let body: Value = serde_json::from_str(m.body().unwrap_or("{}")).expect("json body");
            got.insert(
                body["detail"]["booking_id"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string(),
            );
        }
    }
    let expected: BTreeSet<String> = [
        "Cancelled0",
        "Cancelled1",
        "Cancelled2",
        "Absent0",
        "Absent1",
        "Absent2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, expected);
}
