//! One account's tenure of its lease: the syncer deals each message to its customer's
//! lane, the lanes run side by side, and the cursor follows the watermark of what is
//! done.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use wecom_kf_types::kf::message::Message;
use wecom_kf_types::kf::sync_msg::SyncMsg;

use super::metrics::ConsumerMetrics;
use super::{BatchHandler, ConsumerConfig, DeadLetter, Lease, Store, StoreError};
use crate::Client;

/// The lane of events that name no customer (e.g. `servicer_status_change`).
const ACCOUNT_LANE: &str = "";

/// A message waiting in a lane: its page, for the watermark, and its slot of the
/// account's waiting bound, given back when it is done. The message is boxed: a
/// `Message` is 288 bytes, and a lane's queue grows by doubling, so its spare room
/// holds pointers rather than messages.
struct Item {
    message: Box<Message>,
    page: u64,
    _slot: OwnedSemaphorePermit,
}

/// Pages read but not yet committed: a page's cursor is committed once it and every
/// earlier page have nothing left.
#[derive(Default)]
struct Watermark {
    /// The index of `pages[0]`.
    first: u64,
    /// Each page's `next_cursor` and how many of its messages are not done yet.
    pages: VecDeque<(String, usize)>,
}

/// Handled marks waiting for the next group write: the lanes that finish together
/// share one store write (one transaction per message was the consumer's cost).
#[derive(Default)]
struct Marks {
    /// The msgid and page of each message handled but not yet recorded.
    queue: Vec<(String, u64)>,
    /// How many marks were ever queued: a lane's ticket is this count after its own.
    queued: u64,
}

/// How a run of the handler over a lane's batch ended.
enum Outcome {
    /// The handler took them: record them as handled.
    Handled,
    /// They failed every attempt and are in the dead letters (which records them).
    DeadLettered,
    /// Stopped during a backoff: nothing recorded, read again next time.
    Stopped,
}

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub(super) enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Api(#[from] crate::Error),
}

/// What the syncer and the lanes of one tenure share.
struct Shared<S, H> {
    store: Arc<S>,
    handler: Arc<H>,
    config: ConsumerConfig,
    lease: Lease,
    metrics: Arc<ConsumerMetrics>,
    /// The process's handler runs (`max_in_flight`).
    in_flight: Arc<Semaphore>,
    /// Each customer's waiting messages; a lane exists while its entry does.
    lanes: Mutex<HashMap<String, VecDeque<Item>>>,
    watermark: tokio::sync::Mutex<Watermark>,
    marks: Mutex<Marks>,
    /// Every ticket up to this one is recorded. Held while a group write is out:
    /// lanes wait on it for theirs.
    recorded: tokio::sync::Mutex<u64>,
    renewed: tokio::sync::Mutex<Instant>,
    /// A lane's store failed (or the lease was lost): the tenure ends.
    failure: Mutex<Option<StoreError>>,
    failed: AtomicBool,
    wake: Notify,
    shutdown: watch::Receiver<bool>,
}

/// One account's consumption while this process holds its lease.
pub(super) struct Tenure<S, H> {
    shared: Arc<Shared<S, H>>,
    /// The account's waiting bound.
    waiting: Arc<Semaphore>,
    lanes: tokio::task::JoinSet<()>,
    /// Where the syncer reads next (ahead of the committed cursor).
    read_cursor: Option<String>,
    next_page: u64,
}

