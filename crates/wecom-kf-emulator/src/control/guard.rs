//! Who may call the control plane. It takes no token, so a web page the user happens
//! to open must not be able to drive it: a cross-site form or `fetch` (a "simple"
//! request, `text/plain`, no preflight) is refused by the `Origin` and `Content-Type`
//! checks, and DNS rebinding (a foreign name that resolves to 127.0.0.1) by the `Host`
//! check. Clients that are not browsers send no `Origin` and pass.

use std::net::IpAddr;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use wecom_kf_types::ErrCode;

use super::{BodyKind, Verb};
use crate::http::accept::Conn;
use crate::rejection::Rejection;
use crate::state::Emulator;

/// A refused call: its HTTP status and what was wrong.
pub(super) struct Refusal {
    status: StatusCode,
    why: String,
}

impl Refusal {
    /// The answer: the status, with the usual `{errcode, errmsg}`.
    pub(super) fn into_response(self) -> Response {
        let mut response =
            Rejection::with(ErrCode::INVALID_PARAMETER, self.why).into_response(None);
        *response.status_mut() = self.status;
        response
    }
}

fn refuse(status: StatusCode, why: String) -> Refusal {
    Refusal { status, why }
}

/// `host` without its port: `127.0.0.1:80` → `127.0.0.1`, `[::1]:80` → `::1`.
fn hostname(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Whether `host` (a `Host` header) names this emulator: loopback, the address the
/// connection reached, or one configured with `Config::control_hosts`.
fn own_host(emulator: &Emulator, conn: Option<&Conn>, host: &str) -> bool {
    let name = hostname(host);
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(ip) = name.parse::<IpAddr>()
        && (ip.is_loopback() || conn.is_some_and(|c| c.local.ip() == ip))
    {
        return true;
    }
    emulator
        .config()
        .control_hosts
        .iter()
        .any(|allowed| allowed.eq_ignore_ascii_case(host) || allowed.eq_ignore_ascii_case(name))
}

/// Refuse a call from elsewhere: a foreign `Host` or `Origin`, or a body that is not
/// declared the way the command takes it.
pub(super) fn admit(
    emulator: &Emulator,
    conn: Option<&Conn>,
    headers: &HeaderMap,
    verb: Verb,
    kind: BodyKind,
) -> Result<(), Refusal> {
    let text =
        |name: header::HeaderName| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let host = text(header::HOST);
    if let Some(host) = host
        && !own_host(emulator, conn, host)
    {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "the control plane answers only to a loopback Host or the emulator's own address, not Host {host:?} (add it with --control-host)"
            ),
        ));
    }
    if let Some(origin) = text(header::ORIGIN) {
        let own = host.is_some_and(|host| {
            ["http://", "https://"].iter().any(|scheme| {
                origin
                    .strip_prefix(scheme)
                    .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
            })
        });
        if !own {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                format!(
                    "the control plane takes calls from its own pages only, not from Origin {origin:?}"
                ),
            ));
        }
    }
    if verb != Verb::Get
        && let Some(declared) = text(header::CONTENT_TYPE)
        && !declares(declared, kind)
    {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be {}, not {declared:?}", expected(kind)),
        ));
    }
    Ok(())
}

fn expected(kind: BodyKind) -> &'static str {
    match kind {
        BodyKind::Json => "application/json",
        BodyKind::Form => "multipart/form-data",
    }
}

fn declares(content_type: &str, kind: BodyKind) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case(expected(kind))
}

/// A body with no Content-Type is refused: only an empty one may come undeclared.
pub(super) fn body_declared(
    verb: Verb,
    kind: BodyKind,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), Refusal> {
    if verb == Verb::Get || content_type.is_some() || body.is_empty() {
        return Ok(());
    }
    Err(refuse(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!(
            "a control call's body needs Content-Type: {} ({} bytes came without one)",
            expected(kind),
            body.len()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_lose_their_port() {
        assert_eq!(hostname("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(hostname("[::1]:8080"), "::1");
        assert_eq!(hostname("localhost"), "localhost");
        assert_eq!(hostname("evil.example:80"), "evil.example");
    }

    #[test]
    fn only_json_declares_json() {
        assert!(declares("application/json; charset=utf-8", BodyKind::Json));
        assert!(!declares("text/plain", BodyKind::Json));
        assert!(!declares(
            "application/x-www-form-urlencoded",
            BodyKind::Json
        ));
        assert!(declares("multipart/form-data; boundary=x", BodyKind::Form));
    }
}
