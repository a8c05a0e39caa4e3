//! Tables `knowledge_groups` and `knowledge_intents`: the knowledge base, in creation
//! order (docs/kf-api.md §4.14). The default group is created with the table, so it is
//! there from the start and again after a reset.
//!
//! An intent's similar questions and answer are kept as the JSON of their typed values,
//! in the shape `list_intent` gives them back.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, params};
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::knowledge::{Group, Intent, ListedAnswer, Question, SimilarQuestions};

use super::{Store, busy, exec};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS knowledge_groups (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id   TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    is_default INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS knowledge_intents (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    intent_id TEXT NOT NULL UNIQUE,
    group_id  TEXT NOT NULL,
    question  TEXT NOT NULL UNIQUE,
    similar   TEXT NOT NULL,
    answers   TEXT NOT NULL
);";

/// The default group's name, as the admin console shows it.
pub const DEFAULT_GROUP_NAME: &str = "默认分组";

/// The mirror: groups and intents by creation order, with the indexes the rules need.
#[derive(Default)]
pub(super) struct Knowledge {
    groups: BTreeMap<i64, Group>,
    group_seq: HashMap<String, i64>,
    intents: BTreeMap<i64, Intent>,
    intent_seq: HashMap<String, i64>,
    /// Main question → intent seq: questions are unique across groups.
    by_question: HashMap<String, i64>,
    /// group_id → intents it holds.
    per_group: HashMap<String, usize>,
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, ErrCode> {
    serde_json::to_string(value).map_err(|_| ErrCode::SYSTEM_BUSY)
}

impl Knowledge {
    /// Load the tables, creating the default group when there is none.
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Knowledge> {
        db.execute_batch(SCHEMA)?;
        let has_default: Option<i64> = db
            .query_row(
                "SELECT seq FROM knowledge_groups WHERE is_default = 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if has_default.is_none() {
            db.execute(
                "INSERT INTO knowledge_groups (group_id, name, is_default) VALUES (?1, ?2, 1)",
                params![crate::ids::knowledge_id(), DEFAULT_GROUP_NAME],
            )?;
        }
        let mut knowledge = Knowledge::default();
        let mut stmt = db
            .prepare("SELECT seq, group_id, name, is_default FROM knowledge_groups ORDER BY seq")?;
        let groups = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                Group::new(
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)? != 0,
                ),
            ))
        })?;
        for group in groups {
            let (seq, group) = group?;
            knowledge.group_seq.insert(group.group_id.clone(), seq);
            knowledge.groups.insert(seq, group);
        }
        let mut stmt = db.prepare(
            "SELECT seq, intent_id, group_id, question, similar, answers FROM knowledge_intents ORDER BY seq",
        )?;
        let intents = stmt.query_map([], |r| {
            let similar: SimilarQuestions = decode(&r.get::<_, String>(4)?)?;
            let answers: Vec<ListedAnswer> = decode(&r.get::<_, String>(5)?)?;
            Ok((
                r.get::<_, i64>(0)?,
                Intent::new(
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(1)?,
                    Question::new(r.get::<_, String>(3)?),
                    similar,
                    answers,
                ),
            ))
        })?;
        for intent in intents {
            let (seq, intent) = intent?;
            knowledge.index(seq, intent);
        }
        Ok(knowledge)
    }

    fn index(&mut self, seq: i64, intent: Intent) {
        self.intent_seq.insert(intent.intent_id.clone(), seq);
        self.by_question
            .insert(intent.question.content().to_owned(), seq);
        *self.per_group.entry(intent.group_id.clone()).or_default() += 1;
        self.intents.insert(seq, intent);
    }

    fn unindex(&mut self, seq: i64) -> Option<Intent> {
        let intent = self.intents.remove(&seq)?;
        self.intent_seq.remove(&intent.intent_id);
        self.by_question.remove(intent.question.content());
        if let Some(n) = self.per_group.get_mut(&intent.group_id) {
            *n = n.saturating_sub(1);
        }
        Some(intent)
    }
}

impl Store {
    /// Groups in creation order, with their cursor (`seq`).
    pub fn knowledge_groups(&self) -> impl Iterator<Item = (i64, &Group)> {
        self.knowledge.groups.iter().map(|(seq, g)| (*seq, g))
    }

    /// A group by id.
    pub fn knowledge_group(&self, group_id: &str) -> Option<&Group> {
        self.knowledge
            .group_seq
            .get(group_id)
            .and_then(|seq| self.knowledge.groups.get(seq))
    }

    /// Number of groups, the default one included.
    pub fn knowledge_group_count(&self) -> usize {
        self.knowledge.groups.len()
    }

    /// Intents a group holds.
    pub fn knowledge_group_size(&self, group_id: &str) -> usize {
        self.knowledge.per_group.get(group_id).copied().unwrap_or(0)
    }

