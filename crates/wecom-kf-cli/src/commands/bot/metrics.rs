//! What the process counts, for /metrics.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use wecom_kf::callback::Receiver;
use wecom_kf::consumer::ConsumerMetrics;

/// What the process counts, for /metrics.
#[derive(Default)]
pub(super) struct Metrics {
    pub handled: AtomicU64,
    pub failures: AtomicU64,
    pub replies: AtomicU64,
    /// Seconds between a message's send_time and its handling, last seen.
    pub lag_secs: AtomicI64,
    /// Replies the service refused and sending again cannot help, by errcode (0: a
    /// local check).
    refused: Mutex<BTreeMap<i64, u64>>,
}

impl Metrics {
    pub fn refused(&self, errcode: i64) {
        *self
            .refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(errcode)
            .or_default() += 1;
    }
}

/// One metric's HELP and TYPE lines.
fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
}

/// The Prometheus text of `metrics`, the consumer's and the receiver's counters, and
/// the store's dead letters (`None`: the store could not be read, and the gauge is left
/// out).
pub(super) fn metrics_text(
    metrics: &Metrics,
    consumer: &Arc<ConsumerMetrics>,
    receiver: &Receiver,
    dead_letters: Option<u64>,
) -> String {
    let stats = receiver.stats();
    let mut out = format!(
        "# HELP wecom_kf_messages_handled_total Messages and events handed to the handler successfully.\n# TYPE wecom_kf_messages_handled_total counter\nwecom_kf_messages_handled_total {}\n\
         # HELP wecom_kf_replies_total Replies sent to customers.\n# TYPE wecom_kf_replies_total counter\nwecom_kf_replies_total {}\n\
         # HELP wecom_kf_handler_failures_total Handler attempts that failed.\n# TYPE wecom_kf_handler_failures_total counter\nwecom_kf_handler_failures_total {}\n\
         # HELP wecom_kf_sync_lag_seconds Seconds from the last handled message's send_time to its handling.\n# TYPE wecom_kf_sync_lag_seconds gauge\nwecom_kf_sync_lag_seconds {}\n\
         # HELP wecom_kf_callbacks_received_total Callbacks checked and queued.\n# TYPE wecom_kf_callbacks_received_total counter\nwecom_kf_callbacks_received_total {}\n\
         # HELP wecom_kf_callbacks_deduplicated_total Repeated deliveries not queued again.\n# TYPE wecom_kf_callbacks_deduplicated_total counter\nwecom_kf_callbacks_deduplicated_total {}\n\
         # HELP wecom_kf_callbacks_refused_total Callbacks refused (forged, stale, malformed).\n# TYPE wecom_kf_callbacks_refused_total counter\nwecom_kf_callbacks_refused_total {}\n\
         # HELP wecom_kf_callbacks_queue_full_total Callbacks answered 503 because the queue was full (WeCom retries them).\n# TYPE wecom_kf_callbacks_queue_full_total counter\nwecom_kf_callbacks_queue_full_total {}\n\
         # HELP wecom_kf_url_checks_total URL checks answered.\n# TYPE wecom_kf_url_checks_total counter\nwecom_kf_url_checks_total {}\n",
        metrics.handled.load(Ordering::Relaxed),
        metrics.replies.load(Ordering::Relaxed),
        metrics.failures.load(Ordering::Relaxed),
        metrics.lag_secs.load(Ordering::Relaxed),
        stats.received,
        stats.deduplicated,
        stats.refused,
        stats.queue_full,
        stats.url_checks,
    );
    if let Some(n) = dead_letters {
        head(
            &mut out,
            "wecom_kf_dead_letters",
            "gauge",
            "Messages that failed every attempt, kept in the store.",
        );
        let _ = writeln!(out, "wecom_kf_dead_letters {n}");
    }
    head(
        &mut out,
        "wecom_kf_replies_refused_total",
        "counter",
        "Replies refused for good, by errcode (95018 session state, 95001 sends used up, 95002 window closed; 0 a local check).",
    );
    for (code, n) in metrics
        .refused
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
    {
        let _ = writeln!(
            out,
            "wecom_kf_replies_refused_total{{errcode=\"{code}\"}} {n}"
        );
    }
    head(
        &mut out,
        "wecom_kf_handler_in_flight",
        "gauge",
        "Handler runs going on now.",
    );
    let _ = writeln!(out, "wecom_kf_handler_in_flight {}", consumer.in_flight());
    head(
        &mut out,
        "wecom_kf_messages_waiting",
        "gauge",
        "Messages read and not yet done, per account.",
    );
    for (open_kfid, n) in consumer.waiting() {
        let _ = writeln!(
            out,
            "wecom_kf_messages_waiting{{open_kfid=\"{open_kfid}\"}} {n}"
        );
    }
    head(
        &mut out,
        "wecom_kf_dead_letters_total",
        "counter",
        "Messages this process gave up to the dead letters since it started.",
    );
    let _ = writeln!(
        out,
        "wecom_kf_dead_letters_total {}",
        consumer.dead_letters()
    );
    records_text(&mut out, consumer);
    fleet_text(&mut out, consumer);
    head(
        &mut out,
        "wecom_kf_handler_seconds",
        "histogram",
        "Handler run latency.",
    );
    let latency = consumer.latency();
    for (le, n) in &latency.buckets {
        let _ = writeln!(out, "wecom_kf_handler_seconds_bucket{{le=\"{le}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "wecom_kf_handler_seconds_bucket{{le=\"+Inf\"}} {}\nwecom_kf_handler_seconds_sum {}\nwecom_kf_handler_seconds_count {}",
        latency.count, latency.sum_secs, latency.count
    );
    out
}

/// The handled msgids and the store writes that recorded them (their ratio is the
/// group commit's mean group).
fn records_text(out: &mut String, consumer: &ConsumerMetrics) {
    head(
        out,
        "wecom_kf_handled_recorded_total",
        "counter",
        "Msgids recorded as handled since start.",
    );
    let _ = writeln!(
        out,
        "wecom_kf_handled_recorded_total {}",
        consumer.handled_recorded()
    );
    head(
        out,
        "wecom_kf_handled_writes_total",
        "counter",
        "Store writes that recorded them: lanes that finish together share one.",
    );
    let _ = writeln!(
        out,
        "wecom_kf_handled_writes_total {}",
        consumer.handled_writes()
    );
}

/// The fleet as this process sees it: its leases, the accounts, the live members, its
/// fair share.
fn fleet_text(out: &mut String, consumer: &ConsumerMetrics) {
    head(
        out,
        "wecom_kf_leases_held",
        "gauge",
        "Accounts this process consumes now.",
    );
    let _ = writeln!(out, "wecom_kf_leases_held {}", consumer.leases_held());
    head(
        out,
        "wecom_kf_accounts",
        "gauge",
        "Accounts in the current set (as last listed, and any a callback named).",
    );
    let _ = writeln!(out, "wecom_kf_accounts {}", consumer.accounts());
    head(
        out,
        "wecom_kf_fleet_members",
        "gauge",
        "Live processes of the fleet at this one's last heartbeat, itself included.",
    );
    let _ = writeln!(out, "wecom_kf_fleet_members {}", consumer.fleet_members());
    head(
        out,
        "wecom_kf_fair_share",
        "gauge",
        "The most accounts this process keeps: the accounts over the live members, rounded up.",
    );
    let _ = writeln!(out, "wecom_kf_fair_share {}", consumer.fair_share());
}
