//! `wecom-kf serve` as a fleet on one Redis: three processes never handle the account
//! at the same time, a killed lease holder's account is taken over once its lease
//! expires, and Redis stopping and coming back loses nothing.

use std::collections::{HashMap, HashSet};
use std::process::Child;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::harness::{Handled, Harness, free_port, logging_bot, read_log, terminate};

const LEASE_SECS: u64 = 3;
const POLL_SECS: u64 = 1;

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Send `count` messages, five per customer, a few milliseconds apart.
fn send(
    h: &Harness,
    customers: &[String],
    from: usize,
    count: usize,
    sent: &mut HashMap<String, Vec<String>>,
) {
    for i in from..from + count {
        let who = &customers[i / 5];
        sent.entry(who.clone())
            .or_default()
            .push(h.say(who, &format!("m{i}")));
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs that overlap in time, in the order they started: none may.
/// Runs of two different processes that overlap in time. One process runs customers
/// side by side (issue 26), so its own runs may overlap; two holders' never may.
fn overlaps(log: &[Handled]) -> Vec<(u32, u32)> {
    let mut found = Vec::new();
    for (i, a) in log.iter().enumerate() {
        for b in &log[i + 1..] {
            if a.pid != b.pid && a.start_ns < b.end_ns && b.start_ns < a.end_ns {
                found.push((a.pid, b.pid));
            }
        }
    }
    found
}

fn fleet(h: &Harness, store: &str, bot: &str, n: usize) -> Vec<Child> {
    let (poll, lease) = (POLL_SECS.to_string(), LEASE_SECS.to_string());
    (0..n)
        .map(|_| {
            let listen = format!("127.0.0.1:{}", free_port());
            h.serve(&[
                "--listen", &listen, "--poll", &poll, "--lease", &lease, "--store", store,
                "--exec", bot,
            ])
        })
        .collect()
}

#[test]
fn three_serve_processes_on_one_redis_take_turns_and_take_over_a_dead_holder() {
    let Some(redis) = wecom_kf_testkit::RedisServer::start() else {
        return;
    };
    let h = Harness::new();
    let customers = h.customers(24);
    let log = h.dir.path().join("handled.log");
    // Each run takes 30 ms, so runs of two processes at once would show.
    let bot = logging_bot(&log, "0.03");
    let mut serves = fleet(&h, &redis.url(), &bot, 3);
    let pids: HashSet<u32> = serves.iter().map(Child::id).collect();

    let mut sent = HashMap::new();
    send(&h, &customers, 0, 60, &mut sent);
    h.wait_for_replies(&customers, 60, Duration::from_secs(60));

    // Kill the holder: the last process that handled a message.
    let holder = read_log(&log).last().expect("messages were handled").pid;
    let killed_at = now_ns();
    let index = serves.iter().position(|c| c.id() == holder).unwrap();
    serves[index].kill().unwrap(); // SIGKILL: its lease is not given up
    serves[index].wait().unwrap();
    send(&h, &customers, 60, 60, &mut sent);
    h.wait_for_replies(&customers, 120, Duration::from_secs(60));
    for serve in &mut serves {
        terminate(serve);
    }

    let runs = read_log(&log);
    let takeover = runs
        .iter()
        .filter(|r| r.pid != holder && r.start_ns > killed_at)
        .map(|r| r.start_ns - killed_at)
        .min()
        .expect("another process took the account over");
    let handled: HashSet<&str> = runs.iter().map(|r| r.msgid.as_str()).collect();
    let lost = sent
        .values()
        .flatten()
        .filter(|id| !handled.contains(id.as_str()))
        .count();
    let (missing, duplicates) = h.count_replies(&sent);
    let by: HashSet<u32> = runs.iter().map(|r| r.pid).collect();
    eprintln!(
        "fleet: {} runs by {} processes, overlaps {:?}; the holder killed, taken over after {} ms (lease {LEASE_SECS} s, poll {POLL_SECS} s); lost {lost}, replies missing {missing}, duplicate replies {duplicates}",
        runs.len(),
        by.len(),
        overlaps(&runs),
        takeover / 1_000_000
    );
    assert!(by.is_subset(&pids), "{by:?} ⊄ {pids:?}");
    assert!(by.len() >= 2, "the account changed hands: {by:?}");
    assert_eq!(overlaps(&runs), vec![], "two processes handled at once");
    // The lease runs out within LEASE_SECS of the kill; the next poll takes it.
    let bound = u128::from(LEASE_SECS + POLL_SECS) * 1_000_000_000 + 1_500_000_000;
    assert!(takeover <= bound, "taken over after {takeover} ns");
    assert_eq!(lost, 0);
    assert_eq!((missing, duplicates), (0, 0));
}

#[test]
fn redis_stopping_and_coming_back_loses_nothing() {
    let redis_dir = tempfile::tempdir().unwrap();
    let Some(mut redis) = wecom_kf_testkit::RedisServer::start_durable(redis_dir.path()) else {
        return;
    };
    let h = Harness::new();
    let customers = h.customers(8);
    let log = h.dir.path().join("handled.log");
    let bot = logging_bot(&log, "0");
    let mut serves = fleet(&h, &redis.url(), &bot, 1);

    let mut sent = HashMap::new();
    send(&h, &customers, 0, 20, &mut sent);
    h.wait_for_replies(&customers, 20, Duration::from_secs(30));
    assert_eq!(read_log(&log).len(), 20);

    // Redis goes away (kill -9); customers go on writing.
    redis.stop();
    send(&h, &customers, 20, 20, &mut sent);
    std::thread::sleep(Duration::from_secs(3 * POLL_SECS));
    assert!(
        serves[0].try_wait().unwrap().is_none(),
        "serve keeps running while Redis is down"
    );
    let while_down = read_log(&log).len();

    redis.restart();
    h.wait_for_replies(&customers, 40, Duration::from_secs(60));
    terminate(&mut serves[0]);

    let runs = read_log(&log);
    let handled: HashSet<&str> = runs.iter().map(|r| r.msgid.as_str()).collect();
    let lost = sent
        .values()
        .flatten()
        .filter(|id| !handled.contains(id.as_str()))
        .count();
    let (missing, duplicates) = h.count_replies(&sent);
    eprintln!(
        "redis down and back: {} runs ({} while down), lost {lost}, handled twice {}, replies missing {missing}, duplicate replies {duplicates}",
        runs.len(),
        while_down - 20,
        runs.len() - handled.len()
    );
    assert_eq!(while_down, 20, "nothing is handled while Redis is down");
    assert_eq!(lost, 0);
    assert_eq!((missing, duplicates), (0, 0));
}
