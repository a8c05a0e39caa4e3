//! `kf/servicer/{add,del,list}` and the corp directory of the control plane.

use serde_json::{Value, json};

use crate::{Api, assert_err};

async fn directory(api: &Api) {
    for member in [
        json!({"userid": "zhangsan", "name": "张三", "department_id": [2]}),
        json!({"userid": "lisi", "name": "李四", "activated": false}),
    ] {
        let answer = api.post_json("/__emulator/members", &member).await;
        assert_eq!(answer["errcode"], 0, "{answer}");
    }
    let answer = api
        .post_json(
            "/__emulator/departments",
            &json!({"department_id": 2, "name": "售后"}),
        )
        .await;
    assert_eq!(answer["errcode"], 0, "{answer}");
}

fn codes(answer: &Value) -> Vec<(String, i64, String)> {
    answer["result_list"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|item| {
            let who = item
                .get("userid")
                .map_or_else(|| item["department_id"].to_string(), ToString::to_string);
            (
                who.trim_matches('"').to_owned(),
                item["errcode"].as_i64().unwrap(),
                item["errmsg"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_mixed_add_answers_per_item_under_an_overall_success() {
    let api = Api::new().await;
    directory(&api).await;
    let kfid = api.add("售后", &api.upload_png().await).await;
    let body = json!({
        "open_kfid": kfid,
        "userid_list": ["zhangsan", "lisi", "wangwu"],
        "department_id_list": [2, 3],
    });
    let answer = api.post_json("/cgi-bin/kf/servicer/add", &body).await;
    assert_eq!(answer["errcode"], 0, "{answer}");
    let results = codes(&answer);
    assert_eq!(
        results
            .iter()
            .map(|(who, code, _)| (who.as_str(), *code))
            .collect::<Vec<_>>(),
        [
            ("zhangsan", 0),
            ("lisi", 95014),
            ("wangwu", 60111),
            ("2", 0),
            ("3", 60123)
        ]
    );
    assert_eq!(results[0].2, "success");
    // Again: what is already there is "ignored", still errcode 0.
    let again = codes(&api.post_json("/cgi-bin/kf/servicer/add", &body).await);
    assert_eq!((again[0].1, again[0].2.as_str()), (0, "ignored"));
    assert_eq!((again[3].1, again[3].2.as_str()), (0, "ignored"));

    // list is a GET with open_kfid in the query; members carry their status.
    let listed = api
        .get(&format!(
            "/cgi-bin/kf/servicer/list?access_token={}&open_kfid={kfid}",
            api.token
        ))
        .await;
    assert_eq!(
        listed["servicer_list"],
        json!([{"userid": "zhangsan", "status": 0}, {"department_id": 2}]),
        "{listed}"
    );

    let removal = json!({"open_kfid": kfid, "userid_list": ["zhangsan", "lisi"]});
    let removed = codes(&api.post_json("/cgi-bin/kf/servicer/del", &removal).await);
    assert_eq!(
        removed
            .iter()
            .map(|(who, code, msg)| (who.as_str(), *code, msg.as_str()))
            .collect::<Vec<_>>(),
        [("zhangsan", 0, "success"), ("lisi", 0, "ignored")]
    );
}

#[tokio::test]
async fn servicer_calls_check_the_account_and_the_lists() {
    let api = Api::new().await;
    directory(&api).await;
    let console = api.em().emulator().seed_console_account("前台").unwrap();
    let add = |kfid: &str| json!({"open_kfid": kfid, "userid_list": ["zhangsan"]});
    // Managing needs the account to be the app's; reading does not, but shows no status.
    assert_err(
        &api.post_json("/cgi-bin/kf/servicer/add", &add(&console))
            .await,
        48007,
    );
    let listed = api
        .get(&format!(
            "/cgi-bin/kf/servicer/list?access_token={}&open_kfid={console}",
            api.token
        ))
        .await;
    assert_eq!(listed["errcode"], 0, "{listed}");
    assert_err(
        &api.post_json(
            "/cgi-bin/kf/servicer/add",
            &add("wkNoSuchAccount0000000000000000"),
        )
        .await,
        95004,
    );
    let kfid = api.add("售后", &api.upload_png().await).await;
    assert_err(
        &api.post_json("/cgi-bin/kf/servicer/add", &json!({"open_kfid": kfid}))
            .await,
        40058,
    );
    let many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    assert_err(
        &api.post_json(
            "/cgi-bin/kf/servicer/add",
            &json!({"open_kfid": kfid, "userid_list": many}),
        )
        .await,
        40058,
    );
    // list is GET only, as documented.
    assert_err(
        &api.post_json("/cgi-bin/kf/servicer/list", &json!({"open_kfid": kfid}))
            .await,
        40058,
    );
    // A member needs a userid.
    let refused = api
        .post_json("/__emulator/members", &json!({"name": "无名"}))
        .await;
    assert_ne!(refused["errcode"], 0, "{refused}");
}

#[tokio::test]
async fn deleting_an_account_takes_its_servicers_along() {
    let api = Api::new().await;
    directory(&api).await;
    let kfid = api.add("售后", &api.upload_png().await).await;
    let add = json!({"open_kfid": kfid, "userid_list": ["zhangsan"]});
    assert_eq!(
        codes(&api.post_json("/cgi-bin/kf/servicer/add", &add).await)[0].1,
        0
    );
    let deleted = api
        .post_json("/cgi-bin/kf/account/del", &json!({"open_kfid": kfid}))
        .await;
    assert_eq!(deleted["errcode"], 0);
    let listed = api
        .get(&format!(
            "/cgi-bin/kf/servicer/list?access_token={}&open_kfid={kfid}",
            api.token
        ))
        .await;
    assert_err(&listed, 95004);
}
