//! `wecom-kf serve` in the sandbox: a customer writes, the consumer hands the message to
//! `--exec`, its stdout goes back to the customer, once; /healthz and /metrics answer;
//! SIGTERM stops it cleanly.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::terminate;
use crate::sessions::Sandbox;
use crate::{bare, get, metrics_with, sandbox_serve, sqlite_store};

/// The customer's inbox once it holds `at_least` messages, or after 15 s (the consumer
/// polls every second).
fn replies(sb: &Sandbox, who: &str, kfid: &str, at_least: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let inbox = sb.inbox(who, kfid);
        if inbox.len() >= at_least || Instant::now() > deadline {
            return inbox;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn serve_answers_each_customer_message_once_through_exec_and_stops_on_sigterm() {
    let (sb, kfid, who) = Sandbox::with_customer(&["--nickname", "小明"]);
    let (mut serve, base) = sandbox_serve(
        sb.0.path(),
        &sqlite_store(sb.0.path()),
        &["--exec", "cat > /dev/null; echo pong"],
    );
    assert_eq!(get(&format!("{base}/healthz")), "ok");

    sb.line(&["sandbox", "say", &who, &kfid, "你好"]);
    sb.line(&["sandbox", "say", &who, &kfid, "在吗"]);
    let replies = replies(&sb, &who, &kfid, 2);
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert!(replies.iter().all(|m| m["text"]["content"] == "pong"));
    let metrics = get(&format!("{base}/metrics"));
    assert!(
        metrics.contains("wecom_kf_messages_handled_total 2"),
        "{metrics}"
    );
    assert!(metrics.contains("wecom_kf_replies_total 2"), "{metrics}");

    let status = terminate(&mut serve);
    assert!(status.success(), "{status}");
    // Nothing twice after more polls: exactly one reply per message.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sb.inbox(&who, &kfid).len(), 2);
}

#[test]
fn sandbox_chat_goes_through_the_whole_loop_and_demo_ends_in_a_conversation() {
    let sb = Sandbox::new();
    let demo = sb.run(&["sandbox", "demo"]);
    demo.ok();
    assert!(
        demo.stdout.contains("[7/7] a customer writes"),
        "{}",
        demo.stdout
    );
    assert!(
        demo.stdout
            .contains("客服: 你说的是：你好，我想查一下我的订单"),
        "{}",
        demo.stdout
    );
    let mut chat = bare(sb.0.path())
        .args(["sandbox", "chat", "--exec", "cat > /dev/null; echo 收到"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = chat.stdin.take().unwrap();
        stdin.write_all("在吗\n退货怎么办\n".as_bytes()).unwrap();
    }
    let out = chat.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("客服: 收到").count(), 2, "{stdout}");
    assert!(stdout.contains("[session: 1 bot"), "{stdout}");
}

#[test]
fn serve_posts_to_a_webhook_named_in_the_config_file_and_sends_its_json_reply() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let url = {
        let hits = hits.clone();
        let app = axum::Router::new().route(
            "/kf",
            axum::routing::post(move |body: String| {
                let hits = hits.clone();
                async move {
                    let message: serde_json::Value = serde_json::from_str(&body).unwrap();
                    // The first delivery fails: the consumer retries it.
                    if hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new());
                    }
                    let text = message["text"]["content"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    (
                        axum::http::StatusCode::OK,
                        serde_json::json!({ "reply": format!("webhook: {text}") }).to_string(),
                    )
                }
            }),
        );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/kf", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await });
        url
    };
    let (sb, kfid, who) = Sandbox::with_customer(&[]);
    sb.line(&["sandbox", "say", &who, &kfid, "你好"]);
    // Its settings from the config file's [default.serve] table, and one variable.
    std::fs::write(
        sb.0.path().join("config.toml"),
        format!(
            "[default.serve]\nlisten = \"127.0.0.1:0\"\nwebhook = \"{url}\"\nstore = \"sqlite:{}\"\npoll = 30\n",
            sb.0.path().join("consumer.db").display()
        ),
    )
    .unwrap();
    let mut serve = bare(sb.0.path())
        .env("WECOM_KF_SERVE_POLL", "1")
        .args(["--sandbox", "serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let replies = replies(&sb, &who, &kfid, 1);
    assert!(terminate(&mut serve).success());
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["text"]["content"], "webhook: 你好");
    assert!(
        hits.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the failed delivery was retried"
    );
}

#[test]
fn serve_keeps_its_state_in_redis_for_a_fleet() {
    let Some(redis) = wecom_kf_testkit::RedisServer::start() else {
        return;
    };
    let (sb, kfid, who) = Sandbox::with_customer(&[]);
    sb.line(&["sandbox", "say", &who, &kfid, "你好"]);
    let (mut serve, _) = sandbox_serve(
        sb.0.path(),
        &redis.url(),
        &["--exec", "cat > /dev/null; echo pong"],
    );
    let replies = replies(&sb, &who, &kfid, 1);
    assert!(terminate(&mut serve).success());
    assert_eq!(replies.len(), 1, "{replies:?}");
    let keys: Vec<String> = redis.dump().into_iter().map(|(k, _)| k).collect();
    assert!(
        keys.iter().any(|k| k.starts_with("wecom-kf:cursor:")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("wecom-kf:handled:")),
        "{keys:?}"
    );
}

#[test]
fn a_hung_exec_is_killed_with_its_process_group_at_the_handler_timeout() {
    let (sb, kfid, who) = Sandbox::with_customer(&[]);
    let mark = sb.0.path().join("grandchild-ran");
    // A bot that hangs, and leaves a grandchild that would write later.
    let bot = format!(
        "cat > /dev/null; (sleep 2; touch {}) & sleep 60",
        mark.display()
    );
    let (mut serve, base) = sandbox_serve(
        sb.0.path(),
        &sqlite_store(sb.0.path()),
        &[
            "--handler-timeout",
            "1",
            "--lease",
            "3",
            "--max-attempts",
            "1",
            "--exec",
            &bot,
        ],
    );
    sb.line(&["sandbox", "say", &who, &kfid, "你好"]);
    let metrics = metrics_with(&base, "wecom_kf_dead_letters_total 1");
    assert!(
        metrics.contains("wecom_kf_dead_letters_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wecom_kf_handler_failures_total 1"),
        "{metrics}"
    );
    // Past the grandchild's 2 s: it was killed with the group.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        !mark.exists(),
        "the handler's process group outlived the timeout"
    );
    terminate(&mut serve);
}

