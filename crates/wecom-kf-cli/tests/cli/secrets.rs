//! The secret and every token issued never appear in any output, with -vvv, on
//! success and on failure.

use wecom_kf_emulator::{Config, DEMO_CORP_ID, Fault, FaultRule};

use crate::{PNG, Run, Server};

const SECRET: &str = "CLI-SECRET-never-print-me-0123456789abcdefgh";

/// The token the emulator currently hands out for SECRET (the same one the CLI got).
fn current_token(server: &Server) -> String {
    let url = format!(
        "{}/cgi-bin/gettoken?corpid={DEMO_CORP_ID}&corpsecret={SECRET}",
        server.em.base_url()
    );
    let answer: serde_json::Value = server
        .runtime
        .block_on(async { reqwest::get(&url).await.unwrap().json().await.unwrap() });
    answer["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn no_secret_or_token_in_any_output_even_at_trace() {
    let mut config = Config::default();
    config.secrets = vec![SECRET.to_owned()];
    let server = Server::with(config);
    let avatar = server.file("a.png", PNG);
    let avatar = avatar.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["-vvv"];
        all.extend_from_slice(args);
        Run::of(server.cmd().env("WECOM_KF_SECRET", SECRET).args(&all))
    };
    let mut runs = Vec::new();
    let added = run(&[
        "account", "add", "--name", "保密", "--avatar", avatar, "--format", "json",
    ]);
    let kfid = added.json()["open_kfid"].as_str().unwrap().to_owned();
    runs.push(added);
    let mut tokens = vec![current_token(&server)];
    runs.push(run(&["token", "check"]));
    runs.push(run(&["token", "check", "--format", "json"]));
    runs.push(run(&["account", "list", "--format", "json"]));
    runs.push(run(&["account", "update", &kfid, "--name", "保密二"]));
    runs.push(run(&["account", "link", &kfid, "--qr"]));
    runs.push(run(&["media", "upload", avatar]));
    runs.push(run(&[
        "account",
        "delete",
        "wkNope00000000000000000000000000",
        "--yes",
    ]));
    let import = server.file(
        "import.csv",
        format!("name,avatar\n导入一,{avatar}\n导入二,/missing.png\n").as_bytes(),
    );
    runs.push(run(&["account", "import", import.to_str().unwrap()]));
    runs.push(run(&["account", "export", "--format", "csv"]));
    runs.push(run(&["completions", "bash"]));
    runs.push(run(&[
        "account",
        "add",
        "--name",
        &"长".repeat(20),
        "--avatar",
        avatar,
    ]));
    server.em.emulator().add_fault(FaultRule {
        fault: Fault::Http502,
        endpoint: None,
        count: Some(3),
        rate: None,
    });
    runs.push(run(&["account", "list"]));
    server.em.emulator().add_fault(FaultRule {
        fault: Fault::DropAfterCommit,
        endpoint: Some("/cgi-bin/kf/account/add".into()),
        count: Some(1),
        rate: None,
    });
    runs.push(run(&[
        "account", "add", "--name", "掉线", "--avatar", avatar,
    ]));
    // A revoked token mid-run: the CLI refreshes; the new token must not leak either.
    server.em.emulator().revoke_tokens(None).unwrap();
    runs.push(run(&["account", "list", "--all"]));
    tokens.push(current_token(&server));
    runs.push(Run::of(
        server
            .cmd()
            .env("WECOM_KF_SECRET", format!("{SECRET}x"))
            .args(["-vvv", "account", "list"]),
    ));
    runs.push(Run::of(
        server
            .cmd()
            .env("WECOM_KF_SECRET", SECRET)
            .env("WECOM_KF_BASE_URL", "http://127.0.0.1:9")
            .args(["-vvv", "account", "list", "--timeout", "1"]),
    ));

    // Through the Redis token cache too, when a redis-server is at hand: its keys and
    // values are scanned below.
    let redis = wecom_kf_testkit::RedisServer::start();
    if let Some(redis) = &redis {
        runs.push(run(&["account", "list", "--token-cache", &redis.url()]));
        server.em.emulator().revoke_tokens(None).unwrap();
        runs.push(run(&["account", "list", "--token-cache", &redis.url()]));
        tokens.push(current_token(&server));
        runs.push(run(&["token", "check", "--token-cache", &redis.url()]));
    }
    let redis_dump: Vec<String> = redis
        .iter()
        .flat_map(wecom_kf_testkit::RedisServer::dump)
        .flat_map(|(k, v)| [k, v])
        .collect();
    assert!(
        redis.is_none() || !redis_dump.is_empty(),
        "the token cache wrote to Redis"
    );

    assert!(runs.iter().any(|r| r.code != 0) && runs.iter().any(|r| r.code == 0));
    assert!(
        runs.iter().any(|r| r.stderr.contains("TRACE")),
        "tracing at TRACE was on"
    );
    assert_ne!(tokens[0], tokens[1]);
    let mut scanned = 0;
    for r in &runs {
        for text in [&r.stdout, &r.stderr] {
            scanned += text.len();
            assert!(!text.contains(SECRET), "secret leaked:\n{text}");
            for token in &tokens {
                assert!(!text.contains(token.as_str()), "token leaked:\n{text}");
            }
        }
    }
    for entry in &redis_dump {
        scanned += entry.len();
        assert!(!entry.contains(SECRET), "the secret reached Redis: {entry}");
    }
    assert!(scanned > 10_000, "scanned {scanned} bytes");
    eprintln!(
        "secret scan (CLI): {} runs, {scanned} bytes of stdout, stderr and Redis scanned for the secret and {} tokens: 0 hits",
        runs.len(),
        tokens.len()
    );
}
