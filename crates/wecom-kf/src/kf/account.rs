//! `/cgi-bin/kf/account/{add,del,update,list}`: `client.account()`.

use std::path::Path;

use futures_util::Stream;
use futures_util::stream::{self, TryStreamExt};
use wecom_kf_types::kf::account::{
    Account, AddAccount, DeleteAccount, ListAccounts, UpdateAccount, validate_name,
};
use wecom_kf_types::kf::validate_open_kfid;
use wecom_kf_types::limits::LIST_LIMIT_MAX;
use wecom_kf_types::media::MediaType;
use wecom_kf_types::{ErrCode, Invalid, Limit};

use crate::{Client, Error};

/// kf account management: `client.account()`.
#[derive(Clone, Debug)]
pub struct AccountApi {
    client: Client,
}

impl Client {
    /// kf account management.
    pub fn account(&self) -> AccountApi {
        AccountApi {
            client: self.clone(),
        }
    }
}

impl AccountApi {
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Create an account; returns its `open_kfid`.
    ///
    /// Not retried once the request may have reached the server: such a failure is
    /// [`Error::OutcomeUnknown`]; look for the name with [`AccountApi::list_all`] before
    /// adding again.
    pub async fn add(
        &self,
        name: impl Into<String>,
        media_id: impl Into<String>,
    ) -> Result<String, Error> {
        Ok(self
            .client
            .execute(&AddAccount::new(name, media_id))
            .await?
            .open_kfid)
    }

    /// Upload the image at `avatar` and create the account with it, in one call. The name
    /// is checked first, so a bad name uploads nothing.
    pub async fn add_with_avatar(
        &self,
        name: impl Into<String>,
        avatar: impl AsRef<Path>,
    ) -> Result<String, Error> {
        let name = name.into();
        validate_name(&name)?;
        let media = self
            .client
            .media()
            .upload_path(MediaType::Image, avatar)
            .await?;
        self.add(name, media.media_id).await
    }

    /// Rename an account and/or change its avatar.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use wecom_kf::types::kf::account::UpdateAccount;
    /// client.account().update(UpdateAccount::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw").name("售后客服")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, request: UpdateAccount) -> Result<(), Error> {
        if request.name.is_none() && request.media_id.is_none() {
            return Err(Error::Validation(Invalid {
                field: "name/media_id",
                limit: Limit::Required,
                given: "neither a new name nor a new avatar".into(),
                errcode: ErrCode::PARAMETER_EMPTY,
            }));
        }
        self.client.execute(&request).await.map(drop)
    }

    /// Upload the image at `avatar` and make it the account's avatar, with the other
    /// changes of `request` (a new name, say). The request is checked first, so a bad
    /// name uploads nothing.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use wecom_kf::types::kf::account::UpdateAccount;
    /// let request = UpdateAccount::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw").name("值班客服");
    /// client.account().update_with_avatar(request, "new.png").await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_with_avatar(
        &self,
        mut request: UpdateAccount,
        avatar: impl AsRef<Path>,
    ) -> Result<(), Error> {
        validate_open_kfid(&request.open_kfid)?;
        if let Some(name) = &request.name {
            validate_name(name)?;
        }
        let media = self
            .client
            .media()
            .upload_path(MediaType::Image, avatar)
            .await?;
        request.media_id = Some(media.media_id);
        self.update(request).await
    }

    /// Delete an account. If a retry after an unknown outcome finds it gone (95004),
    /// that counts as done.
    pub async fn delete(&self, open_kfid: impl Into<String>) -> Result<(), Error> {
        self.client
            .execute(&DeleteAccount::new(open_kfid))
            .await
            .map(drop)
    }

    /// One page: at most `limit` (1–100) accounts from `offset`.
    pub async fn list(&self, offset: u32, limit: u32) -> Result<Vec<Account>, Error> {
        Ok(self
            .client
            .execute(&ListAccounts::page(offset, limit))
            .await?
            .account_list)
    }

    /// Every page, lazily: nothing is sent until the stream is polled, one page is held
    /// at a time, and it stops at the first page shorter than `page_size`.
    pub fn pages(
        &self,
        page_size: u32,
    ) -> impl Stream<Item = Result<Vec<Account>, Error>> + Send + 'static {
        let client = self.client.clone();
        stream::try_unfold(Some(0u32), move |offset| {
            let client = client.clone();
            async move {
                let Some(offset) = offset else {
                    return Ok(None);
                };
                let page = client
                    .execute(&ListAccounts::page(offset, page_size))
                    .await?
                    .account_list;
                let len = u32::try_from(page.len()).unwrap_or(u32::MAX);
                let next = (len >= page_size && len > 0).then(|| offset.saturating_add(len));
                Ok(if page.is_empty() {
                    None
                } else {
                    Some((page, next))
                })
            }
        })
    }

    /// Every account, lazily, 100 per request.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use futures_util::TryStreamExt;
    /// let mut accounts = std::pin::pin!(client.account().list_all());
    /// while let Some(account) = accounts.try_next().await? {
    ///     println!("{} {}", account.open_kfid, account.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_all(&self) -> impl Stream<Item = Result<Account, Error>> + Send + 'static {
        self.pages(LIST_LIMIT_MAX)
            .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
            .try_flatten()
    }
}