#[test]
fn an_exec_that_writes_too_much_fails_and_sends_nothing() {
    let (sb, kfid, who) = Sandbox::with_customer(&[]);
    let (mut serve, base) = sandbox_serve(
        sb.0.path(),
        &sqlite_store(sb.0.path()),
        &[
            "--max-attempts",
            "1",
            "--exec",
            "cat > /dev/null; head -c 70000 /dev/zero | tr '\\0' a",
        ],
    );
    sb.line(&["sandbox", "say", &who, &kfid, "你好"]);
    let metrics = metrics_with(&base, "wecom_kf_dead_letters_total 1");
    assert!(
        metrics.contains("wecom_kf_dead_letters_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("wecom_kf_replies_total 0"), "{metrics}");
    terminate(&mut serve);
    assert!(sb.inbox(&who, &kfid).is_empty());
}

#[test]
fn a_webhook_redirect_is_not_followed_and_an_answer_that_is_not_json_is_retried() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (hits, elsewhere) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let url = {
        let (hits, elsewhere) = (hits.clone(), elsewhere.clone());
        let app = axum::Router::new()
            .route(
                "/kf",
                axum::routing::post(move || {
                    let hits = hits.clone();
                    async move {
                        match hits.fetch_add(1, Ordering::SeqCst) {
                            // Elsewhere would get the customer's message again.
                            0 => (
                                axum::http::StatusCode::TEMPORARY_REDIRECT,
                                [("location", "/elsewhere")],
                                String::new(),
                            ),
                            // A body the bot meant as an answer, broken.
                            1 => (
                                axum::http::StatusCode::OK,
                                [("content-type", "application/json")],
                                "{\"reply\": \"cut off".to_owned(),
                            ),
                            _ => (
                                axum::http::StatusCode::OK,
                                [("content-type", "application/json")],
                                "{\"reply\": \"ok\"}".to_owned(),
                            ),
                        }
                    }
                }),
            )
            .route(
                "/elsewhere",
                axum::routing::post(move || {
                    elsewhere.fetch_add(1, Ordering::SeqCst);
                    async { "{\"reply\": \"from elsewhere\"}" }
                }),
            );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/kf", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await });
        url
    };
    let (sb, kfid, who) = Sandbox::with_customer(&[]);
    let (mut serve, base) = sandbox_serve(
        sb.0.path(),
        &sqlite_store(sb.0.path()),
        &["--webhook", &url],
    );
    sb.line(&["sandbox", "say", &who, &kfid, "你好"]);
    let replies = replies(&sb, &who, &kfid, 1);
    let metrics = get(&format!("{base}/metrics"));
    terminate(&mut serve);
    assert_eq!(
        elsewhere.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["text"]["content"], "ok");
    assert!(
        metrics.contains("wecom_kf_handler_failures_total 2"),
        "{metrics}"
    );
}

#[test]
fn batch_mode_gives_exec_a_burst_as_a_json_array_and_answers_it_once() {
    let (sb, kfid, who) = Sandbox::with_customer(&[]);
    for text in ["你好", "在吗", "我想问订单"] {
        sb.line(&["sandbox", "say", &who, &kfid, text]);
    }
    // The bot answers with how many messages it was given and the first one's text.
    let bot = "jq -r '\"\\(length) \\(.[0].text.content)\"'";
    let (mut serve, base) = sandbox_serve(
        sb.0.path(),
        &sqlite_store(sb.0.path()),
        &["--batch", "--exec", bot],
    );
    let replies = replies(&sb, &who, &kfid, 1);
    let metrics = metrics_with(&base, "wecom_kf_messages_handled_total 3");
    terminate(&mut serve);
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["text"]["content"], "3 你好");
    assert!(
        metrics.contains("wecom_kf_messages_handled_total 3"),
        "{metrics}"
    );
}

