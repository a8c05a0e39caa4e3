//! Black-box HTTP tests of the emulator: raw requests, raw JSON answers.

// Scenario tests read top to bottom; splitting them would hide the story.
#![allow(clippy::too_many_lines)]

mod accounts;
mod auth;
mod control;
mod durability;
mod media;
mod properties;
mod robustness;

use serde_json::Value;
use wecom_kf_emulator::{Config, DEMO_CORP_ID, DEMO_SECRET, Running, spawn};

pub(crate) const PNG: &[u8] = include_bytes!("../../src/default-avatar.png");

/// An emulator and a raw HTTP client holding a valid token.
pub(crate) struct Api {
    pub em: Running,
    pub http: reqwest::Client,
    pub token: String,
}

impl Api {
    pub(crate) async fn new() -> Api {
        Api::with(Config::default()).await
    }

    pub(crate) async fn with(config: Config) -> Api {
        let em = spawn(config).await.unwrap();
        let http = reqwest::Client::new();
        let mut api = Api {
            em,
            http,
            token: String::new(),
        };
        let answer = api
            .get(&format!(
                "/cgi-bin/gettoken?corpid={DEMO_CORP_ID}&corpsecret={DEMO_SECRET}"
            ))
            .await;
        answer["access_token"]
            .as_str()
            .unwrap()
            .clone_into(&mut api.token);
        api
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.em.base_url())
    }

    /// GET and parse JSON (panics if the answer is not JSON).
    pub(crate) async fn get(&self, path_and_query: &str) -> Value {
        let response = self
            .http
            .get(self.url(path_and_query))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// POST a raw body to `path?access_token=…` and parse JSON.
    pub(crate) async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> Value {
        let response = self
            .http
            .post(self.url(path))
            .query(&[("access_token", &self.token)])
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    /// POST a raw body to `path_and_query` as given (no token added); parse JSON.
    pub(crate) async fn post_as_is(&self, path_and_query: &str, body: &'static str) -> Value {
        self.http
            .post(self.url(path_and_query))
            .body(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// POST a raw body with the token; the answer's text, whatever it is.
    pub(crate) async fn post_text(&self, path: &str, body: &'static str) -> String {
        self.http
            .post(self.url(path))
            .query(&[("access_token", &self.token)])
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Value {
        self.post(path, body.to_string()).await
    }

    /// Upload the test PNG; returns the media_id.
    pub(crate) async fn upload_png(&self) -> String {
        let part = reqwest::multipart::Part::bytes(PNG)
            .file_name("a.png")
            .mime_str("image/png")
            .unwrap();
        let answer: Value = self
            .http
            .post(self.url("/cgi-bin/media/upload"))
            .query(&[("access_token", self.token.as_str()), ("type", "image")])
            .multipart(reqwest::multipart::Form::new().part("media", part))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["errcode"], 0, "{answer}");
        answer["media_id"].as_str().unwrap().to_owned()
    }

    /// Add an account through the API; returns its open_kfid.
    pub(crate) async fn add(&self, name: &str, media_id: &str) -> String {
        let answer = self
            .post_json(
                "/cgi-bin/kf/account/add",
                &serde_json::json!({"name": name, "media_id": media_id}),
            )
            .await;
        assert_eq!(answer["errcode"], 0, "{answer}");
        answer["open_kfid"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn list(&self) -> Vec<Value> {
        let answer = self
            .post_json(
                "/cgi-bin/kf/account/list",
                &serde_json::json!({"offset": 0, "limit": 100}),
            )
            .await;
        assert_eq!(answer["errcode"], 0, "{answer}");
        answer["account_list"].as_array().unwrap().clone()
    }
}

/// Assert an error answer: its code, and the real service's errmsg shape.
pub(crate) fn assert_err(answer: &Value, code: i64) {
    assert_eq!(answer["errcode"], code, "{answer}");
    let msg = answer["errmsg"].as_str().unwrap();
    assert!(
        msg.ends_with(&format!(
            "more info at https://open.work.weixin.qq.com/devtool/query?e={code}"
        )),
        "{msg}"
    );
    assert!(
        msg.contains(", hint: [") && msg.contains("from ip: 127.0.0.1"),
        "{msg}"
    );
}
