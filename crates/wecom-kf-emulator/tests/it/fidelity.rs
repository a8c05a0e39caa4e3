//! Fidelity fixes found by driving the emulator from outside with third-party clients
//! (issue 11): every `/cgi-bin/` answer is HTTP 200 JSON, whatever the method or path.

use reqwest::Method;
use serde_json::Value;
use wecom_kf_emulator::{DEMO_CORP_ID, DEMO_SECRET, api_paths};

use crate::{Api, PNG, assert_err};

/// Any method on any path: the status and the parsed JSON (panics if not JSON).
async fn call(api: &Api, method: Method, path_and_query: &str) -> (u16, Value) {
    let response = api
        .http
        .request(method, api.url(path_and_query))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path_and_query}: not JSON ({e}): {text:?}"));
    (status, json)
}

#[tokio::test]
async fn a_wrong_method_on_any_api_path_is_json_40058() {
    let api = Api::new().await;
    let token = format!("access_token={}", api.token);
    for (path, _) in api_paths() {
        for method in [Method::PUT, Method::DELETE, Method::PATCH, Method::OPTIONS] {
            let (status, answer) = call(&api, method.clone(), &format!("{path}?{token}")).await;
            assert_eq!(status, 200, "{method} {path}");
            assert_err(&answer, 40058);
            let errmsg = answer["errmsg"].as_str().unwrap();
            assert!(
                errmsg.contains(&format!("{method} is not allowed")),
                "{errmsg}"
            );
        }
    }
    // The case found from outside: GET on the upload answered 405 with an empty body.
    let (status, answer) = call(
        &api,
        Method::GET,
        &format!("/cgi-bin/media/upload?{token}&type=image"),
    )
    .await;
    assert_eq!(status, 200);
    assert_err(&answer, 40058);
    assert!(answer["errmsg"].as_str().unwrap().contains("use POST"));
    // And GET on a POST-only JSON endpoint.
    let (_, answer) = call(
        &api,
        Method::GET,
        &format!("/cgi-bin/kf/account/add?{token}"),
    )
    .await;
    assert_err(&answer, 40058);
}

#[tokio::test]
async fn gettoken_is_get_only_as_documented() {
    let api = Api::new().await;
    let query = format!("/cgi-bin/gettoken?corpid={DEMO_CORP_ID}&corpsecret={DEMO_SECRET}");
    let (_, ok) = call(&api, Method::GET, &query).await;
    assert_eq!(ok["errcode"], 0, "{ok}");
    let (status, refused) = call(&api, Method::POST, &query).await;
    assert_eq!(status, 200);
    assert_err(&refused, 40058);
    assert!(refused["errmsg"].as_str().unwrap().contains("use GET"));
    // A refused method issues no token.
    assert!(refused.get("access_token").is_none());
}

#[tokio::test]
async fn unknown_api_paths_say_the_emulator_does_not_implement_them_and_are_counted() {
    let api = Api::new().await;
    for _ in 0..2 {
        let answer = api.post("/cgi-bin/kf/servicer/nothing", "{}").await;
        assert_err(&answer, 404);
        let errmsg = answer["errmsg"].as_str().unwrap();
        assert!(
            errmsg.contains("wecom-kf-emulator does not implement /cgi-bin/kf/servicer/nothing"),
            "{errmsg}"
        );
        assert!(!errmsg.contains("api forbidden"), "{errmsg}");
    }
    let (_, answer) = call(&api, Method::GET, "/cgi-bin/no/such/api").await;
    assert_err(&answer, 404);
    let stats = api.get("/__emulator/stats").await;
    assert_eq!(
        stats["requests"]["/cgi-bin/kf/servicer/nothing"], 2,
        "{stats}"
    );
    assert_eq!(stats["requests"]["/cgi-bin/no/such/api"], 1, "{stats}");
}

#[tokio::test]
async fn numbers_sent_as_strings_are_refused_with_a_hint_naming_the_field() {
    let api = Api::new().await;
    let answer = api
        .post(
            "/cgi-bin/kf/account/list",
            r#"{"offset":"0","limit":"100"}"#,
        )
        .await;
    assert_err(&answer, 40058);
    let errmsg = answer["errmsg"].as_str().unwrap();
    assert!(errmsg.contains("`offset`"), "{errmsg}");
    assert!(
        errmsg.contains("numbers must be sent as JSON numbers"),
        "{errmsg}"
    );
    // The same values as numbers work, and the query-string form (GET) takes digits.
    let answer = api
        .post("/cgi-bin/kf/account/list", r#"{"offset":0,"limit":100}"#)
        .await;
    assert_eq!(answer["errcode"], 0, "{answer}");
    let (_, answer) = call(
        &api,
        Method::GET,
        &format!(
            "/cgi-bin/kf/account/list?access_token={}&offset=0&limit=5",
            api.token
        ),
    )
    .await;
    assert_eq!(answer["errcode"], 0, "{answer}");
}

#[tokio::test]
async fn a_successful_upload_answers_an_empty_errmsg_as_the_doc_example_does() {
    let api = Api::new().await;
    let answer = api.upload("image", "media", PNG.to_vec()).await;
    assert_eq!(answer["errcode"], 0, "{answer}");
    assert_eq!(answer["errmsg"], "", "{answer}");
    // Every other success keeps "ok".
    assert_eq!(api.get("/__emulator/stats").await["errcode"], Value::Null);
    let listed = api.post("/cgi-bin/kf/account/list", "{}").await;
    assert_eq!(listed["errmsg"], "ok");
}

#[tokio::test]
async fn a_customers_inbox_stays_readable_after_the_account_is_deleted() {
    use serde_json::json;
    let api = Api::new().await;
    let media = api.upload_png().await;
    let kfid = api.add("将删除", &media).await;
    let who = crate::sessions::customer(&api, "小明").await;
    assert_eq!(
        crate::sessions::writes(&api, &kfid, &who, "在吗").await["errcode"],
        0
    );
    let sent = api
        .post_json(
            "/cgi-bin/kf/send_msg",
            &json!({"touser": who, "open_kfid": kfid, "msgtype": "text", "text": {"content": "在的"}}),
        )
        .await;
    assert_eq!(sent["errcode"], 0, "{sent}");
    let deleted = api
        .post_json("/cgi-bin/kf/account/del", &json!({"open_kfid": kfid}))
        .await;
    assert_eq!(deleted["errcode"], 0, "{deleted}");
    // The chat stays in the customer's WeChat.
    let inbox = api
        .get(&format!(
            "/__emulator/customers/{who}/inbox?open_kfid={kfid}"
        ))
        .await;
    assert_eq!(inbox["errcode"], 0, "{inbox}");
    assert_eq!(inbox["messages"][0]["text"]["content"], "在的", "{inbox}");
    // The API refuses the account as before.
    let again = api
        .post_json(
            "/cgi-bin/kf/send_msg",
            &json!({"touser": who, "open_kfid": kfid, "msgtype": "text", "text": {"content": "?"}}),
        )
        .await;
    assert_err(&again, 95004);
    // An account that never was is still refused.
    let never = api
        .get(&format!(
            "/__emulator/customers/{who}/inbox?open_kfid=wkNEVER"
        ))
        .await;
    assert_eq!(never["errcode"], 95004, "{never}");
}
