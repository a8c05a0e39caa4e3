//! Callbacks the emulator pushes (docs/emulator-control.md, "Callbacks"; docs/kf-api.md §5):
//! after every item that becomes visible to `kf/sync_msg` is committed, one encrypted
//! `kf_msg_or_event` with a fresh sync Token, POSTed by a task of its own so the API
//! call that caused it never waits; retried after `retry_ms`, up to `attempts`; every
//! attempt in the deliveries log.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde::Serialize;
use wecom_kf_types::callback::{CallbackEvent, Crypto};

use crate::state::lock;
use crate::store::CallbackRow;
use crate::world::Visible;

/// How long the URL check may take, as the admin console allows.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(1);

/// Where and how to push.
#[derive(Clone, Debug)]
pub struct Setting {
    /// The receiver.
    pub url: String,
    /// Token, EncodingAESKey and the corp id as receiveid.
    pub crypto: Crypto,
    /// A delivery counts when HTTP 200 comes within this.
    pub timeout: Duration,
    /// Attempts in all.
    pub attempts: u32,
    /// Wait between attempts.
    pub retry: Duration,
    /// What it was made from, to keep in the database; `None` for one built from a
    /// [`Crypto`], which is kept for this run only.
    row: Option<CallbackRow>,
}

impl Setting {
    /// A setting with a crypto already built (the receiveid must be the corp id), and
    /// the control plane's defaults.
    pub fn with_crypto(url: impl Into<String>, crypto: Crypto) -> Setting {
        Setting {
            url: url.into(),
            crypto,
            timeout: Duration::from_secs(5),
            attempts: 3,
            retry: Duration::from_secs(1),
            row: None,
        }
    }

    /// A setting with the defaults of the control plane: 5 s timeout, 3 attempts, 1 s
    /// between them. The URL must be http(s); the Token and key are checked here
    /// (-40004, saying what is wrong, never the key).
    pub fn new(
        corp_id: &str,
        url: &str,
        token: &str,
        encoding_aes_key: &str,
    ) -> Result<Setting, String> {
        Setting::from_row(
            corp_id,
            CallbackRow {
                url: url.to_owned(),
                token: token.to_owned(),
                encoding_aes_key: encoding_aes_key.to_owned(),
                timeout_ms: 5000,
                attempts: 3,
                retry_ms: 1000,
            },
        )
    }

    /// A setting from what the control plane (or the database) gives.
    pub(crate) fn from_row(corp_id: &str, row: CallbackRow) -> Result<Setting, String> {
        let url = &row.url;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("url must be http:// or https://, got {url:?}"));
        }
        let crypto = Crypto::new(row.token.as_str(), &row.encoding_aes_key, corp_id)
            .map_err(|e| e.to_string())?;
        Ok(Setting {
            url: row.url.clone(),
            crypto,
            timeout: Duration::from_millis(row.timeout_ms),
            attempts: row.attempts.max(1),
            retry: Duration::from_millis(row.retry_ms),
            row: Some(row),
        })
    }

    /// What to keep in the database, if it can be kept.
    pub(crate) fn row(&self) -> Option<&CallbackRow> {
        self.row.as_ref()
    }
}

/// One attempt of one delivery.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    /// The delivery (its attempts share it).
    pub id: u64,
    /// `kf_msg_or_event`.
    pub event: &'static str,
    /// The account with new data.
    pub open_kfid: String,
    /// The sync Token it carried.
    pub token: String,
    /// 1, 2, …
    pub attempt: u32,
    /// The HTTP status, if an answer came.
    pub status: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// How long the attempt took.
    pub elapsed_ms: u64,
    /// Whether this attempt delivered it (HTTP 200 in time).
    pub delivered: bool,
    /// When the attempt ended, in Unix milliseconds (the real clock).
    pub at_ms: u64,
    /// The delivery this one sends again (`POST …/deliveries/{id}/resend`).
    pub resend_of: Option<u64>,
}

/// Attempts kept in the log; older ones are dropped.
const KEPT: usize = 10_000;

/// The callback setting and the deliveries log.
pub(crate) struct Callbacks {
    setting: Mutex<Option<Arc<Setting>>>,
    deliveries: Arc<Log>,
    next_id: AtomicU64,
    http: reqwest::Client,
}

/// The deliveries log, bounded, and a count of attempts that only grows.
#[derive(Default)]
struct Log {
    rows: Mutex<Vec<Delivery>>,
    attempts: AtomicUsize,
}

impl Default for Callbacks {
    fn default() -> Self {
        Callbacks {
            setting: Mutex::default(),
            deliveries: Arc::default(),
            next_id: AtomicU64::new(1),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
        }
    }
}

fn random16() -> [u8; 16] {
    rand::rng().random()
}

fn nonce() -> String {
    rand::rng()
        .random_range(1_000_000_000u64..10_000_000_000)
        .to_string()
}

fn unix_now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Why a URL check failed, in the words the errmsg uses.
fn describe(err: reqwest::Error) -> String {
    if err.is_timeout() {
        "no answer within the time allowed".to_owned()
    } else if err.is_connect() {
        "cannot connect (connection refused or no route)".to_owned()
    } else {
        format!("the request failed: {}", err.without_url())
    }
}

impl Callbacks {
    /// The setting in force, if any.
    pub(crate) fn current(&self) -> Option<Arc<Setting>> {
        lock(&self.setting).clone()
    }

