//! Section 6, messages: decoding a `sync_msg` page with our types against `serde_json::Value`
//! on the same bytes; draining an account with the stream at flat memory; the
//! emulator's `send_msg` and `sync_msg` under wrk at 64 connections.

use std::time::Instant;

use futures_util::{StreamExt, TryStreamExt};
use wecom_kf::Client;
use wecom_kf_types::Reply;
use wecom_kf_types::kf::message::{
    ChangeType, Content, EnterSession, Event, Location, Media, Menu, MenuItem, Message, Origin,
};
use wecom_kf_types::kf::sync_msg::{SyncMsg, SyncMsgResponse};

use crate::{ALLOC, BoxError, Report, Sizes, median};

/// A page of 1000 messages in the mix a busy account sees: mostly texts, some media,
/// events, menus and places.
fn page_bytes() -> Vec<u8> {
    let kfid = "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q";
    let messages: Vec<Message> = (0..1000)
        .map(|i| {
            let customer = format!("wmAJ2GCAAAme1XQRC-NI-q0_ZM9uk{:03}", i % 97);
            let (origin, content) = match i % 20 {
                0 | 1 => (Origin::Customer, Content::Image(Media::new(format!("2iSLeVyqzk4eX0IB5kTi9Ljfa2rt9dwfq5WKRQ4Nvvgw{i}")))),
                2 => {
                    let mut enter = EnterSession::default();
                    enter.open_kfid = kfid.into();
                    enter.external_userid.clone_from(&customer);
                    enter.scene = "spring_sale".into();
                    enter.welcome_code = Some(format!("WELCOME{i:040}"));
                    (Origin::Event, Content::Event(Event::EnterSession(enter)))
                }
                3 => {
                    let raw = serde_json::json!({"event_type": "session_status_change", "open_kfid": kfid,
                        "external_userid": customer, "change_type": ChangeType::Taken, "new_servicer_userid": "zhangsan",
                        "msg_code": format!("CODE{i:040}")});
                    (Origin::Event, Content::Event(Event::from_wire(raw)))
                }
                4 => (Origin::Servicer, Content::Menu(Menu::new("您对本次服务是否满意呢？").item(MenuItem::click("101", "满意")).item(MenuItem::click("102", "不满意")))),
                5 => (Origin::Customer, Content::Location(Location::new(23.106_021, 113.324_142).named("广州塔", "广东省广州市海珠区阅江西路222号"))),
                _ => (Origin::Customer, Content::text(format!("你好，我想问一下订单{i}的物流到哪里了？谢谢"))),
            };
            let mut m = Message::new(format!("from_msgid_46224166421694524{i:05}"), 1_615_478_585 + i64::from(i), origin, content);
            if origin != Origin::Event {
                m.open_kfid = Some(kfid.into());
                m.external_userid = Some(customer);
            }
            if origin == Origin::Servicer {
                m.servicer_userid = Some("zhangsan".into());
            }
            m
        })
        .collect();
    let page = SyncMsgResponse::new("4gw7MepFLfgF2VC5npN", true, messages);
    let mut value = serde_json::to_value(&page).unwrap_or_default();
    value["errcode"] = 0.into();
    value["errmsg"] = "ok".into();
    serde_json::to_vec(&value).unwrap_or_default()
}

