//! Sessions: the state machine of `kf/service_state/trans`, the servicers and customers
//! of the control plane, routing, the 48 h window and the customer cap (95003).

use serde_json::{Value, json};
use wecom_kf_emulator::Config;

use crate::{Api, assert_err};

/// Two serving servicers (zhangsan, wangwu), one stopped-to-be (zhaoliu), one member
/// who has not activated WeCom (lisi), one member who is no servicer (sunqi), and an
/// account they serve.
pub(crate) async fn account_with_servicers(api: &Api) -> String {
    for member in [
        json!({"userid": "zhangsan", "name": "张三"}),
        json!({"userid": "wangwu", "name": "王五"}),
        json!({"userid": "zhaoliu", "name": "赵六"}),
        json!({"userid": "lisi", "name": "李四", "activated": false}),
        json!({"userid": "sunqi", "name": "孙七"}),
    ] {
        ok(&api.post_json("/__emulator/members", &member).await);
    }
    let kfid = api.add("售后", &api.upload_png().await).await;
    let answer = api
        .post_json(
            "/cgi-bin/kf/servicer/add",
            &json!({"open_kfid": kfid, "userid_list": ["zhangsan", "wangwu", "zhaoliu", "lisi"]}),
        )
        .await;
    ok(&answer);
    kfid
}

pub(crate) fn ok(answer: &Value) {
    assert_eq!(answer["errcode"], 0, "{answer}");
}

