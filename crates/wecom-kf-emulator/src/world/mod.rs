//! The domain rules of 微信客服, one file per family. The API (`api/`) and the control
//! plane (`control/`) both call them, so a simulated customer or a seeded account obeys
//! exactly the rules an API call does.
//!
//! A [`World`] is the store locked for one rule, with the time read once: a rule reads,
//! decides and commits under one lock, so caps and state machines are atomic.

mod account;
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

use std::sync::MutexGuard;

use wecom_kf_types::ErrCode;

use crate::callbacks::Callbacks;
use crate::config::Config;
use crate::store::Store;

pub(crate) use customer::content;
pub(crate) use media::Upload;
pub(crate) use session::RoutingMode;

/// The store, locked, with the emulator's time and configuration.
pub(crate) struct World<'a> {
    store: MutexGuard<'a, Store>,
    now: i64,
    config: &'a Config,
    callbacks: &'a Callbacks,
}

impl<'a> World<'a> {
    pub(crate) fn new(
        store: MutexGuard<'a, Store>,
        now: i64,
        config: &'a Config,
        callbacks: &'a Callbacks,
    ) -> Self {
        World {
            store,
            now,
            config,
            callbacks,
        }
    }

    /// Read-only access for answers that only look.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Forget every record.
    pub(crate) fn reset(&mut self) -> Result<(), ErrCode> {
        self.store.reset()
    }
}
