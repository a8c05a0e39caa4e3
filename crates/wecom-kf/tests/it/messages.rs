//! `client.message()` against the emulator: sends with msgids of ours that make retries
//! safe, refusals explained from the session, and streams that read to the end.

use std::time::Duration;

use futures_util::TryStreamExt;
use serde_json::json;
use wecom_kf::types::kf::message::{Content, Event, Menu, MenuItem};
use wecom_kf::types::kf::send_msg::SendMsg;
use wecom_kf::types::kf::send_msg_on_event::{EventScenario, SendMsgOnEvent};
use wecom_kf::types::kf::sync_msg::SyncMsg;
use wecom_kf::types::{Endpoint, ErrCode};
use wecom_kf::{Error, RetryPolicy};
use wecom_kf_emulator::{Fault, FaultRule};

use crate::{builder, calls, client, control, customer_who_wrote, emulator, inbox};

#[tokio::test]
async fn a_send_carries_our_msgid_and_bad_input_is_refused_before_sending() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let who = customer_who_wrote(&em, &kfid).await;
    let msgid = client
        .message()
        .send(&kfid, &who, Content::text("您好"))
        .await
        .unwrap();
    assert_eq!(msgid.len(), 32);
    assert!(msgid.bytes().all(|b| b.is_ascii_alphanumeric()));
    let seen = inbox(&em, &kfid, &who).await;
    assert_eq!(seen[0]["msgid"], msgid.as_str());

    let before = calls(&em, SendMsg::PATH);
    let err = client
        .message()
        .send(&kfid, &who, Content::text("长".repeat(700)))
        .await
        .unwrap_err();
    assert!(err.is_validation(), "{err}");
    assert_eq!(err.api_code(), None);
    assert!(err.to_string().contains("text.content"), "{err}");
    let menu = (0..11).fold(Menu::new("选一个"), |m, i| {
        m.item(MenuItem::click(i.to_string(), "项"))
    });
    let err = client
        .message()
        .send(&kfid, &who, Content::Menu(menu))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation(i) if i.errcode == ErrCode::MENU_ITEMS_OUT_OF_LIMIT),
        "{err}"
    );
    assert_eq!(calls(&em, SendMsg::PATH), before, "nothing was sent");
}

#[tokio::test]
async fn a_send_whose_answer_was_lost_is_retried_with_its_msgid_and_arrives_once() {
    let em = emulator().await;
    let client = builder(&em)
        .retry_policy(
            RetryPolicy::attempts(3)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let kfid = crate::account(&client).await;
    let who = customer_who_wrote(&em, &kfid).await;
    em.emulator().add_fault(FaultRule {
        fault: Fault::DropAfterCommit,
        endpoint: Some(SendMsg::PATH.into()),
        count: Some(1),
        rate: None,
    });
    let msgid = client
        .message()
        .send(&kfid, &who, Content::text("只发一次"))
        .await
        .unwrap();
    assert_eq!(
        calls(&em, SendMsg::PATH),
        2,
        "the retry was told it was sent"
    );
    let seen = inbox(&em, &kfid, &who).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["msgid"], msgid.as_str());

    // Without a msgid a lost answer is not retried: it is OutcomeUnknown.
    em.emulator().add_fault(FaultRule {
        fault: Fault::DropAfterCommit,
        endpoint: Some(SendMsg::PATH.into()),
        count: Some(1),
        rate: None,
    });
    let bare = SendMsg::new(&kfid, &who, Content::text("无msgid"));
    let err = client.execute(&bare).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("same msgid"), "{err}");
}

