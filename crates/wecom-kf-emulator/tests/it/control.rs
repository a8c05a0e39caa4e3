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

/// The routes of docs/emulator-control.md's "Every route" table.
fn documented_routes() -> std::collections::BTreeSet<(String, String)> {
    let doc = include_str!("../../../../docs/emulator-control.md");
    let table = doc.split("## Every route").nth(1).unwrap();
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (method, path) = (cells.get(1)?, cells.get(2)?);
            let method = method.strip_prefix('`')?.strip_suffix('`')?;
            let path = path.strip_prefix('`')?.strip_suffix('`')?;
            Some((method.to_owned(), path.to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn every_control_route_is_a_documented_command_served_over_http() {
    let commands: std::collections::BTreeSet<(String, String)> =
        wecom_kf_emulator::control_routes()
            .map(|(m, p)| (m.to_owned(), p.to_owned()))
            .collect();
    assert_eq!(
        commands.len(),
        wecom_kf_emulator::control_routes().count(),
        "a route is listed twice"
    );
    assert_eq!(
        commands,
        documented_routes(),
        "docs/emulator-control.md and the commands differ"
    );
    // Each command's route answers as the command, not as a path nobody serves.
    let api = Api::new().await;
    for (method, path) in &commands {
        let concrete: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        if path.ends_with("/live") {
            continue; // a stream that never ends; its route is served by the console test
        }
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = api
            .http
            .request(method.clone(), api.url(&concrete))
            .send()
            .await
            .unwrap();
        assert_ne!(r.status(), 405, "{method} {path}");
        let text = r.text().await.unwrap();
        assert!(
            !text.contains("does not implement"),
            "{method} {path}: {text}"
        );
    }
}

#[tokio::test]
async fn a_command_in_process_does_what_its_route_does() {
    use wecom_kf_emulator::control::customers::{Inbox, NewCustomer, SendMessage};
    let api = Api::new().await;
    let em = api.em().emulator();
    let kfid = em.seed_console_account("前台").unwrap();
    let who = em
        .apply(NewCustomer::named("小明"))
        .unwrap()
        .external_userid;
    let by_hand = em
        .apply(SendMessage::text(&who, &kfid, "你好"))
        .unwrap()
        .msgid;
    let by_http = api
        .post_json(
            &format!("/__emulator/customers/{who}/send"),
            &json!({"open_kfid": kfid, "msgtype": "text", "text": {"content": "再见"}}),
        )
        .await;
    assert_eq!(by_http["errcode"], 0, "{by_http}");
    let thread = api
        .get(&format!(
            "/__emulator/console/thread?open_kfid={kfid}&external_userid={who}"
        ))
        .await;
    let ids: Vec<&str> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["msgid"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [by_hand.as_str(), by_http["msgid"].as_str().unwrap()]);
    // A refusal in process is the route's refusal.
    let refused = em
        .apply(Inbox {
            external_userid: who.clone(),
            open_kfid: "wkNOBODY".into(),
        })
        .unwrap_err();
    let answer = api
        .get(&format!(
            "/__emulator/customers/{who}/inbox?open_kfid=wkNOBODY"
        ))
        .await;
    assert_eq!(answer["errcode"], refused.code.get());
}