/// 6a. The same bytes decoded into our types and into `Value`, alternating rounds.
pub(crate) fn decode(sizes: &Sizes, report: &mut Report) -> Result<(), BoxError> {
    let bytes = page_bytes();
    let per_round = sizes.decode_iterations;
    let (mut typed, mut untyped) = (Vec::new(), Vec::new());
    let mut decoded = 0usize;
    for _ in 0..sizes.rounds {
        let started = Instant::now();
        for _ in 0..per_round {
            let reply: Reply<SyncMsgResponse> = serde_json::from_slice(&bytes)?;
            decoded = reply.body.map_or(0, |b| {
                b.msg_list
                    .iter()
                    .filter(|m| !matches!(m.content, Content::Other { .. }))
                    .count()
            });
        }
        typed.push(started.elapsed().as_secs_f64() / f64::from(per_round));
        let started = Instant::now();
        for _ in 0..per_round {
            let value: serde_json::Value = serde_json::from_slice(&bytes)?;
            std::hint::black_box(value);
        }
        untyped.push(started.elapsed().as_secs_f64() / f64::from(per_round));
    }
    let (typed, untyped) = (median(typed), median(untyped));
    report.line(format!(
        "\n## 6a. decoding one sync_msg page of 1000 messages ({} KiB), median of {} rounds × {per_round}",
        bytes.len() / 1024,
        sizes.rounds
    ));
    report.line(format!(
        "serde_json::Value (floor): {:.0} µs/page; our types: {:.0} µs/page",
        untyped * 1e6,
        typed * 1e6
    ));
    let ratio = typed / untyped;
    report.target("decode: our types ÷ Value", ratio, ratio <= 1.0, "≤ 1.0");
    report.check("every message decodes to its own variant", decoded == 1000);
    Ok(())
}