/// `serve --media-dir`: the handler gets a path whose bytes are what the customer sent,
/// and a picture it answers with (`{"messages":[{"msgtype":"image","path":…}]}` on
/// stdout) is uploaded and reaches the customer.
#[test]
fn serve_media_dir_hands_the_handler_the_file_and_sends_its_picture() {
    let (sb, kfid, who) = Sandbox::with_customer(&["--nickname", "小明"]);
    let dir = sb.0.path();
    let sent = dir.join("截图.png");
    std::fs::write(&sent, crate::PNG).unwrap();
    let media_dir = dir.join("media");
    let copy = dir.join("handler-saw.png");
    let answer = dir.join("answer.png");
    std::fs::write(&answer, crate::PNG).unwrap();
    // The handler copies the file it was given and answers with a picture.
    let handler = format!(
        "p=$(sed -n 's/.*\"path\":\"\\([^\"]*\\)\".*/\\1/p'); cp \"$p\" {copy}; echo '{{\"messages\":[{{\"msgtype\":\"image\",\"path\":\"{answer}\"}}]}}'",
        copy = copy.display(),
        answer = answer.display()
    );
    let (mut serve, _) = sandbox_serve(
        dir,
        &sqlite_store(dir),
        &[
            "--media-dir",
            media_dir.to_str().unwrap(),
            "--exec",
            &handler,
        ],
    );
    sb.line(&[
        "sandbox",
        "say",
        &who,
        &kfid,
        "--image",
        sent.to_str().unwrap(),
    ]);
    let replies = replies(&sb, &who, &kfid, 1);
    terminate(&mut serve);
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["msgtype"], "image", "{replies:?}");
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        crate::PNG,
        "the handler's path has the customer's bytes"
    );
}
