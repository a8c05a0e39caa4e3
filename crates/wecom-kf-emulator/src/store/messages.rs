//! Table `messages`: what `kf/sync_msg` returns, in order: customers' messages (origin
//! 3), events (4) and servicers' messages from the WeCom app (5); plus what the
//! customer saw (the inbox), which sync_msg never returns.

use rusqlite::{Connection, params};
use wecom_kf_types::ErrCode;

use super::{Store, exec};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    msgid           TEXT NOT NULL UNIQUE,
    open_kfid       TEXT NOT NULL,
    external_userid TEXT NOT NULL,
    session_id      INTEGER,
    origin          INTEGER NOT NULL,
    servicer_userid TEXT,
    msgtype         TEXT NOT NULL,
    content         TEXT NOT NULL,
    send_time       INTEGER NOT NULL,
    recalled        INTEGER NOT NULL DEFAULT 0
);";

/// Who a message is from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// 3: the customer, in WeChat.
    Customer = 3,
    /// 4: the system (an event).
    Event = 4,
    /// 5: a servicer, in the WeCom app.
    Servicer = 5,
    /// Not a sync_msg origin: sent by the app through `kf/send_msg` (or on an event);
    /// only the customer's inbox shows it.
    App = 0,
}

impl Origin {
    fn from_number(n: u8) -> Origin {
        match n {
            3 => Origin::Customer,
            4 => Origin::Event,
            5 => Origin::Servicer,
            _ => Origin::App,
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
}

/// The mirror, in order.
#[derive(Default)]
pub(super) struct Messages(Vec<MessageRow>);

impl Messages {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Messages> {
        db.execute_batch(SCHEMA)?;
        let mut stmt = db.prepare(
            "SELECT seq, msgid, open_kfid, external_userid, session_id, origin, servicer_userid, \
             msgtype, content, send_time, recalled FROM messages ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(MessageRow {
                seq: r.get(0)?,
                msgid: r.get(1)?,
                open_kfid: r.get(2)?,
                external_userid: r.get(3)?,
                session_id: r.get(4)?,
                origin: Origin::from_number(r.get(5)?),
                servicer_userid: r.get(6)?,
                msgtype: r.get(7)?,
                content: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
                send_time: r.get(9)?,
                recalled: r.get(10)?,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>().map(Messages)
    }

    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

impl Store {
    /// Every message and event, oldest first.
    pub fn messages(&self) -> &[MessageRow] {
        &self.messages.0
    }

    /// Append a message (the `seq` given is ignored); answers its seq.
    pub fn insert_message(&mut self, mut row: MessageRow) -> Result<i64, ErrCode> {
        exec(
            &self.db,
            "INSERT INTO messages (msgid, open_kfid, external_userid, session_id, origin, \
             servicer_userid, msgtype, content, send_time, recalled) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                row.msgid,
                row.open_kfid,
                row.external_userid,
                row.session_id,
                row.origin as u8,
                row.servicer_userid,
                row.msgtype,
                row.content.to_string(),
                row.send_time,
                row.recalled
            ],
        )?;
        row.seq = self.db.last_insert_rowid();
        let seq = row.seq;
        self.messages.0.push(row);
        Ok(seq)
    }
}
