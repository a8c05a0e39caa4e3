//! Black-box HTTP tests of the emulator: raw requests, raw JSON answers.

// Scenario tests read top to bottom; splitting them would hide the story.
#![allow(clippy::too_many_lines)]

mod accounts;
mod auth;
mod console;
mod control;
mod durability;
mod fidelity;
mod guard;
mod invariants;
mod media;
mod messages;
mod properties;
mod reset;
mod robustness;
mod servicers;
mod sessions;

use serde_json::Value;
use wecom_kf_emulator::{Config, DEMO_CORP_ID, DEMO_SECRET, Running, spawn};

pub(crate) const PNG: &[u8] = wecom_kf_emulator::DEFAULT_AVATAR_PNG;

/// A raw HTTP client holding a valid token, for an emulator in this process or a
/// running `wecom-kf-emulator` binary.
pub(crate) struct Api {
    em: Option<Running>,
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
}

impl Api {
    pub(crate) async fn new() -> Api {
        Api::with(Config::default()).await
    }

    pub(crate) async fn with(config: Config) -> Api {
        let em = spawn(config).await.unwrap();
        let mut api = Api::remote(em.base_url(), None).await;
        api.em = Some(em);
        api
    }

    /// An emulator already listening at `base`; with `token`, reuse it instead of
    /// fetching one.
    pub(crate) async fn remote(base: &str, token: Option<&str>) -> Api {
        let mut api = Api {
            em: None,
            base: base.to_owned(),
            http: json_client(),
            token: token.unwrap_or_default().to_owned(),
        };
        if token.is_none() {
            api.renew_token().await;
        }
        api
    }

    /// Fetch the current token of the demo app.
    pub(crate) async fn renew_token(&mut self) {
        let answer = self
            .get(&format!(
                "/cgi-bin/gettoken?corpid={DEMO_CORP_ID}&corpsecret={DEMO_SECRET}"
            ))
            .await;
        answer["access_token"]
            .as_str()
            .unwrap()
            .clone_into(&mut self.token);
    }

    /// The in-process emulator (its control plane).
    pub(crate) fn em(&self) -> &Running {
        self.em.as_ref().expect("an in-process emulator")
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
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

    /// Upload `data` as `kind` in a form part named `part_name`; the raw answer.
    pub(crate) async fn upload(&self, kind: &str, part_name: &str, data: Vec<u8>) -> Value {
        let part = reqwest::multipart::Part::bytes(data).file_name("f.bin");
        self.http
            .post(self.url("/cgi-bin/media/upload"))
            .query(&[("access_token", self.token.as_str()), ("type", kind)])
            .multipart(reqwest::multipart::Form::new().part(part_name.to_owned(), part))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Upload the test PNG; returns the media_id.
    pub(crate) async fn upload_png(&self) -> String {
        let answer = self.upload("image", "media", PNG.to_vec()).await;
        assert_eq!(answer["errcode"], 0, "{answer}");
        answer["media_id"].as_str().unwrap().to_owned()
    }

    /// POST a raw body with this query (the token included by the caller, if any).
    pub(crate) async fn post_with(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> Value {
        self.http
            .post(self.url(path))
            .query(query)
            .body(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
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

/// A client whose bodies are declared JSON unless a call says otherwise (the control
/// plane refuses an undeclared body).
pub(crate) fn json_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
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
