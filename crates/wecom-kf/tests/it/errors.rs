//! Validation before sending, and every API error surfaced typed.

use wecom_kf::Error;
use wecom_kf::types::kf::account::{ListAccounts, UpdateAccount};
use wecom_kf::types::{Endpoint, ErrCode, Limit};
use wecom_kf_emulator::{Config, DEMO_CORP_ID};

use crate::{avatar, builder, client, emulator, emulator_with, total_calls};

#[tokio::test]
async fn invalid_input_is_refused_before_anything_is_sent() {
    let em = emulator().await;
    let client = client(&em);
    let accounts = client.account();
    let cases: Vec<(Error, &str)> = vec![
        (
            accounts.add("名".repeat(17), "m").await.unwrap_err(),
            "name",
        ),
        (accounts.add("", "m").await.unwrap_err(), "name"),
        (
            accounts.add("ok", "m".repeat(129)).await.unwrap_err(),
            "media_id",
        ),
        (accounts.add("ok", "").await.unwrap_err(), "media_id"),
        (
            accounts.delete("w".repeat(65)).await.unwrap_err(),
            "open_kfid",
        ),
        (
            accounts
                .update(UpdateAccount::new("wk1"))
                .await
                .unwrap_err(),
            "name/media_id",
        ),
        (
            accounts
                .update(UpdateAccount::new("wk1").name("a".repeat(17)))
                .await
                .unwrap_err(),
            "name",
        ),
        (accounts.list(0, 0).await.unwrap_err(), "limit"),
        (accounts.list(0, 101).await.unwrap_err(), "limit"),
        (
            accounts.contact_link("wk1", Some("春")).await.unwrap_err(),
            "scene",
        ),
        (
            accounts
                .contact_link("wk1", Some(&"a".repeat(33)))
                .await
                .unwrap_err(),
            "scene",
        ),
    ];
    for (err, field) in cases {
        match &err {
            Error::Validation(invalid) => assert_eq!(invalid.field, field, "{err}"),
            other => panic!("expected a validation error for {field}, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.contains(field) && text.contains("got"),
            "the message names the field and what was given: {text}"
        );
    }
    // 16 Chinese characters are 48 bytes and pass; the limit is in characters.
    let limit = accounts.add("名".repeat(17), "m").await.unwrap_err();
    assert!(
        matches!(limit, Error::Validation(ref v) if v.limit == Limit::Chars { min: 1, max: 16 })
    );
    assert_eq!(total_calls(&em), 0, "no request reached the server");
}

#[tokio::test]
async fn api_errors_are_typed_with_code_meaning_and_endpoint() {
    let em = emulator().await;
    let client = client(&em);
    let accounts = client.account();
    let media_id = avatar(&client).await;

    let code = |e: Error| e.api_code();
    assert_eq!(
        code(
            accounts
                .delete("wkDoesNotExist000000000000000000")
                .await
                .unwrap_err()
        ),
        Some(ErrCode::OPEN_KFID_NOT_EXIST)
    );
    assert_eq!(
        code(accounts.delete("not-a-kfid").await.unwrap_err()),
        Some(ErrCode::INVALID_OPEN_KFID)
    );
    assert_eq!(
        code(accounts.add("x", "3unknownmedia").await.unwrap_err()),
        Some(ErrCode::INVALID_MEDIA_ID)
    );

    // A console-created account is listed but not manageable: 48007.
    let console = em.emulator().seed_console_account("前台").unwrap();
    let listed = accounts.list(0, 100).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .find(|a| a.open_kfid == console)
            .unwrap()
            .manage_privilege,
        Some(false)
    );
    let err = accounts
        .update(UpdateAccount::new(&console).name("改名"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrCode::KF_ACCOUNT_NOT_AUTHORIZED));
    let text = err.to_string();
    assert!(
        text.contains("48007")
            && text.contains("/cgi-bin/kf/account/update")
            && text.contains("hint"),
        "{text}"
    );
    assert_eq!(
        err.lookup_url().unwrap(),
        "https://open.work.weixin.qq.com/devtool/query?e=48007"
    );
    assert_eq!(
        code(accounts.delete(&console).await.unwrap_err()),
        Some(ErrCode::KF_ACCOUNT_NOT_AUTHORIZED)
    );
    // Read-level calls work on it.
    accounts.contact_link(&console, None).await.unwrap();

    // The account created through the API is manageable.
    let mine = accounts.add("我的", &media_id).await.unwrap();
    accounts
        .update(UpdateAccount::new(&mine).media_id(&media_id))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_cap_is_enforced_with_the_right_code() {
    let mut config = Config::default();
    config.verified = false;
    let em = emulator_with(config).await;
    let client = client(&em);
    let media_id = avatar(&client).await;
    for i in 0..10 {
        client
            .account()
            .add(format!("a{i}"), &media_id)
            .await
            .unwrap();
    }
    let err = client.account().add("eleven", &media_id).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrCode::UNVERIFIED_CORP_ACCOUNT_LIMIT));

    let mut config = Config::default();
    config.max_accounts = Some(2);
    let em = emulator_with(config).await;
    let client = crate::client(&em);
    let media_id = avatar(&client).await;
    client.account().add("a", &media_id).await.unwrap();
    client.account().add("b", &media_id).await.unwrap();
    assert_eq!(
        client
            .account()
            .add("c", &media_id)
            .await
            .unwrap_err()
            .api_code(),
        Some(ErrCode::KF_ACCOUNT_COUNT_OUT_OF_LIMIT)
    );
}

#[tokio::test]
async fn bad_credentials_are_token_errors_and_are_not_retried() {
    let em = emulator().await;
    let client = builder(&em).secret("wrong-secret").build().unwrap();
    let err = client.account().list(0, 10).await.unwrap_err();
    assert!(matches!(err, Error::Token(_)), "{err:?}");
    assert_eq!(err.api_code(), Some(ErrCode::INVALID_CREDENTIAL));
    assert_eq!(
        crate::calls(&em, "/cgi-bin/gettoken"),
        1,
        "a wrong secret is never retried"
    );
    assert_eq!(crate::calls(&em, ListAccounts::PATH), 0);

    let client = builder(&em).corp_id("wwsomeoneelse").build().unwrap();
    assert_eq!(
        client.account().list(0, 10).await.unwrap_err().api_code(),
        Some(ErrCode::INVALID_CORPID)
    );
    assert!(DEMO_CORP_ID.starts_with("ww"));
}
