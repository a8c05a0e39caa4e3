//! What the process counts, for /metrics.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use wecom_kf::callback::Receiver;

/// What the process counts, for /metrics.
#[derive(Default)]
pub(super) struct Metrics {
    pub handled: AtomicU64,
    pub failures: AtomicU64,
    pub replies: AtomicU64,
    /// Seconds between a message's send_time and its handling, last seen.
    pub lag_secs: AtomicI64,
}

/// The Prometheus text of `metrics` and the receiver's counters.
pub(super) fn metrics_text(metrics: &Metrics, receiver: &Receiver) -> String {
    let stats = receiver.stats();
    format!(
        "# HELP wecom_kf_messages_handled_total Messages and events handed to the handler successfully.\n# TYPE wecom_kf_messages_handled_total counter\nwecom_kf_messages_handled_total {}\n\
         # HELP wecom_kf_replies_total Replies sent to customers.\n# TYPE wecom_kf_replies_total counter\nwecom_kf_replies_total {}\n\
         # HELP wecom_kf_handler_failures_total Handler attempts that failed.\n# TYPE wecom_kf_handler_failures_total counter\nwecom_kf_handler_failures_total {}\n\
         # HELP wecom_kf_sync_lag_seconds Seconds from the last handled message's send_time to its handling.\n# TYPE wecom_kf_sync_lag_seconds gauge\nwecom_kf_sync_lag_seconds {}\n\
         # HELP wecom_kf_callbacks_received_total Callbacks checked and queued.\n# TYPE wecom_kf_callbacks_received_total counter\nwecom_kf_callbacks_received_total {}\n\
         # HELP wecom_kf_callbacks_deduplicated_total Repeated deliveries not queued again.\n# TYPE wecom_kf_callbacks_deduplicated_total counter\nwecom_kf_callbacks_deduplicated_total {}\n\
         # HELP wecom_kf_callbacks_refused_total Callbacks refused (forged, stale, malformed).\n# TYPE wecom_kf_callbacks_refused_total counter\nwecom_kf_callbacks_refused_total {}\n",
        metrics.handled.load(Ordering::Relaxed),
        metrics.replies.load(Ordering::Relaxed),
        metrics.failures.load(Ordering::Relaxed),
        metrics.lag_secs.load(Ordering::Relaxed),
        stats.received,
        stats.deduplicated,
        stats.refused,
    )
}
