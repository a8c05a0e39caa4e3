//! `/__emulator/…`: the control plane for tests, demos and users, one module per topic
//! (docs/emulator-control.md).
//!
//! Every route is a [`Command`]: a request type that names its method and path, the
//! answer it gives and what it does to the emulator. One generic handler serves them
//! all, the way `api/` serves `Endpoint`s, and [`Emulator::apply`] / [`Emulator::run`]
//! call the same commands in process, so tests, the sandbox and the console drive the
//! emulator through one plane. `registry` lists them.
//!
//! The plane needs no access token, so it is guarded instead: a control call must come
//! with a `Host` that is loopback or the emulator's own address (no DNS rebinding), an
//! `Origin` that is the emulator's own or none (no other web page), and a body declared
//! as JSON (or a form where the command takes one), so a browser's cross-site "simple"
//! request is refused before anything is done.

pub mod accounts;
pub mod callbacks;
pub mod clock;
pub mod console;
pub mod customers;
pub mod directory;
pub mod faults;
mod guard;
pub mod media;
pub(crate) mod registry;
pub mod servicers;
pub mod stats;
pub mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, routing::MethodRouter};
use bytes::BytesMut;
use http_body_util::BodyExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use wecom_kf_types::ErrCode;

use crate::http::accept::Conn;
pub use customers::CUSTOMER_MEDIA_MAX_BYTES;

use crate::http::reply;
use crate::rejection::Rejection;
use crate::state::Emulator;

/// Control bodies larger than this are refused.
const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Form bodies (a customer's media: up to 64 MiB) larger than this are refused.
const FORM_BODY_LIMIT: usize = 64 * 1024 * 1024 + 64 * 1024;

/// The HTTP method of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// `GET`: reads only; its fields come from the path and the query.
    Get,
    /// `POST`: its fields come from the path and the JSON body.
    Post,
    /// `DELETE`.
    Delete,
}

impl Verb {
    /// `GET`, `POST` or `DELETE`.
    pub fn name(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Delete => "DELETE",
        }
    }
}

/// How a command's body is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json` (or no body at all, which means `{}`).
    Json,
    /// `multipart/form-data`.
    Form,
}

/// What a request brought, for [`Command::decode`].
pub struct Input<'a> {
    /// The values of the path's `{name}` segments, by name.
    pub path: Vec<(&'static str, String)>,
    /// The raw query string.
    pub query: Option<&'a str>,
    /// The body, as sent.
    pub body: &'a Bytes,
    /// Its declared Content-Type.
    pub content_type: Option<&'a str>,
}

impl Input<'_> {
    /// The fields as JSON: the query's (for `GET`) or the body's object, with the
    /// path's segments on top. An empty body means `{}`.
    pub fn fields(&self, verb: Verb) -> Result<Map<String, Value>, Rejection> {
        let mut fields = if verb == Verb::Get {
            crate::api::parse_query(self.query)
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        } else if self.body.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(self.body) {
                Ok(Value::Object(map)) => map,
                Ok(_) => {
                    return Err(Rejection::with(
                        ErrCode::INVALID_PARAMETER,
                        "the body must be a JSON object",
                    ));
                }
                Err(e) => {
                    return Err(Rejection::with(
                        ErrCode::INVALID_PARAMETER,
                        format!("Warning: wrong json format. {e}"),
                    ));
                }
            }
        };
        for (name, value) in &self.path {
            fields.insert((*name).to_owned(), Value::String(value.clone()));
        }
        Ok(fields)
    }
}

/// One control call: its request (the command itself), where it is served, its
/// answer and what it does.
pub trait Command: DeserializeOwned + Send + Sized + 'static {
    /// The method.
    const METHOD: Verb;
    /// The route; a `{name}` segment fills the field `name`.
    const PATH: &'static str;
    /// How the body comes.
    const BODY: BodyKind = BodyKind::Json;

    /// The answer's fields (`errcode`/`errmsg` are added on the wire).
    type Answer: Serialize + Send;

    /// Do it.
    fn apply(self, emulator: &Emulator) -> Result<Self::Answer, Rejection>;

    /// What must happen outside the emulator before [`Command::apply`], without any
    /// lock held: the URL check of a callback. Nothing by default.
    fn prepare(self, emulator: &Emulator) -> impl Future<Output = Result<Self, Rejection>> + Send {
        let _ = emulator;
        std::future::ready(Ok(self))
    }

    /// Read the command from a request: the fields of [`Input::fields`], as JSON.
    fn decode(input: &Input<'_>) -> Result<Self, Rejection> {
        serde_json::from_value(Value::Object(input.fields(Self::METHOD)?)).map_err(|e| {
            Rejection::with(
                ErrCode::INVALID_PARAMETER,
                format!("invalid {} {}: {e}", Self::METHOD.name(), Self::PATH),
            )
        })
    }

    /// The HTTP answer: the answer's fields plus `errcode` 0 and `errmsg` `"ok"`.
    fn respond(answer: Self::Answer) -> Response {
        envelope(&answer)
    }
}

/// An answer with no fields: `{}` on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Done {}

/// The success answer of a control call: its fields plus `errcode`/`errmsg`.
pub(crate) fn envelope<T: Serialize>(answer: &T) -> Response {
    #[derive(Serialize)]
    struct Envelope<'a, T: Serialize> {
        errcode: i64,
        errmsg: &'static str,
        #[serde(flatten)]
        fields: &'a T,
    }
    reply::json(&Envelope {
        errcode: 0,
        errmsg: "ok",
        fields: answer,
    })
}

