//! `wecom-kf sandbox say --image|--voice|--file`, `msg sync --download DIR` and
//! `media get`: what a customer sends reaches the bot's disk byte for byte.

use crate::bare;
use crate::sessions::Sandbox;

fn lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn a_customers_picture_voice_and_file_are_synced_to_disk_and_fetched_by_id() {
    let sb = Sandbox::new();
    let kfid = sb.account("售后");
    let who = sb.line(&["sandbox", "customer", "--nickname", "小明"]);
    let dir = sb.0.path();
    let mut amr = b"#!AMR\n".to_vec();
    amr.extend((0..5000u32).map(|i| u8::try_from(i % 251).unwrap()));
    let sent = [
        ("--image", "订单.png", crate::PNG.to_vec(), "image"),
        ("--voice", "note.amr", amr, "voice"),
        (
            "--file",
            "发票.pdf",
            b"%PDF-1.4 an invoice".to_vec(),
            "file",
        ),
    ];
    for (flag, name, data, _) in &sent {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        let said = sb.line(&["sandbox", "say", &who, &kfid, flag, path.to_str().unwrap()]);
        assert!(said.starts_with("sent: "), "{said}");
    }

    let inbox = dir.join("inbox");
    let synced = sb.run(&[
        "--sandbox",
        "msg",
        "sync",
        &kfid,
        "--download",
        inbox.to_str().unwrap(),
    ]);
    let items = lines(&synced.ok().stdout);
    assert_eq!(items.len(), 3, "{items:?}");
    for (item, (_, name, data, kind)) in items.iter().zip(&sent) {
        assert_eq!(item["msgtype"], *kind);
        let path =
            std::path::PathBuf::from(item["path"].as_str().expect("the line names the path"));
        assert_eq!(path.file_name().unwrap().to_str().unwrap(), *name);
        assert!(path.starts_with(&inbox));
        assert_eq!(std::fs::read(&path).unwrap(), *data, "{name}");
    }

    // By id: to a file, under the sender's name, to stdout.
    let voice_id = items[1]["voice"]["media_id"].as_str().unwrap();
    let out = dir.join("got.amr");
    let got = sb.line(&[
        "--sandbox",
        "media",
        "get",
        voice_id,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(got, out.to_str().unwrap());
    assert_eq!(std::fs::read(&out).unwrap(), sent[1].2);
    let here = dir.join("here");
    std::fs::create_dir(&here).unwrap();
    let file_id = items[2]["file"]["media_id"].as_str().unwrap();
    let named = crate::Run::of(bare(dir).current_dir(&here).args([
        "--sandbox",
        "--format",
        "json",
        "media",
        "get",
        file_id,
    ]));
    let named = named.ok().json();
    assert_eq!(named["filename"], "发票.pdf");
    assert_eq!(named["type"], "file");
    assert_eq!(std::fs::read(here.join("发票.pdf")).unwrap(), sent[2].2);
    let image_id = items[0]["image"]["media_id"].as_str().unwrap();
    let stdout = bare(dir)
        .args(["--sandbox", "media", "get", image_id, "-o", "-"])
        .output()
        .unwrap();
    assert!(stdout.status.success());
    assert_eq!(stdout.stdout, crate::PNG);
}

#[test]
fn bad_media_exits_non_zero_and_leaves_no_file() {
    let sb = Sandbox::new();
    let kfid = sb.account("售后");
    let who = sb.line(&["sandbox", "customer"]);
    let dir = sb.0.path();
    let out = dir.join("x.bin");
    let unknown = sb.run(&[
        "--sandbox",
        "media",
        "get",
        "nosuchmedia",
        "-o",
        out.to_str().unwrap(),
    ]);
    unknown.code(4);
    assert!(unknown.stderr.contains("40007"), "{}", unknown.stderr);
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".part"))
            .count(),
        0
    );

    let missing = sb.run(&["sandbox", "say", &who, &kfid, "--image", "/nonexistent.png"]);
    missing.code(3);
    assert!(
        missing.stderr.contains("/nonexistent.png"),
        "{}",
        missing.stderr
    );
    let empty = dir.join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let refused = sb.run(&[
        "sandbox",
        "say",
        &who,
        &kfid,
        "--image",
        empty.to_str().unwrap(),
    ]);
    refused.code(3);
    assert!(refused.stderr.contains("0 bytes"), "{}", refused.stderr);
    sb.run(&["sandbox", "say", &who, &kfid]).code(2);
}
