//! Messages: `kf/sync_msg`, `kf/send_msg`, `kf/send_msg_on_event`, `kf/recall_msg`
//! and the customers' and servicers' acts on messages, every rule with its code.

use serde_json::{Value, json};

use crate::sessions::{account_with_servicers, customer, ok, state, trans, writes};
use crate::{Api, assert_err};

async fn sync(api: &Api, body: Value) -> Value {
    api.post_json("/cgi-bin/kf/sync_msg", &body).await
}

/// Every item of the account's log, following `has_more` from the start.
async fn drain(api: &Api, kfid: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut body = json!({"open_kfid": kfid, "limit": 1000});
        if let Some(c) = &cursor {
            body["cursor"] = json!(c);
        }
        let page = sync(api, body).await;
        ok(&page);
        items.extend(page["msg_list"].as_array().unwrap().iter().cloned());
        cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
        if page["has_more"] == 0 {
            return items;
        }
    }
    panic!("sync_msg never said has_more 0");
}

async fn send_text(api: &Api, kfid: &str, who: &str, text: &str) -> Value {
    api.post_json(
        "/cgi-bin/kf/send_msg",
        &json!({"touser": who, "open_kfid": kfid, "msgtype": "text", "text": {"content": text}}),
    )
    .await
}

async fn inbox(api: &Api, kfid: &str, who: &str) -> Vec<Value> {
    let answer = api
        .get(&format!(
            "/__emulator/customers/{who}/inbox?open_kfid={kfid}"
        ))
        .await;
    ok(&answer);
    answer["messages"].as_array().unwrap().clone()
}

fn event_types(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter(|m| m["msgtype"] == "event")
        .map(|m| m["event"]["event_type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn sync_returns_customers_servicers_and_events_in_order_but_never_the_apps_sends() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = customer(&api, "客户").await;
    let entered = api
        .post_json(
            &format!("/__emulator/customers/{who}/enter"),
            &json!({"open_kfid": kfid, "scene": "spring"}),
        )
        .await;
    ok(&entered);
    ok(&writes(&api, &kfid, &who, "在吗").await);
    ok(&send_text(&api, &kfid, &who, "在的，您请说").await);
    ok(&trans(&api, &kfid, &who, 3, Some("zhangsan")).await);
    let from_servicer = api
        .post_json(
            "/__emulator/servicers/zhangsan/send",
            &json!({"open_kfid": kfid, "external_userid": who, "msgtype": "text", "text": {"content": "我是张三"}}),
        )
        .await;
    ok(&from_servicer);

    let items = drain(&api, &kfid).await;
    let origins: Vec<i64> = items
        .iter()
        .map(|m| m["origin"].as_i64().unwrap())
        .collect();
    assert_eq!(origins, [4, 3, 5], "{items:#?}");
    assert_eq!(items[0]["event"]["event_type"], "enter_session");
    assert_eq!(items[0]["event"]["scene"], "spring");
    assert_eq!(items[0]["event"]["welcome_code"], entered["welcome_code"]);
    assert!(
        items[0].get("open_kfid").is_none(),
        "events carry the ids inside"
    );
    assert_eq!(items[1]["text"]["content"], "在吗");
    assert_eq!(items[1]["open_kfid"], kfid.as_str());
    assert_eq!(items[1]["external_userid"], who.as_str());
    assert_eq!(items[2]["servicer_userid"], "zhangsan");
    assert_eq!(items[2]["msgid"], from_servicer["msgid"]);
    // The app's own send reached the customer, not sync_msg.
    let seen = inbox(&api, &kfid, &who).await;
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0]["from"], "app");
    assert_eq!(seen[1]["from"], "servicer");

    // open_kfid is required; another app's account is refused.
    assert_eq!(sync(&api, json!({})).await["errcode"], 40063);
}

