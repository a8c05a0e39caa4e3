//! The consumer (feature `consumer`): every message and event of each account handed
//! to your async handler, each customer's messages in order, customers side by side,
//! at least once and, but for one documented window, exactly once; on one machine or a
//! fleet.
//!
//! **Lanes.** For each account one syncer (the lease holder) reads pages from the
//! cursor, following `has_more`, when a callback's Token arrives ([`Trigger`]) and
//! every `poll_interval` as the fallback. It skips the msgids already handled and
//! deals each message to the lane of its customer (`external_userid`; events that
//! name no customer, such as `servicer_status_change`, go to one account lane).
//! Within a lane messages run strictly one after another, in the order `sync_msg`
//! gave them; lanes run side by side, up to `max_in_flight` handler runs at once per
//! process. A failing message is retried with backoff in its lane only (no other
//! customer waits for it) and after `max_attempts` it goes to the dead letters and the
//! lane moves on.
//!
//! **Backpressure.** The syncer stops reading while [`ConsumerConfig::waiting_bound`]
//! messages of the account are read and not yet done, and asks for no more than the
//! free room per page: memory stays flat however long the backlog is.
//!
//! **The cursor is a watermark.** A page's cursor is committed only when every message
//! of that page and of every earlier page is handled or dead-lettered. After a crash,
//! sync resumes from the last committed cursor and the handled msgids skip what was
//! done. Every write to the store carries the account's lease fence, so a process that
//! lost its lease cannot commit over the one that holds it.
//!
//! **The window.** A message is handed to the handler twice only if the process dies
//! after the handler succeeded and before the store recorded its msgid. The lanes
//! that finish together share one store write (a group commit): a lane's mark waits
//! for at most the write already out and then its own, a few hundred microseconds on
//! SQLite; the messages in that window at once are those that finished during one
//! write (at most the account's waiting bound). Make replies idempotent with a msgid
//! derived from the message ([`reply_msgid`]) and even that second run sends nothing
//! twice.
//!
//! **Batch mode.** People type in bursts. With [`Consumer::batched`] a lane with
//! several messages waiting hands them to the handler together (at most `max_batch`),
//! and records each msgid.
//!
//! **The lease.** In a fleet one process consumes an account at a time. The lease is
//! renewed before each handler run, after each page and while the syncer waits for
//! room, once a third of `lease_ttl` has passed. A process that dies keeps it until it
//! expires; then the next poll of another process takes the account over. Keep
//! `lease_ttl` longer than one handler run: a run that outlasts the lease can overlap
//! with the next holder's (its writes are refused by the fence, so the store stays
//! right).
//!
//! **The fleet.** With a shared store (Redis) the processes share the accounts fairly:
//! each announces itself with a heartbeat and keeps at most [`fair_share`] of the
//! accounts; one that dies has its accounts spread over the others once their leases
//! expire, one that joins gets its share handed over by the others. See
//! [the fleet's rules](fleet) for the heartbeat and the handover.
//!
//! **The set of accounts follows the corp.** [`Consumer::run_managed`] re-lists the
//! accounts the app manages every [`ConsumerConfig::relist_interval`] and on a
//! `kf_account_auth_change` callback ([`Trigger::relist`]): a new account starts being
//! consumed, a deleted one stops (its lanes finish the run in hand, its lease is given
//! up). A re-list that fails keeps the current set, and is tried again at the next
//! poll interval.

pub mod fleet;
mod lanes;
mod metrics;
#[cfg(feature = "redis")]
mod redis;
mod reply;
mod sqlite;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc, watch};
use wecom_kf_types::kf::message::Message;

pub use fleet::fair_share;
pub use metrics::{ConsumerMetrics, LATENCY_BUCKETS, Latency};
#[cfg(feature = "redis")]
pub use redis::RedisStore;
pub use reply::{CUT, ReplyReport, is_duplicate_msgid, plan, reply, split_text};
pub use sqlite::SqliteStore;

use crate::Client;

/// A failure of the store (SQLite or Redis), or a lost lease.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The account's lease is held by another holder now: this one must stop.
    #[error("the lease of {open_kfid} was taken over (fence {fence} is stale)")]
    Fenced {
        /// The account.
        open_kfid: String,
        /// The stale fence.
        fence: u64,
    },
    /// The backend failed.
    #[error("store: {backend}: {source}")]
    Backend {
        /// Which backend: `sqlite` or `redis`.
        backend: &'static str,
        /// Its error (never a URL or a password).
        #[source]
        source: crate::BoxError,
    },
}

/// The right to consume one account, until `expires_at`, with a fence that grows with
/// each new holder.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lease {
    /// The account.
    pub open_kfid: String,
    /// Who holds it.
    pub holder: String,
    /// Grows with every new holder; writes with an older one are refused.
    pub fence: u64,
}

