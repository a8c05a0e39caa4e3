//! Property test: the emulator answers every generated request with JSON and stays up.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use crate::Api;

fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,70}".prop_map(Value::String),
        "[a-zA-Z0-9_-]{0,40}".prop_map(Value::String),
        prop::collection::vec("\\PC{0,5}".prop_map(Value::String), 0..3).prop_map(Value::Array),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let object = prop::collection::btree_map(
        prop_oneof![
            Just("name"),
            Just("media_id"),
            Just("open_kfid"),
            Just("offset"),
            Just("limit"),
            Just("scene"),
            Just("x")
        ]
        .prop_map(str::to_owned),
        field_value(),
        0..6,
    )
    .prop_map(|m| serde_json::to_vec(&m.into_iter().collect::<serde_json::Map<_, _>>()).unwrap());
    prop_oneof![4 => object, 1 => prop::collection::vec(any::<u8>(), 0..200)]
}

#[test]
fn every_generated_request_gets_a_json_answer_and_the_emulator_stays_up() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let api = runtime.block_on(Api::new());
    // Every JSON endpoint the emulator serves, from its registry.
    let paths: Vec<&str> = wecom_kf_emulator::api_paths()
        .filter(|&(_, json)| json)
        .map(|(path, _)| path)
        .collect();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let answered = std::sync::atomic::AtomicU64::new(0);
    runner
        .run(
            &(0..paths.len(), body(), any::<bool>()),
            |(path, body, get)| {
                let request = if get {
                    api.http.get(api.url(paths[path]))
                } else {
                    api.http.post(api.url(paths[path])).body(body)
                };
                let answer: Value = runtime.block_on(async {
                    request
                        .query(&[("access_token", &api.token)])
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap()
                });
                prop_assert!(answer["errcode"].is_i64(), "{}", answer);
                answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            },
        )
        .unwrap();
    let answered = answered.into_inner();
    assert!(answered >= u64::from(cases));
    // Still serving, and every account it created respects the limits.
    let accounts = runtime.block_on(api.list());
    assert!(
        accounts
            .iter()
            .all(|a| a["name"].as_str().unwrap().chars().count() <= 16)
    );
    eprintln!("emulator property: {answered} generated requests answered with JSON");
}