#[tokio::test]
async fn the_cursor_resumes_exactly_and_pages_follow_has_more() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = customer(&api, "客户").await;
    for i in 0..5 {
        ok(&writes(&api, &kfid, &who, &format!("第{i}条")).await);
    }
    let first = sync(&api, json!({"open_kfid": kfid, "limit": 2})).await;
    ok(&first);
    assert_eq!(first["msg_list"].as_array().unwrap().len(), 2);
    assert_eq!(first["has_more"], 1);
    let cursor = first["next_cursor"].as_str().unwrap();
    assert!(cursor.len() <= 64);
    let second = sync(
        &api,
        json!({"open_kfid": kfid, "cursor": cursor, "limit": 2}),
    )
    .await;
    assert_eq!(second["msg_list"][0]["text"]["content"], "第2条");
    // The same cursor again gives the same page: the cursor is the caller's.
    let again = sync(
        &api,
        json!({"open_kfid": kfid, "cursor": cursor, "limit": 2}),
    )
    .await;
    assert_eq!(again["msg_list"], second["msg_list"]);
    let last = sync(
        &api,
        json!({"open_kfid": kfid, "cursor": second["next_cursor"], "limit": 2}),
    )
    .await;
    assert_eq!(last["msg_list"].as_array().unwrap().len(), 1);
    assert_eq!(last["has_more"], 0);
    // Nothing new: an empty page whose cursor stays put.
    let idle = sync(
        &api,
        json!({"open_kfid": kfid, "cursor": last["next_cursor"]}),
    )
    .await;
    assert_eq!(idle["msg_list"], json!([]));
    assert_eq!(idle["next_cursor"], last["next_cursor"]);
    ok(&writes(&api, &kfid, &who, "新的").await);
    let fresh = sync(
        &api,
        json!({"open_kfid": kfid, "cursor": last["next_cursor"]}),
    )
    .await;
    assert_eq!(fresh["msg_list"][0]["text"]["content"], "新的");

    // An edited cursor is refused rather than read as another place.
    let mut forged = cursor.to_owned();
    forged.replace_range(0..1, if forged.starts_with('1') { "2" } else { "1" });
    assert_err(
        &sync(&api, json!({"open_kfid": kfid, "cursor": forged})).await,
        40058,
    );
    assert_err(
        &sync(&api, json!({"open_kfid": kfid, "limit": 1001})).await,
        40058,
    );
}

#[tokio::test]
async fn a_page_of_the_apps_own_sends_is_empty_while_has_more_is_1() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = customer(&api, "客户").await;
    ok(&writes(&api, &kfid, &who, "你好").await);
    for i in 0..3 {
        ok(&send_text(&api, &kfid, &who, &format!("答{i}")).await);
    }
    ok(&writes(&api, &kfid, &who, "谢谢").await);
    let first = sync(&api, json!({"open_kfid": kfid, "limit": 2})).await;
    assert_eq!(first["msg_list"].as_array().unwrap().len(), 1);
    let second = sync(
        &api,
        json!({"open_kfid": kfid, "cursor": first["next_cursor"], "limit": 2}),
    )
    .await;
    assert_eq!(
        second["msg_list"],
        json!([]),
        "two app sends fill the window"
    );
    assert_eq!(second["has_more"], 1);
    let third = sync(
        &api,
        json!({"open_kfid": kfid, "cursor": second["next_cursor"], "limit": 2}),
    )
    .await;
    assert_eq!(third["msg_list"][0]["text"]["content"], "谢谢");
    assert_eq!(third["has_more"], 0);
}

#[tokio::test]
async fn sync_reads_three_days_back_and_a_callback_token_lasts_ten_minutes() {
    let mut api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let other = api.add("另一个", &api.upload_png().await).await;
    let who = customer(&api, "客户").await;
    ok(&writes(&api, &kfid, &who, "很久以前").await);
    api.em().emulator().advance_clock(3 * 86_400 + 1);
    api.renew_token().await;
    ok(&writes(&api, &kfid, &who, "今天").await);
    let items = drain(&api, &kfid).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["text"]["content"], "今天");

    let issued = api
        .post_json("/__emulator/sync_token", &json!({"open_kfid": kfid}))
        .await;
    let token = issued["token"].as_str().unwrap();
    ok(&sync(&api, json!({"open_kfid": kfid, "token": token})).await);
    assert_err(
        &sync(&api, json!({"open_kfid": other, "token": token})).await,
        95007,
    );
    assert_err(
        &sync(&api, json!({"open_kfid": kfid, "token": "ENCnotissued"})).await,
        95007,
    );
    api.em().emulator().advance_clock(601);
    let late = sync(&api, json!({"open_kfid": kfid, "token": token})).await;
    assert_err(&late, 95007);
    assert!(
        late["errmsg"].as_str().unwrap().contains("10 minutes"),
        "{late}"
    );
}

