//! What the process counts, for /metrics.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use wecom_kf::callback::Receiver;

/// What the process counts, for /metrics.
#[derive(Default)]
pub(crate) struct Metrics {
    pub handled: AtomicU64,
    pub failures: AtomicU64,
    pub replies: AtomicU64,
    /// Seconds between a message's send_time and its handling, last seen.
    pub lag_secs: AtomicI64,
}

/// The Prometheus text of `metrics`, the receiver's counters and the store's dead
/// letters (`None`: the store could not be read, and the gauge is left out).
pub(super) fn metrics_text(
    metrics: &Metrics,
    receiver: &Receiver,
    dead_letters: Option<u64>,
) -> String {
    let stats = receiver.stats();
    let dead = dead_letters.map_or_else(String::new, |n| {
        format!("# HELP wecom_kf_dead_letters Messages that failed every attempt, kept in the store.\n# TYPE wecom_kf_dead_letters gauge\nwecom_kf_dead_letters {n}\n")
    });
    format!(
        "# HELP wecom_kf_messages_handled_total Messages and events handed to the handler successfully.\n# TYPE wecom_kf_messages_handled_total counter\nwecom_kf_messages_handled_total {}\n\
         # HELP wecom_kf_replies_total Replies sent to customers.\n# TYPE wecom_kf_replies_total counter\nwecom_kf_replies_total {}\n\
         # HELP wecom_kf_handler_failures_total Handler attempts that failed.\n# TYPE wecom_kf_handler_failures_total counter\nwecom_kf_handler_failures_total {}\n\
         # HELP wecom_kf_sync_lag_seconds Seconds from the last handled message's send_time to its handling.\n# TYPE wecom_kf_sync_lag_seconds gauge\nwecom_kf_sync_lag_seconds {}\n\
         # HELP wecom_kf_callbacks_received_total Callbacks checked and queued.\n# TYPE wecom_kf_callbacks_received_total counter\nwecom_kf_callbacks_received_total {}\n\
         # HELP wecom_kf_callbacks_deduplicated_total Repeated deliveries not queued again.\n# TYPE wecom_kf_callbacks_deduplicated_total counter\nwecom_kf_callbacks_deduplicated_total {}\n\
         # HELP wecom_kf_callbacks_refused_total Callbacks refused (forged, stale, malformed).\n# TYPE wecom_kf_callbacks_refused_total counter\nwecom_kf_callbacks_refused_total {}\n\
         # HELP wecom_kf_callbacks_queue_full_total Callbacks answered 503 because the queue was full (WeCom retries them).\n# TYPE wecom_kf_callbacks_queue_full_total counter\nwecom_kf_callbacks_queue_full_total {}\n\
         # HELP wecom_kf_url_checks_total URL checks answered.\n# TYPE wecom_kf_url_checks_total counter\nwecom_kf_url_checks_total {}\n{dead}",
        metrics.handled.load(Ordering::Relaxed),
        metrics.replies.load(Ordering::Relaxed),
        metrics.failures.load(Ordering::Relaxed),
        metrics.lag_secs.load(Ordering::Relaxed),
        stats.received,
        stats.deduplicated,
        stats.refused,
        stats.queue_full,
        stats.url_checks,
    )
}
