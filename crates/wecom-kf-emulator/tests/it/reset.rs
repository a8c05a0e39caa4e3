//! `POST /__emulator/reset` empties every table the database has.

use serde_json::json;
use wecom_kf_emulator::Config;

use crate::Api;
use crate::sessions::{account_with_servicers, customer, ok, writes};

/// Every table in the file and its row count, read from `sqlite_master` by a
/// connection of our own, so a table added later is counted without naming it here.
fn row_counts(db: &str) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap();
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names
        .into_iter()
        .map(|name| {
            let n = conn
                .query_row(&format!("SELECT COUNT(*) FROM \"{name}\""), [], |r| {
                    r.get(0)
                })
                .unwrap();
            (name, n)
        })
        .collect()
}

#[tokio::test]
async fn reset_leaves_every_table_empty() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kf.db").to_str().unwrap().to_owned();
    let mut config = Config::default();
    config.db.clone_from(&db);
    // tokens: the token Api::with fetched.
    let api = Api::with(config).await;
    // members, accounts, media, servicers.
    let kfid = account_with_servicers(&api).await;
    ok(&api
        .post_json(
            "/__emulator/departments",
            &json!({"department_id": 2, "name": "售后"}),
        )
        .await);
    // customers, sessions, session_moves, messages; enters and msg_codes (the welcome).
    let who = customer(&api, "客户").await;
    ok(&api
        .post_json(
            &format!("/__emulator/customers/{who}/enter"),
            &json!({"open_kfid": kfid, "scene": "s"}),
        )
        .await);
    ok(&writes(&api, &kfid, &who, "你好").await);
    // customer_media.
    api.em()
        .emulator()
        .customer_uploads(&who, "a.png", "image/png", crate::PNG.to_vec().into())
        .await
        .unwrap();
    // servicer_status.
    ok(&api
        .post_json(
            "/__emulator/servicers/zhangsan/status",
            &json!({"open_kfid": kfid, "status": 1, "stop_type": 0}),
        )
        .await);
    // settings (the 升级服务 ranges), then upgrades.
    ok(&api
        .post_json(
            "/__emulator/upgrade_service_config",
            &json!({"member_range": {"userid_list": ["zhangsan"]}}),
        )
        .await);
    ok(&api
        .post_json(
            "/cgi-bin/kf/customer/upgrade_service",
            &json!({"open_kfid": kfid, "external_userid": who, "type": 1, "member": {"userid": "zhangsan", "wording": "顾问"}}),
        )
        .await);
    // sync_tokens.
    ok(&api
        .post_json("/__emulator/sync_token", &json!({"open_kfid": kfid}))
        .await);
    // knowledge_groups, knowledge_intents.
    let group = api
        .post_json("/cgi-bin/kf/knowledge/add_group", &json!({"name": "售后"}))
        .await;
    ok(&group);
    ok(&api
        .post_json(
            "/cgi-bin/kf/knowledge/add_intent",
            &json!({"group_id": group["group_id"], "question": {"text": {"content": "几点开门"}}, "answers": [{"text": {"content": "九点"}}]}),
        )
        .await);

    let before = row_counts(&db);
    let empty: Vec<&String> = before
        .iter()
        .filter(|(_, n)| *n == 0)
        .map(|(name, _)| name)
        .collect();
    assert!(
        empty.is_empty(),
        "populate these tables above so the reset is seen to empty them: {empty:?}"
    );

    ok(&api.post_json("/__emulator/reset", &json!({})).await);

    // The one row a reset leaves: the corp's default knowledge group, which the world
    // recreates at once because a corp always has one (it can be neither renamed nor
    // deleted).
    let left: Vec<(String, i64)> = row_counts(&db)
        .into_iter()
        .filter(|(name, n)| *n != 0 && !(name == "knowledge_groups" && *n == 1))
        .collect();
    assert!(left.is_empty(), "rows left after a reset: {left:?}");
    assert!(
        before.len() >= 19,
        "the database had only {} tables: {before:?}",
        before.len()
    );
}
