//! `wecom-kf callback verify-url|decrypt|encrypt`: the checks named with their codes,
//! the secrets never printed, and a URL check against a real receiver.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{Run, bare};

const TOKEN: &str = "cliCallbackToken9";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const CORP: &str = "ww1234567890abcdef";

fn cmd(dir: &Path, token: &str, key: &str, corp: &str) -> Command {
    let mut cmd = bare(dir);
    cmd.env("WECOM_KF_CALLBACK_TOKEN", token)
        .env("WECOM_KF_CALLBACK_AES_KEY", key)
        .env("WECOM_CORP_ID", corp);
    cmd
}

fn no_secrets(run: &Run) {
    for secret in [TOKEN, KEY] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "a secret was printed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn encrypt_then_decrypt_and_each_wrong_setting_names_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let sealed = Run::of(cmd(dir.path(), TOKEN, KEY, CORP).args(["callback", "encrypt"]));
    sealed.ok();
    no_secrets(&sealed);
    let (query, body) = sealed.stdout.split_once('\n').unwrap();
    let body_file = dir.path().join("body.xml");
    std::fs::write(&body_file, body).unwrap();
    let body_path = body_file.to_str().unwrap();

    let opened = Run::of(
        cmd(dir.path(), TOKEN, KEY, CORP)
            .args(["callback", "decrypt", "--query", query, body_path]),
    );
    opened.ok();
    assert!(
        opened
            .stdout
            .contains("<Event><![CDATA[kf_msg_or_event]]></Event>"),
        "{}",
        opened.stdout
    );
    assert!(opened.stderr.contains("signature: ok"), "{}", opened.stderr);
    no_secrets(&opened);

    for (token, key, corp, needle) in [
        ("wrongToken", KEY, CORP, "signature: failed (-40001)"),
        (TOKEN, KEY, "wwsomeoneelse", "failed (-40005)"),
        (
            TOKEN,
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            CORP,
            "failed (-4000",
        ),
        (TOKEN, "tooShort", CORP, "-40004"),
    ] {
        let run = Run::of(
            cmd(dir.path(), token, key, corp)
                .args(["callback", "decrypt", "--query", query, body_path]),
        );
        run.code(3);
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
        no_secrets(&run);
    }
    // `signature` taken for `msg_signature`.
    let wrong_param = query.replace("msg_signature", "signature");
    let run = Run::of(cmd(dir.path(), TOKEN, KEY, CORP).args([
        "callback",
        "decrypt",
        "--query",
        &wrong_param,
        body_path,
    ]));
    run.code(3);
    assert!(
        run.stderr.contains("other WeChat products"),
        "{}",
        run.stderr
    );
    // Without settings: a configuration error naming what is missing.
    let run = Run::of(
        bare(dir.path())
            .args(["callback", "encrypt"])
            .stdin(Stdio::null()),
    );
    run.code(6);
    assert!(
        run.stderr.contains("WECOM_KF_CALLBACK_TOKEN"),
        "{}",
        run.stderr
    );
}

#[test]
fn verify_url_checks_a_real_receiver_and_says_what_came_back() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let crypto = wecom_kf::callback::Crypto::new(TOKEN, KEY, CORP).unwrap();
    let (receiver, _events) = wecom_kf::callback::Receiver::new(crypto);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    let app = receiver.router("/callback");
    runtime.spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().unwrap();
    let good = Run::of(cmd(dir.path(), TOKEN, KEY, CORP).args(["callback", "verify-url", &url]));
    good.ok();
    assert!(good.stdout.starts_with("ok: "), "{}", good.stdout);
    let bad =
        Run::of(cmd(dir.path(), "anotherToken", KEY, CORP).args(["callback", "verify-url", &url]));
    bad.code(3);
    assert!(
        bad.stderr.contains("HTTP 403") && bad.stderr.contains("expected HTTP 200"),
        "{}",
        bad.stderr
    );
    no_secrets(&bad);
}
