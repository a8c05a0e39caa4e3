//! The consumer against the emulator: each message handed over once and in order, the
//! cursor and the handled msgids surviving a restart, poison messages to the dead
//! letters, callbacks as triggers, leases with fences, and a graceful shutdown.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::{mpsc, watch};
use wecom_kf::consumer::{
    Consumer, ConsumerConfig, HandlerError, Lease, SqliteStore, Store, StoreError, Trigger,
};
use wecom_kf::types::kf::message::Message;
use wecom_kf_emulator::Running;

use crate::{client, control, emulator};

fn config(holder: &str) -> ConsumerConfig {
    let mut config = ConsumerConfig::default();
    config.poll_interval = Duration::from_millis(50);
    config.initial_backoff = Duration::from_millis(1);
    config.max_backoff = Duration::from_millis(5);
    config.max_attempts = 3;
    holder.clone_into(&mut config.holder);
    config
}

async fn says(em: &Running, kfid: &str, who: &str, text: &str) {
    control(
        em,
        &format!("/__emulator/customers/{who}/send"),
        &json!({"open_kfid": kfid, "msgtype": "text", "text": {"content": text}}),
    )
    .await;
}

async fn customer(em: &Running) -> String {
    control(em, "/__emulator/customers", &json!({})).await["external_userid"]
        .as_str()
        .unwrap()
        .to_owned()
}

type Seen = Arc<Mutex<Vec<String>>>;

