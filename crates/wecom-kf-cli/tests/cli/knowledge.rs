//! `wecom-kf knowledge …`: groups and intents, and a FAQ file exported, imported,
//! imported again, refused, interrupted by kill -9, and in the sandbox.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use wecom_kf_emulator::{Fault, FaultRule};

use crate::{Server, bare};

/// The paths of the calls that change the knowledge base.
const WRITES: [&str; 6] = [
    "/cgi-bin/kf/knowledge/add_group",
    "/cgi-bin/kf/knowledge/del_group",
    "/cgi-bin/kf/knowledge/mod_group",
    "/cgi-bin/kf/knowledge/add_intent",
    "/cgi-bin/kf/knowledge/del_intent",
    "/cgi-bin/kf/knowledge/mod_intent",
];

/// `GET /__emulator/stats`: calls per path.
fn stats(server: &Server) -> Value {
    let url = format!("{}/__emulator/stats", server.em.base_url());
    server.runtime.block_on(async {
        reqwest::get(url)
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    })
}

fn writes(stats: &Value) -> u64 {
    WRITES
        .iter()
        .map(|p| stats["requests"][p].as_u64().unwrap_or(0))
        .sum()
}

fn all_calls(stats: &Value) -> u64 {
    stats["requests"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum()
}

const FAQ: &str = "group,question,similar_questions,answer,attachments
售后,怎么退货？,\"如何退货
退货流程\",七天内可在订单页申请退货。,link:退货政策|https://example.com/r|看这里
售后,多久退款？,,原路退回，1-3 个工作日。,
物流,发什么快递？,用什么快递,顺丰或京东。,
默认分组,营业时间？,,九点到六点。,
";

#[test]
fn groups_and_intents_from_the_command_line() {
    let server = Server::start();
    let added = server.run(&["knowledge", "group", "add", "售后", "--format", "json"]);
    let group_id = added.ok().json()["group_id"].as_str().unwrap().to_owned();
    let listed = server.run(&["knowledge", "group", "list", "--format", "json"]);
    let groups = listed.ok().json();
    assert_eq!(groups.as_array().unwrap().len(), 2);
    assert_eq!(groups[0]["is_default"], true);
    assert_eq!(groups[1]["group_id"], group_id.as_str());
    server
        .run(&["knowledge", "group", "rename", "售后", "售后服务"])
        .ok();
    let added = server.run(&[
        "knowledge",
        "intent",
        "add",
        "--group",
        "售后服务",
        "--question",
        "怎么退货？",
        "--answer",
        "订单页申请。",
        "--similar",
        "如何退货",
        "--attach",
        "link:退货政策|https://example.com/r",
        "--format",
        "json",
    ]);
    let intent_id = added.ok().json()["intent_id"].as_str().unwrap().to_owned();
    server
        .run(&["knowledge", "intent", "edit", &intent_id, "--no-similar"])
        .ok();
    let listed = server.run(&[
        "knowledge",
        "intent",
        "list",
        "--group",
        &group_id,
        "--format",
        "json",
    ]);
    let intents = listed.ok().json();
    assert_eq!(intents[0]["group"], "售后服务");
    assert_eq!(intents[0]["similar_questions"], 0);
    assert_eq!(intents[0]["attachments"], 1);
    // The default group stays: the service's refusal exits 4.
    server
        .run(&["knowledge", "group", "delete", "默认分组"])
        .code(4);
    // A bad value is refused before sending: exit 3.
    let before = writes(&stats(&server));
    let long = server.run(&["knowledge", "group", "add", "一二三四五六七八九十一二三"]);
    long.code(3);
    assert!(long.stderr.contains("name"), "{}", long.stderr);
    server
        .run(&["knowledge", "group", "rename", "没有", "x"])
        .code(3);
    assert_eq!(writes(&stats(&server)), before, "nothing was changed");
    server
        .run(&["knowledge", "intent", "delete", &intent_id])
        .ok();
    server
        .run(&["knowledge", "group", "delete", &group_id])
        .ok();
    let listed = server.run(&["knowledge", "group", "list", "--format", "json"]);
    assert_eq!(listed.ok().json().as_array().unwrap().len(), 1);
}

#[test]
fn export_import_export_is_identical_and_a_second_import_changes_nothing() {
    let server = Server::start();
    let faq = server.file("faq.csv", FAQ.as_bytes());
    let first = server.run(&["knowledge", "import", faq.to_str().unwrap()]);
    first.ok();
    assert!(
        first
            .stdout
            .contains("plan: 4 added, 0 changed, 0 unchanged, 0 removed; 2 group(s) added"),
        "{}",
        first.stdout
    );
    let exported = server.run(&["knowledge", "export"]);
    let exported = exported.ok().stdout.clone();
    assert!(exported.starts_with("group,question,similar_questions,answer,attachments\n"));
    let file = server.file("exported.csv", exported.as_bytes());

    // Import what was exported: only reads.
    let before = stats(&server);
    let again = server.run(&["knowledge", "import", file.to_str().unwrap()]);
    again.ok();
    assert!(
        again.stdout.contains("0 added, 0 changed, 4 unchanged"),
        "{}",
        again.stdout
    );
    assert_eq!(
        writes(&stats(&server)),
        writes(&before),
        "no call changed anything"
    );
    let exported_again = server.run(&["knowledge", "export"]);
    assert_eq!(exported_again.ok().stdout, exported);

    // The same in JSON.
    let json = server.run(&["knowledge", "export", "--format", "json"]);
    let json_text = json.ok().stdout.clone();
    assert_eq!(json.json().as_array().unwrap().len(), 4);
    let json_file = server.file("faq.json", json_text.as_bytes());
    let before = stats(&server);
    server
        .run(&["knowledge", "import", json_file.to_str().unwrap()])
        .ok();
    assert_eq!(writes(&stats(&server)), writes(&before));
    assert_eq!(
        server
            .run(&["knowledge", "export", "--format", "json"])
            .ok()
            .stdout,
        json_text
    );

    // One changed answer, one moved question, one removed row: the plan says so, and
    // --dry-run sends nothing.
    let edited = FAQ
        .replace("顺丰或京东。", "顺丰。")
        .replace("默认分组,营业时间？", "售后,营业时间？")
        .replace("售后,多久退款？,,原路退回，1-3 个工作日。,\n", "");
    let edited = server.file("edited.csv", edited.as_bytes());
    let before = stats(&server);
    let dry = server.run(&[
        "knowledge",
        "import",
        edited.to_str().unwrap(),
        "--dry-run",
        "--prune",
        "--format",
        "json",
    ]);
    let plan = dry.ok().json();
    assert_eq!(writes(&stats(&server)), writes(&before));
    assert_eq!(plan["changed"].as_array().unwrap().len(), 2, "{plan}");
    assert_eq!(plan["removed"][0]["question"], "多久退款？");
    assert_eq!(plan["calls"], 4, "mod + (del + add) + del");
    assert_eq!(plan["applied"], false);
    server
        .run(&["knowledge", "import", edited.to_str().unwrap(), "--prune"])
        .ok();
    assert_eq!(
        writes(&stats(&server)) - writes(&before),
        4,
        "one call per change"
    );
    let after = server.run(&["knowledge", "export", "--group", "售后", "--format", "json"]);
    let questions: Vec<_> = after
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["question"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(questions, ["怎么退货？", "营业时间？"]);
}

#[test]
fn a_file_with_a_bad_row_makes_no_call_at_all() {
    let server = Server::start();
    let cases = [
        (
            format!("{FAQ}一二三四五六七八九十一二三,问,,答,\n"),
            "row 6, group",
        ),
        (
            format!("{FAQ}售后,{},,答,\n", "问".repeat(201)),
            "row 6, question",
        ),
        (format!("{FAQ}售后,怎么退货？,,答,\n"), "row 6, question"),
        (format!("{FAQ}售后,新问题,,,\n"), "row 6, answer"),
        (
            format!("{FAQ}售后,新问题,,答,\"link:t|u\"\n"),
            "row 6, attachments",
        ),
        (
            format!("{FAQ}售后,新问题,,答,\"gif:x\"\n"),
            "row 6, attachments",
        ),
    ];
    for (text, expected) in cases {
        let file = server.file("bad.csv", text.as_bytes());
        let before = all_calls(&stats(&server));
        let run = server.run(&["knowledge", "import", file.to_str().unwrap()]);
        run.code(3);
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
        assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);
        assert_eq!(
            all_calls(&stats(&server)),
            before,
            "{expected}: a call was made"
        );
    }
}

#[test]
fn an_import_killed_midway_and_run_again_ends_in_the_state_of_the_file() {
    let server = Server::start();
    let mut text = String::from("group,question,similar_questions,answer,attachments\n");
    for i in 0..300 {
        let _ = std::fmt::Write::write_fmt(
            &mut text,
            format_args!("组{},问题{i:03},类似{i:03},答案{i:03},\n", i % 3),
        );
    }
    let faq = server.file("big.csv", text.as_bytes());
    // Slow adds, so that the kill lands in the middle.
    server.em.emulator().add_fault(FaultRule {
        fault: Fault::Latency { ms: 10 },
        endpoint: Some("/cgi-bin/kf/knowledge/add_intent".into()),
        count: None,
        rate: None,
    });
    let mut child = server
        .cmd()
        .args(["knowledge", "import", faq.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let added = server.calls("/cgi-bin/kf/knowledge/add_intent");
        if added >= 50 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the import made only {added} adds"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended early"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_before = server.calls("/cgi-bin/kf/knowledge/add_intent");
    assert!(done_before < 300, "killed after the end");
    server.em.emulator().clear_faults();
    server
        .run(&["knowledge", "import", faq.to_str().unwrap()])
        .ok();
    let check = server.run(&[
        "knowledge",
        "import",
        faq.to_str().unwrap(),
        "--dry-run",
        "--prune",
        "--format",
        "json",
    ]);
    let plan = check.ok().json();
    assert_eq!(plan["calls"], 0, "{plan}");
    assert_eq!(plan["unchanged"], 300);
    let listed = server.run(&["knowledge", "intent", "list", "--format", "json"]);
    assert_eq!(
        listed.ok().json().as_array().unwrap().len(),
        300,
        "no duplicates"
    );
}

#[test]
fn the_sandbox_takes_a_faq_too() {
    let dir = tempfile::tempdir().unwrap();
    let faq = dir.path().join("faq.csv");
    std::fs::write(&faq, FAQ).unwrap();
    let run = |args: &[&str]| crate::Run::of(bare(dir.path()).arg("--sandbox").args(args));
    run(&["knowledge", "import", faq.to_str().unwrap()]).ok();
    let exported = run(&["knowledge", "export", "--format", "json"]);
    assert_eq!(exported.ok().json().as_array().unwrap().len(), 4);
    let again = run(&["knowledge", "import", faq.to_str().unwrap()]);
    assert!(
        again.ok().stdout.contains("4 unchanged"),
        "{}",
        again.stdout
    );
}
