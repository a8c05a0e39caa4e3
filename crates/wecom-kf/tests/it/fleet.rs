//! The set of accounts following the corp (`run_managed` re-lists them) and the fair
//! fleet on a private Redis: each consumer keeps its share, and the shares follow the
//! members as they join and leave.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{mpsc, watch};
use wecom_kf::Client;
use wecom_kf::consumer::{
    Consumer, ConsumerConfig, ConsumerMetrics, HandlerError, SqliteStore, Store, StoreError,
    managed_accounts,
};
use wecom_kf::types::kf::message::Message;
use wecom_kf_emulator::Running;

use crate::{avatar, calls, client, control, emulator};

fn config(holder: &str) -> ConsumerConfig {
    let mut config = ConsumerConfig::default();
    config.poll_interval = Duration::from_millis(200);
    config.initial_backoff = Duration::from_millis(1);
    config.max_backoff = Duration::from_millis(5);
    config.lease_ttl = Duration::from_millis(1500);
    holder.clone_into(&mut config.holder);
    config
}

async fn new_account(client: &Client, name: &str) -> String {
    client
        .account()
        .add(name, avatar(client).await)
        .await
        .expect("account added")
}

/// A new customer writes `text` to `open_kfid`; the message's msgid.
async fn writes(em: &Running, open_kfid: &str, text: &str) -> String {
    let who = control(em, "/__emulator/customers", &json!({})).await["external_userid"]
        .as_str()
        .unwrap()
        .to_owned();
    control(
        em,
        &format!("/__emulator/customers/{who}/send"),
        &json!({"open_kfid": open_kfid, "msgtype": "text", "text": {"content": text}}),
    )
    .await["msgid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Wait (at most `within`) until `ready()`; whether it came.
async fn until(within: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while !ready() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// msgid → how many times the handler ran it.
type Runs = Arc<Mutex<HashMap<String, u32>>>;

fn counting(
    runs: &Runs,
) -> impl Fn(Message) -> std::future::Ready<Result<(), HandlerError>> + Send + Sync + use<> {
    let runs = runs.clone();
    move |m: Message| {
        *runs.lock().unwrap().entry(m.msgid).or_default() += 1;
        std::future::ready(Ok(()))
    }
}

/// A consumer running in its own task, and how to stop it.
struct Started {
    metrics: Arc<ConsumerMetrics>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), StoreError>>,
}

impl Started {
    fn start<S: Store>(em: &Running, store: S, runs: &Runs, config: ConsumerConfig) -> Self {
        let client = client(em);
        let consumer = Consumer::new(client.clone(), store, counting(runs), config);
        let metrics = consumer.metrics();
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(async move {
            let accounts = managed_accounts(&client).await.expect("listed");
            // No callbacks: only the re-list can bring an account in.
            let (_triggers, rx) = mpsc::channel(8);
            consumer.run_managed(accounts, rx, shutdown).await
        });
        Started {
            metrics,
            stop,
            task,
        }
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_created_later_is_consumed_at_the_next_relist_and_a_deleted_one_stops() {
    let em = emulator().await;
    let admin = client(&em);
    let first = new_account(&admin, "客服一").await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("c.db")).unwrap());
    let runs = Runs::default();
    let mut config = config("solo");
    config.relist_interval = Duration::from_millis(500);
    let consumer = Started::start(&em, store.clone(), &runs, config);
    let m1 = writes(&em, &first, "一").await;
    assert!(
        until(Duration::from_secs(10), || runs
            .lock()
            .unwrap()
            .contains_key(&m1))
        .await,
        "the account listed at start is consumed"
    );
    assert_eq!(consumer.metrics.accounts(), 1);

    // Created after the start, and no callback names it: only the re-list finds it.
    let later = new_account(&admin, "客服二").await;
    let m2 = writes(&em, &later, "二").await;
    let created = Instant::now();
    assert!(
        until(Duration::from_secs(10), || runs
            .lock()
            .unwrap()
            .contains_key(&m2))
        .await,
        "the account created later is consumed"
    );
    let took = created.elapsed();
    assert_eq!(consumer.metrics.accounts(), 2);
    assert!(
        until(Duration::from_secs(5), || consumer.metrics.leases_held()
            == 2)
        .await,
        "both leases held: {}",
        consumer.metrics.leases_held()
    );
    // One re-list period (500 ms), plus a sync's round trips.
    assert!(took < Duration::from_secs(2), "took {took:?}");

    // Deleted: its worker stops and gives its lease up, which another holder may
    // take at once.
    admin.account().delete(later.clone()).await.unwrap();
    assert!(
        until(Duration::from_secs(10), || consumer.metrics.accounts() == 1
            && consumer.metrics.leases_held() == 1)
        .await,
        "the deleted account left the set: {} accounts, {} leases",
        consumer.metrics.accounts(),
        consumer.metrics.leases_held()
    );
    let taken = store
        .acquire(&later, "someone-else", Duration::from_secs(5))
        .await
        .unwrap();
    assert!(taken.is_some(), "the deleted account's lease was given up");

    // The last one deleted too: nothing is polled any more.
    admin.account().delete(first.clone()).await.unwrap();
    assert!(
        until(Duration::from_secs(10), || consumer.metrics.accounts() == 0
            && consumer.metrics.leases_held() == 0)
        .await,
        "every account left the set"
    );
    let syncs = calls(&em, "/cgi-bin/kf/sync_msg");
    // Five poll intervals: a worker still polling would sync five times.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        calls(&em, "/cgi-bin/kf/sync_msg"),
        syncs,
        "a deleted account is not polled"
    );
    consumer.stop().await;
    let runs = runs.lock().unwrap();
    assert_eq!((runs.get(&m1), runs.get(&m2)), (Some(&1), Some(&1)));
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_on_one_redis_keep_fair_shares_as_members_join_and_leave() {
    let Some(redis) = wecom_kf_testkit::RedisServer::start() else {
        return;
    };
    let em = emulator().await;
    let admin = client(&em);
    let mut accounts = Vec::new();
    for i in 0..8 {
        accounts.push(new_account(&admin, &format!("客服{i}")).await);
    }
    let store = || wecom_kf::consumer::RedisStore::open(&redis.url(), "fleet-it").unwrap();
    let runs = Runs::default();
    let held =
        |cs: &[&Started]| -> Vec<u64> { cs.iter().map(|c| c.metrics.leases_held()).collect() };

    let a = Started::start(&em, store(), &runs, config("a"));
    assert!(
        until(Duration::from_secs(10), || a.metrics.leases_held() == 8).await,
        "alone, it takes every account: {}",
        a.metrics.leases_held()
    );
    let b = Started::start(&em, store(), &runs, config("b"));
    assert!(
        until(Duration::from_secs(15), || held(&[&a, &b]) == [4, 4]).await,
        "a newcomer gets half: {:?}",
        held(&[&a, &b])
    );
    assert_eq!(
        (a.metrics.fleet_members(), b.metrics.fleet_members()),
        (2, 2)
    );
    assert_eq!((a.metrics.fair_share(), b.metrics.fair_share()), (4, 4));

    // Every account still answers, each message once, whoever holds it now.
    let mut sent = Vec::new();
    for kfid in &accounts {
        sent.push(writes(&em, kfid, "在吗").await);
    }
    assert!(
        until(Duration::from_secs(10), || {
            let runs = runs.lock().unwrap();
            sent.iter().all(|id| runs.contains_key(id))
        })
        .await,
        "every account is consumed after the handover"
    );

    // b leaves (a graceful stop gives its leases and its membership up): a takes all.
    b.stop().await;
    assert!(
        until(Duration::from_secs(10), || a.metrics.leases_held() == 8
            && a.metrics.fleet_members() == 1)
        .await,
        "the one left takes every account: {} leases, {} members",
        a.metrics.leases_held(),
        a.metrics.fleet_members()
    );
    a.stop().await;
    let runs = runs.lock().unwrap();
    let twice: Vec<_> = runs.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "handled twice: {twice:?}");
}