/// A message that failed every attempt.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct DeadLetter {
    /// The account.
    pub open_kfid: String,
    /// The message's id.
    pub msgid: String,
    /// The message, as JSON.
    pub message: String,
    /// The last error.
    pub error: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it was given up (unix seconds).
    pub at: i64,
}

impl DeadLetter {
    /// A dead letter of `message` (as JSON) given up at `at` (unix seconds).
    pub fn new(
        open_kfid: impl Into<String>,
        msgid: impl Into<String>,
        message: impl Into<String>,
        error: impl Into<String>,
        attempts: u32,
        at: i64,
    ) -> Self {
        DeadLetter {
            open_kfid: open_kfid.into(),
            msgid: msgid.into(),
            message: message.into(),
            error: error.into(),
            attempts,
            at,
        }
    }
}

/// Where the consumer keeps its cursor, the msgids it handled, the dead letters and
/// the leases. Every write takes the lease, and is refused if its fence is stale.
pub trait Store: Send + Sync + 'static {
    /// Take the account's lease for `holder` (or renew it if `holder` has it) for `ttl`;
    /// `None` when another holder has an unexpired lease.
    fn acquire(
        &self,
        open_kfid: &str,
        holder: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<Option<Lease>, StoreError>> + Send;

    /// Give the lease up.
    fn release(&self, lease: &Lease) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The saved cursor of the account.
    fn cursor(
        &self,
        open_kfid: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Whether the message was handled already.
    fn is_handled(
        &self,
        open_kfid: &str,
        msgid: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Record a message as handled (kept 3 days, the sync window).
    fn mark_handled(
        &self,
        lease: &Lease,
        msgid: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Record several messages as handled in one write, where the store can: the lanes
    /// that finish together share it (one transaction per message was the consumer's
    /// cost on SQLite). All are recorded or, on an error, possibly some: a message not
    /// recorded is handled again after a crash, never lost. The default records them
    /// one by one.
    ///
    /// ```no_run
    /// # async fn f(store: wecom_kf::consumer::SqliteStore, lease: wecom_kf::consumer::Lease) -> Result<(), wecom_kf::consumer::StoreError> {
    /// use wecom_kf::consumer::Store;
    ///
    /// store.mark_all_handled(&lease, &["msgid-1", "msgid-2"]).await?;
    /// # Ok(()) }
    /// ```
    fn mark_all_handled(
        &self,
        lease: &Lease,
        msgids: &[&str],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            for msgid in msgids {
                self.mark_handled(lease, msgid).await?;
            }
            Ok(())
        }
    }

    /// Save the cursor after a page whose messages are all handled.
    fn commit_cursor(
        &self,
        lease: &Lease,
        cursor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Keep a message that failed every attempt, and count it as handled.
    fn dead_letter(
        &self,
        lease: &Lease,
        letter: DeadLetter,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The dead letters, oldest first.
    fn dead_letters(&self) -> impl Future<Output = Result<Vec<DeadLetter>, StoreError>> + Send;

    /// How many dead letters are kept (for `/metrics`).
    fn dead_letter_count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send {
        async { Ok(self.dead_letters().await?.len() as u64) }
    }

    /// Remove the dead letter of `msgid` (once it was handled again, or given up for
    /// good); whether there was one. The operator's act: it needs no lease.
    fn drop_dead_letter(
        &self,
        open_kfid: &str,
        msgid: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Announce `holder` as a live member of the fleet for `ttl`, and name every live
    /// member, `holder` among them. The default, for a store that serves one process
    /// (SQLite): `holder` alone.
    ///
    /// ```no_run
    /// # async fn f(store: wecom_kf::consumer::RedisStore) -> Result<(), wecom_kf::consumer::StoreError> {
    /// use std::time::Duration;
    /// use wecom_kf::consumer::{Store, fair_share};
    ///
    /// let members = store.heartbeat("host-a-4242", Duration::from_secs(30)).await?;
    /// println!("{} live, this one keeps at most {}", members.len(), fair_share(30, members.len()));
    /// # Ok(()) }
    /// ```
    fn heartbeat(
        &self,
        holder: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        let _ = ttl;
        let me = holder.to_owned();
        async move { Ok(vec![me]) }
    }

    /// Leave the fleet (on shutdown, once the leases are given up), so the others
    /// need not wait for the heartbeat to run out. The default does nothing.
    ///
    /// ```no_run
    /// # async fn f(store: wecom_kf::consumer::RedisStore) -> Result<(), wecom_kf::consumer::StoreError> {
    /// use wecom_kf::consumer::Store;
    ///
    /// store.leave("host-a-4242").await?;
    /// # Ok(()) }
    /// ```
    fn leave(&self, holder: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = holder;
        async { Ok(()) }
    }
}

/// Dead letters a store keeps at most by default: past it the oldest go, so a bot that
/// fails everything cannot fill the disk (or Redis' memory).
pub const MAX_DEAD_LETTERS: usize = 10_000;

/// A shared store is a store (serve reads its dead letters for `/metrics` while the
/// consumer writes).
impl<S: Store> Store for Arc<S> {
    fn acquire(
        &self,
        open_kfid: &str,
        holder: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<Option<Lease>, StoreError>> + Send {
        (**self).acquire(open_kfid, holder, ttl)
    }
    fn release(&self, lease: &Lease) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).release(lease)
    }
    fn cursor(
        &self,
        open_kfid: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        (**self).cursor(open_kfid)
    }
    fn is_handled(
        &self,
        open_kfid: &str,
        msgid: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).is_handled(open_kfid, msgid)
    }
    fn mark_handled(
        &self,
        lease: &Lease,
        msgid: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).mark_handled(lease, msgid)
    }
    fn mark_all_handled(
        &self,
        lease: &Lease,
        msgids: &[&str],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).mark_all_handled(lease, msgids)
    }
    fn commit_cursor(
        &self,
        lease: &Lease,
        cursor: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).commit_cursor(lease, cursor)
    }
    fn dead_letter(
        &self,
        lease: &Lease,
        letter: DeadLetter,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).dead_letter(lease, letter)
    }
    fn dead_letters(&self) -> impl Future<Output = Result<Vec<DeadLetter>, StoreError>> + Send {
        (**self).dead_letters()
    }
    fn dead_letter_count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send {
        (**self).dead_letter_count()
    }
    fn drop_dead_letter(
        &self,
        open_kfid: &str,
        msgid: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).drop_dead_letter(open_kfid, msgid)
    }
    fn heartbeat(
        &self,
        holder: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        (**self).heartbeat(holder, ttl)
    }
    fn leave(&self, holder: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).leave(holder)
    }
}

