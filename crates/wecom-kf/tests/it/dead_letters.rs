//! Dead letters are bounded (the oldest go past the cap), counted and dropped one by
//! one, on SQLite and Redis alike.

use std::time::Duration;

use wecom_kf::consumer::{DeadLetter, SqliteStore, Store};

async fn bounded_counted_and_dropped(store: impl Store) {
    let lease = store
        .acquire("wk1", "me", Duration::from_secs(30))
        .await
        .unwrap()
        .expect("a free account");
    for n in 0..5 {
        let letter = DeadLetter::new("wk1", format!("m{n}"), "{}", "handler failed", 5, n);
        store.dead_letter(&lease, letter).await.unwrap();
    }
    let kept: Vec<String> = store
        .dead_letters()
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.msgid)
        .collect();
    assert_eq!(kept, ["m2", "m3", "m4"], "the cap of 3 keeps the newest");
    assert_eq!(store.dead_letter_count().await.unwrap(), 3);
    // Each still counts as handled: the consumer does not run it again by itself.
    assert!(store.is_handled("wk1", "m0").await.unwrap());

    assert!(store.drop_dead_letter("wk1", "m3").await.unwrap());
    assert!(!store.drop_dead_letter("wk1", "m3").await.unwrap(), "gone");
    assert!(
        !store.drop_dead_letter("wk2", "m4").await.unwrap(),
        "another account's"
    );
    assert_eq!(store.dead_letter_count().await.unwrap(), 2);
}

#[tokio::test]
async fn sqlite_keeps_at_most_its_cap_of_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("c.db"))
        .unwrap()
        .max_dead_letters(3);
    bounded_counted_and_dropped(store).await;
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_keeps_at_most_its_cap_of_dead_letters() {
    let Some(redis) = wecom_kf_testkit::RedisServer::start() else {
        return;
    };
    let store = wecom_kf::consumer::RedisStore::open(&redis.url(), "dl")
        .unwrap()
        .max_dead_letters(3);
    bounded_counted_and_dropped(store).await;
}
