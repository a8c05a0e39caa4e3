//! The message model against the documents' examples (docs/kf-api.md §4.5–4.9): every
//! msgtype and event decodes to its own variant and serializes back to the same JSON;
//! what this version does not know is kept whole; every send limit is checked.

// Each test walks one table of limits; splitting it would scatter the table.
#![allow(clippy::too_many_lines)]

use serde_json::{Value, json};
use wecom_kf_types::kf::message::{
    ChangeType, Content, Event, FailType, MSGTYPES, Menu, MenuItem, Message, Origin, ServingChange,
};
use wecom_kf_types::kf::recall_msg::RecallMsg;
use wecom_kf_types::kf::send_msg::SendMsg;
use wecom_kf_types::kf::send_msg_on_event::{EventScenario, SendMsgOnEvent};
use wecom_kf_types::kf::sync_msg::{SyncMsg, SyncMsgResponse};
use wecom_kf_types::{Endpoint, ErrCode, Reply};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn page() -> (Value, SyncMsgResponse) {
    let doc = fixture("kf_sync_msg.response.json");
    let reply: Reply<SyncMsgResponse> = serde_json::from_value(doc.clone()).unwrap();
    (doc, reply.body.unwrap())
}

#[test]
fn every_msgtype_and_event_of_the_documents_decodes_to_its_own_variant() {
    let (_, page) = page();
    assert!(page.more());
    let mut msgtypes: Vec<&str> = Vec::new();
    let mut event_types: Vec<&str> = Vec::new();
    for m in &page.msg_list {
        assert!(
            !matches!(m.content, Content::Other { .. }),
            "{} decoded as Other",
            m.msgid
        );
        if let Some(event) = m.event() {
            assert!(!matches!(event, Event::Other { .. }), "{event:?}");
            assert_eq!(m.origin, Origin::Event);
            event_types.push(event.event_type());
        }
        msgtypes.push(m.content.msgtype());
    }
    msgtypes.dedup();
    assert_eq!(
        msgtypes, MSGTYPES,
        "the fixture covers every msgtype, in order"
    );
    event_types.dedup();
    assert_eq!(event_types, wecom_kf_types::kf::message::EVENT_TYPES);

    let by_id = |suffix: &str| {
        page.msg_list
            .iter()
            .find(|m| m.msgid.ends_with(suffix))
            .unwrap()
    };
    let click = by_id("452401");
    assert!(matches!(&click.content, Content::Text(t) if t.menu_id.as_deref() == Some("101")));
    let menu = by_id("452410");
    assert_eq!(menu.origin, Origin::Servicer);
    assert_eq!(menu.servicer_userid.as_deref(), Some("zhangsan"));
    let Content::Menu(menu) = &menu.content else {
        panic!("{menu:?}")
    };
    assert_eq!(
        menu.list.iter().map(MenuItem::kind).collect::<Vec<_>>(),
        ["click", "view", "miniprogram", "text"]
    );
    let Some(Event::EnterSession(enter)) = by_id("452500").event() else {
        panic!()
    };
    assert_eq!(enter.welcome_code.as_deref(), Some("aaaaaa"));
    assert_eq!(enter.wechat_channels.as_ref().unwrap().scene, 1);
    assert_eq!(
        by_id("452500").external_userid(),
        Some(enter.external_userid.as_str())
    );
    let Some(Event::MsgSendFail(fail)) = by_id("452501").event() else {
        panic!()
    };
    assert_eq!(fail.fail_type, FailType::SessionExpired);
    let Some(Event::ServicerStatusChange(status)) = by_id("452502").event() else {
        panic!()
    };
    assert_eq!(status.status, ServingChange::Stopped);
    let changes: Vec<ChangeType> = page
        .msg_list
        .iter()
        .filter_map(|m| match m.event() {
            Some(Event::SessionStatusChange(c)) => Some(c.change_type),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        [
            ChangeType::Taken,
            ChangeType::Transferred,
            ChangeType::Ended,
            ChangeType::Reentered
        ]
    );
}

#[test]
fn the_page_serializes_back_to_the_same_json() {
    let (doc, page) = page();
    let mut back = serde_json::to_value(&page).unwrap();
    back["errcode"] = json!(0);
    back["errmsg"] = json!("ok");
    assert_eq!(back, doc);
}

#[test]
fn unknown_msgtypes_events_and_misfit_payloads_are_kept_whole() {
    let raw = json!({"msgid":"m1","send_time":1,"origin":3,"msgtype":"hologram",
        "hologram":{"depth":3,"frames":[1,2]},"open_kfid":"wk1"});
    let m: Message = serde_json::from_value(raw.clone()).unwrap();
    assert!(
        matches!(&m.content, Content::Other { msgtype, raw } if msgtype == "hologram" && raw["frames"][1] == 2)
    );
    assert_eq!(serde_json::to_value(&m).unwrap(), raw);

    let raw = json!({"msgid":"m2","send_time":1,"origin":4,"msgtype":"event",
        "event":{"event_type":"servicer_teleported","open_kfid":"wk9","to":"mars"}});
    let m: Message = serde_json::from_value(raw.clone()).unwrap();
    assert!(
        matches!(m.event(), Some(Event::Other { event_type, .. }) if event_type == "servicer_teleported")
    );
    assert_eq!(m.open_kfid(), Some("wk9"));
    assert_eq!(serde_json::to_value(&m).unwrap(), raw);

    // A known type whose payload changed shape is kept, not an error of the page.
    let raw = json!({"msgid":"m3","send_time":1,"origin":3,"msgtype":"text","text":{"content":7}});
    let m: Message = serde_json::from_value(raw.clone()).unwrap();
    assert!(matches!(&m.content, Content::Other { msgtype, .. } if msgtype == "text"));
    assert_eq!(serde_json::to_value(&m).unwrap(), raw);

    // The payload may come before msgtype; new origins and fail types are numbers kept.
    let m: Message = serde_json::from_str(
        r#"{"text":{"content":"hi"},"origin":9,"msgid":"m4","send_time":1,"msgtype":"text"}"#,
    )
    .unwrap();
    assert_eq!(m.content.as_text(), Some("hi"));
    assert_eq!(m.origin, Origin::Other(9));
    assert_eq!(u32::from(FailType::from(99)), 99);
}

#[test]
fn the_requests_of_the_documents_round_trip_and_pass_validation() {
    fn round_trip<T: Endpoint + std::fmt::Debug>(name: &str) -> T {
        let doc = fixture(name);
        let parsed: T = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), doc, "{name}");
        parsed
    }
    round_trip::<SyncMsg>("kf_sync_msg.request.json")
        .validate()
        .unwrap();
    for kind in ["text", "link", "msgmenu", "location", "miniprogram"] {
        let send = round_trip::<SendMsg>(&format!("kf_send_msg.{kind}.request.json"));
        send.validate().unwrap();
        assert_eq!(send.content.msgtype(), kind);
    }
    round_trip::<SendMsgOnEvent>("kf_send_msg_on_event.request.json")
        .validate()
        .unwrap();
    round_trip::<RecallMsg>("kf_recall_msg.request.json")
        .validate()
        .unwrap();
    let reply: Reply<wecom_kf_types::kf::send_msg::SendMsgResponse> =
        serde_json::from_value(fixture("kf_send_msg.response.json")).unwrap();
    assert_eq!(reply.body.unwrap().msgid, "MSG_ID");
}

