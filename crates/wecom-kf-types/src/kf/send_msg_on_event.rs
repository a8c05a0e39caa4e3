//! `POST /cgi-bin/kf/send_msg_on_event`: the one message an event allows — a welcome,
//! a note to a queued or taken session, a goodbye (docs/kf-api.md §4.8).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::validate::{self, Limit, Validated};
use crate::{Endpoint, ErrCode, Method};

use super::message::Content;
use super::send_msg::{
    DUPLICATE_MSGID, SendMsgResponse, WireSend, serialize_send, validate_msgid, validate_outbound,
};

/// Longest code accepted before sending: the documents give no limit; codes seen are
/// about 40 bytes, and 128 is the service's usual bound for such tokens.
pub const CODE_MAX_BYTES: usize = 128;

/// Which event a code came from: it decides how long the code lasts and what it sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventScenario {
    /// `welcome_code` of `enter_session`: 20 s; text or msgmenu.
    Welcome,
    /// `msg_code` of a move to the queue (state 2): 48 h, while queued; text.
    Queued,
    /// `msg_code` of a move to a servicer (state 3, e.g. taken from the queue): 48 h,
    /// while that servicer serves; text.
    Taken,
    /// `msg_code` of an end (state 4): 20 s, while ended; text or msgmenu (a goodbye or
    /// a satisfaction survey).
    End,
}

impl EventScenario {
    /// The msgtypes the scenario's one message may have.
    pub const fn msgtypes(self) -> &'static [&'static str] {
        match self {
            EventScenario::Welcome | EventScenario::End => &["text", "msgmenu"],
            EventScenario::Queued | EventScenario::Taken => &["text"],
        }
    }

    /// How long its code is valid, in seconds.
    pub const fn ttl_secs(self) -> i64 {
        match self {
            EventScenario::Welcome | EventScenario::End => crate::limits::EVENT_CODE_SHORT_TTL_SECS,
            EventScenario::Queued | EventScenario::Taken => crate::limits::SESSION_WINDOW_SECS,
        }
    }
}

/// `POST /cgi-bin/kf/send_msg_on_event`: send the message an event's code allows.
///
/// ```
/// use wecom_kf_types::kf::message::{Content, Menu, MenuItem};
/// use wecom_kf_types::kf::send_msg_on_event::{EventScenario, SendMsgOnEvent};
/// use wecom_kf_types::{Endpoint, ErrCode};
///
/// let menu = Content::Menu(Menu::new("有什么可以帮您？").item(MenuItem::click("101", "查订单")));
/// assert!(SendMsgOnEvent::new("CODE", menu.clone()).scenario(EventScenario::Welcome).validate().is_ok());
/// let err = SendMsgOnEvent::new("CODE", menu).scenario(EventScenario::Queued).validate().unwrap_err();
/// assert_eq!(err.errcode, ErrCode::INVALID_MSGTYPE);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SendMsgOnEvent {
    /// The `welcome_code` or `msg_code`: single use.
    pub code: String,
    /// Ours, as for `kf/send_msg` (an inbound msgid is too long: 40058).
    pub msgid: Option<String>,
    /// What to send.
    pub content: Content,
    /// Where the code came from, when known: checked before sending. Not sent.
    pub scenario: Option<EventScenario>,
}

impl SendMsgOnEvent {
    /// Send `content` with `code`.
    pub fn new(code: impl Into<String>, content: Content) -> Self {
        SendMsgOnEvent {
            code: code.into(),
            msgid: None,
            content,
            scenario: None,
        }
    }

    /// With a msgid of ours.
    #[must_use]
    pub fn msgid(mut self, msgid: impl Into<String>) -> Self {
        self.msgid = Some(msgid.into());
        self
    }

    /// Say which event the code came from, so the msgtype is checked for it.
    #[must_use]
    pub fn scenario(mut self, scenario: EventScenario) -> Self {
        self.scenario = Some(scenario);
        self
    }
}

impl Endpoint for SendMsgOnEvent {
    const PATH: &'static str = "/cgi-bin/kf/send_msg_on_event";
    const METHOD: Method = Method::Post;
    type Response = SendMsgResponse;

    /// With a msgid, yes, as for `kf/send_msg`: the duplicate is refused before the
    /// spent code is.
    fn idempotent(&self) -> bool {
        self.msgid.is_some()
    }

    fn validate(&self) -> Validated {
        validate::required_bytes(
            "code",
            &self.code,
            CODE_MAX_BYTES,
            ErrCode::PARAMETER_EMPTY,
            ErrCode::INVALID_PARAMETER,
        )?;
        if let Some(msgid) = &self.msgid {
            validate_msgid(msgid)?;
        }
        let allowed = self
            .scenario
            .map_or(&["text", "msgmenu"][..], EventScenario::msgtypes);
        validate_outbound(&self.content, allowed).map_err(|mut invalid| {
            if invalid.field == "msgtype"
                && let Some(scenario) = self.scenario
            {
                invalid.limit = Limit::Format(match scenario {
                    EventScenario::Welcome => "text or msgmenu, for a welcome",
                    EventScenario::End => "text or msgmenu, for an end",
                    EventScenario::Queued => "text, for a queued session",
                    EventScenario::Taken => "text, for a taken session",
                });
            }
            invalid
        })
    }

    fn already_done(&self, code: ErrCode) -> Option<SendMsgResponse> {
        (code == DUPLICATE_MSGID)
            .then(|| self.msgid.clone().map(SendMsgResponse::new))
            .flatten()
    }

    fn outcome_unknown_hint(&self) -> &'static str {
        "the message may have been sent and its code spent; a code is single use, so do not send another"
    }
}

impl Serialize for SendMsgOnEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_send(
            serializer,
            &[("code", Some(&self.code)), ("msgid", self.msgid.as_deref())],
            &self.content,
        )
    }
}

impl<'de> Deserialize<'de> for SendMsgOnEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut wire = WireSend::deserialize(deserializer)?;
        let content = wire.take_content();
        Ok(SendMsgOnEvent {
            code: wire.code,
            msgid: wire.msgid,
            content,
            scenario: None,
        })
    }
}
