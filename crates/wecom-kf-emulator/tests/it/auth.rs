//! gettoken and the token check on every business call.

use serde_json::json;
use wecom_kf_emulator::{Config, DEMO_CORP_ID, DEMO_SECRET};

use crate::{Api, assert_err};

#[tokio::test]
async fn gettoken_returns_the_same_token_while_valid_and_a_new_one_after_expiry() {
    let api = Api::new().await;
    let q = format!("/cgi-bin/gettoken?corpid={DEMO_CORP_ID}&corpsecret={DEMO_SECRET}");
    let first = api.get(&q).await;
    assert_eq!(first["errcode"], 0);
    assert_eq!(first["errmsg"], "ok");
    assert_eq!(first["access_token"], api.token.as_str());
    api.em().emulator().advance_clock(1000);
    let again = api.get(&q).await;
    assert_eq!(again["access_token"], first["access_token"]);
    let left = again["expires_in"].as_u64().unwrap();
    assert!(
        (6190..=6200).contains(&left),
        "remaining lifetime, got {left}"
    );
    api.em().emulator().advance_clock(6200);
    let fresh = api.get(&q).await;
    assert_ne!(fresh["access_token"], first["access_token"]);
    assert_eq!(fresh["expires_in"], 7200);
    // The old, expired token gets 42001; the new one works.
    assert_err(&api.post("/cgi-bin/kf/account/list", "{}").await, 42001);
}

#[tokio::test]
async fn gettoken_errors() {
    let api = Api::new().await;
    assert_err(
        &api.get(&format!("/cgi-bin/gettoken?corpsecret={DEMO_SECRET}"))
            .await,
        41002,
    );
    assert_err(
        &api.get(&format!("/cgi-bin/gettoken?corpid={DEMO_CORP_ID}"))
            .await,
        41004,
    );
    assert_err(
        &api.get(&format!(
            "/cgi-bin/gettoken?corpid={DEMO_CORP_ID}&corpsecret="
        ))
        .await,
        41004,
    );
    assert_err(
        &api.get(&format!(
            "/cgi-bin/gettoken?corpid=wwother&corpsecret={DEMO_SECRET}"
        ))
        .await,
        40013,
    );
    assert_err(
        &api.get(&format!(
            "/cgi-bin/gettoken?corpid={DEMO_CORP_ID}&corpsecret=wrong"
        ))
        .await,
        40001,
    );
}

#[tokio::test]
async fn business_calls_need_a_valid_token() {
    let api = Api::new().await;
    let list = "/cgi-bin/kf/account/list";
    let no_token = api.post_with(list, &[], "{}").await;
    assert_err(&no_token, 41001);
    let empty = api.post_with(list, &[("access_token", "")], "{}").await;
    assert_err(&empty, 41001);
    let unknown = api.post_with(list, &[("access_token", "nope")], "{}").await;
    assert_err(&unknown, 40014);
    assert_eq!(
        api.post("/cgi-bin/kf/account/list", "{}").await["errcode"],
        0
    );
    api.em().emulator().expire_tokens().unwrap();
    assert_err(&api.post("/cgi-bin/kf/account/list", "{}").await, 42001);

    let mut config = Config::default();
    config.expired_token_errcode = wecom_kf_types::ErrCode::INVALID_ACCESS_TOKEN;
    let api = Api::with(config).await;
    api.em().emulator().expire_tokens().unwrap();
    assert_err(&api.post("/cgi-bin/kf/account/list", "{}").await, 40014);
}

#[tokio::test]
async fn each_app_of_a_corp_has_its_own_tokens_and_accounts() {
    let mut config = Config::default();
    config.secrets = vec![DEMO_SECRET.into(), "SECOND".into()];
    let api = Api::with(config).await;
    let second = api
        .get(&format!(
            "/cgi-bin/gettoken?corpid={DEMO_CORP_ID}&corpsecret=SECOND"
        ))
        .await;
    assert_ne!(second["access_token"], api.token.as_str());
    let media = api.upload_png().await;
    let kfid = api.add("甲", &media).await;
    let as_second = api
        .post_with(
            "/cgi-bin/kf/account/del",
            &[("access_token", second["access_token"].as_str().unwrap())],
            json!({"open_kfid": kfid}).to_string(),
        )
        .await;
    assert_err(&as_second, 48007);
}

#[tokio::test]
async fn rate_limit_per_api_gives_45009() {
    let mut config = Config::default();
    config.calls_per_minute = 5;
    let api = Api::with(config).await;
    for _ in 0..5 {
        assert_eq!(
            api.post("/cgi-bin/kf/account/list", "{}").await["errcode"],
            0
        );
    }
    assert_err(&api.post("/cgi-bin/kf/account/list", "{}").await, 45009);
    // Per API: another endpoint still works.
    assert_err(
        &api.post_json("/cgi-bin/kf/account/del", &json!({"open_kfid": "wkX"}))
            .await,
        95004,
    );
    // A new minute, a new window.
    api.em().emulator().advance_clock(60);
    assert_eq!(
        api.post("/cgi-bin/kf/account/list", "{}").await["errcode"],
        0
    );
}

#[tokio::test]
async fn debug_mode_is_limited_to_5_per_minute() {
    let api = Api::new().await;
    for _ in 0..5 {
        let r = api
            .post_with(
                "/cgi-bin/kf/account/list",
                &[("access_token", &api.token), ("debug", "1")],
                "{}",
            )
            .await;
        assert_eq!(r["errcode"], 0);
    }
    let r = api
        .post_with(
            "/cgi-bin/kf/account/list",
            &[("access_token", &api.token), ("debug", "1")],
            "{}",
        )
        .await;
    assert_err(&r, 45009);
}
