//! Section 8c, customers side by side (issue 26).
//!
//! Makespan: N customers write one message each to a fresh account; a consumer whose
//! handler sleeps D hands them all over. Measured from the consumer's start to the last
//! handler's end, against the ideal `ceil(N / concurrency) × D`. The old one-at-a-time
//! behaviour (`max_in_flight = 1`) runs in the same run for contrast, with a D ten
//! times shorter so it ends in seconds (its ideal is N × D).
//!
//! Peak memory: many messages wait on one account and a consumer with a slow handler
//! works through them. The heap's peak growth while it does is set against the heap
//! that one page of `waiting_bound` messages costs when fetched and held, measured in
//! the same run: the consumer holds at most that bound, however long the backlog.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::json;
use tokio::sync::{mpsc, watch};
use wecom_kf::Client;
use wecom_kf::consumer::{Consumer, ConsumerConfig, HandlerError, SqliteStore};
use wecom_kf::types::kf::message::Message;
use wecom_kf::types::kf::sync_msg::SyncMsg;

use crate::{ALLOC, BoxError, Report};

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, BoxError> {
    let bytes = http
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?
        .bytes()
        .await?;
    Ok(serde_json::from_slice(&bytes)?)
}

async fn account(client: &Client, name: &str) -> Result<String, BoxError> {
    let avatar = client
        .media()
        .upload(
            wecom_kf::types::media::MediaType::Image,
            wecom_kf::media::Media::bytes("a.png", crate::PNG),
        )
        .await?;
    Ok(client.account().add(name, &avatar.media_id).await?)
}

