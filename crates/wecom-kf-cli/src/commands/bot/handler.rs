//! The bot: each message (or, in batch mode, each burst of one customer) to the sink,
//! the sink's answer back to the customer.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use wecom_kf::Client;
use wecom_kf::consumer::{BatchHandler, HandlerError, reply};
use wecom_kf::types::kf::message::{Content, Media, Message, Origin};
use wecom_kf::types::media::MediaType;

use super::metrics::Metrics;
use super::sink::Sink;

pub(crate) struct Bot {
    pub client: Client,
    pub sink: Sink,
    pub metrics: Arc<Metrics>,
    /// Messages one sink call takes at most: 1, or the batch size of `--batch`.
    pub batch: usize,
    /// `serve --media-dir`: messages' media are saved here before the handler runs.
    pub media_dir: Option<PathBuf>,
}

impl Bot {
    /// Send the sink's answer to the customer of `last`, split to fit and with msgids
    /// derived from `last`, so a second run sends nothing twice. A refusal the session
    /// explains is counted and logged with its diagnosis; it cannot be cured by
    /// running the message again.
    async fn reply(&self, last: &Message, answer: Vec<Content>) -> Result<(), HandlerError> {
        if answer.is_empty() {
            return Ok(());
        }
        let answer = self.upload(answer).await?;
        let report = reply(&self.client, last, answer)
            .await
            .map_err(|err| HandlerError::new(format!("reply failed: {err}")))?;
        self.metrics
            .replies
            .fetch_add(u64::from(report.sent), Ordering::Relaxed);
        if let Some(err) = report.refused {
            self.metrics
                .refused(err.api_code().map_or(0, wecom_kf::ErrCode::get));
            match err.diagnosis() {
                Some(diagnosis) => {
                    eprintln!("warning: reply not sent: {err}\n  diagnosis: {diagnosis}");
                }
                None => eprintln!("warning: reply not sent: {err}"),
            }
        }
        Ok(())
    }

    /// An answer's files (`{"msgtype":"image","path":…}`) uploaded as temporary media
    /// and sent as messages of their type; a file that cannot be read or uploaded
    /// fails the run, which is retried.
    async fn upload(&self, answer: Vec<Content>) -> Result<Vec<Content>, HandlerError> {
        let mut out = Vec::with_capacity(answer.len());
        for content in answer {
            let Some((kind, path)) = super::sink::file_to_send(&content) else {
                out.push(content);
                continue;
            };
            let uploaded = self
                .client
                .media()
                .upload_path(kind, &path)
                .await
                .map_err(|e| HandlerError::new(format!("uploading {}: {e}", path.display())))?;
            let media = Media::new(uploaded.media_id);
            out.push(match kind {
                MediaType::Image => Content::Image(media),
                MediaType::Voice => Content::Voice(media),
                MediaType::Video => Content::Video(media),
                MediaType::File => Content::File(media),
            });
        }
        Ok(out)
    }

    /// With `--media-dir`, each message's media saved in DIR/MSGID/ (a failure is a
    /// failed run: the message is handed over again later, never lost).
    async fn download(&self, messages: &[Message]) -> Result<Vec<Option<PathBuf>>, HandlerError> {
        let mut paths = Vec::with_capacity(messages.len());
        for message in messages {
            let path = match (&self.media_dir, message.content.media()) {
                (Some(dir), Some((_, media_id))) => {
                    let dir = dir.join(wecom_kf::media::safe_file_name(&message.msgid));
                    let saved = self
                        .client
                        .media()
                        .download_into(media_id, &dir)
                        .await
                        .map_err(|e| {
                            HandlerError::new(format!(
                                "downloading the media of {}: {e}",
                                message.msgid
                            ))
                        })?;
                    Some(saved.path)
                }
                _ => None,
            };
            paths.push(path);
        }
        Ok(paths)
    }

    async fn run(&self, messages: Vec<Message>) -> Result<(), HandlerError> {
        let paths = self.download(&messages).await?;
        let answer = self.sink.answer(&messages, self.batch > 1, &paths).await?;
        // Only customers' messages are answered; events and servicers' messages are
        // not. A burst is answered once, after its last customer message.
        if let Some(last) = messages.iter().rev().find(|m| m.origin == Origin::Customer) {
            self.reply(last, answer).await?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        if let Some(last) = messages.last() {
            self.metrics
                .lag_secs
                .store(now - last.send_time, Ordering::Relaxed);
        }
        self.metrics
            .handled
            .fetch_add(messages.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

impl BatchHandler for Bot {
    async fn handle_batch(&self, messages: Vec<Message>) -> Result<(), HandlerError> {
        let result = self.run(messages).await;
        if result.is_err() {
            self.metrics.failures.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn max_batch(&self) -> usize {
        self.batch
    }
}
