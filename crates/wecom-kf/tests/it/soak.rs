//! Soak under load: 64 workers run mixed add/update/list/delete against one emulator with
//! about 5% of calls faulted, while the emulator is `kill -9`ed and restarted twice.
//! At the end every acknowledged account is present, every acknowledged delete is gone,
//! no add was duplicated, and the count never exceeded the cap.
//!
//! `WECOM_KF_SOAK_SECS` sets the duration (CI: 8; the full run: 60):
//! `WECOM_KF_SOAK_SECS=60 cargo test --release -p wecom-kf --test it soak -- --nocapture`

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use wecom_kf::types::kf::account::UpdateAccount;
use wecom_kf::{Client, Error, RetryPolicy};
use wecom_kf_emulator::{DEMO_CORP_ID, DEMO_SECRET};

const CAP: usize = 3000;
const WORKERS: usize = 64;

/// Run as a child process by the soak test: an emulator on a fixed address and file.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
#[ignore = "a helper: the soak test runs it as a child process"]
async fn soak_emulator() {
    let mut config = wecom_kf_emulator::Config::with_db(std::env::var("SOAK_DB").unwrap());
    config.max_accounts = Some(CAP);
    config.calls_per_minute = u32::MAX;
    config.calls_per_hour = u32::MAX;
    let addr = std::env::var("SOAK_ADDR").unwrap().parse().unwrap();
    let running = wecom_kf_emulator::spawn_on(addr, config).await.unwrap();
    println!("\nSOAK listening on {}", running.base_url());
    std::future::pending::<()>().await;
}

async fn start_emulator(addr: &str, db: &str) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "soak::soak_emulator",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("SOAK_ADDR", addr)
        .env("SOAK_DB", db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("SOAK listening on") {
                return;
            }
        }
        panic!("the emulator exited");
    };
    tokio::time::timeout(Duration::from_secs(30), ready)
        .await
        .expect("the emulator starts");
    child
}

async fn install_faults(http: &reqwest::Client, base: &str) {
    for rule in [
        serde_json::json!({"kind": "errcode", "errcode": -1, "rate": 0.01}),
        serde_json::json!({"kind": "http502", "rate": 0.01}),
        serde_json::json!({"kind": "drop_before_commit", "rate": 0.01}),
        serde_json::json!({"kind": "drop_after_commit", "rate": 0.01}),
        serde_json::json!({"kind": "truncate", "rate": 0.01}),
    ] {
        http.post(format!("{base}/__emulator/faults"))
            .header("content-type", "application/json")
            .body(rule.to_string())
            .send()
            .await
            .unwrap();
    }
}

