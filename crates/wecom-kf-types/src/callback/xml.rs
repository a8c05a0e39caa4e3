//! The XML of callbacks: the envelope (`ToUserName`, `AgentID`, `Encrypt`) and the
//! events inside it. Read with quick-xml, which expands no entity but the five
//! predefined ones and character references; a DOCTYPE is refused outright, so no
//! entity can be declared, and the body and its depth are bounded.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::CryptoError;

/// Largest body read: a real envelope is well under 1 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Deepest nesting read.
const MAX_DEPTH: usize = 8;

#[cold]
#[inline(never)]
fn bad(detail: &str) -> CryptoError {
    CryptoError::ParseXml(detail.to_owned())
}

#[cold]
#[inline(never)]
fn too_large(len: usize) -> CryptoError {
    CryptoError::ParseXml(format!(
        "the body is {len} bytes, over the {MAX_BODY_BYTES} accepted"
    ))
}

#[cold]
#[inline(never)]
fn too_deep() -> CryptoError {
    CryptoError::ParseXml(format!("nested deeper than {MAX_DEPTH}"))
}

#[cold]
#[inline(never)]
fn bad_text(e: &quick_xml::encoding::EncodingError) -> CryptoError {
    CryptoError::ParseXml(format!("text: {e}"))
}

#[cold]
#[inline(never)]
fn undeclared_entity(name: &[u8]) -> CryptoError {
    CryptoError::ParseXml(format!(
        "undeclared entity &{};",
        String::from_utf8_lossy(name)
    ))
}

#[cold]
#[inline(never)]
fn syntax(e: &quick_xml::Error) -> CryptoError {
    CryptoError::ParseXml(e.to_string())
}

/// CDATA as text: borrowed when it is UTF-8 (always, from WeCom), replaced lossily
/// otherwise, off the hot path.
fn cdata_text(bytes: Cow<'_, [u8]>) -> Cow<'_, str> {
    match bytes {
        Cow::Borrowed(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => lossy(bytes),
        },
        Cow::Owned(bytes) => Cow::Owned(lossy(&bytes).into_owned()),
    }
}

#[cold]
#[inline(never)]
fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// A predefined entity or a character reference; -40002 for any other.
#[inline(never)]
fn resolve(r: &quick_xml::events::BytesRef<'_>) -> Result<char, CryptoError> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Ok(c);
    }
    match r.as_ref() {
        b"lt" => Ok('<'),
        b"gt" => Ok('>'),
        b"amp" => Ok('&'),
        b"apos" => Ok('\''),
        b"quot" => Ok('"'),
        other => Err(undeclared_entity(other)),
    }
}

/// Walk the leaf elements of a document in order, handing each `(name, text)` to
/// `on_leaf`. The text borrows from `xml` unless it came in several pieces or had to be
/// unescaped, so opening a callback allocates nothing for its XML.
///
/// One copy of the reader loop serves every caller (`on_leaf` is `dyn`): the envelope
/// and the message are read by the same code, which keeps an open's hot code small
/// (issue 25: its instruction-cache misses were 9.5 × the crates'). Every error is
/// built out of line.
#[inline(never)]
fn walk<'a>(
    xml: &'a [u8],
    on_leaf: &mut dyn FnMut(&[u8], Cow<'a, str>),
) -> Result<(), CryptoError> {
    if xml.len() > MAX_BODY_BYTES {
        return Err(too_large(xml.len()));
    }
    // quick-xml checks that each end tag names its start tag, so a depth is enough.
    let mut reader = Reader::from_reader(xml);
    let mut depth = 0usize;
    let mut text: Cow<'a, str> = Cow::Borrowed("");
    let mut root_seen = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                if depth == 0 && root_seen {
                    return Err(bad("more than one root element"));
                }
                root_seen = true;
                if depth >= MAX_DEPTH {
                    return Err(too_deep());
                }
                depth += 1;
                text = Cow::Borrowed("");
            }
            Ok(Event::Empty(empty)) => {
                if depth == 0 {
                    return Err(bad("the root element is empty"));
                }
                on_leaf(empty.name().as_ref(), Cow::Borrowed(""));
            }
            Ok(Event::End(end)) => {
                depth = depth.saturating_sub(1);
                if depth > 0 {
                    on_leaf(end.name().as_ref(), std::mem::take(&mut text));
                }
            }
            Ok(Event::Text(t)) => {
                let t = t.decode().map_err(|e| bad_text(&e))?;
                if depth > 1 {
                    append(&mut text, t);
                } else if !t.trim().is_empty() {
                    return Err(bad("text outside the elements"));
                }
            }
            Ok(Event::CData(c)) => append(&mut text, cdata_text(c.into_inner())),
            Ok(Event::GeneralRef(r)) => text.to_mut().push(resolve(&r)?),
            Ok(Event::DocType(_)) => {
                return Err(bad(
                    "a DOCTYPE is refused: callbacks never declare one, and entities are not expanded",
                ));
            }
            Ok(Event::Eof) => break,
            Ok(_) => {} // declaration, comment, processing instruction
            Err(e) => return Err(syntax(&e)),
        }
    }
    if depth > 0 {
        return Err(bad("the document ends inside an element"));
    }
    if !root_seen {
        return Err(bad("no root element"));
    }
    Ok(())
}

