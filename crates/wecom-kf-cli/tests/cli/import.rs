//! Import: progress, a failing row reported without stopping, resume by re-running.

use crate::{PNG, Server};

#[test]
fn import_reports_failed_rows_and_resumes() {
    let server = Server::start();
    server.file("one.png", PNG);
    server.file("three.png", PNG);
    let csv = server.file(
        "accounts.csv",
        "name,avatar\n售前咨询,one.png\n售后服务,two.png\nVIP专线,three.png\n".as_bytes(),
    );

    let first = server.run(&["account", "import", csv.to_str().unwrap()]);
    first.code(1);
    assert!(
        first.stderr.contains("row 2 (售后服务)"),
        "{}",
        first.stderr
    );
    assert!(
        first
            .stdout
            .contains("imported 2, skipped 0 (already exist), failed 1"),
        "{}",
        first.stdout
    );
    assert_eq!(server.names(), ["售前咨询", "VIP专线"]);

    // Fix the missing file and re-run: only the failed row is created.
    server.file("two.png", PNG);
    let second = server.run(&[
        "account",
        "import",
        csv.to_str().unwrap(),
        "--format",
        "json",
    ]);
    second.ok();
    let summary = second.json();
    assert_eq!(summary["created"].as_array().unwrap().len(), 1);
    assert_eq!(summary["created"][0]["name"], "售后服务");
    assert_eq!(summary["skipped"].as_array().unwrap().len(), 2);
    assert_eq!(summary["failed"], serde_json::json!([]));
    assert_eq!(server.names().len(), 3);

    // JSON input, with a row that fails validation.
    let json = server.file("more.json", r#"[{"name":"新一","avatar":"one.png"},{"name":"这个名字实在是太长了超过了十六个字符","avatar":"one.png"}]"#.as_bytes());
    let third = server.run(&["account", "import", json.to_str().unwrap()]);
    third.code(1);
    assert!(
        third.stderr.contains("row 2") && third.stderr.contains("16 characters"),
        "{}",
        third.stderr
    );
    assert_eq!(server.names().len(), 4);

    // A malformed file is refused as a whole.
    let bad = server.file("bad.json", b"[{\"name\": 1}");
    server
        .run(&["account", "import", bad.to_str().unwrap()])
        .code(3);
}
