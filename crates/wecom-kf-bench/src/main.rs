//! `wecom-kf-bench`: the client against a loopback floor, measured in one run.
//!
//! ```text
//! cargo build --release -p wecom-kf-cli -p wecom-kf-bench
//! target/release/wecom-kf-bench            # full run, a few minutes
//! target/release/wecom-kf-bench --quick    # seconds: checks that every section works
//! target/release/wecom-kf-bench --consumer # section 8 alone (add --quick to check it)
//! target/release/wecom-kf-bench work       # instructions, cache misses, allocations per call (valgrind)
//! target/release/wecom-kf-bench --knowledge # section 9 alone: `knowledge import` of 5,000 intents
//! target/release/wecom-kf-bench --media     # section 10 alone: downloading 100 MB
//! ```
//!
//! The emulator runs in a child process (this binary, re-run as `serve-emulator`), so
//! the CPU time and the allocations measured here are the client's alone. The client
//! and the floor run on one current-thread runtime on the main thread; CPU time is that
//! thread's, read from `/proc/thread-self/schedstat`. Every comparison is a ratio taken
//! in the same run; timings are reported, never asserted.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use wecom_kf::Client;
use wecom_kf::media::Media;
use wecom_kf_types::Reply;
use wecom_kf_types::kf::account::ListAccountsResponse;
use wecom_kf_types::media::MediaType;

mod callbacks;
mod consumer;
mod counting;
mod knowledge;
mod lanes;
mod media;
mod messages;
mod work;

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const PNG: &[u8] = wecom_kf_emulator::DEFAULT_AVATAR_PNG;
const LIST_PATH: &str = "/cgi-bin/kf/account/list";
const LIST_BODY: &[u8] = br#"{"offset":0,"limit":100}"#;

/// How much work each section does.
struct Sizes {
    rounds: u32,
    calls_per_round: u32,
    in_flight_calls: u32,
    storm: usize,
    accounts: u32,
    cli_runs: u32,
    wrk_seconds: u32,
    decode_iterations: u32,
    drain_messages: u32,
    callback_calls: u32,
    receiver_calls: u32,
    latency_seconds: u32,
    drain_backlog: usize,
}

const FULL: Sizes = Sizes {
    rounds: 7,
    calls_per_round: 3000,
    in_flight_calls: 40_000,
    storm: 1000,
    accounts: 5000,
    cli_runs: 40,
    wrk_seconds: 10,
    decode_iterations: 200,
    drain_messages: 50_000,
    callback_calls: 20_000,
    receiver_calls: 20_000,
    latency_seconds: 10,
    drain_backlog: 20_000,
};
const QUICK: Sizes = Sizes {
    rounds: 2,
    calls_per_round: 100,
    in_flight_calls: 640,
    storm: 100,
    accounts: 250,
    cli_runs: 3,
    wrk_seconds: 2,
    decode_iterations: 5,
    drain_messages: 2_000,
    callback_calls: 200,
    receiver_calls: 500,
    latency_seconds: 1,
    drain_backlog: 1_000,
};

