//! Customers side by side (issue 26): each customer's messages in order and never two
//! at once, a failing customer holding up no other, bursts handed over together, and
//! replies that split long answers and recognise only a duplicate msgid as "sent".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use wecom_kf::consumer::{
    Consumer, ConsumerConfig, DeadLetter, HandlerError, Lease, SqliteStore, Store, StoreError,
    is_duplicate_msgid, plan, reply, reply_msgid,
};
use wecom_kf::types::kf::message::{Content, Message};
use wecom_kf::types::kf::send_msg::SendMsg;
use wecom_kf_emulator::{Fault, FaultRule, Running};

use crate::{client, control, emulator};

fn config() -> ConsumerConfig {
    let mut config = ConsumerConfig::default();
    config.poll_interval = Duration::from_millis(50);
    config.initial_backoff = Duration::from_millis(1);
    config.max_backoff = Duration::from_millis(4);
    config.max_attempts = 3;
    "lanes".clone_into(&mut config.holder);
    config
}

async fn says(em: &Running, kfid: &str, who: &str, text: &str) -> String {
    control(
        em,
        &format!("/__emulator/customers/{who}/send"),
        &json!({"open_kfid": kfid, "msgtype": "text", "text": {"content": text}}),
    )
    .await["msgid"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn customer(em: &Running) -> String {
    control(em, "/__emulator/customers", &json!({})).await["external_userid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What the customer saw from the account.
async fn inbox(em: &Running, who: &str, kfid: &str) -> Vec<serde_json::Value> {
    let answer: serde_json::Value = reqwest::get(format!(
        "{}/__emulator/customers/{who}/inbox?open_kfid={kfid}",
        em.base_url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    answer["messages"].as_array().cloned().unwrap_or_default()
}

/// Run `consumer` on `kfid` until `done()` or 20 s, then stop it and wait for it.
async fn run_until<S: Store, H: wecom_kf::consumer::BatchHandler, F>(
    consumer: Consumer<S, H>,
    kfid: &str,
    done: impl Fn() -> F,
) where
    F: std::future::Future<Output = bool>,
{
    let (_triggers, rx) = mpsc::channel(8);
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(consumer.run(vec![kfid.to_owned()], rx, shutdown));
    for _ in 0..1000 {
        if done().await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the consumer stops")
        .unwrap()
        .unwrap();
}

/// One customer's plan: per message, its delay (ms) and how many attempts fail first.
type Plan = Vec<Vec<(u64, u32)>>;

fn plans() -> impl Strategy<Value = Plan> {
    prop::collection::vec(
        prop::collection::vec(
            (
                0u64..6,
                prop_oneof![4 => Just(0u32), 2 => 1u32..3, 1 => Just(9u32)],
            ),
            1..6,
        ),
        2..5,
    )
}

#[derive(Default)]
struct Log {
    /// Per customer, the texts handled successfully, in the order they finished.
    handled: HashMap<String, Vec<String>>,
    /// Runs going on per customer now; and the most ever seen at once.
    running: HashMap<String, u32>,
    overlap: u32,
    attempts: HashMap<String, u32>,
}

fn check(plan: &Plan) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let em = emulator().await;
        let client = client(&em);
        let kfid = crate::account(&client).await;
        let mut who = Vec::new();
        for _ in plan {
            who.push(customer(&em).await);
        }
        // Texts name the customer, the message and the plan: "c{i}m{j}d{delay}f{fails}".
        let longest = plan.iter().map(Vec::len).max().unwrap_or(0);
        for j in 0..longest {
            for (i, messages) in plan.iter().enumerate() {
                if let Some((delay, fails)) = messages.get(j) {
                    says(&em, &kfid, &who[i], &format!("c{i}m{j}d{delay}f{fails}")).await;
                }
            }
        }
        let log: Arc<Mutex<Log>> = Arc::default();
        let handler = {
            let log = log.clone();
            move |m: Message| {
                let log = log.clone();
                async move {
                    let text = m.content.as_text().unwrap_or_default().to_owned();
                    let customer = text[..text.find('m').unwrap()].to_owned();
                    let delay: u64 = text[text.find('d').unwrap() + 1..text.find('f').unwrap()]
                        .parse()
                        .unwrap();
                    let fails: u32 = text[text.find('f').unwrap() + 1..].parse().unwrap();
                    let attempt = {
                        let mut log = log.lock().unwrap();
                        let running = log.running.entry(customer.clone()).or_default();
                        *running += 1;
                        let now = *running;
                        log.overlap = log.overlap.max(now);
                        let attempt = log.attempts.entry(text.clone()).or_default();
                        *attempt += 1;
                        *attempt
                    };
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let mut log = log.lock().unwrap();
                    *log.running.get_mut(&customer).unwrap() -= 1;
                    if attempt <= fails {
                        return Err(HandlerError::new("not yet"));
                    }
                    log.handled.entry(customer).or_default().push(text);
                    Ok(())
                }
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut cfg = config();
        cfg.max_in_flight = 3;
        let consumer = Consumer::new(client, SqliteStore::open(&path).unwrap(), handler, cfg);
        let expected: usize = plan.iter().map(Vec::len).sum();
        let store = SqliteStore::open(&path).unwrap();
        let counted = {
            let log = log.clone();
            move || {
                let log = log.lock().unwrap();
                log.handled.values().map(Vec::len).sum::<usize>()
            }
        };
        let dead = plan.iter().flatten().filter(|(_, f)| *f >= 3).count();
        run_until(consumer, &kfid, || async {
            counted() + store.dead_letters().await.unwrap().len() >= expected
        })
        .await;
        let letters = store.dead_letters().await.unwrap();
        let log = log.lock().unwrap();
        prop_assert_eq!(log.overlap, 1, "two runs of one customer at once");
        for (i, messages) in plan.iter().enumerate() {
            let wanted: Vec<String> = messages
                .iter()
                .enumerate()
                .filter(|(_, (_, fails))| *fails < 3)
                .map(|(j, (delay, fails))| format!("c{i}m{j}d{delay}f{fails}"))
                .collect();
            let got = log
                .handled
                .get(&format!("c{i}"))
                .cloned()
                .unwrap_or_default();
            prop_assert_eq!(got, wanted, "customer {} out of order or lost", i);
        }
        prop_assert_eq!(letters.len(), dead, "the poison messages are dead letters");
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]

    #[test]
    fn random_delays_and_failures_keep_each_customer_in_order_one_at_a_time_and_lose_nothing(plan in plans()) {
        check(&plan)?;
    }
}

#[tokio::test]
async fn a_failing_customer_does_not_hold_up_another_by_its_backoff() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let (a, b) = (customer(&em).await, customer(&em).await);
    says(&em, &kfid, &a, "fails").await;
    says(&em, &kfid, &b, "fine").await;
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let handler = {
        let events = events.clone();
        move |m: Message| {
            let events = events.clone();
            async move {
                let text = m.content.as_text().unwrap_or_default().to_owned();
                events.lock().unwrap().push(text.clone());
                if text == "fails" {
                    return Err(HandlerError::new("down"));
                }
                Ok(())
            }
        }
    };
    let mut cfg = config();
    // A long backoff: one-at-a-time, "fine" would wait 2 × 400 ms behind "fails".
    cfg.initial_backoff = Duration::from_millis(400);
    cfg.max_backoff = Duration::from_millis(400);
    let dir = tempfile::tempdir().unwrap();
    let consumer = Consumer::new(
        client,
        SqliteStore::open(dir.path().join("c.db")).unwrap(),
        handler,
        cfg,
    );
    let seen = events.clone();
    let failed_thrice = || {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|t| *t == "fails")
            .count()
            >= 3
    };
    run_until(consumer, &kfid, || std::future::ready(failed_thrice())).await;
    let events = events.lock().unwrap().clone();
    let fine = events
        .iter()
        .position(|t| t == "fine")
        .expect("fine handled");
    let second = events
        .iter()
        .enumerate()
        .filter(|(_, t)| *t == "fails")
        .nth(1)
        .map(|(i, _)| i)
        .unwrap();
    assert!(
        fine < second,
        "the other customer waited for the backoff: {events:?}"
    );
}

#[tokio::test]
async fn batch_mode_hands_a_burst_over_as_one_call_and_records_every_msgid() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let who = customer(&em).await;
    let mut msgids = Vec::new();
    for text in ["你好", "在吗", "我想问订单", "123"] {
        msgids.push(says(&em, &kfid, &who, text).await);
    }
    let calls: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let handler = {
        let calls = calls.clone();
        move |burst: Vec<Message>| {
            let calls = calls.clone();
            async move {
                let texts = burst
                    .iter()
                    .map(|m| m.content.as_text().unwrap_or_default().to_owned())
                    .collect();
                calls.lock().unwrap().push(texts);
                Ok::<(), HandlerError>(())
            }
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let consumer = Consumer::batched(
        client,
        SqliteStore::open(&path).unwrap(),
        handler,
        10,
        config(),
    );
    let seen = calls.clone();
    run_until(consumer, &kfid, || {
        std::future::ready(!seen.lock().unwrap().is_empty())
    })
    .await;
    assert_eq!(
        *calls.lock().unwrap(),
        [["你好", "在吗", "我想问订单", "123"]],
        "one call with the whole burst"
    );
    let store = SqliteStore::open(&path).unwrap();
    for msgid in &msgids {
        assert!(store.is_handled(&kfid, msgid).await.unwrap(), "{msgid}");
    }
}

/// The customer's last message, as the consumer would hand it over.
async fn last_message(em: &Running, kfid: &str) -> Message {
    let page = client(em).message().sync(kfid).await.unwrap();
    page.msg_list.into_iter().last().unwrap()
}

#[tokio::test]
async fn a_6000_byte_answer_goes_out_in_parts_and_a_rerun_sends_no_part_twice() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let who = customer(&em).await;
    says(&em, &kfid, &who, "讲讲退货流程").await;
    let message = last_message(&em, &kfid).await;
    let answer = "退货需要先在订单页申请，客服审核后会给出地址。\n".repeat(87);
    assert!(answer.len() > 6000);
    // An earlier run sent the first part, then died.
    let parts = plan(vec![Content::text(&answer)]);
    assert_eq!(parts.len(), 3);
    let first = SendMsg::new(&kfid, &who, parts[0].clone()).msgid(reply_msgid(&message, 0));
    client.message().send_request(first).await.unwrap();

    let report = reply(&client, &message, vec![Content::text(&answer)])
        .await
        .unwrap();
    assert_eq!((report.sent, report.already_sent), (2, 1));
    assert!(report.refused.is_none());
    let again = reply(&client, &message, vec![Content::text(&answer)])
        .await
        .unwrap();
    assert_eq!((again.sent, again.already_sent), (0, 3), "nothing twice");
    let seen = inbox(&em, &who, &kfid).await;
    assert_eq!(seen.len(), 3);
    let texts: Vec<&str> = seen
        .iter()
        .map(|m| m["text"]["content"].as_str().unwrap())
        .collect();
    assert!(
        texts.iter().all(|t| t.len() <= 2048 && t.ends_with('。')),
        "{texts:?}"
    );
    assert_eq!(texts.concat().replace('\n', ""), answer.replace('\n', ""));
}

#[tokio::test]
async fn a_40058_that_is_not_a_duplicate_msgid_is_an_error_not_sent() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let who = customer(&em).await;
    says(&em, &kfid, &who, "在吗").await;
    let message = last_message(&em, &kfid).await;
    em.emulator().add_fault(FaultRule {
        fault: Fault::Errcode { errcode: 40058 },
        endpoint: Some("/cgi-bin/kf/send_msg".into()),
        count: Some(1),
        rate: None,
    });
    let err = reply(&client, &message, vec![Content::text("在的")])
        .await
        .unwrap_err();
    assert_eq!(err.api_code().map(wecom_kf::ErrCode::get), Some(40058));
    assert!(!is_duplicate_msgid(&err), "{err}");
    assert!(inbox(&em, &who, &kfid).await.is_empty());
    // Run again: sent now, and a third run meets the real duplicate.
    let report = reply(&client, &message, vec![Content::text("在的")])
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    let report = reply(&client, &message, vec![Content::text("在的")])
        .await
        .unwrap();
    assert_eq!((report.sent, report.already_sent), (0, 1));
    assert_eq!(inbox(&em, &who, &kfid).await.len(), 1);
}

#[tokio::test]
async fn shutdown_cuts_a_backoff_short_and_the_message_is_kept_for_the_next_run() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let who = customer(&em).await;
    let msgid = says(&em, &kfid, &who, "fails").await;
    let (tried, mut attempts) = mpsc::channel(4);
    let handler = move |_m: Message| {
        let tried = tried.clone();
        async move {
            let _ = tried.send(()).await;
            Err::<(), _>(HandlerError::new("down"))
        }
    };
    let mut cfg = config();
    cfg.initial_backoff = Duration::from_secs(60);
    cfg.max_backoff = Duration::from_secs(60);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let consumer = Consumer::new(client, SqliteStore::open(&path).unwrap(), handler, cfg);
    let (_triggers, rx) = mpsc::channel(8);
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(consumer.run(vec![kfid.clone()], rx, shutdown));
    tokio::time::timeout(Duration::from_secs(10), attempts.recv())
        .await
        .unwrap();
    stop.send(true).unwrap();
    // Not the 60 s backoff: shutdown cuts it.
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the backoff held the shutdown")
        .unwrap()
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert!(!store.is_handled(&kfid, &msgid).await.unwrap());
    assert!(store.dead_letters().await.unwrap().is_empty());
}

/// A SQLite store that counts the handled marks' writes, and can fail the first one.
struct CountingStore {
    inner: SqliteStore,
    /// Each group write: how many msgids it recorded.
    writes: Mutex<Vec<usize>>,
    fail_first: std::sync::atomic::AtomicBool,
}

impl CountingStore {
    fn new(inner: SqliteStore, fail_first: bool) -> Self {
        CountingStore {
            inner,
            writes: Mutex::default(),
            fail_first: std::sync::atomic::AtomicBool::new(fail_first),
        }
    }
}

impl Store for CountingStore {
    async fn acquire(
        &self,
        open_kfid: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        self.inner.acquire(open_kfid, holder, ttl).await
    }
    async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        self.inner.release(lease).await
    }
    async fn cursor(&self, open_kfid: &str) -> Result<Option<String>, StoreError> {
        self.inner.cursor(open_kfid).await
    }
    async fn is_handled(&self, open_kfid: &str, msgid: &str) -> Result<bool, StoreError> {
        self.inner.is_handled(open_kfid, msgid).await
    }
    async fn mark_handled(&self, lease: &Lease, msgid: &str) -> Result<(), StoreError> {
        self.mark_all_handled(lease, &[msgid]).await
    }
    async fn mark_all_handled(&self, lease: &Lease, msgids: &[&str]) -> Result<(), StoreError> {
        if self
            .fail_first
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(StoreError::Backend {
                backend: "test",
                source: "the disk is full".into(),
            });
        }
        self.writes.lock().unwrap().push(msgids.len());
        self.inner.mark_all_handled(lease, msgids).await
    }
    async fn commit_cursor(&self, lease: &Lease, cursor: &str) -> Result<(), StoreError> {
        self.inner.commit_cursor(lease, cursor).await
    }
    async fn dead_letter(&self, lease: &Lease, letter: DeadLetter) -> Result<(), StoreError> {
        self.inner.dead_letter(lease, letter).await
    }
    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        self.inner.dead_letters().await
    }
    async fn drop_dead_letter(&self, open_kfid: &str, msgid: &str) -> Result<bool, StoreError> {
        self.inner.drop_dead_letter(open_kfid, msgid).await
    }
}

