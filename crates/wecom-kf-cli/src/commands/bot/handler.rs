//! The bot: each message to the sink, the sink's answer back to the customer.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use wecom_kf::Client;
use wecom_kf::consumer::{HandlerError, reply_msgid};
use wecom_kf::types::kf::message::{Content, Message, Origin};
use wecom_kf::types::kf::send_msg::SendMsg;

use super::metrics::Metrics;
use super::sink::Sink;

pub(crate) struct Bot {
    pub client: Client,
    pub sink: Sink,
    pub metrics: Arc<Metrics>,
}

impl Bot {
    /// Send the handler's answers to the customer, each with a msgid derived from the
    /// message, so a second run of the same message sends nothing twice.
    async fn reply(&self, message: &Message, replies: Vec<Content>) -> Result<(), HandlerError> {
        let (Some(open_kfid), Some(customer)) = (message.open_kfid(), message.external_userid())
        else {
            return Ok(());
        };
        for (n, content) in replies.into_iter().enumerate() {
            let msgid = reply_msgid(message, u32::try_from(n).unwrap_or(u32::MAX));
            let send = SendMsg::new(open_kfid, customer, content).msgid(msgid);
            match self.client.message().send_request(send).await {
                Ok(_) => {
                    self.metrics.replies.fetch_add(1, Ordering::Relaxed);
                }
                // Sent by an earlier run: the service refused the duplicate msgid.
                Err(err)
                    if err.api_code() == Some(wecom_kf::types::kf::send_msg::DUPLICATE_MSGID) => {}
                // The session does not allow it (a servicer has it, quota, window): the
                // reply cannot be sent by retrying; say so and go on.
                Err(err) if err.diagnosis().is_some() || err.is_validation() => {
                    eprintln!("warning: reply not sent: {err}");
                }
                Err(err) => return Err(HandlerError::new(format!("reply failed: {err}"))),
            }
        }
        Ok(())
    }

    pub(super) async fn handle(&self, message: Message) -> Result<(), HandlerError> {
        let replies = self.sink.answer(&message).await?;
        // Only customers' messages are answered; events and servicers' messages are not.
        if message.origin == Origin::Customer {
            self.reply(&message, replies).await?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        self.metrics
            .lag_secs
            .store(now - message.send_time, Ordering::Relaxed);
        self.metrics.handled.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
