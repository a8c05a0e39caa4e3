//! `POST /cgi-bin/kf/send_msg`: answer a customer (docs/kf-api.md §4.7), and the
//! checks every outbound message shares with `kf/send_msg_on_event`.
//!
//! A send carries a `msgid` unique within the account. Sent twice with the same msgid,
//! the second is refused, so a send whose outcome is unknown can be retried safely: a
//! refusal as a duplicate means the first one went through.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::limits::{
    MEDIA_ID_MAX_BYTES, MENU_HEAD_TAIL_MAX_BYTES, MENU_ITEMS_MAX, MSGID_MAX_BYTES, TEXT_MAX_BYTES,
    URL_MAX_BYTES,
};
use crate::validate::{self, Invalid, Limit, Validated};
use crate::{Endpoint, ErrCode, Method};

use super::message::{Content, MenuItem};
use super::{validate_external_userid, validate_open_kfid};

/// What the service answers a `msgid` already used in the account. The documents say
/// only "must be unique, else an error"; no code is documented (docs/kf-api.md §9).
/// The emulator answers 40058, the service's code for a parameter it refuses, with
/// "msgid duplicated" in the errmsg, and the client reads a 40058 to the retry of a
/// send whose outcome was unknown as "already sent" (the same bytes passed every
/// local check, so the duplicate is the one refusal left).
pub const DUPLICATE_MSGID: ErrCode = ErrCode::INVALID_PARAMETER;

/// The msgtypes `kf/send_msg` sends.
pub const SENDABLE: &[&str] = &[
    "text",
    "image",
    "voice",
    "video",
    "file",
    "link",
    "miniprogram",
    "msgmenu",
    "location",
];

/// Whether `c` may be in a msgid: `[0-9a-zA-Z_-]`.
pub fn is_msgid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Check a `msgid` of ours: 1 to 32 bytes of `[0-9a-zA-Z_-]`. An empty one is refused
/// by the service (silenceper #563): leave it out instead.
pub fn validate_msgid(msgid: &str) -> Validated {
    if msgid.is_empty() {
        return Err(Invalid {
            field: "msgid",
            limit: Limit::Required,
            given: "an empty value (leave msgid out rather than sending \"\")".into(),
            errcode: ErrCode::INVALID_PARAMETER,
        });
    }
    validate::max_bytes("msgid", msgid, MSGID_MAX_BYTES, ErrCode::INVALID_PARAMETER)?;
    validate::charset(
        "msgid",
        msgid,
        "[0-9a-zA-Z_-]",
        is_msgid_char,
        ErrCode::INVALID_PARAMETER,
    )
}

fn required(field: &'static str, value: &str, max: usize) -> Validated {
    validate::required_bytes(
        field,
        value,
        max,
        ErrCode::PARAMETER_EMPTY,
        ErrCode::INVALID_PARAMETER,
    )
}

fn bytes_between(field: &'static str, value: &str, max: usize) -> Validated {
    if value.is_empty() || value.len() > max {
        return Err(Invalid {
            field,
            limit: Limit::Bytes {
                min: 1,
                max: max as u64,
            },
            given: format!("{} bytes", value.len()),
            errcode: ErrCode::INVALID_PARAMETER,
        });
    }
    Ok(())
}

/// An `http://` or `https://` URL of at most 2048 bytes.
pub fn validate_url(field: &'static str, url: &str) -> Validated {
    bytes_between(field, url, URL_MAX_BYTES)?;
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let scheme = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        0
    };
    if scheme == 0 || url.len() == scheme {
        return Err(Invalid {
            field,
            limit: Limit::Format("an http:// or https:// URL"),
            given: format!("{:?}", url.chars().take(40).collect::<String>()),
            errcode: ErrCode::INVALID_PARAMETER,
        });
    }
    Ok(())
}

fn coordinate(field: &'static str, value: f64, bound: f64, wording: &'static str) -> Validated {
    if value.is_finite() && (-bound..=bound).contains(&value) {
        Ok(())
    } else {
        Err(Invalid {
            field,
            limit: Limit::Format(wording),
            given: value.to_string(),
            errcode: ErrCode::INVALID_PARAMETER,
        })
    }
}

