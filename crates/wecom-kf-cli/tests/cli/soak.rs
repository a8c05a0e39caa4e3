//! The kill -9 soak of `wecom-kf serve`: customer messages flow through an emulator
//! while the serve process is killed at random points and restarted. Afterwards every
//! message was handled (0 lost), each customer has exactly one reply per message (0
//! duplicate replies), and the messages handled twice are counted: those that fell in
//! the documented window between a handler's success and the store's record.
//!
//! serve runs with `--concurrency 64`: many lanes are in flight when it is killed.
//!
//! `SOAK_MESSAGES` (default 1000) and `SOAK_KILLS` (default 5) scale it;
//! `SOAK_MESSAGES=10000 cargo test -p wecom-kf-cli --test cli soak -- --nocapture`
//! prints the figures of the long run.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;

use crate::harness::{Harness, env_number, free_port, logging_bot, read_log, terminate};

#[test]
fn serve_killed_at_random_loses_nothing_and_never_answers_twice() {
    let messages = env_number("SOAK_MESSAGES", 1000);
    let kills = env_number("SOAK_KILLS", 5);
    let h = Harness::new();
    let customers = h.customers(messages.div_ceil(5));
    let log = h.dir.path().join("handled.log");
    let store = format!("sqlite:{}", h.dir.path().join("consumer.db").display());
    let listen = format!("127.0.0.1:{}", free_port());
    // Many customers, each writing at a person's pace (one message in every
    // `customers.len()`), and a bot slow enough that many lanes are in flight at a kill.
    let bot = logging_bot(&log, "0.1");
    let args = [
        "--listen",
        &listen,
        "--poll",
        "1",
        "--store",
        &store,
        "--concurrency",
        "64",
        "--exec",
        &bot,
    ];
    let mut serve = h.serve(&args);
    h.push_to(&listen);

    // Send every message, killing serve at random points meanwhile.
    let mut rng = rand::rng();
    let kill_every = (messages / (kills + 1)).max(1);
    let mut killed = 0;
    let mut sent: HashMap<String, Vec<String>> = HashMap::new();
    for i in 0..messages {
        let who = &customers[i % customers.len()];
        let msgid = h.say(who, &format!("m{i}"));
        sent.entry(who.clone()).or_default().push(msgid);
        if i > 0 && i % kill_every == 0 && killed < kills {
            // Somewhere in the middle of its work.
            std::thread::sleep(Duration::from_millis(rng.random_range(50..400)));
            serve.kill().unwrap(); // SIGKILL
            serve.wait().unwrap();
            killed += 1;
            std::thread::sleep(Duration::from_millis(rng.random_range(0..300)));
            serve = h.serve(&args);
        }
    }
    assert_eq!(killed, kills);

    // About 50 messages a second go through `sh -c` and back; allow for it.
    let allowed = u64::try_from(messages / 20).unwrap_or(u64::MAX).max(120);
    h.wait_for_replies(&customers, messages, Duration::from_secs(allowed));
    terminate(&mut serve);

    let mut handled: HashMap<String, usize> = HashMap::new();
    for line in read_log(&log) {
        *handled.entry(line.msgid).or_default() += 1;
    }
    let lost: Vec<&String> = sent
        .values()
        .flatten()
        .filter(|id| !handled.contains_key(id.as_str()))
        .collect();
    let twice = handled.values().filter(|n| **n > 1).count();
    let (missing_replies, duplicate_replies) = h.count_replies(&sent);
    eprintln!(
        "soak: {messages} messages, {kills} kill -9 restarts; lost {}, handled twice {twice} (the window), replies missing {missing_replies}, duplicate replies {duplicate_replies}",
        lost.len()
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    // Only runs in the window (handler done, msgid not yet recorded) replay: at most
    // one per run slot at each kill.
    assert!(twice <= kills * 64, "{twice} handled twice");
    assert_eq!(missing_replies, 0);
    assert_eq!(duplicate_replies, 0);
}
