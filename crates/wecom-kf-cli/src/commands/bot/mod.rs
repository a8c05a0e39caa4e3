//! The bot runtime behind `serve`, `sandbox chat` and `sandbox console`: a receiver
//! for callbacks, the consumer of every account, and the [`Bot`](handler::Bot) that hands each
//! message to a [`Sink`] and sends its answers back. Commands parse their flags and
//! call [`start`]; they do not reach inside.

mod handler;
mod metrics;
mod pipeline;
mod sink;

pub(crate) use pipeline::{Parts, Pipeline, open_store, sandbox_crypto, start, terminated};
pub(crate) use sink::{DEFAULT_HANDLER_TIMEOUT, Sink, webhook_client};

/// Hand one message to `sink` and send its answers, as the running bot would (the
/// same derived msgids, so a reply that went out before is not sent twice): for
/// `dead-letters retry`.
pub(crate) async fn handle_once(
    client: wecom_kf::Client,
    sink: Sink,
    message: wecom_kf::types::kf::message::Message,
) -> Result<(), wecom_kf::consumer::HandlerError> {
    use wecom_kf::consumer::BatchHandler as _;
    let bot = handler::Bot {
        client,
        sink,
        metrics: std::sync::Arc::default(),
        batch: 1,
        media_dir: None,
    };
    bot.handle_batch(vec![message]).await
}
