//! The one `Error` type: API errors apart from transport, HTTP, decode, token and
//! validation errors, with sources kept.
//!
//! No variant ever holds the `corpsecret` or an `access_token`: URLs are stripped from
//! every `reqwest::Error` before it is wrapped, and no response body is kept.

use std::sync::Arc;
use std::time::Duration;

use wecom_kf_types::kf::service_state::ServiceState;
use wecom_kf_types::{ErrCode, Invalid, RetryClass};

/// A boxed source error (from the HTTP stack), its URL already stripped.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with a non-zero `errcode`.
    #[error("{endpoint}: errcode {code}: {message}{}{}", hint(*code), after(*attempts))]
    Api {
        /// The errcode, with its meaning via `Display`.
        code: ErrCode,
        /// The service's `errmsg` as sent.
        message: String,
        /// The path called, e.g. `/cgi-bin/kf/account/add`.
        endpoint: &'static str,
        /// Attempts made, the first included (more than 1 when `-1` was retried).
        attempts: u32,
    },

    /// A non-2xx HTTP status, e.g. a proxy's HTML 502 page: not a JSON answer.
    #[error("{endpoint}: HTTP {status} ({content_type}), not a WeCom JSON answer{}", after(*attempts))]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The `Content-Type` of the body (the body itself is not kept).
        content_type: String,
        /// The path called.
        endpoint: &'static str,
        /// Attempts made, the first included.
        attempts: u32,
    },

    /// Connecting, sending or receiving failed.
    #[error("{endpoint}: transport error{}: {source}", after(*attempts))]
    Transport {
        /// The path called.
        endpoint: &'static str,
        /// Attempts made, the first included.
        attempts: u32,
        /// Whether the request may have reached the server (false: the connection was
        /// never made).
        maybe_sent: bool,
        /// The underlying error, URL stripped.
        #[source]
        source: BoxError,
    },

    /// No answer within the configured timeout.
    #[error("{endpoint}: no answer within {after:?}{}", self::after(*attempts))]
    Timeout {
        /// The path called.
        endpoint: &'static str,
        /// Attempts made, the first included.
        attempts: u32,
        /// The timeout that ran out.
        after: Duration,
    },

    /// The answer was not the JSON we expected.
    #[error("{endpoint}: could not decode the answer at `{path}`{}: {source}", after(*attempts))]
    Decode {
        /// The path called.
        endpoint: &'static str,
        /// Attempts made, the first included.
        attempts: u32,
        /// JSON path of the offending value (e.g. `account_list[3].name`), `.` for the root.
        path: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },

    /// The answer was larger than the client accepts.
    #[error("{endpoint}: answer larger than {limit} bytes{}", after(*attempts))]
    ResponseTooLarge {
        /// The path called.
        endpoint: &'static str,
        /// Attempts made, the first included.
        attempts: u32,
        /// The limit in bytes.
        limit: usize,
    },

    /// No access_token could be had.
    #[error("could not get an access_token: {0}")]
    Token(#[source] Arc<Error>),

    /// A value breaks a documented limit; nothing was sent.
    #[error("{0} (nothing was sent)")]
    Validation(#[from] Invalid),

    /// A call that is not idempotent (`kf/account/add`) may or may not have taken
    /// effect, so it was not retried: reconcile before sending it again.
    #[error(
        "{endpoint}: outcome unknown, the request may have reached the server; {hint}: {source}"
    )]
    OutcomeUnknown {
        /// The path called.
        endpoint: &'static str,
        /// What to check before sending it again (from the endpoint).
        hint: &'static str,
        /// What happened.
        #[source]
        source: Box<Error>,
    },

    /// A session move the transition table forbids from the session's current state;
    /// the move was not sent.
    #[error(
        "the session is in state {from}; the API may move it to [{}], not to {to} (the service would answer errcode {code}); the move was not sent",
        states(allowed)
    )]
    ForbiddenMove {
        /// The state the session is in.
        from: ServiceState,
        /// The state asked for.
        to: ServiceState,
        /// Where it may go from `from`.
        allowed: Vec<ServiceState>,
        /// What the service answers such a move: 95016, or 95013 out of an ended session.
        code: ErrCode,
    },

    /// A send refused for the session's state, its quota or its window (95018, 95001,
    /// 95002), with what the session's state says about it.
    #[error("{source}\n{diagnosis}")]
    Refused {
        /// The API error.
        #[source]
        source: Box<Error>,
        /// Why, and what to do, read from the session.
        diagnosis: Box<crate::kf::service_state::Diagnosis>,
    },

    /// The service kept answering `has_more` 1 without moving the cursor on; the
    /// stream stopped rather than ask forever.
    #[error("{endpoint}: has_more was 1 but the cursor did not move; stopped")]
    NoProgress {
        /// The path called.
        endpoint: &'static str,
    },

    /// Reading a local file (e.g. an avatar) failed; nothing was sent.
    #[error("could not read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },

    /// The client is misconfigured (e.g. no corp id): found while building it.
    #[error("invalid client configuration: {0}")]
    Config(String),

    /// A request could not be prepared on this side (its body would not serialize, a
    /// content type would not parse, a one-shot reader was already used); nothing was
    /// sent.
    #[error("{endpoint}: could not prepare the request: {source}")]
    Request {
        /// The path that was to be called.
        endpoint: &'static str,
        /// What went wrong.
        #[source]
        source: BoxError,
    },

    /// A shared store the client relies on (the Redis token cache) could not be
    /// reached, and it is set to fail closed.
    #[error("{what} unreachable (fail-closed): {source}")]
    Unreachable {
        /// Which store, e.g. `Redis token cache`.
        what: &'static str,
        /// Why (never the store's URL).
        #[source]
        source: BoxError,
    },

    /// `media/get` answered something that is neither the file nor a JSON error (an
    /// HTML page with HTTP 200, no `Content-Disposition`), or its pieces did not add
    /// up (a `Content-Range` other than the one asked for, a size that changed, fewer
    /// bytes than announced). Retried like any read; nothing of it is kept as the file.
    #[error("{endpoint}: not the file: {detail}{}", after(*attempts))]
    NotTheFile {
        /// The path called.
        endpoint: &'static str,
        /// Attempts made, the first included.
        attempts: u32,
        /// What was wrong.
        detail: String,
    },

    /// Writing a downloaded file failed.
    #[error("could not write {path}: {source}")]
    Save {
        /// The file.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

fn states(states: &[ServiceState]) -> String {
    states
        .iter()
        .map(|s| s.number().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// ` after N attempts`, when the call was retried.
fn after(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

fn hint(code: ErrCode) -> String {
    code.hint()
        .map(|h| format!(" (hint: {h})"))
        .unwrap_or_default()
}

impl Error {
    /// The errcode, looking through [`Error::Token`] and [`Error::OutcomeUnknown`].
    pub fn api_code(&self) -> Option<ErrCode> {
        match self {
            Error::Api { code, .. } | Error::ForbiddenMove { code, .. } => Some(*code),
            Error::Token(inner) => inner.api_code(),
            Error::OutcomeUnknown { source, .. } | Error::Refused { source, .. } => {
                source.api_code()
            }
            _ => None,
        }
    }

    /// The diagnosis attached to a refused send (95018, 95001, 95002).
    pub fn diagnosis(&self) -> Option<&crate::kf::service_state::Diagnosis> {
        match self {
            Error::Refused { diagnosis, .. } => Some(diagnosis),
            _ => None,
        }
    }

    /// Whether a non-idempotent call may have taken effect.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }

    /// Whether nothing was sent because of a local check (a limit, or a session move
    /// the table forbids).
    pub fn is_validation(&self) -> bool {
        matches!(self, Error::Validation(_) | Error::ForbiddenMove { .. })
    }

    /// Whether trying again later may succeed (busy, throttled, network, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Api { code, .. } => matches!(
                code.retry_class(),
                RetryClass::Transient | RetryClass::Throttled
            ),
            Error::Http { status, .. } => *status >= 500,
            Error::Transport { .. }
            | Error::Timeout { .. }
            | Error::Decode { .. }
            | Error::ResponseTooLarge { .. }
            | Error::NotTheFile { .. } => true,
            Error::Token(inner) => inner.is_transient(),
            _ => false,
        }
    }

    /// Record that this error ends `n` attempts (it says so in its message).
    pub(crate) fn after_attempts(mut self, n: u32) -> Error {
        match &mut self {
            Error::Api { attempts, .. }
            | Error::Http { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::Decode { attempts, .. }
            | Error::ResponseTooLarge { attempts, .. }
            | Error::NotTheFile { attempts, .. } => *attempts = n,
            _ => {}
        }
        self
    }

    /// The look-up URL of the errcode, if this is an API error.
    pub fn lookup_url(&self) -> Option<String> {
        self.api_code().map(ErrCode::lookup_url)
    }

    /// Wrap a `reqwest::Error`, stripping its URL (which holds the token or secret).
    pub(crate) fn from_reqwest(
        endpoint: &'static str,
        err: reqwest::Error,
        timeout: Duration,
    ) -> Error {
        if err.is_timeout() {
            return Error::Timeout {
                endpoint,
                attempts: 1,
                after: timeout,
            };
        }
        // A refused or failed connect never carried the request.
        let maybe_sent = !err.is_connect() && !err.is_builder();
        Error::Transport {
            endpoint,
            attempts: 1,
            maybe_sent,
            source: Box::new(err.without_url()),
        }
    }
}
