//! Files with secrets or customer data are created 0600; a wider existing one is
//! warned about.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use wecom_kf::consumer::SqliteStore;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn logs_of(f: impl FnOnce()) -> String {
    let capture = crate::Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    capture.text()
}

#[test]
fn the_consumer_store_is_created_owner_only_and_a_shared_one_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consumer.db");
    let logs = logs_of(|| drop(SqliteStore::open(&path).unwrap()));
    assert_eq!(mode(&path), 0o600, "a new store holds dead letters");
    assert!(!logs.contains("others can read"), "{logs}");
    let wal = dir.path().join("consumer.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600, "the WAL follows the database");
    }

    // An existing store readable by others keeps its mode (it is the operator's) but
    // is warned about, with the fix.
    let shared = dir.path().join("shared.db");
    std::fs::write(&shared, b"").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
    let logs = logs_of(|| drop(SqliteStore::open(&shared).unwrap()));
    assert!(logs.contains("others can read"), "{logs}");
    assert!(logs.contains("chmod 600"), "{logs}");
    assert_eq!(mode(&shared), 0o644);
}

#[tokio::test]
async fn the_emulators_database_is_created_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emulator.db");
    let em = wecom_kf_emulator::spawn(wecom_kf_emulator::Config::with_db(path.to_string_lossy()))
        .await
        .unwrap();
    crate::client(&em).account().list(0, 1).await.unwrap();
    assert_eq!(mode(&path), 0o600, "it holds customers' messages");
    drop(em);
}