/// Why the handler failed a message: it will be tried again, up to `max_attempts`.
/// Its text (the cause's included) is what a dead letter keeps.
#[derive(Debug, thiserror::Error)]
#[error("{message}{}", source.as_ref().map(|s| format!(": {s}")).unwrap_or_default())]
pub struct HandlerError {
    message: String,
    #[source]
    source: Option<crate::BoxError>,
}

impl HandlerError {
    /// An error with this text.
    pub fn new(text: impl Into<String>) -> Self {
        HandlerError {
            message: text.into(),
            source: None,
        }
    }

    /// `what` failed because of `source`, kept typed (see [`std::error::Error::source`]).
    pub fn with_source(what: impl Into<String>, source: impl Into<crate::BoxError>) -> Self {
        HandlerError {
            message: what.into(),
            source: Some(source.into()),
        }
    }

    /// What failed, without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Your code: called once per message, in order per customer.
pub trait Handler: Send + Sync + 'static {
    /// Handle one message or event; an error retries it.
    fn handle(&self, message: Message) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

impl<F, Fut> Handler for F
where
    F: Fn(Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send,
{
    fn handle(&self, message: Message) -> impl Future<Output = Result<(), HandlerError>> + Send {
        self(message)
    }
}

/// How the consumer hands messages over: one at a time ([`Each`], from
/// [`Consumer::new`]) or a customer's waiting messages together ([`Batch`], from
/// [`Consumer::batched`]). An error retries them all; after `max_attempts` each goes
/// to the dead letters.
pub trait BatchHandler: Send + Sync + 'static {
    /// Handle the messages of one customer, oldest first (at least one).
    fn handle_batch(
        &self,
        messages: Vec<Message>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// How many messages one call takes at most.
    fn max_batch(&self) -> usize {
        1
    }
}

/// A [`Handler`] run one message at a time: what [`Consumer::new`] consumes with.
#[derive(Debug)]
pub struct Each<H>(pub H);

impl<H: Handler> BatchHandler for Each<H> {
    async fn handle_batch(&self, messages: Vec<Message>) -> Result<(), HandlerError> {
        for message in messages {
            self.0.handle(message).await?;
        }
        Ok(())
    }
}

/// A closure over a customer's burst, `Fn(Vec<Message>) -> impl Future`, taking up to
/// `max` messages a call: what [`Consumer::batched`] consumes with.
#[derive(Debug)]
pub struct Batch<B> {
    handler: B,
    max: usize,
}

/// The closure form of a batch handler: `Fn(Vec<Message>) -> impl Future`.
pub trait BatchFn: Send + Sync + 'static {
    /// Handle the messages.
    fn call(&self, messages: Vec<Message>)
    -> impl Future<Output = Result<(), HandlerError>> + Send;
}

impl<F, Fut> BatchFn for F
where
    F: Fn(Vec<Message>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send,
{
    fn call(
        &self,
        messages: Vec<Message>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        self(messages)
    }
}

impl<B: BatchFn> BatchHandler for Batch<B> {
    fn handle_batch(
        &self,
        messages: Vec<Message>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        self.handler.call(messages)
    }

    fn max_batch(&self) -> usize {
        self.max
    }
}

/// How the consumer works.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConsumerConfig {
    /// Sync each account at least this often, callbacks or not. Default 10 s.
    pub poll_interval: Duration,
    /// Attempts per message before it goes to the dead letters. Default 5.
    pub max_attempts: u32,
    /// Backoff after the first failure; doubles, up to `max_backoff`. Default 200 ms.
    pub initial_backoff: Duration,
    /// Cap of one backoff. Default 10 s.
    pub max_backoff: Duration,
    /// Lease length; renewed before a handler run once a third of it has passed.
    /// Default 30 s.
    pub lease_ttl: Duration,
    /// Who this consumer is (a fleet needs one per process). Default: host and pid.
    pub holder: String,
    /// Messages per page at most. Default 1000.
    pub page_limit: u32,
    /// Handler runs at once in this process, over all its accounts. Default 64.
    pub max_in_flight: usize,
    /// Messages of one account read and not yet done before the syncer stops reading.
    /// Default 0: four times `max_in_flight`.
    pub max_waiting: usize,
    /// How often [`Consumer::run_managed`] lists the corp's accounts again (and a
    /// `kf_account_auth_change` callback at once). Default 5 min.
    pub relist_interval: Duration,
}

impl ConsumerConfig {
    /// The account's waiting bound: `max_waiting`, or four times `max_in_flight`.
    pub fn waiting_bound(&self) -> usize {
        if self.max_waiting == 0 {
            self.max_in_flight.max(1).saturating_mul(4)
        } else {
            self.max_waiting
        }
    }
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            poll_interval: Duration::from_secs(10),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            lease_ttl: Duration::from_secs(30),
            holder: format!(
                "{}-{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into()),
                std::process::id()
            ),
            page_limit: 1000,
            max_in_flight: 64,
            max_waiting: 0,
            relist_interval: Duration::from_secs(300),
        }
    }
}