fn menu_item(item: &MenuItem) -> Validated {
    match item {
        MenuItem::Click { id, content } => {
            bytes_between("msgmenu.list[].click.id", id, 64)?;
            bytes_between("msgmenu.list[].click.content", content, 128)
        }
        MenuItem::View { url, content } => {
            validate_url("msgmenu.list[].view.url", url)?;
            bytes_between("msgmenu.list[].view.content", content, 1024)
        }
        MenuItem::Miniprogram {
            appid,
            pagepath,
            content,
        } => {
            bytes_between("msgmenu.list[].miniprogram.appid", appid, 32)?;
            bytes_between("msgmenu.list[].miniprogram.pagepath", pagepath, 1024)?;
            bytes_between("msgmenu.list[].miniprogram.content", content, 1024)
        }
        // Limits UNCONFIRMED: those of the view item's text (docs/kf-api.md §4.7).
        MenuItem::Text { content, .. } => {
            bytes_between("msgmenu.list[].text.content", content, 1024)
        }
        MenuItem::Other { kind, .. } => Err(Invalid {
            field: "msgmenu.list[].type",
            limit: Limit::Format("click, view, miniprogram or text"),
            given: format!("{kind:?}"),
            errcode: ErrCode::INVALID_MENU_ITEM_TYPE,
        }),
    }
}

/// Check a message to send against the limits of docs/kf-api.md §4.7: the checks
/// `kf/send_msg` and `kf/send_msg_on_event` share. `allowed` lists the msgtypes the
/// call takes (40008 for another).
pub fn validate_outbound(content: &Content, allowed: &[&str]) -> Validated {
    let msgtype = content.msgtype();
    if !allowed.contains(&msgtype) {
        return Err(Invalid {
            field: "msgtype",
            limit: Limit::Format(if allowed.len() == SENDABLE.len() {
                "one of text, image, voice, video, file, link, miniprogram, msgmenu, location"
            } else if allowed.len() == 1 {
                "text, in this event's message"
            } else {
                "text or msgmenu, in an event's message"
            }),
            given: format!("{msgtype:?}"),
            errcode: ErrCode::INVALID_MSGTYPE,
        });
    }
    match content {
        Content::Text(text) => {
            if text.content.is_empty() {
                return required("text.content", "", TEXT_MAX_BYTES);
            }
            validate::max_bytes(
                "text.content",
                &text.content,
                TEXT_MAX_BYTES,
                ErrCode::CONTENT_SIZE_OUT_OF_LIMIT,
            )
        }
        Content::Image(m) | Content::Voice(m) | Content::Video(m) | Content::File(m) => {
            required("media_id", &m.media_id, MEDIA_ID_MAX_BYTES)
        }
        Content::Link(link) => {
            required("link.title", &link.title, usize::MAX)?;
            validate_url("link.url", &link.url)?;
            required(
                "link.thumb_media_id",
                link.thumb_media_id.as_deref().unwrap_or_default(),
                MEDIA_ID_MAX_BYTES,
            )
        }
        Content::Miniprogram(card) => {
            bytes_between("miniprogram.appid", &card.appid, 32)?;
            required(
                "miniprogram.thumb_media_id",
                &card.thumb_media_id,
                MEDIA_ID_MAX_BYTES,
            )?;
            bytes_between("miniprogram.pagepath", &card.pagepath, 1024)
        }
        Content::Menu(menu) => {
            validate::max_bytes(
                "msgmenu.head_content",
                &menu.head_content,
                MENU_HEAD_TAIL_MAX_BYTES,
                ErrCode::INVALID_PARAMETER,
            )?;
            validate::max_bytes(
                "msgmenu.tail_content",
                &menu.tail_content,
                MENU_HEAD_TAIL_MAX_BYTES,
                ErrCode::INVALID_PARAMETER,
            )?;
            if menu.list.len() > MENU_ITEMS_MAX {
                return Err(Invalid {
                    field: "msgmenu.list",
                    limit: Limit::Range {
                        min: 0,
                        max: MENU_ITEMS_MAX as u64,
                    },
                    given: format!("{} items", menu.list.len()),
                    errcode: ErrCode::MENU_ITEMS_OUT_OF_LIMIT,
                });
            }
            menu.list.iter().try_for_each(menu_item)
        }
        Content::Location(place) => {
            coordinate(
                "location.latitude",
                place.latitude,
                90.0,
                "a number from -90 to 90",
            )?;
            coordinate(
                "location.longitude",
                place.longitude,
                180.0,
                "a number from -180 to 180",
            )
        }
        // A known msgtype whose payload did not fit its type.
        other => Err(Invalid {
            field: "msgtype",
            limit: Limit::Format("a payload of the msgtype's documented shape"),
            given: format!("a {:?} payload that does not match it", other.msgtype()),
            errcode: ErrCode::INVALID_PARAMETER,
        }),
    }
}

