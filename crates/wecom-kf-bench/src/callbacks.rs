//! Section 7, callbacks: opening one (verify, decrypt, parse) with our types against the
//! same steps done directly with the crates; the receiver's callbacks/s at 64
//! connections against an axum route that only answers `success`.

use std::time::Instant;

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
use base64::Engine as _;
use futures_util::StreamExt;
use quick_xml::events::Event;
use sha1::{Digest, Sha1};
use wecom_kf::callback::{CallbackEvent, CallbackQuery, Crypto, Receiver, ReceiverConfig};

use crate::{BoxError, Report, Sizes, median};

const TOKEN: &str = "benchToken2026";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const CORP: &str = "ww1234567890abcdef";

fn now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string()
}

/// The text of the first element named `name` in `xml`, with quick-xml directly.
fn element(xml: &[u8], name: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut inside = false;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => inside = e.name().as_ref() == name,
            Event::CData(c) if inside => {
                return Some(String::from_utf8_lossy(&c.into_inner()).into_owned());
            }
            Event::Text(t) if inside => {
                return t.decode().ok().map(std::borrow::Cow::into_owned);
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// The floor: the same steps with the crates, no types, no checks beyond them.
fn floor_open(key: &[u8; 32], query: &CallbackQuery, body: &[u8]) -> Option<(String, String)> {
    let encrypt = element(body, b"Encrypt")?;
    let mut parts = [
        TOKEN,
        query.timestamp.as_str(),
        query.nonce.as_str(),
        encrypt.as_str(),
    ];
    parts.sort_unstable();
    let digest = Sha1::digest(parts.concat().as_bytes());
    let mut hex = String::with_capacity(40);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    if hex != query.msg_signature {
        return None;
    }
    let mut buf = base64::engine::general_purpose::STANDARD
        .decode(encrypt)
        .ok()?;
    let plain = cbc::Decryptor::<aes::Aes256>::new(key.as_slice().into(), key[..16].into())
        .decrypt_padded_mut::<NoPadding>(&mut buf)
        .ok()?;
    let pad = usize::from(*plain.last()?);
    let plain = &plain[..plain.len() - pad];
    let len = u32::from_be_bytes(plain[16..20].try_into().ok()?) as usize;
    let xml = &plain[20..20 + len];
    Some((element(xml, b"Token")?, element(xml, b"OpenKfId")?))
}

/// One signed `kf_msg_or_event` callback and what both sides need to open it.
struct Fixture {
    crypto: Crypto,
    key: [u8; 32],
    event: CallbackEvent,
    query: CallbackQuery,
    body: String,
}

impl Fixture {
    fn new() -> Result<Fixture, BoxError> {
        let crypto = Crypto::new(TOKEN, KEY, CORP)?;
        let key: [u8; 32] = base64::engine::general_purpose::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::general_purpose::GeneralPurposeConfig::new()
                .with_decode_allow_trailing_bits(true),
        )
        .decode(format!("{KEY}="))?
        .try_into()
        .map_err(|_| "key")?;
        let event = CallbackEvent::kf_msg_or_event(
            CORP,
            1_700_000_000,
            "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR",
            "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw",
        );
        let sealed = crypto.seal([7; 16], &now(), "1372623149", event.to_xml().as_bytes());
        let query = CallbackQuery::parse(&sealed.query())?;
        Ok(Fixture {
            crypto,
            key,
            event,
            query,
            body: sealed.body,
        })
    }

    /// Ours: `Crypto::open` + `CallbackEvent::parse`; whether it read the event back.
    fn ours(&self) -> bool {
        self.crypto
            .open(&self.query, self.body.as_bytes())
            .and_then(|xml| CallbackEvent::parse(&xml))
            .is_ok_and(|opened| opened == self.event)
    }

    /// The floor's open; whether it read the event back.
    fn floor(&self) -> bool {
        floor_open(&self.key, &self.query, self.body.as_bytes()).is_some()
    }
}

/// `profile-open-{ours,floor} N`: N opens, twice (a warm-up round and a measured one),
/// for `work` to count under valgrind.
pub(crate) fn profile(which: &str, calls: u32) -> Result<(), BoxError> {
    let fixture = Fixture::new()?;
    let open = match which {
        "open-ours" => Fixture::ours,
        "open-floor" => Fixture::floor,
        other => return Err(format!("no profile mode {other:?}").into()),
    };
    for _ in 0..2 * calls {
        if !open(std::hint::black_box(&fixture)) {
            return Err(format!("{which} did not open the callback").into());
        }
    }
    Ok(())
}

/// 7a. Open one callback: ours against the floor, alternating rounds.
pub(crate) fn open(sizes: &Sizes, report: &mut Report) -> Result<(), BoxError> {
    let fixture = Fixture::new()?;
    let calls = sizes.callback_calls;
    let (mut ours, mut floor) = (Vec::new(), Vec::new());
    let mut agree = true;
    for _ in 0..sizes.rounds {
        let started = Instant::now();
        for _ in 0..calls {
            agree &= fixture.ours();
        }
        ours.push(started.elapsed().as_secs_f64() / f64::from(calls));
        let started = Instant::now();
        for _ in 0..calls {
            agree &= fixture.floor();
        }
        floor.push(started.elapsed().as_secs_f64() / f64::from(calls));
    }
    let (ours, floor) = (median(ours), median(floor));
    report.line(format!(
        "\n## 7a. open one callback (verify + decrypt + parse), median of {} rounds × {calls}",
        sizes.rounds
    ));
    report.line(format!(
        "the crates directly (floor): {:.2} µs; wecom-kf (Crypto::open + CallbackEvent::parse): {:.2} µs",
        floor * 1e6,
        ours * 1e6
    ));
    let ratio = ours / floor;
    report.target("open: ours ÷ the crates", ratio, ratio <= 1.0, "≤ 1.0");
    report.check("both open every callback", agree);
    Ok(())
}

/// Serve `router` on a thread of its own (one worker); its base URL.
pub(crate) fn serve(router: axum::Router) -> Result<String, BoxError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build();
        if let Ok(runtime) = runtime {
            runtime.block_on(async move {
                if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                    let _ = axum::serve(listener, router).await;
                }
            });
        }
    });
    Ok(url)
}

