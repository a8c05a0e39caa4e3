//! The console's read-only endpoints: the API call log (secrets masked), a session's
//! moves with their causes, one conversation with the diagnosis of a refusal, unknown
//! ids refused, re-sending a delivery, and the live event stream.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wecom_kf_emulator::{DEMO_CORP_ID, DEMO_SECRET};

use crate::sessions::{account_with_servicers, customer, trans, writes};
use crate::{Api, assert_err};

fn ok(answer: &Value) {
    assert_eq!(answer["errcode"], 0, "{answer}");
}

#[tokio::test]
async fn the_call_log_masks_secrets_and_keeps_each_refusal_with_its_request() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = customer(&api, "小明").await;
    ok(&writes(&api, &kfid, &who, "你好").await);
    ok(&trans(&api, &kfid, &who, 3, Some("zhangsan")).await);
    let refused = api
        .post_json(
            "/cgi-bin/kf/send_msg",
            &json!({"touser": who, "open_kfid": kfid, "msgtype": "text", "text": {"content": "hi"}}),
        )
        .await;
    assert_err(&refused, 95018);

    let raw = api
        .http
        .get(api.url("/__emulator/console/calls"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!raw.contains(DEMO_SECRET), "the corpsecret leaked: {raw}");
    assert!(!raw.contains(&api.token), "the access_token leaked: {raw}");
    let log: Value = serde_json::from_str(&raw).unwrap();
    let calls = log["calls"].as_array().unwrap();
    let gettoken = calls
        .iter()
        .find(|c| c["path"] == "/cgi-bin/gettoken")
        .unwrap();
    assert_eq!(
        gettoken["query"],
        format!("corpid={DEMO_CORP_ID}&corpsecret=***")
    );
    let send = calls.last().unwrap();
    assert_eq!(send["path"], "/cgi-bin/kf/send_msg");
    assert_eq!(send["errcode"], 95018);
    assert!(
        send["errmsg"].as_str().unwrap().contains("state 3"),
        "{send}"
    );
    assert_eq!(send["query"], "access_token=***");
    assert!(send["body"].as_str().unwrap().contains(&who), "{send}");
    // Only the refusals, when asked.
    let only: Value = api.get("/__emulator/console/calls?errcode=95018").await;
    assert_eq!(only["calls"].as_array().unwrap().len(), 1, "{only}");
    assert_eq!(only["last_call"], log["last_call"]);
}

