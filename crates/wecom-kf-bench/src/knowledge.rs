//! Section 9: `wecom-kf knowledge import` of a FAQ file into the emulator: the calls it makes
//! against the minimum (one per change), and its time against the same calls made bare
//! (a keep-alive hyper connection, pre-serialized bodies, the same typed decode) in the
//! same run. A second import of the same file must change nothing.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use wecom_kf_types::Endpoint;
use wecom_kf_types::Reply;
use wecom_kf_types::kf::knowledge::{
    AddGroup, AddGroupResponse, AddIntent, AddIntentResponse, Answer,
};
use wecom_kf_types::limits::KNOWLEDGE_INTENTS_PER_GROUP_MAX;

use crate::{BoxError, Report, Sizes, http_get};

const WRITES: [&str; 6] = [
    "/cgi-bin/kf/knowledge/add_group",
    "/cgi-bin/kf/knowledge/del_group",
    "/cgi-bin/kf/knowledge/mod_group",
    "/cgi-bin/kf/knowledge/add_intent",
    "/cgi-bin/kf/knowledge/del_intent",
    "/cgi-bin/kf/knowledge/mod_intent",
];

/// (calls that change the knowledge base, every call) so far.
async fn calls(base_url: &str) -> Result<(u64, u64), BoxError> {
    let stats: serde_json::Value =
        serde_json::from_slice(&http_get(base_url, "/__emulator/stats").await?)?;
    let requests = &stats["requests"];
    let writes = WRITES.iter().filter_map(|p| requests[p].as_u64()).sum();
    let all = requests.as_object().map_or(0, |m| {
        m.values().filter_map(serde_json::Value::as_u64).sum()
    });
    Ok((writes, all))
}

fn import(cli: &Path, base_url: &str, file: &Path) -> Result<f64, BoxError> {
    let started = Instant::now();
    let out = Command::new(cli)
        .args(["knowledge", "import"])
        .arg(file)
        .env("WECOM_KF_BASE_URL", base_url)
        .env("WECOM_CORP_ID", wecom_kf_emulator::DEMO_CORP_ID)
        .env("WECOM_KF_SECRET", wecom_kf_emulator::DEMO_SECRET)
        .env("WECOM_KF_CONFIG", "/nonexistent")
        .output()?;
    let elapsed = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "knowledge import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(elapsed)
}

/// A keep-alive connection that POSTs pre-serialized bodies and decodes typed answers.
struct Bare {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: String,
    token: String,
}

impl Bare {
    async fn connect(base_url: &str, token: &str) -> Result<Bare, BoxError> {
        let host = base_url.trim_start_matches("http://").to_owned();
        let stream = tokio::net::TcpStream::connect(&host).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Bare {
            sender,
            host,
            token: token.to_owned(),
        })
    }

    async fn post(&mut self, path: &str, body: Bytes) -> Result<Bytes, BoxError> {
        let request = hyper::Request::post(format!("{path}?access_token={}", self.token))
            .header("host", &self.host)
            .header("content-type", "application/json")
            .body(Full::new(body))?;
        let response = self.sender.send_request(request).await?;
        Ok(response.into_body().collect().await?.to_bytes())
    }
}

/// The typed answer of a success; the errmsg otherwise.
macro_rules! decode {
    ($t:ty, $path:expr, $bytes:expr) => {{
        let reply: Reply<$t> = serde_json::from_slice(&$bytes)?;
        if !reply.status.errcode.is_ok() {
            return Err(format!("{}: {}", $path, reply.status.errmsg).into());
        }
        reply.body.ok_or_else(|| format!("{}: no body", $path))?
    }};
}

fn rows(prefix: &str, n: u32) -> Vec<(String, String, [String; 2], String)> {
    (0..n)
        .map(|i| {
            let per_group = u32::try_from(KNOWLEDGE_INTENTS_PER_GROUP_MAX).unwrap_or(200);
            (
                format!("{prefix}{:02}", i / per_group),
                format!("{prefix}问题{i:05}？"),
                [
                    format!("{prefix}类似{i:05}甲"),
                    format!("{prefix}类似{i:05}乙"),
                ],
                format!("{prefix}答案{i:05}：请在订单页操作。"),
            )
        })
        .collect()
}