pub(crate) async fn customer(api: &Api, nickname: &str) -> String {
    let answer = api
        .post_json(
            "/__emulator/customers",
            &json!({"nickname": nickname, "gender": 1}),
        )
        .await;
    ok(&answer);
    let id = answer["external_userid"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wm") && id.len() == 32, "{id}");
    id
}

pub(crate) async fn writes(api: &Api, kfid: &str, who: &str, text: &str) -> Value {
    api.post_json(
        &format!("/__emulator/customers/{who}/send"),
        &json!({"open_kfid": kfid, "msgtype": "text", "text": {"content": text}}),
    )
    .await
}

pub(crate) async fn state(api: &Api, kfid: &str, who: &str) -> (i64, Option<String>) {
    let answer = api
        .post_json(
            "/cgi-bin/kf/service_state/get",
            &json!({"open_kfid": kfid, "external_userid": who}),
        )
        .await;
    ok(&answer);
    (
        answer["service_state"].as_i64().unwrap(),
        answer["servicer_userid"].as_str().map(str::to_owned),
    )
}

pub(crate) async fn trans(
    api: &Api,
    kfid: &str,
    who: &str,
    to: i64,
    servicer: Option<&str>,
) -> Value {
    let mut body = json!({"open_kfid": kfid, "external_userid": who, "service_state": to});
    if let Some(servicer) = servicer {
        body["servicer_userid"] = json!(servicer);
    }
    api.post_json("/cgi-bin/kf/service_state/trans", &body)
        .await
}

/// Bring a fresh customer's session to `state` by the API.
async fn session_in(api: &Api, kfid: &str, state_wanted: i64) -> String {
    let who = customer(api, "客户").await;
    if state_wanted == 4 {
        return who; // never wrote: not started
    }
    ok(&writes(api, kfid, &who, "你好").await);
    if state_wanted != 0 {
        let servicer = (state_wanted == 3).then_some("zhangsan");
        ok(&trans(api, kfid, &who, state_wanted, servicer).await);
    }
    assert_eq!(state(api, kfid, &who).await.0, state_wanted);
    who
}

#[tokio::test]
async fn every_pair_of_states_is_allowed_or_refused_with_its_code() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    // (from, to) → None allowed, Some(code) refused. The documented table plus the
    // flow chart's edges to 4; nothing leaves 4 (95013).
    let allowed = [
        (0, 1),
        (0, 2),
        (0, 3),
        (0, 4),
        (1, 2),
        (1, 3),
        (1, 4),
        (2, 3),
        (2, 4),
        (3, 3),
        (3, 4),
    ];
    // A code is issued on the first move to 2, on the first move to 3 (also after a
    // move to 2: issue 22's fidelity point, spec §4.4 and §4.8) and on every move to 4.
    let issues_code = [
        (0, 2),
        (0, 3),
        (0, 4),
        (1, 2),
        (1, 3),
        (1, 4),
        (2, 3),
        (2, 4),
        (3, 4),
    ];
    let mut checked = 0;
    for from in 0..=4 {
        for to in 0..=4 {
            let who = session_in(&api, &kfid, from).await;
            // A 3→3 move is a transfer: to another servicer.
            let servicer = (to == 3).then_some(if from == 3 { "wangwu" } else { "zhangsan" });
            let answer = trans(&api, &kfid, &who, to, servicer).await;
            if allowed.contains(&(from, to)) {
                ok(&answer);
                assert_eq!(state(&api, &kfid, &who).await.0, to, "{from}→{to}");
                assert_eq!(
                    answer["msg_code"].is_string(),
                    issues_code.contains(&(from, to)),
                    "{from}→{to}: {answer}"
                );
            } else {
                let code = if from == 4 { 95013 } else { 95016 };
                assert_err(&answer, code);
                assert_eq!(
                    state(&api, &kfid, &who).await.0,
                    from,
                    "{from}→{to} left it"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 25);
}

#[tokio::test]
async fn a_refused_move_says_where_the_session_may_go() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = session_in(&api, &kfid, 2).await;
    let answer = trans(&api, &kfid, &who, 1, None).await;
    assert_err(&answer, 95016);
    let msg = answer["errmsg"].as_str().unwrap();
    assert!(msg.contains("state 2") && msg.contains("[3,4]"), "{msg}");
}

#[tokio::test]
async fn only_a_serving_activated_servicer_of_the_account_takes_a_session() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    ok(&api
        .post_json(
            "/__emulator/servicers/zhaoliu/status",
            &json!({"open_kfid": kfid, "status": 1, "stop_type": 1}),
        )
        .await);
    let who = session_in(&api, &kfid, 2).await;
    for (servicer, code) in [
        ("zhaoliu", 95019),
        ("lisi", 95014),
        ("sunqi", 95014),
        ("nobody", 95014),
    ] {
        let answer = trans(&api, &kfid, &who, 3, Some(servicer)).await;
        assert_err(&answer, code);
        assert_eq!(state(&api, &kfid, &who).await.0, 2, "{servicer}");
    }
    // servicer/list shows the stop, in list encoding (1 stopped, stop_type 1 suspended).
    let list = api
        .get(&format!(
            "/cgi-bin/kf/servicer/list?access_token={}&open_kfid={kfid}",
            api.token
        ))
        .await;
    let zhaoliu = list["servicer_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["userid"] == "zhaoliu")
        .unwrap();
    assert_eq!(
        (zhaoliu["status"].as_i64(), zhaoliu["stop_type"].as_i64()),
        (Some(1), Some(1))
    );
    // Back to serving, the same move succeeds.
    ok(&api
        .post_json(
            "/__emulator/servicers/zhaoliu/status",
            &json!({"open_kfid": kfid, "status": 0}),
        )
        .await);
    ok(&trans(&api, &kfid, &who, 3, Some("zhaoliu")).await);
    assert_eq!(
        state(&api, &kfid, &who).await,
        (3, Some("zhaoliu".to_owned()))
    );
}

#[tokio::test]
async fn a_member_of_a_servicer_department_serves_too() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    ok(&api
        .post_json(
            "/__emulator/departments",
            &json!({"department_id": 7, "name": "二线"}),
        )
        .await);
    ok(&api
        .post_json(
            "/__emulator/members",
            &json!({"userid": "qianba", "department_id": [7]}),
        )
        .await);
    let who = session_in(&api, &kfid, 2).await;
    assert_err(&trans(&api, &kfid, &who, 3, Some("qianba")).await, 95014);
    ok(&api
        .post_json(
            "/cgi-bin/kf/servicer/add",
            &json!({"open_kfid": kfid, "department_id_list": [7]}),
        )
        .await);
    ok(&trans(&api, &kfid, &who, 3, Some("qianba")).await);
}

#[tokio::test]
async fn servicers_in_the_app_take_transfer_end_and_reopen() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = session_in(&api, &kfid, 2).await;
    let body = |extra: Value| {
        let mut body = json!({"open_kfid": kfid, "external_userid": who});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let take = api
        .post_json("/__emulator/servicers/zhangsan/take", &body(json!({})))
        .await;
    ok(&take);
    assert!(take["msg_code"].is_string(), "{take}");
    // Only the queue can be taken.
    assert_err(
        &api.post_json("/__emulator/servicers/wangwu/take", &body(json!({})))
            .await,
        95016,
    );
    // Only the servicer who serves it can transfer or end it.
    assert_err(
        &api.post_json(
            "/__emulator/servicers/wangwu/transfer",
            &body(json!({"to": "zhaoliu"})),
        )
        .await,
        95016,
    );
    assert_err(
        &api.post_json(
            "/__emulator/servicers/zhangsan/transfer",
            &body(json!({"to": "lisi"})),
        )
        .await,
        95014,
    );
    ok(&api
        .post_json(
            "/__emulator/servicers/zhangsan/transfer",
            &body(json!({"to": "wangwu"})),
        )
        .await);
    assert_eq!(
        state(&api, &kfid, &who).await,
        (3, Some("wangwu".to_owned()))
    );
    let end = api
        .post_json("/__emulator/servicers/wangwu/end", &body(json!({})))
        .await;
    ok(&end);
    assert!(end["msg_code"].is_string(), "{end}");
    assert_eq!(state(&api, &kfid, &who).await.0, 4);
    assert_err(
        &api.post_json("/__emulator/servicers/wangwu/end", &body(json!({})))
            .await,
        95013,
    );
    // A servicer who writes in the ended session reopens it with them.
    let sent = api
        .post_json(
            "/__emulator/servicers/zhangsan/send",
            &body(json!({"msgtype": "text", "text": {"content": "还在吗？"}})),
        )
        .await;
    ok(&sent);
    assert_eq!(
        state(&api, &kfid, &who).await,
        (3, Some("zhangsan".to_owned()))
    );
    let inbox = api
        .get(&format!(
            "/__emulator/customers/{who}/inbox?open_kfid={kfid}"
        ))
        .await;
    let messages = inbox["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{inbox}");
    assert_eq!(messages[0]["from"], "servicer");
    assert_eq!(messages[0]["servicer_userid"], "zhangsan");
    assert_eq!(messages[0]["text"]["content"], "还在吗？");
    assert_eq!(messages[0]["msgid"], sent["msgid"]);
}

#[tokio::test]
async fn in_servicers_mode_new_sessions_go_round_robin_or_to_the_queue() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    // zhaoliu stops; lisi never activated: zhangsan and wangwu share the sessions.
    ok(&api
        .post_json(
            "/__emulator/servicers/zhaoliu/status",
            &json!({"open_kfid": kfid, "status": 1}),
        )
        .await);
    let default = customer(&api, "甲").await;
    ok(&writes(&api, &kfid, &default, "hi").await);
    assert_eq!(
        state(&api, &kfid, &default).await.0,
        0,
        "the default mode is api"
    );
    ok(&api
        .post_json(
            &format!("/__emulator/accounts/{kfid}/routing"),
            &json!({"mode": "servicers"}),
        )
        .await);
    let mut served_by = Vec::new();
    for _ in 0..3 {
        let who = customer(&api, "乙").await;
        ok(&writes(&api, &kfid, &who, "hi").await);
        let (s, servicer) = state(&api, &kfid, &who).await;
        assert_eq!(s, 3);
        served_by.push(servicer.unwrap());
    }
    assert_eq!(served_by, ["zhangsan", "wangwu", "zhangsan"]);
    for servicer in ["zhangsan", "wangwu"] {
        ok(&api
            .post_json(
                &format!("/__emulator/servicers/{servicer}/status"),
                &json!({"open_kfid": kfid, "status": 1}),
            )
            .await);
    }
    let queued = customer(&api, "丙").await;
    ok(&writes(&api, &kfid, &queued, "hi").await);
    assert_eq!(state(&api, &kfid, &queued).await.0, 2);
    // In that mode the app cannot answer: the classic 95018 comes from here.
    let bad = api
        .post_json(
            &format!("/__emulator/accounts/{kfid}/routing"),
            &json!({"mode": "robots"}),
        )
        .await;
    assert_err(&bad, 40058);
}

