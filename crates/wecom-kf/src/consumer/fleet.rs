//! The fair fleet: which accounts this process consumes when several share one store.
//!
//! **Membership.** Every process announces itself with a heartbeat that lives
//! `lease_ttl` ([`Store::heartbeat`](super::Store::heartbeat)), renewed every third of
//! it; on Redis the members are a sorted set whose scores are their expiry (Redis' own
//! clock, so the machines' clocks need not agree), and a member whose heartbeat ran out
//! is dropped by the next heartbeat of anyone. A store that serves one process
//! (SQLite) keeps the trait's default: this process is the only member.
//!
//! **Fair share.** Each process keeps at most [`fair_share`] of the current set of
//! accounts: all of them divided by the live members, rounded up. It keeps what it
//! holds (no churn while the fleet does not change), takes an account only while it
//! keeps fewer than its share, and hands over what is above its share: the accounts
//! last in name order, so every holder's choice is stable. Handing over ends the
//! account's tenure (its lanes finish the run in hand; the cursor stays at the
//! watermark) and only then gives the lease up, so the next holder starts from the
//! committed cursor and skips the handled msgids: nothing is lost, and the lease's
//! fence refuses any write of a holder that lost it.
//!
//! **A process dies.** Its heartbeat and its leases run out within `lease_ttl`; the
//! next heartbeat of the others counts one member fewer, their shares grow, and their
//! workers take the accounts that are free.
//!
//! **A process joins.** The others see one member more at their next heartbeat, their
//! shares shrink, and each hands over what is above it, which the newcomer takes.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

/// The most accounts one of `members` live processes keeps: `accounts / members`,
/// rounded up (with no member known, this process counts as one).
///
/// ```
/// use wecom_kf::consumer::fair_share;
///
/// assert_eq!(fair_share(30, 3), 10);
/// assert_eq!(fair_share(31, 3), 11);
/// assert_eq!(fair_share(2, 5), 1);
/// assert_eq!(fair_share(7, 0), 7);
/// ```
pub fn fair_share(accounts: usize, members: usize) -> usize {
    accounts.div_ceil(members.max(1))
}

/// This process's side of the fleet: its share and the accounts it keeps (held, or
/// being taken right now). Shared by the account workers of one consumer.
#[derive(Debug)]
pub(super) struct Fleet {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    share: usize,
    keep: BTreeSet<String>,
}