    /// Intents in creation order, with their cursor (`seq`), from just after `after`.
    pub fn knowledge_intents(&self, after: i64) -> impl Iterator<Item = (i64, &Intent)> {
        self.knowledge
            .intents
            .range(after.saturating_add(1)..)
            .map(|(seq, i)| (*seq, i))
    }

    /// An intent by id.
    pub fn knowledge_intent(&self, intent_id: &str) -> Option<&Intent> {
        self.knowledge
            .intent_seq
            .get(intent_id)
            .and_then(|seq| self.knowledge.intents.get(seq))
    }

    /// The intent whose main question is `question`.
    pub fn knowledge_intent_by_question(&self, question: &str) -> Option<&Intent> {
        self.knowledge
            .by_question
            .get(question)
            .and_then(|seq| self.knowledge.intents.get(seq))
    }

    /// The file name of an upload: how an image or video attachment is listed.
    pub fn media_filename(&self, media_id: &str) -> Result<String, ErrCode> {
        self.db
            .query_row(
                "SELECT filename FROM media WHERE media_id = ?1",
                params![media_id],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| busy(&e))
    }

    /// Add a group; the caller checked the cap and the name under the same lock.
    pub fn insert_knowledge_group(&mut self, group_id: &str, name: &str) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "INSERT INTO knowledge_groups (group_id, name, is_default) VALUES (?1, ?2, 0)",
            params![group_id, name],
        )?;
        let seq = self.db.last_insert_rowid();
        self.knowledge.group_seq.insert(group_id.to_owned(), seq);
        self.knowledge
            .groups
            .insert(seq, Group::new(group_id, name, false));
        Ok(())
    }

    /// Rename a group.
    pub fn rename_knowledge_group(&mut self, group_id: &str, name: &str) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "UPDATE knowledge_groups SET name = ?2 WHERE group_id = ?1",
            params![group_id, name],
        )?;
        if let Some(group) = self
            .knowledge
            .group_seq
            .get(group_id)
            .and_then(|seq| self.knowledge.groups.get_mut(seq))
        {
            name.clone_into(&mut group.name);
        }
        Ok(())
    }

    /// Delete a group and its intents, in one transaction.
    pub fn delete_knowledge_group(&mut self, group_id: &str) -> Result<(), ErrCode> {
        let tx = self.db.unchecked_transaction().map_err(|e| busy(&e))?;
        exec(
            &tx,
            "DELETE FROM knowledge_intents WHERE group_id = ?1",
            params![group_id],
        )?;
        exec(
            &tx,
            "DELETE FROM knowledge_groups WHERE group_id = ?1",
            params![group_id],
        )?;
        tx.commit().map_err(|e| busy(&e))?;
        if let Some(seq) = self.knowledge.group_seq.remove(group_id) {
            self.knowledge.groups.remove(&seq);
        }
        let seqs: Vec<i64> = self
            .knowledge
            .intents
            .iter()
            .filter(|(_, i)| i.group_id == group_id)
            .map(|(seq, _)| *seq)
            .collect();
        for seq in seqs {
            self.knowledge.unindex(seq);
        }
        self.knowledge.per_group.remove(group_id);
        Ok(())
    }

    /// Add an intent; the caller checked the group, the cap and the question.
    pub fn insert_knowledge_intent(&mut self, intent: Intent) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "INSERT INTO knowledge_intents (intent_id, group_id, question, similar, answers) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                intent.intent_id,
                intent.group_id,
                intent.question.content(),
                encode(&intent.similar_questions)?,
                encode(&intent.answers)?
            ],
        )?;
        let seq = self.db.last_insert_rowid();
        self.knowledge.index(seq, intent);
        Ok(())
    }

    /// Replace an intent's question, similar questions and answer.
    pub fn update_knowledge_intent(&mut self, intent: Intent) -> Result<(), ErrCode> {
        let Some(&seq) = self.knowledge.intent_seq.get(&intent.intent_id) else {
            return Err(ErrCode::INVALID_PARAMETER);
        };
        exec(
            &self.db,
            "UPDATE knowledge_intents SET question = ?2, similar = ?3, answers = ?4 WHERE seq = ?1",
            params![
                seq,
                intent.question.content(),
                encode(&intent.similar_questions)?,
                encode(&intent.answers)?
            ],
        )?;
        self.knowledge.unindex(seq);
        self.knowledge.index(seq, intent);
        Ok(())
    }

    /// Delete an intent.
    pub fn delete_knowledge_intent(&mut self, intent_id: &str) -> Result<(), ErrCode> {
        let Some(&seq) = self.knowledge.intent_seq.get(intent_id) else {
            return Err(ErrCode::INVALID_PARAMETER);
        };
        exec(
            &self.db,
            "DELETE FROM knowledge_intents WHERE seq = ?1",
            params![seq],
        )?;
        self.knowledge.unindex(seq);
        Ok(())
    }
}
