//! `POST /cgi-bin/kf/sync_msg`: read an account's messages and events, page by page
//! (docs/kf-api.md §4.5).

use serde::{Deserialize, Serialize};

use crate::limits::{CURSOR_MAX_BYTES, SYNC_LIMIT_MAX, SYNC_TOKEN_MAX_BYTES};
use crate::validate::{self, Validated};
use crate::{Endpoint, ErrCode, Method};

use super::message::Message;
use super::validate_open_kfid;

/// `POST /cgi-bin/kf/sync_msg`: one page of an account's messages.
///
/// `open_kfid` is always sent: the service refuses the call without it (older SDKs
/// fail there, wechatpy #803).
///
/// ```
/// use wecom_kf_types::kf::sync_msg::SyncMsg;
/// use wecom_kf_types::Endpoint;
///
/// let page = SyncMsg::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw").cursor("4gw7MepFLfgF2VC5npN").limit(1000);
/// assert!(page.validate().is_ok());
/// assert_eq!(page.clone().limit(1001).validate().unwrap_err().field, "limit");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncMsg {
    /// Where the previous page ended (`next_cursor`); without it, the earliest message
    /// of the last 3 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The `Token` of a `kf_msg_or_event` callback (valid 10 minutes); without it the
    /// call is limited more strictly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// At most this many messages (1 to 1000; 1000 when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// 0 AMR (default), 1 Silk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_format: Option<u32>,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
}

impl SyncMsg {
    /// The first page of `open_kfid`'s last 3 days.
    pub fn new(open_kfid: impl Into<String>) -> Self {
        SyncMsg {
            open_kfid: open_kfid.into(),
            ..SyncMsg::default()
        }
    }

    /// Go on from `next_cursor`.
    #[must_use]
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// With a callback's Token.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// At most `limit` messages.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Voices as Silk (1) instead of AMR (0).
    #[must_use]
    pub fn voice_format(mut self, format: u32) -> Self {
        self.voice_format = Some(format);
        self
    }
}

impl Endpoint for SyncMsg {
    const PATH: &'static str = "/cgi-bin/kf/sync_msg";
    const METHOD: Method = Method::Post;
    type Response = SyncMsgResponse;

    /// A read: the cursor is the caller's, nothing moves on the server.
    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)?;
        if let Some(cursor) = &self.cursor {
            validate::max_bytes(
                "cursor",
                cursor,
                CURSOR_MAX_BYTES,
                ErrCode::INVALID_PARAMETER,
            )?;
        }
        if let Some(token) = &self.token {
            validate::max_bytes(
                "token",
                token,
                SYNC_TOKEN_MAX_BYTES,
                ErrCode::INVALID_PARAMETER,
            )?;
        }
        if let Some(limit) = self.limit {
            validate::range(
                "limit",
                limit.into(),
                1,
                SYNC_LIMIT_MAX.into(),
                ErrCode::INVALID_PARAMETER,
            )?;
        }
        if let Some(format) = self.voice_format {
            validate::range(
                "voice_format",
                format.into(),
                0,
                1,
                ErrCode::INVALID_PARAMETER,
            )?;
        }
        Ok(())
    }
}

/// Answer of `kf/sync_msg`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncMsgResponse {
    /// Where this page ended: save it, and pass it to the next call.
    #[serde(default)]
    pub next_cursor: String,
    /// 1 when there is more. A page may be empty while this is 1: go on.
    #[serde(default)]
    pub has_more: u8,
    /// Messages and events, oldest first.
    #[serde(default)]
    pub msg_list: Vec<Message>,
}

impl SyncMsgResponse {
    /// A page.
    pub fn new(next_cursor: impl Into<String>, has_more: bool, msg_list: Vec<Message>) -> Self {
        SyncMsgResponse {
            next_cursor: next_cursor.into(),
            has_more: u8::from(has_more),
            msg_list,
        }
    }

    /// Whether there is more after this page.
    pub fn more(&self) -> bool {
        self.has_more != 0
    }
}
