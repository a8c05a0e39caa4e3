//! One module per command group.

pub mod account;
pub(crate) mod bot;
pub mod callback;
pub mod customer;
pub mod dead_letters;
pub mod knowledge;
pub mod media;
pub mod msg;
pub mod sandbox;
pub mod serve;
pub mod servicer;
pub mod session;
pub mod stats;
pub mod token;
