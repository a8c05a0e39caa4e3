//! `client.session()`, `client.customer()`, `client.stats()` against the emulator.

use serde_json::json;
use wecom_kf::Error;
use wecom_kf::types::ErrCode;
use wecom_kf::types::kf::service_state::ServiceState;
use wecom_kf::types::kf::statistic::DayRange;

use crate::{avatar, calls, client, control, customer_who_wrote, emulator};

async fn account(em: &wecom_kf_emulator::Running, client: &wecom_kf::Client) -> String {
    em.emulator()
        .put_member("zhangsan", "张三", &[], true)
        .unwrap();
    let kfid = client
        .account()
        .add("售后", avatar(client).await)
        .await
        .unwrap();
    let added = client
        .servicer()
        .add(&kfid, &["zhangsan".to_owned()], &[])
        .await
        .unwrap();
    assert!(added.all_ok());
    kfid
}

#[tokio::test]
async fn each_move_has_its_method_and_returns_the_msg_code() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = account(&em, &client).await;
    let who = customer_who_wrote(&em, &kfid).await;
    let session = client.session();
    assert_eq!(
        session.get(&kfid, &who).await.unwrap().service_state,
        ServiceState::New
    );
    let moved = session.to_bot(&kfid, &who).await.unwrap();
    assert_eq!(
        (moved.from, moved.to, moved.msg_code),
        (ServiceState::New, ServiceState::Bot, None)
    );
    let moved = session.to_queue(&kfid, &who).await.unwrap();
    assert!(
        moved.msg_code.is_some(),
        "the first move to the queue issues a reply code"
    );
    let moved = session.assign(&kfid, &who, "zhangsan").await.unwrap();
    assert_eq!(moved.to, ServiceState::Human);
    // Issue 22's fidelity point (spec §4.4, §4.8): the first move to 3 has its own
    // code, for the "taken" notice, even after the move to the queue issued one.
    assert!(
        moved.msg_code.is_some(),
        "the first move to a servicer issues its own code"
    );
    let info = session.get(&kfid, &who).await.unwrap();
    assert_eq!(info.servicer_userid.as_deref(), Some("zhangsan"));
    let moved = session.end(&kfid, &who).await.unwrap();
    assert!(moved.msg_code.is_some(), "an end issues an end code");
}

#[tokio::test]
async fn a_forbidden_move_is_refused_before_it_is_sent_and_says_where_it_may_go() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = account(&em, &client).await;
    let who = customer_who_wrote(&em, &kfid).await;
    client.session().to_queue(&kfid, &who).await.unwrap();
    let trans = "/cgi-bin/kf/service_state/trans";
    let before = calls(&em, trans);
    let err = client.session().to_bot(&kfid, &who).await.unwrap_err();
    assert!(err.is_validation(), "{err:?}");
    assert_eq!(err.api_code(), Some(ErrCode::STATE_TRANSITION_NOT_ALLOWED));
    let text = err.to_string();
    assert!(
        text.contains("state 2 queued") && text.contains("[3,4]") && text.contains("not sent"),
        "{text}"
    );
    assert_eq!(calls(&em, trans), before, "nothing was sent");
    // Out of an ended session: 95013.
    client.session().end(&kfid, &who).await.unwrap();
    let err = client.session().to_queue(&kfid, &who).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForbiddenMove {
                code: ErrCode::SESSION_ENDED,
                ..
            }
        ),
        "{err:?}"
    );
    // A missing servicer is a validation error too, before anything is sent.
    let err = client.session().assign(&kfid, &who, "").await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation(i) if i.field == "servicer_userid"),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_diagnosis_of_95018_reads_the_state_and_names_the_servicer() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = account(&em, &client).await;
    control(
        &em,
        &format!("/__emulator/accounts/{kfid}/routing"),
        &json!({"mode": "servicers"}),
    )
    .await;
    let who = customer_who_wrote(&em, &kfid).await;
    let diagnosis = client
        .session()
        .diagnose(&kfid, &who, ErrCode::SEND_SESSION_STATUS_INVALID)
        .await;
    let state = diagnosis.state.as_ref().unwrap();
    assert_eq!(state.service_state, ServiceState::Human);
    let text = diagnosis.to_string();
    assert!(text.contains("served by zhangsan"), "{text}");
    assert!(text.contains("zhangsan took the session over"), "{text}");
    // The servicer stops; the next customer waits in the queue, and the words change.
    control(
        &em,
        "/__emulator/servicers/zhangsan/status",
        &json!({"open_kfid": kfid, "status": 1}),
    )
    .await;
    let queued = customer_who_wrote(&em, &kfid).await;
    let diagnosis = client
        .session()
        .diagnose(&kfid, &queued, ErrCode::SEND_SESSION_STATUS_INVALID)
        .await;
    assert!(diagnosis.cause.contains("queue"), "{diagnosis}");
    // Assigning to the stopped servicer is refused by the service with 95019.
    let err = client
        .session()
        .assign(&kfid, &queued, "zhangsan")
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrCode::SERVICER_STOPPED), "{err}");
}

#[tokio::test]
async fn customers_come_in_calls_of_100_with_unknown_ids_apart() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = account(&em, &client).await;
    let known = customer_who_wrote(&em, &kfid).await;
    let mut ids: Vec<String> = (0..150).map(|i| format!("wmUNKNOWN{i}")).collect();
    ids.insert(120, known.clone());
    let batchget = "/cgi-bin/kf/customer/batchget";
    let before = calls(&em, batchget);
    let customers = client.customer().get(&ids).await.unwrap();
    assert_eq!(calls(&em, batchget) - before, 2);
    assert_eq!(customers.found.len(), 1);
    assert_eq!(customers.found[0].external_userid, known);
    assert_eq!(customers.invalid.len(), 150);
    let err = client.customer().get(&[]).await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation(i) if i.field == "external_userid_list"),
        "{err:?}"
    );
    let err = client
        .customer()
        .get(&[known, "x".repeat(65)])
        .await
        .unwrap_err();
    assert!(err.is_validation(), "{err:?}");
    assert_eq!(
        calls(&em, batchget) - before,
        2,
        "a bad id is refused before any call"
    );
}

#[tokio::test]
async fn stats_check_the_days_before_sending() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = account(&em, &client).await;
    let now = em.emulator().now();
    let path = "/cgi-bin/kf/get_corp_statistic";
    let before = calls(&em, path);
    for (range, field) in [
        (DayRange::new(now, now), "end_time"),
        (DayRange::new(now - 40 * 86_400, now - 86_400), "end_time"),
        (
            DayRange::new(now - 200 * 86_400, now - 190 * 86_400),
            "start_time",
        ),
    ] {
        let err = client.stats().corp(&kfid, range).await.unwrap_err();
        assert!(
            matches!(&err, Error::Validation(i) if i.field == field),
            "{err:?}"
        );
    }
    assert_eq!(calls(&em, path), before);
    let days = client
        .stats()
        .corp(&kfid, DayRange::new(now - 7 * 86_400, now - 86_400))
        .await
        .unwrap();
    assert_eq!(days.len(), 7);
    let servicer = client
        .stats()
        .servicer(
            &kfid,
            DayRange::new(now - 86_400, now - 86_400),
            Some("zhangsan"),
        )
        .await
        .unwrap();
    assert_eq!(servicer.len(), 1);
    assert!(
        client
            .corp_qualification()
            .await
            .unwrap()
            .wechat_channels_binding
    );
}
