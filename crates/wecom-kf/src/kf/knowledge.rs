//! `/cgi-bin/kf/knowledge/…`: the knowledge base (知识库), `client.knowledge()`.
//!
//! Groups and intents (a question, similar questions and one answer). Only a self-built
//! app listed under 「微信客服-可调用接口的应用」 may call these (docs/kf-api.md §4.14).
//! Every request is checked against the documented limits before it is sent.
//!
//! `add_group` and `add_intent` are not idempotent: when one may have reached the
//! server and no answer came, it fails with [`Error::OutcomeUnknown`] and is not retried;
//! look for the name or the question before adding it again.

use futures_util::Stream;
use futures_util::stream::{self, TryStreamExt};
use wecom_kf_types::kf::knowledge::{
    AddGroup, AddIntent, DeleteGroup, DeleteIntent, Group, Intent, ListGroups, ListGroupsResponse,
    ListIntents, ListIntentsResponse, ModifyGroup, ModifyIntent,
};
use wecom_kf_types::limits::KNOWLEDGE_LIST_LIMIT_MAX;

use crate::{Client, Error};

/// The knowledge base: `client.knowledge()`.
#[derive(Clone, Debug)]
pub struct KnowledgeApi {
    client: Client,
}

impl Client {
    /// The knowledge base (知识库): groups and intents.
    pub fn knowledge(&self) -> KnowledgeApi {
        KnowledgeApi {
            client: self.clone(),
        }
    }
}

/// A list request that starts at a cursor.
trait Cursor {
    fn cursor(&self) -> Option<String>;
}

impl Cursor for ListGroups {
    fn cursor(&self) -> Option<String> {
        self.cursor.clone()
    }
}

impl Cursor for ListIntents {
    fn cursor(&self) -> Option<String> {
        self.cursor.clone()
    }
}

/// Pages by cursor until `has_more` is 0, lazily; an empty page ends it too, so a
/// server that never says "no more" cannot loop us forever.
fn cursor_pages<Req, Page, Item>(
    client: Client,
    request: Req,
    set_cursor: fn(&mut Req, Option<String>),
    split: fn(Page) -> (Vec<Item>, String, bool),
) -> impl Stream<Item = Result<Vec<Item>, Error>> + Send + 'static
where
    Req: wecom_kf_types::Endpoint<Response = Page> + Cursor + Clone + 'static,
    Page: Send + 'static,
    Item: Send + 'static,
{
    stream::try_unfold(Some(request.cursor()), move |cursor| {
        let (client, mut request) = (client.clone(), request.clone());
        async move {
            let Some(cursor) = cursor else {
                return Ok(None);
            };
            set_cursor(&mut request, cursor);
            let (items, next, has_more) = split(client.execute(&request).await?);
            if items.is_empty() {
                return Ok(None);
            }
            Ok(Some((
                items,
                (has_more && !next.is_empty()).then_some(Some(next)),
            )))
        }
    })
}

