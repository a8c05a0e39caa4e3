//! Running serve for real: `serve --help` keeps secrets from the environment out,
//! `serve --check` says what is wrong before a start, and dead letters are counted in
//! /metrics, listed and sent through again.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::terminate;
use crate::sessions::Sandbox;
use crate::{Server, bare, get, listening_at, metrics_with, sandbox_serve, sqlite_store};

const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

#[test]
fn serve_help_never_shows_secret_bearing_environment_values() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["serve", "--help"][..],
        &["dead-letters", "retry", "--help"],
    ] {
        let out = bare(dir.path())
            .args(args)
            .env("WECOM_KF_SERVE_STORE", "redis://:hunter2pw@10.0.0.5:6379")
            .env(
                "WECOM_KF_SERVE_WEBHOOK",
                "https://bot.example/kf?key=webhooksecret",
            )
            .env("WECOM_KF_SERVE_EXEC", "BOT_TOKEN=execsecret ./bot")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("--store"), "{text}");
        for secret in ["hunter2pw", "webhooksecret", "execsecret"] {
            assert!(
                !text.contains(secret),
                "{args:?} --help shows {secret}:\n{text}"
            );
        }
    }
}

/// `serve --check` with the emulator's good settings, changed one at a time.
fn check(server: &Server, env: &[(&str, &str)], store: &str) -> crate::Run {
    let mut cmd = server.cmd();
    cmd.env("WECOM_KF_CALLBACK_TOKEN", "kfCallbackToken2026")
        .env("WECOM_KF_CALLBACK_AES_KEY", AES_KEY);
    for (key, value) in env {
        cmd.env(key, value);
    }
    crate::Run::of(cmd.args(["serve", "--check", "--store", store]))
}

#[test]
fn serve_check_says_what_is_wrong_and_exits_non_zero() {
    let server = Server::start();
    let sqlite = sqlite_store(server.dir.path());
    let good = check(&server, &[], &sqlite);
    good.ok();
    for line in [
        "ok: configuration",
        "ok: the callback Token and EncodingAESKey",
        "ok: the credentials",
        "ok: the store (0 dead letters)",
    ] {
        assert!(good.stderr.contains(line), "{}", good.stderr);
    }

    let bad_secret = check(&server, &[("WECOM_KF_SECRET", "not-the-secret")], &sqlite);
    assert_ne!(bad_secret.code, 0);
    assert!(
        bad_secret.stderr.contains("the credentials were refused")
            && bad_secret.stderr.contains("40001"),
        "{}",
        bad_secret.stderr
    );
    assert!(!bad_secret.stderr.contains("not-the-secret"));

    let bad_key = check(
        &server,
        &[("WECOM_KF_CALLBACK_AES_KEY", "too-short")],
        &sqlite,
    );
    assert_ne!(bad_key.code, 0);
    assert!(
        bad_key
            .stderr
            .contains("the callback Token and EncodingAESKey")
            && bad_key.stderr.contains("-40004"),
        "{}",
        bad_key.stderr
    );
    assert!(!bad_key.stderr.contains("too-short"));

    // Nothing listens on port 1.
    let unreachable = check(&server, &[], "redis://127.0.0.1:1");
    assert_ne!(unreachable.code, 0);
    assert!(
        unreachable.stderr.contains("the store is unreachable"),
        "{}",
        unreachable.stderr
    );
    assert!(!unreachable.stderr.contains("ok: the store"));
}

#[test]
fn a_dead_letter_is_counted_listed_and_retried_through_the_bot() {
    let (sb, kfid, who) = Sandbox::with_customer(&["--nickname", "小红"]);
    let store = sqlite_store(sb.0.path());
    // A bot that fails everything, and one attempt per message.
    let (mut serve, base) = sandbox_serve(
        sb.0.path(),
        &store,
        &["--max-attempts", "1", "--exec", "cat > /dev/null; exit 3"],
    );
    sb.line(&["sandbox", "say", &who, &kfid, "我的快递呢"]);
    let metrics = metrics_with(&base, "wecom_kf_dead_letters 1");
    assert!(metrics.contains("wecom_kf_dead_letters 1"), "{metrics}");
    assert!(
        metrics.contains("wecom_kf_callbacks_queue_full_total 0"),
        "{metrics}"
    );
    assert!(metrics.contains("wecom_kf_url_checks_total"), "{metrics}");
    assert!(terminate(&mut serve).success());

    let listed = sb.run(&[
        "--format",
        "json",
        "dead-letters",
        "list",
        "--store",
        &store,
    ]);
    let letters = listed.ok().json();
    let letters = letters.as_array().unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["open_kfid"], kfid.as_str());
    let msgid = letters[0]["msgid"].as_str().unwrap().to_owned();
    let shown = sb.run(&["dead-letters", "show", &msgid, "--store", &store]);
    assert!(shown.ok().stdout.contains("我的快递呢"), "{}", shown.stdout);
    assert!(sb.inbox(&who, &kfid).is_empty(), "nothing answered yet");

    // Sent through a bot that works: answered once, and the letter is gone.
    let retried = sb.run(&[
        "--sandbox",
        "dead-letters",
        "retry",
        &msgid,
        "--store",
        &store,
        "--exec",
        "cat > /dev/null; echo 已补发",
    ]);
    assert!(
        retried.ok().stdout.contains("handled"),
        "{}",
        retried.stdout
    );
    let inbox = sb.inbox(&who, &kfid);
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0]["text"]["content"], "已补发");
    let listed = sb.run(&[
        "--format",
        "json",
        "dead-letters",
        "list",
        "--store",
        &store,
    ]);
    assert_eq!(listed.ok().json(), serde_json::json!([]));
    // A second retry finds nothing, and says so.
    let again = sb.run(&[
        "--sandbox",
        "dead-letters",
        "retry",
        &msgid,
        "--store",
        &store,
        "--exec",
        "true",
    ]);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("no dead letter"), "{}", again.stderr);
}

