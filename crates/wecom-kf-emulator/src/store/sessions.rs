//! Tables `sessions` and `msg_codes`: each conversation of a customer with an account,
//! with its state, and the codes issued for `kf/send_msg_on_event`.
//!
//! A customer's current session with an account is the newest row; older rows are
//! history, which the statistics read.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, params};
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::send_msg_on_event::EventScenario;
use wecom_kf_types::kf::service_state::ServiceState;

use super::{Store, exec};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    open_kfid       TEXT NOT NULL,
    external_userid TEXT NOT NULL,
    state           INTEGER NOT NULL,
    servicer_userid TEXT,
    started_at      INTEGER NOT NULL,
    last_customer_msg_at INTEGER NOT NULL,
    sends_since_customer INTEGER NOT NULL DEFAULT 0,
    reply_code_issued    INTEGER NOT NULL DEFAULT 0,
    ended_at        INTEGER
);
CREATE TABLE IF NOT EXISTS msg_codes (
    code            TEXT PRIMARY KEY,
    open_kfid       TEXT NOT NULL,
    external_userid TEXT NOT NULL,
    session_id      INTEGER,
    kind            TEXT NOT NULL,
    issued_at       INTEGER NOT NULL,
    used            INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS session_moves (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id      INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    from_state      INTEGER NOT NULL,
    to_state        INTEGER NOT NULL,
    servicer_userid TEXT,
    cause           TEXT NOT NULL
);";

/// One move of a session, with what caused it (for the console's history).
#[derive(Clone, Debug, serde::Serialize)]
pub struct MoveRow {
    /// When (the emulator's clock).
    pub at: i64,
    /// The state before (4 for a new session).
    pub from: u8,
    /// The state after.
    pub to: u8,
    /// Who serves it after the move, in state 3.
    pub servicer_userid: Option<String>,
    /// What did it, e.g. `kf/service_state/trans` or `the customer wrote`.
    pub cause: String,
}

/// In [`SessionRow::reply_codes`]: the reply code of the first move to 2 was issued.
pub const QUEUED_CODE: u8 = 1;
/// In [`SessionRow::reply_codes`]: the reply code of the first move to 3 was issued.
pub const TAKEN_CODE: u8 = 2;

/// A session: from the customer's first message until it ends.
#[derive(Clone, Debug)]
pub struct SessionRow {
    /// Its id (the row's).
    pub id: i64,
    /// The account.
    pub open_kfid: String,
    /// The customer.
    pub external_userid: String,
    /// Where it stands.
    pub state: ServiceState,
    /// Who serves it, in state 3 (and, after, who last did).
    pub servicer_userid: Option<String>,
    /// The customer's first message.
    pub started_at: i64,
    /// The customer's latest message: the 48 h send window starts here.
    pub last_customer_msg_at: i64,
    /// API sends since that message (at most 5: 95001).
    pub sends_since_customer: u32,
    /// The reply codes issued so far: [`QUEUED_CODE`] for the first move to 2,
    /// [`TAKEN_CODE`] for the first move to 3 (a file from before kept `1` for either).
    pub reply_codes: u8,
    /// When it ended.
    pub ended_at: Option<i64>,
}

/// How a code's scenario is stored.
fn scenario_name(scenario: EventScenario) -> &'static str {
    match scenario {
        EventScenario::Welcome => "welcome",
        EventScenario::Queued => "queued",
        EventScenario::End => "end",
        // "taken" and any later scenario: a reply code.
        _ => "taken",
    }
}

fn parse_scenario(s: &str) -> EventScenario {
    match s {
        "welcome" => EventScenario::Welcome,
        "queued" => EventScenario::Queued,
        "end" => EventScenario::End,
        // "reply", the first store's name for both reply codes, counts as "taken".
        _ => EventScenario::Taken,
    }
}

/// A code issued for `kf/send_msg_on_event`.
#[derive(Clone, Debug)]
pub struct MsgCodeRow {
    /// The account.
    pub open_kfid: String,
    /// The customer.
    pub external_userid: String,
    /// The session it belongs to (none for a welcome before the first message).
    pub session_id: Option<i64>,
    /// Which event issued it: what it may send, and for how long.
    pub kind: EventScenario,
    /// When it was issued.
    pub issued_at: i64,
    /// Whether a message was sent with it.
    pub used: bool,
}

/// The mirror.
#[derive(Default)]
pub(super) struct Sessions {
    rows: BTreeMap<i64, SessionRow>,
    current: HashMap<(String, String), i64>,
    codes: HashMap<String, MsgCodeRow>,
    moves: HashMap<i64, Vec<MoveRow>>,
}

fn state_of(n: u8) -> ServiceState {
    ServiceState::try_from(n).unwrap_or(ServiceState::Ended)
}

