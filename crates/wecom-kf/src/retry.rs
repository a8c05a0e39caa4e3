//! The retry policy: a small visible value.

use std::time::Duration;

use rand::Rng;
use wecom_kf_types::{ErrCode, RetryClass};

use crate::Error;

/// How transient failures are retried.
///
/// Reads and idempotent calls (`list`, `update`, `delete`, `gettoken`, `add_contact_way`,
/// uploads from memory) retry `-1`, HTTP 5xx, connect errors, timeouts and garbled
/// answers. A call that is not idempotent (`kf/account/add`) is retried only when it
/// certainly never reached the server (the connection was refused); otherwise the error
/// is [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown). Token errors
/// (40001/40014/42001) are not counted here: they refresh once and retry once.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles each time (full jitter).
    pub initial_backoff: Duration,
    /// Cap on one backoff.
    pub max_backoff: Duration,
    /// Also retry 45009/45033 (throttled). Off by default: the block lasts as long as
    /// its window (a minute or an hour), far longer than a backoff.
    pub retry_throttled: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            retry_throttled: false,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// `attempts` attempts in all, with the default backoff.
    pub fn attempts(attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: attempts.max(1),
            ..Self::default()
        }
    }

    /// Set the backoff range.
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// How long to wait after failed attempt number `attempt` (1-based): a random
    /// duration up to `initial × 2^(attempt-1)`, capped at `max_backoff`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .initial_backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }

    /// After failed attempt number `attempt` (1-based): how long to wait before the
    /// next one, or `None` to give up. The one decision of every retry loop (calls and
    /// gettoken), so the two cannot drift apart.
    pub(crate) fn next_attempt(
        &self,
        err: &Error,
        idempotent: bool,
        attempt: u32,
    ) -> Option<Duration> {
        (attempt < self.max_attempts && self.retryable(err, idempotent))
            .then(|| self.backoff(attempt))
    }

    /// Whether `err` may be retried at all. Token errors are not: the call loop
    /// refreshes once instead, and gettoken's 40001 (a wrong secret) must never repeat,
    /// as repeated bad secrets get the IP blocked.
    pub(crate) fn retryable(&self, err: &Error, idempotent: bool) -> bool {
        match (err, err.api_code().map(ErrCode::retry_class)) {
            (_, Some(RetryClass::Transient)) => idempotent,
            (_, Some(RetryClass::Throttled)) => idempotent && self.retry_throttled,
            (_, Some(_)) => false,
            // Never connected: nothing reached the server, any call may retry.
            (
                Error::Transport {
                    maybe_sent: false, ..
                },
                None,
            ) => true,
            (e, None) => idempotent && e.is_transient(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: i64) -> Error {
        Error::Api {
            code: ErrCode(code),
            message: String::new(),
            endpoint: "/x",
            attempts: 1,
        }
    }

    #[test]
    fn one_decision_for_every_loop() {
        let p = RetryPolicy::default();
        let throttled = RetryPolicy {
            retry_throttled: true,
            ..RetryPolicy::default()
        };
        let refused = Error::Transport {
            endpoint: "/x",
            attempts: 1,
            maybe_sent: false,
            source: "refused".into(),
        };
        let dropped = Error::Transport {
            endpoint: "/x",
            attempts: 1,
            maybe_sent: true,
            source: "reset".into(),
        };
        let cases = [
            (&p, api(-1), true, true),
            (&p, api(-1), false, false),
            (&p, api(45009), true, false),
            (&throttled, api(45009), true, true),
            (&throttled, api(45009), false, false),
            (&p, api(40001), true, false),
            (&p, api(40014), true, false),
            (&p, api(95004), true, false),
            (&p, refused, false, true),
            (&p, dropped, true, true),
        ];
        for (policy, err, idempotent, want) in &cases {
            assert_eq!(
                policy.retryable(err, *idempotent),
                *want,
                "{err} idempotent={idempotent}"
            );
        }
        let dropped = &cases[9].1;
        assert!(
            !p.retryable(dropped, false),
            "a request that may have arrived is not resent"
        );
        assert!(p.next_attempt(&api(-1), true, 2).is_some());
        assert!(
            p.next_attempt(&api(-1), true, 3).is_none(),
            "max_attempts is the bound"
        );
    }

    #[test]
    fn backoff_is_bounded_and_grows() {
        let p = RetryPolicy::default();
        for attempt in 1..40 {
            assert!(p.backoff(attempt) <= p.max_backoff);
        }
        assert!(p.backoff(1) <= Duration::from_millis(100));
        assert_eq!(RetryPolicy::never().max_attempts, 1);
    }
}
