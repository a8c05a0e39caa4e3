//! Durable state: SQLite in WAL mode is the record, an in-memory mirror serves reads.
//! One file per family of tables, each with its schema, its load and its mirror, and
//! one line per file in `tables!`.
//!
//! Every change is committed to SQLite before the mirror is touched and before the
//! caller is answered, so a success survives `kill -9`. The one mutex around the store
//! (see `World`) serialises writers, which also makes caps atomic.

use std::path::Path;

use rusqlite::Connection;
use wecom_kf_types::ErrCode;

pub use accounts::AccountRow;
pub use customers::{CustomerRow, EnterRow, UpgradeRow};
pub use directory::MemberRow;
pub use media::{MediaRow, NewMedia};
pub use messages::{APP_ORIGIN, MessageRow, OriginName};
pub use servicers::ServingStatus;
pub use sessions::{MoveRow, MsgCodeRow, QUEUED_CODE, SessionRow, TAKEN_CODE};
pub use settings::CallbackRow;
pub use tokens::TokenRow;

/// An app of the corp: one secret, one agent id.
pub type AgentId = i64;

/// The tables, one line each: the file below that holds it (its schema, its load and
/// its mirror) and its mirror's type. [`Store`] gets a field per line, and `open`,
/// `reload` and `reset` go through the list, so a new table is this one line.
macro_rules! tables {
    ($($file:ident: $mirror:ident,)*) => {
        $(mod $file;)*

        /// The store.
        pub struct Store {
            db: Connection,
            /// `PRAGMA data_version` when the mirror was last loaded: it changes when
            /// another connection commits.
            data_version: i64,
            $($file: $file::$mirror,)*
        }

        impl Store {
            /// Create the tables that are missing and load every mirror.
            fn load(db: Connection, data_version: i64) -> rusqlite::Result<Store> {
                Ok(Store {
                    $($file: $file::$mirror::load(&db)?,)*
                    db,
                    data_version,
                })
            }

            /// Load every mirror again from the file.
            fn load_mirrors(&mut self) -> rusqlite::Result<()> {
                $(self.$file = $file::$mirror::load(&self.db)?;)*
                Ok(())
            }
        }
    };
}

tables! {
    accounts: Accounts,
    tokens: Tokens,
    media: Media,
    directory: Directory,
    servicers: Servicers,
    customers: Customers,
    sessions: Sessions,
    messages: Messages,
    settings: Settings,
    knowledge: Knowledge,
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
        Store::load(db, data_version)
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
        self.load_mirrors()?;
        self.data_version = self
            .db
            .pragma_query_value(None, "data_version", |r| r.get(0))?;
        Ok(())
    }

    /// The tables in the file, as SQLite lists them (its own `sqlite_*` tables aside).
    pub fn table_names(&self) -> rusqlite::Result<Vec<String>> {
        let mut stmt = self.db.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name",
        )?;
        stmt.query_map([], |r| r.get(0))?.collect()
    }

    /// Drop everything: every row of every table the file has, in one transaction,
    /// then the mirrors loaded again from the emptied tables.
    pub fn reset(&mut self) -> Result<(), ErrCode> {
        let generation = self.account_generation();
        let emptied = self.table_names().and_then(|tables| {
            let tx = self.db.unchecked_transaction()?;
            for table in tables {
                tx.execute(
                    &format!("DELETE FROM \"{}\"", table.replace('"', "\"\"")),
                    [],
                )?;
            }
            tx.commit()
        });
        emptied.map_err(|e| busy(&e))?;
        // A corp always has its default group: loading the emptied tables recreates it.
        self.reload().map_err(|e| busy(&e))?;
        // Rendered `kf/account/list` pages are keyed by the generation: it moves on.
        self.accounts.move_past(generation);
        Ok(())
    }
}
