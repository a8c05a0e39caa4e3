//! Table `media`: the app's temporary uploads, bytes in SQLite. Table `customer_media`:
//! what customers upload from WeChat (up to 64 MiB), bytes in `crate::blobs`
//! outside the store's lock. The mirror keeps the metadata of both (type, age, name,
//! content type, size), which `media/get` and the rules read.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use wecom_kf_types::ErrCode;
use wecom_kf_types::media::MediaType;

use super::{Store, busy};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS media (
    media_id     TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS customer_media (
    media_id        TEXT PRIMARY KEY,
    type            TEXT NOT NULL,
    filename        TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            INTEGER NOT NULL,
    external_userid TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);";

/// A stored upload's metadata.
#[derive(Clone, Debug)]
pub struct MediaRow {
    /// Its type.
    pub media_type: MediaType,
    /// Unix seconds.
    pub created_at: i64,
    /// The file name the uploader gave.
    pub filename: String,
    /// The content type it is served with.
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// Who sent it from WeChat (its bytes are in the blob store), or `None` for an
    /// app's `media/upload` (bytes in SQLite).
    pub customer: Option<String>,
}

/// The mirror.
#[derive(Default)]
pub(super) struct Media(HashMap<String, MediaRow>);

impl Media {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Media> {
        db.execute_batch(SCHEMA)?;
        let mut stmt = db.prepare(
            "SELECT media_id, type, created_at, filename, content_type, length(data), NULL FROM media \
             UNION ALL SELECT media_id, type, created_at, filename, content_type, size, external_userid FROM customer_media",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                MediaRow {
                    media_type: MediaType::File,
                    created_at: r.get(2)?,
                    filename: r.get(3)?,
                    content_type: r.get(4)?,
                    size: r.get::<_, i64>(5)?.try_into().unwrap_or(0),
                    customer: r.get(6)?,
                },
            ))
        })?;
        let mut media = Media::default();
        for row in rows {
            let (id, kind, mut row) = row?;
            if let Ok(media_type) = kind.parse() {
                row.media_type = media_type;
                media.0.insert(id, row);
            }
        }
        Ok(media)
    }

}

/// An upload to store.
pub struct NewMedia<'a> {
    /// Its id.
    pub media_id: &'a str,
    /// Its type.
    pub media_type: MediaType,
    /// The file name the uploader gave.
    pub filename: &'a str,
    /// The content type recognised from the bytes.
    pub content_type: &'a str,
    /// The bytes.
    pub data: &'a [u8],
    /// Unix seconds.
    pub created_at: i64,
}

impl Store {
    /// Metadata of an upload.
    pub fn media(&self, media_id: &str) -> Option<&MediaRow> {
        self.media.0.get(media_id)
    }

    /// Store an upload.
    pub fn insert_media(&mut self, new: &NewMedia<'_>) -> Result<(), ErrCode> {
        self.db
            .execute(
                "INSERT INTO media (media_id, type, filename, content_type, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![new.media_id, new.media_type.as_str(), new.filename, new.content_type, new.data, new.created_at],
            )
            .map_err(|e| busy(&e))?;
        self.media.0.insert(
            new.media_id.to_owned(),
            MediaRow {
                media_type: new.media_type,
                created_at: new.created_at,
                filename: new.filename.to_owned(),
                content_type: new.content_type.to_owned(),
                size: new.data.len() as u64,
                customer: None,
            },
        );
        Ok(())
    }

    /// Record a customer's upload whose bytes are already in the blob store.
    pub fn insert_customer_media(&mut self, media_id: &str, row: MediaRow) -> Result<(), ErrCode> {
        self.db
            .execute(
                "INSERT INTO customer_media (media_id, type, filename, content_type, size, external_userid, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    media_id,
                    row.media_type.as_str(),
                    row.filename,
                    row.content_type,
                    i64::try_from(row.size).unwrap_or(i64::MAX),
                    row.customer.as_deref().unwrap_or_default(),
                    row.created_at
                ],
            )
            .map_err(|e| busy(&e))?;
        self.media.0.insert(media_id.to_owned(), row);
        Ok(())
    }

    /// `len` bytes from `first` of an app upload (whose bytes are in SQLite).
    pub fn media_range(
        &self,
        media_id: &str,
        first: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, ErrCode> {
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.db
            .query_row(
                "SELECT substr(data, ?2, ?3) FROM media WHERE media_id = ?1",
                params![media_id, int(first).saturating_add(1), int(len)],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| busy(&e))
    }

    /// The bytes and content type of an upload (for serving avatars).
    pub fn media_bytes(&self, media_id: &str) -> Result<Option<(String, Vec<u8>)>, ErrCode> {
        self.db
            .query_row(
                "SELECT content_type, data FROM media WHERE media_id = ?1",
                params![media_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| busy(&e))
    }
}