#[tokio::test]
async fn a_session_ends_48_hours_after_the_customers_last_message() {
    let mut api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = session_in(&api, &kfid, 1).await;
    api.em().emulator().advance_clock(47 * 3600);
    api.renew_token().await;
    ok(&writes(&api, &kfid, &who, "还有一个问题").await);
    api.em().emulator().advance_clock(47 * 3600);
    api.renew_token().await;
    assert_eq!(
        state(&api, &kfid, &who).await.0,
        1,
        "the window restarts on each message"
    );
    api.em().emulator().advance_clock(3600 + 1);
    api.renew_token().await;
    assert_eq!(state(&api, &kfid, &who).await.0, 4);
    assert_err(&trans(&api, &kfid, &who, 2, None).await, 95013);
    ok(&writes(&api, &kfid, &who, "我又来了").await);
    assert_eq!(state(&api, &kfid, &who).await.0, 0, "a new session");
}

#[tokio::test]
async fn unknown_customers_and_accounts_are_refused() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let answer = api
        .post_json(
            "/cgi-bin/kf/service_state/get",
            &json!({"open_kfid": kfid, "external_userid": "wmNOBODY"}),
        )
        .await;
    assert_err(&answer, 40096);
    let who = customer(&api, "客户").await;
    assert_err(&writes(&api, "wkNOTANACCOUNT", &who, "hi").await, 95004);
    assert_err(&writes(&api, &kfid, "wmNOBODY", "hi").await, 40096);
    let bad_type = api
        .post_json(
            &format!("/__emulator/customers/{who}/send"),
            &json!({"open_kfid": kfid, "msgtype": "hologram", "hologram": {}}),
        )
        .await;
    assert_err(&bad_type, 40008);
    let missing = trans(&api, &kfid, &who, 3, None).await;
    assert_err(&missing, 40058);
    assert!(
        missing["errmsg"]
            .as_str()
            .unwrap()
            .contains("servicer_userid")
    );
    // An account this app does not manage: 48007.
    let console = api.em().emulator().seed_console_account("控制台").unwrap();
    let answer = api
        .post_json(
            "/cgi-bin/kf/service_state/get",
            &json!({"open_kfid": console, "external_userid": who}),
        )
        .await;
    assert_err(&answer, 48007);
}

