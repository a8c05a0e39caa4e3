//! The control plane: stats, reset, revoke, faults, clock.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Api, assert_err};

async fn control(api: &Api, method: reqwest::Method, path: &str, body: Value) -> Value {
    let r = api
        .http
        .request(method, api.url(path))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn fault(api: &Api, rule: Value) {
    assert_eq!(
        control(api, reqwest::Method::POST, "/__emulator/faults", rule).await["errcode"],
        0
    );
}

#[tokio::test]
async fn stats_count_requests_per_endpoint_and_reset_clears_everything() {
    let api = Api::new().await;
    let media = api.upload_png().await;
    api.add("a", &media).await;
    api.list().await;
    api.list().await;
    let stats = api.get("/__emulator/stats").await;
    assert_eq!(stats["requests"]["/cgi-bin/gettoken"], 1);
    assert_eq!(stats["requests"]["/cgi-bin/media/upload"], 1);
    assert_eq!(stats["requests"]["/cgi-bin/kf/account/add"], 1);
    assert_eq!(stats["requests"]["/cgi-bin/kf/account/list"], 2);
    assert_eq!(stats["accounts"], 1);
    control(&api, reqwest::Method::POST, "/__emulator/reset", json!({})).await;
    let stats = api.get("/__emulator/stats").await;
    assert_eq!(stats["requests"], json!({}));
    assert_eq!(stats["accounts"], 0);
    assert_err(&api.post("/cgi-bin/kf/account/list", "{}").await, 40014);
}

#[tokio::test]
async fn revoking_tokens_early() {
    let api = Api::new().await;
    let r = control(
        &api,
        reqwest::Method::POST,
        "/__emulator/tokens/revoke",
        json!({"access_token": api.token}),
    )
    .await;
    assert_eq!(r["revoked"], 1);
    assert_err(&api.post("/cgi-bin/kf/account/list", "{}").await, 40014);
}

#[tokio::test]
async fn injected_errcodes_by_count_and_rate() {
    let api = Api::new().await;
    fault(&api, json!({"kind": "errcode", "errcode": -1, "endpoint": "/cgi-bin/kf/account/list", "count": 2})).await;
    assert_err(&api.post("/cgi-bin/kf/account/list", "{}").await, -1);
    assert_err(&api.post("/cgi-bin/kf/account/list", "{}").await, -1);
    assert_eq!(
        api.post("/cgi-bin/kf/account/list", "{}").await["errcode"],
        0,
        "only the next 2"
    );
    fault(
        &api,
        json!({"kind": "errcode", "errcode": 45009, "rate": 1.0}),
    )
    .await;
    assert_err(&api.post("/cgi-bin/kf/account/list", "{}").await, 45009);
    assert_eq!(
        api.get("/__emulator/faults").await["faults"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    control(
        &api,
        reqwest::Method::DELETE,
        "/__emulator/faults",
        json!({}),
    )
    .await;
    assert_eq!(
        api.post("/cgi-bin/kf/account/list", "{}").await["errcode"],
        0
    );
    fault(&api, json!({"kind": "errcode", "errcode": -1, "rate": 0.5})).await;
    let mut failed = 0;
    for _ in 0..200 {
        if api.post("/cgi-bin/kf/account/list", "{}").await["errcode"] == -1 {
            failed += 1;
        }
    }
    assert!(
        (40..=160).contains(&failed),
        "about half of 200 calls fail, got {failed}"
    );
    assert!(
        api.get("/__emulator/stats").await["faults_injected"]["errcode"]
            .as_u64()
            .unwrap()
            >= 40
    );
}

#[tokio::test]
async fn transport_faults() {
    let api = Api::new().await;
    let media = api.upload_png().await;
    let add = api.url(&format!(
        "/cgi-bin/kf/account/add?access_token={}",
        api.token
    ));
    let body = |name: &str| json!({"name": name, "media_id": media}).to_string();

    fault(
        &api,
        json!({"kind": "http502", "endpoint": "/cgi-bin/kf/account/add", "count": 1}),
    )
    .await;
    let r = api.http.post(&add).body(body("a")).send().await.unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().contains("<html>"));

    fault(
        &api,
        json!({"kind": "drop_before_commit", "endpoint": "/cgi-bin/kf/account/add", "count": 1}),
    )
    .await;
    assert!(
        api.http.post(&add).body(body("b")).send().await.is_err(),
        "connection dropped"
    );
    fault(
        &api,
        json!({"kind": "drop_after_commit", "endpoint": "/cgi-bin/kf/account/add", "count": 1}),
    )
    .await;
    assert!(
        api.http.post(&add).body(body("c")).send().await.is_err(),
        "connection dropped"
    );
    let names: Vec<_> = api
        .list()
        .await
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        ["c"],
        "dropped before: nothing; dropped after: committed"
    );

    fault(
        &api,
        json!({"kind": "truncate", "endpoint": "/cgi-bin/kf/account/list", "count": 1}),
    )
    .await;
    let text = api.post_text("/cgi-bin/kf/account/list", "{}").await;
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "truncated: {text}"
    );
    assert!(text.starts_with("{\"errcode\":0"));

    fault(
        &api,
        json!({"kind": "non_json", "endpoint": "/cgi-bin/kf/account/list", "count": 1}),
    )
    .await;
    let text = api.post_text("/cgi-bin/kf/account/list", "{}").await;
    assert!(text.starts_with("<html>"));

    fault(
        &api,
        json!({"kind": "oversized", "endpoint": "/cgi-bin/kf/account/list", "count": 1}),
    )
    .await;
    let bytes = api
        .http
        .post(api.url(&format!(
            "/cgi-bin/kf/account/list?access_token={}",
            api.token
        )))
        .body("{}")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(bytes.len() > 8 * 1024 * 1024);
    assert!(serde_json::from_slice::<Value>(&bytes).is_ok());

    fault(
        &api,
        json!({"kind": "latency", "ms": 300, "endpoint": "/cgi-bin/kf/account/list", "count": 1}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(
        api.post("/cgi-bin/kf/account/list", "{}").await["errcode"],
        0
    );
    assert!(started.elapsed() >= Duration::from_millis(300));

    let bad = control(
        &api,
        reqwest::Method::POST,
        "/__emulator/faults",
        json!({"kind": "meteor"}),
    )
    .await;
    assert_eq!(bad["errcode"], 40058);
}

#[tokio::test]
async fn unknown_paths_answer_json() {
    // Issue 11: not 48002, which on the real service means "this app may not call it".
    let api = Api::new().await;
    assert_err(&api.post("/cgi-bin/kf/nothing_here", "{}").await, 404);
}