#[tokio::test]
async fn send_msg_keeps_the_states_the_window_and_the_quota() {
    let mut api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = customer(&api, "客户").await;
    // Never wrote: no session.
    assert_err(&send_text(&api, &kfid, &who, "hi").await, 95018);
    ok(&writes(&api, &kfid, &who, "你好").await);
    assert_eq!(state(&api, &kfid, &who).await.0, 0);
    ok(&send_text(&api, &kfid, &who, "1").await);
    assert_eq!(
        state(&api, &kfid, &who).await.0,
        1,
        "a send in 0 moves to 1"
    );
    for n in 2..=5 {
        ok(&send_text(&api, &kfid, &who, &n.to_string()).await);
    }
    assert_err(&send_text(&api, &kfid, &who, "6").await, 95001);
    // The customer's next message gives five more.
    ok(&writes(&api, &kfid, &who, "还有问题").await);
    for n in 1..=5 {
        ok(&send_text(&api, &kfid, &who, &format!("again {n}")).await);
    }
    assert_err(&send_text(&api, &kfid, &who, "again 6").await, 95001);
    assert_eq!(inbox(&api, &kfid, &who).await.len(), 10);

    // 48 hours after the customer's last message: 95002.
    ok(&writes(&api, &kfid, &who, "最后一条").await);
    api.em().emulator().advance_clock(48 * 3600 + 1);
    api.renew_token().await;
    assert_err(&send_text(&api, &kfid, &who, "too late").await, 95002);

    // A servicer's session, or a queued one: 95018.
    let human = customer(&api, "人工").await;
    ok(&writes(&api, &kfid, &human, "转人工").await);
    ok(&trans(&api, &kfid, &human, 3, Some("zhangsan")).await);
    let refused = send_text(&api, &kfid, &human, "bot here").await;
    assert_err(&refused, 95018);
    assert!(
        refused["errmsg"].as_str().unwrap().contains("state 3"),
        "{refused}"
    );
    let queued = customer(&api, "排队").await;
    ok(&writes(&api, &kfid, &queued, "排队").await);
    ok(&trans(&api, &kfid, &queued, 2, None).await);
    assert_err(&send_text(&api, &kfid, &queued, "bot here").await, 95018);
    // An ended session (within 48 h) too.
    let ended = customer(&api, "结束").await;
    ok(&writes(&api, &kfid, &ended, "bye").await);
    ok(&trans(&api, &kfid, &ended, 4, None).await);
    assert_err(&send_text(&api, &kfid, &ended, "hello?").await, 95018);
    // Unknown customer.
    assert_err(&send_text(&api, &kfid, "wmnobody", "hi").await, 40096);
}

#[tokio::test]
async fn a_msgid_is_unique_per_account_and_a_duplicate_is_refused_before_any_other_rule() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let other = api.add("另一个", &api.upload_png().await).await;
    let who = customer(&api, "客户").await;
    ok(&writes(&api, &kfid, &who, "你好").await);
    ok(&writes(&api, &other, &who, "你好").await);
    let body = |kfid: &str, msgid: &str| json!({"touser": who, "open_kfid": kfid, "msgid": msgid, "msgtype": "text", "text": {"content": "hi"}});
    let sent = api
        .post_json("/cgi-bin/kf/send_msg", &body(&kfid, "reply-1"))
        .await;
    ok(&sent);
    assert_eq!(sent["msgid"], "reply-1");
    let dup = api
        .post_json("/cgi-bin/kf/send_msg", &body(&kfid, "reply-1"))
        .await;
    assert_err(&dup, 40058);
    assert!(
        dup["errmsg"].as_str().unwrap().contains("msgid duplicated"),
        "{dup}"
    );
    // Another account may use the same msgid.
    ok(&api
        .post_json("/cgi-bin/kf/send_msg", &body(&other, "reply-1"))
        .await);
    for n in 2..=5 {
        ok(&api
            .post_json("/cgi-bin/kf/send_msg", &body(&kfid, &format!("reply-{n}")))
            .await);
    }
    // The retry of the fifth send is told it was sent, not 95001.
    assert_err(
        &api.post_json("/cgi-bin/kf/send_msg", &body(&kfid, "reply-5"))
            .await,
        40058,
    );
    assert_err(
        &api.post_json("/cgi-bin/kf/send_msg", &body(&kfid, "reply-6"))
            .await,
        95001,
    );
    assert_eq!(
        inbox(&api, &kfid, &who).await.len(),
        5,
        "nothing sent twice"
    );
    // Without a msgid, the service makes one up.
    let empty_id = api
        .post_json(
            "/cgi-bin/kf/send_msg",
            &json!({"touser": who, "open_kfid": kfid, "msgid": "", "msgtype": "text", "text": {"content": "x"}}),
        )
        .await;
    assert_err(&empty_id, 40058);
}

