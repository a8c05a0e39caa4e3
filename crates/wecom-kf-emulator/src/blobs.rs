//! The bytes of customers' media (up to 64 MiB each), kept outside SQLite and outside
//! the store's lock: one file per media id in `<db>.media/` beside the database, or in
//! memory for `:memory:`. An upload streams into `<id>.tmp` and is renamed into place
//! before its metadata row is committed, so a row always has its bytes (a crash between
//! the two leaves an orphan file, never a row without bytes). Like SQLite in WAL mode
//! with `synchronous=NORMAL`, this survives `kill -9`; only an OS crash can lose a tail.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::Mutex;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// The in-memory map stays consistent across a panic elsewhere: every change is one
/// insert or remove.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How much one read of a stored file hands to the socket.
const READ_CHUNK: usize = 256 * 1024;

/// Where the bytes live.
pub(crate) enum Blobs {
    /// One file per media id.
    Dir(PathBuf),
    /// `:memory:` databases keep the bytes in memory too.
    Memory(Mutex<HashMap<String, Bytes>>),
}

impl Blobs {
    /// The blob store of the database at `db`.
    pub(crate) fn for_db(db: &str) -> std::io::Result<Blobs> {
        if db == ":memory:" {
            return Ok(Blobs::Memory(Mutex::default()));
        }
        let dir = PathBuf::from(format!("{db}.media"));
        // Customers' files: readable by this user only, like the database.
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir)?;
        Ok(Blobs::Dir(dir))
    }

    fn path(dir: &std::path::Path, media_id: &str) -> PathBuf {
        // Ids are ours (alphanumeric), never a path from outside.
        dir.join(media_id)
    }

    /// Start storing the bytes of `media_id`.
    pub(crate) async fn create(&self, media_id: &str) -> std::io::Result<BlobWriter<'_>> {
        let sink = match self {
            Blobs::Dir(dir) => {
                let tmp = dir.join(format!("{media_id}.tmp"));
                let file = tokio::fs::File::create(&tmp).await?;
                Sink::File {
                    file: tokio::io::BufWriter::with_capacity(READ_CHUNK, file),
                    tmp,
                    done: Self::path(dir, media_id),
                }
            }
            Blobs::Memory(_) => Sink::Memory(BytesMut::new()),
        };
        Ok(BlobWriter {
            blobs: self,
            media_id: media_id.to_owned(),
            sink: Some(sink),
            len: 0,
        })
    }

    /// `len` bytes of `media_id` from `first`, as a streamed body.
    pub(crate) async fn read(&self, media_id: &str, first: u64, len: u64) -> std::io::Result<Body> {
        match self {
            Blobs::Dir(dir) => {
                let mut file = tokio::fs::File::open(Self::path(dir, media_id)).await?;
                file.seek(SeekFrom::Start(first)).await?;
                let reader = file.take(len);
                let stream = futures_util::stream::unfold(reader, |mut reader| async move {
                    let mut buf = BytesMut::with_capacity(READ_CHUNK);
                    match reader.read_buf(&mut buf).await {
                        Ok(0) => None,
                        Ok(_) => Some((Ok(buf.freeze()), reader)),
                        Err(e) => Some((Err(e), reader)),
                    }
                });
                Ok(Body::from_stream(stream))
            }
            Blobs::Memory(map) => {
                let bytes = lock(map).get(media_id).cloned().ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such blob")
                })?;
                let start = usize::try_from(first)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                let end = usize::try_from(first.saturating_add(len))
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                Ok(Body::from(bytes.slice(start..end)))
            }
        }
    }

    /// Forget the bytes of `media_id` (an upload refused after it was stored).
    pub(crate) fn remove(&self, media_id: &str) {
        match self {
            Blobs::Dir(dir) => drop(std::fs::remove_file(Self::path(dir, media_id))),
            Blobs::Memory(map) => drop(lock(map).remove(media_id)),
        }
    }

    /// Forget every blob (`reset`).
    pub(crate) fn clear(&self) {
        match self {
            Blobs::Dir(dir) => {
                if let Ok(entries) = std::fs::read_dir(dir) {
                    for entry in entries.flatten() {
                        let _ = std::fs::remove_file(entry.path());
                    }
                }
            }
            Blobs::Memory(map) => lock(map).clear(),
        }
    }
}

enum Sink {
    File {
        file: tokio::io::BufWriter<tokio::fs::File>,
        tmp: PathBuf,
        done: PathBuf,
    },
    Memory(BytesMut),
}

/// An upload being stored; dropped unfinished, it leaves nothing behind.
pub(crate) struct BlobWriter<'a> {
    blobs: &'a Blobs,
    media_id: String,
    sink: Option<Sink>,
    len: u64,
}

impl BlobWriter<'_> {
    /// Bytes so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Append a chunk.
    pub(crate) async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self.sink.as_mut() {
            Some(Sink::File { file, .. }) => file.write_all(chunk).await?,
            Some(Sink::Memory(buf)) => buf.extend_from_slice(chunk),
            None => {}
        }
        self.len += chunk.len() as u64;
        Ok(())
    }

    /// Put the bytes in place under the media id.
    pub(crate) async fn finish(mut self) -> std::io::Result<u64> {
        match self.sink.take() {
            Some(Sink::File {
                mut file,
                tmp,
                done,
            }) => {
                file.flush().await?;
                drop(file);
                tokio::fs::rename(&tmp, &done).await?;
            }
            Some(Sink::Memory(buf)) => {
                if let Blobs::Memory(map) = self.blobs {
                    lock(map).insert(self.media_id.clone(), buf.freeze());
                }
            }
            None => {}
        }
        Ok(self.len)
    }
}

impl Drop for BlobWriter<'_> {
    fn drop(&mut self) {
        if let Some(Sink::File { tmp, .. }) = self.sink.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