/// What makes an account sync now: a callback's Token, or a plain nudge.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Trigger {
    /// The account.
    pub open_kfid: String,
    /// The callback's sync Token, when there is one (valid 10 minutes).
    pub token: Option<String>,
    /// List the corp's accounts again rather than sync one ([`Trigger::relist`]).
    relist: bool,
}

impl Trigger {
    /// Sync `open_kfid` now, with a callback's token if there is one.
    pub fn new(open_kfid: impl Into<String>, token: Option<String>) -> Self {
        Trigger {
            open_kfid: open_kfid.into(),
            token,
            relist: false,
        }
    }

    /// List the corp's accounts again now (what a `kf_account_auth_change` asks of
    /// [`Consumer::run_managed`]; [`Consumer::run`] has a fixed set and ignores it).
    ///
    /// ```
    /// use wecom_kf::consumer::Trigger;
    ///
    /// let trigger = Trigger::relist();
    /// assert!(trigger.is_relist());
    /// assert!(!Trigger::new("wkAAA", None).is_relist());
    /// ```
    pub fn relist() -> Self {
        Trigger {
            open_kfid: String::new(),
            token: None,
            relist: true,
        }
    }

    /// Whether this trigger asks for a re-list ([`Trigger::relist`]).
    pub fn is_relist(&self) -> bool {
        self.relist
    }
}

/// Feed the receiver's callbacks to the consumer: a `kf_msg_or_event` syncs its account
/// with the callback's Token; an authorisation change starts the accounts it adds and
/// asks for a re-list ([`Trigger::relist`]), which stops the ones it removes.
/// Returns when either side closes.
///
/// ```no_run
/// # async fn f(client: wecom_kf::Client, crypto: wecom_kf::callback::Crypto) -> Result<(), Box<dyn std::error::Error>> {
/// use wecom_kf::callback::Receiver;
/// use wecom_kf::consumer::{Consumer, ConsumerConfig, HandlerError, SqliteStore, forward_callbacks};
///
/// let (receiver, events) = Receiver::new(crypto);
/// let (triggers, trigger_rx) = tokio::sync::mpsc::channel(1024);
/// tokio::spawn(forward_callbacks(events, triggers));
/// // … serve receiver.router("/callback") with axum …
/// let handler = |m: wecom_kf::types::kf::message::Message| async move { Ok::<(), HandlerError>(()) };
/// let consumer = Consumer::new(client, SqliteStore::open("consumer.db")?, handler, ConsumerConfig::default());
/// let (_stop, shutdown) = tokio::sync::watch::channel(false);
/// consumer.run(Vec::new(), trigger_rx, shutdown).await?;
/// # Ok(()) }
/// ```
#[cfg(feature = "callback")]
pub async fn forward_callbacks(
    mut events: mpsc::Receiver<crate::callback::CallbackEvent>,
    triggers: mpsc::Sender<Trigger>,
) {
    use crate::callback::CallbackEvent;
    while let Some(event) = events.recv().await {
        let wanted = match event {
            CallbackEvent::KfMsgOrEvent {
                open_kfid, token, ..
            } => vec![Trigger::new(open_kfid, Some(token))],
            CallbackEvent::KfAccountAuthChange { added, .. } => added
                .into_iter()
                .map(|id| Trigger::new(id, None))
                .chain(std::iter::once(Trigger::relist()))
                .collect(),
            _ => Vec::new(),
        };
        for trigger in wanted {
            if triggers.send(trigger).await.is_err() {
                return;
            }
        }
    }
}