#[tokio::test]
async fn every_msgtype_is_checked_and_delivered_as_sent() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = customer(&api, "客户").await;
    let image = api.upload_png().await;
    let voice = api
        .upload("voice", "media", b"#!AMR\n0123456789".to_vec())
        .await;
    let send = |body: Value| {
        let mut body = body;
        body["touser"] = json!(who);
        body["open_kfid"] = json!(kfid);
        let api = &api;
        async move { api.post_json("/cgi-bin/kf/send_msg", &body).await }
    };
    // Refusals first: none of these counts toward the quota.
    ok(&writes(&api, &kfid, &who, "你好").await);
    assert_err(
        &send(json!({"msgtype": "text", "text": {"content": "字".repeat(683)}})).await,
        45002,
    );
    assert_err(
        &send(json!({"msgtype": "hologram", "hologram": {}})).await,
        40008,
    );
    assert_err(
        &send(json!({"msgtype": "business_card", "business_card": {"userid": "zhangsan"}})).await,
        40008,
    );
    let items: Vec<Value> = (0..11)
        .map(|i| json!({"type": "click", "click": {"id": i.to_string(), "content": "ok"}}))
        .collect();
    assert_err(
        &send(json!({"msgtype": "msgmenu", "msgmenu": {"head_content": "h", "list": items}})).await,
        95008,
    );
    assert_err(
        &send(json!({"msgtype": "msgmenu", "msgmenu": {"list": [{"type": "dance", "dance": {}}]}}))
            .await,
        95009,
    );
    assert_err(
        &send(json!({"msgtype": "image", "image": {"media_id": "3nosuchmedia"}})).await,
        40007,
    );
    assert_err(
        &send(json!({"msgtype": "voice", "voice": {"media_id": image}})).await,
        40007,
    );
    assert_err(
        &send(json!({"msgtype": "location", "location": {"latitude": 91.0, "longitude": 0.0}}))
            .await,
        40058,
    );
    assert_eq!(inbox(&api, &kfid, &who).await.len(), 0, "nothing half-done");

    // What goes through arrives as sent; long link titles are cut, as the service does.
    ok(&send(json!({"msgtype": "image", "image": {"media_id": image}})).await);
    ok(&send(json!({"msgtype": "voice", "voice": {"media_id": voice["media_id"]}})).await);
    ok(&send(json!({"msgtype": "link", "link": {"title": "标".repeat(50), "url": "https://work.weixin.qq.com", "thumb_media_id": image}})).await);
    ok(&send(json!({"msgtype": "msgmenu", "msgmenu": {"head_content": "满意吗", "list": [
        {"type": "click", "click": {"id": "1", "content": "满意"}},
        {"type": "view", "view": {"url": "https://work.weixin.qq.com", "content": "自助"}},
        {"type": "miniprogram", "miniprogram": {"appid": "wx123", "pagepath": "pages/index", "content": "小程序"}},
        {"type": "text", "text": {"content": "纯文本"}}]}})).await);
    ok(&send(json!({"msgtype": "location", "location": {"latitude": 23.1, "longitude": 113.3, "name": "广州塔"}})).await);
    let seen = inbox(&api, &kfid, &who).await;
    let kinds: Vec<&str> = seen
        .iter()
        .map(|m| m["msgtype"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["image", "voice", "link", "msgmenu", "location"]);
    assert_eq!(
        seen[2]["link"]["title"].as_str().unwrap().len(),
        126,
        "cut to ≤ 128 bytes on a character"
    );
    assert_eq!(seen[3]["msgmenu"]["list"][3]["type"], "text");
    assert_eq!(seen[4]["location"]["name"], "广州塔");
}

