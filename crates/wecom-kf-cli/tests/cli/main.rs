//! The real `wecom-kf` binary against an emulator on 127.0.0.1.

// Scenario tests read top to bottom; splitting them would hide the story.
#![allow(clippy::too_many_lines)]

mod accounts;
mod callback;
mod console;
mod exit_codes;
mod fleet;
mod harness;
mod import;
mod knowledge;
mod media;
mod messages;
mod operations;
mod sandbox;
mod secrets;
mod serve;
mod sessions;
mod soak;
mod token_cache;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use wecom_kf_emulator::{Config, DEMO_CORP_ID, DEMO_SECRET, Running};

pub(crate) const PNG: &[u8] = wecom_kf_emulator::DEFAULT_AVATAR_PNG;

/// An emulator on its own runtime thread, so tests can run the binary synchronously.
pub(crate) struct Server {
    pub em: Running,
    pub runtime: tokio::runtime::Runtime,
    pub dir: tempfile::TempDir,
}

impl Server {
    pub(crate) fn start() -> Server {
        Server::with(Config::default())
    }

    pub(crate) fn with(config: Config) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let em = runtime.block_on(wecom_kf_emulator::spawn(config)).unwrap();
        Server {
            em,
            runtime,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The binary, configured for this emulator, isolated from the user's config.
    pub(crate) fn cmd(&self) -> Command {
        let mut cmd = bare(self.dir.path());
        cmd.env("WECOM_KF_BASE_URL", self.em.base_url())
            .env("WECOM_CORP_ID", DEMO_CORP_ID)
            .env("WECOM_KF_SECRET", DEMO_SECRET);
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run::of(self.cmd().args(args))
    }

    /// A file in the test's directory.
    pub(crate) fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Create an account through the CLI (uploading the test avatar); its `open_kfid`.
    pub(crate) fn add_account(&self, name: &str) -> String {
        let avatar = self.file("avatar-for-add.png", PNG);
        let added = self.run(&[
            "account",
            "add",
            "--name",
            name,
            "--avatar",
            avatar.to_str().unwrap(),
            "--format",
            "json",
        ]);
        added.ok().json()["open_kfid"].as_str().unwrap().to_owned()
    }

    pub(crate) fn calls(&self, path: &str) -> u64 {
        self.em
            .emulator()
            .stats()
            .requests
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn names(&self) -> Vec<String> {
        let out = self.run(&["account", "list", "--all", "--format", "json"]);
        out.ok();
        out.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The binary with no credentials and no user config.
pub(crate) fn bare(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wecom-kf"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("WECOM_KF_CONFIG", dir.join("config.toml"))
        .env("WECOM_KF_SANDBOX_DB", dir.join("sandbox.db"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// `sqlite:DIR/consumer.db`: serve's store in a test's directory, as `--store` takes it.
pub(crate) fn sqlite_store(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("consumer.db").display())
}

/// `wecom-kf --sandbox serve` in `dir` on a free port, polling every second, with
/// `--store STORE` and then `args`; once it listens, the process and its base URL
/// (stderr is drained so warnings never block it). Stop it with
/// [`harness::terminate`].
pub(crate) fn sandbox_serve(dir: &Path, store: &str, args: &[&str]) -> (Child, String) {
    let mut serve = bare(dir)
        .args([
            "--sandbox",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--poll",
            "1",
            "--store",
            store,
        ])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(serve.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (serve, listening_at(&first))
}

/// The base URL in serve's first line on stderr, `listening on URL …`.
pub(crate) fn listening_at(first: &str) -> String {
    first
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned()
}

/// The body of a GET (serve's /healthz and /metrics).
pub(crate) fn get(url: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

/// Serve's /metrics at `base` once `wanted` is in it, or after 20 s.
pub(crate) fn metrics_with(base: &str, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = get(&format!("{base}/metrics"));
        if metrics.contains(wanted) || Instant::now() > deadline {
            return metrics;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A finished run.
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub(crate) fn of(cmd: &mut Command) -> Run {
        let Output {
            status,
            stdout,
            stderr,
        } = cmd.output().unwrap();
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8(stdout).unwrap(),
            stderr: String::from_utf8(stderr).unwrap(),
        }
    }

    pub(crate) fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub(crate) fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}
