//! One module per command group.

pub mod account;
mod import;
pub mod media;
pub mod sandbox;
pub mod token;
