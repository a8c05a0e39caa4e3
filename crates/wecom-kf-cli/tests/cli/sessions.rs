//! Servicers, sessions, customers and statistics from the command line, in the sandbox:
//! the README's walk-through, with its output shapes and exit codes.

use crate::{PNG, Run, bare};

pub(crate) struct Sandbox(pub tempfile::TempDir);

impl Sandbox {
    pub(crate) fn new() -> Sandbox {
        Sandbox(tempfile::tempdir().unwrap())
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run::of(bare(self.0.path()).args(args))
    }

    pub(crate) fn line(&self, args: &[&str]) -> String {
        self.run(args).ok().stdout.trim().to_owned()
    }

    /// A sandbox with the account 售后 and one customer (`sandbox customer ARGS`): the
    /// sandbox, the account's open_kfid and the customer's external_userid.
    pub(crate) fn with_customer(args: &[&str]) -> (Sandbox, String, String) {
        let sb = Sandbox::new();
        let kfid = sb.account("售后");
        let mut customer = vec!["sandbox", "customer"];
        customer.extend(args);
        let who = sb.line(&customer);
        (sb, kfid, who)
    }

    /// The test PNG as a file of the sandbox's folder; its path.
    pub(crate) fn avatar(&self) -> String {
        let avatar = self.0.path().join("avatar.png");
        std::fs::write(&avatar, PNG).unwrap();
        avatar.to_str().unwrap().to_owned()
    }

    /// Add an account through the CLI; its open_kfid.
    pub(crate) fn account(&self, name: &str) -> String {
        let avatar = self.avatar();
        let added = self.run(&[
            "--sandbox",
            "account",
            "add",
            "--name",
            name,
            "--avatar",
            &avatar,
            "--format",
            "json",
        ]);
        added.ok().json()["open_kfid"].as_str().unwrap().to_owned()
    }

    /// What the customer saw from the account (`sandbox inbox`), oldest first.
    pub(crate) fn inbox(&self, who: &str, open_kfid: &str) -> Vec<serde_json::Value> {
        let inbox = self.run(&[
            "--sandbox",
            "--format",
            "json",
            "sandbox",
            "inbox",
            who,
            open_kfid,
        ]);
        inbox.ok().json().as_array().unwrap().clone()
    }
}

