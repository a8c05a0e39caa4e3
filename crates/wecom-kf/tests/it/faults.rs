//! The client under the emulator's fault injection.

use std::time::Duration;

use wecom_kf::Error;
use wecom_kf::types::kf::account::{AddAccount, DeleteAccount, ListAccounts, UpdateAccount};
use wecom_kf::types::{Endpoint, ErrCode};
use wecom_kf_emulator::{Fault, FaultRule};

use crate::{avatar, builder, calls, client, emulator};

fn rule(fault: Fault, endpoint: &str, count: u32) -> FaultRule {
    FaultRule {
        fault,
        endpoint: Some(endpoint.to_owned()),
        count: Some(count),
        rate: None,
    }
}

#[tokio::test]
async fn an_add_whose_connection_drops_after_commit_is_outcome_unknown_and_never_duplicated() {
    let em = emulator().await;
    let client = client(&em);
    let media_id = avatar(&client).await;
    em.emulator()
        .add_fault(rule(Fault::DropAfterCommit, AddAccount::PATH, 1));
    let err = client.account().add("唯一", &media_id).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert!(err.to_string().contains("outcome unknown"), "{err}");
    assert_eq!(calls(&em, AddAccount::PATH), 1, "not retried");
    let listed = client.account().list(0, 100).await.unwrap();
    assert_eq!(
        listed.iter().filter(|a| a.name == "唯一").count(),
        1,
        "the server did commit it, once"
    );
}

#[tokio::test]
async fn non_idempotent_add_is_not_retried_on_ambiguous_failures() {
    let em = emulator().await;
    let client = builder(&em)
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let media_id = avatar(&client).await;
    for fault in [
        Fault::Http502,
        Fault::Truncate,
        Fault::NonJson,
        Fault::Oversized,
        Fault::Latency { ms: 1000 },
        Fault::DropBeforeCommit,
    ] {
        let before = calls(&em, AddAccount::PATH);
        em.emulator()
            .add_fault(rule(fault.clone(), AddAccount::PATH, 1));
        let err = client.account().add("x", &media_id).await.unwrap_err();
        assert!(err.is_outcome_unknown(), "{fault:?}: {err:?}");
        assert_eq!(
            calls(&em, AddAccount::PATH) - before,
            1,
            "{fault:?} was retried"
        );
    }
    // -1 is a clear rejection, not an unknown outcome: reported, not retried for add.
    em.emulator()
        .add_fault(rule(Fault::Errcode { errcode: -1 }, AddAccount::PATH, 1));
    let err = client.account().add("y", &media_id).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrCode::SYSTEM_BUSY));
    assert!(err.is_transient());
    em.emulator().clear_faults();
    // Never more accounts than acknowledged-or-unknown adds.
    assert!(client.account().list(0, 100).await.unwrap().len() <= 6);
}

#[tokio::test]
async fn reads_retry_transient_failures_and_succeed() {
    let em = emulator().await;
    let client = builder(&em)
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    client.account().list(0, 1).await.unwrap();
    for fault in [
        Fault::Errcode { errcode: -1 },
        Fault::Http502,
        Fault::Truncate,
        Fault::NonJson,
        Fault::Oversized,
        Fault::DropBeforeCommit,
        Fault::DropAfterCommit,
        Fault::Latency { ms: 1000 },
    ] {
        let before = calls(&em, ListAccounts::PATH);
        em.emulator()
            .add_fault(rule(fault.clone(), ListAccounts::PATH, 2));
        client
            .account()
            .list(0, 1)
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e:?}"));
        assert_eq!(
            calls(&em, ListAccounts::PATH) - before,
            3,
            "{fault:?}: two failures, one success"
        );
    }
}

#[tokio::test]
async fn reads_give_up_after_the_policy_with_the_typed_error() {
    let em = emulator().await;
    let client = client(&em);
    client.account().list(0, 1).await.unwrap();
    em.emulator()
        .add_fault(rule(Fault::Http502, ListAccounts::PATH, 10));
    let err = client.account().list(0, 1).await.unwrap_err();
    assert!(
        matches!(err, Error::Http { status: 502, ref content_type, .. } if content_type.contains("html")),
        "{err:?}"
    );
    em.emulator().clear_faults();
    // An answer over the size limit is refused, not read into memory; retried like
    // other garbled answers, then reported.
    em.emulator()
        .add_fault(rule(Fault::Oversized, ListAccounts::PATH, 10));
    let err = client.account().list(0, 1).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ResponseTooLarge {
                limit: 4_194_304,
                ..
            }
        ),
        "{err:?}"
    );
    em.emulator().clear_faults();
    // Throttling is surfaced, not hammered.
    em.emulator().add_fault(rule(
        Fault::Errcode { errcode: 45009 },
        ListAccounts::PATH,
        10,
    ));
    let before = calls(&em, ListAccounts::PATH);
    let err = client.account().list(0, 1).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrCode::API_FREQ_OUT_OF_LIMIT));
    assert_eq!(calls(&em, ListAccounts::PATH) - before, 1);
}

#[tokio::test]
async fn update_and_delete_end_in_the_requested_state_after_unknown_outcomes() {
    let em = emulator().await;
    let client = client(&em);
    let media_id = avatar(&client).await;
    let kfid = client.account().add("旧名", &media_id).await.unwrap();

    em.emulator()
        .add_fault(rule(Fault::DropAfterCommit, UpdateAccount::PATH, 1));
    client
        .account()
        .update(UpdateAccount::new(&kfid).name("新名"))
        .await
        .unwrap();
    assert_eq!(client.account().list(0, 1).await.unwrap()[0].name, "新名");

    // The first del commits and the connection drops; the retry gets 95004: done.
    em.emulator()
        .add_fault(rule(Fault::DropAfterCommit, DeleteAccount::PATH, 1));
    client.account().delete(&kfid).await.unwrap();
    assert_eq!(calls(&em, DeleteAccount::PATH), 2);
    assert!(client.account().list(0, 10).await.unwrap().is_empty());
    // Without an unknown outcome first, 95004 is an error.
    assert_eq!(
        client.account().delete(&kfid).await.unwrap_err().api_code(),
        Some(ErrCode::OPEN_KFID_NOT_EXIST)
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_and_is_retried() {
    let em = emulator().await;
    let url = em.base_url().to_owned();
    em.shutdown().await;
    let client = wecom_kf::Client::builder()
        .base_url(url)
        .corp_id("c")
        .secret("s")
        .retry_policy(
            wecom_kf::RetryPolicy::attempts(2)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let err = client.account().list(0, 1).await.unwrap_err();
    let Error::Token(inner) = &err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(
            **inner,
            Error::Transport {
                maybe_sent: false,
                ..
            }
        ),
        "{inner:?}"
    );
}