    /// Check `setting.url` as the admin console does — a signed GET with an encrypted
    /// echostr, whose plaintext must come back within 1 s. The error says exactly
    /// what failed.
    pub(crate) async fn verify(&self, setting: &Setting) -> Result<(), String> {
        let plain = rand::rng()
            .random_range(1_000_000_000_000_000u64..10_000_000_000_000_000)
            .to_string();
        let query = setting
            .crypto
            .url_check(random16(), &unix_now(), &nonce(), &plain);
        let separator = if setting.url.contains('?') { '&' } else { '?' };
        let url = format!("{}{separator}{}", setting.url, query.encode());
        let answer = self
            .http
            .get(url)
            .timeout(VERIFY_TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("URL verification of {}: {}", setting.url, describe(e)))?;
        let status = answer.status().as_u16();
        let body = answer.text().await.unwrap_or_default();
        if status != 200 {
            return Err(format!(
                "URL verification of {}: HTTP {status} (expected 200 with the echostr's plaintext); body: {:?}",
                setting.url,
                body.chars().take(200).collect::<String>()
            ));
        }
        if body != plain {
            return Err(format!(
                "URL verification of {}: wrong plaintext: expected {plain:?}, got {:?} (answer the decrypted echostr alone: no quotes, no newline)",
                setting.url,
                body.chars().take(200).collect::<String>()
            ));
        }
        Ok(())
    }

    /// Push to `setting` from now on.
    pub(crate) fn keep(&self, setting: Setting) {
        *lock(&self.setting) = Some(Arc::new(setting));
    }

    /// Stop pushing.
    pub(crate) fn clear(&self) {
        *lock(&self.setting) = None;
    }

    /// Forget the setting and the log.
    pub(crate) fn reset(&self) {
        self.clear();
        lock(&self.deliveries.rows).clear();
    }

    /// How many attempts were made so far (the log's length can stay the same while it
    /// is trimmed; this only grows).
    pub(crate) fn attempts(&self) -> usize {
        self.deliveries.attempts.load(Ordering::Relaxed)
    }

    /// Every attempt so far, oldest first.
    pub(crate) fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.deliveries.rows).clone()
    }

    /// Push a `kf_msg_or_event` for a visible item in a task of its own. Called after
    /// the item's commit, with the store unlocked; never waits.
    pub(crate) fn push(&self, setting: Arc<Setting>, corp_id: &str, item: Visible) {
        self.start(setting, corp_id, item.at, &item.open_kfid, item.token, None);
    }

    /// Push delivery `id` again, as a new delivery, to the URL set now: the same
    /// account and Token (which may have expired: 10 minutes).
    pub(crate) fn resend(&self, id: u64, corp_id: &str, now: i64) -> Result<u64, String> {
        let setting = self
            .current()
            .ok_or("no callback URL is set (POST /__emulator/callback first)")?;
        let original = lock(&self.deliveries.rows)
            .iter()
            .find(|d| d.id == id)
            .cloned()
            .ok_or_else(|| format!("no delivery {id} in the log"))?;
        Ok(self.start(
            setting,
            corp_id,
            now,
            &original.open_kfid,
            original.token,
            Some(id),
        ))
    }

    /// A new delivery of a `kf_msg_or_event`, pushed from a task of its own; its id.
    fn start(
        &self,
        setting: Arc<Setting>,
        corp_id: &str,
        create_time: i64,
        open_kfid: &str,
        token: String,
        resend_of: Option<u64>,
    ) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let event = CallbackEvent::kf_msg_or_event(corp_id, create_time, token.clone(), open_kfid);
        let delivery = Delivery {
            id,
            event: "kf_msg_or_event",
            open_kfid: open_kfid.to_owned(),
            token,
            attempt: 0,
            status: None,
            error: None,
            elapsed_ms: 0,
            delivered: false,
            at_ms: 0,
            resend_of,
        };
        self.spawn(setting, &event, delivery);
        id
    }

    fn spawn(&self, setting: Arc<Setting>, event: &CallbackEvent, delivery: Delivery) {
        let (http, log) = (self.http.clone(), self.deliveries.clone());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            let mut row = delivery;
            row.error = Some("no async runtime to push from".into());
            keep(&log, row);
            return;
        };
        runtime.spawn(deliver(http, log, setting, event.to_xml(), delivery));
    }
}

fn keep(log: &Log, row: Delivery) {
    let mut rows = lock(&log.rows);
    if rows.len() >= KEPT {
        rows.drain(..KEPT / 10);
    }
    rows.push(row);
    log.attempts.fetch_add(1, Ordering::Relaxed);
}

/// Every attempt of one delivery, until one is answered 200 in time.
async fn deliver(
    http: reqwest::Client,
    log: Arc<Log>,
    setting: Arc<Setting>,
    xml: String,
    delivery: Delivery,
) {
    for attempt in 1..=setting.attempts.max(1) {
        // Each attempt is signed afresh, as a retry by WeCom would be.
        let sealed = setting
            .crypto
            .seal(random16(), &unix_now(), &nonce(), xml.as_bytes());
        let separator = if setting.url.contains('?') { '&' } else { '?' };
        let started = Instant::now();
        let result = http
            .post(format!("{}{separator}{}", setting.url, sealed.query()))
            .header("content-type", "text/xml")
            .body(sealed.body)
            .timeout(setting.timeout)
            .send()
            .await;
        let mut row = delivery.clone();
        row.attempt = attempt;
        row.elapsed_ms = millis(started.elapsed());
        match result {
            Ok(answer) => {
                let status = answer.status().as_u16();
                row.status = Some(status);
                row.delivered = status == 200;
                if !row.delivered {
                    row.error = Some(format!("HTTP {status}"));
                }
            }
            Err(err) if err.is_timeout() => row.error = Some("timeout".into()),
            Err(err) => row.error = Some(describe(err)),
        }
        let delivered = row.delivered;
        row.at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        keep(&log, row);
        if delivered {
            return;
        }
        if attempt < setting.attempts {
            tokio::time::sleep(setting.retry).await;
        }
    }
}
