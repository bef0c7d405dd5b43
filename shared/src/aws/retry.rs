//! One retry helper for DynamoDB's and SQS's batch calls, which can succeed while leaving
//! part of the batch unprocessed (throttled items, a partition busy): the leftovers are sent
//! again with jittered exponential backoff. Errors of the call itself are not retried here;
//! the SDK's own retry policy has already handled throttling and transient errors.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

/// Rounds after the first before the leftovers are reported.
const RETRY_ROUNDS: usize = 7;

#[derive(Debug)]
enum Leftover<E> {
    /// The call failed; not retried.
    Failed(E),
    /// This many items were still unprocessed after every round.
    Unprocessed(usize),
}

/// Calls `round` with `items`, then again with whatever it reports as unprocessed, until
/// nothing is left or the rounds are spent; then `unprocessed(count)` is the error. An error
/// of `round` itself is returned as it is, at once.
pub(crate) async fn until_processed<T, E, F, Fut>(
    items: Vec<T>,
    round: F,
    unprocessed: impl FnOnce(usize) -> E,
) -> Result<(), E>
where
    T: Send,
    F: Fn(Vec<T>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, E>>,
{
    if items.is_empty() {
        return Ok(());
    }
    let pending = std::sync::Mutex::new(items);
    let attempt = || async {
        let batch = std::mem::take(&mut *pending.lock().unwrap_or_else(|p| p.into_inner()));
        let left = round(batch).await.map_err(Leftover::Failed)?;
        if left.is_empty() {
            return Ok(());
        }
        let count = left.len();
        *pending.lock().unwrap_or_else(|p| p.into_inner()) = left;
        Err(Leftover::Unprocessed(count))
    };
    attempt
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(25))
                .with_max_delay(Duration::from_secs(2))
                .with_max_times(RETRY_ROUNDS)
                .with_jitter(),
        )
        .when(|e| matches!(e, Leftover::Unprocessed(_)))
        .await
        .map_err(|e| match e {
            Leftover::Failed(e) => e,
            Leftover::Unprocessed(n) => unprocessed(n),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn leftovers_are_sent_again_until_none_remain() {
        let calls = AtomicUsize::new(0);
        let seen = std::sync::Mutex::new(Vec::new());
        let result: Result<(), String> = until_processed(
            vec![1, 2, 3, 4],
            |batch| {
                calls.fetch_add(1, Ordering::Relaxed);
                seen.lock().expect("lock").push(batch.clone());
                // Each round processes only the first item.
                async move { Ok(batch.into_iter().skip(1).collect()) }
            },
            |n| format!("{n} unprocessed"),
        )
        .await;
        assert!(result.is_ok());
        assert_eq!(calls.load(Ordering::Relaxed), 4);
        assert_eq!(
            *seen.lock().expect("lock"),
            vec![vec![1, 2, 3, 4], vec![2, 3, 4], vec![3, 4], vec![4]]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_with_the_count_and_never_retries_a_failed_call() {
        let stuck: Result<(), String> = until_processed(
            vec![1, 2],
            |batch| async move { Ok(batch) },
            |n| format!("{n} unprocessed"),
        )
        .await;
        assert_eq!(stuck, Err("2 unprocessed".to_string()));
        let calls = AtomicUsize::new(0);
        let failed: Result<(), String> = until_processed(
            vec![1],
            |_| {
                calls.fetch_add(1, Ordering::Relaxed);
                async { Err("refused".to_string()) }
            },
            |n| format!("{n} unprocessed"),
        )
        .await;
        assert_eq!(failed, Err("refused".to_string()));
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }
}
