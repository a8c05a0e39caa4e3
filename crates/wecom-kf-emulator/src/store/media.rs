//! Table `media`: temporary uploads. The bytes stay in SQLite; the mirror keeps the
//! metadata that rules need (type, age).

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
);";

/// A stored upload's metadata.
#[derive(Clone, Debug)]
pub struct MediaRow {
    /// Its type.
    pub media_type: MediaType,
    /// Unix seconds.
    pub created_at: i64,
}

/// The mirror.
#[derive(Default)]
pub(super) struct Media(HashMap<String, MediaRow>);

impl Media {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Media> {
        db.execute_batch(SCHEMA)?;
        let mut stmt = db.prepare("SELECT media_id, type, created_at FROM media")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut media = Media::default();
        for row in rows {
            let (id, kind, created_at) = row?;
            if let Ok(media_type) = kind.parse() {
                media.0.insert(
                    id,
                    MediaRow {
                        media_type,
                        created_at,
                    },
                );
            }
        }
        Ok(media)
    }

    pub(super) fn clear(&mut self) {
        self.0.clear();
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
            },
        );
        Ok(())
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
