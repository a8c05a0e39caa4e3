//! Section 8, the consumer (issue 15): how long from a customer's message to the
//! handler, and how many messages a second it hands over.
//!
//! 8a. Latency. A customer writes through the control plane at a steady rate; the
//! emulator pushes a signed callback; the receiver checks it and wakes the account's
//! task, which syncs with the callback's Token and calls the handler (SQLite store).
//! Measured: from just before the control-plane send to the handler's call. The floor,
//! in the same run, is the first hop alone: from the same send to the callback reaching
//! a bare route that only records the time (paired with the sends in order).
//!
//! 8b. Throughput. Messages wait on the service; a consumer with a no-op handler starts
//! and hands them all over (a store read per message, one fenced store write per group
//! of messages whose runs finish together, a cursor commit per page). The floor is the
//! plain way, one message after another, measured bare: look its msgid up and record it
//! (SQLite: a SELECT and an INSERT in its own transaction, same pragmas; Redis: EXISTS
//! and SET with a TTL). The consumer's group commit writes less than that, so it can
//! pass the floor; the last column says how many msgids a write recorded. The client's
//! stream alone, with no store, is shown beside it: what the service side allows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::json;
use tokio::sync::{mpsc, watch};
use wecom_kf::Client;
use wecom_kf::callback::{CallbackQuery, Crypto, Receiver};
use wecom_kf::consumer::{
    Consumer, ConsumerConfig, HandlerError, RedisStore, SqliteStore, Store, forward_callbacks,
};
use wecom_kf::types::kf::message::Message;
use wecom_kf::types::kf::sync_msg::SyncMsg;

use crate::{BoxError, Report, Sizes};

const TOKEN: &str = "benchCallbackToken";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

/// The control plane, as a customer and as the admin console.
struct World {
    base: String,
    http: reqwest::Client,
}

impl World {
    async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, BoxError> {
        let bytes = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?
            .bytes()
            .await?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    async fn customers(&self, n: usize) -> Result<Vec<String>, BoxError> {
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let answer = self
                .post(
                    "/__emulator/customers",
                    json!({"nickname": format!("客户{i}")}),
                )
                .await?;
            ids.push(
                answer["external_userid"]
                    .as_str()
                    .ok_or("no customer")?
                    .to_owned(),
            );
        }
        Ok(ids)
    }

    async fn say(&self, who: &str, open_kfid: &str, text: &str) -> Result<(), BoxError> {
        let answer = self
            .post(
                &format!("/__emulator/customers/{who}/send"),
                json!({"open_kfid": open_kfid, "msgtype": "text", "text": {"content": text}}),
            )
            .await?;
        if answer["msgid"].is_string() {
            Ok(())
        } else {
            Err(format!("customer send refused: {answer}").into())
        }
    }

    async fn push_to(&self, url: &str) -> Result<(), BoxError> {
        let answer = self
            .post(
                "/__emulator/callback",
                json!({"url": url, "token": TOKEN, "encoding_aes_key": KEY}),
            )
            .await?;
        if answer["verified"] == true {
            Ok(())
        } else {
            Err(format!("callback registration: {answer}").into())
        }
    }

    async fn stop_pushing(&self) -> Result<(), BoxError> {
        self.http
            .delete(format!("{}/__emulator/callback", self.base))
            .send()
            .await?;
        Ok(())
    }
}

/// A fresh account (each run its own, so no run sees another's messages).
async fn account(client: &Client, name: &str) -> Result<String, BoxError> {
    let avatar = client
        .media()
        .upload(
            wecom_kf::types::media::MediaType::Image,
            wecom_kf::media::Media::bytes("a.png", crate::PNG),
        )
        .await?
        .media_id;
    Ok(client.account().add(name, avatar).await?)
}

