//! Thousands of hostile bodies: always a JSON answer, and the server keeps serving.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::Api;

fn hostile_bodies() -> Vec<Vec<u8>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"just a string\"".to_vec(),
        b"{\"name\":".to_vec(),
        "[".repeat(100_000).into_bytes(),
        format!("{}{}", "{\"a\":".repeat(5000), "}".repeat(5000)).into_bytes(),
        format!(
            "{{\"name\":\"{}\",\"media_id\":\"m\"}}",
            "客".repeat(350_000)
        )
        .into_bytes(),
        format!("{{\"open_kfid\":\"{}\"}}", "w".repeat(1_000_000)).into_bytes(),
        format!("{{\"limit\":{}}}", "9".repeat(400)).into_bytes(),
        b"{\"limit\":1e400}".to_vec(),
        b"{\"name\":\"\\ud800\",\"media_id\":\"m\"}".to_vec(),
        vec![b'x'; 3 * 1024 * 1024],
    ];
    for _ in 0..1500 {
        let len = rng.random_range(0..512);
        bodies.push((0..len).map(|_| rng.random()).collect());
    }
    for _ in 0..1500 {
        // Valid-ish JSON objects with random types.
        let value = match rng.random_range(0..6) {
            0 => Value::from(rng.random::<i64>()),
            1 => Value::from(rng.random::<f64>()),
            2 => Value::Bool(rng.random()),
            3 => Value::Null,
            4 => Value::Array(vec![Value::from(1), Value::from("x")]),
            _ => Value::from("x".repeat(rng.random_range(0..200))),
        };
        let key =
            ["name", "media_id", "open_kfid", "offset", "limit", "scene"][rng.random_range(0..6)];
        bodies.push(serde_json::json!({ key: value }).to_string().into_bytes());
    }
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_always_get_json_and_the_server_stays_up() {
    let api = Arc::new(Api::new().await);
    let bodies = Arc::new(hostile_bodies());
    let paths = [
        "/cgi-bin/kf/account/add",
        "/cgi-bin/kf/account/del",
        "/cgi-bin/kf/account/update",
        "/cgi-bin/kf/account/list",
        "/cgi-bin/kf/add_contact_way",
    ];
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let api = api.clone();
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let mut seen = 0;
                for (i, body) in bodies.iter().enumerate().skip(w).step_by(8) {
                    let path = paths[i % paths.len()];
                    let response = api
                        .http
                        .post(api.url(path))
                        .query(&[("access_token", api.token.as_str())])
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200);
                    let bytes = response.bytes().await.unwrap();
                    let answer: Value = serde_json::from_slice(&bytes)
                        .unwrap_or_else(|e| panic!("non-JSON answer to body #{i}: {e}"));
                    assert!(answer["errcode"].is_i64(), "{answer}");
                    seen += 1;
                }
                seen
            })
        })
        .collect();
    let mut total = 0;
    for w in workers {
        total += w.await.unwrap();
    }
    assert!(total > 3000);
    // Still serving good requests, and nothing was created by the garbage.
    let media = api.upload_png().await;
    api.add("still alive", &media).await;
    let list = api.list().await;
    assert!(list.iter().any(|a| a["name"] == "still alive"));
    assert!(
        list.iter()
            .all(|a| a["name"].as_str().unwrap().chars().count() <= 16)
    );
}