/// A msgid for the reply to `message`: the same for every run of the handler on it,
/// so a reply sent again after a crash is refused by the service as a duplicate.
pub fn reply_msgid(message: &Message, n: u32) -> String {
    let digest = Sha256::digest(format!("{}:{n}", message.msgid).as_bytes());
    let mut id = String::from("r");
    for byte in &digest[..15] {
        id.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        id.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    id.truncate(wecom_kf_types::limits::MSGID_MAX_BYTES);
    id
}

/// The consumer: see the module docs.
pub struct Consumer<S, H> {
    client: Client,
    store: Arc<S>,
    handler: Arc<H>,
    config: ConsumerConfig,
    in_flight: Arc<Semaphore>,
    metrics: Arc<ConsumerMetrics>,
}

impl<S: Store, H: Handler> Consumer<S, Each<H>> {
    /// A consumer of `client`'s accounts into `handler`, one message at a time per
    /// customer, keeping its state in `store`.
    pub fn new(client: Client, store: S, handler: H, config: ConsumerConfig) -> Self {
        Consumer::with(client, store, Each(handler), config)
    }
}

impl<S: Store, B: BatchFn> Consumer<S, Batch<B>> {
    /// A consumer in batch mode: a customer's waiting messages (up to `max_batch`)
    /// are handed to `handler` together, so one answer can reply to a burst.
    ///
    /// ```no_run
    /// # async fn f(client: wecom_kf::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use wecom_kf::consumer::{Consumer, ConsumerConfig, HandlerError, SqliteStore};
    /// use wecom_kf::types::kf::message::Message;
    ///
    /// let handler = |burst: Vec<Message>| async move {
    ///     let said: Vec<&str> = burst.iter().filter_map(|m| m.content.as_text()).collect();
    ///     println!("{} wrote: {}", burst.len(), said.join(" / "));
    ///     Ok::<(), HandlerError>(())
    /// };
    /// let store = SqliteStore::open("consumer.db")?;
    /// let consumer = Consumer::batched(client, store, handler, 10, ConsumerConfig::default());
    /// # Ok(()) }
    /// ```
    pub fn batched(
        client: Client,
        store: S,
        handler: B,
        max_batch: usize,
        config: ConsumerConfig,
    ) -> Self {
        Consumer::with(
            client,
            store,
            Batch {
                handler,
                max: max_batch.max(1),
            },
            config,
        )
    }
}

impl<S: Store, H: BatchHandler> Consumer<S, H> {
    /// A consumer with any [`BatchHandler`].
    pub fn with(client: Client, store: S, handler: H, config: ConsumerConfig) -> Self {
        Consumer {
            client,
            store: Arc::new(store),
            handler: Arc::new(handler),
            in_flight: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
            metrics: Arc::default(),
            config,
        }
    }

    /// What the consumer counts, live.
    pub fn metrics(&self) -> Arc<ConsumerMetrics> {
        self.metrics.clone()
    }

    /// Consume `accounts` (and any account a trigger names) until `shutdown` turns
    /// true. On shutdown each lane finishes the run in hand, records it, and stops;
    /// the leases are given up. In a fleet this process keeps its fair share of the
    /// accounts ([`fleet`]).
    pub async fn run(
        self,
        accounts: Vec<String>,
        triggers: mpsc::Receiver<Trigger>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        self.coordinate(accounts, false, triggers, shutdown).await
    }

    /// Consume the accounts the app manages, starting with `accounts` (as
    /// [`managed_accounts`] lists them), and list them again every
    /// [`ConsumerConfig::relist_interval`] and on a [`Trigger::relist`] (which
    /// [`forward_callbacks`] sends on a `kf_account_auth_change`): a new account starts
    /// being consumed, one that is gone stops (its lanes finish the run in hand and its
    /// lease is given up). A re-list that fails keeps the current set, is logged, and
    /// is tried again after `poll_interval`. Otherwise as [`Consumer::run`].
    ///
    /// ```no_run
    /// # async fn f(client: wecom_kf::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use wecom_kf::consumer::{Consumer, ConsumerConfig, HandlerError, SqliteStore, managed_accounts};
    ///
    /// let handler = |m: wecom_kf::types::kf::message::Message| async move { Ok::<(), HandlerError>(()) };
    /// let mut config = ConsumerConfig::default();
    /// config.relist_interval = Duration::from_secs(60);
    /// let accounts = managed_accounts(&client).await?;
    /// let consumer = Consumer::new(client, SqliteStore::open("consumer.db")?, handler, config);
    /// let (_triggers, trigger_rx) = tokio::sync::mpsc::channel(1024);
    /// let (_stop, shutdown) = tokio::sync::watch::channel(false);
    /// consumer.run_managed(accounts, trigger_rx, shutdown).await?;
    /// # Ok(()) }
    /// ```
    pub async fn run_managed(
        self,
        accounts: Vec<String>,
        triggers: mpsc::Receiver<Trigger>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        self.coordinate(accounts, true, triggers, shutdown).await
    }

    async fn coordinate(
        self,
        accounts: Vec<String>,
        relist: bool,
        mut triggers: mpsc::Receiver<Trigger>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        // The first heartbeat before any worker starts: a process that joins a fleet
        // takes no more than its share.
        let mut members = 1;
        self.beat(&mut members).await;
        let accounts: std::collections::BTreeSet<String> = accounts.into_iter().collect();
        let fleet = Arc::new(fleet::Fleet::new(fair_share(accounts.len(), members)));
        let mut roster = Roster::default();
        for open_kfid in accounts {
            self.follow(&mut roster, &fleet, open_kfid, &shutdown);
        }
        self.reshare(&fleet, &roster, members);
        let beat_every = (self.config.lease_ttl / 3).max(Duration::from_millis(50));
        let mut next_beat = tokio::time::Instant::now() + beat_every;
        let mut next_list = tokio::time::Instant::now() + self.config.relist_interval;
        let mut stop = shutdown.clone();
        let mut result = Ok(());
        loop {
            tokio::select! {
                trigger = triggers.recv() => {
                    let Some(trigger) = trigger else { break };
                    if trigger.relist {
                        next_list = tokio::time::Instant::now();
                        continue;
                    }
                    if !roster.workers.contains_key(&trigger.open_kfid) {
                        self.follow(&mut roster, &fleet, trigger.open_kfid.clone(), &shutdown);
                        self.reshare(&fleet, &roster, members);
                    }
                    if let Some(tx) = roster.workers.get(&trigger.open_kfid) {
                        // A full queue already holds a nudge: this one adds nothing.
                        let _ = tx.try_send(trigger.token);
                    }
                }
                () = tokio::time::sleep_until(next_beat) => {
                    self.beat(&mut members).await;
                    self.reshare(&fleet, &roster, members);
                    next_beat = tokio::time::Instant::now() + beat_every;
                }
                () = tokio::time::sleep_until(next_list), if relist => {
                    next_list = match managed_accounts(&self.client).await {
                        Ok(listed) => {
                            self.adopt(&mut roster, &fleet, listed, &shutdown);
                            self.reshare(&fleet, &roster, members);
                            tokio::time::Instant::now() + self.config.relist_interval
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "listing the accounts failed; keeping the current set");
                            tokio::time::Instant::now()
                                + self.config.poll_interval.min(self.config.relist_interval)
                        }
                    };
                }
                Some(done) = roster.tasks.join_next_with_id(), if !roster.tasks.is_empty() => {
                    let id = match &done {
                        Ok((id, _)) => *id,
                        Err(err) => err.id(),
                    };
                    if let Ok((_, Err(err))) = done {
                        result = Err(err);
                    }
                    self.ended(&mut roster, &fleet, id, &shutdown);
                    self.reshare(&fleet, &roster, members);
                }
                // Mapped to (): the guard `wait_for` returns must not live across the
                // other branches' awaits.
                () = async { let _ = stop.wait_for(|stop| *stop).await; } => break,
            }
        }
        roster.workers.clear();
        while let Some(done) = roster.tasks.join_next().await {
            if let Ok(Err(err)) = done {
                result = Err(err);
            }
        }
        // The leases are given up: the others may take the accounts at once.
        if let Err(err) = self.store.leave(&self.config.holder).await {
            tracing::warn!(error = %err, "could not leave the fleet; the others wait for the heartbeat to run out");
        }
        result
    }

    /// Renew this process's heartbeat and count the live members; a store that fails
    /// keeps the count as it was.
    async fn beat(&self, members: &mut usize) {
        match self
            .store
            .heartbeat(&self.config.holder, self.config.lease_ttl)
            .await
        {
            Ok(live) => *members = live.len().max(1),
            Err(err) => {
                tracing::warn!(error = %err, "fleet heartbeat failed; keeping the share as it was");
            }
        }
    }

    /// The share over the current set; when it changed, every worker looks again at
    /// once (hands over, or takes what is free).
    fn reshare(&self, fleet: &fleet::Fleet, roster: &Roster, members: usize) {
        let accounts = roster.workers.len();
        let share = fair_share(accounts, members);
        self.metrics.set_fleet(accounts, members, share);
        if fleet.set_share(share) {
            tracing::debug!(accounts, members, share, "fair share changed");
            for tx in roster.workers.values() {
                let _ = tx.try_send(None);
            }
        }
    }

    /// Start consuming `open_kfid`, unless it is followed already; if its last worker
    /// is still finishing, once that one is done (two tenures of one account in one
    /// process would share its lease).
    fn follow(
        &self,
        roster: &mut Roster,
        fleet: &Arc<fleet::Fleet>,
        open_kfid: String,
        shutdown: &watch::Receiver<bool>,
    ) {
        if roster.workers.contains_key(&open_kfid) {
            return;
        }
        if roster.retiring.values().any(|id| *id == open_kfid) {
            roster.returning.insert(open_kfid);
            return;
        }
        let (tx, rx) = mpsc::channel(64);
        let worker = Worker {
            client: self.client.clone(),
            store: self.store.clone(),
            handler: self.handler.clone(),
            config: self.config.clone(),
            open_kfid: open_kfid.clone(),
            in_flight: self.in_flight.clone(),
            metrics: self.metrics.clone(),
            fleet: fleet.clone(),
        };
        let task = roster.tasks.spawn(worker.run(rx, shutdown.clone()));
        roster.running.insert(task.id(), open_kfid.clone());
        roster.workers.insert(open_kfid, tx);
    }

    /// Follow exactly the `listed` accounts: start the new ones, stop the ones gone.
    fn adopt(
        &self,
        roster: &mut Roster,
        fleet: &Arc<fleet::Fleet>,
        listed: Vec<String>,
        shutdown: &watch::Receiver<bool>,
    ) {
        let listed: std::collections::BTreeSet<String> = listed.into_iter().collect();
        let gone: Vec<String> = roster
            .workers
            .keys()
            .filter(|id| !listed.contains(*id))
            .cloned()
            .collect();
        roster.returning.retain(|id| listed.contains(id));
        for open_kfid in gone {
            tracing::info!(open_kfid = %open_kfid, "the account is no longer listed; stopping it");
            // Its worker sees the closed channel, lets its lanes finish the run in
            // hand and gives the lease up.
            roster.workers.remove(&open_kfid);
            if let Some(task) = roster
                .running
                .iter()
                .find_map(|(task, id)| (*id == open_kfid).then_some(*task))
            {
                roster.running.remove(&task);
                roster.retiring.insert(task, open_kfid);
            }
        }
        for open_kfid in listed {
            if !roster.workers.contains_key(&open_kfid) && !roster.returning.contains(&open_kfid) {
                tracing::info!(open_kfid = %open_kfid, "a new account is listed; consuming it");
                self.follow(roster, fleet, open_kfid, shutdown);
            }
        }
    }

    /// A worker's task ended: forget it, and start its account again if it came back
    /// while the worker was finishing.
    fn ended(
        &self,
        roster: &mut Roster,
        fleet: &Arc<fleet::Fleet>,
        task: tokio::task::Id,
        shutdown: &watch::Receiver<bool>,
    ) {
        if let Some(open_kfid) = roster.running.remove(&task) {
            roster.workers.remove(&open_kfid);
        }
        if let Some(open_kfid) = roster.retiring.remove(&task)
            && roster.returning.remove(&open_kfid)
        {
            self.follow(roster, fleet, open_kfid, shutdown);
        }
    }
}