fn send(content: Content) -> SendMsg {
    SendMsg::new(
        "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw",
        "wmAJ2GCAAAme1XQRC",
        content,
    )
}

fn refused(request: &impl Endpoint) -> (String, ErrCode) {
    let err = request.validate().unwrap_err();
    (err.field.to_owned(), err.errcode)
}

#[test]
fn every_send_limit_is_checked_with_the_services_code() {
    use wecom_kf_types::kf::message::{Link, Location, Media, Miniprogram};
    let ok = |r: &SendMsg| r.validate().unwrap();
    ok(&send(Content::text("a".repeat(2048))));
    assert_eq!(
        refused(&send(Content::text("a".repeat(2049)))),
        ("text.content".into(), ErrCode::CONTENT_SIZE_OUT_OF_LIMIT)
    );
    assert_eq!(refused(&send(Content::text(""))).0, "text.content");
    // msgid: ≤ 32 bytes of [0-9a-zA-Z_-], never empty.
    ok(&send(Content::text("hi")).msgid("a".repeat(32)));
    for bad in ["a".repeat(33), "有".into(), "a b".into(), String::new()] {
        assert_eq!(
            refused(&send(Content::text("hi")).msgid(bad)),
            ("msgid".into(), ErrCode::INVALID_PARAMETER)
        );
    }
    // Menus: ≤ 10 items (95008), known item types (95009), field sizes, head/tail.
    let items = |n: usize| {
        (0..n).fold(Menu::new("head"), |m, i| {
            m.item(MenuItem::click(i.to_string(), "ok"))
        })
    };
    ok(&send(Content::Menu(items(10))));
    assert_eq!(
        refused(&send(Content::Menu(items(11)))),
        ("msgmenu.list".into(), ErrCode::MENU_ITEMS_OUT_OF_LIMIT)
    );
    let odd: MenuItem = serde_json::from_value(json!({"type":"dance","dance":{}})).unwrap();
    assert_eq!(
        refused(&send(Content::Menu(Menu::new("h").item(odd)))).1,
        ErrCode::INVALID_MENU_ITEM_TYPE
    );
    for (item, field) in [
        (
            MenuItem::click("a".repeat(65), "x"),
            "msgmenu.list[].click.id",
        ),
        (
            MenuItem::click("1", "x".repeat(129)),
            "msgmenu.list[].click.content",
        ),
        (MenuItem::view("ftp://x", "x"), "msgmenu.list[].view.url"),
        (
            MenuItem::view("https://x", "x".repeat(1025)),
            "msgmenu.list[].view.content",
        ),
        (
            MenuItem::miniprogram("a".repeat(33), "p", "c"),
            "msgmenu.list[].miniprogram.appid",
        ),
        (
            MenuItem::miniprogram("wx1", "", "c"),
            "msgmenu.list[].miniprogram.pagepath",
        ),
    ] {
        assert_eq!(
            refused(&send(Content::Menu(Menu::new("h").item(item)))).0,
            field
        );
    }
    let mut head = Menu::new("h".repeat(1025));
    assert_eq!(
        refused(&send(Content::Menu(head.clone()))).0,
        "msgmenu.head_content"
    );
    head = Menu::new("h").tail("t".repeat(1025));
    assert_eq!(
        refused(&send(Content::Menu(head))).0,
        "msgmenu.tail_content"
    );
    // Places and links.
    ok(&send(Content::Location(Location::new(-90.0, 180.0))));
    assert_eq!(
        refused(&send(Content::Location(Location::new(90.5, 0.0)))).0,
        "location.latitude"
    );
    assert_eq!(
        refused(&send(Content::Location(Location::new(0.0, -181.0)))).0,
        "location.longitude"
    );
    assert_eq!(
        refused(&send(Content::Location(Location::new(f64::NAN, 0.0)))).0,
        "location.latitude"
    );
    ok(&send(Content::Link(Link::new(
        "t",
        "https://work.weixin.qq.com",
        "MEDIA",
    ))));
    for url in [
        "work.weixin.qq.com",
        "javascript:alert(1)",
        "https://",
        &format!("https://{}", "a".repeat(2048)),
    ] {
        assert_eq!(
            refused(&send(Content::Link(Link::new("t", url, "MEDIA")))).0,
            "link.url"
        );
    }
    assert_eq!(refused(&send(Content::Image(Media::new("")))).0, "media_id");
    assert_eq!(
        refused(&send(Content::Miniprogram(Miniprogram::new("", "p", "m")))).0,
        "miniprogram.appid"
    );
    // What kf/send_msg cannot send.
    let card: Content = Content::from_wire("business_card", json!({"userid":"u"}));
    assert_eq!(
        refused(&send(card)),
        ("msgtype".into(), ErrCode::INVALID_MSGTYPE)
    );
    let new_kind = Content::from_wire("ca_link", json!({"link_url":"https://x"}));
    assert_eq!(refused(&send(new_kind)).1, ErrCode::INVALID_MSGTYPE);
    // The ids.
    assert_eq!(
        refused(&SendMsg::new("", "wm1", Content::text("x"))).0,
        "open_kfid"
    );
    assert_eq!(
        refused(&SendMsg::new("wk1", "", Content::text("x"))).0,
        "touser"
    );
}

