//! `/cgi-bin/kf/{sync_msg,send_msg,send_msg_on_event,recall_msg}`: `client.message()`.
//!
//! * Reading: [`MessageApi::sync`] reads one page; [`MessageApi::pages`] and
//!   [`MessageApi::messages`] follow `has_more` to the end, through empty pages, one
//!   page in memory at a time.
//! * Sending: every send carries a `msgid` of ours unless one is given, so a send whose
//!   outcome is unknown (a timeout, a dropped connection) is retried with the same
//!   msgid, and the service's "msgid duplicated" answer (40058 in the emulator, see
//!   [`DUPLICATE_MSGID`]) to that retry means the first one went through. A refusal
//!   for the session's state (95018), the quota (95001) or the window (95002) comes
//!   with a [`Diagnosis`](super::service_state::Diagnosis) read from the session.

use futures_util::Stream;
use futures_util::stream::{self, TryStreamExt};
use rand::Rng;
use rand::distr::Alphanumeric;
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::message::{Content, Message};
use wecom_kf_types::kf::recall_msg::RecallMsg;
pub use wecom_kf_types::kf::send_msg::DUPLICATE_MSGID;
use wecom_kf_types::kf::send_msg::SendMsg;
use wecom_kf_types::kf::send_msg_on_event::SendMsgOnEvent;
use wecom_kf_types::kf::sync_msg::{SyncMsg, SyncMsgResponse};
use wecom_kf_types::limits::MSGID_MAX_BYTES;

use crate::{Client, Error};

/// Messages: `client.message()`.
#[derive(Clone, Debug)]
pub struct MessageApi {
    client: Client,
}

impl Client {
    /// Read and send messages.
    pub fn message(&self) -> MessageApi {
        MessageApi {
            client: self.clone(),
        }
    }
}

/// The refusals a send explains from the session's state.
const EXPLAINED: [ErrCode; 3] = [
    ErrCode::SEND_SESSION_STATUS_INVALID,
    ErrCode::SEND_COUNT_OUT_OF_LIMIT,
    ErrCode::SEND_TIME_OUT_OF_LIMIT,
];

/// A msgid of ours: 32 random characters of `[0-9a-zA-Z]`, the most the service takes.
pub fn new_msgid() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(MSGID_MAX_BYTES)
        .map(char::from)
        .collect()
}

impl MessageApi {
    /// Send `content` to the customer `touser` from `open_kfid`; answers the msgid.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use wecom_kf::types::kf::message::Content;
    /// let msgid = client.message().send("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", "wmAJ2GCAAAme1XQRC", Content::text("您好")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(
        &self,
        open_kfid: &str,
        touser: &str,
        content: Content,
    ) -> Result<String, Error> {
        self.send_request(SendMsg::new(open_kfid, touser, content))
            .await
    }

    /// Send a prepared request. Without a msgid it gets one of ours (see the module
    /// docs); give your own to make a send idempotent across processes, e.g. derived
    /// from the message it answers.
    pub async fn send_request(&self, mut request: SendMsg) -> Result<String, Error> {
        if request.msgid.is_none() {
            request.msgid = Some(new_msgid());
        }
        match self.client.execute(&request).await {
            Ok(answer) => Ok(answer.msgid),
            Err(err) => Err(self.explained(err, &request).await),
        }
    }

    /// Attach the diagnosis of a refusal the session's state explains.
    async fn explained(&self, err: Error, request: &SendMsg) -> Error {
        match err.api_code() {
            Some(code) if EXPLAINED.contains(&code) && !err.is_outcome_unknown() => {
                let diagnosis = self
                    .client
                    .session()
                    .diagnose(&request.open_kfid, &request.touser, code)
                    .await;
                Error::Refused {
                    source: Box::new(err),
                    diagnosis: Box::new(diagnosis),
                }
            }
            _ => err,
        }
    }

    /// Send the one message an event's code allows (a welcome, a note to a queued or
    /// taken session, a goodbye). Say the scenario with
    /// [`SendMsgOnEvent::scenario`] to have the msgtype checked for it.
    pub async fn send_on_event(&self, mut request: SendMsgOnEvent) -> Result<String, Error> {
        if request.msgid.is_none() {
            request.msgid = Some(new_msgid());
        }
        Ok(self.client.execute(&request).await?.msgid)
    }

    /// Recall a message the app sent, within 2 minutes.
    pub async fn recall(&self, open_kfid: &str, msgid: &str) -> Result<(), Error> {
        self.client
            .execute(&RecallMsg::new(open_kfid, msgid))
            .await
            .map(drop)
    }

    /// The first page of `open_kfid`'s last 3 days.
    pub async fn sync(&self, open_kfid: &str) -> Result<SyncMsgResponse, Error> {
        self.sync_page(SyncMsg::new(open_kfid)).await
    }

    /// One page, as asked (cursor, token, limit).
    pub async fn sync_page(&self, request: SyncMsg) -> Result<SyncMsgResponse, Error> {
        self.client.execute(&request).await
    }

    /// Every page from `request`'s cursor to the end: follows `has_more` through empty
    /// pages, each request carrying the previous page's `next_cursor` (and the same
    /// token). Save each page's `next_cursor` once its messages are handled.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client, saved: Option<String>) -> Result<(), wecom_kf::Error> {
    /// use futures_util::TryStreamExt;
    /// use wecom_kf::types::kf::sync_msg::SyncMsg;
    /// let mut request = SyncMsg::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw");
    /// request.cursor = saved;
    /// let mut pages = std::pin::pin!(client.message().pages(request));
    /// while let Some(page) = pages.try_next().await? {
    ///     for message in &page.msg_list { /* handle it */ }
    ///     // save page.next_cursor here
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pages(
        &self,
        request: SyncMsg,
    ) -> impl Stream<Item = Result<SyncMsgResponse, Error>> + Send + 'static {
        let api = self.clone();
        stream::try_unfold(Some(request), move |next| {
            let api = api.clone();
            async move {
                let Some(request) = next else {
                    return Ok(None);
                };
                let sent = request.cursor.clone();
                let page = api.sync_page(request.clone()).await?;
                let follow = if page.more() {
                    // A server that says "more" without moving on would be asked forever.
                    if page.msg_list.is_empty()
                        && sent.as_deref() == Some(page.next_cursor.as_str())
                    {
                        return Err(Error::NoProgress {
                            endpoint: <SyncMsg as wecom_kf_types::Endpoint>::PATH,
                        });
                    }
                    let mut follow = request;
                    follow.cursor = Some(page.next_cursor.clone());
                    Some(follow)
                } else {
                    None
                };
                Ok(Some((page, follow)))
            }
        })
    }

    /// Every message and event from `request`'s cursor to the end, in order.
    pub fn messages(
        &self,
        request: SyncMsg,
    ) -> impl Stream<Item = Result<Message, Error>> + Send + 'static {
        self.pages(request)
            .map_ok(|page| stream::iter(page.msg_list.into_iter().map(Ok)))
            .try_flatten()
    }
}
