//! The bot runtime behind `serve`, `sandbox chat` and `sandbox console`: a receiver
//! for callbacks, the consumer of every account, and the [`Bot`] that hands each
//! message to a [`Sink`] and sends its answers back. Commands parse their flags and
//! call [`start`]; they do not reach inside.

mod handler;
mod metrics;
mod pipeline;
mod sink;

pub(crate) use pipeline::{Parts, Pipeline, open_store, sandbox_crypto, start, terminated};
pub(crate) use sink::Sink;