#[test]
fn an_event_message_is_checked_for_its_scenario() {
    let menu = Content::Menu(Menu::new("h").item(MenuItem::click("1", "ok")));
    let image = Content::Image(wecom_kf_types::kf::message::Media::new("M"));
    assert_eq!(
        refused(&SendMsgOnEvent::new("C", image)).1,
        ErrCode::INVALID_MSGTYPE
    );
    for scenario in [EventScenario::Welcome, EventScenario::End] {
        SendMsgOnEvent::new("C", menu.clone())
            .scenario(scenario)
            .validate()
            .unwrap();
    }
    for scenario in [EventScenario::Queued, EventScenario::Taken] {
        let err = SendMsgOnEvent::new("C", menu.clone())
            .scenario(scenario)
            .validate()
            .unwrap_err();
        assert_eq!(err.errcode, ErrCode::INVALID_MSGTYPE);
        assert!(err.to_string().contains("text, for a"), "{err}");
    }
    assert_eq!(
        refused(&SendMsgOnEvent::new("", Content::text("x"))).0,
        "code"
    );
    // An inbound msgid (44 bytes) reused as ours: the forum's 40058.
    let reused = SendMsgOnEvent::new("C", Content::text("x"))
        .msgid("from_msgid_4622416642169452483000000000000000");
    assert_eq!(
        refused(&reused),
        ("msgid".into(), ErrCode::INVALID_PARAMETER)
    );
}