impl KnowledgeApi {
    /// Add a group (1–12 characters, unique); returns its `group_id`.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// let group_id = client.knowledge().add_group("售后").await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_group(&self, name: impl Into<String>) -> Result<String, Error> {
        Ok(self.client.execute(&AddGroup::new(name)).await?.group_id)
    }

    /// Rename a group (not the default one).
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// client.knowledge().rename_group("GROUP_ID", "物流").await?;
    /// # Ok(()) }
    /// ```
    pub async fn rename_group(
        &self,
        group_id: impl Into<String>,
        name: impl Into<String>,
    ) -> Result<(), Error> {
        self.client
            .execute(&ModifyGroup::new(group_id, name))
            .await
            .map(drop)
    }

    /// Delete a group and the intents it holds (not the default group).
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// client.knowledge().delete_group("GROUP_ID").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_group(&self, group_id: impl Into<String>) -> Result<(), Error> {
        self.client
            .execute(&DeleteGroup::new(group_id))
            .await
            .map(drop)
    }

    /// One page of groups.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use wecom_kf::types::kf::knowledge::ListGroups;
    /// let page = client.knowledge().group_page(&ListGroups::page(None, 100)).await?;
    /// println!("{} groups, more: {}", page.group_list.len(), page.has_more);
    /// # Ok(()) }
    /// ```
    pub async fn group_page(&self, request: &ListGroups) -> Result<ListGroupsResponse, Error> {
        self.client.execute(request).await
    }

    /// Every group, lazily, 1000 per request; nothing is sent until it is polled.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use futures_util::TryStreamExt;
    /// let groups: Vec<_> = client.knowledge().groups().try_collect().await?;
    /// let default = groups.iter().find(|g| g.is_default);
    /// # Ok(()) }
    /// ```
    pub fn groups(&self) -> impl Stream<Item = Result<Group, Error>> + Send + 'static {
        self.group_pages(ListGroups::page(None, KNOWLEDGE_LIST_LIMIT_MAX))
            .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
            .try_flatten()
    }

    /// The pages of groups from `request` (its cursor is where to start).
    pub fn group_pages(
        &self,
        request: ListGroups,
    ) -> impl Stream<Item = Result<Vec<Group>, Error>> + Send + 'static {
        cursor_pages(
            self.client.clone(),
            request,
            |r, c| r.cursor = c,
            |p: ListGroupsResponse| (p.group_list, p.next_cursor, p.has_more),
        )
    }

    /// Add an intent; returns its `intent_id`. Not retried once it may have reached the
    /// server: such a failure is [`Error::OutcomeUnknown`].
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use wecom_kf::types::kf::knowledge::{AddIntent, Answer};
    /// let request = AddIntent::new("GROUP_ID", "怎么退货？", Answer::new("七天内可在订单页申请退货。"))
    ///     .similar(["如何退货"]);
    /// let intent_id = client.knowledge().add_intent(&request).await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_intent(&self, request: &AddIntent) -> Result<String, Error> {
        Ok(self.client.execute(request).await?.intent_id)
    }

    /// Change an intent: each part set replaces the old one in full.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use wecom_kf::types::kf::knowledge::{Answer, ModifyIntent};
    /// let change = ModifyIntent::new("INTENT_ID").answer(Answer::new("三十天内可退货。"));
    /// client.knowledge().modify_intent(&change).await?;
    /// # Ok(()) }
    /// ```
    pub async fn modify_intent(&self, request: &ModifyIntent) -> Result<(), Error> {
        self.client.execute(request).await.map(drop)
    }

    /// Delete an intent.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// client.knowledge().delete_intent("INTENT_ID").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_intent(&self, intent_id: impl Into<String>) -> Result<(), Error> {
        self.client
            .execute(&DeleteIntent::new(intent_id))
            .await
            .map(drop)
    }

    /// One page of intents.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use wecom_kf::types::kf::knowledge::ListIntents;
    /// let page = client.knowledge().intent_page(&ListIntents::page(None, 50).group("GROUP_ID")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn intent_page(&self, request: &ListIntents) -> Result<ListIntentsResponse, Error> {
        self.client.execute(request).await
    }

    /// The pages of intents from `request` (its filters apply; its cursor is where to start).
    pub fn intent_pages(
        &self,
        request: ListIntents,
    ) -> impl Stream<Item = Result<Vec<Intent>, Error>> + Send + 'static {
        cursor_pages(
            self.client.clone(),
            request,
            |r, c| r.cursor = c,
            |p: ListIntentsResponse| (p.intent_list, p.next_cursor, p.has_more),
        )
    }

    /// Every intent of a group, lazily, 1000 per request.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use futures_util::TryStreamExt;
    /// let mut intents = std::pin::pin!(client.knowledge().intents("GROUP_ID"));
    /// while let Some(intent) = intents.try_next().await? {
    ///     println!("{}", intent.question.content());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn intents(
        &self,
        group_id: impl Into<String>,
    ) -> impl Stream<Item = Result<Intent, Error>> + Send + 'static {
        self.intent_pages(ListIntents::page(None, KNOWLEDGE_LIST_LIMIT_MAX).group(group_id))
            .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
            .try_flatten()
    }

    /// Every intent of every group, lazily, 1000 per request.
    pub fn all_intents(&self) -> impl Stream<Item = Result<Intent, Error>> + Send + 'static {
        self.intent_pages(ListIntents::page(None, KNOWLEDGE_LIST_LIMIT_MAX))
            .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
            .try_flatten()
    }
}
