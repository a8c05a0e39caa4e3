//! Table `messages`: what `kf/sync_msg` returns, in order: customers' messages (origin
//! 3), events (4) and servicers' messages from the WeCom app (5); plus what the app
//! sent (the customer's inbox), which sync_msg never returns. Table `sync_tokens`: the
//! Tokens callbacks carry for `kf/sync_msg`.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::message::Origin;

use super::{Store, exec};

/// The `messages` table: written once, used by the schema and by the migration from
/// the first version (which had no `delivered`).
macro_rules! messages_table {
    () => {
        "
CREATE TABLE IF NOT EXISTS messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    msgid           TEXT NOT NULL,
    open_kfid       TEXT NOT NULL,
    external_userid TEXT NOT NULL,
    session_id      INTEGER,
    origin          INTEGER NOT NULL,
    servicer_userid TEXT,
    msgtype         TEXT NOT NULL,
    content         TEXT NOT NULL,
    send_time       INTEGER NOT NULL,
    recalled        INTEGER NOT NULL DEFAULT 0,
    delivered       INTEGER NOT NULL DEFAULT 1,
    UNIQUE (open_kfid, msgid)
);"
    };
}

const SCHEMA: &str = concat!(
    messages_table!(),
    "
CREATE TABLE IF NOT EXISTS sync_tokens (
    token           TEXT PRIMARY KEY,
    open_kfid       TEXT NOT NULL,
    issued_at       INTEGER NOT NULL
);"
);

const MIGRATE_V1: &str = concat!(
    "ALTER TABLE messages RENAME TO messages_v1;",
    messages_table!(),
    "
INSERT INTO messages (seq, msgid, open_kfid, external_userid, session_id, origin, \
    servicer_userid, msgtype, content, send_time, recalled) \
    SELECT seq, msgid, open_kfid, external_userid, session_id, origin, servicer_userid, \
    msgtype, content, send_time, recalled FROM messages_v1;
DROP TABLE messages_v1;"
);

/// Not a `sync_msg` origin: what the app sent through `kf/send_msg` (or on an event),
/// which only the customer's inbox shows. Stored as 0, a number the service never uses.
pub const APP_ORIGIN: Origin = Origin::Other(0);

/// How the control plane and the console name who sent a message.
pub trait OriginName {
    /// `customer`, `event`, `servicer` or `app`.
    fn name(self) -> &'static str;
}

impl OriginName for Origin {
    fn name(self) -> &'static str {
        match self {
            Origin::Customer => "customer",
            Origin::Event => "event",
            Origin::Servicer => "servicer",
            _ => "app",
        }
    }
}

/// A message or an event.
#[derive(Clone, Debug)]
pub struct MessageRow {
    /// Position in the log: the sync cursor counts these.
    pub seq: i64,
    /// Its id.
    pub msgid: String,
    /// The account.
    pub open_kfid: String,
    /// The customer.
    pub external_userid: String,
    /// The session it belongs to.
    pub session_id: Option<i64>,
    /// Who sent it.
    pub origin: Origin,
    /// The servicer, for origin 5 (and app sends on a servicer's behalf).
    pub servicer_userid: Option<String>,
    /// `text`, `image`, …, or `event`.
    pub msgtype: String,
    /// The object under the `msgtype` key (for an event, the `event` object).
    pub content: serde_json::Value,
    /// Unix seconds.
    pub send_time: i64,
    /// Whether it was recalled.
    pub recalled: bool,
    /// Whether it reached the customer: false for an app's send the customer refused
    /// (`msg_send_fail` fail_type 10 follows it).
    pub delivered: bool,
}

/// The mirror, in order, with each account's positions and msgids.
#[derive(Default)]
pub(super) struct Messages {
    rows: Vec<MessageRow>,
    by_account: HashMap<String, Vec<usize>>,
    by_msgid: HashMap<(String, String), usize>,
    sync_tokens: HashMap<String, (String, i64)>,
}

impl Messages {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Messages> {
        let v1 = db
            .prepare("SELECT delivered FROM messages LIMIT 0")
            .is_err()
            && db.prepare("SELECT seq FROM messages LIMIT 0").is_ok();
        if v1 {
            db.execute_batch(&format!("BEGIN; {MIGRATE_V1} COMMIT;"))?;
        }
        db.execute_batch(SCHEMA)?;
        let mut messages = Messages::default();
        let mut stmt = db.prepare(
            "SELECT seq, msgid, open_kfid, external_userid, session_id, origin, servicer_userid, \
             msgtype, content, send_time, recalled, delivered FROM messages ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(MessageRow {
                seq: r.get(0)?,
                msgid: r.get(1)?,
                open_kfid: r.get(2)?,
                external_userid: r.get(3)?,
                session_id: r.get(4)?,
                origin: Origin::from(r.get::<_, u8>(5)?),
                servicer_userid: r.get(6)?,
                msgtype: r.get(7)?,
                content: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
                send_time: r.get(9)?,
                recalled: r.get(10)?,
                delivered: r.get(11)?,
            })
        })?;
        for row in rows {
            messages.remember(row?);
        }
        let mut stmt = db.prepare("SELECT token, open_kfid, issued_at FROM sync_tokens")?;
        let tokens = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
        messages.sync_tokens = tokens.collect::<rusqlite::Result<_>>()?;
        Ok(messages)
    }

    fn remember(&mut self, row: MessageRow) {
        let at = self.rows.len();
        self.by_account
            .entry(row.open_kfid.clone())
            .or_default()
            .push(at);
        self.by_msgid
            .insert((row.open_kfid.clone(), row.msgid.clone()), at);
        self.rows.push(row);
    }

}