/// SIGHUP with a new callback key: callbacks sent all along are accepted, with the old
/// key until the switch and with the new one after it (the old one still during its
/// grace), a key serve never had is refused, and every callback is queued once.
#[test]
fn sighup_switches_the_callback_key_without_dropping_a_callback() {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::{Arc, mpsc};
    use wecom_kf::callback::{CallbackEvent, Crypto};

    const KEY_B: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    let server = Server::start();
    let dir = server.dir.path();
    let config = |token: &str, key: &str| {
        std::fs::write(
            dir.join("config.toml"),
            format!(
                "[default]\ncorp_id = \"{}\"\nsecret = \"{}\"\ncallback_token = \"{token}\"\ncallback_aes_key = \"{key}\"\n",
                wecom_kf_emulator::DEMO_CORP_ID,
                wecom_kf_emulator::DEMO_SECRET
            ),
        )
        .unwrap();
        // The config holds secrets: owner-only, or serve warns about it.
        std::fs::set_permissions(
            dir.join("config.toml"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
    };
    config("tokenA", AES_KEY);
    let store = format!("sqlite:{}", dir.join("c.db").display());
    let mut serve = bare(dir)
        .env("WECOM_KF_BASE_URL", server.em.base_url())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--poll",
            "60",
            "--store",
            &store,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, lines_rx) = mpsc::channel::<String>();
    let stderr = BufReader::new(serve.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let base = listening_at(&lines_rx.recv_timeout(Duration::from_secs(15)).unwrap());
    let url = format!("{base}/callback");
    let (a, b) = (
        Crypto::new("tokenA", AES_KEY, wecom_kf_emulator::DEMO_CORP_ID).unwrap(),
        Crypto::new("tokenB", KEY_B, wecom_kf_emulator::DEMO_CORP_ID).unwrap(),
    );
    let sent = Arc::new(AtomicU32::new(0));
    // One callback, a sync Token of its own; its HTTP status.
    let post = {
        let (url, sent) = (url.clone(), sent.clone());
        move |crypto: &Crypto| -> u16 {
            let n = sent.fetch_add(1, Ordering::SeqCst);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                .to_string();
            let xml = CallbackEvent::kf_msg_or_event(
                wecom_kf_emulator::DEMO_CORP_ID,
                1,
                format!("sync{n}"),
                "wkNoSuchAccount",
            )
            .to_xml();
            let sealed = crypto.seal([7; 16], &now, "nonce", xml.as_bytes());
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                reqwest::Client::new()
                    .post(format!("{url}?{}", sealed.query()))
                    .body(sealed.body)
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16())
            })
        }
    };
    assert_eq!(post(&a), 200);
    assert_eq!(post(&b), 403, "the new key is not known before the reload");

    // Callbacks with the old key keep coming while the key switches.
    let done = Arc::new(AtomicBool::new(false));
    let stream = {
        let (done, post, a) = (done.clone(), post.clone(), a.clone());
        std::thread::spawn(move || {
            let mut statuses = Vec::new();
            while !done.load(Ordering::SeqCst) && statuses.len() < 500 {
                statuses.push(post(&a));
                std::thread::sleep(Duration::from_millis(5));
            }
            statuses
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    config("tokenB", KEY_B);
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let line = lines_rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("serve says it reloaded");
        assert!(!line.contains("reload refused"), "{line}");
        if line.starts_with("reloaded:") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    done.store(true, Ordering::SeqCst);
    let statuses = stream.join().unwrap();
    assert!(statuses.len() > 10, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200),
        "a callback was dropped: {statuses:?}"
    );

    assert_eq!(post(&b), 200, "the new key after the switch");
    assert_eq!(post(&a), 200, "the old key during its grace");
    let stranger = Crypto::new(
        "tokenC",
        &KEY_B.to_lowercase(),
        wecom_kf_emulator::DEMO_CORP_ID,
    )
    .unwrap();
    assert_eq!(post(&stranger), 403);

    // Nothing lost: every accepted callback was queued, once; refused: the two above.
    let metrics = get(&format!("{base}/metrics"));
    let accepted = sent.load(Ordering::SeqCst) - 2;
    assert!(
        metrics.contains(&format!("wecom_kf_callbacks_received_total {accepted}\n")),
        "{accepted} accepted:\n{metrics}"
    );
    assert!(
        metrics.contains("wecom_kf_callbacks_refused_total 2\n"),
        "{metrics}"
    );
    assert!(terminate(&mut serve).success());
}
