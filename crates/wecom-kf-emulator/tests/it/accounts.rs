//! kf/account/{add,del,update,list} and kf/add_contact_way: shapes, rules, errcodes.

use std::sync::Arc;

use serde_json::{Value, json};
use wecom_kf_emulator::Config;

use crate::{Api, assert_err};

#[tokio::test]
async fn the_whole_lifecycle_in_the_documented_shapes() {
    let api = Api::new().await;
    let media = api.upload_png().await;
    let kfid = api.add("咨询客服", &media).await;
    assert!(kfid.starts_with("wk") && kfid.len() == 32, "{kfid}");

    let list = api.list().await;
    assert_eq!(list.len(), 1);
    let account = &list[0];
    assert_eq!(account["open_kfid"], kfid.as_str());
    assert_eq!(account["name"], "咨询客服");
    assert_eq!(account["manage_privilege"], true);
    let avatar = account["avatar"].as_str().unwrap();
    let served = api
        .http
        .get(avatar)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&served[..], crate::PNG);

    let ok = api
        .post_json(
            "/cgi-bin/kf/account/update",
            &json!({"open_kfid": kfid, "name": "改名"}),
        )
        .await;
    assert_eq!(ok, json!({"errcode": 0, "errmsg": "ok"}));
    assert_eq!(api.list().await[0]["name"], "改名");
    assert_eq!(
        api.list().await[0]["avatar"],
        avatar,
        "an omitted media_id keeps the avatar"
    );

    let link = api
        .post_json(
            "/cgi-bin/kf/add_contact_way",
            &json!({"open_kfid": kfid, "scene": "12345"}),
        )
        .await;
    assert_eq!(link["errcode"], 0);
    let url = link["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://work.weixin.qq.com/kf/kfc") && url.contains("?enc_scene=ENC"),
        "{url}"
    );
    let again = api
        .post_json(
            "/cgi-bin/kf/add_contact_way",
            &json!({"open_kfid": kfid, "scene": "12345"}),
        )
        .await;
    assert_eq!(again["url"], url, "stable per account and scene");

    assert_eq!(
        api.post_json("/cgi-bin/kf/account/del", &json!({"open_kfid": kfid}))
            .await["errcode"],
        0
    );
    assert!(api.list().await.is_empty());
    assert_err(
        &api.post_json("/cgi-bin/kf/account/del", &json!({"open_kfid": kfid}))
            .await,
        95004,
    );
}

