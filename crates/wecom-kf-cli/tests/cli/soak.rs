//! The kill -9 soak of `wecom-kf serve`: customer messages flow through an emulator
//! while the serve process is killed at random points and restarted. Afterwards every
//! message was handled (0 lost), each customer has exactly one reply per message (0
//! duplicate replies), and the messages handled twice are counted: those that fell in
//! the documented window between a handler's success and the store's record.
//!
//! `SOAK_MESSAGES` (default 1000) and `SOAK_KILLS` (default 5) scale it;
//! `SOAK_MESSAGES=10000 cargo test -p wecom-kf-cli --test cli soak -- --nocapture`
//! prints the figures of the long run.

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};

use crate::bare;

const TOKEN: &str = "soakCallbackToken";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn serve_killed_at_random_loses_nothing_and_never_answers_twice() {
    let messages = env_number("SOAK_MESSAGES", 1000);
    let kills = env_number("SOAK_KILLS", 5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let em = runtime
        .block_on(wecom_kf_emulator::spawn(
            wecom_kf_emulator::Config::default(),
        ))
        .unwrap();
    let base = em.base_url().to_owned();
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| -> Value {
        runtime.block_on(async {
            let bytes = http
                .post(format!("{base}{path}"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            serde_json::from_slice(&bytes).unwrap()
        })
    };
    let kfid = runtime.block_on(async {
        let client = wecom_kf::Client::builder()
            .base_url(&base)
            .corp_id(wecom_kf_emulator::DEMO_CORP_ID)
            .secret(wecom_kf_emulator::DEMO_SECRET)
            .build()
            .unwrap();
        let avatar = client
            .media()
            .upload(
                wecom_kf::types::media::MediaType::Image,
                wecom_kf::media::Media::bytes("a.png", wecom_kf_emulator::DEFAULT_AVATAR_PNG),
            )
            .await
            .unwrap();
        client.account().add("压测", avatar.media_id).await.unwrap()
    });
    // Five messages per customer: the service allows five answers after a customer's
    // last message, so every message can have its one reply.
    let customers: Vec<String> = (0..messages.div_ceil(5))
        .map(|i| {
            post(
                "/__emulator/customers",
                json!({"nickname": format!("客户{i}")}),
            )["external_userid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let handled_log = dir.path().join("handled.log");
    let store = format!("sqlite:{}", dir.path().join("consumer.db").display());
    let serve_port = free_port();
    let listen = format!("127.0.0.1:{serve_port}");
    // The bot: log the msgid, answer "re:<msgid>".
    let exec = format!(
        "id=$(sed -E 's/.*\"msgid\":\"([^\"]+)\".*/\\1/'); echo \"$id\" >> {}; echo \"re:$id\"",
        handled_log.display()
    );
    let start = || -> Child {
        bare(dir.path())
            .env("WECOM_CORP_ID", wecom_kf_emulator::DEMO_CORP_ID)
            .env("WECOM_KF_SECRET", wecom_kf_emulator::DEMO_SECRET)
            .env("WECOM_KF_BASE_URL", &base)
            .env("WECOM_KF_CALLBACK_TOKEN", TOKEN)
            .env("WECOM_KF_CALLBACK_AES_KEY", KEY)
            .args([
                "serve", "--listen", &listen, "--poll", "1", "--store", &store, "--exec", &exec,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut serve = start();
    // The emulator pushes to serve (checked once it listens).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = post(
            "/__emulator/callback",
            json!({"url": format!("http://{listen}/callback"), "token": TOKEN, "encoding_aes_key": KEY, "retry_ms": 200}),
        );
        if answer["verified"] == true {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "serve never answered the URL check: {answer}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Send every message, killing serve at random points meanwhile.
    let mut rng = rand::rng();
    let kill_every = (messages / (kills + 1)).max(1);
    let mut killed = 0;
    let mut sent: HashMap<String, Vec<String>> = HashMap::new();
    for i in 0..messages {
        let who = &customers[i % customers.len()];
        let answer = post(
            &format!("/__emulator/customers/{who}/send"),
            json!({"open_kfid": kfid, "msgtype": "text", "text": {"content": format!("m{i}")}}),
        );
        sent.entry(who.clone())
            .or_default()
            .push(answer["msgid"].as_str().unwrap().to_owned());
        if i > 0 && i % kill_every == 0 && killed < kills {
            // Somewhere in the middle of its work.
            std::thread::sleep(Duration::from_millis(rng.random_range(50..400)));
            serve.kill().unwrap(); // SIGKILL
            serve.wait().unwrap();
            killed += 1;
            std::thread::sleep(Duration::from_millis(rng.random_range(0..300)));
            serve = start();
        }
    }
    assert_eq!(killed, kills);

    // Bounded wait for every reply.
    let total: usize = sent.values().map(Vec::len).sum();
    // About 50 messages a second go through `sh -c` and back; allow for it.
    let allowed = u64::try_from(messages / 20).unwrap_or(u64::MAX).max(120);
    let deadline = Instant::now() + Duration::from_secs(allowed);
    let inbox = |who: &str| -> Vec<Value> { em.emulator().inbox(who, &kfid).unwrap() };
    loop {
        let replies: usize = customers.iter().map(|c| inbox(c).len()).sum();
        if replies >= total || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status();
    serve.wait().unwrap();

    let log = std::fs::read_to_string(&handled_log).unwrap_or_default();
    let mut handled: HashMap<&str, usize> = HashMap::new();
    for id in log.lines().filter(|l| !l.is_empty()) {
        *handled.entry(id).or_default() += 1;
    }
    let lost: Vec<&String> = sent
        .values()
        .flatten()
        .filter(|id| !handled.contains_key(id.as_str()))
        .collect();
    let twice = handled.values().filter(|n| **n > 1).count();
    let mut duplicate_replies = 0;
    let mut missing_replies = 0;
    for (who, ids) in &sent {
        let mut replies: HashMap<String, usize> = HashMap::new();
        for m in inbox(who) {
            *replies
                .entry(m["text"]["content"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
        for id in ids {
            match replies.get(&format!("re:{id}")) {
                None => missing_replies += 1,
                Some(n) if *n > 1 => duplicate_replies += n - 1,
                Some(_) => {}
            }
        }
    }
    eprintln!(
        "soak: {total} messages, {kills} kill -9 restarts; lost {}, handled twice {twice} (the window), replies missing {missing_replies}, duplicate replies {duplicate_replies}",
        lost.len()
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert_eq!(missing_replies, 0);
    assert_eq!(duplicate_replies, 0);
}
