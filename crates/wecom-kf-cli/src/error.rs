//! CLI errors and their exit codes.

use std::fmt::Write as _;

use wecom_kf::Error;

/// Exit codes: the one place they are defined. `--help` prints [`exit::help`].
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Some items failed: rows of an import, accounts of a delete, servicers of an add
    /// or remove, unknown customer ids.
    pub const PARTIAL: u8 = 1;
    /// Bad usage (unknown flag, missing argument, refused confirmation).
    pub const USAGE: u8 = 2;
    /// Invalid input, caught before anything was sent.
    pub const VALIDATION: u8 = 3;
    /// The service answered with an errcode.
    pub const API: u8 = 4;
    /// Network, timeout, HTTP or undecodable answer.
    pub const NETWORK: u8 = 5;
    /// Missing or unreadable configuration or credentials.
    pub const CONFIG: u8 = 6;
    /// A write may or may not have happened: check before sending it again.
    pub const OUTCOME_UNKNOWN: u8 = 7;
    /// A long-running command (`serve`) started and then failed: its store was lost,
    /// its consumer stopped.
    pub const RUNTIME: u8 = 8;
    /// stdout was closed by its reader (128 + SIGPIPE, as other tools report it).
    pub const BROKEN_PIPE: u8 = 141;

    /// Every code with what it means, as `--help` shows them.
    pub const TABLE: &[(u8, &str)] = &[
        (OK, "ok"),
        (
            PARTIAL,
            "some items failed (import rows, deletes, servicer items, unknown customers)",
        ),
        (USAGE, "usage error, or a refused confirmation"),
        (VALIDATION, "invalid input, caught before anything was sent"),
        (API, "the service answered with an errcode"),
        (NETWORK, "network, timeout, HTTP or undecodable answer"),
        (CONFIG, "missing or unreadable configuration or credentials"),
        (
            OUTCOME_UNKNOWN,
            "an add may or may not have happened: check with `account list`",
        ),
        (
            RUNTIME,
            "serve started, then failed while running (its store, its consumer)",
        ),
        (
            BROKEN_PIPE,
            "stdout was closed by its reader (e.g. `| head`); nothing is reported",
        ),
    ];

    /// The text after `--help`: the exit codes and where credentials come from.
    pub fn help() -> String {
        use std::fmt::Write as _;
        let mut text = String::from("Exit codes:\n");
        for (code, meaning) in TABLE {
            let _ = writeln!(text, "  {code:<3}  {meaning}");
        }
        text.push_str(
            "\nCredentials: WECOM_CORP_ID and WECOM_KF_SECRET, or a profile in\n\
             ~/.config/wecom-kf/config.toml (WECOM_KF_CONFIG overrides the path):\n  \
             [default]\n  corp_id = \"ww1234567890abcdef\"\n  secret = \"...\"\n\
             The secret is never accepted as a flag.",
        );
        text
    }
}

/// Everything a command can fail with.
#[derive(Debug)]
pub enum CliError {
    /// Bad usage.
    Usage(String),
    /// Bad input from a file or argument, caught locally.
    Input(String),
    /// Configuration or credentials.
    Config(String),
    /// A long-running command failed after it started (not its configuration).
    Runtime(String),
    /// A library call failed.
    Client(Error),
    /// A library call failed and was already reported on stderr (with a diagnosis):
    /// only its exit code is left to give.
    Reported(Box<Error>),
    /// Whoever read stdout went away (`| head`): stop quietly, as SIGPIPE would.
    BrokenPipe,
    /// Some items failed; each was already reported.
    Partial {
        /// How many.
        failed: usize,
    },
}

impl From<Error> for CliError {
    fn from(err: Error) -> Self {
        CliError::Client(err)
    }
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => exit::USAGE,
            CliError::Input(_) => exit::VALIDATION,
            CliError::Config(_) => exit::CONFIG,
            CliError::Runtime(_) => exit::RUNTIME,
            CliError::Partial { .. } => exit::PARTIAL,
            CliError::BrokenPipe => exit::BROKEN_PIPE,
            CliError::Client(err) => client_exit_code(err),
            CliError::Reported(err) => client_exit_code(err),
        }
    }

    /// What to print on stderr.
    pub fn render(&self) -> String {
        match self {
            CliError::Usage(msg)
            | CliError::Input(msg)
            | CliError::Config(msg)
            | CliError::Runtime(msg) => {
                format!("error: {msg}")
            }
            CliError::Partial { failed } => format!("error: {failed} item(s) failed; see above"),
            CliError::BrokenPipe | CliError::Reported(_) => String::new(),
            CliError::Client(err) => render_client_error(err),
        }
    }
}