#[tokio::test]
async fn a_refused_send_says_why_from_the_session() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    em.emulator()
        .put_member("zhangsan", "张三", &[], true)
        .unwrap();
    client
        .servicer()
        .add(&kfid, &["zhangsan".to_owned()], &[])
        .await
        .unwrap();
    let who = customer_who_wrote(&em, &kfid).await;
    client
        .session()
        .assign(&kfid, &who, "zhangsan")
        .await
        .unwrap();
    let err = client
        .message()
        .send(&kfid, &who, Content::text("机器人来了"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrCode::SEND_SESSION_STATUS_INVALID));
    let diagnosis = err.diagnosis().expect("a diagnosis");
    assert!(
        diagnosis.cause.contains("zhangsan took the session over"),
        "{diagnosis}"
    );
    assert!(err.to_string().contains("what to do:"), "{err}");

    // The quota: five, then 95001 explained.
    let other = customer_who_wrote(&em, &kfid).await;
    for n in 0..5 {
        client
            .message()
            .send(&kfid, &other, Content::text(n.to_string()))
            .await
            .unwrap();
    }
    let err = client
        .message()
        .send(&kfid, &other, Content::text("6"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrCode::SEND_COUNT_OUT_OF_LIMIT));
    assert!(
        err.diagnosis()
            .unwrap()
            .action
            .contains("customer to write again")
    );
}

#[tokio::test]
async fn streams_follow_has_more_through_empty_pages_to_the_end() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let who = customer_who_wrote(&em, &kfid).await;
    // Three app sends between two customer messages: with pages of 2, one page is
    // empty while has_more is 1.
    for n in 0..3 {
        client
            .message()
            .send(&kfid, &who, Content::text(n.to_string()))
            .await
            .unwrap();
    }
    control(
        &em,
        &format!("/__emulator/customers/{who}/send"),
        &json!({"open_kfid": kfid, "msgtype": "text", "text": {"content": "最后"}}),
    )
    .await;
    let pages: Vec<_> = client
        .message()
        .pages(SyncMsg::new(&kfid).limit(2))
        .try_collect()
        .await
        .unwrap();
    assert!(
        pages.iter().any(|p| p.msg_list.is_empty() && p.more()),
        "{pages:?}"
    );
    let all: Vec<_> = client
        .message()
        .messages(SyncMsg::new(&kfid).limit(2))
        .try_collect()
        .await
        .unwrap();
    let texts: Vec<_> = all.iter().filter_map(|m| m.content.as_text()).collect();
    assert_eq!(texts, ["你好", "最后"]);
    // Resuming from the last cursor reads nothing new.
    let last = pages.last().unwrap().next_cursor.clone();
    let rest: Vec<_> = client
        .message()
        .messages(SyncMsg::new(&kfid).cursor(last))
        .try_collect()
        .await
        .unwrap();
    assert!(rest.is_empty());
}

#[tokio::test]
async fn welcome_and_recall() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = crate::account(&client).await;
    let answer = control(&em, "/__emulator/customers", &json!({"nickname": "新客"})).await;
    let who = answer["external_userid"].as_str().unwrap().to_owned();
    control(
        &em,
        &format!("/__emulator/customers/{who}/enter"),
        &json!({"open_kfid": kfid, "scene": "ad"}),
    )
    .await;
    let event = client
        .message()
        .sync(&kfid)
        .await
        .unwrap()
        .msg_list
        .remove(0);
    let Some(Event::EnterSession(enter)) = event.event() else {
        panic!("{event:?}")
    };
    let code = enter.welcome_code.clone().unwrap();
    let image = Content::Image(wecom_kf::types::kf::message::Media::new("m"));
    let err = client
        .message()
        .send_on_event(SendMsgOnEvent::new(&code, image).scenario(EventScenario::Welcome))
        .await
        .unwrap_err();
    assert!(err.is_validation(), "{err}");
    let msgid = client
        .message()
        .send_on_event(
            SendMsgOnEvent::new(&code, Content::text("欢迎！")).scenario(EventScenario::Welcome),
        )
        .await
        .unwrap();
    let again = client
        .message()
        .send_on_event(SendMsgOnEvent::new(&code, Content::text("again")))
        .await
        .unwrap_err();
    assert_eq!(again.api_code(), Some(ErrCode::INVALID_MSGTOKEN));
    assert_eq!(inbox(&em, &kfid, &who).await[0]["msgid"], msgid.as_str());
    // Recall needs a session send; the welcome is a send of the app too.
    client.message().recall(&kfid, &msgid).await.unwrap();
    client.message().recall(&kfid, &msgid).await.unwrap();
    assert_eq!(inbox(&em, &kfid, &who).await[0]["recalled"], true);
}