pub(crate) async fn run(
    sizes: &Sizes,
    cli: &Path,
    base_url: &str,
    token: &str,
    report: &mut Report,
) -> Result<(), BoxError> {
    let n = sizes.accounts;
    let file = std::env::temp_dir().join(format!("wecom-kf-bench-faq-{}.csv", std::process::id()));
    let mut text = String::from("group,question,similar_questions,answer,attachments\n");
    let imported = rows("导入", n);
    for (group, question, similar, answer) in &imported {
        let _ = writeln!(
            text,
            "{group},{question},\"{}\n{}\",{answer},",
            similar[0], similar[1]
        );
    }
    std::fs::write(&file, text)?;
    let groups = imported
        .iter()
        .map(|r| r.0.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let minimum = u64::try_from(groups)? + u64::from(n);
    let per = f64::from(u32::try_from(minimum)?);

    let (writes0, all0) = calls(base_url).await?;
    let first = import(cli, base_url, &file)?;
    let (writes1, all1) = calls(base_url).await?;
    let second = import(cli, base_url, &file)?;
    let (writes2, all2) = calls(base_url).await?;
    let _ = std::fs::remove_file(&file);

    // The same changes, bare: other names, so the caps and uniqueness are the same.
    let mut bare = Bare::connect(base_url, token).await?;
    let bare_rows = rows("裸", n);
    let started = Instant::now();
    let mut group_ids = std::collections::HashMap::new();
    for (group, ..) in &bare_rows {
        if !group_ids.contains_key(group) {
            let body = Bytes::from(serde_json::to_vec(&AddGroup::new(group))?);
            let bytes = bare.post(AddGroup::PATH, body).await?;
            let answer = decode!(AddGroupResponse, AddGroup::PATH, bytes);
            group_ids.insert(group.clone(), answer.group_id);
        }
    }
    let groups_time = started.elapsed().as_secs_f64();
    let bodies = bare_rows
        .iter()
        .map(|(group, question, similar, answer)| {
            let request = AddIntent::new(&group_ids[group], question, Answer::new(answer))
                .similar(similar.iter().cloned());
            serde_json::to_vec(&request).map(Bytes::from)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    for body in bodies {
        let bytes = bare.post(AddIntent::PATH, body).await?;
        let _ = decode!(AddIntentResponse, AddIntent::PATH, bytes);
    }
    let bare_time = groups_time + started.elapsed().as_secs_f64();

    let changing = writes1 - writes0;
    report.line(format!(
        "\n## 9. knowledge import of {n} intents in {groups} groups (wecom-kf knowledge import)"
    ));
    report.line("| what | figure |\n|---|---|".to_owned());
    report.line(format!(
        "| changing calls, first import | {changing} (minimum {minimum}: one per group and intent) |"
    ));
    report.line(format!(
        "| every call, first import | {} (the rest: gettoken and the list pages) |",
        all1 - all0
    ));
    report.line(format!(
        "| first import, whole process | {first:.2} s ({:.0} µs per change) |",
        first * 1e6 / per
    ));
    report.line(format!(
        "| the same {minimum} calls bare | {bare_time:.2} s ({:.0} µs per call) |",
        bare_time * 1e6 / per
    ));
    report.line(format!(
        "| second import (nothing to do) | {second:.2} s, {} changing calls, {} calls |",
        writes2 - writes1,
        all2 - all1
    ));
    report.target(
        "knowledge import time ÷ bare calls",
        first / bare_time,
        first / bare_time <= 1.5,
        "≤ 1.5",
    );
    report.check(
        "knowledge import makes one changing call per change",
        changing == minimum,
    );
    report.check(
        "a second knowledge import changes nothing",
        writes2 == writes1,
    );
    Ok(())
}
