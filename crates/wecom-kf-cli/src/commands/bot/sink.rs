//! Where messages go: a command, a webhook, stdout, or the sandbox's echo.

use tokio::io::AsyncWriteExt as _;
use wecom_kf::consumer::HandlerError;
use wecom_kf::types::kf::message::{Content, Message};

/// Where messages go.
pub(crate) enum Sink {
    /// `sh -c CMD`, the message on stdin, stdout replied.
    Exec(String),
    /// POST the message; a JSON answer may carry replies.
    Webhook(String, reqwest::Client),
    /// A JSON line on stdout.
    Stdout,
    /// Answer each text with itself: the sandbox's default bot.
    Echo,
}

impl Sink {
    /// Hand `messages` over (one, or in batch mode a customer's burst as a JSON
    /// array); what comes back is the answer to send.
    pub(super) async fn answer(
        &self,
        messages: &[Message],
        batch: bool,
    ) -> Result<Vec<Content>, HandlerError> {
        let json = match (batch, messages) {
            (false, [one]) => serde_json::to_string(one),
            _ => serde_json::to_string(messages),
        }
        .map_err(|e| HandlerError::new(e.to_string()))?;
        match self {
            Sink::Stdout => {
                let mut out = tokio::io::stdout();
                out.write_all(format!("{json}\n").as_bytes())
                    .await
                    .map_err(|e| HandlerError::new(format!("stdout: {e}")))?;
                Ok(Vec::new())
            }
            Sink::Exec(cmd) => exec(cmd, &json).await,
            Sink::Echo => {
                let said: Vec<&str> = messages
                    .iter()
                    .filter_map(|m| m.content.as_text())
                    .collect();
                Ok(if said.is_empty() {
                    Vec::new()
                } else {
                    vec![Content::text(format!("你说的是：{}", said.join(" / ")))]
                })
            }
            Sink::Webhook(url, http) => webhook(http, url, &json).await,
        }
    }
}

async fn exec(cmd: &str, json: &str) -> Result<Vec<Content>, HandlerError> {
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", cmd])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| HandlerError::new(format!("cannot run {cmd:?}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its stdin is fine.
        let _ = stdin.write_all(json.as_bytes()).await;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| HandlerError::new(format!("{cmd:?}: {e}")))?;
    if !out.status.success() {
        return Err(HandlerError::new(format!(
            "{cmd:?} exited with {}",
            out.status
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout).trim_end().to_owned();
    Ok(if text.is_empty() {
        Vec::new()
    } else {
        vec![Content::text(text)]
    })
}

async fn webhook(
    http: &reqwest::Client,
    url: &str,
    json: &str,
) -> Result<Vec<Content>, HandlerError> {
    let answer = http
        .post(url)
        .header("content-type", "application/json")
        .body(json.to_owned())
        .send()
        .await
        .map_err(|e| HandlerError::new(format!("webhook: {}", e.without_url())))?;
    let status = answer.status();
    if !status.is_success() {
        return Err(HandlerError::new(format!("webhook answered HTTP {status}")));
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let mut replies = Vec::new();
    if let Some(text) = body["reply"].as_str().filter(|t| !t.is_empty()) {
        replies.push(Content::text(text));
    }
    for m in body["messages"].as_array().into_iter().flatten() {
        let msgtype = m["msgtype"].as_str().unwrap_or_default();
        replies.push(Content::from_wire(msgtype, m[msgtype].clone()));
    }
    Ok(replies)
}
