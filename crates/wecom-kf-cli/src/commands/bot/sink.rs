//! Where messages go: a command, a webhook, stdout, or the sandbox's echo.

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use wecom_kf::consumer::HandlerError;
use wecom_kf::types::kf::message::{Content, Message};
use wecom_kf::types::media::MediaType;

/// The most a handler's answer may be (stdout of `--exec`, the body of a webhook's
/// answer): five texts of 2048 bytes fit many times over.
pub(crate) const ANSWER_MAX_BYTES: usize = 64 * 1024;

/// How long one handler run may take when nothing says otherwise: two thirds of the
/// default 30 s lease.
pub(crate) const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(20);

/// Where messages go.
pub(crate) enum Sink {
    /// `sh -c CMD`, the message on stdin, stdout replied; killed with its whole
    /// process group after the timeout.
    Exec(String, Duration),
    /// POST the message; a JSON answer may carry replies. The client has a timeout
    /// and follows no redirects.
    Webhook(String, reqwest::Client),
    /// A JSON line on stdout.
    Stdout,
    /// Answer each text with itself: the sandbox's default bot.
    Echo,
}

/// The webhook's client: a timeout on the whole exchange, and no redirects (a 307
/// would re-POST the customer's message wherever it points).
pub(crate) fn webhook_client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("the webhook client: {e}"))
}

impl Sink {
    /// Hand `messages` over (one, or in batch mode a customer's burst as a JSON
    /// array); what comes back is the answer to send.
    /// `paths[i]`, when given, is where `messages[i]`'s media was saved: added to its
    /// JSON as `"path"`.
    pub(super) async fn answer(
        &self,
        messages: &[Message],
        batch: bool,
        paths: &[Option<PathBuf>],
    ) -> Result<Vec<Content>, HandlerError> {
        let json = to_json(messages, batch, paths).map_err(|e| HandlerError::new(e.to_string()))?;
        match self {
            Sink::Stdout => {
                let mut out = tokio::io::stdout();
                out.write_all(format!("{json}\n").as_bytes())
                    .await
                    .map_err(|e| HandlerError::new(format!("stdout: {e}")))?;
                Ok(Vec::new())
            }
            Sink::Exec(cmd, timeout) => exec(cmd, &json, *timeout).await,
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

/// The JSON a handler gets: one message, or an array in batch mode; a saved media's
/// path as `"path"`.
fn to_json(
    messages: &[Message],
    batch: bool,
    paths: &[Option<PathBuf>],
) -> serde_json::Result<String> {
    if paths.iter().all(Option::is_none) {
        return match (batch, messages) {
            (false, [one]) => serde_json::to_string(one),
            _ => serde_json::to_string(messages),
        };
    }
    let mut values = Vec::with_capacity(messages.len());
    for (i, message) in messages.iter().enumerate() {
        let mut value = serde_json::to_value(message)?;
        if let Some(Some(path)) = paths.get(i) {
            value["path"] = serde_json::json!(path);
        }
        values.push(value);
    }
    match (batch, values.as_slice()) {
        (false, [one]) => serde_json::to_string(one),
        _ => serde_json::to_string(&values),
    }
}

/// A handler's answer as JSON: `"reply"` (a text) and `"messages"`, each in
/// `kf/send_msg`'s shape, or `{"msgtype":"image","path":"…"}` for a file to upload
/// and send (kept as [`Content::Other`] with the path until the bot uploads it).
fn parse_answer(body: &serde_json::Value) -> Vec<Content> {
    let mut replies = Vec::new();
    if let Some(text) = body["reply"].as_str().filter(|t| !t.is_empty()) {
        replies.push(Content::text(text));
    }
    for m in body["messages"].as_array().into_iter().flatten() {
        let msgtype = m["msgtype"].as_str().unwrap_or_default();
        match m["path"].as_str() {
            Some(path) if m.get(msgtype).is_none() => replies.push(Content::Other {
                msgtype: msgtype.to_owned(),
                raw: serde_json::json!({ "path": path }),
            }),
            _ => replies.push(Content::from_wire(msgtype, m[msgtype].clone())),
        }
    }
    replies
}

/// A file an answer asks to send: its type and path.
pub(super) fn file_to_send(content: &Content) -> Option<(MediaType, PathBuf)> {
    let Content::Other { msgtype, raw } = content else {
        return None;
    };
    let kind = msgtype.parse::<MediaType>().ok()?;
    raw["path"].as_str().map(|p| (kind, PathBuf::from(p)))
}

/// Run `cmd` in a process group of its own; on timeout the whole group is killed
/// (not only `sh`), and the run is a failed attempt.
async fn exec(cmd: &str, json: &str, timeout: Duration) -> Result<Vec<Content>, HandlerError> {
    let mut command = tokio::process::Command::new("sh");
    command
        .args(["-c", cmd])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| HandlerError::new(format!("cannot run {cmd:?}: {e}")))?;
    let pid = child.id();
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A command that does not read its stdin is fine.
            let _ = stdin.write_all(json.as_bytes()).await;
        }
        let mut out = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            let cap = u64::try_from(ANSWER_MAX_BYTES).unwrap_or(u64::MAX) + 1;
            stdout
                .take(cap)
                .read_to_end(&mut out)
                .await
                .map_err(|e| HandlerError::new(format!("{cmd:?}: stdout: {e}")))?;
        }
        if out.len() > ANSWER_MAX_BYTES {
            return Err(HandlerError::new(format!(
                "{cmd:?} wrote more than {ANSWER_MAX_BYTES} bytes to stdout; nothing was sent"
            )));
        }
        let status = child
            .wait()
            .await
            .map_err(|e| HandlerError::new(format!("{cmd:?}: {e}")))?;
        Ok((status, out))
    };
    let result = tokio::time::timeout(timeout, run).await;
    let (status, out) = match result {
        Ok(Ok(done)) => done,
        Ok(Err(err)) => {
            kill_group(pid).await;
            return Err(err);
        }
        Err(_) => {
            kill_group(pid).await;
            return Err(HandlerError::new(format!(
                "{cmd:?} ran longer than the handler timeout ({} s) and was killed with its process group",
                timeout.as_secs()
            )));
        }
    };
    if !status.success() {
        return Err(HandlerError::new(format!("{cmd:?} exited with {status}")));
    }
    let text = String::from_utf8_lossy(&out).trim_end().to_owned();
    // A JSON object with "reply" or "messages" is an answer like a webhook's (files
    // included); anything else is the text to send.
    if text.starts_with('{')
        && let Ok(body) = serde_json::from_str::<serde_json::Value>(&text)
        && (body.get("reply").is_some() || body.get("messages").is_some())
    {
        return Ok(parse_answer(&body));
    }
    Ok(if text.is_empty() {
        Vec::new()
    } else {
        vec![Content::text(text)]
    })
}