async fn stats(http: &reqwest::Client, base: &str) -> Option<serde_json::Value> {
    http.get(format!("{base}/__emulator/stats"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

#[derive(Default)]
struct Ledger {
    /// Acknowledged accounts and the names they may have (an update whose outcome is
    /// unknown leaves two possibilities).
    live: HashMap<String, HashSet<String>>,
    deleted: Vec<String>,
    unknown_adds: Vec<String>,
    calls: BTreeMap<&'static str, u64>,
    errors: BTreeMap<String, u64>,
}

fn error_kind(err: &Error) -> String {
    match err {
        Error::Api { code, .. } => format!("api {}", code.get()),
        Error::OutcomeUnknown { .. } => "add outcome unknown".into(),
        Error::Token(inner) => format!("token: {}", error_kind(inner)),
        Error::Transport { .. } => "transport".into(),
        Error::Timeout { .. } => "timeout".into(),
        Error::Http { status, .. } => format!("http {status}"),
        Error::Decode { .. } => "decode".into(),
        other => format!("{other:?}"),
    }
}

async fn worker(id: usize, client: Client, media_id: String, stop: Arc<AtomicBool>) -> Ledger {
    let mut ledger = Ledger::default();
    let mut seq = 0u32;
    while !stop.load(Ordering::Relaxed) {
        seq += 1;
        let roll = rand::rng().random_range(0..100);
        let pick = ledger.live.keys().next().cloned();
        let result = match (roll, pick) {
            (0..30, _) | (30..65, None) => {
                *ledger.calls.entry("add").or_default() += 1;
                let name = format!("w{id}-{seq}");
                match client.account().add(&name, &media_id).await {
                    Ok(kfid) => {
                        ledger.live.insert(kfid, HashSet::from([name]));
                        Ok(())
                    }
                    Err(err) => {
                        if err.is_outcome_unknown() {
                            ledger.unknown_adds.push(name);
                        }
                        Err(err)
                    }
                }
            }
            (30..50, Some(kfid)) => {
                *ledger.calls.entry("update").or_default() += 1;
                let name = format!("w{id}-{seq}u");
                let result = client
                    .account()
                    .update(UpdateAccount::new(&kfid).name(&name))
                    .await;
                let names = ledger.live.get_mut(&kfid).expect("picked from live");
                if result.is_ok() {
                    names.clear();
                }
                names.insert(name);
                result
            }
            (50..65, Some(kfid)) => {
                *ledger.calls.entry("delete").or_default() += 1;
                let result = client.account().delete(&kfid).await;
                ledger.live.remove(&kfid);
                if result.is_ok() {
                    ledger.deleted.push(kfid);
                }
                result
            }
            _ => {
                *ledger.calls.entry("list").or_default() += 1;
                let offset = rand::rng().random_range(0..30) * 100;
                client.account().list(offset, 100).await.map(drop)
            }
        };
        if let Err(err) = result {
            *ledger.errors.entry(error_kind(&err)).or_default() += 1;
            if matches!(err, Error::Transport { .. } | Error::Token(_)) {
                // The emulator is restarting: do not spin.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    ledger
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_with_faults_and_two_kill_9_restarts() {
    let seconds: u64 = std::env::var("WECOM_KF_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("soak.db").to_str().unwrap().to_owned();
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let mut emulator = start_emulator(&addr, &db).await;

    let client = Client::builder()
        .base_url(&base)
        .corp_id(DEMO_CORP_ID)
        .secret(DEMO_SECRET)
        .request_timeout(Duration::from_secs(2))
        .retry_policy(
            RetryPolicy::attempts(3)
                .with_backoff(Duration::from_millis(5), Duration::from_millis(50)),
        )
        .build()
        .unwrap();
    let media_id = client
        .media()
        .upload(
            wecom_kf::types::media::MediaType::Image,
            wecom_kf::media::Media::bytes("a.png", crate::PNG),
        )
        .await
        .unwrap()
        .media_id;
    install_faults(&http, &base).await;

    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| tokio::spawn(worker(w, client.clone(), media_id.clone(), stop.clone())))
        .collect();

    // The orchestrator: watch the cap, kill -9 and restart twice.
    let started = Instant::now();
    let max_seen = AtomicU64::new(0);
    let mut faults_injected: BTreeMap<String, u64> = BTreeMap::new();
    let mut restarts = 0;
    let total = Duration::from_secs(seconds);
    while started.elapsed() < total {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some(s) = stats(&http, &base).await {
            max_seen.fetch_max(s["accounts"].as_u64().unwrap_or(0), Ordering::Relaxed);
        }
        let due = (restarts + 1) * total.as_millis() / 3;
        if restarts < 2 && started.elapsed().as_millis() >= due {
            if let Some(s) = stats(&http, &base).await {
                for (kind, n) in s["faults_injected"].as_object().into_iter().flatten() {
                    *faults_injected.entry(kind.clone()).or_default() += n.as_u64().unwrap_or(0);
                }
            }
            emulator.kill().await.unwrap(); // SIGKILL
            tokio::time::sleep(Duration::from_millis(200)).await;
            emulator = start_emulator(&addr, &db).await;
            install_faults(&http, &base).await;
            restarts += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut ledger = Ledger::default();
    for w in workers {
        let l = tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("a worker hung")
            .unwrap();
        ledger.live.extend(l.live);
        ledger.deleted.extend(l.deleted);
        ledger.unknown_adds.extend(l.unknown_adds);
        for (k, v) in l.calls {
            *ledger.calls.entry(k).or_default() += v;
        }
        for (k, v) in l.errors {
            *ledger.errors.entry(k).or_default() += v;
        }
    }
    if let Some(s) = stats(&http, &base).await {
        for (kind, n) in s["faults_injected"].as_object().into_iter().flatten() {
            *faults_injected.entry(kind.clone()).or_default() += n.as_u64().unwrap_or(0);
        }
    }
    http.delete(format!("{base}/__emulator/faults"))
        .send()
        .await
        .unwrap();

    // The final state, read without faults.
    let mut stream = std::pin::pin!(client.account().list_all());
    let mut present: HashMap<String, String> = HashMap::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    while let Some(account) = futures_util::TryStreamExt::try_next(&mut stream)
        .await
        .unwrap()
    {
        *names.entry(account.name.clone()).or_default() += 1;
        present.insert(account.open_kfid, account.name);
    }
    let mut anomalies = Vec::new();
    for (kfid, expected) in &ledger.live {
        match present.get(kfid) {
            None => anomalies.push(format!("acknowledged account {kfid} is missing")),
            Some(name) if !expected.contains(name) => anomalies.push(format!(
                "{kfid} is named {name}, expected one of {expected:?}"
            )),
            Some(_) => {}
        }
    }
    for kfid in &ledger.deleted {
        if present.contains_key(kfid) {
            anomalies.push(format!("acknowledged delete {kfid} is still there"));
        }
    }
    for (name, n) in &names {
        if *n > 1 {
            anomalies.push(format!("{n} accounts named {name}: an add was duplicated"));
        }
    }
    let max_seen = max_seen.load(Ordering::Relaxed).max(present.len() as u64);
    if max_seen > CAP as u64 {
        anomalies.push(format!("{max_seen} accounts, over the cap of {CAP}"));
    }
    let calls: u64 = ledger.calls.values().sum();
    let injected: u64 = faults_injected.values().sum();
    println!("soak: {seconds} s, {WORKERS} workers, {restarts} kill -9 restarts");
    println!("calls: {calls} {:?}", ledger.calls);
    println!("errors surfaced: {:?}", ledger.errors);
    println!("faults injected: {injected} {faults_injected:?}");
    println!(
        "acknowledged live: {}, acknowledged deletes: {}, unknown adds: {}, accounts at the end: {} (max seen {max_seen}, cap {CAP})",
        ledger.live.len(),
        ledger.deleted.len(),
        ledger.unknown_adds.len(),
        present.len()
    );
    println!("anomalies: {}", anomalies.len());
    assert!(anomalies.is_empty(), "{}", anomalies.join("\n"));
    assert_eq!(restarts, 2);
    assert!(
        calls > 500 && injected > 10,
        "the soak did too little to mean anything: {calls} calls, {injected} faults"
    );
}