/// Run a consumer until `done(seen)` or 10 s; then shut it down and wait for it.
async fn consume(
    em: &Running,
    store: SqliteStore,
    accounts: Vec<String>,
    seen: Seen,
    fail_on: Option<&'static str>,
    done: impl Fn(&[String]) -> bool,
) -> Result<(), StoreError> {
    let handler = {
        let seen = seen.clone();
        move |m: Message| {
            let seen = seen.clone();
            async move {
                let text = m.content.as_text().unwrap_or_default().to_owned();
                if fail_on.is_some_and(|poison| text == poison) {
                    return Err(HandlerError::new("cannot digest this"));
                }
                seen.lock().unwrap().push(text);
                Ok(())
            }
        }
    };
    let consumer = Consumer::new(client(em), store, handler, config("test"));
    let (_triggers, rx) = mpsc::channel(8);
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(consumer.run(accounts, rx, shutdown));
    for _ in 0..500 {
        if done(&seen.lock().unwrap()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap()
}

#[tokio::test]
async fn every_message_is_handled_once_in_order_and_a_restart_resumes_after_it() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let (a, b) = (customer(&em).await, customer(&em).await);
    for i in 0..5 {
        says(&em, &kfid, &a, &format!("a{i}")).await;
        says(&em, &kfid, &b, &format!("b{i}")).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consumer.db");
    let seen: Seen = Arc::default();
    consume(
        &em,
        SqliteStore::open(&path).unwrap(),
        vec![kfid.clone()],
        seen.clone(),
        None,
        |s| s.len() >= 10,
    )
    .await
    .unwrap();
    let first: Vec<String> = seen.lock().unwrap().clone();
    assert_eq!(first.len(), 10, "once each: {first:?}");
    // Customers run side by side (issue 26): each one's messages in the log's order.
    for who in ["a", "b"] {
        let theirs: Vec<&String> = first.iter().filter(|t| t.starts_with(who)).collect();
        let expected: Vec<String> = (0..5).map(|i| format!("{who}{i}")).collect();
        assert_eq!(
            theirs,
            expected.iter().collect::<Vec<_>>(),
            "{who}: in order"
        );
    }

    // A restart on the same store: only what is new.
    says(&em, &kfid, &a, "after").await;
    let again: Seen = Arc::default();
    consume(
        &em,
        SqliteStore::open(&path).unwrap(),
        vec![kfid.clone()],
        again.clone(),
        None,
        |s| !s.is_empty(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(*again.lock().unwrap(), ["after"]);
}

#[tokio::test]
async fn a_poison_message_goes_to_the_dead_letters_and_the_next_ones_are_delivered() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let who = customer(&em).await;
    for text in ["before", "poison", "after"] {
        says(&em, &kfid, &who, text).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consumer.db");
    let seen: Seen = Arc::default();
    consume(
        &em,
        SqliteStore::open(&path).unwrap(),
        vec![kfid.clone()],
        seen.clone(),
        Some("poison"),
        |s| s.len() >= 2,
    )
    .await
    .unwrap();
    assert_eq!(*seen.lock().unwrap(), ["before", "after"]);
    let letters = SqliteStore::open(&path)
        .unwrap()
        .dead_letters()
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].attempts, 3);
    assert_eq!(letters[0].error, "cannot digest this");
    assert!(letters[0].message.contains("poison"));
}

#[tokio::test]
async fn a_callback_trigger_syncs_at_once_with_its_token() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let who = customer(&em).await;
    let dir = tempfile::tempdir().unwrap();
    let seen: Seen = Arc::default();
    let handler = {
        let seen = seen.clone();
        move |m: Message| {
            let seen = seen.clone();
            async move {
                seen.lock()
                    .unwrap()
                    .push(m.content.as_text().unwrap_or_default().to_owned());
                Ok(())
            }
        }
    };
    let mut slow = config("t");
    slow.poll_interval = Duration::from_secs(3600);
    let consumer = Consumer::new(
        client,
        SqliteStore::open(dir.path().join("c.db")).unwrap(),
        handler,
        slow,
    );
    let (triggers, rx) = mpsc::channel(8);
    let (stop, shutdown) = watch::channel(false);
    // No account to start with: the trigger names it.
    let running = tokio::spawn(consumer.run(Vec::new(), rx, shutdown));
    says(&em, &kfid, &who, "叮").await;
    let token = control(&em, "/__emulator/sync_token", &json!({"open_kfid": kfid})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    triggers
        .send(Trigger::new(&kfid, Some(token)))
        .await
        .unwrap();
    for _ in 0..250 {
        if !seen.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(*seen.lock().unwrap(), ["叮"]);
    stop.send(true).unwrap();
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_lease_is_held_by_one_holder_and_a_stale_fence_cannot_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases.db");
    let (one, two) = (
        SqliteStore::open(&path).unwrap(),
        SqliteStore::open(&path).unwrap(),
    );
    let ttl = Duration::from_millis(200);
    let first = one.acquire("wk1", "A", ttl).await.unwrap().unwrap();
    assert!(
        two.acquire("wk1", "B", ttl).await.unwrap().is_none(),
        "A holds it"
    );
    assert_eq!(
        one.acquire("wk1", "A", ttl).await.unwrap().unwrap().fence,
        first.fence,
        "a renewal keeps the fence"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let second = two.acquire("wk1", "B", ttl).await.unwrap().unwrap();
    assert_eq!(second.fence, first.fence + 1, "a new holder, a new fence");
    let refused = one.commit_cursor(&first, "stale").await.unwrap_err();
    assert!(matches!(refused, StoreError::Fenced { .. }), "{refused}");
    assert!(one.mark_handled(&first, "m1").await.is_err());
    two.commit_cursor(&second, "fresh").await.unwrap();
    assert_eq!(one.cursor("wk1").await.unwrap().as_deref(), Some("fresh"));
    a_group_write_is_fenced_and_records_all(&one, &first, &two, &second).await;
}

/// `stale` was taken over by `current`: its group write of handled marks is refused
/// whole, and `current`'s records every msgid.
async fn a_group_write_is_fenced_and_records_all<S: Store>(
    one: &S,
    stale: &Lease,
    two: &S,
    current: &Lease,
) {
    let refused = one.mark_all_handled(stale, &["m2", "m3"]).await;
    assert!(
        matches!(refused, Err(StoreError::Fenced { .. })),
        "{refused:?}"
    );
    assert!(
        !two.is_handled("wk1", "m2").await.unwrap(),
        "a refused group writes nothing"
    );
    two.mark_all_handled(current, &["m2", "m3", "m4"])
        .await
        .unwrap();
    for msgid in ["m2", "m3", "m4"] {
        assert!(one.is_handled("wk1", msgid).await.unwrap(), "{msgid}");
    }
}

#[tokio::test]
async fn shutdown_lets_the_message_in_hand_finish_and_records_it() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let who = customer(&em).await;
    says(&em, &kfid, &who, "slow").await;
    says(&em, &kfid, &who, "next").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let (started, mut began) = mpsc::channel(1);
    let handler = move |_m: Message| {
        let started = started.clone();
        async move {
            let _ = started.send(()).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(())
        }
    };
    let consumer = Consumer::new(
        client,
        SqliteStore::open(&path).unwrap(),
        handler,
        config("s"),
    );
    let (_triggers, rx) = mpsc::channel(8);
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(consumer.run(vec![kfid.clone()], rx, shutdown));
    tokio::time::timeout(Duration::from_secs(10), began.recv())
        .await
        .unwrap();
    stop.send(true).unwrap();
    running.await.unwrap().unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let page = crate::client(&em).message().sync(&kfid).await.unwrap();
    let msgid = &page.msg_list[0].msgid;
    assert!(
        store.is_handled(&kfid, msgid).await.unwrap(),
        "the message in hand was recorded"
    );
    // The page's cursor was not committed: a restart reads the page again, skips the
    // handled message by its msgid and hands over the next one only.
    let seen: Seen = Arc::default();
    consume(&em, store, vec![kfid.clone()], seen.clone(), None, |s| {
        !s.is_empty()
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(*seen.lock().unwrap(), ["next"]);
}

#[tokio::test]
async fn a_stopped_consumer_gives_its_leases_up_so_the_next_one_starts_at_once() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    // Stopped while it waits for the next poll, not in the middle of a page.
    consume(
        &em,
        SqliteStore::open(&path).unwrap(),
        vec![kfid.clone()],
        Arc::default(),
        None,
        |_| true,
    )
    .await
    .unwrap();
    let next = SqliteStore::open(&path).unwrap();
    let lease = next
        .acquire(&kfid, "another", Duration::from_secs(30))
        .await
        .unwrap();
    assert!(lease.is_some(), "the lease was given up on shutdown");
}

#[tokio::test]
async fn a_page_longer_than_the_lease_keeps_the_lease() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let who = customer(&em).await;
    for i in 0..5 {
        says(&em, &kfid, &who, &format!("m{i}")).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    // Five runs of 100 ms on one page: 500 ms against a 150 ms lease.
    let seen: Seen = Arc::default();
    let handler = {
        let seen = seen.clone();
        move |m: Message| {
            let seen = seen.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                seen.lock()
                    .unwrap()
                    .push(m.content.as_text().unwrap_or_default().to_owned());
                Ok::<(), HandlerError>(())
            }
        }
    };
    let mut cfg = config("holder");
    cfg.lease_ttl = Duration::from_millis(150);
    let consumer = Consumer::new(client, SqliteStore::open(&path).unwrap(), handler, cfg);
    let (_triggers, rx) = mpsc::channel(8);
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(consumer.run(vec![kfid.clone()], rx, shutdown));
    // A rival tries to take the account all along the page.
    let rival = SqliteStore::open(&path).unwrap();
    let mut taken = false;
    for _ in 0..500 {
        if seen.lock().unwrap().len() >= 5 {
            break;
        }
        if !seen.lock().unwrap().is_empty() {
            taken |= rival
                .acquire(&kfid, "rival", Duration::from_millis(150))
                .await
                .unwrap()
                .is_some();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap().unwrap();
    assert_eq!(seen.lock().unwrap().len(), 5);
    assert!(!taken, "the lease lapsed in the middle of a page");
}

/// The fleet store, against a private `redis-server`.
#[cfg(feature = "redis")]
mod fleet {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use tokio::sync::{mpsc, watch};
    use wecom_kf::consumer::{Consumer, RedisStore, Store, StoreError};
    use wecom_kf::types::kf::message::Message;
    use wecom_kf_testkit::RedisServer;

    use super::{config, customer, says};
    use crate::{client, emulator};

    #[tokio::test]
    async fn a_redis_lease_is_held_by_one_holder_and_a_stale_fence_cannot_commit() {
        let Some(redis) = RedisServer::start() else {
            return;
        };
        let (one, two) = (
            RedisStore::open(&redis.url(), "t").unwrap(),
            RedisStore::open(&redis.url(), "t").unwrap(),
        );
        let ttl = Duration::from_millis(300);
        let first = one.acquire("wk1", "A", ttl).await.unwrap().unwrap();
        assert!(two.acquire("wk1", "B", ttl).await.unwrap().is_none());
        one.commit_cursor(&first, "c1").await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        // Expired and not taken: still A's to write.
        one.mark_handled(&first, "m1").await.unwrap();
        let second = two.acquire("wk1", "B", ttl).await.unwrap().unwrap();
        assert_eq!(second.fence, first.fence + 1);
        let refused = one.commit_cursor(&first, "stale").await.unwrap_err();
        assert!(matches!(refused, StoreError::Fenced { .. }), "{refused}");
        two.commit_cursor(&second, "c2").await.unwrap();
        assert_eq!(one.cursor("wk1").await.unwrap().as_deref(), Some("c2"));
        assert!(two.is_handled("wk1", "m1").await.unwrap());
        super::a_group_write_is_fenced_and_records_all(&one, &first, &two, &second).await;
        two.release(&second).await.unwrap();
        assert!(
            one.acquire("wk1", "A", ttl).await.unwrap().is_some(),
            "released"
        );
    }

    /// Who handled which text, from when to when.
    type Handled = (String, String, Instant, Instant);

    #[tokio::test]
    async fn three_consumers_on_one_redis_never_handle_an_account_at_once_nor_a_message_twice() {
        let Some(redis) = RedisServer::start() else {
            return;
        };
        let em = emulator().await;
        let client = client(&em);
        let kfid = crate::account(&client).await;
        let who = customer(&em).await;
        let log: Arc<Mutex<Vec<Handled>>> = Arc::default();
        let mut stops = Vec::new();
        let mut runs = Vec::new();
        for holder in ["p1", "p2", "p3"] {
            let log = log.clone();
            let name = holder.to_owned();
            let handler = move |m: Message| {
                let (log, name) = (log.clone(), name.clone());
                async move {
                    let started = Instant::now();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    let text = m.content.as_text().unwrap_or_default().to_owned();
                    log.lock()
                        .unwrap()
                        .push((name, text, started, Instant::now()));
                    Ok(())
                }
            };
            let mut cfg = config(holder);
            cfg.lease_ttl = Duration::from_millis(500);
            let store = RedisStore::open(&redis.url(), "fleet").unwrap();
            let consumer = Consumer::new(crate::client(&em), store, handler, cfg);
            let (triggers, rx) = mpsc::channel(8);
            let (stop, shutdown) = watch::channel(false);
            runs.push(tokio::spawn(consumer.run(vec![kfid.clone()], rx, shutdown)));
            stops.push((stop, triggers));
        }
        for i in 0..60 {
            says(&em, &kfid, &who, &format!("m{i}")).await;
        }
        for _ in 0..500 {
            if log.lock().unwrap().len() >= 60 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Stop the one holding the lease now: another takes over within the lease time.
        let busiest = log.lock().unwrap().last().map(|e| e.0.clone()).unwrap();
        let index = ["p1", "p2", "p3"]
            .iter()
            .position(|h| *h == busiest)
            .unwrap();
        stops[index].0.send(true).unwrap();
        for i in 60..70 {
            says(&em, &kfid, &who, &format!("m{i}")).await;
        }
        for _ in 0..500 {
            if log.lock().unwrap().len() >= 70 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for (stop, _) in &stops {
            let _ = stop.send(true);
        }
        for run in runs {
            run.await.unwrap().unwrap();
        }
        let log = log.lock().unwrap().clone();
        let mut texts: Vec<&str> = log.iter().map(|e| e.1.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), 70, "every message handled");
        assert_eq!(log.len(), 70, "none twice");
        // No two handlings overlap in time: one holder at a time.
        let mut spans: Vec<(Instant, Instant)> = log.iter().map(|e| (e.2, e.3)).collect();
        spans.sort();
        assert!(
            spans.windows(2).all(|w| w[0].1 <= w[1].0),
            "two consumers handled the account at once"
        );
        assert!(
            log[60..].iter().all(|e| e.0 != busiest),
            "the stopped holder handled nothing after"
        );
    }
}