/// Kill the process group led by `pid` (the handler's `sh` and all it started).
async fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        let kill = tokio::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        // Bounded: kill(1) returns at once.
        let _ = tokio::time::timeout(Duration::from_secs(5), kill).await;
    }
    #[cfg(not(unix))]
    let _ = pid;
}

async fn webhook(
    http: &reqwest::Client,
    url: &str,
    json: &str,
) -> Result<Vec<Content>, HandlerError> {
    let mut answer = http
        .post(url)
        .header("content-type", "application/json")
        .body(json.to_owned())
        .send()
        .await
        .map_err(|e| HandlerError::new(format!("webhook: {}", e.without_url())))?;
    let status = answer.status();
    if !status.is_success() {
        // A redirect is not followed: it is a failure like any other non-2xx.
        return Err(HandlerError::new(format!("webhook answered HTTP {status}")));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(|e| {
        HandlerError::new(format!("webhook: reading the answer: {}", e.without_url()))
    })? {
        if bytes.len() + chunk.len() > ANSWER_MAX_BYTES {
            return Err(HandlerError::new(format!(
                "webhook: the answer is larger than {ANSWER_MAX_BYTES} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    // An empty body: handled, no reply. Anything else must be JSON, or the reply
    // would be lost: a failure, retried.
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let body: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| HandlerError::new(format!("webhook: the answer is not JSON: {e}")))?;
    Ok(parse_answer(&body))
}