#[tokio::test]
async fn a_customer_who_refuses_messages_gets_none_and_the_app_learns_it_from_msg_send_fail() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = customer(&api, "客户").await;
    ok(&writes(&api, &kfid, &who, "你好").await);
    ok(&api
        .post_json(
            &format!("/__emulator/customers/{who}/reject"),
            &json!({"open_kfid": kfid, "reject": true}),
        )
        .await);
    let sent = send_text(&api, &kfid, &who, "广告").await;
    ok(&sent);
    assert!(inbox(&api, &kfid, &who).await.is_empty());
    let items = drain(&api, &kfid).await;
    let fail = items
        .iter()
        .find(|m| m["event"]["event_type"] == "msg_send_fail")
        .unwrap();
    assert_eq!(fail["event"]["fail_type"], 10);
    assert_eq!(fail["event"]["fail_msgid"], sent["msgid"]);
    // It counted: four more, then 95001.
    for _ in 0..4 {
        ok(&send_text(&api, &kfid, &who, "x").await);
    }
    assert_err(&send_text(&api, &kfid, &who, "x").await, 95001);
    ok(&api
        .post_json(
            &format!("/__emulator/customers/{who}/reject"),
            &json!({"open_kfid": kfid, "reject": false}),
        )
        .await);
    ok(&writes(&api, &kfid, &who, "好吧").await);
    ok(&send_text(&api, &kfid, &who, "欢迎回来").await);
    assert_eq!(inbox(&api, &kfid, &who).await.len(), 1);
}

async fn on_event(api: &Api, code: &Value, body: Value) -> Value {
    let mut body = body;
    body["code"] = code.clone();
    api.post_json("/cgi-bin/kf/send_msg_on_event", &body).await
}

fn text(s: &str) -> Value {
    json!({"msgtype": "text", "text": {"content": s}})
}

#[tokio::test]
async fn event_codes_last_their_time_are_single_use_and_follow_the_session() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let enter = |who: String| {
        let api = &api;
        let kfid = kfid.clone();
        async move {
            let answer = api
                .post_json(
                    &format!("/__emulator/customers/{who}/enter"),
                    &json!({"open_kfid": kfid}),
                )
                .await;
            ok(&answer);
            answer["welcome_code"].clone()
        }
    };
    // Welcome: text or msgmenu, once, within 20 s.
    let jia = customer(&api, "甲").await;
    let code = enter(jia.clone()).await;
    assert_err(
        &on_event(
            &api,
            &code,
            json!({"msgtype": "image", "image": {"media_id": "m"}}),
        )
        .await,
        40008,
    );
    let welcome = on_event(&api, &code, text("欢迎光临")).await;
    ok(&welcome);
    assert_err(&on_event(&api, &code, text("again")).await, 95007);
    let seen = inbox(&api, &kfid, &jia).await;
    assert_eq!(seen[0]["text"]["content"], "欢迎光临");
    assert_eq!(seen[0]["msgid"], welcome["msgid"]);
    let yi = customer(&api, "乙").await;
    let late = enter(yi).await;
    api.em().emulator().advance_clock(21);
    let expired = on_event(&api, &late, text("too late")).await;
    assert_err(&expired, 95007);
    assert!(
        expired["errmsg"].as_str().unwrap().contains("expired"),
        "{expired}"
    );
    assert_err(
        &on_event(&api, &json!("nosuchcode"), text("x")).await,
        95007,
    );

    // Queue: text only, 48 h, only while queued.
    let bing = customer(&api, "丙").await;
    ok(&writes(&api, &kfid, &bing, "排队").await);
    let queued = trans(&api, &kfid, &bing, 2, None).await;
    let code = queued["msg_code"].clone();
    let menu = json!({"msgtype": "msgmenu", "msgmenu": {"head_content": "h", "list": []}});
    assert_err(&on_event(&api, &code, menu.clone()).await, 40008);
    api.em().emulator().advance_clock(3600);
    ok(&on_event(&api, &code, text("前面还有3位")).await);
    let ding = customer(&api, "丁").await;
    ok(&writes(&api, &kfid, &ding, "排队").await);
    let code = trans(&api, &kfid, &ding, 2, None).await["msg_code"].clone();
    ok(&api
        .post_json(
            "/__emulator/servicers/zhangsan/take",
            &json!({"open_kfid": kfid, "external_userid": ding}),
        )
        .await);
    let moved = on_event(&api, &code, text("still queued?")).await;
    assert_err(&moved, 95007);
    assert!(
        moved["errmsg"].as_str().unwrap().contains("left the state"),
        "{moved}"
    );

    // End: 20 s, while ended; jia new session voids it.
    let wu = customer(&api, "戊").await;
    ok(&writes(&api, &kfid, &wu, "再见").await);
    let code = trans(&api, &kfid, &wu, 4, None).await["msg_code"].clone();
    ok(&on_event(&api, &code, menu).await);
    let ji = customer(&api, "己").await;
    ok(&writes(&api, &kfid, &ji, "再见").await);
    let code = trans(&api, &kfid, &ji, 4, None).await["msg_code"].clone();
    ok(&writes(&api, &kfid, &ji, "我又来了").await);
    assert_err(&on_event(&api, &code, text("bye")).await, 95007);
    // A msgid of ours: the retry of jia success is told it was sent, not 95007.
    let geng = customer(&api, "庚").await;
    ok(&writes(&api, &kfid, &geng, "再见").await);
    let code = trans(&api, &kfid, &geng, 4, None).await["msg_code"].clone();
    let mut once = text("感谢咨询");
    once["msgid"] = json!("bye-g");
    ok(&on_event(&api, &code, once.clone()).await);
    assert_err(&on_event(&api, &code, once).await, 40058);
}