/// What [`finishing_together`] saw.
struct Together {
    /// The handler's runs per msgid.
    runs: HashMap<String, u32>,
    /// The group writes' sizes.
    writes: Vec<usize>,
}

/// `n` customers who wrote once each, and a handler whose runs all finish together
/// (a barrier of `n`), run until every msgid is recorded, each by one write.
async fn finishing_together(n: usize, fail_first: bool) -> Together {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let mut msgids = Vec::new();
    for _ in 0..n {
        let who = customer(&em).await;
        msgids.push(says(&em, &kfid, &who, "在吗").await);
    }
    let runs: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let handler = {
        let (runs, barrier) = (runs.clone(), barrier.clone());
        move |m: Message| {
            let (runs, barrier) = (runs.clone(), barrier.clone());
            async move {
                *runs.lock().unwrap().entry(m.msgid.clone()).or_default() += 1;
                // Only the first n runs meet at the barrier: a replay runs alone.
                if runs.lock().unwrap().values().sum::<u32>() <= u32::try_from(n).unwrap() {
                    barrier.wait().await;
                }
                Ok::<(), HandlerError>(())
            }
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let store = Arc::new(CountingStore::new(
        SqliteStore::open(&path).unwrap(),
        fail_first,
    ));
    let consumer = Consumer::new(client, store.clone(), handler, config());
    let metrics = consumer.metrics();
    let check = SqliteStore::open(&path).unwrap();
    let wanted = msgids.clone();
    let (check_ref, kfid_ref) = (&check, &kfid);
    run_until(consumer, &kfid, || {
        let wanted = wanted.clone();
        async move {
            for msgid in &wanted {
                if !check_ref.is_handled(kfid_ref, msgid).await.unwrap() {
                    return false;
                }
            }
            true
        }
    })
    .await;
    let writes = store.writes.lock().unwrap().clone();
    for msgid in &msgids {
        assert!(check.is_handled(&kfid, msgid).await.unwrap(), "{msgid}");
    }
    assert_eq!(writes.iter().sum::<usize>(), n, "each msgid recorded once");
    assert_eq!(
        (metrics.handled_writes(), metrics.handled_recorded()),
        (writes.len() as u64, n as u64),
        "the metrics count the group writes and what they recorded"
    );
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), n, "every message ran");
    Together { runs, writes }
}

#[tokio::test]
async fn lanes_that_finish_together_record_their_msgids_in_one_write() {
    let n = 20;
    let Together { runs, writes } = finishing_together(n, false).await;
    assert!(runs.values().all(|&r| r == 1), "each ran once: {runs:?}");
    assert!(
        writes.len() < n && writes.iter().any(|&w| w > 1),
        "{n} lanes finishing together made {} writes ({writes:?}): no group commit",
        writes.len()
    );
}

#[tokio::test]
async fn a_group_write_that_fails_loses_nothing_its_messages_run_again() {
    // The failed write took at least one mark: those messages ran again, and none
    // was taken as recorded by a lane that waited on it (every msgid is recorded by
    // a later write, asserted by `finishing_together`).
    let Together { runs, .. } = finishing_together(8, true).await;
    assert!(
        runs.values().any(|&r| r >= 2),
        "no message ran again after the failed write: {runs:?}"
    );
}