/// POST every (query, body) to `url` with 64 in flight: calls/s, and how many got 200.
async fn blast(url: &str, requests: &[(String, String)]) -> (f64, usize) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let ok = futures_util::stream::iter(requests)
        .map(|(query, body)| {
            let request = http.post(format!("{url}?{query}")).body(body.clone());
            async move { request.send().await.is_ok_and(|r| r.status() == 200) }
        })
        .buffer_unordered(64)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    #[allow(clippy::cast_precision_loss)]
    let rate = requests.len() as f64 / started.elapsed().as_secs_f64();
    (rate, ok)
}

/// 7b. The receiver at 64 connections, distinct callbacks, against a bare route.
pub(crate) async fn receiver(sizes: &Sizes, report: &mut Report) -> Result<(), BoxError> {
    let crypto = Crypto::new(TOKEN, KEY, CORP)?;
    let mut config = ReceiverConfig::default();
    config.queue = sizes.receiver_calls as usize + 1;
    let (receiver, mut events) = Receiver::with_config(crypto.clone(), config);
    // The app's side: read the queue as it fills.
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let ours = serve(receiver.router("/callback"))?;
    let bare =
        serve(axum::Router::new().route("/callback", axum::routing::post(|| async { "success" })))?;
    let ts = now();
    let requests: Vec<(String, String)> = (0..sizes.receiver_calls)
        .map(|i| {
            let xml =
                CallbackEvent::kf_msg_or_event(CORP, 1, format!("ENC{i:040}"), "wk1").to_xml();
            let sealed = crypto.seal([3; 16], &ts, &i.to_string(), xml.as_bytes());
            (sealed.query(), sealed.body)
        })
        .collect();
    let (floor_rate, floor_ok) = blast(&format!("{bare}/callback"), &requests).await;
    let (rate, ok) = blast(&format!("{ours}/callback"), &requests).await;
    drop(receiver);
    report.line(format!(
        "\n## 7b. the receiver, {} distinct callbacks, 64 in flight (reqwest on this thread, the server on one worker thread)",
        sizes.receiver_calls
    ));
    report.line(format!(
        "bare axum route answering success (floor): {floor_rate:.0}/s; Receiver::router: {rate:.0} callbacks/s"
    ));
    report.line(format!(
        "receiver ÷ bare route: {:.3} (no target: the work per callback is 7a's)",
        rate / floor_rate
    ));
    report.check(
        "every callback answered 200",
        ok == requests.len() && floor_ok == requests.len(),
    );
    Ok(())
}
