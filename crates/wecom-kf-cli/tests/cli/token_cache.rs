//! `--token-cache redis://…`: short-lived CLI processes share one token.

use wecom_kf_testkit::RedisServer;

use crate::{Run, Server};

#[test]
fn cli_runs_share_the_token_through_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = Server::start();
    for _ in 0..3 {
        server
            .run(&["account", "list", "--token-cache", &redis.url()])
            .ok();
    }
    assert_eq!(
        server.calls("/cgi-bin/gettoken"),
        1,
        "three processes, one gettoken"
    );
    Run::of(
        server
            .cmd()
            .env("WECOM_KF_TOKEN_CACHE", redis.url())
            .args(["account", "list"]),
    )
    .ok();
    assert_eq!(
        server.calls("/cgi-bin/gettoken"),
        1,
        "the variable works too"
    );
    // Without the cache every process fetches its own.
    server.run(&["account", "list"]).ok();
    assert_eq!(server.calls("/cgi-bin/gettoken"), 2);
    let bad = server.run(&["account", "list", "--token-cache", "not a url"]);
    bad.code(6);
    assert!(bad.stderr.contains("invalid Redis URL"), "{}", bad.stderr);
}