fn client_exit_code(err: &Error) -> u8 {
    match err {
        Error::Validation(_) | Error::ForbiddenMove { .. } | Error::Io { .. } => exit::VALIDATION,
        Error::Api { .. } => exit::API,
        Error::Token(inner) => client_exit_code(inner),
        Error::Refused { source, .. } => client_exit_code(source),
        Error::OutcomeUnknown { .. } => exit::OUTCOME_UNKNOWN,
        Error::Config(_) => exit::CONFIG,
        // The transport and what came back over it: Http, Transport, Timeout, Decode,
        // ResponseTooLarge, NotTheFile, NoProgress, and Request and Unreachable too (a
        // request the HTTP stack would not build, a token cache that cannot be reached):
        // nothing the user typed is wrong, so a retry may do. The test below pins each.
        _ => exit::NETWORK,
    }
}

/// An error as the CLI prints it: one headline, the causes not already said, then for
/// an API error its meaning in Chinese and English, a hint and the look-up URL, each
/// once.
pub fn render_client_error(err: &Error) -> String {
    if let Error::Refused { source, diagnosis } = err {
        return format!("{}\n\ndiagnosis: {diagnosis}", render_client_error(source));
    }
    let mut out = format!("error: {}", headline(err));
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let inner = cause.downcast_ref::<Error>().or_else(|| {
            cause
                .downcast_ref::<std::sync::Arc<Error>>()
                .map(AsRef::as_ref)
        });
        let text = inner.map_or_else(|| cause.to_string(), headline);
        // A validation error wraps its `Invalid`, whose text is the headline already.
        if !out.contains(&text) {
            let _ = write!(out, "\n  caused by: {text}");
        }
        source = cause.source();
    }
    if let Some(code) = err.api_code() {
        if let Some(zh) = code.description_zh() {
            let _ = write!(out, "\n  含义: {zh}");
        }
        if let Some(en) = code.description_en() {
            let _ = write!(out, "\n  meaning: {en}");
        }
        if let Some(hint) = code.hint() {
            let _ = write!(out, "\n  hint: {hint}");
        }
        let _ = write!(out, "\n  see: {}", code.lookup_url());
    }
    out
}

/// An error's own line. An API error's meaning and hint are left to the lines after it,
/// so they are printed once; other errors say what they say.
fn headline(err: &Error) -> String {
    match err {
        Error::Api {
            code,
            message,
            endpoint,
            attempts,
            ..
        } => {
            let after = if *attempts > 1 {
                format!(" (after {attempts} attempts)")
            } else {
                String::new()
            };
            format!("{endpoint}: errcode {}: {message}{after}", code.get())
        }
        Error::Token(inner) => format!("could not get an access_token: {}", headline(inner)),
        Error::OutcomeUnknown {
            endpoint,
            hint,
            source,
            ..
        } => format!(
            "{endpoint}: outcome unknown, the request may have reached the server; {hint}: {}",
            headline(source)
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{CliError, exit};
    use wecom_kf::Error;

    fn code(err: Error) -> u8 {
        CliError::Client(err).exit_code()
    }

    #[test]
    fn every_transport_error_exits_with_the_network_code() {
        let endpoint = "/cgi-bin/kf/account/list";
        let transport = [
            Error::Http {
                status: 502,
                content_type: "text/html".into(),
                endpoint,
                attempts: 3,
            },
            Error::Transport {
                endpoint,
                attempts: 1,
                maybe_sent: false,
                source: "connection refused".into(),
            },
            Error::Timeout {
                endpoint,
                attempts: 2,
                after: Duration::from_secs(10),
            },
            Error::Decode {
                endpoint,
                attempts: 1,
                path: ".".into(),
                source: serde_json::from_str::<u8>("x").unwrap_err(),
            },
            Error::ResponseTooLarge {
                endpoint,
                attempts: 1,
                limit: 1 << 20,
            },
            Error::Request {
                endpoint,
                source: "a one-shot body was already read".into(),
            },
            Error::Unreachable {
                what: "Redis token cache",
                source: "connection refused".into(),
            },
            Error::NoProgress { endpoint },
        ];
        for err in transport {
            let text = err.to_string();
            assert_eq!(code(err), exit::NETWORK, "{text}");
        }
        // A token that could not be had because its cache was down is the same.
        let cache_down = Error::Token(Arc::new(Error::Unreachable {
            what: "Redis token cache",
            source: "connection refused".into(),
        }));
        assert_eq!(code(cache_down), exit::NETWORK);
        // And the others keep theirs: the mapping is not one code for everything.
        assert_eq!(code(Error::Config("no corp id".into())), exit::CONFIG);
    }
}
