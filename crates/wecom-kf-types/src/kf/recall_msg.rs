//! `POST /cgi-bin/kf/recall_msg`: take back a message the app sent (docs/kf-api.md §4.9).

use serde::{Deserialize, Serialize};

use crate::validate::{self, Validated};
use crate::{Empty, Endpoint, ErrCode, Method};

use super::validate_open_kfid;

/// Longest msgid accepted for a recall: ours are ≤ 32 bytes, the service's own may be
/// longer; 128 bounds them (an emulator choice, docs/kf-api.md §4.9).
pub const RECALL_MSGID_MAX_BYTES: usize = 128;

/// `POST /cgi-bin/kf/recall_msg`: recall a message sent through `kf/send_msg`, within
/// 2 minutes. It still counts toward the 5 messages per customer message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecallMsg {
    /// The account that sent it.
    #[serde(default)]
    pub open_kfid: String,
    /// The msgid `kf/send_msg` answered.
    #[serde(default)]
    pub msgid: String,
}

impl RecallMsg {
    /// Recall `msgid` of `open_kfid`.
    pub fn new(open_kfid: impl Into<String>, msgid: impl Into<String>) -> Self {
        RecallMsg {
            open_kfid: open_kfid.into(),
            msgid: msgid.into(),
        }
    }
}

impl Endpoint for RecallMsg {
    const PATH: &'static str = "/cgi-bin/kf/recall_msg";
    const METHOD: Method = Method::Post;
    type Response = Empty;

    /// A recalled message stays recalled: recalling it again answers 0.
    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)?;
        validate::required_bytes(
            "msgid",
            &self.msgid,
            RECALL_MSGID_MAX_BYTES,
            ErrCode::PARAMETER_EMPTY,
            ErrCode::INVALID_PARAMETER,
        )
    }
}
