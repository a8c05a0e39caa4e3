//! `/cgi-bin/kf/servicer/{add,del,list}`: `client.servicer()`.
//!
//! Lists longer than the API's 100 per call are split into several calls, and the
//! per-item results come back typed: an overall success never hides a failed item.

use wecom_kf_types::Endpoint;
use wecom_kf_types::kf::servicer::{
    AddServicers, DeleteServicers, ItemResult, ItemResults, ListServicers, Servicer, Target,
};
use wecom_kf_types::limits::SERVICER_LIST_MAX;

use crate::{Client, Error};

/// The servicers (接待人员) of accounts: `client.servicer()`.
#[derive(Clone, Debug)]
pub struct ServicerApi {
    client: Client,
}

impl Client {
    /// Servicer management.
    pub fn servicer(&self) -> ServicerApi {
        ServicerApi {
            client: self.clone(),
        }
    }
}

/// What an add or a removal did, item by item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServicerChanges {
    /// Every item's result, in the order sent.
    pub results: Vec<ItemResult>,
}

impl ServicerChanges {
    /// Items changed (`"success"`).
    pub fn changed(&self) -> impl Iterator<Item = &Target> {
        self.results
            .iter()
            .filter(|r| r.is_ok() && !r.is_ignored())
            .map(|r| &r.target)
    }

    /// Items that were already so (`"ignored"`): already a servicer, or not one.
    pub fn unchanged(&self) -> impl Iterator<Item = &Target> {
        self.results
            .iter()
            .filter(|r| r.is_ignored())
            .map(|r| &r.target)
    }

    /// Items that failed, each with its own errcode (60111, 60123, 95014…).
    pub fn failed(&self) -> impl Iterator<Item = &ItemResult> {
        self.results.iter().filter(|r| !r.is_ok())
    }

    /// Whether every item was done or already so.
    pub fn all_ok(&self) -> bool {
        self.results.iter().all(ItemResult::is_ok)
    }
}

/// Split two lists into calls of at most 100 entries of each.
fn chunks<'a>(
    userids: &'a [String],
    department_ids: &'a [u32],
) -> impl Iterator<Item = (&'a [String], &'a [u32])> {
    let calls = userids
        .len()
        .div_ceil(SERVICER_LIST_MAX)
        .max(department_ids.len().div_ceil(SERVICER_LIST_MAX))
        .max(1);
    (0..calls).map(move |i| {
        let part = |len: usize| {
            let start = (i * SERVICER_LIST_MAX).min(len);
            start..(start + SERVICER_LIST_MAX).min(len)
        };
        (
            &userids[part(userids.len())],
            &department_ids[part(department_ids.len())],
        )
    })
}

impl ServicerApi {
    /// Make members (by userid) and departments servicers of `open_kfid`. Any number
    /// of each: more than 100 are sent in several calls.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// let changes = client.servicer().add("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", &["zhangsan".into()], &[2]).await?;
    /// for failed in changes.failed() {
    ///     eprintln!("{:?}: errcode {}", failed.target, failed.errcode);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn add(
        &self,
        open_kfid: &str,
        userids: &[String],
        department_ids: &[u32],
    ) -> Result<ServicerChanges, Error> {
        self.change(userids, department_ids, |users, departments| {
            AddServicers::new(
                open_kfid,
                users.iter().cloned(),
                departments.iter().copied(),
            )
        })
        .await
    }

    /// Stop members and departments from serving `open_kfid`; more than 100 are sent
    /// in several calls.
    pub async fn remove(
        &self,
        open_kfid: &str,
        userids: &[String],
        department_ids: &[u32],
    ) -> Result<ServicerChanges, Error> {
        self.change(userids, department_ids, |users, departments| {
            DeleteServicers::new(
                open_kfid,
                users.iter().cloned(),
                departments.iter().copied(),
            )
        })
        .await
    }

    /// Send an add or a removal in calls of at most 100 of each list, and gather every
    /// item's result in order. A failed call stops it: the calls before it are done.
    async fn change<E: Endpoint<Response = ItemResults>>(
        &self,
        userids: &[String],
        department_ids: &[u32],
        request: impl Fn(&[String], &[u32]) -> E,
    ) -> Result<ServicerChanges, Error> {
        let mut changes = ServicerChanges::default();
        for (users, departments) in chunks(userids, department_ids) {
            changes.results.extend(
                self.client
                    .execute(&request(users, departments))
                    .await?
                    .result_list,
            );
        }
        Ok(changes)
    }

    /// The servicers of `open_kfid`, with each member's serving status when this app
    /// manages the account (`GET`, as documented).
    pub async fn list(&self, open_kfid: impl Into<String>) -> Result<Vec<Servicer>, Error> {
        Ok(self
            .client
            .execute(&ListServicers::new(open_kfid))
            .await?
            .servicer_list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_split_into_calls_of_at_most_100() {
        let users: Vec<String> = (0..250).map(|i| format!("u{i}")).collect();
        let departments: Vec<u32> = (0..30).collect();
        let calls: Vec<_> = chunks(&users, &departments).collect();
        assert_eq!(calls.len(), 3);
        assert_eq!(
            calls
                .iter()
                .map(|(u, d)| (u.len(), d.len()))
                .collect::<Vec<_>>(),
            [(100, 30), (100, 0), (50, 0)]
        );
        assert_eq!(calls[2].0[0], "u200");
        assert_eq!(chunks(&[], &[1]).count(), 1);
    }
}