type BoxError = Box<dyn std::error::Error>;

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve-emulator") {
        return serve_emulator();
    }
    if args.first().map(String::as_str) == Some("serve-media-emulator") {
        return media::serve(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("work") {
        return work::run(&args[1..]);
    }
    if let [mode, calls] = args.as_slice()
        && let Some(which) = mode.strip_prefix("profile-")
    {
        if which.starts_with("open-") {
            return callbacks::profile(which, calls.parse()?);
        }
        return profile(which, calls.parse()?);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let sizes = if quick { QUICK } else { FULL };
    let cli = args
        .iter()
        .position(|a| a == "--cli")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .or_else(|| sibling("wecom-kf"));
    // `--media` measures section 10 alone (with an emulator of its own).
    if args.iter().any(|a| a == "--media") {
        let report = media::run(quick)?;
        println!("{report}");
        return match report.failed_checks {
            0 => Ok(()),
            n => Err(format!("{n} functional check(s) failed").into()),
        };
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut emulator = Emulator::start()?;
    // `--knowledge` measures section 9 alone.
    if args.iter().any(|a| a == "--knowledge") {
        let outcome = runtime.block_on(knowledge_only(&sizes, &emulator.base_url, cli.as_deref()));
        return conclude(&mut emulator, outcome);
    }
    // `--client` measures sections 1 and 1b alone, `--callbacks` section 7 alone.
    let client_only = args.iter().any(|a| a == "--client");
    if client_only || args.iter().any(|a| a == "--callbacks") {
        let outcome = runtime.block_on(async {
            let mut report = Report::default();
            if client_only {
                let client = client(&emulator.base_url)?;
                seed(&client).await?;
                sequential(&sizes, &emulator.base_url, &client, &mut report).await?;
                in_flight(&sizes, &emulator.base_url, &client, &mut report).await?;
            } else {
                callbacks::open(&sizes, &mut report)?;
                callbacks::receiver(&sizes, &mut report).await?;
            }
            Ok::<_, BoxError>(report)
        });
        return conclude(&mut emulator, outcome);
    }
    // `--consumer` measures section 8 alone.
    let consumer_only = args.iter().any(|a| a == "--consumer");
    // `--lanes` measures section 8c alone.
    let lanes_only = args.iter().any(|a| a == "--lanes");
    let waiting = if quick { 2_000 } else { 100_000 };
    let outcome = if consumer_only || lanes_only {
        Ok(Report::default())
    } else {
        runtime.block_on(run(&sizes, &emulator.base_url, cli.as_deref()))
    };
    let outcome = outcome.and_then(|mut report| {
        // The consumer is measured as it runs in production: on a runtime of its
        // own with worker threads, beside the sending customers.
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
            .block_on(async {
                if !lanes_only {
                    consumer::run(&emulator.base_url, &sizes, &mut report).await?;
                }
                lanes::run(&emulator.base_url, waiting, quick, &mut report).await
            })?;
        Ok(report)
    });
    conclude(&mut emulator, outcome)
}

/// Stop the emulator, print the report, and fail if any functional check did.
fn conclude(emulator: &mut Emulator, outcome: Result<Report, BoxError>) -> Result<(), BoxError> {
    emulator.stop();
    let report = outcome?;
    println!("{report}");
    match report.failed_checks {
        0 => Ok(()),
        n => Err(format!("{n} functional check(s) failed").into()),
    }
}

/// `profile-{client,floor,reqwest} N`: only N sequential `list` calls (CPU per call
/// printed), to run under `perf record` and see where the CPU goes. `reqwest` is a bare
/// reqwest call with a pre-parsed URL and the same decode: what the HTTP stack costs.
fn profile(which: &str, calls: u32) -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut emulator = Emulator::start()?;
    let result = runtime.block_on(async {
        let client = client(&emulator.base_url)?;
        seed(&client).await?;
        let token = client.token_provider().token().await?.expose().to_owned();
        let mut floor = Floor::connect(&emulator.base_url, &token).await?;
        let raw = reqwest::Client::new();
        let url = reqwest::Url::parse(&format!(
            "{}{LIST_PATH}?access_token={token}",
            emulator.base_url
        ))?;
        for round in 0..2 {
            let (started, cpu) = (Instant::now(), thread_cpu_ns());
            for _ in 0..calls {
                match which {
                    "client" => drop(client.account().list(0, 100).await?),
                    "reqwest" => {
                        let body = raw
                            .post(url.clone())
                            .header("content-type", "application/json")
                            .body(LIST_BODY)
                            .send()
                            .await?
                            .bytes()
                            .await?;
                        let reply: Reply<ListAccountsResponse> = serde_json::from_slice(&body)?;
                        drop(reply);
                    }
                    _ => drop(floor.list().await?),
                }
            }
            if round == 1 {
                eprintln!(
                    "{which}: {:.1} µs/call wall, {:.1} µs/call CPU",
                    started.elapsed().as_secs_f64() * 1e6 / f64::from(calls),
                    per_call(thread_cpu_ns() - cpu, calls) / 1000.0
                );
            }
        }
        Ok::<_, BoxError>(())
    });
    emulator.stop();
    result
}

/// The child process: an emulator with no rate limit and no account cap.
fn serve_emulator() -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut config = wecom_kf_emulator::Config::default();
        config.calls_per_minute = u32::MAX;
        config.calls_per_hour = u32::MAX;
        config.max_accounts = Some(10_000_000);
        let running = wecom_kf_emulator::spawn(config).await?;
        println!("listening on {}", running.base_url());
        // Until the parent closes our stdin.
        let mut line = String::new();
        let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
        running.shutdown().await;
        Ok(())
    })
}

