//! Customers (docs/kf-api.md §4.10, §4.13): `kf/customer/batchget` and 升级服务. What
//! a customer does in WeChat is in `wechat.rs`.

use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::customer::{
    Customer, EnterSessionContext, UpgradeService, UpgradeServiceConfig,
};
use wecom_kf_types::limits::SESSION_WINDOW_SECS;

use super::Caller;
use super::World;
use crate::rejection::Rejection;
use crate::store::UpgradeRow;

const UPGRADE_CONFIG_KEY: &str = "upgrade_service_config";

fn invalid(detail: impl Into<String>) -> Rejection {
    Rejection::with(ErrCode::INVALID_PARAMETER, detail)
}

impl World<'_> {
    /// `kf/customer/batchget`: known customers, and the ids that are not.
    pub(crate) fn batch_get_customers(
        &self,
        ids: &[String],
        with_context: bool,
    ) -> (Vec<Customer>, Vec<String>) {
        let mut found = Vec::new();
        let mut invalid = Vec::new();
        for id in ids {
            let Some(row) = self.store.customer(id) else {
                invalid.push(id.clone());
                continue;
            };
            let mut customer = Customer::new(id.clone(), row.nickname.clone());
            customer.gender = row.gender;
            customer.unionid.clone_from(&row.unionid);
            customer.avatar.clone_from(&row.avatar);
            if with_context {
                customer.enter_session_context = self
                    .store
                    .last_enter(id)
                    .filter(|e| self.now - e.entered_at <= SESSION_WINDOW_SECS)
                    .map(|e| EnterSessionContext::new(e.scene.clone(), e.scene_param.clone()));
            }
            found.push(customer);
        }
        (found, invalid)
    }

    /// The 升级服务 ranges, as the admin console (here the control plane) set them.
    pub(crate) fn upgrade_service_config(&self) -> UpgradeServiceConfig {
        self.store.setting(UPGRADE_CONFIG_KEY)
    }

    /// `POST /__emulator/upgrade_service_config`.
    pub(crate) fn set_upgrade_service_config(
        &mut self,
        config: &UpgradeServiceConfig,
    ) -> Result<(), Rejection> {
        Ok(self.store.put_setting(UPGRADE_CONFIG_KEY, config)?)
    }

    /// `kf/customer/upgrade_service`: to a customer who wrote in the last 48 hours
    /// (95031), a member or group chat in the configured range.
    pub(crate) fn upgrade_service(
        &mut self,
        caller: &Caller,
        request: &UpgradeService,
    ) -> Result<(), Rejection> {
        self.managed_account(&request.open_kfid, caller)?;
        self.known_customer(&request.external_userid)?;
        let consulted = self
            .store
            .session(&request.open_kfid, &request.external_userid)
            .is_some_and(|s| self.now - s.last_customer_msg_at <= SESSION_WINDOW_SECS);
        if !consulted {
            return Err(Rejection::with(
                ErrCode::NO_CONSULTATION_IN_48H,
                "the customer has not written to this account in the last 48 hours",
            ));
        }
        let config = self.upgrade_service_config();
        let (target, wording) = match (&request.member, &request.groupchat) {
            (Some(member), _) if request.kind == 1 => {
                let in_range = config.member_range.userid_list.contains(&member.userid)
                    || self.store.member(&member.userid).is_some_and(|m| {
                        m.department_ids
                            .iter()
                            .any(|d| config.member_range.department_id_list.contains(d))
                    });
                if !in_range {
                    return Err(Rejection::with(
                        ErrCode::NOT_IN_VISIBLE_RANGE,
                        format!("{:?} is not in the member range of 升级服务", member.userid),
                    ));
                }
                (member.userid.clone(), member.wording.clone())
            }
            (_, Some(chat)) if request.kind == 2 => {
                if !config.groupchat_range.chat_id_list.contains(&chat.chat_id) {
                    return Err(invalid(format!(
                        "chat_id {:?} is not in the group chat range of 升级服务",
                        chat.chat_id
                    )));
                }
                (chat.chat_id.clone(), chat.wording.clone())
            }
            _ => return Err(invalid("type 1 needs member, type 2 needs groupchat")),
        };
        self.store.insert_upgrade(UpgradeRow {
            open_kfid: request.open_kfid.clone(),
            external_userid: request.external_userid.clone(),
            kind: request.kind,
            target,
            wording,
            made_at: self.now,
            cancelled: false,
        })?;
        Ok(())
    }

    /// `kf/customer/cancel_upgrade_service`.
    pub(crate) fn cancel_upgrade_service(
        &mut self,
        caller: &Caller,
        open_kfid: &str,
        external_userid: &str,
    ) -> Result<(), Rejection> {
        self.managed_account(open_kfid, caller)?;
        self.known_customer(external_userid)?;
        self.store.cancel_upgrades(open_kfid, external_userid)?;
        Ok(())
    }
}
