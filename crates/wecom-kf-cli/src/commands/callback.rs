//! `wecom-kf callback verify-url|decrypt|encrypt`: the callback mistakes made easy to
//! see — a URL that does not answer the check, a wrong Token or EncodingAESKey, a
//! `signature` taken for `msg_signature`, another corp's receiveid.
//!
//! The Token and the EncodingAESKey come from `WECOM_KF_CALLBACK_TOKEN` and
//! `WECOM_KF_CALLBACK_AES_KEY` or the profile, never from a flag, and are never printed.

use std::io::Read as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use rand::Rng;
use wecom_kf::callback::{CallbackEvent, CallbackQuery, Crypto, Envelope};

use crate::config::callback_settings;
use crate::error::CliError;
use crate::options::Global;
use crate::output::Output;

/// Callback commands.
#[derive(Subcommand, Debug)]
pub enum CallbackCommand {
    /// Check a callback URL as the admin console does: a signed GET with an encrypted
    /// echostr, whose plaintext must come back within 1 s. Says what came back and
    /// what was expected.
    #[command(
        after_help = "Example:\n  wecom-kf callback verify-url https://bot.example.com/callback"
    )]
    VerifyUrl {
        /// The URL configured in the admin console.
        url: String,
    },
    /// Open a captured callback POST: check the signature, the key, the receiveid, and
    /// print the decrypted XML. A failure names the check and its -400xx code.
    #[command(
        after_help = "Example:\n  wecom-kf callback decrypt --query 'msg_signature=…&timestamp=…&nonce=…' body.xml"
    )]
    Decrypt {
        /// The request's query string (msg_signature, timestamp, nonce; echostr for a URL check).
        #[arg(long)]
        query: String,
        /// The body (`-` or nothing: stdin). Not needed for an echostr.
        file: Option<PathBuf>,
    },
    /// Build a signed test callback from a plaintext XML (a kf_msg_or_event when none
    /// is given): the query string on the first line, the body after it.
    #[command(
        after_help = "Example:\n  wecom-kf callback encrypt event.xml > signed.txt\n  wecom-kf callback encrypt | { read q; curl -sS \"http://127.0.0.1:8080/callback?$q\" --data-binary @-; }"
    )]
    Encrypt {
        /// The plaintext XML (`-`: stdin; nothing: a sample kf_msg_or_event).
        file: Option<PathBuf>,
    },
}

/// The callback crypto from the settings (never from flags).
pub(crate) fn crypto(global: &Global) -> Result<Crypto, CliError> {
    let (token, key, corp_id) = callback_settings(global)?;
    Crypto::new(token, key.expose(), corp_id).map_err(|e| {
        CliError::Input(format!(
            "WECOM_KF_CALLBACK_AES_KEY: {e} (the key itself is not shown)"
        ))
    })
}

fn read_input(file: Option<&PathBuf>) -> Result<Vec<u8>, CliError> {
    match file {
        Some(path) if path.as_os_str() != "-" => std::fs::read(path)
            .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display()))),
        _ => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| CliError::Input(format!("cannot read stdin: {e}")))?;
            Ok(buf)
        }
    }
}

fn failed(check: &str, err: &wecom_kf::callback::CryptoError) -> CliError {
    CliError::Input(format!("{check}: failed ({}): {err}", err.code()))
}

fn unix_now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string()
}

pub async fn run(command: CallbackCommand, global: &Global) -> Result<(), CliError> {
    let out = Output::new(global.format);
    let crypto = crypto(global)?;
    match command {
        CallbackCommand::VerifyUrl { url } => verify_url(&out, &crypto, &url).await,
        CallbackCommand::Decrypt { query, file } => decrypt(&out, &crypto, &query, file.as_ref()),
        CallbackCommand::Encrypt { file } => encrypt(&out, &crypto, file.as_ref()),
    }
}

