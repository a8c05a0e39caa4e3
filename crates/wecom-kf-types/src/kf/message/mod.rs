//! What a message says, in both directions: the messages and events `kf/sync_msg`
//! returns (docs/kf-api.md §4.5–4.6), and the content `kf/send_msg` sends (§4.7).
//!
//! On the wire a message names its type in `msgtype` and carries its payload under a
//! key of the same name (`"msgtype":"text","text":{…}`). [`Content`] is that pair as
//! one enum. Decoding never fails on what the service may add later: an unknown
//! `msgtype` or `event_type`, or a payload that does not fit its type, is kept whole
//! as `Other`, with its JSON.
//!
//! The payloads are in `content`, the events in `events`, and the reading and writing
//! of a `sync_msg` item in `wire`; every type is re-exported here.

mod content;
mod events;
mod wire;

use serde::{Deserialize, Serialize};

pub use content::*;
pub use events::*;

/// A small number on the wire with named values and room for new ones.
macro_rules! numbered {
    (
        $(#[$meta:meta])*
        $name:ident: $repr:ty as $repr_name:literal {
            $( $(#[$doc:meta])* $variant:ident = $n:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = $repr_name, into = $repr_name)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$doc])* $variant, )*
            /// A value this version does not know.
            Other($repr),
        }

        impl From<$repr> for $name {
            fn from(n: $repr) -> Self {
                match n {
                    $( $n => $name::$variant, )*
                    other => $name::Other(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> $repr {
                match value {
                    $( $name::$variant => $n, )*
                    $name::Other(n) => n,
                }
            }
        }
    };
}

numbered! {
    /// Who a message in `sync_msg` comes from.
    Origin: u8 as "u8" {
        /// 3: the customer, in WeChat.
        Customer = 3,
        /// 4: the system: an event.
        Event = 4,
        /// 5: a servicer, from the WeCom app.
        Servicer = 5,
    }
}

numbered! {
    /// Why a message the app sent was not delivered (`msg_send_fail`).
    FailType: u32 as "u32" {
        /// 0: unknown.
        Unknown = 0,
        /// 1: the kf account was deleted.
        AccountDeleted = 1,
        /// 2: the app was closed.
        AppClosed = 2,
        /// 4: the session expired (more than 48 h since the customer wrote).
        SessionExpired = 4,
        /// 5: the session was closed.
        SessionClosed = 5,
        /// 6: over the limit of 5 messages per customer message.
        OverLimit = 6,
        /// 7: no 视频号 bound (older list).
        ChannelsNotBound = 7,
        /// 8: the corp's subject is not verified.
        SubjectNotVerified = 8,
        /// 9: no 视频号 bound and the subject not verified (older list).
        ChannelsNotBoundAndNotVerified = 9,
        /// 10: the customer rejects messages.
        UserRejects = 10,
        /// 11: no member of the corp has logged in to the WeCom app.
        NoMemberLoggedIn = 11,
        /// 12: the kf component forbids this message type.
        ForbiddenByComponent = 12,
    }
}

numbered! {
    /// What moved a session (`session_status_change`); every one is a servicer's act
    /// in the WeCom app.
    ChangeType: u8 as "u8" {
        /// 1: taken from the queue (carries a `msg_code`).
        Taken = 1,
        /// 2: transferred to another servicer.
        Transferred = 2,
        /// 3: ended (carries a `msg_code` for a goodbye).
        Ended = 3,
        /// 4: a servicer re-entered an ended or transferred session.
        Reentered = 4,
    }
}

numbered! {
    /// A servicer's status in `servicer_status_change`. Note the encoding: the event
    /// says 1 / 2 where `kf/servicer/list` says 0 / 1 for the same two states.
    ServingChange: u8 as "u8" {
        /// 1: serving (接待中).
        Serving = 1,
        /// 2: stopped serving (停止接待), see `stop_type`.
        Stopped = 2,
    }
}

/// One item of `sync_msg`'s `msg_list`: a message or an event.
///
/// ```
/// use wecom_kf_types::kf::message::{Content, Message, Origin};
///
/// let m: Message = serde_json::from_str(r#"{"msgid":"m1","open_kfid":"wk1",
///     "external_userid":"wm1","send_time":1615478585,"origin":3,
///     "msgtype":"text","text":{"content":"hello"}}"#).unwrap();
/// assert_eq!(m.origin, Origin::Customer);
/// assert_eq!(m.content.as_text(), Some("hello"));
///
/// let later: Message = serde_json::from_str(r#"{"msgid":"m2","send_time":1,"origin":3,
///     "msgtype":"hologram","hologram":{"depth":3}}"#).unwrap();
/// assert!(matches!(later.content, Content::Other { ref msgtype, .. } if msgtype == "hologram"));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Message {
    /// Its id: unique, the key to deduplicate on.
    pub msgid: String,
    /// The account (absent at the top of an event: see [`Message::open_kfid`]).
    pub open_kfid: Option<String>,
    /// The customer (absent at the top of an event).
    pub external_userid: Option<String>,
    /// Unix seconds.
    pub send_time: i64,
    /// Who it is from.
    pub origin: Origin,
    /// The servicer, for origin 5.
    pub servicer_userid: Option<String>,
    /// What it says.
    pub content: Content,
}

impl Message {
    /// A message, as the emulator builds them.
    pub fn new(msgid: impl Into<String>, send_time: i64, origin: Origin, content: Content) -> Self {
        Message {
            msgid: msgid.into(),
            open_kfid: None,
            external_userid: None,
            send_time,
            origin,
            servicer_userid: None,
            content,
        }
    }

    /// The account, from the top level or from inside the event.
    pub fn open_kfid(&self) -> Option<&str> {
        self.open_kfid.as_deref().or(match &self.content {
            Content::Event(e) => e.ids().0,
            _ => None,
        })
    }

    /// The customer, from the top level or from inside the event.
    pub fn external_userid(&self) -> Option<&str> {
        self.external_userid.as_deref().or(match &self.content {
            Content::Event(e) => e.ids().1,
            _ => None,
        })
    }

    /// The event, if this is one.
    pub fn event(&self) -> Option<&Event> {
        match &self.content {
            Content::Event(e) => Some(e),
            _ => None,
        }
    }
}
