//! CI runs the benchmark's quick variant: every section must still work. Timings are
//! printed, never asserted (the machines are shared and noisy).

use std::process::Command;

#[test]
fn every_section_of_the_quick_benchmark_runs() {
    let out = Command::new(env!("CARGO_BIN_EXE_wecom-kf-bench"))
        .arg("--quick")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the benchmark failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for section in [
        "## 1. sequential",
        "## 1b. 64 calls in flight",
        "## 2. token storm",
        "## 3. list_all",
        "## 5. emulator throughput",
        "## 8a. the consumer",
        "## 8b. the consumer's throughput",
        "## 8c. customers side by side",
        "## 8c. peak memory",
    ] {
        assert!(
            report.contains(section),
            "{section} missing from:\n{report}"
        );
    }
    assert!(
        report.contains("check: token storm makes exactly 1 gettoken: ok"),
        "{report}"
    );
    assert!(
        report.contains("check: list_all yields every account: ok"),
        "{report}"
    );
    assert!(
        report.contains("check: every message reached the handler (1000/s): ok"),
        "{report}"
    );
    assert!(!report.contains("FAILED"), "{report}");
}
