//! `/cgi-bin/kf/customer/…`: `client.customer()`: profiles in calls of 100, and
//! 升级服务 (recommending a member or a group chat to a customer).

use wecom_kf_types::Endpoint;
use wecom_kf_types::kf::customer::{
    BatchGetCustomers, CancelUpgradeService, Customer, GetUpgradeServiceConfig, UpgradeService,
    UpgradeServiceConfig,
};
use wecom_kf_types::limits::CUSTOMER_BATCH_MAX;

use crate::{Client, Error};

/// Customers (WeChat users) of the corp's accounts: `client.customer()`.
#[derive(Clone, Debug)]
pub struct CustomerApi {
    client: Client,
}

impl Client {
    /// Customer profiles and 升级服务.
    pub fn customer(&self) -> CustomerApi {
        CustomerApi {
            client: self.clone(),
        }
    }
}

/// The answer of [`CustomerApi::get`]: who was found, and which ids name nobody.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Customers {
    /// Profiles, in the order the service gave them.
    pub found: Vec<Customer>,
    /// Ids that name no customer (not an error of the call).
    pub invalid: Vec<String>,
}

impl CustomerApi {
    /// Profiles of any number of customers; more than 100 are asked in several calls.
    /// Every id is checked before the first call.
    pub async fn get(&self, ids: &[String]) -> Result<Customers, Error> {
        self.fetch(ids, false).await
    }

    /// As [`CustomerApi::get`], with each customer's last enter-session context (scene
    /// and scene_param of the link they came by, within 48 hours).
    pub async fn get_with_context(&self, ids: &[String]) -> Result<Customers, Error> {
        self.fetch(ids, true).await
    }

    async fn fetch(&self, ids: &[String], with_context: bool) -> Result<Customers, Error> {
        // No ids at all is one (invalid) request, so validation names the field.
        let chunks: Vec<&[String]> = if ids.is_empty() {
            vec![ids]
        } else {
            ids.chunks(CUSTOMER_BATCH_MAX).collect()
        };
        let requests: Vec<BatchGetCustomers> = chunks
            .into_iter()
            .map(|chunk| {
                let request = BatchGetCustomers::new(chunk.iter().cloned());
                if with_context {
                    request.with_enter_context()
                } else {
                    request
                }
            })
            .collect();
        // Every id is checked before the first call: nothing half-done.
        for request in &requests {
            request.validate()?;
        }
        let mut customers = Customers::default();
        for request in &requests {
            let answer = self.client.execute(request).await?;
            customers.found.extend(answer.customer_list);
            customers.invalid.extend(answer.invalid_external_userid);
        }
        Ok(customers)
    }

    /// The members and group chats a customer may be recommended to.
    pub async fn upgrade_config(&self) -> Result<UpgradeServiceConfig, Error> {
        self.client
            .execute(&GetUpgradeServiceConfig::default())
            .await
    }

    /// Recommend a member (`UpgradeService::to_member`) or a group chat
    /// (`UpgradeService::to_groupchat`) to a customer who wrote in the last 48 hours.
    pub async fn upgrade(&self, request: &UpgradeService) -> Result<(), Error> {
        self.client.execute(request).await.map(|_| ())
    }

    /// Withdraw the recommendation made to a customer.
    pub async fn cancel_upgrade(
        &self,
        open_kfid: &str,
        external_userid: &str,
    ) -> Result<(), Error> {
        self.client
            .execute(&CancelUpgradeService::new(open_kfid, external_userid))
            .await
            .map(|_| ())
    }
}