/// `POST /cgi-bin/kf/send_msg`: send a message to a customer.
///
/// ```
/// use wecom_kf_types::kf::message::Content;
/// use wecom_kf_types::kf::send_msg::SendMsg;
/// use wecom_kf_types::{Endpoint, ErrCode};
///
/// let send = SendMsg::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", "wmAJ2GCAAAme1XQRC", Content::text("您好"));
/// assert!(send.validate().is_ok());
/// let long = SendMsg::new("wk1", "wm1", Content::text("字".repeat(683)));
/// assert_eq!(long.validate().unwrap_err().errcode, ErrCode::CONTENT_SIZE_OUT_OF_LIMIT);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SendMsg {
    /// The customer (`external_userid`).
    pub touser: String,
    /// The account sending.
    pub open_kfid: String,
    /// Ours: ≤ 32 bytes of `[0-9a-zA-Z_-]`, unique within the account; the service
    /// makes one up when it is absent.
    pub msgid: Option<String>,
    /// What to send.
    pub content: Content,
}

impl SendMsg {
    /// Send `content` to `touser` from `open_kfid`.
    pub fn new(open_kfid: impl Into<String>, touser: impl Into<String>, content: Content) -> Self {
        SendMsg {
            touser: touser.into(),
            open_kfid: open_kfid.into(),
            msgid: None,
            content,
        }
    }

    /// With a msgid of ours (what makes a retry safe).
    #[must_use]
    pub fn msgid(mut self, msgid: impl Into<String>) -> Self {
        self.msgid = Some(msgid.into());
        self
    }
}

impl Endpoint for SendMsg {
    const PATH: &'static str = "/cgi-bin/kf/send_msg";
    const METHOD: Method = Method::Post;
    type Response = SendMsgResponse;

    /// With a msgid, yes: the service refuses the second of two sends with one msgid.
    fn idempotent(&self) -> bool {
        self.msgid.is_some()
    }

    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)?;
        validate_external_userid("touser", &self.touser)?;
        if let Some(msgid) = &self.msgid {
            validate_msgid(msgid)?;
        }
        validate_outbound(&self.content, SENDABLE)
    }

    fn already_done(&self, code: ErrCode) -> Option<SendMsgResponse> {
        (code == DUPLICATE_MSGID)
            .then(|| self.msgid.clone().map(SendMsgResponse::new))
            .flatten()
    }

    fn outcome_unknown_hint(&self) -> &'static str {
        "the message may have been sent; send it again with the same msgid (the service refuses a duplicate), never with a new one"
    }
}

/// Answer of `kf/send_msg` and `kf/send_msg_on_event`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendMsgResponse {
    /// The msgid: ours, or one the service made.
    #[serde(default)]
    pub msgid: String,
}

impl SendMsgResponse {
    /// An answer.
    pub fn new(msgid: impl Into<String>) -> Self {
        SendMsgResponse {
            msgid: msgid.into(),
        }
    }
}

/// The fields of a send around its content, for the wire.
pub(crate) fn serialize_send<S: Serializer>(
    serializer: S,
    head: &[(&str, Option<&str>)],
    content: &Content,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(None)?;
    for (key, value) in head {
        if let Some(value) = value {
            map.serialize_entry(key, value)?;
        }
    }
    map.serialize_entry("msgtype", content.msgtype())?;
    content.serialize_payload_into(&mut map)?;
    map.end()
}

/// A send as it comes off the wire: its own fields, and the rest for the content.
#[derive(Deserialize)]
pub(crate) struct WireSend {
    #[serde(default)]
    pub touser: String,
    #[serde(default)]
    pub open_kfid: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub msgid: Option<String>,
    #[serde(default)]
    pub msgtype: String,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl WireSend {
    pub(crate) fn take_content(&mut self) -> Content {
        let payload = self.rest.remove(&self.msgtype).unwrap_or_default();
        Content::from_wire(&self.msgtype, payload)
    }
}

impl Serialize for SendMsg {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_send(
            serializer,
            &[
                ("touser", Some(&self.touser)),
                ("open_kfid", Some(&self.open_kfid)),
                ("msgid", self.msgid.as_deref()),
            ],
            &self.content,
        )
    }
}

impl<'de> Deserialize<'de> for SendMsg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut wire = WireSend::deserialize(deserializer)?;
        let content = wire.take_content();
        Ok(SendMsg {
            touser: wire.touser,
            open_kfid: wire.open_kfid,
            msgid: wire.msgid,
            content,
        })
    }
}
