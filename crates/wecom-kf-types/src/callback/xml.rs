//! The XML of callbacks: the envelope (`ToUserName`, `AgentID`, `Encrypt`) and the
//! events inside it. Read with quick-xml, which expands no entity but the five
//! predefined ones and character references; a DOCTYPE is refused outright, so no
//! entity can be declared, and the body and its depth are bounded.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::CryptoError;

/// Largest body read: a real envelope is well under 1 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Deepest nesting read.
const MAX_DEPTH: usize = 8;

fn bad(detail: impl Into<String>) -> CryptoError {
    CryptoError::ParseXml(detail.into())
}

/// The leaf elements of a document, in order: `(name, text)`.
fn leaves(xml: &[u8]) -> Result<Vec<(String, String)>, CryptoError> {
    if xml.len() > MAX_BODY_BYTES {
        return Err(bad(format!(
            "the body is {} bytes, over the {MAX_BODY_BYTES} accepted",
            xml.len()
        )));
    }
    let mut reader = Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut out = Vec::new();
    let mut root_seen = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                if path.is_empty() && root_seen {
                    return Err(bad("more than one root element"));
                }
                root_seen = true;
                if path.len() >= MAX_DEPTH {
                    return Err(bad(format!("nested deeper than {MAX_DEPTH}")));
                }
                path.push(String::from_utf8_lossy(start.name().as_ref()).into_owned());
                text.clear();
            }
            Ok(Event::Empty(empty)) => {
                if path.is_empty() {
                    return Err(bad("the root element is empty"));
                }
                out.push((
                    String::from_utf8_lossy(empty.name().as_ref()).into_owned(),
                    String::new(),
                ));
            }
            Ok(Event::End(_)) => {
                let name = path.pop().unwrap_or_default();
                if !path.is_empty() {
                    out.push((name, std::mem::take(&mut text)));
                }
            }
            Ok(Event::Text(t)) => {
                let t = t.decode().map_err(|e| bad(format!("text: {e}")))?;
                if path.len() > 1 {
                    text.push_str(&t);
                } else if !t.trim().is_empty() {
                    return Err(bad("text outside the elements"));
                }
            }
            Ok(Event::CData(c)) => {
                text.push_str(&String::from_utf8_lossy(&c.into_inner()));
            }
            Ok(Event::GeneralRef(r)) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    _ => match r.as_ref() {
                        b"lt" => '<',
                        b"gt" => '>',
                        b"amp" => '&',
                        b"apos" => '\'',
                        b"quot" => '"',
                        other => {
                            return Err(bad(format!(
                                "undeclared entity &{};",
                                String::from_utf8_lossy(other)
                            )));
                        }
                    },
                };
                text.push(resolved);
            }
            Ok(Event::DocType(_)) => {
                return Err(bad(
                    "a DOCTYPE is refused: callbacks never declare one, and entities are not expanded",
                ));
            }
            Ok(Event::Eof) => break,
            Ok(_) => {} // declaration, comment, processing instruction
            Err(e) => return Err(bad(e.to_string())),
        }
    }
    if !path.is_empty() {
        return Err(bad("the document ends inside an element"));
    }
    if !root_seen {
        return Err(bad("no root element"));
    }
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
        let mut encrypt = None;
        // Moved out, not copied: `Encrypt` is most of the body.
        for (name, value) in leaves(body)? {
            match name.as_str() {
                "Encrypt" if encrypt.is_none() => encrypt = Some(value),
                "ToUserName" => envelope.to_user_name = value,
                "AgentID" => envelope.agent_id = value,
                _ => {}
            }
        }
        let encrypt = encrypt
            .filter(|e| !e.trim().is_empty())
            .ok_or_else(|| bad("the envelope has no Encrypt element"))?;
        envelope.encrypt = if encrypt.trim().len() == encrypt.len() {
            encrypt
        } else {
            encrypt.trim().to_owned()
        };
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
        let fields = leaves(xml.as_bytes())?;
        let field = |name| get(&fields, name).unwrap_or_default().to_owned();
        let create_time = get(&fields, "CreateTime")
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or_default();
        let all = |name: &str| {
            fields
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .collect()
        };
        Ok(match get(&fields, "Event") {
            Some("kf_msg_or_event") => {
                let (mut to_user_name, mut token, mut open_kfid) = Default::default();
                for (name, value) in fields {
                    match name.as_str() {
                        "ToUserName" => to_user_name = value,
                        "Token" => token = value,
                        "OpenKfId" => open_kfid = value,
                        _ => {}
                    }
                }
                CallbackEvent::KfMsgOrEvent {
                    to_user_name,
                    create_time,
                    token,
                    open_kfid,
                }
            }
            Some("kf_account_auth_change") => CallbackEvent::KfAccountAuthChange {
                to_user_name: field("ToUserName"),
                create_time,
                added: all("AuthAddOpenKfId"),
                removed: all("AuthDelOpenKfId"),
            },
            _ => CallbackEvent::Other {
                msg_type: field("MsgType"),
                event: field("Event"),
                fields,
            },
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
