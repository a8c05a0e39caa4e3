//! Every account subcommand in every output format.

use crate::{PNG, Server};

#[test]
fn add_list_update_link_export_delete_in_every_format() {
    let server = Server::start();
    let avatar = server.file("avatar.png", PNG);
    let avatar = avatar.to_str().unwrap();

    let created = server.run(&["account", "add", "--name", "售前咨询", "--avatar", avatar]);
    created.ok();
    assert!(
        created.stdout.starts_with("created 售前咨询: wk"),
        "{}",
        created.stdout
    );
    let json = server.run(&[
        "account",
        "add",
        "--name",
        "售后服务",
        "--avatar",
        avatar,
        "--format",
        "json",
    ]);
    let kfid = json.ok().json()["open_kfid"].as_str().unwrap().to_owned();
    assert!(kfid.starts_with("wk"));

    // --media-id instead of a file.
    let media = server.run(&["media", "upload", avatar]);
    let media_id = media.ok().stdout.trim().to_owned();
    server
        .run(&[
            "account",
            "add",
            "--name",
            "第三个",
            "--media-id",
            &media_id,
        ])
        .ok();

    let table = server.run(&["account", "list"]);
    table.ok();
    assert!(
        table.stdout.contains("OPEN_KFID")
            && table.stdout.contains("售后服务")
            && table.stdout.contains(&kfid)
    );
    assert!(
        !table.stdout.contains('│'),
        "plain output when stdout is not a terminal"
    );
    let listed = server.run(&["account", "list", "--format", "json"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let first = &listed[0];
    for key in ["open_kfid", "name", "avatar", "manage_privilege"] {
        assert!(first.get(key).is_some(), "{key} missing from {first}");
    }
    let csv = server.run(&["account", "list", "--format", "csv"]);
    let mut lines = csv.ok().stdout.lines();
    assert_eq!(lines.next(), Some("open_kfid,name,avatar,manage_privilege"));
    assert_eq!(lines.count(), 3);
    let page = server
        .run(&[
            "account", "list", "--offset", "1", "--limit", "1", "--format", "json",
        ])
        .json();
    assert_eq!(page[0]["name"], "售后服务");
    assert_eq!(
        server
            .run(&["account", "list", "--all", "--format", "json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );

    server
        .run(&["account", "update", &kfid, "--name", "售后一组"])
        .ok();
    let updated = server
        .run(&[
            "account", "update", &kfid, "--avatar", avatar, "--format", "json",
        ])
        .json();
    assert_eq!(updated["updated"], true);
    assert!(server.names().contains(&"售后一组".to_owned()));

    let link = server.run(&["account", "link", &kfid, "--scene", "spring_sale"]);
    assert!(
        link.ok()
            .stdout
            .starts_with("https://work.weixin.qq.com/kf/kfc")
    );
    let qr = server.run(&["account", "link", &kfid, "--qr"]);
    assert!(
        qr.ok().stdout.contains('█') || qr.stdout.contains('▀'),
        "a QR code is drawn:\n{}",
        qr.stdout
    );
    let link_json = server
        .run(&["account", "link", &kfid, "--format", "json"])
        .json();
    assert_eq!(link_json["open_kfid"], kfid.as_str());

    let export = server.run(&["account", "export"]).json();
    assert_eq!(export.as_array().unwrap().len(), 3);
    let export_csv = server.run(&["account", "export", "--format", "csv"]);
    assert_eq!(export_csv.ok().stdout.lines().count(), 4);

    let deleted = server
        .run(&["account", "delete", &kfid, "--yes", "--format", "json"])
        .json();
    assert_eq!(deleted[0]["deleted"], true);
    assert_eq!(server.names().len(), 2);
}

#[test]
fn delete_refuses_without_a_terminal_and_without_yes() {
    let server = Server::start();
    let kfid = server.add_account("留下");
    let refused = server.run(&["account", "delete", &kfid]);
    refused.code(2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(server.calls("/cgi-bin/kf/account/del"), 0);
    assert_eq!(server.names(), ["留下"]);
}

#[test]
fn deleting_several_reports_each_and_exits_non_zero_if_any_failed() {
    let server = Server::start();
    let kfid = server.add_account("甲");
    let run = server.run(&[
        "account",
        "delete",
        &kfid,
        "wkMissing000000000000000000000000",
        "--yes",
    ]);
    run.code(1);
    assert!(run.stdout.contains(&format!("deleted {kfid}")));
    assert!(run.stderr.contains("95004"), "{}", run.stderr);
}

#[test]
fn media_upload_and_token_check() {
    let server = Server::start();
    let file = server.file("notes.txt", b"some notes for a customer");
    let uploaded = server
        .run(&[
            "media",
            "upload",
            file.to_str().unwrap(),
            "--format",
            "json",
        ])
        .json();
    assert_eq!(uploaded["type"], "file");
    let png = server.file("a.png", PNG);
    let as_file = server
        .run(&[
            "media",
            "upload",
            png.to_str().unwrap(),
            "--type",
            "file",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(as_file["type"], "file");

    let check = server.run(&["token", "check"]);
    assert!(
        check
            .ok()
            .stdout
            .starts_with("ok: credentials work; token "),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("(96 chars), expires in 1h59m")
            || check.stdout.contains("expires in 2h00m"),
        "{}",
        check.stdout
    );
    let json = server.run(&["token", "check", "--format", "json"]).json();
    assert_eq!(json["ok"], true);
    assert!(json["expires_in"].as_u64().unwrap() > 7000);
}

#[test]
fn every_command_has_help_with_examples_and_completions_work() {
    let server = Server::start();
    for args in [
        vec!["account", "list"],
        vec!["account", "add"],
        vec!["account", "update"],
        vec!["account", "delete"],
        vec!["account", "link"],
        vec!["account", "import"],
        vec!["account", "export"],
        vec!["media", "upload"],
        vec!["token", "check"],
        vec!["sandbox", "demo"],
        vec!["sandbox", "reset"],
        vec!["completions"],
    ] {
        let mut full = args.clone();
        full.push("--help");
        let help = server.run(&full);
        help.ok();
        assert!(
            help.stdout.contains("Example"),
            "no examples in {args:?} --help"
        );
    }
    let top = server.run(&["--help"]);
    assert!(top.ok().stdout.contains("Exit codes:"));
    for shell in ["bash", "zsh", "fish"] {
        let out = server.run(&["completions", shell]);
        assert!(out.ok().stdout.contains("account"), "{shell}");
    }
}

#[test]
fn a_profile_in_the_config_file_supplies_credentials_and_loose_permissions_are_flagged() {
    let server = Server::start();
    let config = server.dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[default]\ncorp_id = \"{}\"\nsecret = \"{}\"\nbase_url = \"{}\"\n",
            wecom_kf_emulator::DEMO_CORP_ID,
            wecom_kf_emulator::DEMO_SECRET,
            server.em.base_url()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let run = crate::Run::of(crate::bare(server.dir.path()).args(["account", "list"]));
    run.ok();
    #[cfg(unix)]
    assert!(
        run.stderr.contains("can be read by others"),
        "{}",
        run.stderr
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let quiet = crate::Run::of(crate::bare(server.dir.path()).args(["account", "list"]));
    assert!(quiet.ok().stderr.is_empty(), "{}", quiet.stderr);
    let missing = crate::Run::of(crate::bare(server.dir.path()).args([
        "--profile",
        "prod",
        "account",
        "list",
    ]));
    missing.code(6);
    assert!(missing.stderr.contains("no profile [prod]"));
}