impl Fleet {
    /// A fleet whose share is `share` until the first heartbeat says otherwise.
    pub(super) fn new(share: usize) -> Fleet {
        Fleet {
            state: Mutex::new(State {
                share,
                keep: BTreeSet::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Set the share; whether it changed.
    pub(super) fn set_share(&self, share: usize) -> bool {
        let mut state = self.state();
        let changed = state.share != share;
        state.share = share;
        changed
    }

    /// May this process hold `open_kfid`? Yes if it keeps it already, or keeps fewer
    /// than its share (then it keeps it from now on, until [`Fleet::unclaim`]).
    pub(super) fn claim(&self, open_kfid: &str) -> bool {
        let mut state = self.state();
        if state.keep.contains(open_kfid) {
            return true;
        }
        if state.keep.len() < state.share {
            state.keep.insert(open_kfid.to_owned());
            return true;
        }
        false
    }

    /// This process does not hold `open_kfid` (it could not take it, or gave it up).
    pub(super) fn unclaim(&self, open_kfid: &str) {
        self.state().keep.remove(open_kfid);
    }

    /// Must `open_kfid` be handed over? Yes when this process keeps more than its
    /// share and the account is among the excess, the last in name order; then it is
    /// no longer kept. One decision at a time, so the process never hands over more
    /// than the excess.
    pub(super) fn hand_over(&self, open_kfid: &str) -> bool {
        let mut state = self.state();
        let excess = state.keep.len().saturating_sub(state.share);
        if excess == 0 {
            return false;
        }
        let last: Vec<&String> = state.keep.iter().rev().take(excess).collect();
        if last.iter().any(|id| id.as_str() == open_kfid) {
            state.keep.remove(open_kfid);
            return true;
        }
        false
    }

    /// Accounts kept now.
    #[cfg(test)]
    fn kept(&self) -> usize {
        self.state().keep.len()
    }

    #[cfg(test)]
    fn share(&self) -> usize {
        self.state().share
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// A model of the fleet over one lease table: each process runs the workers' step
    /// (hand over, else claim and acquire) on its accounts, the lease table lets one
    /// holder have an account.
    struct Model {
        fleets: Vec<Option<Fleet>>,
        leases: BTreeMap<usize, usize>,
        accounts: usize,
    }

    impl Model {
        fn new(processes: usize, accounts: usize) -> Model {
            Model {
                fleets: (0..processes).map(|_| None).collect(),
                leases: BTreeMap::new(),
                accounts,
            }
        }

        fn live(&self) -> usize {
            self.fleets.iter().filter(|f| f.is_some()).count()
        }

        /// Every live process's heartbeat: the shares follow the members.
        fn heartbeats(&self) {
            let share = fair_share(self.accounts, self.live());
            for fleet in self.fleets.iter().flatten() {
                fleet.set_share(share);
            }
        }

        fn start(&mut self, p: usize) {
            self.fleets[p] = Some(Fleet::new(fair_share(self.accounts, self.live() + 1)));
        }

        /// kill -9: its leases run out.
        fn kill(&mut self, p: usize) {
            self.fleets[p] = None;
            self.leases.retain(|_, holder| *holder != p);
        }

        /// One worker step of process `p` for account `a`, as `Worker::serve` does it.
        /// A process never takes an account beyond its share (that would only be
        /// handed over again: churn).
        fn step(&mut self, p: usize, a: usize) -> Result<(), TestCaseError> {
            let Some(fleet) = &self.fleets[p] else {
                return Ok(());
            };
            let id = format!("wk{a:04}");
            let holding = self.leases.get(&a) == Some(&p);
            if holding && fleet.hand_over(&id) {
                self.leases.remove(&a);
            } else if (holding || fleet.claim(&id))
                && let std::collections::btree_map::Entry::Vacant(free) = self.leases.entry(a)
            {
                free.insert(p);
                prop_assert!(
                    fleet.kept() <= fleet.share(),
                    "process {} took {} beyond its share {}",
                    p,
                    id,
                    fleet.share()
                );
            }
            if self.leases.get(&a) != Some(&p) {
                fleet.unclaim(&id);
            }
            Ok(())
        }

        /// Every worker of every process, until nothing changes.
        fn settle(&mut self) -> Result<(), TestCaseError> {
            for _ in 0..10 {
                let before = self.leases.clone();
                for p in 0..self.fleets.len() {
                    for a in 0..self.accounts {
                        self.step(p, a)?;
                    }
                }
                if before == self.leases {
                    break;
                }
            }
            Ok(())
        }

        fn shares(&self) -> Vec<usize> {
            (0..self.fleets.len())
                .filter(|p| self.fleets[*p].is_some())
                .map(|p| self.leases.values().filter(|h| **h == p).count())
                .collect()
        }

        fn check(&self) -> Result<(), TestCaseError> {
            let bound = fair_share(self.accounts, self.live());
            for (p, fleet) in self.fleets.iter().enumerate() {
                if let Some(fleet) = fleet {
                    let held = self.leases.values().filter(|h| **h == p).count();
                    prop_assert_eq!(fleet.kept(), held, "process {} keeps what it holds", p);
                }
            }
            prop_assert!(
                self.shares().iter().all(|n| *n <= bound),
                "shares {:?} over ceil({}/{}) = {}",
                self.shares(),
                self.accounts,
                self.live(),
                bound
            );
            if self.live() > 0 {
                prop_assert_eq!(self.leases.len(), self.accounts, "every account is held");
            }
            Ok(())
        }
    }

    #[derive(Clone, Debug)]
    enum Event {
        Start(usize),
        Kill(usize),
        /// Some workers run before the others see the change.
        Steps(Vec<(usize, usize)>),
    }

    fn events(processes: usize, accounts: usize) -> impl Strategy<Value = Vec<Event>> {
        let event = prop_oneof![
            (0..processes).prop_map(Event::Start),
            (0..processes).prop_map(Event::Kill),
            prop::collection::vec((0..processes, 0..accounts), 0..40).prop_map(Event::Steps),
        ];
        prop::collection::vec(event, 1..12)
    }

    proptest! {
        /// Whatever processes start and die, and whatever workers run before the
        /// others catch up: no account has two holders (the lease table cannot say
        /// so, and each process keeps exactly what it holds), and once the fleet
        /// settles every account is held and no share is over ceil(accounts / live).
        #[test]
        fn shares_settle_fair_and_every_account_has_one_holder(
            (processes, accounts, events) in (1usize..6, 0usize..40)
                .prop_flat_map(|(p, a)| (Just(p), Just(a), events(p, a.max(1))))
        ) {
            let mut model = Model::new(processes, accounts);
            for event in events {
                match event {
                    Event::Start(p) if model.fleets[p].is_none() => model.start(p),
                    Event::Start(_) => {}
                    Event::Kill(p) => model.kill(p),
                    Event::Steps(steps) => {
                        for (p, a) in steps {
                            if a < accounts {
                                model.step(p, a)?;
                            }
                        }
                    }
                }
                model.heartbeats();
                model.settle()?;
                model.check()?;
            }
        }
    }

    #[test]
    fn a_newcomer_gets_its_share_from_the_others_and_a_death_spreads_it() {
        let settle = |model: &mut Model| {
            model.heartbeats();
            model.settle().unwrap();
        };
        let mut model = Model::new(3, 30);
        model.start(0);
        settle(&mut model);
        assert_eq!(model.shares(), vec![30]);
        model.start(1);
        settle(&mut model);
        assert_eq!(model.shares(), vec![15, 15]);
        model.start(2);
        settle(&mut model);
        assert_eq!(model.shares(), vec![10, 10, 10]);
        model.kill(1);
        settle(&mut model);
        assert_eq!(model.shares(), vec![15, 15]);
    }

    #[test]
    fn what_is_handed_over_is_the_excess_last_in_name_order() {
        let fleet = Fleet::new(3);
        for id in ["a", "b", "c"] {
            assert!(fleet.claim(id));
        }
        assert!(!fleet.claim("d"), "the share is full");
        fleet.set_share(2);
        assert!(!fleet.hand_over("a"));
        assert!(!fleet.hand_over("b"));
        assert!(fleet.hand_over("c"));
        assert!(!fleet.hand_over("b"), "only the excess goes");
        assert_eq!(fleet.kept(), 2);
    }
}