/// Add a piece of an element's text; the first piece is kept as it came.
fn append<'a>(text: &mut Cow<'a, str>, piece: Cow<'a, str>) {
    if text.is_empty() {
        *text = piece;
    } else {
        text.to_mut().push_str(&piece);
    }
}

/// The leaf elements of a document, in order: `(name, text)`, owned.
fn leaves(xml: &[u8]) -> Result<Vec<(String, String)>, CryptoError> {
    let mut out = Vec::new();
    walk(xml, &mut |name, text| {
        out.push((
            String::from_utf8_lossy(name).into_owned(),
            text.into_owned(),
        ));
    })?;
    Ok(out)
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn cdata(name: &str, value: &str) -> String {
    // "]]>" cannot appear inside CDATA: split it across two sections.
    format!(
        "<{name}><![CDATA[{}]]></{name}>",
        value.replace("]]>", "]]]]><![CDATA[>")
    )
}

/// The POST body: `<xml><ToUserName/><AgentID/><Encrypt/></xml>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Envelope {
    /// The corp id.
    pub to_user_name: String,
    /// The app (may be empty).
    pub agent_id: String,
    /// The encrypted message, base64.
    pub encrypt: String,
}

impl Envelope {
    /// Read an envelope: -40002 unless it is bounded XML with an `Encrypt`.
    pub fn parse(body: &[u8]) -> Result<Envelope, CryptoError> {
        let mut envelope = Envelope::default();
        let encrypt = envelope_fields(body, &mut |name, value| match name {
            b"ToUserName" => envelope.to_user_name = value.into_owned(),
            b"AgentID" => envelope.agent_id = value.into_owned(),
            _ => {}
        })?;
        envelope.encrypt = encrypt.into_owned();
        Ok(envelope)
    }

    /// The XML WeCom sends.
    pub fn to_xml(&self) -> String {
        format!(
            "<xml>{}{}{}</xml>",
            cdata("ToUserName", &self.to_user_name),
            cdata("AgentID", &self.agent_id),
            cdata("Encrypt", &self.encrypt)
        )
    }
}

/// The envelope's trimmed `Encrypt` (the first one), borrowed from `body` when it came
/// in one piece; its other leaves go to `other`. -40002 without an `Encrypt`.
fn envelope_fields<'a>(
    body: &'a [u8],
    other: &mut dyn FnMut(&[u8], Cow<'a, str>),
) -> Result<Cow<'a, str>, CryptoError> {
    let mut encrypt = None;
    walk(body, &mut |name, value| {
        if name == b"Encrypt" {
            encrypt.get_or_insert(value);
        } else {
            other(name, value);
        }
    })?;
    let encrypt = encrypt
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| bad("the envelope has no Encrypt element"))?;
    Ok(if encrypt.trim().len() == encrypt.len() {
        encrypt
    } else {
        Cow::Owned(encrypt.trim().to_owned())
    })
}

/// The `Encrypt` of an envelope, for [`Crypto::open`](super::Crypto::open): borrowed
/// from the body, the other leaves unread.
pub(super) fn envelope_encrypt(body: &[u8]) -> Result<Cow<'_, str>, CryptoError> {
    envelope_fields(body, &mut |_, _| {})
}

/// The leaves the kf events are made of, as [`CallbackEvent::parse`] reads them: the
/// first `CreateTime` and `Event`, the first and last `ToUserName`, the last `Token` and
/// `OpenKfId`, every `AuthAddOpenKfId` and `AuthDelOpenKfId`.
#[derive(Default)]
struct Known<'a> {
    create_time: Option<Cow<'a, str>>,
    event: Option<Cow<'a, str>>,
    first_to_user_name: Option<Cow<'a, str>>,
    last_to_user_name: Option<Cow<'a, str>>,
    token: Option<Cow<'a, str>>,
    open_kfid: Option<Cow<'a, str>>,
    added: Vec<String>,
    removed: Vec<String>,
}