/// Seed `n` customer messages into a new account through the control plane; answers
/// the account and the customers.
pub(crate) async fn seed(
    client: &Client,
    base_url: &str,
    media_id: &str,
    n: u32,
) -> Result<(String, Vec<String>), BoxError> {
    let kfid = client.account().add("消息基准", media_id).await?;
    let http = reqwest::Client::new();
    let mut customers = Vec::new();
    for i in 0..64 {
        let body = http
            .post(format!("{base_url}/__emulator/customers"))
            .header("content-type", "application/json")
            .body(format!(r#"{{"nickname":"客户{i}"}}"#))
            .send()
            .await?
            .bytes()
            .await?;
        let answer: serde_json::Value = serde_json::from_slice(&body)?;
        customers.push(
            answer["external_userid"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let writes = futures_util::stream::iter(0..n).map(|i| {
        let (http, who) = (&http, &customers[i as usize % customers.len()]);
        let url = format!("{base_url}/__emulator/customers/{who}/send");
        let body = format!(
            r#"{{"open_kfid":"{kfid}","msgtype":"text","text":{{"content":"你好，我想问一下订单{i}的物流到哪里了？"}}}}"#
        );
        async move { http.post(url).header("content-type", "application/json").body(body).send().await?.error_for_status().map(drop) }
    });
    writes.buffer_unordered(16).try_collect::<()>().await?;
    Ok((kfid, customers))
}

/// 6b. Drain every message with the stream; the peak heap stays within two pages.
pub(crate) async fn drain(
    sizes: &Sizes,
    client: &Client,
    kfid: &str,
    report: &mut Report,
) -> Result<(), BoxError> {
    let api = client.message();
    api.sync_page(SyncMsg::new(kfid)).await?; // warm the connection's buffers
    ALLOC.reset_peak_usage();
    let base = ALLOC.current_usage();
    let page = api.sync_page(SyncMsg::new(kfid)).await?;
    let one_page = ALLOC.peak_usage().saturating_sub(base);
    drop(page);

    ALLOC.reset_peak_usage();
    let base = ALLOC.current_usage();
    let started = Instant::now();
    let mut messages = std::pin::pin!(api.messages(SyncMsg::new(kfid)));
    let mut count = 0u32;
    while let Some(message) = messages.try_next().await? {
        count += u32::from(!message.msgid.is_empty());
    }
    let elapsed = started.elapsed();
    let growth = ALLOC.peak_usage().saturating_sub(base);
    #[allow(clippy::cast_precision_loss)]
    let pages = growth as f64 / one_page as f64;
    report.line(format!(
        "\n## 6b. draining {} messages with client.message().messages() (pages of 1000)",
        sizes.drain_messages
    ));
    report.line(format!(
        "total {:.0} ms ({:.0} messages/s); one page fetched peaks at {one_page} bytes; streaming all peaks at {growth} bytes",
        elapsed.as_secs_f64() * 1000.0,
        f64::from(count) / elapsed.as_secs_f64()
    ));
    report.target(
        "drain: peak growth ÷ one page fetched",
        pages,
        pages < 2.0,
        "< 2",
    );
    report.check(
        "the stream yields every message",
        count == sizes.drain_messages,
    );
    Ok(())
}

/// The wrk script of 6c's sends: each thread takes its own customers and, for each,
/// has them write once and then answers five times (the quota), round after round.
fn send_script(base_path: &str, kfid: &str, customers: &[String]) -> String {
    let list: Vec<String> = customers.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        r#"local customers = {{{list}}}
local counter = 0
local threads = {{}}
refused = 0
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
end
function response(status, headers, body)
  if not string.find(body, '"errcode":0', 1, true) then
    refused = refused + 1
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("refused")
  end
  io.write("refused: " .. total .. "\n")
end
function request()
  local half = #customers / 2
  local who = customers[(id or 0) * half + (math.floor(counter / 6) % half) + 1]
  local step = counter % 6
  counter = counter + 1
  if step == 0 then
    return wrk.format("POST", "/__emulator/customers/" .. who .. "/send", {{["Content-Type"] = "application/json"}},
      '{{"open_kfid":"{kfid}","msgtype":"text","text":{{"content":"在吗"}}}}')
  end
  return wrk.format("POST", "{base_path}", {{["Content-Type"] = "application/json"}},
    '{{"touser":"' .. who .. '","open_kfid":"{kfid}","msgtype":"text","text":{{"content":"您好，请问有什么可以帮您？"}}}}')
end
"#,
        list = list.join(",")
    )
}

/// 6c. The emulator's `send_msg` (with the customer messages that allow them) and
/// `sync_msg` under wrk, against `kf/account/list` in the same run.
pub(crate) fn throughput(
    sizes: &Sizes,
    base_url: &str,
    token: &str,
    kfid: &str,
    customers: &[String],
    list_rps: Option<f64>,
    report: &mut Report,
) -> Result<(), BoxError> {
    report.line(format!(
        "\n## 6c. emulator messages, wrk -t2 -c64 -d{}s",
        sizes.wrk_seconds
    ));
    if !crate::has_wrk() {
        report.line("wrk: skipped (apt-get install wrk)");
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("wecom-kf-bench-msg-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let sends = dir.join("send.lua");
    std::fs::write(
        &sends,
        send_script(
            &format!("/cgi-bin/kf/send_msg?access_token={token}"),
            kfid,
            customers,
        ),
    )?;
    let run = crate::wrk(sizes, &sends, base_url)?;
    let (mixed_rps, p99) = (run.rps, run.p99_ms);
    // Five of every six requests are sends; a send may overtake the customer message
    // that opens its quota (64 connections), and is then refused: counted apart.
    let send_rps = mixed_rps * 5.0 / 6.0;
    #[allow(clippy::cast_precision_loss)]
    let refused = run.refused as f64 / run.requests.max(1) as f64;
    report.line(format!(
        "send_msg: {send_rps:.0} sends/s ({mixed_rps:.0} requests/s with the customer messages that open the quota), p99 {p99:.2} ms; {:.1}% of requests refused (a send ahead of its customer's message)",
        refused * 100.0
    ));
    let sync = dir.join("sync.lua");
    std::fs::write(
        &sync,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{{\"open_kfid\":\"{kfid}\",\"limit\":100}}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        ),
    )?;
    let run = crate::wrk(
        sizes,
        &sync,
        &format!("{base_url}/cgi-bin/kf/sync_msg?access_token={token}"),
    )?;
    let (sync_rps, sync_p99) = (run.rps, run.p99_ms);
    report.line(format!(
        "sync_msg (pages of 100 messages): {sync_rps:.0} requests/s, p99 {sync_p99:.2} ms"
    ));
    if let Some(list) = list_rps {
        report.line(format!(
            "against kf/account/list in this run ({list:.0} requests/s): send_msg {:.2}×, sync_msg {:.2}×",
            mixed_rps / list,
            sync_rps / list
        ));
    }
    report.check("wrk send_msg got answers", mixed_rps > 0.0);
    report.check("wrk sync_msg got answers", sync_rps > 0.0);
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
