//! Durable state: SQLite in WAL mode is the record, an in-memory mirror serves reads.
//! One file per table, each with its schema, its load and its mirror.
//!
//! Every change is committed to SQLite before the mirror is touched and before the
//! caller is answered, so a success survives `kill -9`. The one mutex around the store
//! (see `World`) serialises writers, which also makes caps atomic.

mod accounts;
pub(crate) mod blobs;
mod customers;
mod directory;
mod knowledge;
mod media;
mod messages;
mod servicers;
mod sessions;
mod settings;
mod tokens;

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use wecom_kf_types::ErrCode;

pub use accounts::AccountRow;
pub use customers::{CustomerRow, EnterRow, UpgradeRow};
pub use directory::MemberRow;
pub use media::{MediaRow, NewMedia};
pub use messages::{MessageRow, Origin};
pub use servicers::ServingStatus;
pub use sessions::{MoveRow, MsgCodeRow, QUEUED_CODE, SessionRow, TAKEN_CODE};
pub use settings::CallbackRow;
pub use tokens::TokenRow;

/// An app of the corp: one secret, one agent id.
pub type AgentId = i64;

/// The store.
pub struct Store {
    db: Connection,
    /// `PRAGMA data_version` when the mirror was last loaded: it changes when another
    /// connection commits.
    data_version: i64,
    accounts: accounts::Accounts,
    tokens: tokens::Tokens,
    media: media::Media,
    directory: directory::Directory,
    servicers: servicers::Servicers,
    customers: customers::Customers,
    sessions: sessions::Sessions,
    messages: messages::Messages,
    settings: settings::Settings,
    knowledge: knowledge::Knowledge,
    /// The bytes of customers' media, read and written outside the store's lock.
    blobs: Arc<blobs::Blobs>,
}

/// A failure of the store itself (disk full, corrupt file): answered as `-1`.
fn busy(err: &rusqlite::Error) -> ErrCode {
    tracing::error!(error = %err, "sqlite failure");
    ErrCode::SYSTEM_BUSY
}

/// Run one statement; a failure of the store is `-1`. Answers the rows changed.
fn exec(db: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<usize, ErrCode> {
    db.prepare_cached(sql)
        .and_then(|mut s| s.execute(params))
        .map_err(|e| busy(&e))
}

/// Create the database `0600` before SQLite creates it with the umask's mode: it holds
/// customers' messages. An existing file shared with others gets a warning. (SQLite
/// gives the -wal and -shm files the database's mode.)
fn create_private(path: &Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        if options.open(path).is_err()
            && let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), mode = format_args!("{:o}", meta.permissions().mode() & 0o777), "the emulator's database can be read by others; run: chmod 600 {}", path.display());
        }
    }
}

impl Store {
    /// Open (or create) the store at `path`; `:memory:` keeps everything in memory.
    pub fn open(path: &str) -> rusqlite::Result<Store> {
        let db = if path == ":memory:" {
            Connection::open_in_memory()?
        } else {
            create_private(Path::new(path));
            Connection::open(Path::new(path))?
        };
        db.pragma_update(None, "journal_mode", "WAL")?;
        // In WAL mode NORMAL makes a commit durable against a process crash (kill -9):
        // the WAL write happens before COMMIT returns. Only an OS crash can lose the tail.
        db.pragma_update(None, "synchronous", "NORMAL")?;
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        let data_version = db.pragma_query_value(None, "data_version", |r| r.get(0))?;
        Ok(Store {
            data_version,
            accounts: accounts::Accounts::load(&db)?,
            tokens: tokens::Tokens::load(&db)?,
            media: media::Media::load(&db)?,
            directory: directory::Directory::load(&db)?,
            servicers: servicers::Servicers::load(&db)?,
            customers: customers::Customers::load(&db)?,
            sessions: sessions::Sessions::load(&db)?,
            messages: messages::Messages::load(&db)?,
            settings: settings::Settings::load(&db)?,
            knowledge: knowledge::Knowledge::load(&db)?,
            blobs: Arc::new(
                blobs::Blobs::for_db(path)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            ),
            db,
        })
    }

    /// Whether another connection committed since the mirror was loaded.
    pub fn changed_elsewhere(&self) -> bool {
        self.db
            .pragma_query_value(None, "data_version", |r| r.get::<_, i64>(0))
            .is_ok_and(|v| v != self.data_version)
    }

    /// A number that moves with every write: this connection's changed rows, plus the
    /// file's `data_version` as last loaded (which moves with other processes' writes).
    pub fn total_changes(&self) -> u64 {
        self.db
            .total_changes()
            .wrapping_add(u64::try_from(self.data_version).unwrap_or(0))
    }

    /// Load the mirror again from the file.
    pub fn reload(&mut self) -> rusqlite::Result<()> {
        self.accounts = accounts::Accounts::load(&self.db)?;
        self.tokens = tokens::Tokens::load(&self.db)?;
        self.media = media::Media::load(&self.db)?;
        self.directory = directory::Directory::load(&self.db)?;
        self.servicers = servicers::Servicers::load(&self.db)?;
        self.customers = customers::Customers::load(&self.db)?;
        self.sessions = sessions::Sessions::load(&self.db)?;
        self.messages = messages::Messages::load(&self.db)?;
        self.settings = settings::Settings::load(&self.db)?;
        self.knowledge = knowledge::Knowledge::load(&self.db)?;
        self.data_version = self
            .db
            .pragma_query_value(None, "data_version", |r| r.get(0))?;
        Ok(())
    }

    /// Drop everything.
    pub fn reset(&mut self) -> Result<(), ErrCode> {
        self.db
            .execute_batch(
                "DELETE FROM accounts; DELETE FROM tokens; DELETE FROM media; DELETE FROM customer_media; \
                 DELETE FROM members; DELETE FROM departments; DELETE FROM servicers; \
                 DELETE FROM servicer_status; DELETE FROM customers; DELETE FROM enters; \
                 DELETE FROM upgrades; DELETE FROM sessions; DELETE FROM msg_codes; DELETE FROM session_moves; \
                 DELETE FROM messages; DELETE FROM sync_tokens; DELETE FROM settings; \
                 DELETE FROM knowledge_intents; DELETE FROM knowledge_groups;",
            )
            .map_err(|e| busy(&e))?;
        self.accounts.clear();
        self.tokens.clear();
        self.media.clear();
        self.directory.clear();
        self.servicers.clear();
        self.customers.clear();
        self.sessions.clear();
        self.messages.clear();
        self.settings.clear();
        // A corp always has its default group: loading the emptied tables recreates it.
        self.knowledge = knowledge::Knowledge::load(&self.db).map_err(|e| busy(&e))?;
        self.blobs.clear();
        Ok(())
    }

    /// The blob store, to read and write customers' media outside the lock.
    pub(crate) fn blobs(&self) -> Arc<blobs::Blobs> {
        self.blobs.clone()
    }
}
