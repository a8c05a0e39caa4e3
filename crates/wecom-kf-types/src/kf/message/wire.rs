//! A `sync_msg` item on the wire: written with its payload under the `msgtype` key,
//! and read in one pass whichever order the keys come in.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Content, Message, Origin};

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("msgid", &self.msgid)?;
        if let Some(id) = &self.open_kfid {
            map.serialize_entry("open_kfid", id)?;
        }
        if let Some(id) = &self.external_userid {
            map.serialize_entry("external_userid", id)?;
        }
        map.serialize_entry("send_time", &self.send_time)?;
        map.serialize_entry("origin", &self.origin)?;
        if let Some(id) = &self.servicer_userid {
            map.serialize_entry("servicer_userid", id)?;
        }
        map.serialize_entry("msgtype", self.content.msgtype())?;
        self.content.serialize_payload_into(&mut map)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MessageVisitor)
    }
}

/// Reads the fixed fields typed, in one pass, and keeps the other keys' values until
/// `msgtype` says which one is the payload (the two may come in either order).
struct MessageVisitor;

impl<'de> Visitor<'de> for MessageVisitor {
    type Value = Message;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sync_msg message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Message, A::Error> {
        let mut msgid = None;
        let mut open_kfid = None;
        let mut external_userid = None;
        let mut send_time = 0;
        let mut origin = Origin::Other(0);
        let mut servicer_userid = None;
        let mut msgtype: Option<String> = None;
        let mut payload: Option<Value> = None;
        // Keys read before `msgtype`: one of them may be the payload.
        let mut early: Vec<(String, Value)> = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key {
                Key::Msgid => msgid = Some(map.next_value::<String>()?),
                Key::OpenKfid => open_kfid = map.next_value()?,
                Key::ExternalUserid => external_userid = map.next_value()?,
                Key::SendTime => send_time = map.next_value()?,
                Key::Origin => origin = map.next_value()?,
                Key::ServicerUserid => servicer_userid = map.next_value()?,
                Key::Msgtype => msgtype = Some(map.next_value()?),
                Key::Other(other) => match &msgtype {
                    Some(t) if *t == other => payload = Some(map.next_value()?),
                    Some(_) => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    None => early.push((other.into_owned(), map.next_value()?)),
                },
            }
        }
        let msgtype = msgtype.ok_or_else(|| de::Error::missing_field("msgtype"))?;
        let payload = payload
            .or_else(|| {
                early
                    .into_iter()
                    .find(|(k, _)| *k == msgtype)
                    .map(|(_, v)| v)
            })
            .unwrap_or(Value::Null);
        Ok(Message {
            msgid: msgid.ok_or_else(|| de::Error::missing_field("msgid"))?,
            open_kfid,
            external_userid,
            send_time,
            origin,
            servicer_userid,
            content: Content::from_wire(&msgtype, payload),
        })
    }
}

/// A key of a message object, read without allocating for the fixed ones.
enum Key<'de> {
    Msgid,
    OpenKfid,
    ExternalUserid,
    SendTime,
    Origin,
    ServicerUserid,
    Msgtype,
    Other(Cow<'de, str>),
}

impl<'de> Key<'de> {
    fn known(name: &str) -> Option<Key<'de>> {
        Some(match name {
            "msgid" => Key::Msgid,
            "open_kfid" => Key::OpenKfid,
            "external_userid" => Key::ExternalUserid,
            "send_time" => Key::SendTime,
            "origin" => Key::Origin,
            "servicer_userid" => Key::ServicerUserid,
            "msgtype" => Key::Msgtype,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::known(name).unwrap_or(Key::Other(Cow::Borrowed(name))))
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Key<'de>, E> {
                Ok(Key::known(name).unwrap_or_else(|| Key::Other(Cow::Owned(name.to_owned()))))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}
