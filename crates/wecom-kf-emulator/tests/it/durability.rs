//! The binary: its interface, and durability across `kill -9`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::Api;

struct Emulator {
    child: Child,
    base: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &str, extra: &[&str]) -> Emulator {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wecom-kf-emulator"))
        .args(["--addr", "127.0.0.1:0", "--db", db])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("emulator binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "binds 127.0.0.1 by default: {base}"
    );
    Emulator { child, base }
}

#[tokio::test]
async fn every_acknowledged_add_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kf.db");
    let db = db.to_str().unwrap();
    let mut emulator = start(db, &[]);
    let api = Api::remote(&emulator.base, None).await;
    let media = api.upload_png().await;
    let mut acknowledged = Vec::new();
    for i in 0..40 {
        // `add` asserts the success it was answered.
        acknowledged.push(api.add(&format!("持久{i}"), &media).await);
    }
    // kill -9 right after the last success.
    emulator.child.kill().unwrap();
    emulator.child.wait().unwrap();

    let restarted = start(db, &[]);
    // The token was persisted too: the same one still works.
    let again = Api::remote(&restarted.base, Some(&api.token)).await;
    let listed: Vec<_> = again
        .list()
        .await
        .iter()
        .map(|a| a["open_kfid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, acknowledged);
}

#[test]
fn the_binary_documents_its_interface() {
    let out = Command::new(env!("CARGO_BIN_EXE_wecom-kf-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--addr",
        "--db",
        "--corp-id",
        "--secret",
        "--unverified",
        "--token-ttl",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_wecom-kf-emulator"))
        .args(["--addr", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn unverified_and_token_ttl_flags() {
    let http = reqwest::Client::new();
    let emulator = start(
        ":memory:",
        &[
            "--unverified",
            "--token-ttl",
            "60",
            "--corp-id",
            "wwflags",
            "--secret",
            "S1",
        ],
    );
    let r: Value = http
        .get(format!(
            "{}/cgi-bin/gettoken?corpid=wwflags&corpsecret=S1",
            emulator.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["expires_in"], 60);
}
