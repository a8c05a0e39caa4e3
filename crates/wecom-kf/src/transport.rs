//! One HTTP exchange: send, check the status, read a bounded body, decode the envelope.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;
use wecom_kf_types::{Reply, Secret, Status};

use crate::Error;

#[derive(Clone, Debug)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    pub base_url: Arc<str>,
    pub timeout: Duration,
    pub max_response_bytes: usize,
    pub urls: Arc<UrlCache>,
}

/// Parsed `base/path?access_token=…` URLs for the current token, so a call does not
/// parse and percent-encode its URL again (a measurable share of a call's CPU).
#[derive(Default)]
pub(crate) struct UrlCache(Mutex<(Option<Secret>, HashMap<&'static str, reqwest::Url>)>);

impl std::fmt::Debug for UrlCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlCache(<redacted>)")
    }
}

impl Transport {
    /// `base/path?access_token=TOKEN`, parsed once per token and path.
    pub fn token_url(&self, path: &'static str, token: &Secret) -> Result<reqwest::Url, Error> {
        let mut cache = self
            .urls
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.0.as_ref() != Some(token) {
            *cache = (Some(token.clone()), HashMap::new());
        }
        if let Some(url) = cache.1.get(path) {
            return Ok(url.clone());
        }
        let mut url = reqwest::Url::parse(&self.url(path)).map_err(|e| Error::Request {
            endpoint: path,
            source: Box::new(e),
        })?;
        url.query_pairs_mut()
            .append_pair("access_token", token.expose());
        cache.1.insert(path, url.clone());
        Ok(url)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Send and read the body within the client's timeout. Never puts the URL (which
    /// carries the token) in an error.
    pub async fn send(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Bytes, Error> {
        // One timer for the whole exchange, headers and body, kept in this future:
        // reqwest's own per-request timeout boxes a timer and wraps the body in another
        // timed layer, which costs every call an allocation and a bigger working set.
        match tokio::time::timeout(self.timeout, self.exchange(endpoint, request)).await {
            Ok(answer) => answer,
            Err(_elapsed) => Err(Error::Timeout {
                endpoint,
                attempts: 1,
                after: self.timeout,
            }),
        }
    }

    async fn exchange(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Bytes, Error> {
        let mut response = request
            .send()
            .await
            .map_err(|e| Error::from_reqwest(endpoint, e, self.timeout))?;
        let status = response.status();
        if !status.is_success() {
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("no content type")
                .to_owned();
            return Err(Error::Http {
                attempts: 1,
                status: status.as_u16(),
                content_type,
                endpoint,
            });
        }
        let limit = self.max_response_bytes;
        let expected = response.content_length();
        if expected.is_some_and(|len| len > limit as u64) {
            return Err(Error::ResponseTooLarge {
                endpoint,
                attempts: 1,
                limit,
            });
        }
        // The usual case, a whole answer in one chunk, is kept as it is: no copy.
        let first = response
            .chunk()
            .await
            .map_err(|e| Error::from_reqwest(endpoint, e, self.timeout))?;
        let Some(first) = first else {
            return Ok(Bytes::new());
        };
        if expected == Some(first.len() as u64) || first.len() > limit {
            return if first.len() > limit {
                Err(Error::ResponseTooLarge {
                    endpoint,
                    attempts: 1,
                    limit,
                })
            } else {
                Ok(first)
            };
        }
        // Sized once from Content-Length: no regrowth copies while a page arrives.
        let mut body = BytesMut::with_capacity(
            expected.map_or(8 * 1024, |len| usize::try_from(len).unwrap_or(limit)),
        );
        body.extend_from_slice(&first);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Error::from_reqwest(endpoint, e, self.timeout))?
        {
            if body.len() + chunk.len() > limit {
                return Err(Error::ResponseTooLarge {
                    endpoint,
                    attempts: 1,
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

/// Decode an answer: a non-zero errcode becomes [`Error::Api`], anything unreadable
/// becomes [`Error::Decode`] with the JSON path of the problem.
pub(crate) fn decode<T: DeserializeOwned>(endpoint: &'static str, body: &[u8]) -> Result<T, Error> {
    let first_error = match serde_json::from_slice::<Reply<T>>(body) {
        Ok(Reply {
            status,
            body: Some(body),
        }) if status.errcode.is_ok() => return Ok(body),
        Ok(Reply { status, .. }) => {
            return Err(Error::Api {
                attempts: 1,
                code: status.errcode,
                message: status.errmsg,
                endpoint,
            });
        }
        Err(err) => err,
    };
    // The slow path, only for answers that did not decode: an error answer whose body
    // confused the one-pass reader, or a real decode error whose JSON path we want.
    if let Ok(status) = serde_json::from_slice::<Status>(body)
        && !status.errcode.is_ok()
    {
        return Err(Error::Api {
            attempts: 1,
            code: status.errcode,
            message: status.errmsg,
            endpoint,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(err) => Err(Error::Decode {
            endpoint,
            attempts: 1,
            path: err.path().to_string(),
            source: err.into_inner(),
        }),
        Ok(_) => Err(Error::Decode {
            endpoint,
            attempts: 1,
            path: ".".to_owned(),
            source: first_error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy;
    use wecom_kf_types::ErrCode;
    use wecom_kf_types::kf::account::ListAccountsResponse;

    use super::*;

    #[test]
    fn decode_errors_carry_the_json_path() {
        let body = br#"{"errcode":0,"errmsg":"ok","account_list":[{"open_kfid":"wk1","name":"a","avatar":""},{"open_kfid":"wk2","name":7}]}"#;
        let err = decode::<ListAccountsResponse>("/x", body).unwrap_err();
        match err {
            Error::Decode { path, .. } => assert_eq!(path, "account_list[1].name"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn api_errors_are_typed() {
        let err = decode::<ListAccountsResponse>(
            "/x",
            br#"{"errcode":40014,"errmsg":"invalid access_token"}"#,
        )
        .unwrap_err();
        assert_eq!(err.api_code(), Some(ErrCode::INVALID_ACCESS_TOKEN));
        // An error answer whose other fields have the wrong types is still an API error.
        let err = decode::<ListAccountsResponse>(
            "/x",
            br#"{"errcode":-1,"errmsg":"busy","account_list":5}"#,
        )
        .unwrap_err();
        assert_eq!(err.api_code(), Some(ErrCode::SYSTEM_BUSY));
    }

    proptest::proptest! {
        /// Whatever the network sends: a typed error or a value, never a panic, and a
        /// non-zero errcode is always an API error.
        #[test]
        fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1024)) {
            let _ = decode::<ListAccountsResponse>("/x", &bytes);
        }

        #[test]
        fn errcodes_always_become_api_errors(code in proptest::prelude::any::<i64>().prop_filter("non-zero", |c| *c != 0), extra in "\\PC{0,30}") {
            let body = serde_json::json!({"errcode": code, "errmsg": extra, "account_list": extra});
            let err = decode::<ListAccountsResponse>("/x", body.to_string().as_bytes()).unwrap_err();
            proptest::prop_assert_eq!(err.api_code(), Some(ErrCode(code)));
        }
    }

    #[test]
    fn garbage_never_panics() {
        for body in [
            &b""[..],
            b"<html>502</html>",
            b"{\"errcode\":",
            b"null",
            b"[]",
            b"{\"errcode\":\"x\"}",
            &[0xff, 0xfe],
        ] {
            assert!(decode::<ListAccountsResponse>("/x", body).is_err());
        }
    }
}
