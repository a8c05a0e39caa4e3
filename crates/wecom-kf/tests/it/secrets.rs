//! `corpsecret` and `access_token` never appear in Display, Debug, error sources or
//! tracing output at TRACE, on success or failure.

use std::fmt::Write as _;
use std::time::Duration;

use wecom_kf::Error;
use wecom_kf::types::Endpoint;
use wecom_kf::types::kf::account::{AddAccount, ListAccounts, UpdateAccount};
use wecom_kf_emulator::{Config, Fault, FaultRule};

use crate::{Capture, PNG, avatar, emulator_with};

const SECRET: &str = "TOP-SECRET-corpsecret-value-0123456789abcdefgh";

fn chain(err: &Error) -> String {
    let mut text = format!("{err}\n{err:?}\n");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        let _ = write!(text, "{s}\n{s:?}\n");
        source = s.source();
    }
    text
}

// A current-thread runtime, so the thread-local TRACE subscriber sees every task:
// the client's, reqwest's and hyper's.
#[tokio::test]
async fn no_secret_or_token_in_any_output() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut config = Config::default();
    config.secrets = vec![SECRET.to_owned()];
    let em = emulator_with(config).await;
    let client = crate::builder(&em)
        .secret(SECRET)
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let mut outputs = vec![
        format!("{client:?}"),
        format!("{:?}", crate::builder(&em).secret(SECRET)),
    ];
    let mut tokens = Vec::new();

    // Successes.
    let media = avatar(&client).await;
    let kfid = client.account().add("保密", &media).await.unwrap();
    client
        .account()
        .update(UpdateAccount::new(&kfid).name("保密2"))
        .await
        .unwrap();
    client
        .account()
        .contact_link(&kfid, Some("s"))
        .await
        .unwrap();
    let token = client.token_provider().token().await.unwrap();
    outputs.push(format!("{token:?}"));
    tokens.push(token.expose().to_owned());

    // Failures of every kind.
    let mut errors = vec![
        client
            .account()
            .add("名".repeat(17), &media)
            .await
            .unwrap_err(),
        client
            .account()
            .delete("wkNope000000000000000000000000000")
            .await
            .unwrap_err(),
    ];
    for fault in [
        Fault::Http502,
        Fault::DropAfterCommit,
        Fault::Truncate,
        Fault::Latency { ms: 1000 },
        Fault::Errcode { errcode: 45009 },
    ] {
        em.emulator().add_fault(FaultRule {
            fault,
            endpoint: Some(AddAccount::PATH.to_owned()),
            count: Some(1),
            rate: None,
        });
        errors.push(client.account().add("x", &media).await.unwrap_err());
    }
    em.emulator().add_fault(FaultRule {
        fault: Fault::Http502,
        endpoint: Some(ListAccounts::PATH.to_owned()),
        count: Some(5),
        rate: None,
    });
    errors.push(client.account().list(0, 1).await.unwrap_err());
    em.emulator().clear_faults();
    // A revoked token: refreshed and retried.
    em.emulator().revoke_tokens(None).unwrap();
    client.account().list(0, 1).await.unwrap();
    tokens.push(
        client
            .token_provider()
            .token()
            .await
            .unwrap()
            .expose()
            .to_owned(),
    );
    // A wrong secret of the same shape, and a server that is gone.
    let wrong = crate::builder(&em)
        .secret(format!("{SECRET}-wrong"))
        .build()
        .unwrap();
    errors.push(wrong.account().list(0, 1).await.unwrap_err());
    let upload_err = client
        .media()
        .upload(
            wecom_kf::types::media::MediaType::Image,
            wecom_kf::media::Media::bytes("a.png", &PNG[..3]),
        )
        .await
        .unwrap_err();
    errors.push(upload_err);
    let url = em.base_url().to_owned();
    em.shutdown().await;
    let gone = wecom_kf::Client::builder()
        .base_url(url)
        .corp_id("c")
        .secret(SECRET)
        .build()
        .unwrap();
    errors.push(gone.account().list(0, 1).await.unwrap_err());
    errors.push(client.account().list(0, 1).await.unwrap_err());

    assert!(errors.len() >= 12);
    for err in &errors {
        outputs.push(chain(err));
    }
    let logs = capture.text();
    assert!(
        logs.contains("wecom_kf.call") && logs.contains("TRACE"),
        "tracing was captured at TRACE"
    );
    assert!(
        logs.contains("/cgi-bin/kf/account/add"),
        "spans carry the endpoint path"
    );
    outputs.push(logs);
    let everything = outputs.join("\n");
    eprintln!(
        "secret scan (library): {} bytes of logs at TRACE, Display, Debug and error sources scanned for the secret and {} tokens",
        everything.len(),
        tokens.len()
    );
    assert!(tokens.len() == 2 && tokens[0] != tokens[1]);
    assert!(!everything.contains(SECRET), "the secret leaked");
    for token in &tokens {
        assert!(!everything.contains(token.as_str()), "a token leaked");
    }
    assert!(
        !everything.contains("access_token="),
        "a URL with its query leaked"
    );
    assert!(
        !everything.contains("corpsecret="),
        "a URL with its query leaked"
    );
}
