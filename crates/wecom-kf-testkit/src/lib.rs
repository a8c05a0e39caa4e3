//! Test support: a private `redis-server` on a free loopback port, stopped on drop.
//!
//! Under `CI=true` a missing `redis-server` fails the test (CI installs it); elsewhere the
//! test is skipped with a message saying so, never silently.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `redis-server` process of our own.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    /// Where it keeps its append-only file, when it is durable.
    dir: Option<std::path::PathBuf>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl RedisServer {
    /// Start one, or `None` (with a message) when `redis-server` is not installed and
    /// this is not CI.
    ///
    /// # Panics
    /// Under `CI=true` when `redis-server` is missing, or when it does not come up.
    pub fn start() -> Option<RedisServer> {
        Self::launch(free_port(), None)
    }

    /// Like [`start`](Self::start), but durable: every write goes to an append-only file
    /// in `dir` (fsync'd each time), so a [`restart`](Self::restart) after a kill -9
    /// finds everything, as a production Redis configured for it would.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub fn start_durable(dir: &std::path::Path) -> Option<RedisServer> {
        Self::launch(free_port(), Some(dir.to_owned()))
    }

    /// Start it again on the same port (after [`stop`](Self::stop)).
    ///
    /// # Panics
    /// When it does not come up.
    pub fn restart(&mut self) {
        self.stop();
        let again =
            Self::launch(self.port, self.dir.clone()).expect("redis-server was found before");
        *self = again;
    }

    fn launch(port: u16, dir: Option<std::path::PathBuf>) -> Option<RedisServer> {
        let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
        let mut command = Command::new(&binary);
        command.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--protected-mode",
            "yes",
        ]);
        match &dir {
            Some(dir) => command
                .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                .arg(dir),
            None => command.args(["--appendonly", "no"]),
        };
        let spawned = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "redis-server is required under CI=true (.ci/run installs it): {e}"
                );
                eprintln!(
                    "SKIPPED: redis-server is not installed (apt-get install redis-server); this test needs it"
                );
                return None;
            }
            Err(e) => panic!("cannot start {binary}: {e}"),
        };
        let mut server = RedisServer {
            child: Some(child),
            port,
            dir,
        };
        for _ in 0..200 {
            if server.ping() {
                return Some(server);
            }
            // The port of a server just killed can take a moment to be free again.
            if let Some(Ok(Some(_))) = server.child.as_mut().map(Child::try_wait) {
                server.child = command.spawn().ok();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not answer PING on port {port} within 5 s");
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A blocking connection for inspecting keys.
    ///
    /// # Panics
    /// If the server is down.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .expect("connect to the test redis-server")
    }

    fn ping(&self) -> bool {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok()
    }

    /// Every key with its string value.
    ///
    /// # Panics
    /// If the server is down.
    pub fn dump(&self) -> Vec<(String, String)> {
        let mut connection = self.connection();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("*")
            .query(&mut connection)
            .expect("KEYS");
        keys.into_iter()
            .map(|key| {
                let value: Option<String> = redis::cmd("GET")
                    .arg(&key)
                    .query(&mut connection)
                    .unwrap_or(None);
                (key, value.unwrap_or_default())
            })
            .collect()
    }

    /// Stop it (kill -9); the port stays unanswered.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
