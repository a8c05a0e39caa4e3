//! The knowledge base (docs/kf-api.md §4.14): unique group names and questions, the caps,
//! the default group that stays, attachments whose media must exist, cursor paging.
//!
//! Every refusal is `40058` (`knowledge::REFUSED`): the service documents none, and the
//! choice is documented in docs/kf-api.md §4.14. Unknown media is `40007`, as for sends.
//! Every caller of the emulator is a self-built app, which is who may call these.

use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::knowledge::{
    AddIntent, Answer, Attachment, Group, Intent, ListGroups, ListGroupsResponse, ListIntents,
    ListIntentsResponse, ListedAnswer, ListedAttachment, ModifyIntent, REFUSED,
};
use wecom_kf_types::limits::{KNOWLEDGE_GROUPS_MAX, KNOWLEDGE_INTENTS_PER_GROUP_MAX};
use wecom_kf_types::media::MediaType;

use super::World;
use crate::ids;
use crate::rejection::Rejection;

fn refuse(detail: impl Into<String>) -> Rejection {
    Rejection::with(REFUSED, detail)
}

/// A cursor is the position (`seq`) of the last item of the previous page.
fn parse_cursor(cursor: Option<&str>) -> Result<i64, Rejection> {
    match cursor {
        None | Some("") => Ok(0),
        Some(c) => c
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| refuse(format!("cursor {c:?} was not given by this service"))),
    }
}

/// One page of `items` (already past the cursor): the page, its next cursor, has_more.
fn page<'a, T: Clone + 'a>(
    mut items: impl Iterator<Item = (i64, &'a T)>,
    limit: u32,
    after: i64,
) -> (Vec<T>, String, bool) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(limit.min(1000));
    let mut last = after;
    for (seq, item) in items.by_ref().take(limit) {
        out.push(item.clone());
        last = seq;
    }
    let has_more = items.next().is_some();
    let next = if out.is_empty() {
        String::new()
    } else {
        last.to_string()
    };
    (out, next, has_more)
}