#[tokio::test]
async fn an_unverified_corp_serves_at_most_100_customers() {
    let mut config = Config::default();
    config.verified = false;
    let api = Api::with(config).await;
    let kfid = account_with_servicers(&api).await;
    let mut customers = Vec::new();
    for _ in 0..101 {
        let who = customer(&api, "客户").await;
        ok(&writes(&api, &kfid, &who, "hi").await);
        customers.push(who);
    }
    ok(&trans(&api, &kfid, &customers[99], 1, None).await);
    let answer = trans(&api, &kfid, &customers[100], 1, None).await;
    assert_err(&answer, 95003);
    assert!(answer["errmsg"].as_str().unwrap().contains("100 customers"));
    let qualification = api
        .get(&format!(
            "/cgi-bin/kf/get_corp_qualification?access_token={}",
            api.token
        ))
        .await;
    ok(&qualification);
    assert_eq!(qualification["wechat_channels_binding"], true);
}

#[tokio::test]
async fn batchget_lists_unknown_ids_apart_and_the_context_on_request() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let answer = api
        .post_json(
            "/__emulator/customers",
            &json!({"external_userid": "wmKNOWN", "nickname": "张三", "gender": 2, "unionid": "oUNION"}),
        )
        .await;
    ok(&answer);
    let enter = api
        .post_json(
            "/__emulator/customers/wmKNOWN/enter",
            &json!({"open_kfid": kfid, "scene": "spring", "scene_param": "a=1"}),
        )
        .await;
    ok(&enter);
    assert!(enter["welcome_code"].is_string(), "{enter}");
    // A second entry within 48 h gets no new welcome code.
    let again = api
        .post_json(
            "/__emulator/customers/wmKNOWN/enter",
            &json!({"open_kfid": kfid}),
        )
        .await;
    assert!(again["welcome_code"].is_null(), "{again}");
    ok(&api
        .post_json(
            "/__emulator/customers/wmKNOWN/enter",
            &json!({"open_kfid": kfid, "scene": "spring", "scene_param": "a=1"}),
        )
        .await);
    let body =
        json!({"external_userid_list": ["wmKNOWN", "wmUNKNOWN"], "need_enter_session_context": 1});
    let answer = api.post_json("/cgi-bin/kf/customer/batchget", &body).await;
    ok(&answer);
    assert_eq!(answer["invalid_external_userid"], json!(["wmUNKNOWN"]));
    let customer = &answer["customer_list"][0];
    assert_eq!(customer["nickname"], "张三");
    assert_eq!(customer["gender"], 2);
    assert_eq!(customer["unionid"], "oUNION");
    assert_eq!(customer["enter_session_context"]["scene"], "spring");
    assert_eq!(customer["enter_session_context"]["scene_param"], "a=1");
    let without = api
        .post_json(
            "/cgi-bin/kf/customer/batchget",
            &json!({"external_userid_list": ["wmKNOWN"]}),
        )
        .await;
    assert!(
        without["customer_list"][0]
            .get("enter_session_context")
            .is_none()
    );
    let ids: Vec<String> = (0..101).map(|i| format!("wm{i}")).collect();
    let too_many = api
        .post_json(
            "/cgi-bin/kf/customer/batchget",
            &json!({"external_userid_list": ids}),
        )
        .await;
    assert_err(&too_many, 40058);
}