impl Sessions {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Sessions> {
        db.execute_batch(SCHEMA)?;
        let mut sessions = Sessions::default();
        let mut stmt = db.prepare(
            "SELECT id, open_kfid, external_userid, state, servicer_userid, started_at, \
             last_customer_msg_at, sends_since_customer, reply_code_issued, ended_at \
             FROM sessions ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SessionRow {
                id: r.get(0)?,
                open_kfid: r.get(1)?,
                external_userid: r.get(2)?,
                state: state_of(r.get(3)?),
                servicer_userid: r.get(4)?,
                started_at: r.get(5)?,
                last_customer_msg_at: r.get(6)?,
                sends_since_customer: r.get(7)?,
                reply_codes: r.get(8)?,
                ended_at: r.get(9)?,
            })
        })?;
        for row in rows {
            sessions.remember(row?);
        }
        let mut stmt = db.prepare(
            "SELECT code, open_kfid, external_userid, session_id, kind, issued_at, used FROM msg_codes",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                MsgCodeRow {
                    open_kfid: r.get(1)?,
                    external_userid: r.get(2)?,
                    session_id: r.get(3)?,
                    kind: parse_scenario(&r.get::<_, String>(4)?),
                    issued_at: r.get(5)?,
                    used: r.get(6)?,
                },
            ))
        })?;
        sessions.codes = rows.collect::<rusqlite::Result<_>>()?;
        let mut stmt = db.prepare(
            "SELECT session_id, at, from_state, to_state, servicer_userid, cause \
             FROM session_moves ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                MoveRow {
                    at: r.get(1)?,
                    from: r.get(2)?,
                    to: r.get(3)?,
                    servicer_userid: r.get(4)?,
                    cause: r.get(5)?,
                },
            ))
        })?;
        for row in rows {
            let (session, row) = row?;
            sessions.moves.entry(session).or_default().push(row);
        }
        Ok(sessions)
    }

    fn remember(&mut self, row: SessionRow) {
        self.current
            .insert((row.open_kfid.clone(), row.external_userid.clone()), row.id);
        self.rows.insert(row.id, row);
    }

}

impl Store {
    /// The customer's current (newest) session with the account, if they ever had one.
    pub fn session(&self, open_kfid: &str, external_userid: &str) -> Option<&SessionRow> {
        let id = self
            .sessions
            .current
            .get(&(open_kfid.to_owned(), external_userid.to_owned()))?;
        self.sessions.rows.get(id)
    }

    /// A session by id.
    pub fn session_by_id(&self, id: i64) -> Option<&SessionRow> {
        self.sessions.rows.get(&id)
    }

    /// Every session, oldest first.
    pub fn sessions(&self) -> impl Iterator<Item = &SessionRow> {
        self.sessions.rows.values()
    }

    /// Start a session (the `id` given is ignored); answers its id.
    pub fn insert_session(&mut self, mut row: SessionRow) -> Result<i64, ErrCode> {
        exec(
            &self.db,
            "INSERT INTO sessions (open_kfid, external_userid, state, servicer_userid, started_at, \
             last_customer_msg_at, sends_since_customer, reply_code_issued, ended_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                row.open_kfid,
                row.external_userid,
                row.state.number(),
                row.servicer_userid,
                row.started_at,
                row.last_customer_msg_at,
                row.sends_since_customer,
                row.reply_codes,
                row.ended_at
            ],
        )?;
        row.id = self.db.last_insert_rowid();
        let id = row.id;
        self.sessions.remember(row);
        Ok(id)
    }

    /// Save a changed session.
    pub fn update_session(&mut self, row: SessionRow) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "UPDATE sessions SET state = ?2, servicer_userid = ?3, last_customer_msg_at = ?4, \
             sends_since_customer = ?5, reply_code_issued = ?6, ended_at = ?7 WHERE id = ?1",
            params![
                row.id,
                row.state.number(),
                row.servicer_userid,
                row.last_customer_msg_at,
                row.sends_since_customer,
                row.reply_codes,
                row.ended_at
            ],
        )?;
        self.sessions.rows.insert(row.id, row);
        Ok(())
    }

    /// Record a move of session `session_id`.
    pub fn insert_move(&mut self, session_id: i64, row: MoveRow) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "INSERT INTO session_moves (session_id, at, from_state, to_state, servicer_userid, cause) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                session_id,
                row.at,
                row.from,
                row.to,
                row.servicer_userid,
                row.cause
            ],
        )?;
        self.sessions.moves.entry(session_id).or_default().push(row);
        Ok(())
    }

    /// The moves of a session, oldest first.
    pub fn moves(&self, session_id: i64) -> &[MoveRow] {
        self.sessions
            .moves
            .get(&session_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Record an issued code.
    pub fn insert_msg_code(&mut self, code: &str, row: MsgCodeRow) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "INSERT INTO msg_codes (code, open_kfid, external_userid, session_id, kind, issued_at, used) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                code,
                row.open_kfid,
                row.external_userid,
                row.session_id,
                scenario_name(row.kind),
                row.issued_at,
                row.used
            ],
        )?;
        self.sessions.codes.insert(code.to_owned(), row);
        Ok(())
    }

    /// When the account issued welcome codes to the customer.
    pub fn welcome_codes<'a>(
        &'a self,
        open_kfid: &'a str,
        external_userid: &'a str,
    ) -> impl Iterator<Item = i64> + 'a {
        self.sessions
            .codes
            .values()
            .filter(move |c| {
                c.kind == EventScenario::Welcome
                    && c.open_kfid == open_kfid
                    && c.external_userid == external_userid
            })
            .map(|c| c.issued_at)
    }

    /// A code, if it was issued.
    pub fn msg_code(&self, code: &str) -> Option<&MsgCodeRow> {
        self.sessions.codes.get(code)
    }

    /// Spend a code.
    pub fn use_msg_code(&mut self, code: &str) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "UPDATE msg_codes SET used = 1 WHERE code = ?1",
            params![code],
        )?;
        if let Some(row) = self.sessions.codes.get_mut(code) {
            row.used = true;
        }
        Ok(())
    }
}