fn sibling(name: &str) -> Option<PathBuf> {
    let path = std::env::current_exe().ok()?.parent()?.join(name);
    path.exists().then_some(path)
}

struct Emulator {
    child: Child,
    base_url: String,
}

impl Emulator {
    fn start() -> Result<Emulator, BoxError> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("serve-emulator")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or("the emulator did not start")?
            .to_owned();
        Ok(Emulator { child, base_url })
    }

    fn stop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// CPU time of this thread, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Upload an avatar and create the 100 accounts every `list` answers with.
async fn seed(client: &Client) -> Result<String, BoxError> {
    let media_id = client
        .media()
        .upload(MediaType::Image, Media::bytes("a.png", PNG))
        .await?
        .media_id;
    for i in 0..100 {
        client.account().add(format!("基准{i}"), &media_id).await?;
    }
    Ok(media_id)
}

fn client(base_url: &str) -> Result<Client, wecom_kf::Error> {
    Client::builder()
        .base_url(base_url)
        .corp_id(wecom_kf_emulator::DEMO_CORP_ID)
        .secret(wecom_kf_emulator::DEMO_SECRET)
        .build()
}

/// The floor: a raw keep-alive hyper connection, a pre-serialized body, the same typed decode.
struct Floor {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    uri: String,
    host: String,
}

impl Floor {
    async fn connect(base_url: &str, token: &str) -> Result<Floor, BoxError> {
        let host = base_url.trim_start_matches("http://").to_owned();
        let stream = tokio::net::TcpStream::connect(&host).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Floor {
            sender,
            uri: format!("{LIST_PATH}?access_token={token}"),
            host,
        })
    }

    async fn list(&mut self) -> Result<usize, BoxError> {
        let request = hyper::Request::post(&self.uri)
            .header("host", &self.host)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(LIST_BODY)))?;
        let response = self.sender.send_request(request).await?;
        let body = response.into_body().collect().await?.to_bytes();
        let reply: Reply<ListAccountsResponse> = serde_json::from_slice(&body)?;
        Ok(reply.body.map_or(0, |b| b.account_list.len()))
    }
}

#[derive(Default)]
struct Report {
    lines: Vec<String>,
    failed_checks: u32,
}

impl Report {
    fn line(&mut self, text: impl Into<String>) {
        let text = text.into();
        eprintln!("{text}");
        self.lines.push(text);
    }

    fn target(&mut self, name: &str, value: f64, ok: bool, target: &str) {
        self.line(format!(
            "| {name} | {value:.3} | {target} | {} |",
            if ok { "met" } else { "MISSED" }
        ));
    }

