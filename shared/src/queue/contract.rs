//! The behaviour every [`Queue`] must have. Each implementation's tests call [`run_all`]
//! with a factory of fresh, empty queues; the SQS queue runs the same suite on moto.

use std::future::Future;
use std::time::Duration;

use super::{Queue, QueueError, QueuedJob};
use crate::delivery::{DeliveryJob, Recipient};
use crate::domain::UserId;
use crate::line::Message;

fn job(n: usize, recipients: usize) -> DeliveryJob {
    let users = (0..recipients)
        .map(|i| Recipient {
            user: UserId::parse(&format!("U{n:08x}{i:024x}")).expect("valid test id"),
            subjects: vec!["c1".to_string()],
        })
        .collect();
    let milestone = format!("m{n}");
    DeliveryJob::new(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"),
        crate::delivery::Mark::Milestone(&milestone),
        users,
        vec![Message::text(
            "妊婦歯科検診のご案内です。母子手帳をお持ちください。",
        )],
    )
}

/// SQS may hand out fewer messages than asked for; ask until `n` arrived or nothing more does.
async fn receive_n<Q: Queue>(q: &Q, n: usize) -> Vec<QueuedJob> {
    let mut got = Vec::new();
    for _ in 0..20 {
        if got.len() >= n {
            break;
        }
        let batch = q.receive(n - got.len()).await.expect("receive");
        if batch.is_empty() && !got.is_empty() {
            break;
        }
        got.extend(batch);
    }
    got
}

pub async fn run_all<Q: Queue, F: Fn() -> Fut, Fut: Future<Output = Q>>(make: F) {
    jobs_round_trip_whole(&make().await).await;
    jobs_are_hidden_until_acked_or_retried(&make().await).await;
    batches_of_more_than_ten_all_arrive(&make().await).await;
    dead_letters_keep_body_and_reason(&make().await).await;
    unreadable_bodies_are_reported(&make().await).await;
}

async fn jobs_round_trip_whole<Q: Queue>(q: &Q) {
    let big = job(1, 500);
    q.enqueue(std::slice::from_ref(&big))
        .await
        .expect("enqueue");
    let got = receive_n(q, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].receive_count, 1);
    assert_eq!(got[0].job().expect("a job"), big);
    q.ack(&got[0].receipt).await.expect("ack");
    assert_eq!(visible_and_hidden(q).await, (0, 0));
}

async fn jobs_are_hidden_until_acked_or_retried<Q: Queue>(q: &Q) {
    q.enqueue(&[job(1, 1), job(2, 1), job(3, 1)])
        .await
        .expect("enqueue");
    let first = receive_n(q, 3).await;
    assert_eq!(first.len(), 3);
    assert!(
        q.receive(10).await.expect("receive").is_empty(),
        "received jobs are hidden"
    );
    assert_eq!(visible_and_hidden(q).await, (0, 3));
    q.ack(&first[0].receipt).await.expect("ack");
    q.retry_later(&first[1].receipt, Duration::ZERO)
        .await
        .expect("retry now");
    q.retry_later(&first[2].receipt, Duration::from_secs(300))
        .await
        .expect("retry later");
    let again = receive_n(q, 1).await;
    assert_eq!(again.len(), 1, "only the job retried now is back");
    assert_eq!(again[0].body, first[1].body);
    assert_eq!(again[0].receive_count, 2);
    // The retry window counts from the first receive, whatever the later receives.
    let first_time = first[1].first_received.expect("first receive time");
    assert!(
        (chrono::Utc::now() - first_time).num_seconds().abs() < 60,
        "{first_time}"
    );
    assert_eq!(again[0].first_received, Some(first_time));
    assert_eq!(visible_and_hidden(q).await, (0, 2));
}

/// Visible and hidden counts (how many of the hidden are parked is the queue's own guess).
async fn visible_and_hidden<Q: Queue>(q: &Q) -> (usize, usize) {
    let depth = q.depth().await.expect("depth");
    (depth.visible, depth.hidden)
}

async fn batches_of_more_than_ten_all_arrive<Q: Queue>(q: &Q) {
    let jobs: Vec<DeliveryJob> = (0..23).map(|n| job(n, 40)).collect();
    q.enqueue(&jobs).await.expect("enqueue");
    let mut ids: Vec<String> = receive_n(q, 23)
        .await
        .iter()
        .map(|m| m.job().expect("a job").id)
        .collect();
    ids.sort();
    let mut want: Vec<String> = jobs.into_iter().map(|j| j.id).collect();
    want.sort();
    assert_eq!(ids, want);
}

async fn dead_letters_keep_body_and_reason<Q: Queue>(q: &Q) {
    q.enqueue(&[job(7, 2)]).await.expect("enqueue");
    let got = receive_n(q, 1).await;
    q.dead_letter(&got[0], "LINE 400: invalid recipients")
        .await
        .expect("dead-letter");
    assert_eq!(visible_and_hidden(q).await, (0, 0));
    let dead = q.dead_lettered().await.expect("dead letters");
    assert_eq!(
        dead,
        vec![(
            got[0].body.clone(),
            "LINE 400: invalid recipients".to_string()
        )]
    );
}

async fn unreadable_bodies_are_reported<Q: Queue>(q: &Q) {
    q.enqueue_bodies(&["{not json".to_string()])
        .await
        .expect("enqueue");
    let got = receive_n(q, 1).await;
    assert_eq!(got.len(), 1);
    assert!(matches!(got[0].job(), Err(QueueError::BadMessage(_))));
}
