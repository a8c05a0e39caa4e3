//! The access_token: one fetch for a cold storm, one refresh for a revoked token.

use std::sync::Arc;

use wecom_kf::Client;
use wecom_kf::token::{StaticToken, TokenCache, TokenProvider};
use wecom_kf::types::kf::account::ListAccounts;
use wecom_kf::types::{Endpoint, ErrCode};
use wecom_kf_emulator::{Config, DEMO_SECRET};

use crate::{builder, calls, client, emulator, emulator_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_cold_calls_fetch_one_token() {
    let em = emulator().await;
    let client = client(&em);
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.account().list(0, 100).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(calls(&em, "/cgi-bin/gettoken"), 1);
    assert_eq!(calls(&em, ListAccounts::PATH), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refreshed_once_and_each_call_retried_once() {
    let em = emulator().await;
    let client = client(&em);
    client.account().list(0, 1).await.unwrap();
    assert_eq!(calls(&em, "/cgi-bin/gettoken"), 1);
    em.emulator().revoke_tokens(None).unwrap();

    // One call: one refresh, one retry.
    client.account().list(0, 1).await.unwrap();
    assert_eq!(calls(&em, "/cgi-bin/gettoken"), 2);
    assert_eq!(calls(&em, ListAccounts::PATH), 3, "first, refused, retried");

    // Fifty calls racing on a revoked token still refresh once.
    em.emulator().revoke_tokens(None).unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.account().list(0, 1).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        calls(&em, "/cgi-bin/gettoken"),
        3,
        "one refresh for all of them"
    );
    // Each call is refused at most once and retried at most once. A call that starts
    // after the refresh has landed already holds the new token and is not refused.
    let made = calls(&em, ListAccounts::PATH) - 3;
    assert!((51..=100).contains(&made), "50 calls made {made} requests");
}

#[tokio::test]
async fn an_expired_token_is_refreshed_too() {
    for expired_code in [ErrCode::ACCESS_TOKEN_EXPIRED, ErrCode::INVALID_ACCESS_TOKEN] {
        let mut config = Config::default();
        config.expired_token_errcode = expired_code;
        let em = emulator_with(config).await;
        let client = client(&em);
        client.account().list(0, 1).await.unwrap();
        em.emulator().expire_tokens().unwrap();
        client.account().list(0, 1).await.unwrap();
        assert_eq!(calls(&em, "/cgi-bin/gettoken"), 2);
    }
}

#[tokio::test]
async fn a_token_that_keeps_failing_is_retried_exactly_once_never_looped() {
    let em = emulator().await;
    let client = builder(&em)
        .token_provider(StaticToken::new("not-a-valid-token"))
        .build()
        .unwrap();
    let err = client.account().list(0, 1).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrCode::INVALID_ACCESS_TOKEN));
    assert_eq!(
        calls(&em, ListAccounts::PATH),
        1,
        "a static token cannot be refreshed, so no retry"
    );

    // A provider that always hands out a fresh but bad token: retried once, then the error.
    let client = builder(&em)
        .token_provider(AlwaysNew(0.into()))
        .build()
        .unwrap();
    assert_eq!(
        client.account().list(0, 1).await.unwrap_err().api_code(),
        Some(ErrCode::INVALID_ACCESS_TOKEN)
    );
    assert_eq!(
        calls(&em, ListAccounts::PATH),
        3,
        "1 + one attempt and exactly one retry"
    );
}

#[tokio::test]
async fn apps_of_one_corp_never_share_a_token() {
    let mut config = Config::default();
    config.secrets = vec![DEMO_SECRET.to_owned(), "SECOND-APP-SECRET".to_owned()];
    let em = emulator_with(config).await;
    let cache = TokenCache::new();
    let first = builder(&em).token_cache(cache.clone()).build().unwrap();
    let second = builder(&em)
        .secret("SECOND-APP-SECRET")
        .token_cache(cache.clone())
        .build()
        .unwrap();
    let same_app = builder(&em).token_cache(cache).build().unwrap();
    let a = first.token_provider().token().await.unwrap();
    let b = second.token_provider().token().await.unwrap();
    let c = same_app.token_provider().token().await.unwrap();
    assert!(!a.same_as(&b), "two secrets, two tokens");
    assert!(
        a.same_as(&c),
        "one secret, one token, even across clients sharing the cache"
    );
    assert_eq!(calls(&em, "/cgi-bin/gettoken"), 2);

    // What one app creates, the other cannot manage (48007) but can see.
    let media = crate::avatar(&first).await;
    let kfid = first.account().add("甲", &media).await.unwrap();
    let seen = second.account().list(0, 10).await.unwrap();
    assert_eq!(seen[0].manage_privilege, Some(false));
    assert_eq!(
        second.account().delete(&kfid).await.unwrap_err().api_code(),
        Some(ErrCode::KF_ACCOUNT_NOT_AUTHORIZED)
    );
}

#[test]
fn the_client_needs_credentials_or_a_provider() {
    let err = Client::builder().build().unwrap_err();
    assert!(err.to_string().contains("corp_id and secret"), "{err}");
    let err = Client::builder()
        .corp_id("c")
        .secret("s")
        .base_url("ftp://x")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("http"), "{err}");
    let _ = Arc::new(
        Client::builder()
            .token_provider(StaticToken::new("t"))
            .build()
            .unwrap(),
    );
}

/// A provider that always hands out a fresh but bad token.
struct AlwaysNew(std::sync::atomic::AtomicU32);
impl TokenProvider for AlwaysNew {
    fn token(
        &self,
    ) -> wecom_kf::token::BoxFuture<'_, Result<wecom_kf::token::AccessToken, wecom_kf::Error>> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            Ok(wecom_kf::token::AccessToken::new(
                format!("bad-{n}").into(),
                None,
            ))
        })
    }
    fn invalidate<'a>(
        &'a self,
        _: &'a wecom_kf::token::AccessToken,
    ) -> wecom_kf::token::BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// gettoken and the calls decide retries the same way: with `retry_throttled` a
/// throttled gettoken is retried too (before, its own loop never retried 45009).
#[tokio::test]
async fn gettoken_follows_the_same_retry_policy_as_calls() {
    let em = emulator().await;
    let throttled = wecom_kf_emulator::FaultRule {
        fault: wecom_kf_emulator::Fault::Errcode { errcode: 45009 },
        endpoint: Some("/cgi-bin/gettoken".to_owned()),
        count: Some(1),
        rate: None,
    };
    em.emulator().add_fault(throttled.clone());
    let mut policy = wecom_kf::RetryPolicy::attempts(3).with_backoff(
        std::time::Duration::from_millis(1),
        std::time::Duration::from_millis(5),
    );
    policy.retry_throttled = true;
    let patient = builder(&em).retry_policy(policy).build().unwrap();
    patient.account().list(0, 1).await.unwrap();
    assert_eq!(
        calls(&em, "/cgi-bin/gettoken"),
        2,
        "throttled once, retried once"
    );

    // Without it a throttled gettoken is surfaced at once, as a throttled call is.
    let em = emulator().await;
    em.emulator().add_fault(throttled);
    let err = client(&em).account().list(0, 1).await.unwrap_err();
    assert_eq!(
        err.api_code(),
        Some(ErrCode::API_FREQ_OUT_OF_LIMIT),
        "{err}"
    );
    assert_eq!(calls(&em, "/cgi-bin/gettoken"), 1);
}
