//! Property test: any sequence of customer actions, sends, session moves and clock
//! jumps keeps the rules of `kf/send_msg`: no send outside states 0 and 1 succeeds, no
//! more than 5 succeed per customer message, and `sync_msg` never returns a message
//! the app sent.

use std::collections::HashSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::Api;
use crate::sessions::{account_with_servicers, customer, state};

#[derive(Clone, Debug)]
enum Step {
    Writes(usize),
    Enters(usize),
    Sends(usize),
    Trans(usize, i64),
    Take(usize),
    End(usize),
    Clock(i64),
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0..3usize;
    prop_oneof![
        3 => who.clone().prop_map(Step::Writes),
        1 => who.clone().prop_map(Step::Enters),
        6 => who.clone().prop_map(Step::Sends),
        2 => (who.clone(), 1..=4i64).prop_map(|(c, to)| Step::Trans(c, to)),
        1 => who.clone().prop_map(Step::Take),
        1 => who.prop_map(Step::End),
        1 => prop_oneof![Just(20), Just(3600), Just(47 * 3600), Just(49 * 3600)].prop_map(Step::Clock),
    ]
}

/// What the model knows of one customer: successful sends since their last message.
#[derive(Default, Clone)]
struct Model {
    sends_since_write: u32,
}

#[test]
fn no_sequence_breaks_the_send_rules() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(32);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let checked = std::cell::Cell::new(0u64);
    runner
        .run(&prop::collection::vec(step(), 1..40), |steps| {
            runtime.block_on(async {
                let mut api = Api::new().await;
                let kfid = account_with_servicers(&api).await;
                let mut who = Vec::new();
                for n in 0..3 {
                    who.push(customer(&api, &format!("客户{n}")).await);
                }
                let mut model = vec![Model::default(); 3];
                let mut sent: HashSet<String> = HashSet::new();
                for step in &steps {
                    match *step {
                        Step::Writes(c) => {
                            let body = json!({"open_kfid": kfid, "msgtype": "text", "text": {"content": "hi"}});
                            let answer = api.post_json(&format!("/__emulator/customers/{}/send", who[c]), &body).await;
                            if answer["errcode"] == 0 {
                                model[c].sends_since_write = 0;
                            }
                        }
                        Step::Enters(c) => {
                            api.post_json(&format!("/__emulator/customers/{}/enter", who[c]), &json!({"open_kfid": kfid})).await;
                        }
                        Step::Sends(c) => {
                            let before = state(&api, &kfid, &who[c]).await.0;
                            let answer = api
                                .post_json(
                                    "/cgi-bin/kf/send_msg",
                                    &json!({"touser": who[c], "open_kfid": kfid, "msgtype": "text", "text": {"content": "x"}}),
                                )
                                .await;
                            if answer["errcode"] == 0 {
                                prop_assert!(before == 0 || before == 1, "a send succeeded in state {before}");
                                model[c].sends_since_write += 1;
                                prop_assert!(model[c].sends_since_write <= 5, "a 6th send succeeded: {steps:?}");
                                sent.insert(answer["msgid"].as_str().unwrap().to_owned());
                            } else {
                                let code = answer["errcode"].as_i64().unwrap();
                                prop_assert!([95018, 95001, 95002].contains(&code), "unexpected {answer}");
                            }
                        }
                        Step::Trans(c, to) => {
                            let mut body = json!({"open_kfid": kfid, "external_userid": who[c], "service_state": to});
                            if to == 3 {
                                body["servicer_userid"] = json!("zhangsan");
                            }
                            api.post_json("/cgi-bin/kf/service_state/trans", &body).await;
                        }
                        Step::Take(c) => {
                            api.post_json("/__emulator/servicers/wangwu/take", &json!({"open_kfid": kfid, "external_userid": who[c]})).await;
                        }
                        Step::End(c) => {
                            let (_, servicer) = state(&api, &kfid, &who[c]).await;
                            let servicer = servicer.unwrap_or_else(|| "zhangsan".into());
                            api.post_json(&format!("/__emulator/servicers/{servicer}/end"), &json!({"open_kfid": kfid, "external_userid": who[c]})).await;
                        }
                        Step::Clock(secs) => {
                            api.em().emulator().advance_clock(secs);
                            api.renew_token().await;
                        }
                    }
                    checked.set(checked.get() + 1);
                }
                // sync_msg never returns what the app sent.
                let mut cursor = Value::Null;
                for _ in 0..100 {
                    let mut body = json!({"open_kfid": kfid});
                    if !cursor.is_null() {
                        body["cursor"] = cursor.clone();
                    }
                    let page = api.post_json("/cgi-bin/kf/sync_msg", &body).await;
                    prop_assert_eq!(&page["errcode"], &json!(0));
                    for m in page["msg_list"].as_array().unwrap() {
                        prop_assert!(!sent.contains(m["msgid"].as_str().unwrap()), "sync returned an app send");
                        prop_assert!(m["origin"] != 0);
                    }
                    cursor = page["next_cursor"].clone();
                    if page["has_more"] == 0 {
                        break;
                    }
                }
                Ok(())
            })
        })
        .unwrap();
    eprintln!("send-rule invariants: {} steps checked", checked.get());
}
