//! The Redis token cache against a real, private `redis-server`, with a fleet of OS
//! processes (this test binary re-run as workers).

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use wecom_kf::token::RedisTokenCache;
use wecom_kf_emulator::{Config, DEMO_CORP_ID, DEMO_SECRET, Fault, FaultRule};
use wecom_kf_testkit::RedisServer;

use crate::{Capture, builder, calls, emulator, emulator_with};

const GETTOKEN: &str = "/cgi-bin/gettoken";

/// One worker process: `calls` concurrent `list` calls per phase, then a report line.
struct Worker {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Worker {
    fn spawn(
        base_url: &str,
        redis_url: &str,
        prefix: &str,
        calls: u32,
        phases: u32,
        lock_ms: u64,
    ) -> Worker {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "redis::fleet_worker",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("WORKER_BASE_URL", base_url)
            .env("WORKER_REDIS_URL", redis_url)
            .env("WORKER_PREFIX", prefix)
            .env("WORKER_CALLS", calls.to_string())
            .env("WORKER_PHASES", phases.to_string())
            .env("WORKER_LOCK_MS", lock_ms.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Worker { child, lines }
    }

    /// The next report: (ok, errors).
    async fn report(&mut self) -> (u32, u32) {
        let read = async {
            while let Some(line) = self.lines.next_line().await.unwrap() {
                // libtest prints "test … ... " first, on the same line.
                if let Some(rest) = line.split_once("WORKER ").map(|(_, rest)| rest) {
                    let field = |name: &str| {
                        rest.split_whitespace()
                            .find_map(|kv| kv.strip_prefix(name))
                            .unwrap()
                            .parse()
                            .unwrap()
                    };
                    return (field("ok="), field("errors="));
                }
            }
            panic!("worker exited without reporting");
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .expect("worker reports within 60 s")
    }

    async fn next_phase(&mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"go\n").await.unwrap();
        stdin.flush().await.unwrap();
    }
}

/// Run as a child process by the fleet tests; does nothing on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a helper: the fleet tests run it as a child process"]
async fn fleet_worker() {
    let env = |name: &str| std::env::var(name).unwrap();
    let cache = RedisTokenCache::new(&env("WORKER_REDIS_URL"))
        .unwrap()
        .key_prefix(env("WORKER_PREFIX"))
        .lock_timeout(Duration::from_millis(
            env("WORKER_LOCK_MS").parse().unwrap(),
        ));
    let client = wecom_kf::Client::builder()
        .base_url(env("WORKER_BASE_URL"))
        .corp_id(DEMO_CORP_ID)
        .secret(DEMO_SECRET)
        .redis_token_cache(cache)
        .build()
        .unwrap();
    let calls: u32 = env("WORKER_CALLS").parse().unwrap();
    let phases: u32 = env("WORKER_PHASES").parse().unwrap();
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    for phase in 1..=phases {
        if phase > 1 {
            stdin.next_line().await.unwrap();
        }
        let tasks: Vec<_> = (0..calls)
            .map(|_| {
                let c = client.clone();
                tokio::spawn(async move { c.account().list(0, 10).await })
            })
            .collect();
        let (mut ok, mut errors) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => {
                    errors += 1;
                    eprintln!("{e}");
                }
            }
        }
        println!("WORKER phase={phase} ok={ok} errors={errors}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_share_one_token_and_refresh_once_after_revocation() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let em = emulator().await;
    let mut workers: Vec<_> = (0..8)
        .map(|_| Worker::spawn(em.base_url(), &redis.url(), "fleet", 200, 2, 5000))
        .collect();
    for worker in &mut workers {
        assert_eq!(worker.report().await, (200, 0));
    }
    assert_eq!(
        calls(&em, GETTOKEN),
        1,
        "8 processes × 200 cold calls: one gettoken"
    );
    assert_eq!(calls(&em, "/cgi-bin/kf/account/list"), 1600);

    em.emulator().revoke_tokens(None).unwrap();
    for worker in &mut workers {
        worker.next_phase().await;
    }
    for worker in &mut workers {
        assert_eq!(worker.report().await, (200, 0));
    }
    assert_eq!(
        calls(&em, GETTOKEN),
        2,
        "after a revocation: exactly one more gettoken across the fleet"
    );
    for worker in &mut workers {
        assert!(worker.child.wait().await.unwrap().success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_lock_holder_dies_mid_refresh_another_takes_over() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let em = emulator().await;
    let lock = Duration::from_millis(1500);
    // The first fetch hangs, so its process dies holding the lock.
    em.emulator().add_fault(FaultRule {
        fault: Fault::Latency { ms: 60_000 },
        endpoint: Some(GETTOKEN.into()),
        count: Some(1),
        rate: None,
    });
    let mut holder = Worker::spawn(em.base_url(), &redis.url(), "takeover", 1, 1, 1500);
    let mut connection = redis.connection();
    let started = Instant::now();
    loop {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("takeover:lock:*")
            .query(&mut connection)
            .unwrap();
        // Holding the lock, and its gettoken has reached the emulator (where it hangs).
        if !keys.is_empty() && calls(&em, GETTOKEN) == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the worker never took the lock and fetched"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    holder.child.kill().await.unwrap();
    let killed = Instant::now();

    let mut others: Vec<_> = (0..2)
        .map(|_| Worker::spawn(em.base_url(), &redis.url(), "takeover", 50, 1, 1500))
        .collect();
    for worker in &mut others {
        assert_eq!(
            worker.report().await,
            (50, 0),
            "no error reaches the callers"
        );
    }
    let recovered = killed.elapsed();
    assert!(
        recovered < lock + Duration::from_secs(5),
        "recovered in {recovered:?}, lock timeout {lock:?}"
    );
    assert_eq!(
        calls(&em, GETTOKEN),
        2,
        "the dead holder's fetch, then one takeover"
    );
}

#[tokio::test]
async fn redis_going_down_fails_open_with_a_warning() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let capture = Capture::default();
    let writer = capture.clone();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    );

    let em = emulator().await;
    let cache = RedisTokenCache::new(&redis.url())
        .unwrap()
        .key_prefix("failopen")
        .operation_timeout(Duration::from_millis(300));
    let client = builder(&em)
        .redis_token_cache(cache.clone())
        .build()
        .unwrap();
    client.account().list(0, 1).await.unwrap();
    redis.stop();
    // A revoked token forces a refresh while Redis is down.
    em.emulator().revoke_tokens(None).unwrap();
    for _ in 0..5 {
        client.account().list(0, 1).await.unwrap();
    }
    // A fresh process (cold cache) with Redis down still works.
    let cold = builder(&em).redis_token_cache(cache).build().unwrap();
    cold.account().list(0, 1).await.unwrap();
    let logs = capture.text();
    assert!(
        logs.contains(
            "Redis token cache unreachable; fetching the access_token directly (fail-open)"
        ),
        "{logs}"
    );
    assert!(!logs.contains(DEMO_SECRET));

    // Fail-closed refuses instead.
    let closed = builder(&em)
        .redis_token_cache(
            RedisTokenCache::new(&redis.url())
                .unwrap()
                .operation_timeout(Duration::from_millis(300))
                .fail_closed(),
        )
        .build()
        .unwrap();
    let err = closed.account().list(0, 1).await.unwrap_err();
    assert!(err.to_string().contains("fail-closed"), "{err}");
    // The cause is typed, not text: a program can tell "Redis is down" apart.
    let inner = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<std::sync::Arc<wecom_kf::Error>>())
        .expect("a token error wraps the cause");
    assert!(
        matches!(
            **inner,
            wecom_kf::Error::Unreachable {
                what: "Redis token cache",
                ..
            }
        ),
        "{inner:?}"
    );
    assert!(std::error::Error::source(&**inner).is_some());
}

#[tokio::test]
async fn redis_holds_no_secret_and_the_ttl_matches_the_token() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut config = Config::default();
    config.secrets = vec!["SECRET-that-must-never-reach-redis-0123456789".to_owned()];
    let em = emulator_with(config).await;
    let client = builder(&em)
        .secret("SECRET-that-must-never-reach-redis-0123456789")
        .redis_token_cache(
            RedisTokenCache::new(&redis.url())
                .unwrap()
                .key_prefix("scan"),
        )
        .build()
        .unwrap();
    client.account().list(0, 1).await.unwrap();
    em.emulator().revoke_tokens(None).unwrap();
    client.account().list(0, 1).await.unwrap();

    let entries = redis.dump();
    assert_eq!(
        entries.len(),
        1,
        "one token key, no lock left behind: {entries:?}"
    );
    let (key, value) = &entries[0];
    assert!(
        key.starts_with(&format!("scan:token:{DEMO_CORP_ID}:")),
        "{key}"
    );
    for (key, value) in &entries {
        assert!(
            !key.contains("SECRET") && !value.contains("SECRET"),
            "a secret reached Redis: {key} = {value}"
        );
    }
    let shared: serde_json::Value = serde_json::from_str(value).unwrap();
    assert_eq!(
        shared["access_token"],
        client.token_provider().token().await.unwrap().expose()
    );
    let ttl: i64 = redis::cmd("PTTL")
        .arg(key)
        .query(&mut redis.connection())
        .unwrap();
    let expires_in = i64::try_from(shared["expires_at_ms"].as_u64().unwrap()).unwrap()
        - i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap();
    assert!(
        (ttl - expires_in).abs() < 2000,
        "Redis TTL {ttl} ms matches the token's {expires_in} ms"
    );
}
