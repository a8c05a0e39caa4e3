//! The response envelope: every answer is a JSON object with `errcode` and `errmsg`
//! beside the endpoint's own fields.
//!
//! [`Reply`] reads both in one pass: it lifts `errcode`/`errmsg` out of the map while the
//! body type deserializes the rest, so a 100-account page is parsed once, without the
//! buffering that `#[serde(flatten)]` would add.

use std::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::ErrCode;

/// `errcode` and `errmsg` of an answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// `0` on success.
    #[serde(default)]
    pub errcode: ErrCode,
    /// `"ok"` on success; a description otherwise. Decide on `errcode`, never on this text.
    #[serde(default)]
    pub errmsg: String,
}

/// A decoded answer: the status, and the body when it could be read.
///
/// On an error answer the body's required fields are usually absent, so `body` is `None`.
#[derive(Debug)]
pub struct Reply<T> {
    /// `errcode` / `errmsg`.
    pub status: Status,
    /// The endpoint's fields; `None` when `errcode != 0` and they could not be read.
    pub body: Option<T>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Reply<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ReplyVisitor(PhantomData))
    }
}

struct ReplyVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ReplyVisitor<T> {
    type Value = Reply<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object with errcode and errmsg")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Reply<T>, A::Error> {
        let mut tap = StatusTap {
            inner: map,
            status: Status::default(),
        };
        let body = match T::deserialize(de::value::MapAccessDeserializer::new(&mut tap)) {
            Ok(body) => Some(body),
            // An error answer lacks the success fields; what matters is the status.
            Err(_) if !tap.status.errcode.is_ok() => {
                while tap.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                None
            }
            Err(err) => return Err(err),
        };
        Ok(Reply {
            status: tap.status,
            body,
        })
    }
}

/// A `MapAccess` that takes `errcode` and `errmsg` for itself and passes every other
/// entry on to the body's deserializer.
struct StatusTap<A> {
    inner: A,
    status: Status,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for StatusTap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.inner.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            match key.as_str() {
                "errcode" => self.status.errcode = self.inner.next_value()?,
                "errmsg" => self.status.errmsg = self.inner.next_value()?,
                _ => {
                    return match key {
                        Key::Borrowed(k) => seed.deserialize(BorrowedStrDeserializer::new(k)),
                        Key::Owned(k) => seed.deserialize(StringDeserializer::new(k)),
                    }
                    .map(Some);
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}

enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(k) => k,
            Key::Owned(k) => k,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A success answer: `{"errcode":0,"errmsg":"ok", …body}` — what the emulator sends.
#[derive(Serialize)]
pub struct Success<'a, T> {
    /// Always 0.
    pub errcode: ErrCode,
    /// Always `"ok"`.
    pub errmsg: &'a str,
    /// The endpoint's fields.
    #[serde(flatten)]
    pub body: &'a T,
}

impl<'a, T: Serialize> Success<'a, T> {
    /// Wrap a body.
    pub fn new(body: &'a T) -> Self {
        Success {
            errcode: ErrCode::OK,
            errmsg: "ok",
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kf::account::{AddAccountResponse, ListAccountsResponse};

    #[test]
    fn success_and_error_in_one_pass() {
        let ok: Reply<AddAccountResponse> =
            serde_json::from_str(r#"{"errcode":0,"errmsg":"ok","open_kfid":"wk1"}"#).unwrap();
        assert!(ok.status.errcode.is_ok());
        assert_eq!(ok.body.unwrap().open_kfid, "wk1");

        let err: Reply<AddAccountResponse> = serde_json::from_str(
            r#"{"errcode":95006,"errmsg":"invalid name","extra":[1,{"a":2}]}"#,
        )
        .unwrap();
        assert_eq!(err.status.errcode, ErrCode(95006));
        assert_eq!(err.status.errmsg, "invalid name");
        assert!(err.body.is_none());

        // errcode after the body, and escaped keys.
        let late: Reply<ListAccountsResponse> =
            serde_json::from_str(r#"{"account_list":[],"err\u0063ode":0,"errmsg":"ok"}"#).unwrap();
        assert_eq!(late.body.unwrap().account_list.len(), 0);
    }

    #[test]
    fn a_success_without_its_fields_is_an_error() {
        let r = serde_json::from_str::<Reply<AddAccountResponse>>(r#"{"errcode":0,"errmsg":"ok"}"#);
        assert!(r.unwrap_err().to_string().contains("open_kfid"));
        assert!(serde_json::from_str::<Reply<AddAccountResponse>>("[1,2]").is_err());
    }
}
