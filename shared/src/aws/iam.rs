//! What each Lambda function calls on AWS: the exact IAM actions and resources its role in
//! `template.yaml` grants, no more. The template test (`tests/tests/template.rs`) fails if a
//! role grants anything not listed here or lacks anything listed; the request-counting test
//! on moto fails if a function sends a request that is not listed.
//!
//! Some actions are not a request of their own:
//! - DynamoDB transactions have no IAM action: `TransactWriteItems` is authorised per item,
//!   as `PutItem`, `UpdateItem`, `DeleteItem` or `ConditionCheckItem`.
//! - `SendMessageBatch` is authorised as `sqs:SendMessage`.
//! - The scanner's metrics are CloudWatch embedded-metric-format log lines, so no
//!   `cloudwatch:PutMetricData`.
//!
//! A few grants are used by Lambda on the function's behalf rather than by our code: writing
//! the function's log group, polling the delivery queue for the sender, and putting a failed
//! scan into its dead-letter queue. They are listed with the function all the same, because
//! they are granted to the same role.

use Resource::*;

/// What a grant applies to; the template names each by its exact ARN, never a wildcard
/// (only a log group's own streams are matched by `:*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// The table itself, not its indexes.
    Table,
    /// The `anchors` index ([`crate::aws::dynamo::ANCHOR_INDEX`]), the one the scan queries.
    AnchorIndex,
    /// The queue of delivery jobs.
    DeliveryQueue,
    /// Delivery jobs that could not be sent, with their reason.
    DeliveryDeadLetterQueue,
    /// Daily scans whose invocation failed after Lambda's retries.
    ScanDeadLetterQueue,
    /// Both SSM parameters that hold the LINE channel secret and the access token.
    LineParameters,
    /// The function's own log group.
    OwnLogGroup,
    /// The EventBridge bus of booking events.
    BookingBus,
}

/// One IAM action on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    /// The IAM action, e.g. `dynamodb:Query`.
    pub action: &'static str,
    pub resource: Resource,
}

const fn grant(action: &'static str, resource: Resource) -> Grant {
    Grant { action, resource }
}

/// Lambda writes the function's output (JSON logs, metrics) to its log group with its role.
const LOGS: [Grant; 2] = [
    grant("logs:CreateLogStream", OwnLogGroup),
    grant("logs:PutLogEvents", OwnLogGroup),
];

/// `functions/webhook`: one conversation turn.
pub const WEBHOOK: &[Grant] = &[
    // The resident's profile and the published catalog.
    grant("dynamodb:GetItem", Table),
    // Every item under the resident's partition, to delete them all on 配信停止 or block.
    grant("dynamodb:Query", Table),
    // The event claim and the resident's changes, in one transaction.
    grant("dynamodb:PutItem", Table),
    grant("dynamodb:UpdateItem", Table),
    grant("dynamodb:DeleteItem", Table),
    // The channel secret and access token at start (and again after a 401).
    grant("ssm:GetParameters", LineParameters),
    // Each booking, change, cancellation and absence, for the city's other systems.
    grant("events:PutEvents", BookingBus),
    LOGS[0],
    LOGS[1],
];

/// `functions/scanner`: one day's scan, and the waiting-list sweep every few minutes.
pub const SCANNER: &[Grant] = &[
    // The anchors due on the day; the slots that have a waiting list.
    grant("dynamodb:Query", AnchorIndex),
    // `pk = scan`: the last day whose scan completed; the published services.
    grant("dynamodb:Query", Table),
    // The published catalog; a resident offered a seat (for their register).
    grant("dynamodb:GetItem", Table),
    // The day's completion record.
    grant("dynamodb:PutItem", Table),
    // The slots the waiting-list index names, read together.
    grant("dynamodb:BatchGetItem", Table),
    // An offer made or lapsed: the slot's list and the resident's own entry, in one
    // transaction.
    grant("dynamodb:UpdateItem", Table),
    grant("dynamodb:DeleteItem", Table),
    // Delivery jobs (`SendMessageBatch`).
    grant("sqs:SendMessage", DeliveryQueue),
    // Lambda puts an invocation that failed after its retries here.
    grant("sqs:SendMessage", ScanDeadLetterQueue),
    // Each seat offered, for the city's systems.
    grant("events:PutEvents", BookingBus),
    LOGS[0],
    LOGS[1],
];

/// `functions/sender`: one batch of delivery jobs.
pub const SENDER: &[Grant] = &[
    // Which recipients already have the milestone, then recording the delivery.
    grant("dynamodb:BatchGetItem", Table),
    grant("dynamodb:UpdateItem", Table),
    // Whether an offer's seat is still held for its recipient (their own entries).
    grant("dynamodb:Query", Table),
    // Whether a waiting-list notice's recipient is still registered (their profile).
    grant("dynamodb:GetItem", Table),
    // Lambda's event source mapping polls the queue and deletes settled messages.
    grant("sqs:ReceiveMessage", DeliveryQueue),
    grant("sqs:DeleteMessage", DeliveryQueue),
    grant("sqs:GetQueueAttributes", DeliveryQueue),
    // A retryable failure waits out its backoff before SQS hands it out again.
    grant("sqs:ChangeMessageVisibility", DeliveryQueue),
    // A permanent failure goes to the dead-letter queue with its reason.
    grant("sqs:SendMessage", DeliveryDeadLetterQueue),
    // The access token at start, and again after a 401 (a rotated token).
    grant("ssm:GetParameters", LineParameters),
    LOGS[0],
    LOGS[1],
];

/// Each function's binary name (as in `functions/<name>`) with what it may call.
pub const FUNCTIONS: &[(&str, &[Grant])] = &[
    ("webhook", WEBHOOK),
    ("scanner", SCANNER),
    ("sender", SENDER),
];

/// Whether `grants` allow `action` (e.g. `dynamodb:Query`) on `resource`.
pub fn allows(grants: &[Grant], action: &str, resource: Resource) -> bool {
    grants
        .iter()
        .any(|g| g.action == action && g.resource == resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_function_may_scan_or_use_a_wildcard() {
        for (name, grants) in FUNCTIONS {
            for g in *grants {
                assert_ne!(g.action, "dynamodb:Scan", "{name}");
                assert!(!g.action.contains('*'), "{name}: {}", g.action);
                let (service, operation) = g.action.split_once(':').expect("service:Action");
                assert!(!service.is_empty() && !operation.is_empty());
            }
        }
    }

    #[test]
    fn each_grant_is_listed_once() {
        for (name, grants) in FUNCTIONS {
            let mut seen = std::collections::HashSet::new();
            for g in *grants {
                assert!(seen.insert(g), "{name} lists {g:?} twice");
            }
        }
    }

    #[test]
    fn only_the_scanner_reads_the_index() {
        assert!(allows(SCANNER, "dynamodb:Query", AnchorIndex));
        assert!(!allows(WEBHOOK, "dynamodb:Query", AnchorIndex));
        assert!(!allows(SENDER, "dynamodb:Query", AnchorIndex));
    }
}