#[test]
fn sync_requests_always_carry_open_kfid_and_their_limits() {
    assert_eq!(
        serde_json::to_value(SyncMsg::new("wk1")).unwrap(),
        json!({"open_kfid":"wk1"})
    );
    assert_eq!(refused(&SyncMsg::new("")).0, "open_kfid");
    assert_eq!(
        refused(&SyncMsg::new("wk1").cursor("c".repeat(65))).0,
        "cursor"
    );
    assert_eq!(
        refused(&SyncMsg::new("wk1").token("t".repeat(129))).0,
        "token"
    );
    assert_eq!(refused(&SyncMsg::new("wk1").limit(0)).0, "limit");
    assert_eq!(
        refused(&SyncMsg::new("wk1").voice_format(2)).0,
        "voice_format"
    );
    SyncMsg::new("wk1")
        .cursor("c".repeat(64))
        .token("t".repeat(128))
        .limit(1)
        .validate()
        .unwrap();
}

#[test]
fn a_send_with_a_msgid_is_retryable_and_its_duplicate_means_sent() {
    let first = send(Content::text("hi"));
    assert!(!first.idempotent());
    assert_eq!(first.already_done(ErrCode::INVALID_PARAMETER), None);
    let ours = first.msgid("abc");
    assert!(ours.idempotent());
    assert_eq!(
        ours.already_done(wecom_kf_types::kf::send_msg::DUPLICATE_MSGID)
            .unwrap()
            .msgid,
        "abc"
    );
    assert_eq!(ours.already_done(ErrCode::SEND_COUNT_OUT_OF_LIMIT), None);
}
