//! The domain rules of 微信客服, one file per API family (mirroring `api/`), and a room
//! per actor the control plane plays: `wechat.rs` for a customer in WeChat, `app.rs`
//! for the servicers in the WeCom app. The API (`api/`) and the control plane
//! (`control/`) both call them, so a simulated customer or a seeded account obeys
//! exactly the rules an API call does.
//!
//! A [`World`] is the store locked for one rule, with the time read once: a rule reads,
//! decides and commits under one lock, so caps and state machines are atomic.
//!
//! The world is pure: no network, no tasks. A rule that makes an item visible to
//! `kf/sync_msg` records it in the world's outbox; whoever locked the world (the guard
//! `Emulator::world` returns) hands the outbox to the pusher once the lock is released.

mod account;
mod app;
mod console;
mod customer;
mod directory;
mod knowledge;
mod media;
mod message;
mod servicer;
mod session;
mod statistic;
mod token;
mod wechat;

use std::sync::MutexGuard;

use wecom_kf_types::ErrCode;

use crate::config::Config;
use crate::store::{AgentId, CallbackRow, Store};

pub use console::{ThreadView, WorldView};
pub(crate) use media::Upload;
pub use session::RoutingMode;
pub use wechat::InboxItem;
pub(crate) use wechat::content;

/// The app behind an access token.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub agent: AgentId,
    /// `host[:port]` the caller used, for URLs we hand back (avatars).
    pub host: String,
}

/// An item that became visible to `kf/sync_msg`, committed, with the sync Token its
/// `kf_msg_or_event` carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Visible {
    /// The account with new data.
    pub open_kfid: String,
    /// A fresh sync Token for it.
    pub token: String,
    /// When (the emulator's clock): the callback's `CreateTime`.
    pub at: i64,
}

/// The store, locked, with the emulator's time and configuration.
pub(crate) struct World<'a> {
    store: MutexGuard<'a, Store>,
    now: i64,
    config: &'a Config,
    /// Whether visible items are pushed (a callback is set): only then is a sync Token
    /// issued for each.
    pushing: bool,
    outbox: Vec<Visible>,
}

impl<'a> World<'a> {
    pub(crate) fn new(
        store: MutexGuard<'a, Store>,
        now: i64,
        config: &'a Config,
        pushing: bool,
    ) -> Self {
        World {
            store,
            now,
            config,
            pushing,
            outbox: Vec::new(),
        }
    }

    /// What became visible under this lock, oldest first; the lock goes with it.
    pub(crate) fn into_outbox(self) -> Vec<Visible> {
        self.outbox
    }

    /// Record a committed visible item for the pusher.
    fn became_visible(&mut self, open_kfid: &str) -> Result<(), crate::rejection::Rejection> {
        if self.pushing {
            let token = self.issue_sync_token(open_kfid)?;
            self.outbox.push(Visible {
                open_kfid: open_kfid.to_owned(),
                token,
                at: self.now,
            });
        }
        Ok(())
    }

    /// Read-only access for answers that only look.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Keep where callbacks go (or forget it), so it survives a restart.
    pub(crate) fn keep_callback(&mut self, row: Option<&CallbackRow>) -> Result<(), ErrCode> {
        self.store.put_callback(row)
    }

    /// Forget every record.
    pub(crate) fn reset(&mut self) -> Result<(), ErrCode> {
        self.store.reset()
    }
}