    fn check(&mut self, name: &str, ok: bool) {
        if !ok {
            self.failed_checks += 1;
        }
        self.line(format!(
            "check: {name}: {}",
            if ok { "ok" } else { "FAILED" }
        ));
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.lines.join("\n"))
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[allow(clippy::cast_precision_loss)] // counts and nanoseconds far below 2^52
fn per_call(total: u64, calls: u32) -> f64 {
    total as f64 / f64::from(calls)
}

async fn run(sizes: &Sizes, base_url: &str, cli: Option<&Path>) -> Result<Report, BoxError> {
    let mut report = Report::default();
    let client = client(base_url)?;
    let media_id = seed(&client).await?;
    report.line(format!(
        "machine: {} cores; emulator in a child process at {base_url}",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    ));
    sequential(sizes, base_url, &client, &mut report).await?;
    in_flight(sizes, base_url, &client, &mut report).await?;
    token_storm(sizes, base_url, &mut report).await?;
    list_all(sizes, &client, &media_id, &mut report).await?;
    match cli {
        Some(cli) => {
            cli_process(sizes, cli, base_url, &mut report)?;
            let token = client.token_provider().token().await?.expose().to_owned();
            knowledge::run(sizes, cli, base_url, &token, &mut report).await?;
        }
        None => {
            report
                .line("cli: skipped (build wecom-kf-cli next to this binary, or pass --cli PATH)");
        }
    }
    let token = client.token_provider().token().await?.expose().to_owned();
    let list_rps = emulator_throughput(sizes, base_url, &token, &media_id, &mut report)?;
    messages::decode(sizes, &mut report)?;
    let (kfid, customers) =
        messages::seed(&client, base_url, &media_id, sizes.drain_messages).await?;
    messages::drain(sizes, &client, &kfid, &mut report).await?;
    messages::throughput(
        sizes,
        base_url,
        &token,
        &kfid,
        &customers,
        list_rps,
        &mut report,
    )?;
    callbacks::open(sizes, &mut report)?;
    callbacks::receiver(sizes, &mut report).await?;
    Ok(report)
}

/// Section 9 alone: the knowledge import needs the CLI.
async fn knowledge_only(
    sizes: &Sizes,
    base_url: &str,
    cli: Option<&Path>,
) -> Result<Report, BoxError> {
    let mut report = Report::default();
    let cli = cli.ok_or("--knowledge needs wecom-kf next to this binary, or --cli PATH")?;
    let token = client(base_url)?
        .token_provider()
        .token()
        .await?
        .expose()
        .to_owned();
    knowledge::run(sizes, cli, base_url, &token, &mut report).await?;
    Ok(report)
}

/// 1a. Sequential `list` (100 accounts): wall and CPU per call, floor and client in
/// alternating rounds; medians of the rounds.
async fn sequential(
    sizes: &Sizes,
    base_url: &str,
    client: &Client,
    report: &mut Report,
) -> Result<(), BoxError> {
    let token = client.token_provider().token().await?.expose().to_owned();
    let mut floor = Floor::connect(base_url, &token).await?;
    for _ in 0..sizes.calls_per_round / 4 {
        floor.list().await?;
        client.account().list(0, 100).await?;
    }
    let (mut floor_wall, mut floor_cpu, mut client_wall, mut client_cpu) =
        (vec![], vec![], vec![], vec![]);
    for _ in 0..sizes.rounds {
        let (t, c) = (Instant::now(), thread_cpu_ns());
        for _ in 0..sizes.calls_per_round {
            assert_eq!(floor.list().await?, 100);
        }
        floor_wall.push(
            per_call(
                u64::try_from(t.elapsed().as_nanos())?,
                sizes.calls_per_round,
            ) / 1000.0,
        );
        floor_cpu.push(per_call(thread_cpu_ns() - c, sizes.calls_per_round) / 1000.0);
        let (t, c) = (Instant::now(), thread_cpu_ns());
        for _ in 0..sizes.calls_per_round {
            assert_eq!(client.account().list(0, 100).await?.len(), 100);
        }
        client_wall.push(
            per_call(
                u64::try_from(t.elapsed().as_nanos())?,
                sizes.calls_per_round,
            ) / 1000.0,
        );
        client_cpu.push(per_call(thread_cpu_ns() - c, sizes.calls_per_round) / 1000.0);
    }
    let (fw, fc, cw, cc) = (
        median(floor_wall),
        median(floor_cpu),
        median(client_wall),
        median(client_cpu),
    );
    report.line(format!(
        "\n## 1. sequential kf/account/list (100 accounts), {} rounds × {} calls",
        sizes.rounds, sizes.calls_per_round
    ));
    report.line(format!("floor:  {fw:.1} µs/call wall, {fc:.1} µs/call CPU"));
    report.line(format!("client: {cw:.1} µs/call wall, {cc:.1} µs/call CPU"));
    report.line("| ratio | value | target | |\n|---|---|---|---|");
    report.target("client ÷ floor, wall", cw / fw, cw / fw <= 1.15, "≤ 1.15");
    report.target("client ÷ floor, CPU", cc / fc, cc / fc <= 1.15, "≤ 1.15");
    Ok(())
}

/// 1b. 64 calls in flight: calls per second.
async fn in_flight(
    sizes: &Sizes,
    base_url: &str,
    client: &Client,
    report: &mut Report,
) -> Result<(), BoxError> {
    const IN_FLIGHT: u32 = 64;
    let per_task = sizes.in_flight_calls / IN_FLIGHT;
    let token = client.token_provider().token().await?.expose().to_owned();
    let mut floors = Vec::new();
    for _ in 0..IN_FLIGHT {
        floors.push(Floor::connect(base_url, &token).await?);
    }
    let mut floor_rates = vec![];
    let mut client_rates = vec![];
    for _ in 0..sizes.rounds.min(3) {
        let started = Instant::now();
        let tasks: Vec<_> = floors
            .drain(..)
            .map(|mut floor| {
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        floor.list().await.map_err(|e| e.to_string())?;
                    }
                    Ok::<_, String>(floor)
                })
            })
            .collect();
        for task in tasks {
            floors.push(task.await??);
        }
        floor_rates.push(f64::from(per_task * IN_FLIGHT) / started.elapsed().as_secs_f64());
        let started = Instant::now();
        let tasks: Vec<_> = (0..IN_FLIGHT)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        client.account().list(0, 100).await?;
                    }
                    Ok::<_, wecom_kf::Error>(())
                })
            })
            .collect();
        for task in tasks {
            task.await??;
        }
        client_rates.push(f64::from(per_task * IN_FLIGHT) / started.elapsed().as_secs_f64());
    }
    // Diagnostic: the HTTP stack alone (bare reqwest, pre-parsed URL, the same decode).
    let raw = reqwest::Client::new();
    let url = reqwest::Url::parse(&format!("{base_url}{LIST_PATH}?access_token={token}"))?;
    let mut raw_rates = vec![];
    for _ in 0..sizes.rounds.min(3) {
        let started = Instant::now();
        let tasks: Vec<_> = (0..IN_FLIGHT)
            .map(|_| {
                let (raw, url) = (raw.clone(), url.clone());
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        let response = raw
                            .post(url.clone())
                            .header("content-type", "application/json")
                            .body(LIST_BODY)
                            .send()
                            .await
                            .map_err(|e| e.to_string())?;
                        let body = response.bytes().await.map_err(|e| e.to_string())?;
                        let _: Reply<ListAccountsResponse> =
                            serde_json::from_slice(&body).map_err(|e| e.to_string())?;
                    }
                    Ok::<_, String>(())
                })
            })
            .collect();
        for task in tasks {
            task.await??;
        }
        raw_rates.push(f64::from(per_task * IN_FLIGHT) / started.elapsed().as_secs_f64());
    }
    let raw = median(raw_rates);
    let (floor, ours) = (median(floor_rates), median(client_rates));
    report.line(format!(
        "\n## 1b. {IN_FLIGHT} calls in flight, {} calls",
        per_task * IN_FLIGHT
    ));
    report.line(format!("floor: {floor:.0} calls/s; client: {ours:.0} calls/s; bare reqwest (diagnostic): {raw:.0} calls/s = {:.3} × floor", raw / floor));
    report.target(
        "client ÷ floor, calls/s",
        ours / floor,
        ours / floor >= 0.9,
        "≥ 0.9",
    );
    Ok(())
}