#[tokio::test]
async fn statistics_count_yesterdays_sessions_customers_and_messages() {
    let mut api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let (a, b) = (customer(&api, "甲").await, customer(&api, "乙").await);
    ok(&writes(&api, &kfid, &a, "1").await);
    ok(&writes(&api, &kfid, &a, "2").await);
    ok(&writes(&api, &kfid, &b, "3").await);
    ok(&trans(&api, &kfid, &b, 3, Some("zhangsan")).await);
    ok(&api
        .post_json(
            "/__emulator/servicers/zhangsan/send",
            &json!({"open_kfid": kfid, "external_userid": b, "msgtype": "text", "text": {"content": "您好"}}),
        )
        .await);
    let today = api.em().emulator().now();
    let day = wecom_kf_types::kf::statistic::china_midnight(today);
    let range =
        |start: i64, end: i64| json!({"open_kfid": kfid, "start_time": start, "end_time": end});
    // Today's figures are not ready until tomorrow.
    assert_err(
        &api.post_json("/cgi-bin/kf/get_corp_statistic", &range(day, day))
            .await,
        40058,
    );
    api.em().emulator().advance_clock(86_400);
    api.renew_token().await;
    let corp = api
        .post_json(
            "/cgi-bin/kf/get_corp_statistic",
            &range(day - 86_400, today),
        )
        .await;
    ok(&corp);
    let days = corp["statistic_list"].as_array().unwrap();
    assert_eq!(days.len(), 2, "{corp}");
    assert!(
        days[0].get("statistic").is_none(),
        "a day with nothing: {corp}"
    );
    assert_eq!(days[1]["stat_time"], day);
    let figures = &days[1]["statistic"];
    assert_eq!(figures["session_cnt"], 2, "{corp}");
    assert_eq!(figures["customer_cnt"], 2);
    assert_eq!(figures["customer_msg_cnt"], 3);
    let mut body = range(day, day);
    body["servicer_userid"] = json!("zhangsan");
    let servicer = api
        .post_json("/cgi-bin/kf/get_servicer_statistic", &body)
        .await;
    ok(&servicer);
    let figures = &servicer["statistic_list"][0]["statistic"];
    assert_eq!(figures["session_cnt"], 1, "{servicer}");
    assert_eq!(figures["customer_msg_cnt"], 1);
    assert_eq!(figures["reply_rate"], 1.0);
    body["servicer_userid"] = json!("wangwu");
    let other = api
        .post_json("/cgi-bin/kf/get_servicer_statistic", &body)
        .await;
    assert!(
        other["statistic_list"][0].get("statistic").is_none(),
        "{other}"
    );
    // More than 31 days, or older than 180 days: refused.
    assert_err(
        &api.post_json(
            "/cgi-bin/kf/get_corp_statistic",
            &range(day - 40 * 86_400, day - 86_400),
        )
        .await,
        40058,
    );
    assert_err(
        &api.post_json(
            "/cgi-bin/kf/get_corp_statistic",
            &range(day - 200 * 86_400, day - 190 * 86_400),
        )
        .await,
        40058,
    );
}