impl World<'_> {
    fn knowledge_group_or_refuse(&self, group_id: &str) -> Result<&Group, Rejection> {
        self.store
            .knowledge_group(group_id)
            .ok_or_else(|| refuse(format!("group_id {group_id:?} does not exist")))
    }

    fn changeable_group(&self, group_id: &str, what: &str) -> Result<(), Rejection> {
        if self.knowledge_group_or_refuse(group_id)?.is_default {
            return Err(refuse(format!("the default group cannot be {what}")));
        }
        Ok(())
    }

    fn name_taken(&self, name: &str, except: Option<&str>) -> Result<(), Rejection> {
        let taken = self
            .store
            .knowledge_groups()
            .any(|(_, g)| g.name == name && Some(g.group_id.as_str()) != except);
        if taken {
            return Err(refuse(format!("a group named {name:?} already exists")));
        }
        Ok(())
    }

    /// `kf/knowledge/add_group`: at most 100 groups, names unique.
    pub(crate) fn add_knowledge_group(&mut self, name: &str) -> Result<String, Rejection> {
        let count = self.store.knowledge_group_count();
        if count >= KNOWLEDGE_GROUPS_MAX {
            return Err(refuse(format!(
                "the corp already has {count} knowledge groups, the most it may have"
            )));
        }
        self.name_taken(name, None)?;
        let group_id = ids::knowledge_id();
        self.store.insert_knowledge_group(&group_id, name)?;
        Ok(group_id)
    }

    /// `kf/knowledge/mod_group`: not the default group; the new name unique.
    pub(crate) fn rename_knowledge_group(
        &mut self,
        group_id: &str,
        name: &str,
    ) -> Result<(), Rejection> {
        self.changeable_group(group_id, "renamed")?;
        self.name_taken(name, Some(group_id))?;
        self.store.rename_knowledge_group(group_id, name)?;
        Ok(())
    }

    /// `kf/knowledge/del_group`: not the default group; its intents go with it.
    pub(crate) fn delete_knowledge_group(&mut self, group_id: &str) -> Result<(), Rejection> {
        self.changeable_group(group_id, "deleted")?;
        self.store.delete_knowledge_group(group_id)?;
        Ok(())
    }

    /// `kf/knowledge/list_group`: by cursor; `group_id` filters (an unknown one lists
    /// nothing).
    pub(crate) fn list_knowledge_groups(
        &self,
        request: &ListGroups,
    ) -> Result<ListGroupsResponse, Rejection> {
        let after = parse_cursor(request.cursor.as_deref())?;
        let only = request.group_id.as_deref();
        let items = self
            .store
            .knowledge_groups()
            .filter(|(seq, g)| *seq > after && only.is_none_or(|id| g.group_id == id));
        let (groups, next, has_more) = page(items, request.limit_or_default(), after);
        Ok(ListGroupsResponse::new(groups, next, has_more))
    }

    /// How an attachment is listed; its media must be an upload of the right kind (40007).
    fn listed_attachment(&self, attachment: &Attachment) -> Result<ListedAttachment, Rejection> {
        let media = |field, media_id: &str, kind| -> Result<String, Rejection> {
            self.check_media(field, media_id, kind)?;
            Ok(self.store.media_filename(media_id)?)
        };
        let name = match attachment {
            Attachment::Image { image } => {
                media("image.media_id", &image.media_id, MediaType::Image)?
            }
            Attachment::Video { video } => {
                media("video.media_id", &video.media_id, MediaType::Video)?
            }
            Attachment::Miniprogram { miniprogram } => {
                media(
                    "miniprogram.thumb_media_id",
                    &miniprogram.thumb_media_id,
                    MediaType::Image,
                )?;
                String::new()
            }
            Attachment::Link { .. } => String::new(),
            other => {
                return Err(Rejection::with(
                    ErrCode::INVALID_MSGTYPE,
                    format!("attachment msgtype {} is not served", other.msgtype()),
                ));
            }
        };
        Ok(ListedAttachment::listed(attachment, name))
    }

    fn listed_answers(&self, answers: &[Answer]) -> Result<Vec<ListedAnswer>, Rejection> {
        answers
            .iter()
            .map(|answer| {
                let attachments = answer
                    .attachments
                    .iter()
                    .map(|a| self.listed_attachment(a))
                    .collect::<Result<_, _>>()?;
                Ok(ListedAnswer::new(answer.text.content.clone(), attachments))
            })
            .collect()
    }

    fn question_taken(&self, question: &str, except: Option<&str>) -> Result<(), Rejection> {
        match self.store.knowledge_intent_by_question(question) {
            Some(other) if Some(other.intent_id.as_str()) != except => Err(refuse(format!(
                "the question {question:?} already exists (intent {})",
                other.intent_id
            ))),
            _ => Ok(()),
        }
    }

    /// `kf/knowledge/add_intent`: the group exists and holds fewer than 200; the main
    /// question is unique across groups.
    pub(crate) fn add_knowledge_intent(
        &mut self,
        request: &AddIntent,
    ) -> Result<String, Rejection> {
        self.knowledge_group_or_refuse(&request.group_id)?;
        let held = self.store.knowledge_group_size(&request.group_id);
        if held >= KNOWLEDGE_INTENTS_PER_GROUP_MAX {
            return Err(refuse(format!(
                "group {} already holds {held} intents, the most it may",
                request.group_id
            )));
        }
        self.question_taken(request.question.content(), None)?;
        let answers = self.listed_answers(&request.answers)?;
        let intent_id = ids::knowledge_id();
        self.store.insert_knowledge_intent(Intent::new(
            request.group_id.clone(),
            intent_id.clone(),
            request.question.clone(),
            request.similar_questions.clone().unwrap_or_default(),
            answers,
        ))?;
        Ok(intent_id)
    }

    /// `kf/knowledge/mod_intent`: each part sent replaces the old one in full.
    pub(crate) fn modify_knowledge_intent(
        &mut self,
        request: &ModifyIntent,
    ) -> Result<(), Rejection> {
        let mut intent = self
            .store
            .knowledge_intent(&request.intent_id)
            .cloned()
            .ok_or_else(|| refuse(format!("intent_id {:?} does not exist", request.intent_id)))?;
        if let Some(question) = &request.question {
            self.question_taken(question.content(), Some(&request.intent_id))?;
            intent.question = question.clone();
        }
        if let Some(similar) = &request.similar_questions {
            intent.similar_questions = similar.clone();
        }
        if let Some(answers) = &request.answers {
            intent.answers = self.listed_answers(answers)?;
        }
        self.store.update_knowledge_intent(intent)?;
        Ok(())
    }

    /// `kf/knowledge/del_intent`.
    pub(crate) fn delete_knowledge_intent(&mut self, intent_id: &str) -> Result<(), Rejection> {
        if self.store.knowledge_intent(intent_id).is_none() {
            return Err(refuse(format!("intent_id {intent_id:?} does not exist")));
        }
        self.store.delete_knowledge_intent(intent_id)?;
        Ok(())
    }

    /// `kf/knowledge/list_intent`: by cursor; `group_id` and `intent_id` filter.
    pub(crate) fn list_knowledge_intents(
        &self,
        request: &ListIntents,
    ) -> Result<ListIntentsResponse, Rejection> {
        let after = parse_cursor(request.cursor.as_deref())?;
        let (group, only) = (request.group_id.as_deref(), request.intent_id.as_deref());
        let items = self.store.knowledge_intents(after).filter(|(_, i)| {
            group.is_none_or(|g| i.group_id == g) && only.is_none_or(|id| i.intent_id == id)
        });
        let (intents, next, has_more) = page(items, request.limit_or_default(), after);
        Ok(ListIntentsResponse::new(intents, next, has_more))
    }
}