/// The accounts the app manages (an account listed with `manage_privilege` false is
/// one the app may see but not serve): what [`Consumer::run_managed`] consumes.
///
/// ```no_run
/// # async fn f(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
/// let accounts = wecom_kf::consumer::managed_accounts(&client).await?;
/// println!("{} accounts to consume", accounts.len());
/// # Ok(()) }
/// ```
pub async fn managed_accounts(client: &Client) -> Result<Vec<String>, crate::Error> {
    use futures_util::TryStreamExt as _;
    client
        .account()
        .list_all()
        .try_filter(|a| std::future::ready(a.manage_privilege != Some(false)))
        .map_ok(|a| a.open_kfid)
        .try_collect()
        .await
}

/// The account workers of one consumer.
#[derive(Default)]
struct Roster {
    /// The accounts followed now, and how to nudge each one's worker.
    workers: std::collections::BTreeMap<String, mpsc::Sender<Option<String>>>,
    /// The task of each followed account's worker.
    running: HashMap<tokio::task::Id, String>,
    /// Workers of accounts no longer followed, still finishing their lanes.
    retiring: HashMap<tokio::task::Id, String>,
    /// Accounts listed again while their old worker is still finishing.
    returning: std::collections::BTreeSet<String>,
    tasks: tokio::task::JoinSet<Result<(), StoreError>>,
}

