//! The client against the in-process emulator (127.0.0.1, port 0).

// Scenario tests read top to bottom; splitting them would hide the story.
#![allow(clippy::too_many_lines)]

mod accounts;
#[cfg(feature = "callback")]
mod callback;
#[cfg(feature = "consumer")]
mod consumer;
#[cfg(feature = "consumer")]
mod dead_letters;
mod errors;
mod fault_matrix;
mod faults;
#[cfg(feature = "consumer")]
mod fleet;
mod knowledge;
#[cfg(feature = "consumer")]
mod lanes;
mod media;
mod messages;
#[cfg(all(unix, feature = "consumer"))]
mod private_files;
#[cfg(feature = "redis")]
mod redis;
mod secrets;
mod servicers;
mod sessions;
mod soak;
mod tokens;

use std::time::Duration;

use wecom_kf::{Client, ClientBuilder, RetryPolicy};
use wecom_kf_emulator::{Config, DEMO_CORP_ID, DEMO_SECRET, Running, spawn};

/// A 16×16 PNG.
pub(crate) const PNG: &[u8] = wecom_kf_emulator::DEFAULT_AVATAR_PNG;

pub(crate) async fn emulator() -> Running {
    emulator_with(Config::default()).await
}

pub(crate) async fn emulator_with(config: Config) -> Running {
    spawn(config).await.expect("emulator starts")
}

/// Fast retries so fault tests stay quick.
pub(crate) fn builder(em: &Running) -> ClientBuilder {
    Client::builder()
        .base_url(em.base_url())
        .corp_id(DEMO_CORP_ID)
        .secret(DEMO_SECRET)
        .request_timeout(Duration::from_secs(5))
        .retry_policy(
            RetryPolicy::attempts(3)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(20)),
        )
}

pub(crate) fn client(em: &Running) -> Client {
    builder(em).build().expect("client builds")
}

/// Upload the test PNG; returns its media_id.
pub(crate) async fn avatar(client: &Client) -> String {
    client
        .media()
        .upload(
            wecom_kf::types::media::MediaType::Image,
            wecom_kf::media::Media::bytes("avatar.png", PNG),
        )
        .await
        .expect("upload")
        .media_id
}

/// POST to the emulator's control plane; panics unless it answers errcode 0.
pub(crate) async fn control(
    em: &Running,
    path: &str,
    body: &serde_json::Value,
) -> serde_json::Value {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}{path}", em.base_url()))
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errcode"], 0, "{path}: {answer}");
    answer
}

/// A kf account "客服" with the test avatar; its open_kfid.
pub(crate) async fn account(client: &Client) -> String {
    client
        .account()
        .add("客服", avatar(client).await)
        .await
        .expect("account added")
}

/// A customer who wrote to `open_kfid` (session in state 0); returns their id.
pub(crate) async fn customer_who_wrote(em: &Running, open_kfid: &str) -> String {
    let answer = control(
        em,
        "/__emulator/customers",
        &serde_json::json!({"nickname": "客户"}),
    )
    .await;
    let who = answer["external_userid"].as_str().unwrap().to_owned();
    control(
        em,
        &format!("/__emulator/customers/{who}/send"),
        &serde_json::json!({"open_kfid": open_kfid, "msgtype": "text", "text": {"content": "你好"}}),
    )
    .await;
    who
}

/// What the customer saw from the account (the emulator's inbox), oldest first.
pub(crate) async fn inbox(em: &Running, open_kfid: &str, who: &str) -> Vec<serde_json::Value> {
    let answer: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/__emulator/customers/{who}/inbox?open_kfid={open_kfid}",
            em.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["messages"].as_array().cloned().unwrap_or_default()
}

/// How many calls the emulator saw on `path`.
pub(crate) fn calls(em: &Running, path: &str) -> u64 {
    em.emulator()
        .stats()
        .requests
        .get(path)
        .copied()
        .unwrap_or(0)
}

/// Calls on every path.
pub(crate) fn total_calls(em: &Running) -> u64 {
    em.emulator().stats().requests.values().sum()
}

/// A `tracing` writer that keeps everything written, for scanning logs.
#[derive(Clone, Default)]
pub(crate) struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Capture {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The customer uploads `data` from WeChat and sends it to `open_kfid` as a message
/// of its type; returns the media id.
pub(crate) async fn customer_sends_media(
    em: &Running,
    open_kfid: &str,
    who: &str,
    filename: &str,
    content_type: &str,
    data: Vec<u8>,
) -> String {
    let part = reqwest::multipart::Part::bytes(data)
        .file_name(filename.to_owned())
        .mime_str(content_type)
        .unwrap();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/__emulator/customers/{who}/media",
            em.base_url()
        ))
        .multipart(reqwest::multipart::Form::new().part("media", part))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errcode"], 0, "{answer}");
    let media_id = answer["media_id"].as_str().unwrap().to_owned();
    let kind = answer["type"].as_str().unwrap();
    control(
        em,
        &format!("/__emulator/customers/{who}/send"),
        &serde_json::json!({"open_kfid": open_kfid, "msgtype": kind, kind: {"media_id": media_id}}),
    )
    .await;
    media_id
}

/// Bytes that differ at every offset, so a misplaced chunk shows.
pub(crate) fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from((i * 7 + i / 251) % 256).unwrap())
        .collect()
}