async fn gettoken_calls(base_url: &str) -> Result<u64, BoxError> {
    let stats: serde_json::Value =
        serde_json::from_slice(&http_get(base_url, "/__emulator/stats").await?)?;
    Ok(stats["requests"]["/cgi-bin/gettoken"].as_u64().unwrap_or(0))
}

async fn http_get(base_url: &str, path: &str) -> Result<Bytes, BoxError> {
    let host = base_url.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(host).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header("host", host)
        .body(Full::new(Bytes::new()))?;
    Ok(sender
        .send_request(request)
        .await?
        .into_body()
        .collect()
        .await?
        .to_bytes())
}

/// 2. Concurrent first calls with a cold cache.
async fn token_storm(sizes: &Sizes, base_url: &str, report: &mut Report) -> Result<(), BoxError> {
    let before = gettoken_calls(base_url).await?;
    let cold = client(base_url)?;
    let started = Instant::now();
    let tasks: Vec<_> = (0..sizes.storm)
        .map(|_| {
            let c = cold.clone();
            tokio::spawn(async move { c.account().list(0, 1).await })
        })
        .collect();
    let mut failed = 0;
    for task in tasks {
        if task.await?.is_err() {
            failed += 1;
        }
    }
    let elapsed = started.elapsed();
    let fetched = gettoken_calls(base_url).await? - before;
    report.line(format!(
        "\n## 2. token storm: {} concurrent first calls, cold cache",
        sizes.storm
    ));
    report.line(format!(
        "gettoken calls: {fetched}; all answered in {:.1} ms; failures: {failed}",
        elapsed.as_secs_f64() * 1000.0
    ));
    report.check(
        "token storm makes exactly 1 gettoken",
        fetched == 1 && failed == 0,
    );
    Ok(())
}

