//! Servicers of an account (docs/kf-api.md §4.1–4.3): per-item results, the directory
//! checks, and serving status.

use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::servicer::{ItemResult, Servicer, ServicerChange, Target};
use wecom_kf_types::limits::{SERVICER_DEPARTMENTS_MAX_PER_ACCOUNT, SERVICERS_MAX_PER_ACCOUNT};

use super::Caller;
use super::World;
use crate::rejection::Rejection;

fn targets(change: &ServicerChange) -> impl Iterator<Item = Target> + '_ {
    change
        .userid_list
        .iter()
        .map(|userid| Target::User {
            userid: userid.clone(),
        })
        .chain(
            change
                .department_id_list
                .iter()
                .map(|&department_id| Target::Department { department_id }),
        )
}

impl World<'_> {
    /// Every member who serves the account: named ones first, then members of its
    /// departments, each once.
    pub(crate) fn servicer_users(&self, open_kfid: &str) -> Vec<String> {
        let mut users: Vec<String> = Vec::new();
        let mut departments = Vec::new();
        for row in self.store.servicers(open_kfid) {
            match &row.target {
                Target::User { userid } => users.push(userid.clone()),
                Target::Department { department_id } => departments.push(*department_id),
            }
        }
        let mut by_department: Vec<String> = self
            .store
            .members()
            .filter(|(userid, member)| {
                member
                    .department_ids
                    .iter()
                    .any(|d| departments.contains(d))
                    && !users.contains(userid)
            })
            .map(|(userid, _)| userid.clone())
            .collect();
        by_department.sort();
        users.extend(by_department);
        users
    }

    /// Whether `userid` serves the account (by name or department) and activated WeCom.
    pub(crate) fn serves(&self, open_kfid: &str, userid: &str) -> bool {
        let Some(member) = self.store.member(userid) else {
            return false;
        };
        member.activated
            && self
                .store
                .servicers(open_kfid)
                .any(|row| match &row.target {
                    Target::User { userid: u } => u == userid,
                    Target::Department { department_id } => {
                        member.department_ids.contains(department_id)
                    }
                })
    }

    /// An account holds at most 2000 members and 20 departments as servicers.
    fn over_cap(&self, open_kfid: &str, target: &Target) -> Option<String> {
        let (is_user, cap) = match target {
            Target::User { .. } => (true, SERVICERS_MAX_PER_ACCOUNT),
            Target::Department { .. } => (false, SERVICER_DEPARTMENTS_MAX_PER_ACCOUNT),
        };
        let count = self
            .store
            .servicers(open_kfid)
            .filter(|row| matches!(row.target, Target::User { .. }) == is_user)
            .count();
        (count >= cap).then(|| {
            let what = if is_user { "members" } else { "departments" };
            format!("the account already has {count} servicer {what}, the most it may have")
        })
    }

    /// Why `target` cannot serve, if it cannot: 60111 unknown member, 95014 a member who
    /// has not activated WeCom, 60123 unknown department.
    fn refuse_servicer(&self, target: &Target) -> Option<(ErrCode, &'static str)> {
        match target {
            Target::User { userid } => match self.store.member(userid) {
                None => Some((ErrCode::USERID_NOT_FOUND, "userid not found")),
                Some(member) if !member.activated => Some((
                    ErrCode::NOT_A_SERVICER,
                    "the member has not activated WeCom",
                )),
                Some(_) => None,
            },
            Target::Department { department_id } => (!self.store.department_exists(*department_id))
                .then_some((ErrCode::DEPARTMENT_NOT_FOUND, "department not found")),
        }
    }

    /// `kf/servicer/add`: each item succeeds, is ignored (already a servicer), or fails
    /// with its own code; the call itself succeeds.
    pub(crate) fn add_servicers(
        &mut self,
        caller: &Caller,
        change: &ServicerChange,
    ) -> Result<Vec<ItemResult>, Rejection> {
        self.managed_account(&change.open_kfid, caller)?;
        let mut results = Vec::new();
        for target in targets(change) {
            let result = if let Some((code, why)) = self.refuse_servicer(&target) {
                ItemResult::new(target, code, why)
            } else if self.store.is_servicer(&change.open_kfid, &target) {
                ItemResult::new(target, ErrCode::OK, "ignored")
            } else if let Some(why) = self.over_cap(&change.open_kfid, &target) {
                ItemResult::new(target, ErrCode::INVALID_PARAMETER, why)
            } else {
                self.store
                    .insert_servicer(&change.open_kfid, target.clone())?;
                ItemResult::new(target, ErrCode::OK, "success")
            };
            results.push(result);
        }
        Ok(results)
    }

    /// `kf/servicer/del`: each item is removed, or ignored when it was not a servicer.
    pub(crate) fn delete_servicers(
        &mut self,
        caller: &Caller,
        change: &ServicerChange,
    ) -> Result<Vec<ItemResult>, Rejection> {
        self.managed_account(&change.open_kfid, caller)?;
        let mut results = Vec::new();
        for target in targets(change) {
            let result = if self.store.is_servicer(&change.open_kfid, &target) {
                self.store.delete_servicer(&change.open_kfid, &target)?;
                ItemResult::new(target, ErrCode::OK, "success")
            } else {
                ItemResult::new(target, ErrCode::OK, "ignored")
            };
            results.push(result);
        }
        Ok(results)
    }

    /// `kf/servicer/list`: read-level; a member's status only for an app that manages
    /// the account.
    pub(crate) fn list_servicers(
        &self,
        caller: &Caller,
        open_kfid: &str,
    ) -> Result<Vec<Servicer>, Rejection> {
        let account = self.account(open_kfid)?;
        let manages = account.owner == Some(caller.agent);
        Ok(self
            .store
            .servicers(open_kfid)
            .map(|row| match &row.target {
                Target::User { userid } if manages => {
                    let status = self.store.serving_status(open_kfid, userid);
                    Servicer::new(
                        row.target.clone(),
                        Some(status.status),
                        (status.status == 1).then_some(status.stop_type),
                    )
                }
                _ => Servicer::new(row.target.clone(), None, None),
            })
            .collect())
    }
}