/// One account's loop: take the lease, sync on each nudge and poll, and hand the
/// tenure over when the lease is lost.
struct Worker<S, H> {
    client: Client,
    store: Arc<S>,
    handler: Arc<H>,
    config: ConsumerConfig,
    open_kfid: String,
    in_flight: Arc<Semaphore>,
    metrics: Arc<ConsumerMetrics>,
    fleet: Arc<fleet::Fleet>,
}

impl<S: Store, H: BatchHandler> Worker<S, H> {
    async fn run(
        self,
        nudges: mpsc::Receiver<Option<String>>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        let mut tenure = None;
        let result = self.serve(nudges, shutdown, &mut tenure).await;
        // However it ends, the lanes finish the run in hand, and the lease is given up
        // so the next holder need not wait it out.
        if let Some(tenure) = tenure {
            let lease = tenure.lease().clone();
            tenure.finish().await;
            let _ = self.store.release(&lease).await;
        }
        self.fleet.unclaim(&self.open_kfid);
        result
    }

    /// Hand the account over to the fleet: the lanes finish the run in hand (the
    /// cursor stays at the watermark), then the lease is given up, so the next holder
    /// starts where this one stopped.
    async fn hand_over(&self, tenure: lanes::Tenure<S, H>) {
        let lease = tenure.lease().clone();
        tenure.finish().await;
        match self.store.release(&lease).await {
            Ok(()) => {
                tracing::info!(open_kfid = %self.open_kfid, "handed over to the fleet: above this process's fair share");
            }
            Err(err) => {
                tracing::warn!(open_kfid = %self.open_kfid, error = %err, "handed over; the lease could not be given up and runs out by itself");
            }
        }
    }