#[tokio::test]
async fn recalls_of_the_app_the_customer_and_servicers() {
    let api = Api::new().await;
    let kfid = account_with_servicers(&api).await;
    let who = customer(&api, "客户").await;
    let said = writes(&api, &kfid, &who, "说错了").await;
    let sent = send_text(&api, &kfid, &who, "收回这条").await;
    let recall = |msgid: &Value| {
        let body = json!({"open_kfid": kfid, "msgid": msgid});
        let api = &api;
        async move { api.post_json("/cgi-bin/kf/recall_msg", &body).await }
    };
    ok(&recall(&sent["msgid"]).await);
    assert_eq!(inbox(&api, &kfid, &who).await[0]["recalled"], true);
    ok(&recall(&sent["msgid"]).await);
    // Only the app's own sends.
    assert_err(&recall(&said["msgid"]).await, 40058);
    let later = send_text(&api, &kfid, &who, "两分钟后").await;
    api.em().emulator().advance_clock(121);
    let late = recall(&later["msgid"]).await;
    assert_err(&late, 40058);
    assert!(
        late["errmsg"].as_str().unwrap().contains("2 minutes"),
        "{late}"
    );

    // The customer recalls: user_recall_msg. A servicer recalls: servicer_recall_msg.
    let said = writes(&api, &kfid, &who, "撤回我").await;
    ok(&api
        .post_json(
            &format!("/__emulator/customers/{who}/recall"),
            &json!({"open_kfid": kfid, "msgid": said["msgid"]}),
        )
        .await);
    ok(&trans(&api, &kfid, &who, 3, Some("zhangsan")).await);
    let reply = api
        .post_json(
            "/__emulator/servicers/zhangsan/send",
            &json!({"open_kfid": kfid, "external_userid": who, "msgtype": "text", "text": {"content": "打错了"}}),
        )
        .await;
    assert_err(
        &api.post_json(
            "/__emulator/servicers/wangwu/recall",
            &json!({"open_kfid": kfid, "msgid": reply["msgid"]}),
        )
        .await,
        40058,
    );
    ok(&api
        .post_json(
            "/__emulator/servicers/zhangsan/recall",
            &json!({"open_kfid": kfid, "msgid": reply["msgid"]}),
        )
        .await);
    ok(&api
        .post_json(
            "/__emulator/servicers/zhangsan/reject",
            &json!({"open_kfid": kfid, "external_userid": who, "reject": true}),
        )
        .await);
    let items = drain(&api, &kfid).await;
    assert_eq!(
        event_types(&items),
        [
            "user_recall_msg",
            "servicer_recall_msg",
            "reject_customer_msg_switch_change"
        ]
    );
    let recalled = items
        .iter()
        .find(|m| m["event"]["event_type"] == "user_recall_msg")
        .unwrap();
    assert_eq!(recalled["event"]["recall_msgid"], said["msgid"]);
    let by_servicer = items
        .iter()
        .find(|m| m["event"]["event_type"] == "servicer_recall_msg")
        .unwrap();
    assert_eq!(by_servicer["event"]["servicer_userid"], "zhangsan");
    assert!(
        inbox(&api, &kfid, &who)
            .await
            .iter()
            .any(|m| m["recalled"] == true && m["from"] == "servicer")
    );
}