impl Emulator {
    /// Apply a control command in process, exactly as its route does (a command with
    /// outside work first, [`callbacks::Register`], needs [`Emulator::run`]).
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// use wecom_kf_emulator::control::customers::NewCustomer;
    /// let running = wecom_kf_emulator::spawn(wecom_kf_emulator::Config::default()).await?;
    /// let made = running.emulator().apply(NewCustomer::named("小明")).unwrap();
    /// assert!(made.external_userid.starts_with("wm"));
    /// # Ok(()) }
    /// ```
    pub fn apply<C: Command>(&self, command: C) -> Result<C::Answer, Rejection> {
        command.apply(self)
    }

    /// Run a control command in process: its outside work, then [`Emulator::apply`].
    pub async fn run<C: Command>(&self, command: C) -> Result<C::Answer, Rejection> {
        command.prepare(self).await?.apply(self)
    }
}

pub(crate) fn routes() -> Router<Arc<Emulator>> {
    registry::routes().fold(Router::new(), |router, route| {
        router.route(route.path, (route.handler)())
    })
}

/// The values of `template`'s `{name}` segments in `path`, percent-decoded.
fn path_params(template: &'static str, path: &str) -> Vec<(&'static str, String)> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(t, p)| {
            let name = t.strip_prefix('{')?.strip_suffix('}')?;
            let value = percent_decode(p);
            Some((name, value))
        })
        .collect()
}

fn percent_decode(segment: &str) -> String {
    // form_urlencoded also turns '+' into ' ', which a path does not.
    let escaped = segment.replace('+', "%2B");
    form_urlencoded::parse(format!("v={escaped}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Read a body of at most [`BODY_LIMIT`] bytes (`limit` for forms).
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, Rejection> {
    let mut kept = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            Rejection::with(
                ErrCode::INVALID_PARAMETER,
                format!("request body refused: {e}"),
            )
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if kept.len() + chunk.len() > limit {
            return Err(Rejection::with(
                ErrCode::INVALID_PARAMETER,
                format!("control body over {limit} bytes"),
            ));
        }
        kept.extend_from_slice(&chunk);
    }
    Ok(kept.freeze())
}

/// The generic handler: guard, decode, outside work, apply, answer.
async fn serve<C: Command>(
    State(emulator): State<Arc<Emulator>>,
    conn: Option<Extension<Conn>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let conn = conn.map(|Extension(c)| c);
    if let Err(refused) = guard::admit(&emulator, conn.as_ref(), &headers, C::METHOD, C::BODY) {
        return refused.into_response();
    }
    let limit = match C::BODY {
        BodyKind::Json => BODY_LIMIT,
        BodyKind::Form => FORM_BODY_LIMIT,
    };
    let bytes = match read_body(body, limit).await {
        Ok(bytes) => bytes,
        Err(rejection) => return rejection.into_response(None),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if let Err(refused) = guard::body_declared(C::METHOD, C::BODY, content_type, &bytes) {
        return refused.into_response();
    }
    let result = async {
        let input = Input {
            path: path_params(C::PATH, uri.path()),
            query: uri.query(),
            body: &bytes,
            content_type,
        };
        let command = C::decode(&input)?;
        command.prepare(&emulator).await?.apply(&emulator)
    }
    .await;
    match result {
        Ok(answer) => C::respond(answer),
        Err(rejection) => rejection.into_response(None),
    }
}

fn handler<C: Command>() -> MethodRouter<Arc<Emulator>> {
    let filter = match C::METHOD {
        Verb::Get => axum::routing::MethodFilter::GET,
        Verb::Post => axum::routing::MethodFilter::POST,
        Verb::Delete => axum::routing::MethodFilter::DELETE,
    };
    axum::routing::on(filter, serve::<C>)
}

/// Bytes with their Content-Type: a page of the console, an image.
#[derive(Clone, Debug, Serialize)]
pub struct Asset {
    /// e.g. `image/png`.
    pub content_type: String,
    /// The bytes.
    #[serde(skip)]
    pub bytes: Bytes,
}

impl Asset {
    fn respond(self) -> Response {
        (
            [
                (header::CONTENT_TYPE, self.content_type),
                (header::CACHE_CONTROL, "no-cache".to_owned()),
            ],
            self.bytes,
        )
            .into_response()
    }
}

/// Serde helpers for fields that come from a path or a query, where every value is a
/// string: numbers are taken as numbers or as their text.
pub(crate) mod lenient {
    use serde::{Deserialize, Deserializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(i64),
        Text(String),
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<NumberOrText>::deserialize(d)? {
            None => Ok(None),
            Some(NumberOrText::Number(n)) => Ok(Some(n)),
            Some(NumberOrText::Text(t)) if t.is_empty() => Ok(None),
            Some(NumberOrText::Text(t)) => t
                .parse()
                .map(Some)
                .map_err(|_| D::Error::custom(format!("expected a number, got {t:?}"))),
        }
    }

    pub(crate) fn i64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        parse(d)
    }

    pub(crate) fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let n = parse(d)?.unwrap_or_default();
        u64::try_from(n).map_err(|_| D::Error::custom(format!("expected a count, got {n}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_fill_their_fields() {
        assert_eq!(
            path_params(
                "/__emulator/customers/{external_userid}/send",
                "/__emulator/customers/wm%2Fa+b/send"
            ),
            vec![("external_userid", "wm/a+b".to_owned())]
        );
        assert!(path_params("/__emulator/reset", "/__emulator/reset").is_empty());
    }
}