    async fn serve(
        &self,
        mut nudges: mpsc::Receiver<Option<String>>,
        mut shutdown: watch::Receiver<bool>,
        held: &mut Option<lanes::Tenure<S, H>>,
    ) -> Result<(), StoreError> {
        let mut token: Option<String> = None;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            if let Some(err) = held.as_ref().and_then(lanes::Tenure::failure) {
                tracing::warn!(open_kfid = %self.open_kfid, error = %err, "the account's lanes stopped; starting again from the committed cursor");
                if let Some(tenure) = held.take() {
                    tenure.finish().await;
                }
            }
            // The fair share: hand over what is above it, take only what is within it.
            if held.is_some() && self.fleet.hand_over(&self.open_kfid) {
                if let Some(tenure) = held.take() {
                    self.hand_over(tenure).await;
                }
            } else if held.is_some() || self.fleet.claim(&self.open_kfid) {
                self.take_and_sync(held, &mut token, &shutdown).await;
            }
            if held.is_none() {
                self.fleet.unclaim(&self.open_kfid);
            }
            let failed = async {
                match held.as_ref() {
                    Some(tenure) => tenure.failed().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                nudge = nudges.recv() => match nudge {
                    Some(t) => token = t.or(token),
                    None => return Ok(()),
                },
                () = tokio::time::sleep(self.config.poll_interval) => {}
                () = failed => {}
                _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
            }
        }
    }

    /// Take (or renew) the lease, start a tenure if there is none, and sync.
    async fn take_and_sync(
        &self,
        held: &mut Option<lanes::Tenure<S, H>>,
        token: &mut Option<String>,
        shutdown: &watch::Receiver<bool>,
    ) {
        match self
            .store
            .acquire(&self.open_kfid, &self.config.holder, self.config.lease_ttl)
            .await
        {
            Ok(Some(lease)) => {
                if let Some(tenure) = held.take_if(|t| t.lease().fence != lease.fence) {
                    tenure.finish().await;
                }
                if held.is_none() {
                    let cursor = match self.store.cursor(&self.open_kfid).await {
                        Ok(cursor) => Some(cursor),
                        Err(err) => {
                            tracing::warn!(open_kfid = %self.open_kfid, error = %err, "store unavailable; retrying at the next poll");
                            None
                        }
                    };
                    if let Some(cursor) = cursor {
                        *held = Some(lanes::Tenure::new(
                            self.store.clone(),
                            self.handler.clone(),
                            self.config.clone(),
                            lease,
                            cursor,
                            self.in_flight.clone(),
                            self.metrics.clone(),
                            shutdown.clone(),
                        ));
                    }
                }
                if let Some(tenure) = held.as_mut() {
                    match tenure.sync(&self.client, token.take()).await {
                        Ok(()) => {}
                        Err(lanes::SyncError::Store(StoreError::Fenced { .. })) => {
                            tracing::warn!(open_kfid = %self.open_kfid, "lease lost: another consumer took the account");
                            if let Some(tenure) = held.take() {
                                tenure.finish().await;
                            }
                        }
                        Err(err) => {
                            tracing::warn!(open_kfid = %self.open_kfid, error = %err, "sync failed; retrying at the next poll");
                        }
                    }
                }
            }
            Ok(None) => {
                if let Some(tenure) = held.take() {
                    tenure.finish().await;
                }
                tracing::debug!(open_kfid = %self.open_kfid, "another consumer holds the account");
            }
            Err(err) => {
                tracing::warn!(open_kfid = %self.open_kfid, error = %err, "store unavailable; retrying at the next poll");
            }
        }
    }
}
