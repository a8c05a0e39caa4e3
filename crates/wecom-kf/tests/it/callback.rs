//! The callback receiver against the emulator's pushes: the URL check, an end-to-end
//! trip (customer message → signed push → receiver → sync_msg with the pushed Token),
//! retries and their deduplication, and every refusal kept from the handler.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::{Method, StatusCode};
use axum::routing::any;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use wecom_kf::callback::{CallbackEvent, Crypto, Receiver, ReceiverConfig};
use wecom_kf::types::kf::sync_msg::SyncMsg;
use wecom_kf_emulator::{DEMO_CORP_ID, Running};

use crate::{client, emulator};

const TOKEN: &str = "kfCallbackToken2026";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

fn crypto() -> Crypto {
    Crypto::new(TOKEN, KEY, DEMO_CORP_ID).unwrap()
}

/// Serve `app` on 127.0.0.1:0; its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn register(em: &Running, url: &str, extra: Value) -> Value {
    let mut body = json!({"url": url, "token": TOKEN, "encoding_aes_key": KEY});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    reqwest::Client::new()
        .post(format!("{}/__emulator/callback", em.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn deliveries(em: &Running) -> Vec<Value> {
    let answer: Value = reqwest::Client::new()
        .get(format!("{}/__emulator/callback/deliveries", em.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["deliveries"].as_array().unwrap().clone()
}

async fn customer_writes(em: &Running, kfid: &str, text: &str) -> String {
    let who = crate::control(em, "/__emulator/customers", &json!({})).await["external_userid"]
        .as_str()
        .unwrap()
        .to_owned();
    crate::control(
        em,
        &format!("/__emulator/customers/{who}/send"),
        &json!({"open_kfid": kfid, "msgtype": "text", "text": {"content": text}}),
    )
    .await;
    who
}

/// Wait (bounded) for the next event.
async fn next(events: &mut mpsc::Receiver<CallbackEvent>) -> CallbackEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("no callback within 10 s")
        .expect("queue open")
}

#[tokio::test]
async fn a_customer_message_reaches_the_app_through_a_signed_push_and_sync_msg() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let (receiver, mut events) = Receiver::new(crypto());
    let url = serve(receiver.router("/callback")).await;
    let answer = register(&em, &format!("{url}/callback"), json!({})).await;
    assert_eq!(answer["verified"], true, "{answer}");
    assert_eq!(receiver.stats().url_checks, 1);

    crate::control(
        &em,
        "/__emulator/customers",
        &json!({"external_userid": "wmcallbacktest"}),
    )
    .await;
    crate::control(
        &em,
        "/__emulator/customers/wmcallbacktest/send",
        &json!({"open_kfid": kfid, "msgtype": "text", "text": {"content": "在吗？"}}),
    )
    .await;
    let CallbackEvent::KfMsgOrEvent {
        open_kfid,
        token,
        to_user_name,
        ..
    } = next(&mut events).await
    else {
        panic!("not kf_msg_or_event")
    };
    assert_eq!(open_kfid, kfid);
    assert_eq!(to_user_name, DEMO_CORP_ID);
    let page = client
        .message()
        .sync_page(SyncMsg::new(&kfid).token(&token))
        .await
        .unwrap();
    assert_eq!(
        page.msg_list.last().unwrap().content.as_text(),
        Some("在吗？")
    );
    let log = deliveries(&em).await;
    assert!(
        log.iter()
            .all(|d| d["delivered"] == true && d["attempt"] == 1),
        "{log:?}"
    );
    assert_eq!(log[0]["token"], token.as_str());

    // The app's own sends are not pushed; a servicer's message or an event is.
    let before = deliveries(&em).await.len();
    client
        .message()
        .send(
            &kfid,
            "wmcallbacktest",
            wecom_kf::types::kf::message::Content::text("在的"),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        deliveries(&em).await.len(),
        before,
        "a send of the app is not pushed"
    );
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_third_attempt_and_the_log_shows_all() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let (receiver, mut events) = Receiver::new(crypto());
    let failures = Arc::new(AtomicU32::new(0));
    let flaky = {
        let failures = failures.clone();
        Router::new().route(
            "/cb",
            any(move |method: Method, RawQuery(q): RawQuery, body: Bytes| {
                let (receiver, failures) = (receiver.clone(), failures.clone());
                async move {
                    if method == Method::POST && failures.fetch_add(1, Ordering::SeqCst) < 2 {
                        return (StatusCode::INTERNAL_SERVER_ERROR, String::new());
                    }
                    let a = receiver.handle(method.as_str(), &q.unwrap_or_default(), &body);
                    (StatusCode::from_u16(a.status).unwrap(), a.body)
                }
            }),
        )
    };
    let url = serve(flaky).await;
    let answer = register(&em, &format!("{url}/cb"), json!({"retry_ms": 50})).await;
    assert_eq!(answer["verified"], true, "{answer}");
    customer_writes(&em, &kfid, "你好").await;
    let event = next(&mut events).await;
    assert!(matches!(event, CallbackEvent::KfMsgOrEvent { .. }));
    // Bounded wait for the whole log of the first delivery.
    let mut log = Vec::new();
    for _ in 0..100 {
        log = deliveries(&em).await;
        if log.iter().any(|d| d["delivered"] == true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first: Vec<&Value> = log.iter().filter(|d| d["id"] == log[0]["id"]).collect();
    let seen: Vec<(i64, Value)> = first
        .iter()
        .map(|d| (d["attempt"].as_i64().unwrap(), d["status"].clone()))
        .collect();
    assert_eq!(
        seen,
        [(1, json!(500)), (2, json!(500)), (3, json!(200))],
        "{log:?}"
    );
    assert_eq!(first[0]["error"], "HTTP 500");
}

#[tokio::test]
async fn a_retry_after_a_slow_answer_is_handed_on_once() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let (receiver, mut events) = Receiver::new(crypto());
    let calls = Arc::new(AtomicU32::new(0));
    let slow = {
        let (receiver, calls) = (receiver.clone(), calls.clone());
        Router::new().route(
            "/cb",
            any(move |method: Method, RawQuery(q): RawQuery, body: Bytes| {
                let (receiver, calls) = (receiver.clone(), calls.clone());
                async move {
                    // The receiver queues it, but the answer comes too late: WeCom retries.
                    let a = receiver.handle(method.as_str(), &q.unwrap_or_default(), &body);
                    if method == Method::POST && calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        tokio::time::sleep(Duration::from_millis(400)).await;
                    }
                    (StatusCode::from_u16(a.status).unwrap(), a.body)
                }
            }),
        )
    };
    let url = serve(slow).await;
    register(
        &em,
        &format!("{url}/cb"),
        json!({"timeout_ms": 150, "retry_ms": 10}),
    )
    .await;
    customer_writes(&em, &kfid, "你好").await;
    assert!(matches!(
        next(&mut events).await,
        CallbackEvent::KfMsgOrEvent { .. }
    ));
    // Bounded: the second attempt arrives and is deduplicated.
    for _ in 0..100 {
        if receiver.stats().deduplicated >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(receiver.stats().deduplicated, 1);
    let log = deliveries(&em).await;
    let attempts: Vec<(Value, Value)> = log
        .iter()
        .map(|d| (d["attempt"].clone(), d["error"].clone()))
        .collect();
    assert_eq!(
        attempts,
        [(json!(1), json!("timeout")), (json!(2), Value::Null)],
        "{log:?}"
    );
    assert_eq!(log[1]["delivered"], true, "{log:?}");
    // Every delivery of the setup (enter/send events) arrived; none twice.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = 0;
    while events.try_recv().is_ok() {
        extra += 1;
    }
    let distinct = log.iter().filter(|d| d["delivered"] == true).count();
    assert_eq!(extra + 1, distinct, "{log:?}");
}

#[tokio::test]
async fn the_url_check_says_exactly_what_failed_and_keeps_the_earlier_setting() {
    let em = emulator().await;
    let (receiver, _events) = Receiver::new(crypto());
    let good = serve(receiver.router("/cb")).await;
    assert_eq!(
        register(&em, &format!("{good}/cb"), json!({})).await["verified"],
        true
    );

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused = register(&em, &format!("http://127.0.0.1:{closed}/cb"), json!({})).await;
    assert!(
        refused["errmsg"]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{refused}"
    );

    let (wrong_token, _e) = Receiver::new(Crypto::new("otherToken", KEY, DEMO_CORP_ID).unwrap());
    let url = serve(wrong_token.router("/cb")).await;
    let forbidden = register(&em, &format!("{url}/cb"), json!({})).await;
    let msg = forbidden["errmsg"].as_str().unwrap();
    assert!(msg.contains("HTTP 403") && msg.contains("-40001"), "{msg}");

    let quoted = serve(Router::new().route("/cb", any(|| async { "\"123\"\n" }))).await;
    let wrong = register(&em, &format!("{quoted}/cb"), json!({})).await;
    let msg = wrong["errmsg"].as_str().unwrap();
    assert!(
        msg.contains("wrong plaintext: expected") && msg.contains("got \"\\\"123\\\"\\n\""),
        "{msg}"
    );

    let slow = serve(Router::new().route(
        "/cb",
        any(|| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            "late"
        }),
    ))
    .await;
    let late = register(&em, &format!("{slow}/cb"), json!({})).await;
    assert!(
        late["errmsg"].as_str().unwrap().contains("no answer"),
        "{late}"
    );

    let bad_key = reqwest::Client::new()
        .post(format!("{}/__emulator/callback", em.base_url()))
        .json(&json!({"url": format!("{good}/cb"), "token": TOKEN, "encoding_aes_key": "short"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(
        bad_key["errmsg"]
            .as_str()
            .unwrap()
            .contains("43 characters"),
        "{bad_key}"
    );
    // None of the failures replaced the first setting.
    let client = client(&em);
    let kfid = crate::account(&client).await;
    customer_writes(&em, &kfid, "还在吗").await;
    for _ in 0..100 {
        if receiver.stats().received > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(receiver.stats().received > 0);
}

#[test]
fn forged_stale_oversized_and_malformed_callbacks_never_reach_the_handler() {
    let crypto = crypto();
    let (receiver, mut events) = Receiver::with_config(crypto.clone(), ReceiverConfig::default());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let event = CallbackEvent::kf_msg_or_event(DEMO_CORP_ID, 1, "ENCt", "wk1");
    let seal = |ts: u64| crypto.seal([5; 16], &ts.to_string(), "n1", event.to_xml().as_bytes());
    let good = seal(now);
    let forged = Crypto::new("forger", KEY, DEMO_CORP_ID).unwrap().seal(
        [5; 16],
        &now.to_string(),
        "n1",
        event.to_xml().as_bytes(),
    );
    let stale = seal(now - 3600);
    let cases: Vec<(String, String, u16, &str)> = vec![
        (forged.query(), forged.body.clone(), 403, "-40001"),
        (stale.query(), stale.body.clone(), 403, "seconds away"),
        (good.query(), "A".repeat(10 * 1024 * 1024), 413, "-40002"),
        (good.query(), "<xml><Encrypt>".into(), 400, "-40002"),
        (
            good.query(),
            "<!DOCTYPE x [<!ENTITY e \"x\">]><xml><Encrypt>&e;</Encrypt></xml>".into(),
            400,
            "DOCTYPE",
        ),
        (
            "timestamp=1&nonce=2".into(),
            good.body.clone(),
            400,
            "msg_signature",
        ),
    ];
    for (query, body, status, needle) in &cases {
        let answer = receiver.handle("POST", query, body.as_bytes());
        assert_eq!(answer.status, *status, "{needle}: {answer:?}");
        assert!(answer.body.contains(needle), "{answer:?}");
        assert!(!answer.body.contains(TOKEN) && !answer.body.contains(KEY));
    }
    assert!(events.try_recv().is_err(), "nothing reached the handler");
    assert_eq!(receiver.stats().refused, cases.len() as u64);
    // The good one does, once, however often it comes.
    for _ in 0..3 {
        assert_eq!(
            receiver
                .handle("POST", &good.query(), good.body.as_bytes())
                .status,
            200
        );
    }
    assert_eq!(events.try_recv().unwrap(), event);
    assert!(events.try_recv().is_err());
    assert_eq!(receiver.stats().deduplicated, 2);
    // Secrets stay out of Debug.
    let debug = format!("{receiver:?}");
    assert!(!debug.contains(TOKEN) && !debug.contains(KEY), "{debug}");
}

#[test]
fn a_full_queue_answers_503_so_wecom_retries_and_nothing_is_lost() {
    let crypto = crypto();
    let mut config = ReceiverConfig::default();
    config.queue = 1;
    let (receiver, mut events) = Receiver::with_config(crypto.clone(), config);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let sealed = |n: &str| {
        let xml = CallbackEvent::kf_msg_or_event(DEMO_CORP_ID, 1, n, "wk1").to_xml();
        crypto.seal([1; 16], &now, n, xml.as_bytes())
    };
    let (a, b) = (sealed("A"), sealed("B"));
    assert_eq!(
        receiver
            .handle("POST", &a.query(), a.body.as_bytes())
            .status,
        200
    );
    assert_eq!(
        receiver
            .handle("POST", &b.query(), b.body.as_bytes())
            .status,
        503
    );
    assert!(events.try_recv().is_ok());
    // The retry of B, once there is room, is queued (it was not marked as seen).
    assert_eq!(
        receiver
            .handle("POST", &b.query(), b.body.as_bytes())
            .status,
        200
    );
    assert!(
        matches!(events.try_recv().unwrap(), CallbackEvent::KfMsgOrEvent { token, .. } if token == "B")
    );
}

/// The Token and the EncodingAESKey never reach a log line, at TRACE, whatever the
/// receiver is sent, nor an answer.
#[test]
fn no_callback_secret_in_any_log_or_answer() {
    let capture = crate::Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let crypto = crypto();
    let (receiver, _events) = Receiver::new(crypto.clone());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let xml = CallbackEvent::kf_msg_or_event(DEMO_CORP_ID, 1, "ENCt", "wk1").to_xml();
    let good = crypto.seal([2; 16], &now, "n", xml.as_bytes());
    let forged =
        Crypto::new("forger", KEY, DEMO_CORP_ID)
            .unwrap()
            .seal([2; 16], &now, "n", xml.as_bytes());
    let mut answers = Vec::new();
    for (method, query, body) in [
        ("POST", good.query(), good.body.clone()),
        ("POST", good.query(), good.body.clone()),
        ("POST", forged.query(), forged.body.clone()),
        ("POST", good.query(), "<xml>".to_owned()),
        ("GET", good.query(), String::new()),
        ("PUT", good.query(), String::new()),
    ] {
        answers.push(receiver.handle(method, &query, body.as_bytes()).body);
    }
    answers.push(format!("{receiver:?} {crypto:?}"));
    let logged = capture.text();
    assert!(
        logged.contains("callback refused"),
        "the refusals were logged: {logged}"
    );
    for text in answers.iter().chain([&logged]) {
        assert!(
            !text.contains(TOKEN) && !text.contains(KEY),
            "a secret leaked: {text}"
        );
    }
}

/// A URL check is held to the same ±300 s window as a callback: a captured POST
/// envelope replayed later as a GET (its `Encrypt` as the `echostr`, signed the same
/// way) is refused, and never answered with the decrypted XML.
#[test]
fn a_url_check_with_an_old_timestamp_is_refused_and_decrypts_nothing() {
    let crypto = crypto();
    let (receiver, _events) = Receiver::new(crypto.clone());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let fresh = crypto.url_check([3; 16], &now.to_string(), "n", "challenge-1");
    let answer = receiver.handle("GET", &fresh.encode(), b"");
    assert_eq!((answer.status, answer.body.as_str()), (200, "challenge-1"));

    let old = crypto.url_check([3; 16], &(now - 301).to_string(), "n", "challenge-2");
    let answer = receiver.handle("GET", &old.encode(), b"");
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(answer.body.contains("seconds away"), "{answer:?}");
    assert!(!answer.body.contains("challenge-2"), "{answer:?}");

    // A POST captured years ago, replayed as a GET.
    let xml = CallbackEvent::kf_msg_or_event(DEMO_CORP_ID, 1, "SYNCTOKEN", "wk1").to_xml();
    let captured = crypto.seal([4; 16], "1600000000", "n", xml.as_bytes());
    let replay = format!(
        "{}&echostr={}",
        captured.query(),
        urlencoding(&captured.encrypt)
    );
    let answer = receiver.handle("GET", &replay, b"");
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(
        !answer.body.contains("SYNCTOKEN"),
        "the sync Token leaked: {answer:?}"
    );
    assert_eq!(receiver.stats().url_checks, 1);
    assert_eq!(receiver.stats().refused, 2);
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `callback::serve` closes a connection whose client sends its headers too slowly, or
/// sits idle after a request (axum::serve kept both open for ever), and a body that
/// trickles is answered 408.
#[tokio::test]
async fn serve_closes_slow_and_idle_connections() {
    use tokio::io::AsyncWriteExt as _;
    use wecom_kf::callback::{ServeLimits, serve};

    let mut config = ReceiverConfig::default();
    config.body_timeout = Duration::from_millis(300);
    let (receiver, _events) = Receiver::with_config(crypto(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut limits = ServeLimits::default();
    limits.header_read_timeout = Duration::from_millis(300);
    tokio::spawn(serve(
        listener,
        receiver.router("/callback"),
        limits,
        std::future::pending(),
    ));

    // Half a request line, then nothing.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /callback?x HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    assert!(
        until_closed(&mut slow).await.is_some(),
        "slow headers kept open"
    );

    // A whole request, answered, then an idle keep-alive connection.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /callback HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let answered = until_closed(&mut idle)
        .await
        .expect("an idle connection kept open");
    assert!(answered.starts_with("HTTP/1.1 400"), "{answered}");

    // Headers in time, the body never.
    let mut trickle = tokio::net::TcpStream::connect(addr).await.unwrap();
    trickle
        .write_all(b"POST /callback?x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n<xml>")
        .await
        .unwrap();
    let answered = until_closed(&mut trickle)
        .await
        .expect("a trickled body kept open");
    assert!(answered.starts_with("HTTP/1.1 408"), "{answered}");
}

// Read until the server closes; what it sent, or None if it kept the line open.
async fn until_closed(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, tokio::io::AsyncReadExt::read(stream, &mut buf))
            .await
        {
            Ok(Ok(0) | Err(_)) => return Some(String::from_utf8_lossy(&seen).into_owned()),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
}