/// `count` messages to `open_kfid` from `customers` in turn, 64 sends in flight.
async fn backlog(
    http: &reqwest::Client,
    base: &str,
    open_kfid: &str,
    customers: &[String],
    count: usize,
) -> Result<(), BoxError> {
    futures_util::stream::iter(0..count)
        .map(|i| {
            let who = customers[i % customers.len()].clone();
            let body = json!({"open_kfid": open_kfid, "msgtype": "text", "text": {"content": format!("第{i}条")}});
            async move {
                post(http, base, &format!("/__emulator/customers/{who}/send"), body)
                    .await
                    .map(drop)
            }
        })
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// Run a consumer with a handler that sleeps `delay` until `count` are done (or
/// `within`); the seconds it took, and whether all were done.
async fn drain(
    client: &Client,
    open_kfid: &str,
    count: usize,
    delay: Duration,
    concurrency: usize,
    within: Duration,
) -> Result<(f64, bool), BoxError> {
    let dir = crate::consumer::tempdir()?;
    let path = dir.join(format!("lanes-{open_kfid}.db"));
    let done = Arc::new(AtomicUsize::new(0));
    let handler = {
        let done = done.clone();
        move |_: Message| {
            let done = done.clone();
            async move {
                tokio::time::sleep(delay).await;
                done.fetch_add(1, Ordering::Relaxed);
                Ok::<(), HandlerError>(())
            }
        }
    };
    let mut config = ConsumerConfig::default();
    config.poll_interval = Duration::from_secs(60);
    config.max_in_flight = concurrency;
    let consumer = Consumer::new(client.clone(), SqliteStore::open(&path)?, handler, config);
    let (stop, shutdown) = watch::channel(false);
    let (_triggers, trigger_rx) = mpsc::channel(1);
    let started = Instant::now();
    let running = tokio::spawn(consumer.run(vec![open_kfid.to_owned()], trigger_rx, shutdown));
    let mut all = false;
    while started.elapsed() < within {
        if done.load(Ordering::Relaxed) >= count {
            all = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    running.await??;
    let _ = std::fs::remove_file(&path);
    Ok((took, all))
}

/// Section 8c.
/// `quick`: the handler sleeps a tenth as long (CI checks the section works).
pub(crate) async fn run(
    base: &str,
    waiting: usize,
    quick: bool,
    report: &mut Report,
) -> Result<(), BoxError> {
    let d = if quick { 0.1 } else { 1.0 };
    let http = reqwest::Client::new();
    let client = crate::client(base)?;
    let (n, concurrency) = (100usize, 64usize);
    let mut customers = Vec::with_capacity(n);
    for i in 0..n {
        let answer = post(
            &http,
            base,
            "/__emulator/customers",
            json!({"nickname": format!("并行{i}")}),
        )
        .await?;
        customers.push(
            answer["external_userid"]
                .as_str()
                .ok_or("no customer")?
                .to_owned(),
        );
    }
    report.line(format!(
        "\n## 8c. customers side by side: makespan of {n} customers, one message each"
    ));
    report.line("| consumer | handler D | makespan | ideal | makespan ÷ ideal | target |");
    report.line("|---|---|---|---|---|---|");
    #[allow(clippy::cast_precision_loss)]
    let rounds = n.div_ceil(concurrency) as f64;
    for (name, d, slots, ideal, target) in [
        (
            "lanes, concurrency 64",
            d,
            concurrency,
            rounds * d,
            Some(1.2),
        ),
        #[allow(clippy::cast_precision_loss)]
        (
            "one at a time (max_in_flight 1)",
            d / 10.0,
            1,
            n as f64 * d / 10.0,
            None,
        ),
    ] {
        let open_kfid = account(&client, &format!("并行{slots}")).await?;
        backlog(&http, base, &open_kfid, &customers, n).await?;
        let (took, all) = drain(
            &client,
            &open_kfid,
            n,
            Duration::from_secs_f64(d),
            slots,
            Duration::from_secs(120),
        )
        .await?;
        let ratio = took / ideal;
        report.line(format!(
            "| {name} | {d} s | {took:.2} s | {ideal:.1} s | {ratio:.2} | {} |",
            target.map_or_else(
                || format!(
                    "contrast: {:.0}× the lanes' ideal at this D",
                    took / (rounds * d)
                ),
                |t| format!(
                    "≤ {t} × ideal: {}",
                    if ratio <= t { "met" } else { "MISSED" }
                )
            )
        ));
        report.check(&format!("{name}: every message handled"), all);
    }

    memory(&http, base, &client, &customers, waiting, report).await
}

/// Peak memory: a backlog on one account, a consumer holding at most its bound.
async fn memory(
    http: &reqwest::Client,
    base: &str,
    client: &Client,
    customers: &[String],
    waiting: usize,
    report: &mut Report,
) -> Result<(), BoxError> {
    let concurrency = 64;
    let config = ConsumerConfig::default();
    let bound = config.waiting_bound();
    let open_kfid = account(client, "积压").await?;
    backlog(http, base, &open_kfid, customers, waiting).await?;
    let base_heap = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let page = client
        .message()
        .sync_page(SyncMsg::new(&open_kfid).limit(u32::try_from(bound)?))
        .await?;
    let held = ALLOC.peak_usage().saturating_sub(base_heap);
    drop(page);
    let base_heap = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    // A slow handler keeps the lanes full: 5 ms a run, 64 at once.
    let within = Duration::from_secs(600);
    let (took, all) = drain(
        client,
        &open_kfid,
        waiting,
        Duration::from_millis(5),
        concurrency,
        within,
    )
    .await?;
    let growth = ALLOC.peak_usage().saturating_sub(base_heap);
    #[allow(clippy::cast_precision_loss)]
    let ratio = growth as f64 / held as f64;
    report.line(format!(
        "\n## 8c. peak memory with {waiting} messages waiting on one account (bound {bound} messages)"
    ));
    report.line("| the bound's worth (one page of it, fetched and held) | the consumer's peak heap growth while draining | growth ÷ bound | target < 2 |");
    report.line("|---|---|---|---|");
    report.line(format!(
        "| {held} bytes | {growth} bytes ({took:.1} s) | {ratio:.2} | {} |",
        if ratio < 2.0 { "met" } else { "MISSED" }
    ));
    report.check("the backlog was drained", all);
    Ok(())
}
