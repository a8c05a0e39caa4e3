//! `wecom-kf msg …` in the sandbox: the README's walk-through, JSON Lines with a saved
//! cursor, every kind of send, refusals with their exit codes and diagnosis.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::bare;
use crate::sessions::Sandbox;

fn lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn setup(sb: &Sandbox) -> (String, String, String) {
    let kfid = sb.account("售后");
    let who = sb.line(&["sandbox", "customer", "--nickname", "小明"]);
    (kfid, who, sb.avatar())
}

/// The cursor file reads customers' messages: created 0600 like the other files that
/// hold customer data, also when an older, wider one (or its temporary file) is there.
#[cfg(unix)]
#[test]
fn the_cursor_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let (kfid, who, _) = setup(&sb);
    sb.line(&["sandbox", "say", &who, &kfid, "你好"]);
    let cursor = sb.0.path().join("kf.cursor");
    let wide = std::fs::Permissions::from_mode(0o644);
    for file in [&cursor, &cursor.with_extension("tmp")] {
        std::fs::write(file, "").unwrap();
        std::fs::set_permissions(file, wide.clone()).unwrap();
    }
    let synced = sb.run(&[
        "--sandbox",
        "msg",
        "sync",
        &kfid,
        "--cursor-file",
        cursor.to_str().unwrap(),
    ]);
    assert_eq!(lines(&synced.ok().stdout).len(), 1);
    assert!(std::fs::read_to_string(&cursor).unwrap().len() > 1);
    let mode = std::fs::metadata(&cursor).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the cursor file is {mode:o}");
}

#[test]
fn the_walk_through_welcomes_reads_with_a_saved_cursor_and_answers() {
    let sb = Sandbox::new();
    let (kfid, who, avatar) = setup(&sb);
    let entered = sb.line(&["sandbox", "enter", &who, &kfid, "--scene", "ad"]);
    let code = entered
        .strip_prefix("welcome_code: ")
        .expect(&entered)
        .to_owned();
    let welcome = sb.line(&["--sandbox", "msg", "welcome", &code, "--text", "欢迎光临"]);
    assert!(welcome.starts_with("sent: "), "{welcome}");
    sb.line(&["sandbox", "say", &who, &kfid, "你好"]);

    let cursor = sb.0.path().join("kf.cursor");
    let cursor_arg = cursor.to_str().unwrap();
    let first = sb.run(&[
        "--sandbox",
        "msg",
        "sync",
        &kfid,
        "--cursor-file",
        cursor_arg,
    ]);
    let items = lines(&first.ok().stdout);
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["event"]["event_type"], "enter_session");
    assert_eq!(items[1]["text"]["content"], "你好");
    assert!(std::fs::read_to_string(&cursor).unwrap().len() > 1);
    // From the saved cursor: nothing twice.
    let again = sb.run(&[
        "--sandbox",
        "msg",
        "sync",
        &kfid,
        "--cursor-file",
        cursor_arg,
    ]);
    assert_eq!(again.ok().stdout, "");

    // Every kind of send; each prints its msgid.
    let menu = sb.0.path().join("menu.json");
    std::fs::write(&menu, r#"{"head_content":"满意吗？","list":[{"type":"click","click":{"id":"1","content":"满意"}}]}"#).unwrap();
    for args in [
        vec!["--text", "您好"],
        vec!["--image", &avatar],
        vec!["--menu", menu.to_str().unwrap()],
        vec!["--location", "23.1,113.3", "--name", "广州塔"],
        vec![
            "--link",
            "https://work.weixin.qq.com",
            "--title",
            "帮助",
            "--thumb",
            &avatar,
        ],
    ] {
        let mut full = vec!["--sandbox", "msg", "send", &kfid, &who];
        full.extend(args);
        assert!(sb.line(&full).starts_with("sent: "));
    }
    let seen = sb.inbox(&who, &kfid);
    let kinds: Vec<&str> = seen
        .iter()
        .map(|m| m["msgtype"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["text", "text", "image", "msgmenu", "location", "link"]
    );

    // The sixth answer: 95001, exit 4, with the diagnosis.
    let refused = sb.run(&["--sandbox", "msg", "send", &kfid, &who, "--text", "第六条"]);
    refused.code(4);
    assert!(
        refused.stderr.contains("errcode 95001"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("diagnosis:") && refused.stderr.contains("what to do:"),
        "{}",
        refused.stderr
    );

    // Recall the first answer, within 2 minutes.
    let msgid = seen[1]["msgid"].as_str().unwrap();
    assert_eq!(
        sb.line(&["--sandbox", "msg", "recall", &kfid, msgid]),
        format!("recalled: {msgid}")
    );
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let sb = Sandbox::new();
    let (kfid, who, _) = setup(&sb);
    sb.line(&["sandbox", "say", &who, &kfid, "你好"]);
    let long = "长".repeat(700);
    for (args, needle) in [
        (vec!["--text", long.as_str()], "text.content"),
        (
            vec![
                "--link",
                "ftp://x",
                "--title",
                "t",
                "--thumb",
                "/nonexistent.png",
            ],
            "link.url",
        ),
        (vec!["--location", "north"], "--location must be"),
        (vec!["--location", "91,0"], "location.latitude"),
        (vec!["--menu", "/nonexistent.json"], "cannot read"),
    ] {
        let mut full = vec!["--sandbox", "msg", "send", &kfid, &who];
        full.extend(args);
        let run = sb.run(&full);
        run.code(3);
        assert!(run.stderr.contains(needle), "{}", run.stderr);
    }
    // A --link without its title is a usage error.
    sb.run(&[
        "--sandbox",
        "msg",
        "send",
        &kfid,
        &who,
        "--link",
        "https://x",
    ])
    .code(2);
    let inbox = sb.inbox(&who, &kfid);
    assert!(inbox.is_empty(), "nothing was sent: {inbox:?}");
}

#[test]
fn follow_prints_what_other_commands_add_until_interrupted() {
    let sb = Sandbox::new();
    let (kfid, who, _) = setup(&sb);
    let cursor = sb.0.path().join("kf.cursor");
    let mut follow = bare(sb.0.path())
        .args([
            "--sandbox",
            "msg",
            "sync",
            &kfid,
            "--follow",
            "--interval",
            "1",
            "--cursor-file",
        ])
        .arg(&cursor)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follow.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    sb.line(&["sandbox", "say", &who, &kfid, "第一条"]);
    sb.line(&["sandbox", "say", &who, &kfid, "第二条"]);
    // Bounded: the follower polls every second; give it ten.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut texts = Vec::new();
    while texts.len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        let item: serde_json::Value = serde_json::from_str(&line).unwrap();
        texts.extend(item["text"]["content"].as_str().map(str::to_owned));
    }
    // Ctrl-C: the follower stops between pages, after saving its cursor.
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &follow.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = follow.wait().unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(texts, ["第一条", "第二条"]);
    // A run from the saved cursor prints nothing twice.
    let resumed = sb.run(&[
        "--sandbox",
        "msg",
        "sync",
        &kfid,
        "--cursor-file",
        cursor.to_str().unwrap(),
    ]);
    assert_eq!(resumed.ok().stdout, "");
}
