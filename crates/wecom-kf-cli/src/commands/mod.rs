//! One module per command group.

pub mod account;
pub mod media;
pub mod sandbox;
pub mod token;