/// Section 3, `list_all` over many accounts: time, and peak memory while streaming
/// compared with what one page costs.
async fn list_all(
    sizes: &Sizes,
    client: &Client,
    media_id: &str,
    report: &mut Report,
) -> Result<(), BoxError> {
    for i in 100..sizes.accounts {
        client.account().add(format!("基准{i}"), media_id).await?;
    }
    // The size of one decoded page of 100 accounts, held in memory.
    client.account().list(0, 100).await?; // warm the connection's buffers
    let before = ALLOC.current_usage();
    let page = client.account().list(0, 100).await?;
    let page_bytes = ALLOC.current_usage().saturating_sub(before);
    drop(page);
    // What fetching and holding one page costs at its peak (wire body, read buffers, decode).
    ALLOC.reset_peak_usage();
    let base = ALLOC.current_usage();
    let page = client.account().list(0, 100).await?;
    let fetch_peak = ALLOC.peak_usage().saturating_sub(base);
    drop(page);

    ALLOC.reset_peak_usage();
    let base = ALLOC.current_usage();
    let started = Instant::now();
    let mut stream = std::pin::pin!(client.account().list_all());
    let mut count = 0u32;
    while let Some(account) = stream.try_next().await? {
        count += u32::from(!account.open_kfid.is_empty());
    }
    let elapsed = started.elapsed();
    let growth = ALLOC.peak_usage().saturating_sub(base);
    #[allow(clippy::cast_precision_loss)]
    let (vs_fetch, vs_decoded) = (
        growth as f64 / fetch_peak as f64,
        growth as f64 / page_bytes as f64,
    );
    report.line(format!(
        "\n## 3. list_all over {} accounts ({} pages)",
        sizes.accounts,
        sizes.accounts.div_ceil(100)
    ));
    report.line(format!(
        "total {:.1} ms; peak heap growth while streaming = {growth} bytes",
        elapsed.as_secs_f64() * 1000.0
    ));
    report.line(format!("one page: {page_bytes} bytes decoded; {fetch_peak} bytes at the peak of fetching it (body, buffers, decode)"));
    report.target(
        "peak growth ÷ one page fetched",
        vs_fetch,
        vs_fetch < 2.0,
        "< 2",
    );
    report.line(format!("(peak growth ÷ one page decoded: {vs_decoded:.2}; a buffering list_all would be ≈ {} pages)", sizes.accounts.div_ceil(100)));
    report.check("list_all yields every account", count == sizes.accounts);
    Ok(())
}

/// Median wall time and peak RSS (KiB, from /usr/bin/time when installed) of a command.
fn measure_process(
    runs: u32,
    command: impl Fn() -> Command,
) -> Result<(f64, Option<u64>), BoxError> {
    let mut walls = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let status = command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        walls.push(started.elapsed().as_secs_f64() * 1000.0);
        if !status.success() {
            return Err(format!("{:?} failed", command().get_args().collect::<Vec<_>>()).into());
        }
    }
    let rss = Path::new("/usr/bin/time").exists().then(|| {
        let probe = command();
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(probe.get_program())
            .args(probe.get_args())
            .envs(probe.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .stdout(Stdio::null())
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()?
            .trim()
            .parse()
            .ok()
    });
    Ok((median(walls), rss.flatten()))
}

