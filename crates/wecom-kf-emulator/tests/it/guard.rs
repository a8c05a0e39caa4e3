//! Issue 25, finding 4: the control plane cannot be driven from another web page. A
//! cross-site "simple" request (`text/plain`, a form) and DNS rebinding (a foreign
//! `Host`) are refused before anything is done; the emulator's own pages, curl and
//! SDKs (no `Origin`) pass.

use reqwest::header::{CONTENT_TYPE, HOST, ORIGIN};
use serde_json::Value;

use crate::Api;

/// The number of customers the console lists: what a refused reset must leave.
async fn customers(api: &Api) -> usize {
    api.get("/__emulator/console/snapshot").await["customers"]
        .as_array()
        .unwrap()
        .len()
}

async fn with_customer() -> Api {
    let api = Api::new().await;
    api.em().emulator().add_customer("小明").unwrap();
    assert_eq!(customers(&api).await, 1);
    api
}

#[tokio::test]
async fn a_cross_site_text_plain_reset_is_refused_and_changes_nothing() {
    let api = with_customer().await;
    let raw = reqwest::Client::new();
    let r = raw
        .post(api.url("/__emulator/reset"))
        .header(ORIGIN, "https://evil.example")
        .header(CONTENT_TYPE, "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["errcode"], 40058);
    assert!(
        answer["errmsg"].as_str().unwrap().contains("evil.example"),
        "{answer}"
    );
    assert_eq!(customers(&api).await, 1);
}

#[tokio::test]
async fn a_body_not_declared_json_is_refused() {
    let api = with_customer().await;
    let raw = reqwest::Client::new();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = raw.post(api.url("/__emulator/reset")).body("{}");
        if let Some(t) = content_type {
            request = request.header(CONTENT_TYPE, t);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 415, "{content_type:?}");
        let answer: Value = r.json().await.unwrap();
        assert!(
            answer["errmsg"]
                .as_str()
                .unwrap()
                .contains("application/json"),
            "{answer}"
        );
    }
    assert_eq!(customers(&api).await, 1);
    // Declared, or with no body at all, it goes through.
    let r = raw.post(api.url("/__emulator/reset")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(customers(&api).await, 0);
}

#[tokio::test]
async fn a_foreign_origin_is_refused_even_with_json_and_the_own_origin_passes() {
    let api = with_customer().await;
    let raw = reqwest::Client::new();
    // The callback URL of a caller's choice is never called.
    let r = raw
        .post(api.url("/__emulator/callback"))
        .header(ORIGIN, "http://attacker.example:8080")
        .header(CONTENT_TYPE, "application/json")
        .body(r#"{"url":"http://127.0.0.1:9/","token":"t","encoding_aes_key":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let own = format!("http://{}", api.em().addr());
    let r = raw
        .post(api.url("/__emulator/reset"))
        .header(ORIGIN, &own)
        .header(CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{own}");
    assert_eq!(customers(&api).await, 0);
}

#[tokio::test]
async fn a_foreign_host_is_refused_for_reads_and_writes() {
    let api = with_customer().await;
    let raw = reqwest::Client::new();
    let port = api.em().addr().port();
    for path in ["/__emulator/console/snapshot", "/__emulator/console"] {
        let r = raw
            .get(api.url(path))
            .header(HOST, format!("rebind.example:{port}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    let r = raw
        .post(api.url("/__emulator/reset"))
        .header(HOST, format!("rebind.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(customers(&api).await, 1);
    // Loopback names pass.
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let r = raw
            .get(api.url("/__emulator/stats"))
            .header(HOST, &host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{host}");
    }
}

#[tokio::test]
async fn a_configured_control_host_passes() {
    let mut config = wecom_kf_emulator::Config::default();
    config.control_hosts = vec!["emulator.lan".to_owned()];
    let api = Api::with(config).await;
    let r = reqwest::Client::new()
        .get(api.url("/__emulator/stats"))
        .header(HOST, "emulator.lan:80")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