#[test]
fn the_walk_through_adds_a_servicer_routes_a_session_and_diagnoses_a_refusal() {
    let sb = Sandbox::new();
    let kfid = sb.account("售后");
    sb.line(&["sandbox", "member", "zhangsan", "--name", "张三"]);

    // A mixed add: one added, one failed with its code; exit 1, every item reported.
    let add = sb.run(&[
        "--sandbox",
        "servicer",
        "add",
        &kfid,
        "--user",
        "zhangsan",
        "--user",
        "nobody",
        "--format",
        "json",
    ]);
    add.code(1);
    let items = add.json();
    assert_eq!(items[0]["result"], "added", "{items}");
    assert_eq!(
        (items[1]["result"].as_str(), items[1]["errcode"].as_i64()),
        (Some("failed"), Some(60111))
    );
    let again = sb.run(&[
        "--sandbox",
        "servicer",
        "add",
        &kfid,
        "--user",
        "zhangsan",
        "--format",
        "csv",
    ]);
    assert!(
        again
            .ok()
            .stdout
            .contains("user,zhangsan,already,0,ignored"),
        "{}",
        again.stdout
    );
    sb.run(&["--sandbox", "servicer", "add", &kfid]).code(2);
    let list = sb.run(&["--sandbox", "servicer", "list", &kfid, "--format", "json"]);
    assert_eq!(list.ok().json()[0]["status"], 0);

    let customer = sb.line(&["sandbox", "customer", "--nickname", "小明"]);
    assert!(customer.starts_with("wm"), "{customer}");
    sb.line(&["sandbox", "say", &customer, &kfid, "你好"]);
    let state = sb.run(&[
        "--sandbox",
        "session",
        "get",
        &kfid,
        &customer,
        "--format",
        "json",
    ]);
    assert_eq!(state.ok().json()["service_state"], 0);

    let assigned = sb.run(&[
        "--sandbox",
        "session",
        "assign",
        &kfid,
        &customer,
        "--servicer",
        "zhangsan",
        "--format",
        "json",
    ]);
    let moved = assigned.ok().json();
    assert_eq!(
        (moved["from"].as_i64(), moved["to"].as_i64()),
        (Some(0), Some(3))
    );
    assert!(moved["msg_code"].is_string(), "{moved}");

    // Back to the bot is not a move the table allows from 3: refused before sending,
    // exit 3, with the diagnosis.
    let refused = sb.run(&["--sandbox", "session", "to-bot", &kfid, &customer]);
    refused.code(3);
    assert!(
        refused.stderr.contains("[3,4], not to 1"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("diagnosis:"), "{}", refused.stderr);

    let diagnosis = sb.run(&[
        "--sandbox",
        "session",
        "diagnose",
        &kfid,
        &customer,
        "--errcode",
        "95018",
        "--format",
        "json",
    ]);
    let diagnosis = diagnosis.ok().json();
    assert_eq!(diagnosis["state"]["servicer_userid"], "zhangsan");
    assert!(
        diagnosis["cause"]
            .as_str()
            .unwrap()
            .contains("zhangsan took the session over")
    );
    sb.run(&[
        "--sandbox",
        "session",
        "diagnose",
        &kfid,
        &customer,
        "--errcode",
        "40001",
    ])
    .code(3);

    let ended = sb.run(&["--sandbox", "session", "end", &kfid, &customer]);
    assert!(ended.ok().stdout.contains("→ 4 ended"), "{}", ended.stdout);
    // Out of an ended session nothing moves but the customer: exit 3 again.
    sb.run(&["--sandbox", "session", "to-queue", &kfid, &customer])
        .code(3);

    let customers = sb.run(&[
        "--sandbox",
        "customer",
        "get",
        &customer,
        "wmNOBODY",
        "--format",
        "json",
    ]);
    customers.code(1);
    let rows = customers.json();
    assert_eq!(rows[0]["nickname"], "小明");
    assert_eq!(
        (
            rows[1]["external_userid"].as_str(),
            rows[1]["found"].as_bool()
        ),
        (Some("wmNOBODY"), Some(false))
    );
}

#[test]
fn stats_take_china_days_and_refuse_bad_ones_before_sending() {
    let sb = Sandbox::new();
    let kfid = sb.account("统计");
    let bad = sb.run(&[
        "--sandbox",
        "stats",
        "corp",
        &kfid,
        "--from",
        "11/01/2026",
        "--to",
        "2026-11-02",
    ]);
    bad.code(3);
    assert!(
        bad.stderr.contains("--from must be a date as YYYY-MM-DD"),
        "{}",
        bad.stderr
    );
    let long = sb.run(&[
        "--sandbox",
        "stats",
        "corp",
        &kfid,
        "--from",
        "2020-01-01",
        "--to",
        "2020-03-01",
    ]);
    long.code(3);
    assert!(long.stderr.contains("a span of 61 days"), "{}", long.stderr);
    // Yesterday and the six days before it, as CSV with a header.
    let day = |back: i64| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let china = i64::try_from(t).unwrap() + 8 * 3600 - back * 86_400;
        let (y, m, d) = civil(china.div_euclid(86_400));
        format!("{y:04}-{m:02}-{d:02}")
    };
    let csv = sb.run(&[
        "--sandbox",
        "stats",
        "servicer",
        &kfid,
        "--from",
        &day(7),
        "--to",
        &day(1),
        "--format",
        "csv",
    ]);
    let text = csv.ok().stdout.clone();
    assert!(text.starts_with("date,stat_time,session_cnt,"), "{text}");
    assert_eq!(text.lines().count(), 8, "{text}");
    assert!(text.contains(&day(1)), "{text}");
}

/// Days since 1970-01-01 to (year, month, day): the test's own check of the CLI's
/// date handling, independent of the crate it uses.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
