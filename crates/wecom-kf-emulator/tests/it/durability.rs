//! The binary: its interface, and durability across `kill -9`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::Api;

struct Emulator {
    child: Child,
    base: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &str, extra: &[&str]) -> Emulator {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wecom-kf-emulator"))
        .args(["--addr", "127.0.0.1:0", "--db", db])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("emulator binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "binds 127.0.0.1 by default: {base}"
    );
    Emulator { child, base }
}

#[tokio::test]
async fn every_acknowledged_add_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kf.db");
    let db = db.to_str().unwrap();
    let mut emulator = start(db, &[]);
    let api = Api::remote(&emulator.base, None).await;
    let media = api.upload_png().await;
    let mut acknowledged = Vec::new();
    for i in 0..40 {
        // `add` asserts the success it was answered.
        acknowledged.push(api.add(&format!("持久{i}"), &media).await);
    }
    // kill -9 right after the last success.
    emulator.child.kill().unwrap();
    emulator.child.wait().unwrap();

    let restarted = start(db, &[]);
    // The token was persisted too: the same one still works.
    let again = Api::remote(&restarted.base, Some(&api.token)).await;
    let listed: Vec<_> = again
        .list()
        .await
        .iter()
        .map(|a| a["open_kfid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, acknowledged);
}

#[tokio::test]
async fn messages_sends_and_cursors_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kf.db");
    let db = db.to_str().unwrap();
    let mut emulator = start(db, &[]);
    let api = Api::remote(&emulator.base, None).await;
    let kfid = api.add("持久", &api.upload_png().await).await;
    let who = api
        .post_json("/__emulator/customers", &json!({"nickname": "客户"}))
        .await["external_userid"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut said = Vec::new();
    let mut answered = Vec::new();
    for i in 0..20 {
        let m = api
            .post_json(
                &format!("/__emulator/customers/{who}/send"),
                &json!({"open_kfid": kfid, "msgtype": "text", "text": {"content": format!("问{i}")}}),
            )
            .await;
        said.push(m["msgid"].as_str().unwrap().to_owned());
        let sent = api
            .post_json(
                "/cgi-bin/kf/send_msg",
                &json!({"touser": who, "open_kfid": kfid, "msgid": format!("answer-{i}"), "msgtype": "text", "text": {"content": format!("答{i}")}}),
            )
            .await;
        assert_eq!(sent["errcode"], 0, "{sent}");
        answered.push(format!("answer-{i}"));
    }
    // A cursor from the middle, and what comes after it.
    let page = api
        .post_json(
            "/cgi-bin/kf/sync_msg",
            &json!({"open_kfid": kfid, "limit": 15}),
        )
        .await;
    let cursor = page["next_cursor"].clone();
    let after = api
        .post_json(
            "/cgi-bin/kf/sync_msg",
            &json!({"open_kfid": kfid, "cursor": cursor}),
        )
        .await;
    emulator.child.kill().unwrap();
    emulator.child.wait().unwrap();

    let restarted = start(db, &[]);
    let again = Api::remote(&restarted.base, Some(&api.token)).await;
    let resumed = again
        .post_json(
            "/cgi-bin/kf/sync_msg",
            &json!({"open_kfid": kfid, "cursor": cursor}),
        )
        .await;
    assert_eq!(
        resumed["msg_list"], after["msg_list"],
        "the cursor resumes exactly"
    );
    assert_eq!(resumed["next_cursor"], after["next_cursor"]);
    let everything = again
        .post_json("/cgi-bin/kf/sync_msg", &json!({"open_kfid": kfid}))
        .await;
    let ids: Vec<&str> = everything["msg_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["msgid"].as_str().unwrap())
        .collect();
    assert_eq!(ids, said, "every acknowledged customer message, in order");
    let inbox = again
        .get(&format!(
            "/__emulator/customers/{who}/inbox?open_kfid={kfid}"
        ))
        .await;
    let delivered: Vec<&str> = inbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["msgid"].as_str().unwrap())
        .collect();
    assert_eq!(delivered, answered, "every acknowledged send");
    // The msgids survived too: a retry of the last send is still told it was sent.
    let retry = again
        .post_json(
            "/cgi-bin/kf/send_msg",
            &json!({"touser": who, "open_kfid": kfid, "msgid": "answer-19", "msgtype": "text", "text": {"content": "答19"}}),
        )
        .await;
    assert_eq!(retry["errcode"], 40058, "{retry}");
}

#[test]
fn the_binary_documents_its_interface() {
    let out = Command::new(env!("CARGO_BIN_EXE_wecom-kf-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--addr",
        "--db",
        "--corp-id",
        "--secret",
        "--unverified",
        "--token-ttl",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_wecom-kf-emulator"))
        .args(["--addr", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn a_callback_url_that_fails_its_check_stops_the_start_saying_why() {
    let out = Command::new(env!("CARGO_BIN_EXE_wecom-kf-emulator"))
        .args([
            "--callback-url",
            "http://127.0.0.1:1/callback",
            "--callback-token",
            "tok",
            "--callback-aes-key",
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("--callback-url") && stderr.contains("cannot connect"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"),
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_wecom-kf-emulator"))
        .args([
            "--callback-url",
            "http://127.0.0.1:1/callback",
            "--callback-token",
            "tok",
            "--callback-aes-key",
            "short",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("43 characters"));
}

#[tokio::test]
async fn unverified_and_token_ttl_flags() {
    let http = reqwest::Client::new();
    let emulator = start(
        ":memory:",
        &[
            "--unverified",
            "--token-ttl",
            "60",
            "--corp-id",
            "wwflags",
            "--secret",
            "S1",
        ],
    );
    let r: Value = http
        .get(format!(
            "{}/cgi-bin/gettoken?corpid=wwflags&corpsecret=S1",
            emulator.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["expires_in"], 60);
}

#[tokio::test]
async fn the_second_line_gives_the_consoles_address() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wecom-kf-emulator"))
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let console = second.trim().strip_prefix("console: ").unwrap().to_owned();
    assert_eq!(console, format!("{base}/__emulator/console"));
    let page = reqwest::get(&console).await.unwrap();
    assert_eq!(page.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
}

const CALLBACK_TOKEN: &str = "QDG6eK";
const CALLBACK_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

/// A callback receiver on loopback: answers the URL check with the echostr's plaintext
/// and counts the POSTs.
async fn receiver() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::extract::{Query, State};
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let crypto = wecom_kf_types::callback::Crypto::new(
        CALLBACK_TOKEN,
        CALLBACK_KEY,
        wecom_kf_emulator::DEMO_CORP_ID,
    )
    .unwrap();
    let posts = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .route(
            "/cb",
            axum::routing::get(|Query(q): Query<HashMap<String, String>>| async move {
                String::from_utf8(crypto.decrypt(&q["echostr"]).unwrap()).unwrap()
            })
            .post(|State(posts): State<Arc<AtomicUsize>>| async move {
                posts.fetch_add(1, Ordering::SeqCst);
                "success"
            }),
        )
        .with_state(posts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, posts)
}

#[tokio::test]
async fn the_registered_callback_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kf.db");
    let db = db.to_str().unwrap();
    let (url, posts) = receiver().await;
    let mut emulator = start(db, &[]);
    let api = Api::remote(&emulator.base, None).await;
    let registered = api
        .post_json(
            "/__emulator/callback",
            &json!({"url": url, "token": CALLBACK_TOKEN, "encoding_aes_key": CALLBACK_KEY}),
        )
        .await;
    assert_eq!(registered["verified"], true, "{registered}");
    let kfid = api.add("回调", &api.upload_png().await).await;
    let who = api.post_json("/__emulator/customers", &json!({})).await["external_userid"]
        .as_str()
        .unwrap()
        .to_owned();
    emulator.child.kill().unwrap();
    emulator.child.wait().unwrap();

    let restarted = start(db, &[]);
    let again = Api::remote(&restarted.base, Some(&api.token)).await;
    let before = posts.load(std::sync::atomic::Ordering::SeqCst);
    let sent = again
        .post_json(
            &format!("/__emulator/customers/{who}/send"),
            &json!({"open_kfid": kfid, "msgtype": "text", "text": {"content": "还在吗"}}),
        )
        .await;
    assert_eq!(sent["errcode"], 0, "{sent}");
    // The restarted emulator pushes to the URL set before the kill.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while posts.load(std::sync::atomic::Ordering::SeqCst) == before {
        assert!(
            std::time::Instant::now() < deadline,
            "no callback after the restart"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let snapshot = again.get("/__emulator/console/snapshot").await;
    assert_eq!(snapshot["callback_url"], url.as_str());
    // Cleared, it stays cleared.
    let cleared: Value = again
        .http
        .delete(again.url("/__emulator/callback"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["errcode"], 0);
    drop(restarted);
    let third = start(db, &[]);
    let last = Api::remote(&third.base, Some(&api.token)).await;
    let snapshot = last.get("/__emulator/console/snapshot").await;
    assert_eq!(snapshot["callback_url"], Value::Null);
}

#[tokio::test]
async fn customer_media_survives_kill_9() {
    use crate::media::{customer, customer_upload, get, pattern};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kf.db");
    let db = db.to_str().unwrap();
    let mut emulator = start(db, &[]);
    let api = Api::remote(&emulator.base, None).await;
    let who = customer(&api).await;
    let mut acknowledged = Vec::new();
    for (i, len) in [10, 1_000, 3 * 1024 * 1024].into_iter().enumerate() {
        let data = pattern(len + i);
        let up = customer_upload(
            &api,
            &who,
            &format!("f{i}.bin"),
            "application/pdf",
            data.clone(),
        )
        .await;
        assert_eq!(up["errcode"], 0, "{up}");
        acknowledged.push((up["media_id"].as_str().unwrap().to_owned(), data));
    }
    emulator.child.kill().unwrap();
    emulator.child.wait().unwrap();

    let restarted = start(db, &[]);
    let again = Api::remote(&restarted.base, Some(&api.token)).await;
    for (media_id, data) in acknowledged {
        let served = get(&again, &media_id, None).await;
        assert_eq!(served.status(), 200);
        assert!(served.bytes().await.unwrap() == data, "{media_id} survived");
    }
}