#[tokio::test]
async fn list_answers_get_without_body_get_with_query_and_empty_post() {
    let api = Api::new().await;
    let media = api.upload_png().await;
    for i in 0..5 {
        api.add(&format!("k{i}"), &media).await;
    }
    let t = &api.token;
    let plain = api
        .get(&format!("/cgi-bin/kf/account/list?access_token={t}"))
        .await;
    assert_eq!(plain["account_list"].as_array().unwrap().len(), 5);
    let paged = api
        .get(&format!(
            "/cgi-bin/kf/account/list?access_token={t}&offset=1&limit=2"
        ))
        .await;
    let names: Vec<_> = paged["account_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["k1", "k2"]);
    assert_err(
        &api.get(&format!(
            "/cgi-bin/kf/account/list?access_token={t}&limit=abc"
        ))
        .await,
        40058,
    );
    assert_err(
        &api.get(&format!(
            "/cgi-bin/kf/account/list?access_token={t}&limit=0"
        ))
        .await,
        40058,
    );
    assert_eq!(
        api.post("/cgi-bin/kf/account/list", "").await["account_list"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let page = api
        .post_json(
            "/cgi-bin/kf/account/list",
            &json!({"offset": 4, "limit": 100}),
        )
        .await;
    assert_eq!(page["account_list"].as_array().unwrap().len(), 1);
    let past = api
        .post_json("/cgi-bin/kf/account/list", &json!({"offset": 10}))
        .await;
    assert_eq!(past["account_list"], json!([]));
}

#[tokio::test]
async fn bad_input_gets_the_services_errcode_and_changes_nothing() {
    let api = Api::new().await;
    let media = api.upload_png().await;
    let kfid = api.add("原名", &media).await;
    let add = "/cgi-bin/kf/account/add";
    let cases: Vec<(&str, Value, i64)> = vec![
        (add, json!({"media_id": media}), 95006),
        (add, json!({"name": "", "media_id": media}), 95006),
        (
            add,
            json!({"name": "名".repeat(17), "media_id": media}),
            95006,
        ),
        (add, json!({"name": "ok"}), 41006),
        (
            add,
            json!({"name": "ok", "media_id": "m".repeat(129)}),
            40058,
        ),
        (
            add,
            json!({"name": "ok", "media_id": "3doesnotexist"}),
            40007,
        ),
        (add, json!({"name": 12, "media_id": media}), 40058),
        (add, json!(["name", "x"]), 40058),
        ("/cgi-bin/kf/account/del", json!({}), 40063),
        (
            "/cgi-bin/kf/account/del",
            json!({"open_kfid": "w".repeat(65)}),
            40058,
        ),
        (
            "/cgi-bin/kf/account/del",
            json!({"open_kfid": "bad id!"}),
            95000,
        ),
        (
            "/cgi-bin/kf/account/del",
            json!({"open_kfid": "wkUnknown0000000000000000000000"}),
            95004,
        ),
        (
            "/cgi-bin/kf/account/update",
            json!({"open_kfid": kfid, "name": "a".repeat(17)}),
            95006,
        ),
        (
            "/cgi-bin/kf/account/update",
            json!({"open_kfid": kfid, "media_id": "3nope"}),
            40007,
        ),
        (
            "/cgi-bin/kf/account/update",
            json!({"open_kfid": kfid, "name": ["x"]}),
            40058,
        ),
        ("/cgi-bin/kf/account/list", json!({"limit": 0}), 40058),
        ("/cgi-bin/kf/account/list", json!({"limit": 101}), 40058),
        ("/cgi-bin/kf/account/list", json!({"offset": -1}), 40058),
        ("/cgi-bin/kf/account/list", json!({"limit": "10"}), 40058),
        (
            "/cgi-bin/kf/add_contact_way",
            json!({"open_kfid": kfid, "scene": "春"}),
            40058,
        ),
        (
            "/cgi-bin/kf/add_contact_way",
            json!({"open_kfid": kfid, "scene": "a".repeat(33)}),
            40058,
        ),
        (
            "/cgi-bin/kf/add_contact_way",
            json!({"open_kfid": "wkUnknown0000000000000000000000"}),
            95004,
        ),
    ];
    for (path, body, code) in cases {
        let answer = api.post_json(path, &body).await;
        assert_eq!(answer["errcode"], code, "{path} {body} -> {answer}");
        assert_err(&answer, code);
    }
    // Malformed JSON: 40058 with the documented warning.
    for body in ["{", "{\"name\":}", "not json", "{\"name\":\"a\",}"] {
        let answer = api.post(add, body).await;
        assert_err(&answer, 40058);
        assert!(
            answer["errmsg"]
                .as_str()
                .unwrap()
                .contains("Warning: wrong json format."),
            "{answer}"
        );
    }
    // 16 Chinese characters (48 bytes) are within the limit.
    api.add(&"名".repeat(16), &media).await;
    // Wrong method.
    let get_add = api.get(&format!("{add}?access_token={}", api.token)).await;
    assert_err(&get_add, 40058);
    // Nothing was changed by the rejected calls.
    let list = api.list().await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "原名");
}

#[tokio::test]
async fn avatars_must_be_fresh_images() {
    let mut api = Api::new().await;
    let voice = api
        .upload(
            "voice",
            "media",
            b"#!AMR
0123456789"
                .to_vec(),
        )
        .await["media_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_err(
        &api.post_json(
            "/cgi-bin/kf/account/add",
            &json!({"name": "v", "media_id": voice}),
        )
        .await,
        40007,
    );
    let image = api.upload_png().await;
    api.em().emulator().advance_clock(3 * 24 * 3600);
    // Tokens last 2 hours, so get a new one after moving the clock.
    api.renew_token().await;
    let answer = api
        .post_json(
            "/cgi-bin/kf/account/add",
            &json!({"name": "old", "media_id": image}),
        )
        .await;
    assert_err(&answer, 40007);
    assert!(
        answer["errmsg"].as_str().unwrap().contains("expired"),
        "{answer}"
    );
}

#[tokio::test]
async fn console_accounts_are_listed_but_not_manageable() {
    let api = Api::new().await;
    let seeded: Value = api
        .http
        .post(api.url("/__emulator/accounts"))
        .body(r#"{"name":"前台客服"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kfid = seeded["open_kfid"].as_str().unwrap();
    let list = api.list().await;
    assert_eq!(list[0]["manage_privilege"], false);
    assert!(
        list[0]["avatar"]
            .as_str()
            .unwrap()
            .ends_with("/__emulator/avatar/default.png")
    );
    assert_err(
        &api.post_json(
            "/cgi-bin/kf/account/update",
            &json!({"open_kfid": kfid, "name": "x"}),
        )
        .await,
        48007,
    );
    assert_err(
        &api.post_json("/cgi-bin/kf/account/del", &json!({"open_kfid": kfid}))
            .await,
        48007,
    );
    assert_eq!(
        api.post_json("/cgi-bin/kf/add_contact_way", &json!({"open_kfid": kfid}))
            .await["errcode"],
        0
    );
    assert_eq!(api.list().await[0]["name"], "前台客服");
}

async fn storm_at_the_cap(config: Config, cap: usize, over_code: i64) {
    let api = Arc::new(Api::with(config).await);
    let media = api.upload_png().await;
    for i in 0..cap - 1 {
        api.add(&format!("pre{i}"), &media).await;
    }
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let api = api.clone();
            let media = media.clone();
            tokio::spawn(async move {
                api.post_json(
                    "/cgi-bin/kf/account/add",
                    &json!({"name": format!("race{i}"), "media_id": media}),
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        match answer["errcode"].as_i64().unwrap() {
            0 => ok += 1,
            code => assert_eq!(code, over_code, "{answer}"),
        }
    }
    assert_eq!(ok, 1, "exactly one add fits under the cap");
    assert_eq!(api.list().await.len(), cap.min(100));
    assert_eq!(api.em().emulator().stats().accounts, cap);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_adds_at_the_cap_never_overshoot() {
    let mut unverified = Config::default();
    unverified.verified = false;
    storm_at_the_cap(unverified, 10, 95027).await;
    let mut verified = Config::default();
    verified.max_accounts = Some(20);
    storm_at_the_cap(verified, 20, 95005).await;
}