impl Store {
    /// Every message and event, oldest first.
    pub fn messages(&self) -> &[MessageRow] {
        &self.messages.rows
    }

    /// An account's messages after `seq` (exclusive), oldest first.
    pub fn account_messages_after<'a>(
        &'a self,
        open_kfid: &str,
        seq: i64,
    ) -> impl Iterator<Item = &'a MessageRow> + 'a {
        let rows = &self.messages.rows;
        let positions = self
            .messages
            .by_account
            .get(open_kfid)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let start = positions.partition_point(|&at| rows[at].seq <= seq);
        positions[start..].iter().map(move |&at| &rows[at])
    }

    /// The message of an account with this msgid.
    pub fn message(&self, open_kfid: &str, msgid: &str) -> Option<&MessageRow> {
        self.messages
            .by_msgid
            .get(&(open_kfid.to_owned(), msgid.to_owned()))
            .map(|&at| &self.messages.rows[at])
    }

    /// Mark a message recalled.
    pub fn recall_message(&mut self, open_kfid: &str, msgid: &str) -> Result<(), ErrCode> {
        let Some(&at) = self
            .messages
            .by_msgid
            .get(&(open_kfid.to_owned(), msgid.to_owned()))
        else {
            return Ok(());
        };
        exec(
            &self.db,
            "UPDATE messages SET recalled = 1 WHERE seq = ?1",
            params![self.messages.rows[at].seq],
        )?;
        self.messages.rows[at].recalled = true;
        Ok(())
    }

    /// Record a sync Token issued for an account.
    pub fn insert_sync_token(
        &mut self,
        token: &str,
        open_kfid: &str,
        now: i64,
    ) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "INSERT INTO sync_tokens (token, open_kfid, issued_at) VALUES (?1, ?2, ?3)",
            params![token, open_kfid, now],
        )?;
        self.messages
            .sync_tokens
            .insert(token.to_owned(), (open_kfid.to_owned(), now));
        Ok(())
    }

    /// The account a sync Token was issued for, and when.
    pub fn sync_token(&self, token: &str) -> Option<(&str, i64)> {
        self.messages
            .sync_tokens
            .get(token)
            .map(|(kfid, at)| (kfid.as_str(), *at))
    }

    /// Append a message (the `seq` given is ignored); answers its seq.
    pub fn insert_message(&mut self, mut row: MessageRow) -> Result<i64, ErrCode> {
        exec(
            &self.db,
            "INSERT INTO messages (msgid, open_kfid, external_userid, session_id, origin, \
             servicer_userid, msgtype, content, send_time, recalled, delivered) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                row.msgid,
                row.open_kfid,
                row.external_userid,
                row.session_id,
                u8::from(row.origin),
                row.servicer_userid,
                row.msgtype,
                row.content.to_string(),
                row.send_time,
                row.recalled,
                row.delivered
            ],
        )?;
        row.seq = self.db.last_insert_rowid();
        let seq = row.seq;
        self.messages.remember(row);
        Ok(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_version_table_is_rebuilt_with_every_row() {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE messages (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, msgid TEXT NOT NULL UNIQUE,
                open_kfid TEXT NOT NULL, external_userid TEXT NOT NULL, session_id INTEGER,
                origin INTEGER NOT NULL, servicer_userid TEXT, msgtype TEXT NOT NULL,
                content TEXT NOT NULL, send_time INTEGER NOT NULL,
                recalled INTEGER NOT NULL DEFAULT 0);
             INSERT INTO messages (msgid, open_kfid, external_userid, origin, msgtype, content, send_time)
             VALUES ('m1', 'wk1', 'wm1', 3, 'text', '{\"content\":\"hi\"}', 7);",
        )
        .unwrap();
        let messages = Messages::load(&db).unwrap();
        assert_eq!(messages.rows.len(), 1);
        assert!(messages.rows[0].delivered);
        assert_eq!(messages.rows[0].content["content"], "hi");
        // A msgid is now unique per account, not across accounts.
        db.execute(
            "INSERT INTO messages (msgid, open_kfid, external_userid, origin, msgtype, content, send_time) \
             VALUES ('m1', 'wk2', 'wm1', 0, 'text', '{}', 8)",
            [],
        )
        .unwrap();
        assert!(
            db.execute(
                "INSERT INTO messages (msgid, open_kfid, external_userid, origin, msgtype, content, send_time) \
                 VALUES ('m1', 'wk2', 'wm1', 0, 'text', '{}', 9)",
                [],
            )
            .is_err()
        );
    }
}
