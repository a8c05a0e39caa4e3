//! Fault injection, driven through `/__emulator/faults`.
//!
//! A rule applies to one endpoint (or every `/cgi-bin/` endpoint), either to the next
//! `count` calls or to a `rate` of them (or to all of them while it stands).

use serde::{Deserialize, Serialize};

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer this errcode (`-1`, `45009`, …) without doing anything.
    Errcode {
        /// The errcode.
        errcode: i64,
    },
    /// Answer HTTP 502 with an HTML page, as a proxy in front of the service would.
    Http502,
    /// Wait this long, then handle the call normally.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// Close the connection without doing anything or answering.
    DropBeforeCommit,
    /// Do the work and commit it, then close the connection without answering.
    DropAfterCommit,
    /// Do the work, then answer 200 with the JSON cut in half.
    Truncate,
    /// Do the work, then answer 200 with an HTML page.
    NonJson,
    /// Do the work, then answer 200 with a valid but 8 MiB JSON body.
    Oversized,
    /// Answer normally (status, headers, `Content-Length`), but close the connection
    /// after this many bytes of the body: a download cut in the middle.
    CutBody {
        /// Bytes of the body sent before the cut.
        after_bytes: u64,
    },
}

impl Fault {
    /// A short name for the stats.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Errcode { .. } => "errcode",
            Fault::Http502 => "http_502",
            Fault::Latency { .. } => "latency",
            Fault::DropBeforeCommit => "drop_before_commit",
            Fault::DropAfterCommit => "drop_after_commit",
            Fault::Truncate => "truncate",
            Fault::NonJson => "non_json",
            Fault::Oversized => "oversized",
            Fault::CutBody { .. } => "cut_body",
        }
    }
}

/// One standing rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// What goes wrong.
    #[serde(flatten)]
    pub fault: Fault,
    /// Only for this path (e.g. `/cgi-bin/kf/account/add`); every `/cgi-bin/` path if absent.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Only for the next `count` matching calls.
    #[serde(default)]
    pub count: Option<u32>,
    /// Only for this fraction (0.0–1.0) of matching calls.
    #[serde(default)]
    pub rate: Option<f64>,
}

/// The standing rules.
#[derive(Default, Debug)]
pub struct Faults {
    rules: Vec<FaultRule>,
}

impl Faults {
    /// Add a rule.
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    /// Remove every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The standing rules.
    pub fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    /// The fault for a call to `path`, if one applies; counts it down.
    pub fn pick(&mut self, path: &str) -> Option<Fault> {
        if self.rules.is_empty() {
            return None;
        }
        let index = self.rules.iter().position(|rule| {
            rule.endpoint.as_deref().is_none_or(|e| e == path)
                && rule.count.is_none_or(|n| n > 0)
                && rule.rate.is_none_or(|rate| rand::random::<f64>() < rate)
        })?;
        let rule = &mut self.rules[index];
        let fault = rule.fault.clone();
        if let Some(n) = &mut rule.count {
            *n -= 1;
            if *n == 0 {
                self.rules.remove(index);
            }
        }
        Some(fault)
    }
}
