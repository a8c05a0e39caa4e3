//! What the consumer counts: handler runs in flight, messages waiting per account,
//! handler latency, dead letters, handled msgids and the writes that recorded them,
//! leases held, and the fleet as this process sees it
//! (accounts followed, live members, fair share). Read it with [`Consumer::metrics`](super::Consumer::metrics).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The upper bounds (seconds) of the handler latency histogram's buckets.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The consumer's counters, shared with whoever shows them (`serve`'s /metrics).
#[derive(Debug, Default)]
pub struct ConsumerMetrics {
    in_flight: AtomicU64,
    /// Messages handed to the dead letters.
    pub(super) dead_letters: AtomicU64,
    /// Accounts whose lease this process holds.
    pub(super) leases_held: AtomicU64,
    accounts: AtomicU64,
    fleet_members: AtomicU64,
    fair_share: AtomicU64,
    waiting: Mutex<BTreeMap<String, u64>>,
    /// Per bucket of [`LATENCY_BUCKETS`], then the overflow.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    latency_sum_micros: AtomicU64,
    runs: AtomicU64,
    handled_writes: AtomicU64,
    handled_recorded: AtomicU64,
}

/// A histogram of handler run latencies, as Prometheus shows one.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Latency {
    /// `(le, cumulative count)` for each of [`LATENCY_BUCKETS`].
    pub buckets: Vec<(f64, u64)>,
    /// Every run.
    pub count: u64,
    /// Their total, seconds.
    pub sum_secs: f64,
}

impl ConsumerMetrics {
    /// Handler runs going on now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Messages given up to the dead letters since start.
    pub fn dead_letters(&self) -> u64 {
        self.dead_letters.load(Ordering::Relaxed)
    }

    /// Accounts whose lease this process holds now.
    pub fn leases_held(&self) -> u64 {
        self.leases_held.load(Ordering::Relaxed)
    }

    /// Accounts in the current set (each has a worker, held or not).
    pub fn accounts(&self) -> u64 {
        self.accounts.load(Ordering::Relaxed)
    }

    /// Live members of the fleet at the last heartbeat, this process included (1 on a
    /// store that serves one process).
    pub fn fleet_members(&self) -> u64 {
        self.fleet_members.load(Ordering::Relaxed)
    }

    /// The most accounts this process keeps: [`fair_share`](super::fair_share) of
    /// [`accounts`](Self::accounts) over [`fleet_members`](Self::fleet_members).
    pub fn fair_share(&self) -> u64 {
        self.fair_share.load(Ordering::Relaxed)
    }

    /// Messages read and not yet done, per account (running ones included).
    pub fn waiting(&self) -> BTreeMap<String, u64> {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Store writes that recorded handled msgids: the lanes that finish together share
    /// one (a group commit), so this grows slower than
    /// [`handled_recorded`](Self::handled_recorded).
    pub fn handled_writes(&self) -> u64 {
        self.handled_writes.load(Ordering::Relaxed)
    }

    /// Msgids those writes recorded as handled (dead letters not included).
    pub fn handled_recorded(&self) -> u64 {
        self.handled_recorded.load(Ordering::Relaxed)
    }

    /// The handler latency histogram.
    pub fn latency(&self) -> Latency {
        let mut total = 0;
        let buckets = LATENCY_BUCKETS
            .iter()
            .zip(&self.buckets)
            .map(|(le, n)| {
                total += n.load(Ordering::Relaxed);
                (*le, total)
            })
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let sum_secs = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        Latency {
            buckets,
            count: self.runs.load(Ordering::Relaxed),
            sum_secs,
        }
    }

    pub(super) fn set_fleet(&self, accounts: usize, members: usize, share: usize) {
        self.accounts.store(accounts as u64, Ordering::Relaxed);
        self.fleet_members.store(members as u64, Ordering::Relaxed);
        self.fair_share.store(share as u64, Ordering::Relaxed);
    }

    pub(super) fn run_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn run_finished(&self, took: Duration) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        let at = LATENCY_BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[at].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.runs.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn recorded(&self, msgids: usize) {
        self.handled_writes.fetch_add(1, Ordering::Relaxed);
        self.handled_recorded
            .fetch_add(msgids as u64, Ordering::Relaxed);
    }

    pub(super) fn waiting_add(&self, open_kfid: &str, n: usize) {
        if n == 0 {
            return;
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = waiting.get_mut(open_kfid) {
            *count += n as u64;
        } else {
            waiting.insert(open_kfid.to_owned(), n as u64);
        }
    }

    pub(super) fn waiting_sub(&self, open_kfid: &str, n: usize) {
        if n == 0 {
            return;
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = waiting.get_mut(open_kfid) {
            *count = count.saturating_sub(n as u64);
        }
    }
}
