//! An emulator with one account and its customers, and `wecom-kf serve` processes
//! pointed at it, for the tests that kill and restart serve (the soak, the fleet).

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::bare;

/// The callback Token and EncodingAESKey the harness's serve processes use.
pub(crate) const TOKEN: &str = "soakCallbackToken";
pub(crate) const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

pub(crate) fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The bot of these tests, for `--exec`: it logs `msgid pid start_ns end_ns` to `log`
/// (pid: the serve process that ran it), takes `work` to answer, and answers
/// `re:<msgid>`.
pub(crate) fn logging_bot(log: &Path, work: &str) -> String {
    format!(
        "s=$(date +%s%N); id=$(sed -E 's/.*\"msgid\":\"([^\"]+)\".*/\\1/'); sleep {work}; e=$(date +%s%N); echo \"$id $PPID $s $e\" >> {}; echo \"re:$id\"",
        log.display()
    )
}

/// One line of the bot's log.
pub(crate) struct Handled {
    pub msgid: String,
    pub pid: u32,
    pub start_ns: u128,
    pub end_ns: u128,
}

pub(crate) fn read_log(log: &Path) -> Vec<Handled> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            Some(Handled {
                msgid: parts.next()?.to_owned(),
                pid: parts.next()?.parse().ok()?,
                start_ns: parts.next()?.parse().ok()?,
                end_ns: parts.next()?.parse().ok()?,
            })
        })
        .collect()
}

/// A runtime of two workers, as the tests' emulators and consumers run on.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The demo app's client for the emulator at `base`.
pub(crate) fn demo_client(base: &str) -> wecom_kf::Client {
    wecom_kf::Client::builder()
        .base_url(base)
        .corp_id(wecom_kf_emulator::DEMO_CORP_ID)
        .secret(wecom_kf_emulator::DEMO_SECRET)
        .build()
        .unwrap()
}

/// An account the app creates (so it manages it), with the default avatar.
pub(crate) async fn app_account(client: &wecom_kf::Client, name: &str) -> String {
    let avatar = client
        .media()
        .upload(
            wecom_kf::types::media::MediaType::Image,
            wecom_kf::media::Media::bytes("a.png", wecom_kf_emulator::DEFAULT_AVATAR_PNG),
        )
        .await
        .unwrap();
    client.account().add(name, avatar.media_id).await.unwrap()
}

pub(crate) struct Harness {
    pub runtime: tokio::runtime::Runtime,
    pub em: wecom_kf_emulator::Running,
    pub base: String,
    pub kfid: String,
    pub dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Harness {
    pub(crate) fn new() -> Harness {
        let runtime = runtime();
        let em = runtime
            .block_on(wecom_kf_emulator::spawn(
                wecom_kf_emulator::Config::default(),
            ))
            .unwrap();
        let base = em.base_url().to_owned();
        let kfid = runtime.block_on(async { app_account(&demo_client(&base), "压测").await });
        Harness {
            runtime,
            em,
            base,
            kfid,
            dir: tempfile::tempdir().unwrap(),
            http: reqwest::Client::new(),
        }
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> Value {
        self.runtime.block_on(async {
            let bytes = self
                .http
                .post(format!("{}{path}", self.base))
                .json(body)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            serde_json::from_slice(&bytes).unwrap()
        })
    }

    /// `n` new customers. Give each at most five messages: the service allows five
    /// answers after a customer's last message, so every message can have its reply.
    pub(crate) fn customers(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                self.post(
                    "/__emulator/customers",
                    &json!({"nickname": format!("客户{i}")}),
                )["external_userid"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    /// The customer writes `text`; its msgid.
    pub(crate) fn say(&self, who: &str, text: &str) -> String {
        let answer = self.post(
            &format!("/__emulator/customers/{who}/send"),
            &json!({"open_kfid": self.kfid, "msgtype": "text", "text": {"content": text}}),
        );
        answer["msgid"].as_str().unwrap().to_owned()
    }

    pub(crate) fn inbox(&self, who: &str) -> Vec<Value> {
        self.em.emulator().inbox(who, &self.kfid).unwrap()
    }

    /// `wecom-kf serve ARGS…` against the emulator, with the harness's callback pair.
    pub(crate) fn serve(&self, args: &[&str]) -> Child {
        self.serve_command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    pub(crate) fn serve_command(&self, args: &[&str]) -> Command {
        let mut command = bare(self.dir.path());
        command
            .env("WECOM_CORP_ID", wecom_kf_emulator::DEMO_CORP_ID)
            .env("WECOM_KF_SECRET", wecom_kf_emulator::DEMO_SECRET)
            .env("WECOM_KF_BASE_URL", &self.base)
            .env("WECOM_KF_CALLBACK_TOKEN", TOKEN)
            .env("WECOM_KF_CALLBACK_AES_KEY", KEY)
            .arg("serve")
            .args(args);
        command
    }

    /// Point the emulator's callbacks at a serve listening on `listen`, once it answers.
    pub(crate) fn push_to(&self, listen: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answer = self.post(
                "/__emulator/callback",
                &json!({"url": format!("http://{listen}/callback"), "token": TOKEN, "encoding_aes_key": KEY, "retry_ms": 200}),
            );
            if answer["verified"] == true {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "serve never answered the URL check: {answer}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Wait (bounded by `within`) until the customers' inboxes hold `total` replies.
    pub(crate) fn wait_for_replies(&self, customers: &[String], total: usize, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let replies: usize = customers.iter().map(|c| self.inbox(c).len()).sum();
            if replies >= total || Instant::now() > deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// For each message sent, its reply `re:<msgid>`: (missing, duplicates).
    pub(crate) fn count_replies(&self, sent: &HashMap<String, Vec<String>>) -> (usize, usize) {
        let (mut missing, mut duplicates) = (0, 0);
        for (who, ids) in sent {
            let mut replies: HashMap<String, usize> = HashMap::new();
            for m in self.inbox(who) {
                *replies
                    .entry(m["text"]["content"].as_str().unwrap_or_default().to_owned())
                    .or_default() += 1;
            }
            for id in ids {
                match replies.get(&format!("re:{id}")) {
                    None => missing += 1,
                    Some(n) if *n > 1 => duplicates += n - 1,
                    Some(_) => {}
                }
            }
        }
        (missing, duplicates)
    }
}

/// SIGTERM (unless it has exited already), then wait for it, at most 60 s; how it exited.
pub(crate) fn terminate(child: &mut Child) -> std::process::ExitStatus {
    if let Some(status) = child.try_wait().unwrap() {
        return status;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "process {} did not stop on SIGTERM",
            child.id()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
