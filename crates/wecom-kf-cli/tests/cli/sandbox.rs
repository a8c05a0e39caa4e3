//! The sandbox: no credentials, persistent between runs.

use crate::{Run, bare};

#[test]
fn the_demo_persists_between_runs_and_reset_empties_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = Run::of(bare(dir.path()).args(["sandbox", "demo"]));
    first.ok();
    assert!(
        first.stdout.contains("0 account(s) kept from earlier runs"),
        "{}",
        first.stdout
    );
    for step in [
        "[1/7]",
        "[2/7]",
        "[3/7]",
        "[4/7]",
        "[5/7]",
        "[6/7]",
        "[7/7]",
        "https://work.weixin.qq.com/kf/kfc",
        "created and deleted",
    ] {
        assert!(
            first.stdout.contains(step),
            "{step} missing:\n{}",
            first.stdout
        );
    }
    let second = Run::of(bare(dir.path()).args(["sandbox", "demo"]));
    assert!(
        second
            .ok()
            .stdout
            .contains("1 account(s) kept from earlier runs"),
        "{}",
        second.stdout
    );

    let listed =
        Run::of(bare(dir.path()).args(["--sandbox", "account", "list", "--format", "json"]));
    let names: Vec<_> = listed
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["演示客服1号", "演示客服2号"]);

    let path = Run::of(bare(dir.path()).args(["sandbox", "path"]));
    assert_eq!(
        path.ok().stdout.trim(),
        dir.path().join("sandbox.db").to_str().unwrap()
    );
    Run::of(bare(dir.path()).args(["sandbox", "reset"])).ok();
    let empty =
        Run::of(bare(dir.path()).args(["--sandbox", "account", "list", "--format", "json"]));
    assert_eq!(empty.ok().json(), serde_json::json!([]));
}