async fn verify_url(out: &Output, crypto: &Crypto, url: &str) -> Result<(), CliError> {
    let plain: u64 = rand::rng().random_range(1_000_000_000_000_000..10_000_000_000_000_000);
    let plain = plain.to_string();
    let query = crypto.url_check(rand::rng().random(), &unix_now(), "wecomkfcli", &plain);
    let separator = if url.contains('?') { '&' } else { '?' };
    let started = std::time::Instant::now();
    let answer = reqwest_get(&format!("{url}{separator}{}", query.encode())).await;
    let elapsed = started.elapsed();
    let (status, body) = answer.map_err(|why| {
        CliError::Input(format!(
            "{url}: {why}; expected HTTP 200 with {plain:?} within 1 s"
        ))
    })?;
    if status != 200 || body != plain || elapsed > Duration::from_secs(1) {
        return Err(CliError::Input(format!(
            "{url} answered HTTP {status} in {} ms with {:?}; expected HTTP 200 with {plain:?} (the decrypted echostr alone: no quotes, no newline) within 1000 ms",
            elapsed.as_millis(),
            body.chars().take(200).collect::<String>()
        )));
    }
    out.line(format!(
        "ok: {url} answered the echostr's plaintext in {} ms",
        elapsed.as_millis()
    ))
}

fn decrypt(
    out: &Output,
    crypto: &Crypto,
    query: &str,
    file: Option<&PathBuf>,
) -> Result<(), CliError> {
    let query = CallbackQuery::parse(query).map_err(|e| failed("query", &e))?;
    if let Some(echostr) = &query.echostr {
        crypto
            .verify(
                &query.msg_signature,
                &query.timestamp,
                &query.nonce,
                echostr,
            )
            .map_err(|e| failed("signature (msg_signature over the echostr)", &e))?;
        eprintln!("signature: ok");
        let plain = crypto
            .decrypt(echostr)
            .map_err(|e| failed("decryption", &e))?;
        eprintln!("key and receiveid: ok");
        return out.line(String::from_utf8_lossy(&plain));
    }
    let body = read_input(file)?;
    let envelope = Envelope::parse(&body).map_err(|e| failed("envelope", &e))?;
    eprintln!("envelope: ok (ToUserName {:?})", envelope.to_user_name);
    crypto
        .verify(
            &query.msg_signature,
            &query.timestamp,
            &query.nonce,
            &envelope.encrypt,
        )
        .map_err(|e| failed("signature", &e))?;
    eprintln!("signature: ok");
    let plain = crypto
        .decrypt(&envelope.encrypt)
        .map_err(|e| failed("decryption (key, padding, receiveid)", &e))?;
    eprintln!("key: ok; receiveid: ok ({})", crypto.receive_id());
    out.line(String::from_utf8_lossy(&plain))
}

fn encrypt(out: &Output, crypto: &Crypto, file: Option<&PathBuf>) -> Result<(), CliError> {
    let timestamp = unix_now();
    let plaintext = match file {
        None => CallbackEvent::kf_msg_or_event(
            crypto.receive_id(),
            timestamp.parse().unwrap_or_default(),
            "ENCtokenFromWecomKfCli",
            "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw",
        )
        .to_xml()
        .into_bytes(),
        Some(path) => read_input(Some(path))?,
    };
    let nonce: u32 = rand::rng().random();
    let sealed = crypto.seal(
        rand::rng().random(),
        &timestamp,
        &nonce.to_string(),
        &plaintext,
    );
    out.line(sealed.query())?;
    out.line(sealed.body)
}

/// A GET with a 1 s timeout: the status and the body, or why it failed.
async fn reqwest_get(url: &str) -> Result<(u16, String), String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let answer = http.get(url).send().await.map_err(|e| {
        if e.is_timeout() {
            "no answer within 1 s".to_owned()
        } else if e.is_connect() {
            "cannot connect".to_owned()
        } else {
            e.without_url().to_string()
        }
    })?;
    let status = answer.status().as_u16();
    Ok((status, answer.text().await.unwrap_or_default()))
}