#[tokio::test]
async fn a_conversation_shows_its_moves_their_causes_and_the_diagnosis_of_a_refusal() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = customer(&api, "小明").await;
    ok(&writes(&api, &kfid, &who, "你好").await);
    ok(&api
        .post_json(
            "/cgi-bin/kf/send_msg",
            &json!({"touser": who, "open_kfid": kfid, "msgtype": "text", "text": {"content": "您好"}}),
        )
        .await);
    ok(&trans(&api, &kfid, &who, 2, None).await);
    ok(&api
        .post_json(
            "/__emulator/servicers/zhangsan/take",
            &json!({"open_kfid": kfid, "external_userid": who}),
        )
        .await);

    let thread = api
        .get(&format!(
            "/__emulator/console/thread?open_kfid={kfid}&external_userid={who}&errcode=95018"
        ))
        .await;
    ok(&thread);
    let moves: Vec<(i64, i64, String)> = thread["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["from"].as_i64().unwrap(),
                m["to"].as_i64().unwrap(),
                m["cause"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let steps: Vec<(i64, i64)> = moves.iter().map(|(f, t, _)| (*f, *t)).collect();
    assert_eq!(steps, [(4, 0), (0, 1), (1, 2), (2, 3)], "{moves:?}");
    assert!(moves[0].2.contains("the customer wrote"));
    assert!(moves[1].2.contains("kf/send_msg"));
    assert!(moves[2].2.contains("kf/service_state/trans"));
    assert!(moves[3].2.contains("took it from the queue"));
    assert_eq!(thread["session"]["state"], 3);
    assert_eq!(thread["session"]["servicer_userid"], "zhangsan");
    let origins: Vec<&str> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["origin"].as_str().unwrap())
        .collect();
    assert_eq!(origins, ["customer", "app", "event"], "{thread}");
    let why = thread["diagnosis"]["cause"].as_str().unwrap();
    assert!(why.contains("zhangsan took the session over"), "{why}");

    // The snapshot lists the session with the account and its servicers.
    let snapshot = api.get("/__emulator/console/snapshot").await;
    ok(&snapshot);
    let session = &snapshot["sessions"][0];
    assert_eq!(session["external_userid"], who.as_str());
    assert_eq!(session["state"], 3);
    assert_eq!(session["nickname"], "小明");
    let account = snapshot["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["open_kfid"] == kfid.as_str())
        .unwrap();
    assert!(
        account["servicers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["userid"] == "zhangsan" && s["status"] == 0),
        "{account}"
    );
}

#[tokio::test]
async fn unknown_ids_and_bad_requests_get_the_apis_own_errors() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = customer(&api, "小明").await;
    let unknown_customer = api
        .get(&format!(
            "/__emulator/console/thread?open_kfid={kfid}&external_userid=wmNOBODY"
        ))
        .await;
    assert_err(&unknown_customer, 40096);
    let unknown_account = api
        .get(&format!(
            "/__emulator/console/thread?open_kfid=wkNOTHING&external_userid={who}"
        ))
        .await;
    assert_err(&unknown_account, 95004);
    // Nothing to re-send, and no URL to send to.
    let resend = api
        .post_json("/__emulator/callback/deliveries/42/resend", &json!({}))
        .await;
    assert!(
        resend["errmsg"]
            .as_str()
            .unwrap()
            .contains("no callback URL is set"),
        "{resend}"
    );
    // An over-long text from the WeCom app: 45002, and nothing sent.
    ok(&writes(&api, &kfid, &who, "你好").await);
    ok(&trans(&api, &kfid, &who, 3, Some("zhangsan")).await);
    let long = api
        .post_json(
            "/__emulator/servicers/zhangsan/send",
            &json!({"open_kfid": kfid, "external_userid": who, "msgtype": "text", "text": {"content": "好".repeat(700)}}),
        )
        .await;
    assert_err(&long, 45002);
    assert!(
        long["errmsg"]
            .as_str()
            .unwrap()
            .contains("2100 bytes; at most 2048")
    );
    let thread = api
        .get(&format!(
            "/__emulator/console/thread?open_kfid={kfid}&external_userid={who}"
        ))
        .await;
    assert!(
        thread["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["origin"] != "servicer"),
        "{thread}"
    );
}

#[tokio::test]
async fn the_live_stream_says_what_changed() {
    let api = Api::new().await;
    let mut live = api
        .http
        .get(api.url("/__emulator/console/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        live.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    customer(&api, "小明").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = String::new();
    while !seen.contains("\n\n") {
        let chunk = tokio::time::timeout(
            deadline.saturating_duration_since(Instant::now()),
            live.chunk(),
        )
        .await
        .expect("an event within 5 s")
        .unwrap()
        .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.starts_with("event: change\ndata: "), "{seen:?}");
    let data: Value =
        serde_json::from_str(seen.lines().find_map(|l| l.strip_prefix("data: ")).unwrap()).unwrap();
    assert_eq!(data["world"], true, "{data}");
}

#[tokio::test]
async fn the_console_page_is_served_with_its_files() {
    let api = Api::new().await;
    for (path, kind) in [
        ("/__emulator/console", "text/html"),
        ("/__emulator/console/console.js", "text/javascript"),
        ("/__emulator/console/console.css", "text/css"),
    ] {
        let answer = api.http.get(api.url(path)).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        let content_type = answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        assert!(!answer.text().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn the_browsers_own_requests_are_served_and_never_logged_as_api_calls() {
    let api = Api::new().await;
    let icon = api.http.get(api.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/png");
    let log = api.get("/__emulator/console/calls").await;
    assert!(
        log["calls"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["path"] != "/favicon.ico"),
        "{log}"
    );
    let stats = api.get("/__emulator/stats").await;
    assert!(stats["requests"].get("/favicon.ico").is_none(), "{stats}");
}

#[tokio::test]
async fn the_snapshot_gives_the_constants_the_page_would_restate() {
    let api = Api::new().await;
    let snap = api.get("/__emulator/console/snapshot").await;
    let diagnosed: Vec<i64> = snap["diagnosed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_i64().unwrap())
        .collect();
    let shared: Vec<i64> = wecom_kf_types::kf::service_state::DIAGNOSED
        .iter()
        .map(|c| c.get())
        .collect();
    assert_eq!(diagnosed, shared);
    assert_eq!(snap["kept_calls"], 2000);
    let script = api
        .http
        .get(api.url("/__emulator/console/console.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !script.contains("95018"),
        "the page restates the diagnosed codes"
    );
}