#[tokio::test]
async fn upgrade_service_needs_a_recent_customer_and_a_member_in_range() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    ok(&api
        .post_json(
            "/__emulator/upgrade_service_config",
            &json!({"member_range": {"userid_list": ["zhangsan"]}, "groupchat_range": {"chat_id_list": ["wrCHAT"]}}),
        )
        .await);
    let config = api
        .get(&format!(
            "/cgi-bin/kf/customer/get_upgrade_service_config?access_token={}",
            api.token
        ))
        .await;
    assert_eq!(config["member_range"]["userid_list"], json!(["zhangsan"]));
    let who = customer(&api, "客户").await;
    let member = |userid: &str| json!({"open_kfid": kfid, "external_userid": who, "type": 1, "member": {"userid": userid, "wording": "专属顾问"}});
    assert_err(
        &api.post_json("/cgi-bin/kf/customer/upgrade_service", &member("zhangsan"))
            .await,
        95031,
    );
    ok(&writes(&api, &kfid, &who, "hi").await);
    assert_err(
        &api.post_json("/cgi-bin/kf/customer/upgrade_service", &member("wangwu"))
            .await,
        60011,
    );
    ok(&api
        .post_json("/cgi-bin/kf/customer/upgrade_service", &member("zhangsan"))
        .await);
    let chat = json!({"open_kfid": kfid, "external_userid": who, "type": 2, "groupchat": {"chat_id": "wrCHAT"}});
    ok(&api
        .post_json("/cgi-bin/kf/customer/upgrade_service", &chat)
        .await);
    ok(&api
        .post_json(
            "/cgi-bin/kf/customer/cancel_upgrade_service",
            &json!({"open_kfid": kfid, "external_userid": who}),
        )
        .await);
}

#[tokio::test]
async fn a_queued_session_given_to_a_servicer_gets_its_own_code_for_the_taken_notice() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = session_in(&api, &kfid, 0).await;
    let queued = trans(&api, &kfid, &who, 2, None).await;
    let queued_code = queued["msg_code"].as_str().unwrap().to_owned();
    let taken = trans(&api, &kfid, &who, 3, Some("zhangsan")).await;
    let taken_code = taken["msg_code"]
        .as_str()
        .expect("a code on the first move to 3");
    assert_ne!(taken_code, queued_code);
    // It sends the one message the "taken" notice may be, in state 3.
    let sent = api
        .post_json(
            "/cgi-bin/kf/send_msg_on_event",
            &serde_json::json!({"code": taken_code, "msgtype": "text", "text": {"content": "张三为您服务"}}),
        )
        .await;
    assert_eq!(sent["errcode"], 0, "{sent}");
    // A second move to 3 (a transfer) issues none.
    let again = trans(&api, &kfid, &who, 3, Some("wangwu")).await;
    assert_eq!(again["errcode"], 0, "{again}");
    assert!(again.get("msg_code").is_none(), "{again}");
}