impl<'a> Known<'a> {
    fn take(&mut self, name: &[u8], value: Cow<'a, str>) {
        match name {
            b"CreateTime" if self.create_time.is_none() => self.create_time = Some(value),
            b"Event" if self.event.is_none() => self.event = Some(value),
            b"ToUserName" => {
                if self.first_to_user_name.is_none() {
                    self.first_to_user_name = Some(value.clone());
                }
                self.last_to_user_name = Some(value);
            }
            b"Token" => self.token = Some(value),
            b"OpenKfId" => self.open_kfid = Some(value),
            b"AuthAddOpenKfId" => self.added.push(value.into_owned()),
            b"AuthDelOpenKfId" => self.removed.push(value.into_owned()),
            _ => {}
        }
    }
}

/// An event inside a callback (docs/kf-api.md §5.1–5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackEvent {
    /// `kf_msg_or_event`: an account has new messages; call `kf/sync_msg` with `token`.
    KfMsgOrEvent {
        /// The corp id.
        to_user_name: String,
        /// Unix seconds.
        create_time: i64,
        /// For `sync_msg.token`, valid 10 minutes.
        token: String,
        /// The account with new data.
        open_kfid: String,
    },
    /// `kf_account_auth_change`: accounts were authorised to the app, or taken away.
    KfAccountAuthChange {
        /// The corp id.
        to_user_name: String,
        /// Unix seconds.
        create_time: i64,
        /// `AuthAddOpenKfId`, each.
        added: Vec<String>,
        /// `AuthDelOpenKfId`, each.
        removed: Vec<String>,
    },
    /// Any other event or message: its leaf elements, as they came.
    Other {
        /// `MsgType`.
        msg_type: String,
        /// `Event`, when there is one.
        event: String,
        /// Every leaf element, in order.
        fields: Vec<(String, String)>,
    },
}

impl CallbackEvent {
    /// A `kf_msg_or_event`.
    pub fn kf_msg_or_event(
        corp_id: impl Into<String>,
        create_time: i64,
        token: impl Into<String>,
        open_kfid: impl Into<String>,
    ) -> Self {
        CallbackEvent::KfMsgOrEvent {
            to_user_name: corp_id.into(),
            create_time,
            token: token.into(),
            open_kfid: open_kfid.into(),
        }
    }

    /// Read a decrypted callback XML.
    pub fn parse(xml: &str) -> Result<CallbackEvent, CryptoError> {
        // One pass over borrowed text for the two kf events; only another event is
        // read again, into owned fields.
        let mut seen = Known::default();
        walk(xml.as_bytes(), &mut |name, value| seen.take(name, value))?;
        let create_time = seen
            .create_time
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or_default();
        Ok(match seen.event.as_deref() {
            Some("kf_msg_or_event") => CallbackEvent::KfMsgOrEvent {
                to_user_name: seen.last_to_user_name.unwrap_or_default().into_owned(),
                create_time,
                token: seen.token.unwrap_or_default().into_owned(),
                open_kfid: seen.open_kfid.unwrap_or_default().into_owned(),
            },
            Some("kf_account_auth_change") => CallbackEvent::KfAccountAuthChange {
                to_user_name: seen.first_to_user_name.unwrap_or_default().into_owned(),
                create_time,
                added: seen.added,
                removed: seen.removed,
            },
            _ => {
                let fields = leaves(xml.as_bytes())?;
                let field = |name| get(&fields, name).unwrap_or_default().to_owned();
                CallbackEvent::Other {
                    msg_type: field("MsgType"),
                    event: field("Event"),
                    fields,
                }
            }
        })
    }

    /// The XML WeCom encrypts.
    pub fn to_xml(&self) -> String {
        match self {
            CallbackEvent::KfMsgOrEvent {
                to_user_name,
                create_time,
                token,
                open_kfid,
            } => format!(
                "<xml>{}<CreateTime>{create_time}</CreateTime>{}{}{}{}</xml>",
                cdata("ToUserName", to_user_name),
                cdata("MsgType", "event"),
                cdata("Event", "kf_msg_or_event"),
                cdata("Token", token),
                cdata("OpenKfId", open_kfid)
            ),
            CallbackEvent::KfAccountAuthChange {
                to_user_name,
                create_time,
                added,
                removed,
            } => {
                let mut xml = format!(
                    "<xml>{}{}<CreateTime>{create_time}</CreateTime>{}{}",
                    cdata("ToUserName", to_user_name),
                    cdata("FromUserName", "sys"),
                    cdata("MsgType", "event"),
                    cdata("Event", "kf_account_auth_change")
                );
                for id in added {
                    xml.push_str(&cdata("AuthAddOpenKfId", id));
                }
                for id in removed {
                    xml.push_str(&cdata("AuthDelOpenKfId", id));
                }
                xml.push_str("</xml>");
                xml
            }
            CallbackEvent::Other { fields, .. } => {
                let inner: String = fields.iter().map(|(k, v)| cdata(k, v)).collect();
                format!("<xml>{inner}</xml>")
            }
        }
    }
}
