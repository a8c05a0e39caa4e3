//! Documented exit codes, and what an error prints.

use wecom_kf_emulator::{Fault, FaultRule};

use crate::{PNG, Run, Server, bare};

#[test]
fn each_error_class_has_its_exit_code() {
    let server = Server::start();
    let avatar = server.file("a.png", PNG);
    let avatar = avatar.to_str().unwrap();

    // 2: usage.
    server.run(&["account", "frobnicate"]).code(2);
    server.run(&["account", "add", "--name", "x"]).code(2);
    server.run(&["account", "update", "wkX"]).code(2);

    // 3: validation, before anything is sent (not even a token).
    let invalid = server.run(&[
        "account",
        "add",
        "--name",
        &"名".repeat(17),
        "--avatar",
        avatar,
    ]);
    invalid.code(3);
    assert!(
        invalid
            .stderr
            .contains("invalid `name`: must be 1 to 16 characters; got 17 characters"),
        "{}",
        invalid.stderr
    );
    server.run(&["account", "list", "--limit", "101"]).code(3);
    server
        .run(&["account", "link", "wkX", "--scene", "春节"])
        .code(3);
    server
        .run(&[
            "account",
            "add",
            "--name",
            "ok",
            "--avatar",
            "/nonexistent.png",
        ])
        .code(3);
    assert_eq!(
        server.em.emulator().stats().requests.values().sum::<u64>(),
        0,
        "nothing was sent"
    );

    // 4: an API error, with its meaning, a hint and the look-up URL.
    let api = server.run(&[
        "account",
        "delete",
        "wkMissing000000000000000000000000",
        "--yes",
    ]);
    api.code(4);
    for needle in [
        "95004",
        "含义: open_kfid不存在",
        "meaning: open_kfid not exist",
        "hint:",
        "see: https://open.work.weixin.qq.com/devtool/query?e=95004",
    ] {
        assert!(
            api.stderr.contains(needle),
            "{needle} missing from:\n{}",
            api.stderr
        );
    }
    let console = server.em.emulator().seed_console_account("前台").unwrap();
    let forbidden = server.run(&["account", "update", &console, "--name", "改"]);
    forbidden.code(4);
    assert!(
        forbidden.stderr.contains("not managed by this app"),
        "{}",
        forbidden.stderr
    );

    // 7: an add whose outcome is unknown.
    server.em.emulator().add_fault(FaultRule {
        fault: Fault::DropAfterCommit,
        endpoint: Some("/cgi-bin/kf/account/add".into()),
        count: Some(1),
        rate: None,
    });
    let unknown = server.run(&["account", "add", "--name", "悬而未决", "--avatar", avatar]);
    unknown.code(7);
    assert!(
        unknown.stderr.contains("account list"),
        "{}",
        unknown.stderr
    );

    // 4 too: a wrong secret is an API error from gettoken.
    let wrong = Run::of(
        server
            .cmd()
            .env("WECOM_KF_SECRET", "wrong")
            .args(["account", "list"]),
    );
    wrong.code(4);
    assert!(wrong.stderr.contains("40001"), "{}", wrong.stderr);

    // 5: network.
    let url = server.em.base_url().to_owned();
    let Server { em, runtime, dir } = server;
    runtime.block_on(em.shutdown());
    let down = Run::of(
        bare(dir.path())
            .env("WECOM_KF_BASE_URL", &url)
            .env("WECOM_CORP_ID", "c")
            .env("WECOM_KF_SECRET", "s")
            .args(["account", "list", "--timeout", "2"]),
    );
    down.code(5);

    // 6: no credentials.
    let none = Run::of(bare(dir.path()).args(["account", "list"]));
    none.code(6);
    assert!(none.stderr.contains("--sandbox"), "{}", none.stderr);
}

#[test]
fn a_closed_stdout_ends_quietly_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["sandbox", "demo"][..],
        &["completions", "bash"][..],
        &["--sandbox", "account", "list", "--format", "json"][..],
    ] {
        let mut child = bare(dir.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away before anything is written
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
    }
}

/// Each part of an error is printed once: the meaning and hint of an errcode, and the
/// text of a validation error (which used to come back as its own "caused by").
#[test]
fn an_error_says_each_thing_once() {
    let server = Server::start();
    let api = server.run(&[
        "account",
        "delete",
        "wkMissing000000000000000000000000",
        "--yes",
    ]);
    api.code(4);
    // (The service's own errmsg, quoted in the headline, is not ours to shorten.)
    for needle in ["open_kfid不存在", "meaning:", "the account does not exist"] {
        assert_eq!(
            api.stderr.matches(needle).count(),
            1,
            "{needle}:\n{}",
            api.stderr
        );
    }
    let invalid = server.run(&[
        "account",
        "add",
        "--name",
        &"名".repeat(17),
        "--media-id",
        "m",
    ]);
    invalid.code(3);
    assert_eq!(
        invalid.stderr.matches("must be 1 to 16 characters").count(),
        1,
        "{}",
        invalid.stderr
    );
    assert!(!invalid.stderr.contains("caused by"), "{}", invalid.stderr);
}

/// Issue 11: against an unreachable host the default output is one error that mentions
/// the retries, not a timestamped log line per attempt; the attempts show with -v.
#[test]
fn an_unreachable_host_prints_one_error_that_counts_the_attempts() {
    let dir = tempfile::tempdir().unwrap();
    // A port that was just free: nothing listens, so every connect is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = |verbose: bool| {
        let mut cmd = bare(dir.path());
        cmd.env("WECOM_KF_BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("WECOM_CORP_ID", "wwcorp")
            .env("WECOM_KF_SECRET", "s3cret-value")
            .args(["account", "list"]);
        if verbose {
            cmd.arg("-v");
        }
        Run::of(&mut cmd)
    };
    let quiet = run(false);
    quiet.code(5);
    assert!(
        quiet.stderr.contains("after 3 attempts"),
        "{}",
        quiet.stderr
    );
    assert!(!quiet.stderr.contains("WARN"), "{}", quiet.stderr);
    assert!(!quiet.stderr.contains("INFO"), "{}", quiet.stderr);
    assert_eq!(
        quiet
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1,
        "{}",
        quiet.stderr
    );
    let verbose = run(true);
    verbose.code(5);
    assert!(verbose.stderr.contains("retrying"), "{}", verbose.stderr);
}
