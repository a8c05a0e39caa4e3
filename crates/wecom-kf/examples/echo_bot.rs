//! A bot that welcomes customers and answers each text, reading messages from the
//! saved cursor: the smallest complete 微信客服 bot.
//!
//! `cargo run -p wecom-kf --example echo_bot` plays a customer against an embedded
//! emulator; with `WECOM_CORP_ID`/`WECOM_KF_SECRET` set, `-- OPEN_KFID` answers the
//! account's waiting messages once and saves the cursor in `echo_bot.cursor`.

mod common;

use futures_util::TryStreamExt;
use wecom_kf::types::kf::message::{Content, Event};
use wecom_kf::types::kf::send_msg_on_event::{EventScenario, SendMsgOnEvent};
use wecom_kf::types::kf::sync_msg::SyncMsg;

const CURSOR_FILE: &str = "echo_bot.cursor";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let setup = common::setup().await?;
    let client = &setup.client;
    let (open_kfid, played) = match (std::env::args().nth(1), &setup.emulator) {
        (Some(open_kfid), _) => (open_kfid, None),
        (None, Some(emulator)) => {
            // Play the customer: open the chat, then write twice.
            let open_kfid = client.account().list(0, 1).await?.remove(0).open_kfid;
            let em = emulator.emulator();
            let customer = em.add_customer("小明")?;
            em.customer_enters(&customer, &open_kfid, "spring_sale")?;
            em.customer_says(&customer, &open_kfid, "你好")?;
            em.customer_says(&customer, &open_kfid, "我的快递到哪了？")?;
            (open_kfid, Some(customer))
        }
        (None, None) => return Err("usage: echo_bot OPEN_KFID".into()),
    };
    let saved = std::fs::read_to_string(CURSOR_FILE).ok();
    let mut request = SyncMsg::new(&open_kfid);
    request.cursor = saved.filter(|c| !c.is_empty() && setup.emulator.is_none());
    let mut pages = std::pin::pin!(client.message().pages(request));
    while let Some(page) = pages.try_next().await? {
        for message in &page.msg_list {
            let Some(customer) = message.external_userid() else {
                continue;
            };
            match (&message.content, message.event()) {
                (_, Some(Event::EnterSession(enter))) => {
                    if let Some(code) = &enter.welcome_code {
                        let welcome =
                            SendMsgOnEvent::new(code, Content::text("欢迎光临！有什么可以帮您？"))
                                .scenario(EventScenario::Welcome);
                        client.message().send_on_event(welcome).await?;
                        println!("welcomed {customer}");
                    }
                }
                (Content::Text(text), _) => {
                    let answer = Content::text(format!("您说的是：{}", text.content));
                    match client.message().send(&open_kfid, customer, answer).await {
                        Ok(msgid) => println!("answered {customer}: {msgid}"),
                        // 95018/95001/95002: a servicer has the session, the quota or
                        // the window; the error carries the diagnosis.
                        Err(err) if err.diagnosis().is_some() => eprintln!("{err}"),
                        Err(err) => return Err(err.into()),
                    }
                }
                _ => {}
            }
        }
        // Only after the page's messages are handled (the played run keeps none).
        if setup.emulator.is_none() {
            std::fs::write(CURSOR_FILE, &page.next_cursor)?;
        }
    }
    // What the played customer saw in WeChat.
    if let (Some(emulator), Some(customer)) = (&setup.emulator, played) {
        for m in emulator.emulator().inbox(&customer, &open_kfid)? {
            println!("{customer} sees: {}", m["text"]["content"]);
        }
    }
    Ok(())
}