/// Send `count` messages at `rate` a second, spread over `customers`; when each was
/// sent, by the text `i`.
async fn send_at(
    world: &Arc<World>,
    customers: &[String],
    open_kfid: &str,
    rate: u32,
    count: usize,
) -> Result<Vec<Instant>, BoxError> {
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sends = tokio::task::JoinSet::new();
    let mut at = Vec::with_capacity(count);
    for i in 0..count {
        ticks.tick().await;
        at.push(Instant::now());
        let (world, who, kfid) = (
            world.clone(),
            customers[i % customers.len()].clone(),
            open_kfid.to_owned(),
        );
        sends.spawn(async move {
            world
                .say(&who, &kfid, &i.to_string())
                .await
                .map_err(|e| e.to_string())
        });
    }
    while let Some(done) = sends.join_next().await {
        done??;
    }
    Ok(at)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

/// Milliseconds, sorted.
fn sorted_ms(mut values: Vec<Duration>) -> Vec<f64> {
    let mut ms: Vec<f64> = values.drain(..).map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    ms
}

/// Wait, bounded, until `done()`.
async fn until(mut done: impl FnMut() -> bool, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

pub(crate) async fn run(base: &str, sizes: &Sizes, report: &mut Report) -> Result<(), BoxError> {
    let world = Arc::new(World {
        base: base.to_owned(),
        http: reqwest::Client::new(),
    });
    let client = crate::client(base)?;
    let customers = world.customers(200).await?;
    report.line(format!(
        "\n## 8a. the consumer: a customer's send to the handler, {} s at each rate (SQLite store)",
        sizes.latency_seconds
    ));
    report.line("| rate | floor p50 / p99 (send → callback at a bare route) | ours p50 / p99 (send → handler) | p99 ÷ floor p99 | target p99 ≤ 20 ms |");
    report.line("|---|---|---|---|---|");
    for rate in [100, 1000] {
        latency(&world, &client, &customers, rate, sizes, report).await?;
    }
    report.line(format!(
        "\n## 8b. the consumer's throughput, {} waiting messages, a no-op handler",
        sizes.drain_backlog
    ));
    throughput(&world, &client, &customers, sizes, report).await
}

/// A rate's run: the floor's latencies, then ours, then the line of the table.
async fn latency(
    world: &Arc<World>,
    client: &Client,
    customers: &[String],
    rate: u32,
    sizes: &Sizes,
    report: &mut Report,
) -> Result<(), BoxError> {
    let count = (rate * sizes.latency_seconds) as usize;
    let crypto = Crypto::new(TOKEN, KEY, wecom_kf_emulator::DEMO_CORP_ID)?;
    let (floor, complete) = floor_latency(world, client, customers, rate, count, &crypto).await?;
    let (ours, all) = consumer_latency(world, client, customers, rate, count, crypto).await?;
    report.check(
        &format!("every push arrived at the floor ({rate}/s)"),
        complete,
    );
    report.check(
        &format!("every message reached the handler ({rate}/s)"),
        all && ours.len() == count,
    );
    if floor.is_empty() || ours.is_empty() {
        return Ok(());
    }
    let (f50, f99, o50, o99) = (
        percentile(&floor, 0.5),
        percentile(&floor, 0.99),
        percentile(&ours, 0.5),
        percentile(&ours, 0.99),
    );
    report.line(format!(
        "| {rate}/s | {f50:.2} / {f99:.2} ms | {o50:.2} / {o99:.2} ms | {:.2} | {} |",
        o99 / f99,
        if o99 <= 20.0 { "met" } else { "MISSED" }
    ));
    Ok(())
}

/// The floor: a route that answers the URL check and records each push's arrival;
/// arrivals are paired with the sends in order. Sorted milliseconds, and whether all came.
async fn floor_latency(
    world: &Arc<World>,
    client: &Client,
    customers: &[String],
    rate: u32,
    count: usize,
    crypto: &Crypto,
) -> Result<(Vec<f64>, bool), BoxError> {
    let arrivals = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let bare = {
        let (arrivals, crypto) = (arrivals.clone(), crypto.clone());
        axum::Router::new().route(
            "/callback",
            axum::routing::get(move |uri: axum::http::Uri| {
                let query = CallbackQuery::parse(uri.query().unwrap_or_default());
                let answer = query
                    .and_then(|q| crypto.verify_url(&q))
                    .unwrap_or_default();
                async move { answer }
            })
            .post(move || {
                arrivals.lock().unwrap().push(Instant::now());
                async { "success" }
            }),
        )
    };
    let bare = crate::callbacks::serve(bare)?;
    let open_kfid = account(client, &format!("延迟基线{rate}")).await?;
    world.push_to(&format!("{bare}/callback")).await?;
    let sent = send_at(world, customers, &open_kfid, rate, count).await?;
    let complete = until(
        || arrivals.lock().unwrap().len() >= count,
        Duration::from_secs(30),
    )
    .await;
    world.stop_pushing().await?;
    let mut arrived = arrivals.lock().unwrap().clone();
    arrived.sort();
    let floor = sorted_ms(
        sent.iter()
            .zip(&arrived)
            .map(|(s, a)| a.saturating_duration_since(*s))
            .collect(),
    );
    Ok((floor, complete))
}

/// Ours: the receiver, the consumer, a handler that records when it is called. Sorted
/// milliseconds from each send to its handler, and whether all were handled.
async fn consumer_latency(
    world: &Arc<World>,
    client: &Client,
    customers: &[String],
    rate: u32,
    count: usize,
    crypto: Crypto,
) -> Result<(Vec<f64>, bool), BoxError> {
    let (receiver, events) = Receiver::new(crypto);
    let ours = crate::callbacks::serve(receiver.router("/callback"))?;
    let (triggers, trigger_rx) = mpsc::channel(1024);
    tokio::spawn(forward_callbacks(events, triggers));
    let called: Arc<Mutex<HashMap<usize, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let handler = {
        let called = called.clone();
        move |message: Message| {
            let at = Instant::now();
            if let Some(i) = message.content.as_text().and_then(|t| t.parse().ok()) {
                called.lock().unwrap().entry(i).or_insert(at);
            }
            async { Ok::<(), HandlerError>(()) }
        }
    };
    let dir = tempdir()?;
    let store = SqliteStore::open(dir.join("consumer.db"))?;
    let mut config = ConsumerConfig::default();
    config.poll_interval = Duration::from_secs(60);
    let open_kfid = account(client, &format!("延迟{rate}")).await?;
    let consumer = Consumer::new(client.clone(), store, handler, config);
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(consumer.run(vec![open_kfid.clone()], trigger_rx, shutdown));
    world.push_to(&format!("{ours}/callback")).await?;
    let sent = send_at(world, customers, &open_kfid, rate, count).await?;
    let all = until(
        || called.lock().unwrap().len() >= count,
        Duration::from_secs(30),
    )
    .await;
    world.stop_pushing().await?;
    let _ = stop.send(true);
    running.await??;
    drop(receiver);
    let called = called.lock().unwrap().clone();
    let ours = sorted_ms(
        (0..count)
            .filter_map(|i| Some(called.get(&i)?.saturating_duration_since(sent[i])))
            .collect(),
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok((ours, all))
}

async fn throughput(
    world: &Arc<World>,
    client: &Client,
    customers: &[String],
    sizes: &Sizes,
    report: &mut Report,
) -> Result<(), BoxError> {
    let count = sizes.drain_backlog;
    report.line("| store | the stream alone (no store) | bare store writes (floor) | the consumer | consumer ÷ floor | msgids per handled write (group commit) |");
    report.line("|---|---|---|---|---|---|");
    let dir = tempdir()?;
    let floor = sqlite_floor(&dir.join("floor.db"), count)?;
    let sqlite = SqliteStore::open(dir.join("drain.db"))?;
    let backlog = Backlog {
        world,
        client,
        customers,
        count,
    };
    backlog
        .drain("SQLite (WAL)", "吞吐sqlite", floor, sqlite, report)
        .await?;
    match wecom_kf_testkit::RedisServer::start() {
        Some(redis) => {
            let floor = redis_floor(&redis.url(), count).await?;
            let store = RedisStore::open(&redis.url(), "bench")?;
            backlog
                .drain("Redis (loopback)", "吞吐redis", floor, store, report)
                .await?;
        }
        None => report.line("| Redis | skipped: redis-server is not installed | | | | |"),
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// What the SQLite store must do at least per message, with its pragmas: look the
/// msgid up, then record it in a transaction of its own. Records per second.
fn sqlite_floor(path: &std::path::Path, count: usize) -> Result<f64, BoxError> {
    let db = rusqlite::Connection::open(path)?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "NORMAL")?;
    db.execute_batch("CREATE TABLE handled (msgid TEXT PRIMARY KEY, at INTEGER NOT NULL)")?;
    let started = Instant::now();
    for i in 0..count {
        let msgid = format!("msg{i:020}");
        let seen: Option<i64> = db
            .query_row("SELECT 1 FROM handled WHERE msgid = ?1", [&msgid], |r| {
                r.get(0)
            })
            .ok();
        if seen.is_none() {
            db.execute("INSERT INTO handled (msgid, at) VALUES (?1, 0)", [&msgid])?;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// The same in Redis: EXISTS, then SET with the 3-day TTL, one after the other.
async fn redis_floor(url: &str, count: usize) -> Result<f64, BoxError> {
    let mut redis = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    let started = Instant::now();
    for i in 0..count {
        let key = format!("floor:handled:msg{i:020}");
        let seen: bool = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(&mut redis)
            .await?;
        if !seen {
            redis::cmd("SET")
                .arg(&key)
                .arg(1)
                .arg("EX")
                .arg(259_200)
                .query_async::<()>(&mut redis)
                .await?;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// `count` messages waiting on a fresh account, drained by a consumer.
struct Backlog<'a> {
    world: &'a Arc<World>,
    client: &'a Client,
    customers: &'a [String],
    count: usize,
}

impl Backlog<'_> {
    async fn drain<S: Store>(
        &self,
        name: &str,
        account_name: &str,
        floor: f64,
        store: S,
        report: &mut Report,
    ) -> Result<(), BoxError> {
        let (world, count) = (self.world, self.count);
        let open_kfid = account(self.client, account_name).await?;
        // The backlog, 64 sends in flight.
        futures_util::stream::iter(0..count)
            .map(|i| {
                let who = self.customers[i % self.customers.len()].clone();
                let (world, kfid) = (world.clone(), open_kfid.clone());
                async move { world.say(&who, &kfid, &i.to_string()).await }
            })
            .buffer_unordered(64)
            .try_collect::<Vec<()>>()
            .await?;

        // What the service side allows: the client's stream reads them all.
        let started = Instant::now();
        let read = self
            .client
            .message()
            .messages(SyncMsg::new(&open_kfid).limit(1000))
            .try_fold(0usize, |n, _| async move { Ok(n + 1) })
            .await?;
        #[allow(clippy::cast_precision_loss)]
        let stream = read as f64 / started.elapsed().as_secs_f64();

        let done = Arc::new(AtomicUsize::new(0));
        let handler = {
            let done = done.clone();
            move |_: Message| {
                done.fetch_add(1, Ordering::Relaxed);
                async { Ok::<(), HandlerError>(()) }
            }
        };
        let mut config = ConsumerConfig::default();
        config.poll_interval = Duration::from_secs(60);
        let consumer = Consumer::new(self.client.clone(), store, handler, config);
        let metrics = consumer.metrics();
        let (stop, shutdown) = watch::channel(false);
        let (_triggers, trigger_rx) = mpsc::channel(1);
        let started = Instant::now();
        let running = tokio::spawn(consumer.run(vec![open_kfid], trigger_rx, shutdown));
        let all = until(
            || done.load(Ordering::Relaxed) >= count,
            Duration::from_secs(300),
        )
        .await;
        #[allow(clippy::cast_precision_loss)]
        let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
        let _ = stop.send(true);
        running.await??;
        #[allow(clippy::cast_precision_loss)]
        let group = metrics.handled_recorded() as f64 / metrics.handled_writes().max(1) as f64;
        report.line(format!(
            "| {name} | {stream:.0} msgs/s | {floor:.0} msgs/s | {rate:.0} msgs/s | {:.3} | {group:.1} ({} in {} writes) |",
            rate / floor,
            metrics.handled_recorded(),
            metrics.handled_writes()
        ));
        report.check(
            &format!("{name}: the stream read every message"),
            read == count,
        );
        report.check(&format!("{name}: the consumer handled every message"), all);
        Ok(())
    }
}

pub(crate) fn tempdir() -> Result<std::path::PathBuf, BoxError> {
    let dir = std::env::temp_dir().join(format!("wecom-kf-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
