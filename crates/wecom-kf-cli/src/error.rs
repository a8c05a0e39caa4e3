//! CLI errors and their exit codes.

use std::fmt::Write as _;

use wecom_kf::Error;

/// Exit codes, documented in `--help` and the README.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Some rows of an import, or some accounts of a delete, failed.
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
    /// A create may or may not have happened: check with `account list`.
    pub const OUTCOME_UNKNOWN: u8 = 7;
    /// stdout was closed by its reader (128 + SIGPIPE, as other tools report it).
    pub const BROKEN_PIPE: u8 = 141;
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
    /// A library call failed.
    Client(Error),
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
            CliError::Partial { .. } => exit::PARTIAL,
            CliError::BrokenPipe => exit::BROKEN_PIPE,
            CliError::Client(err) => client_exit_code(err),
        }
    }

    /// What to print on stderr.
    pub fn render(&self) -> String {
        match self {
            CliError::Usage(msg) | CliError::Input(msg) | CliError::Config(msg) => {
                format!("error: {msg}")
            }
            CliError::Partial { failed } => format!("error: {failed} item(s) failed; see above"),
            CliError::BrokenPipe => String::new(),
            CliError::Client(err) => render_client_error(err),
        }
    }
}

fn client_exit_code(err: &Error) -> u8 {
    match err {
        Error::Validation(_) | Error::Io { .. } => exit::VALIDATION,
        Error::Api { .. } => exit::API,
        Error::Token(inner) => client_exit_code(inner),
        Error::OutcomeUnknown { .. } => exit::OUTCOME_UNKNOWN,
        Error::Config(_) => exit::CONFIG,
        _ => exit::NETWORK,
    }
}

/// An API error with its meaning in Chinese and English, a hint and the look-up URL.
pub fn render_client_error(err: &Error) -> String {
    let mut out = format!("error: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let _ = write!(out, "\n  caused by: {cause}");
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
    if err.is_outcome_unknown() {
        out.push_str("\n  hint: run `wecom-kf account list` to see whether it was created before trying again");
    }
    out
}