impl<S: Store, H: BatchHandler> Tenure<S, H> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        store: Arc<S>,
        handler: Arc<H>,
        config: ConsumerConfig,
        lease: Lease,
        cursor: Option<String>,
        in_flight: Arc<Semaphore>,
        metrics: Arc<ConsumerMetrics>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let bound = config.waiting_bound();
        metrics.leases_held.fetch_add(1, Ordering::Relaxed);
        Tenure {
            shared: Arc::new(Shared {
                store,
                handler,
                config,
                lease,
                metrics,
                in_flight,
                lanes: Mutex::new(HashMap::new()),
                watermark: tokio::sync::Mutex::new(Watermark::default()),
                marks: Mutex::new(Marks::default()),
                recorded: tokio::sync::Mutex::new(0),
                renewed: tokio::sync::Mutex::new(Instant::now()),
                failure: Mutex::new(None),
                failed: AtomicBool::new(false),
                wake: Notify::new(),
                shutdown,
            }),
            waiting: Arc::new(Semaphore::new(bound)),
            lanes: tokio::task::JoinSet::new(),
            read_cursor: cursor,
            next_page: 0,
        }
    }

    pub(super) fn lease(&self) -> &Lease {
        &self.shared.lease
    }

    /// Resolves when a lane failed and the tenure must end.
    pub(super) async fn failed(&self) {
        loop {
            let notified = self.shared.wake.notified();
            if self.shared.failed.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// The failure a lane met, if any.
    pub(super) fn failure(&self) -> Option<StoreError> {
        self.shared.failed.load(Ordering::Acquire).then(|| {
            self.shared
                .failure
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .unwrap_or_else(|| StoreError::Fenced {
                    open_kfid: self.shared.lease.open_kfid.clone(),
                    fence: self.shared.lease.fence,
                })
        })
    }

    /// Read from the read cursor to the end, dealing each message not yet handled to
    /// its lane. Stops reading while the account's waiting bound is full.
    pub(super) async fn sync(
        &mut self,
        client: &Client,
        token: Option<String>,
    ) -> Result<(), SyncError> {
        let shared = self.shared.clone();
        let open_kfid = shared.lease.open_kfid.clone();
        loop {
            while self.lanes.try_join_next().is_some() {}
            if shared.stopping() {
                return Ok(());
            }
            // Backpressure: wait for a free slot, renewing the lease meanwhile.
            let Some(first) = self.free_slot().await? else {
                return Ok(());
            };
            let free = 1 + self.waiting.available_permits();
            let limit = u32::try_from(free.min(shared.config.page_limit as usize))
                .unwrap_or(shared.config.page_limit)
                .max(1);
            let mut request = SyncMsg::new(&open_kfid).limit(limit);
            request.cursor.clone_from(&self.read_cursor);
            request.token.clone_from(&token);
            let sent = request.cursor.clone();
            let mut page = client.message().sync_page(request).await?;
            if page.more()
                && page.msg_list.is_empty()
                && sent.as_deref() == Some(page.next_cursor.as_str())
            {
                return Err(SyncError::Api(crate::Error::NoProgress {
                    endpoint: <SyncMsg as wecom_kf_types::Endpoint>::PATH,
                }));
            }
            // Filtered in place: a second vector of the page's messages would hold
            // the page twice at the moment memory peaks.
            let mut handled = Vec::with_capacity(page.msg_list.len());
            for message in &page.msg_list {
                handled.push(shared.store.is_handled(&open_kfid, &message.msgid).await?);
            }
            let mut handled = handled.into_iter();
            page.msg_list.retain(|_| !handled.next().unwrap_or(false));
            let fresh = std::mem::take(&mut page.msg_list);
            let index = self.next_page;
            self.next_page += 1;
            shared
                .watermark
                .lock()
                .await
                .pages
                .push_back((page.next_cursor.clone(), fresh.len()));
            let mut first = Some(first);
            let nothing = fresh.is_empty();
            for message in fresh {
                let slot = match first.take() {
                    Some(slot) => slot,
                    // Only the syncer takes slots and `limit` of them were free: this
                    // never waits. The semaphore is never closed.
                    None => match self.waiting.clone().acquire_owned().await {
                        Ok(slot) => slot,
                        Err(_) => return Ok(()),
                    },
                };
                self.deal(Item {
                    message: Box::new(message),
                    page: index,
                    _slot: slot,
                });
            }
            if nothing {
                shared.advance(&[]).await?;
            }
            let more = page.more();
            self.read_cursor = Some(page.next_cursor);
            shared.keep().await?;
            if !more {
                return Ok(());
            }
        }
    }

    /// One free slot of the waiting bound, or `None` when stopping. Renews the lease
    /// while it waits: lanes that run long keep it.
    async fn free_slot(&self) -> Result<Option<OwnedSemaphorePermit>, StoreError> {
        let shared = &self.shared;
        let mut shutdown = shared.shutdown.clone();
        loop {
            tokio::select! {
                slot = self.waiting.clone().acquire_owned() => {
                    return Ok(slot.ok());
                }
                () = tokio::time::sleep(shared.config.lease_ttl / 3) => {}
                _ = shutdown.wait_for(|stop| *stop) => return Ok(None),
                () = self.failed() => return Ok(None),
            }
            shared.keep().await?;
        }
    }

    /// Put `item` in its customer's lane, starting the lane if it has none.
    fn deal(&mut self, item: Item) {
        let key = item
            .message
            .external_userid()
            .unwrap_or(ACCOUNT_LANE)
            .to_owned();
        self.shared
            .metrics
            .waiting_add(&self.shared.lease.open_kfid, 1);
        let mut lanes = self
            .shared
            .lanes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = lanes.get_mut(&key) {
            queue.push_back(item);
            return;
        }
        lanes.insert(key.clone(), VecDeque::from([item]));
        drop(lanes);
        self.lanes.spawn(self.shared.clone().lane(key));
    }

    /// End the tenure: lanes finish the run in hand (stopping, or after a failure)
    /// and drop what waits; nothing more is read.
    pub(super) async fn finish(mut self) {
        self.shared.failed.store(true, Ordering::Release);
        self.shared.wake.notify_waiters();
        while self.lanes.join_next().await.is_some() {}
        self.close();
    }

    fn close(&self) {
        let dropped: usize = self
            .shared
            .lanes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, q)| q.len())
            .sum();
        self.shared
            .metrics
            .waiting_sub(&self.shared.lease.open_kfid, dropped);
        self.shared
            .metrics
            .leases_held
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl<S: Store, H: BatchHandler> Shared<S, H> {
    fn stopping(&self) -> bool {
        *self.shutdown.borrow() || self.failed.load(Ordering::Acquire)
    }

    fn fail(&self, err: StoreError) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        failure.get_or_insert(err);
        drop(failure);
        self.failed.store(true, Ordering::Release);
        self.wake.notify_waiters();
    }

    /// One customer's lane: its messages one after another (or, in batch mode, what
    /// waits together), until it is empty or the tenure stops.
    async fn lane(self: Arc<Self>, key: String) {
        loop {
            let batch: Vec<Item> = {
                let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
                let stop = self.stopping();
                match lanes.get_mut(&key) {
                    Some(queue) if !queue.is_empty() && !stop => {
                        let n = queue.len().min(self.handler.max_batch().max(1));
                        queue.drain(..n).collect()
                    }
                    Some(_) => {
                        let left = lanes.remove(&key).map_or(0, |q| q.len());
                        drop(lanes);
                        self.metrics.waiting_sub(&self.lease.open_kfid, left);
                        return;
                    }
                    None => return,
                }
            };
            let n = batch.len();
            let result = self.deliver(&batch).await;
            self.metrics.waiting_sub(&self.lease.open_kfid, n);
            let result = match result {
                Ok(Outcome::Handled) => self.record(&batch).await,
                Ok(Outcome::DeadLettered) => {
                    let pages: Vec<u64> = batch.iter().map(|item| item.page).collect();
                    self.advance(&pages).await
                }
                Ok(Outcome::Stopped) => Ok(()),
                Err(err) => Err(err),
            };
            if let Err(err) = result {
                self.fail(err);
                return;
            }
        }
    }

    /// Record `batch` as handled, in one store write with whatever other lanes queued
    /// meanwhile (a group commit): the first lane to find no write out takes every mark
    /// queued and writes them; a lane whose mark went in another's write goes on.
    /// Then the watermark moves past them. A group write that fails ends the tenure
    /// before any lane waiting on it goes on: its marks are not known to be recorded,
    /// so their messages run again from the committed cursor.
    async fn record(&self, batch: &[Item]) -> Result<(), StoreError> {
        let ticket = {
            let mut marks = self.marks.lock().unwrap_or_else(PoisonError::into_inner);
            marks.queue.extend(
                batch
                    .iter()
                    .map(|item| (item.message.msgid.clone(), item.page)),
            );
            marks.queued += batch.len() as u64;
            marks.queued
        };
        // Bounded: the lock is held for one store write, which has its own time limit
        // (SQLite's busy timeout, Redis' operation timeout).
        let mut recorded = self.recorded.lock().await;
        if *recorded >= ticket {
            return Ok(());
        }
        // Lanes that are ready to record too join this write.
        tokio::task::yield_now().await;
        let (group, upto) = {
            let mut marks = self.marks.lock().unwrap_or_else(PoisonError::into_inner);
            (std::mem::take(&mut marks.queue), marks.queued)
        };
        // Empty: a failed write took this lane's mark, and the tenure is ending.
        if group.is_empty() {
            return Ok(());
        }
        let msgids: Vec<&str> = group.iter().map(|(msgid, _)| msgid.as_str()).collect();
        if let Err(err) = self.store.mark_all_handled(&self.lease, &msgids).await {
            // Before any lane waiting on this write goes on.
            self.fail(err);
            return Ok(());
        }
        *recorded = upto;
        drop(recorded);
        self.metrics.recorded(msgids.len());
        let pages: Vec<u64> = group.iter().map(|(_, page)| *page).collect();
        self.advance(&pages).await
    }

    /// The lease was taken over.
    fn fenced(&self) -> StoreError {
        StoreError::Fenced {
            open_kfid: self.lease.open_kfid.clone(),
            fence: self.lease.fence,
        }
    }

    /// A message of each page in `done` (one entry per message) is handled or
    /// dead-lettered: commit the cursor of every page up to the first one with
    /// something left.
    async fn advance(&self, done: &[u64]) -> Result<(), StoreError> {
        let mut mark = self.watermark.lock().await;
        for &index in done {
            let at = index
                .checked_sub(mark.first)
                .and_then(|at| usize::try_from(at).ok());
            if let Some(page) = at.and_then(|at| mark.pages.get_mut(at)) {
                page.1 = page.1.saturating_sub(1);
            }
        }
        let mut cursor = None;
        while mark.pages.front().is_some_and(|p| p.1 == 0) {
            cursor = mark.pages.pop_front().map(|p| p.0);
            mark.first += 1;
        }
        if let Some(cursor) = cursor {
            // Under the lock: commits go out in page order.
            self.store.commit_cursor(&self.lease, &cursor).await?;
        }
        Ok(())
    }

    /// Renew the lease once a third of it has passed, or fail if another holder has it.
    /// Called before every handler run and after every page, so a long backlog never
    /// outlives the lease. Only a single run longer than the lease can overlap with the
    /// next holder (see the module docs).
    async fn keep(&self) -> Result<(), StoreError> {
        let mut renewed = self.renewed.lock().await;
        if renewed.elapsed() < self.config.lease_ttl / 3 {
            return Ok(());
        }
        let started = Instant::now();
        match self
            .store
            .acquire(
                &self.lease.open_kfid,
                &self.lease.holder,
                self.config.lease_ttl,
            )
            .await?
        {
            Some(current) if current.fence == self.lease.fence => {
                *renewed = started;
                Ok(())
            }
            _ => Err(self.fenced()),
        }
    }

    /// The handler, retried with backoff; past `max_attempts`, every message to the
    /// dead letters.
    async fn deliver(&self, batch: &[Item]) -> Result<Outcome, StoreError> {
        let mut backoff = self.config.initial_backoff;
        let mut attempt = 0;
        let mut shutdown = self.shutdown.clone();
        let open_kfid = &self.lease.open_kfid;
        loop {
            attempt += 1;
            self.keep().await?;
            let messages: Vec<Message> = batch.iter().map(|i| Message::clone(&i.message)).collect();
            let result = {
                // A closed semaphore never happens: it lives as long as the consumer.
                let _run = self.in_flight.acquire().await.ok();
                self.metrics.run_started();
                let started = Instant::now();
                let result = self.handler.handle_batch(messages).await;
                self.metrics.run_finished(started.elapsed());
                result
            };
            match result {
                Ok(()) => return Ok(Outcome::Handled),
                Err(err) if attempt >= self.config.max_attempts => {
                    let at = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
                    for item in batch {
                        tracing::warn!(%open_kfid, msgid = %item.message.msgid, attempts = attempt, error = %err, "message to the dead letters");
                        let letter = DeadLetter {
                            open_kfid: open_kfid.clone(),
                            msgid: item.message.msgid.clone(),
                            message: serde_json::to_string(&item.message).unwrap_or_default(),
                            error: err.to_string(),
                            attempts: attempt,
                            at,
                        };
                        self.store.dead_letter(&self.lease, letter).await?;
                        self.metrics.dead_letters.fetch_add(1, Ordering::Relaxed);
                    }
                    return Ok(Outcome::DeadLettered);
                }
                Err(err) => {
                    tracing::info!(%open_kfid, msgid = %batch[0].message.msgid, attempt, error = %err, "handler failed; retrying");
                    // The backoff holds this lane only, and no run slot; shutdown cuts it.
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = shutdown.wait_for(|stop| *stop) => return Ok(Outcome::Stopped),
                    }
                    backoff = (backoff * 2).min(self.config.max_backoff);
                }
            }
        }
    }
}
