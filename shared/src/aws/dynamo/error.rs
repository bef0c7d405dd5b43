//! DynamoDB errors in the store's terms: what is worth retrying, what is a lost race, what
//! is a webhook event seen before.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

use crate::store::StoreError;

/// Throttling, timeouts and 5xx are worth retrying; a refused request is not.
pub(super) fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    e: SdkError<E>,
) -> StoreError {
    let retryable_code = matches!(
        e.code(),
        Some(
            "ThrottlingException"
                | "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable"
                | "TransactionInProgressException"
        )
    );
    let detail = aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string();
    match e {
        SdkError::ServiceError(_) if !retryable_code => StoreError::Rejected(detail),
        _ => StoreError::Unavailable(detail),
    }
}

pub(super) fn is_condition_failure<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

/// A cancelled transaction: if `claim_at` (the position of the event claim) failed its
/// condition, the event was processed before; any other failed condition or conflict is a
/// concurrent change of the resident.
pub(super) fn transaction_failure(
    e: SdkError<TransactWriteItemsError>,
    claim_at: Option<usize>,
) -> StoreError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error() {
        let reasons = c.cancellation_reasons();
        let failed = |i: usize| {
            reasons
                .get(i)
                .is_some_and(|r| r.code() == Some("ConditionalCheckFailed"))
        };
        if claim_at.is_some_and(failed) {
            return StoreError::DuplicateEvent;
        }
        let lost_race = reasons.iter().any(|r| {
            matches!(
                r.code(),
                Some("ConditionalCheckFailed" | "TransactionConflict")
            )
        });
        if lost_race {
            return StoreError::Conflict;
        }
        let throttled = reasons.iter().any(|r| {
            matches!(
                r.code(),
                Some("ThrottlingError" | "ProvisionedThroughputExceeded")
            )
        });
        if throttled {
            return StoreError::Unavailable("transaction throttled".into());
        }
    }
    classify(e)
}

/// One item's outcome in a cancelled transaction: DynamoDB's code (`ConditionalCheckFailed`,
/// `TransactionConflict`, `None` …) and, where the item asked for it
/// (`ReturnValuesOnConditionCheckFailure = ALL_OLD`) and existed, the item as it was.
#[derive(Debug, Clone, Default)]
pub(super) struct Reason {
    pub code: Option<String>,
    pub item: Option<super::codec::Item>,
}

impl Reason {
    pub fn failed_condition(&self) -> bool {
        self.code.as_deref() == Some("ConditionalCheckFailed")
    }

    pub fn conflicted(&self) -> bool {
        self.code.as_deref() == Some("TransactionConflict")
    }
}

/// The reasons of a cancelled transaction, position by position; `None` for any other error.
pub(super) fn cancellation(e: &SdkError<TransactWriteItemsError>) -> Option<Vec<Reason>> {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(c)) => Some(
            c.cancellation_reasons()
                .iter()
                .map(|r| Reason {
                    code: r.code().map(str::to_string),
                    item: r.item().cloned(),
                })
                .collect(),
        ),
        _ => None,
    }
}