/// 4. The CLI as a whole process.
fn cli_process(
    sizes: &Sizes,
    cli: &Path,
    base_url: &str,
    report: &mut Report,
) -> Result<(), BoxError> {
    let version = measure_process(sizes.cli_runs, || {
        let mut c = Command::new(cli);
        c.arg("--version");
        c
    })?;
    let list = measure_process(sizes.cli_runs, || {
        let mut c = Command::new(cli);
        c.args(["account", "list", "--limit", "10"])
            .env("WECOM_KF_BASE_URL", base_url)
            .env("WECOM_CORP_ID", wecom_kf_emulator::DEMO_CORP_ID)
            .env("WECOM_KF_SECRET", wecom_kf_emulator::DEMO_SECRET)
            .env("WECOM_KF_CONFIG", "/nonexistent");
        c
    })?;
    let rss = |r: Option<u64>| {
        r.map_or_else(
            || "n/a (apt-get install time)".to_owned(),
            |kib| format!("{kib} KiB"),
        )
    };
    report.line(format!(
        "\n## 4. CLI, whole process ({} runs each, median)",
        sizes.cli_runs
    ));
    report.line(format!(
        "wecom-kf --version: {:.2} ms wall, peak RSS {}",
        version.0,
        rss(version.1)
    ));
    report.line(format!(
        "wecom-kf account list (start, token, one call): {:.2} ms wall, peak RSS {}",
        list.0,
        rss(list.1)
    ));
    report.target(
        "CLI start + token + one call, ms",
        list.0,
        list.0 <= 5.0,
        "≤ 5 ms",
    );
    Ok(())
}

/// 5. The emulator under wrk at 64 connections.
fn emulator_throughput(
    sizes: &Sizes,
    base_url: &str,
    token: &str,
    media_id: &str,
    report: &mut Report,
) -> Result<Option<f64>, BoxError> {
    let mut list_rps = None;
    report.line(format!(
        "\n## 5. emulator throughput, wrk -t2 -c64 -d{}s",
        sizes.wrk_seconds
    ));
    if !has_wrk() {
        report.line("wrk: skipped (apt-get install wrk)");
        return Ok(None);
    }
    let dir = std::env::temp_dir().join(format!("wecom-kf-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for (name, path, body, target) in [
        (
            "kf/account/list (100 accounts)",
            LIST_PATH,
            r#"{"offset":0,"limit":100}"#.to_owned(),
            true,
        ),
        (
            "kf/account/add",
            "/cgi-bin/kf/account/add",
            format!(r#"{{"name":"压测","media_id":"{media_id}"}}"#),
            false,
        ),
    ] {
        let script = dir.join("post.lua");
        std::fs::write(
            &script,
            format!(
                "wrk.method = \"POST\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
            ),
        )?;
        let run = wrk(
            sizes,
            &script,
            &format!("{base_url}{path}?access_token={token}"),
        )?;
        let (rps, p99, non2xx) = (run.rps, run.p99_ms, run.non2xx);
        report.line(format!(
            "{name}: {rps:.0} requests/s, p99 {p99:.2} ms{}",
            if non2xx {
                " (non-2xx answers seen!)"
            } else {
                ""
            }
        ));
        if target {
            list_rps = Some(rps);
            report.target("emulator list, requests/s", rps, rps >= 15_000.0, "≥ 15000");
            report.target("emulator list, p99 ms", p99, p99 < 20.0, "< 20 ms");
        }
        report.check(&format!("wrk {name} got answers"), rps > 0.0 && !non2xx);
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(list_rps)
}

fn has_wrk() -> bool {
    Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// What one wrk run measured.
struct WrkRun {
    rps: f64,
    p99_ms: f64,
    requests: u64,
    non2xx: bool,
    /// Answers with a non-zero errcode, when the script counts them (`refused: N`).
    refused: u64,
}

/// wrk -t2 -c64 with a Lua script against `url`.
fn wrk(sizes: &Sizes, script: &Path, url: &str) -> Result<WrkRun, BoxError> {
    let out = Command::new("wrk")
        .args([
            "-t2",
            "-c64",
            &format!("-d{}s", sizes.wrk_seconds),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let number = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .map(str::trim)
    };
    Ok(WrkRun {
        rps: number("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p99_ms: number("99%").map_or(f64::NAN, parse_latency_ms),
        requests: text
            .lines()
            .find_map(|l| {
                l.trim()
                    .split_once(" requests in ")
                    .map(|(n, _)| n.trim().to_owned())
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
        non2xx: text.lines().any(|l| l.contains("Non-2xx")),
        refused: number("refused:").and_then(|v| v.parse().ok()).unwrap_or(0),
    })
}

fn parse_latency_ms(value: &str) -> f64 {
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => number / 1000.0,
        "s" => number * 1000.0,
        _ => number,
    }
}
