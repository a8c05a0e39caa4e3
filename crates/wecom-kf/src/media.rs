//! Temporary media. `POST /cgi-bin/media/upload`: avatars, files, from a path, bytes or
//! an async reader; the form part is named `media` and carries a filename and a content
//! type; size and format are checked before anything is sent. `GET /cgi-bin/media/get`:
//! what customers send, as a stream ([`MediaApi::download`]) or into a file
//! ([`MediaApi::download_to`]), in `Range` chunks of at most 20 MiB.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncReadExt};
use wecom_kf_types::limits::MEDIA_CHUNK_MAX_BYTES;
pub use wecom_kf_types::media::safe_file_name;
use wecom_kf_types::media::{
    ContentRange, FORM_PART, Format, GET_PATH, GetMedia, MediaType, UPLOAD_PATH,
    UploadMediaResponse, disposition_filename, is_envelope,
};

use crate::transport::{Transport, decode};
use crate::{Client, Error};

type Reader = Box<dyn AsyncRead + Send + Unpin>;

enum Body {
    Bytes(Bytes),
    Reader { len: u64, reader: Reader },
}

/// What each attempt sends: bytes can be sent again, a reader only once.
enum Payload {
    Bytes(Bytes),
    Once {
        len: u64,
        reader: Mutex<Option<Reader>>,
    },
}

/// A file to upload.
pub struct Media {
    filename: String,
    content_type: Option<String>,
    body: Body,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl Media {
    /// In-memory content. Retried on transient failures.
    pub fn bytes(filename: impl Into<String>, data: impl Into<Bytes>) -> Self {
        Media {
            filename: filename.into(),
            content_type: None,
            body: Body::Bytes(data.into()),
        }
    }

    /// Streamed content of exactly `len` bytes. Sent once: a reader cannot be replayed,
    /// so an upload that fails midway is reported, not retried.
    pub fn reader(
        filename: impl Into<String>,
        len: u64,
        reader: impl AsyncRead + Send + Unpin + 'static,
    ) -> Self {
        Media {
            filename: filename.into(),
            content_type: None,
            body: Body::Reader {
                len,
                reader: Box::new(reader),
            },
        }
    }

    /// Set the part's `Content-Type` (default: recognised from the content).
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    fn len(&self) -> u64 {
        match &self.body {
            Body::Bytes(b) => b.len() as u64,
            Body::Reader { len, .. } => *len,
        }
    }
}

/// `media/*` calls: `client.media()`.
#[derive(Clone, Debug)]
pub struct MediaApi {
    client: Client,
}

impl Client {
    /// Temporary media.
    pub fn media(&self) -> MediaApi {
        MediaApi {
            client: self.clone(),
        }
    }
}

impl MediaApi {
    /// Upload the file at `path` (its size is checked before it is read).
    pub async fn upload_path(
        &self,
        media_type: MediaType,
        path: impl AsRef<Path>,
    ) -> Result<UploadMediaResponse, Error> {
        let path = path.as_ref();
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let len = tokio::fs::metadata(path).await.map_err(io)?.len();
        media_type.validate_size(len)?;
        let data = tokio::fs::read(path).await.map_err(io)?;
        let filename = path
            .file_name()
            .map_or_else(|| "media".to_owned(), |n| n.to_string_lossy().into_owned());
        self.upload(media_type, Media::bytes(filename, data)).await
    }

    /// Upload `media` as `media_type`: checks the size (> 5 bytes, ≤ the type's limit)
    /// and the format (JPG/PNG, AMR, MP4) before sending.
    pub async fn upload(
        &self,
        media_type: MediaType,
        media: Media,
    ) -> Result<UploadMediaResponse, Error> {
        media_type.validate_size(media.len())?;
        let Media {
            filename,
            content_type,
            body,
        } = media;
        let (head, payload) = match body {
            Body::Bytes(data) => (data.slice(..data.len().min(16)), Payload::Bytes(data)),
            Body::Reader { len, mut reader } => {
                let mut head = vec![0; usize::try_from(len.min(16)).unwrap_or(16)];
                reader
                    .read_exact(&mut head)
                    .await
                    .map_err(|source| Error::Io {
                        path: filename.clone(),
                        source,
                    })?;
                let head = Bytes::from(head);
                let chained: Reader = Box::new(std::io::Cursor::new(head.clone()).chain(reader));
                (
                    head,
                    Payload::Once {
                        len,
                        reader: Mutex::new(Some(chained)),
                    },
                )
            }
        };
        media_type.validate_format(&head)?;
        let content_type =
            content_type.unwrap_or_else(|| Format::sniff(&head).content_type().to_owned());
        let idempotent = matches!(payload, Payload::Bytes(_));
        let transport = self.client.transport();
        self.client
            .run(
                UPLOAD_PATH,
                idempotent,
                "it may have been uploaded; upload it again from memory or a file to get a media_id you know",
                |_| None,
                |token| {
                    let part = match &payload {
                        Payload::Bytes(data) => Ok(reqwest::multipart::Part::stream_with_length(
                            data.clone(),
                            data.len() as u64,
                        )),
                        Payload::Once { len, reader } => reader
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .take()
                            .map(|r| {
                                reqwest::multipart::Part::stream_with_length(
                                    reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(
                                        r,
                                    )),
                                    *len,
                                )
                            })
                            .ok_or_else(|| Error::Request {
                                endpoint: UPLOAD_PATH,
                                source: "the reader was consumed by a failed attempt; upload again"
                                    .into(),
                            }),
                    };
                    let request = part.and_then(|part| {
                        let part = part
                            .file_name(filename.clone())
                            .mime_str(&content_type)
                            .map_err(|e| Error::Request {
                                endpoint: UPLOAD_PATH,
                                source: Box::new(BadContentType {
                                    given: content_type.clone(),
                                    source: e.without_url(),
                                }),
                            })?;
                        let mut url = transport.token_url(UPLOAD_PATH, token.secret())?;
                        url.query_pairs_mut()
                            .append_pair("type", media_type.as_str());
                        Ok(transport
                            .http
                            .post(url)
                            .multipart(reqwest::multipart::Form::new().part(FORM_PART, part)))
                    });
                    async move {
                        decode::<UploadMediaResponse>(
                            UPLOAD_PATH,
                            &transport.send(UPLOAD_PATH, request?).await?,
                        )
                    }
                },
            )
            .await
    }
}

/// A content type that does not parse as a MIME type.
#[derive(Debug, thiserror::Error)]
#[error("bad content type {given:?}")]
struct BadContentType {
    given: String,
    #[source]
    source: reqwest::Error,
}

/// What `media/get` asks for at a time: the service's largest chunk (20 MiB).
const CHUNK_BYTES: u64 = MEDIA_CHUNK_MAX_BYTES;

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// A download: what the file is (type, name, size) and its bytes as a stream, fetched
/// in `Range` chunks of at most 20 MiB as it is read, never held whole in memory. A
/// chunk whose connection breaks is asked for again from its first missing byte.
///
/// ```no_run
/// # async fn demo(client: wecom_kf::Client, media_id: &str) -> Result<(), wecom_kf::Error> {
/// use futures_util::TryStreamExt;
/// let mut download = client.media().download(media_id).await?;
/// println!("{} ({}, {} bytes)", download.filename().unwrap_or("?"), download.content_type(), download.len());
/// let mut seen = 0;
/// while let Some(chunk) = download.try_next().await? {
///     seen += chunk.len();
/// }
/// assert_eq!(seen as u64, download.len());
/// # Ok(()) }
/// ```
pub struct Download {
    content_type: String,
    filename: Option<String>,
    len: u64,
    stream: ByteStream,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("filename", &self.filename)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// The file's `Content-Type` (`image/jpeg`, `voice/amr`, …).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The file's name from `Content-Disposition`, as the sender gave it. It comes from
    /// the network: pass it through [`safe_file_name`] before using it as a path.
    pub fn filename(&self) -> Option<&str> {
        self.filename.as_deref()
    }

    /// The whole file's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The kind of media, by its Content-Type.
    pub fn media_type(&self) -> MediaType {
        MediaType::from_content_type(&self.content_type)
    }
}

impl Stream for Download {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.as_mut().poll_next(cx)
    }
}

/// A file [`MediaApi::download_to`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes (checked against what the service announced).
    pub len: u64,
    /// Bytes fetched by this call (less than `len` when a partial file was resumed).
    pub fetched: u64,
    /// Its `Content-Type`.
    pub content_type: String,
    /// Its name as the sender gave it (not made safe).
    pub filename: Option<String>,
}

impl Downloaded {
    /// The kind of media, by its Content-Type.
    pub fn media_type(&self) -> MediaType {
        MediaType::from_content_type(&self.content_type)
    }
}

/// The head of one `media/get` answer that is (a piece of) the file.
struct Piece {
    response: reqwest::Response,
    content_type: String,
    filename: Option<String>,
    total: u64,
    /// Bytes at the start of the body before the offset asked for (a server that
    /// ignored `Range` sends the whole file).
    skip: u64,
    /// One past the last byte this answer carries.
    end: u64,
}

fn not_the_file(detail: impl Into<String>) -> Error {
    Error::NotTheFile {
        endpoint: GET_PATH,
        attempts: 1,
        detail: detail.into(),
    }
}

/// Read one answer's head: the file (or its piece), or the JSON error told apart by
/// its Content-Type and the absence of an attachment.
async fn piece(
    transport: &Transport,
    response: reqwest::Response,
    from: u64,
) -> Result<Piece, Error> {
    let status = response.status();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(reqwest::header::HeaderValue::as_bytes)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE).map_or_else(
        || "application/octet-stream".to_owned(),
        |v| String::from_utf8_lossy(v).into_owned(),
    );
    if !status.is_success() {
        return Err(Error::Http {
            attempts: 1,
            status: status.as_u16(),
            content_type,
            endpoint: GET_PATH,
        });
    }
    let disposition = header(reqwest::header::CONTENT_DISPOSITION).map(<[u8]>::to_vec);
    if is_envelope(&content_type, disposition.as_deref()) {
        return Err(envelope(transport, response).await);
    }
    let Some(disposition) = disposition else {
        return Err(not_the_file(format!(
            "a {content_type} answer without Content-Disposition"
        )));
    };
    let filename = disposition_filename(&disposition);
    let content_length = response.content_length();
    let (total, skip, end) = if status == reqwest::StatusCode::PARTIAL_CONTENT {
        let range = header(reqwest::header::CONTENT_RANGE)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(ContentRange::parse)
            .ok_or_else(|| not_the_file("a 206 answer without a valid Content-Range"))?;
        if range.first != from {
            return Err(not_the_file(format!(
                "asked for bytes from {from}, got {range}"
            )));
        }
        if content_length.is_some_and(|len| len != range.len()) {
            return Err(not_the_file(format!(
                "Content-Length {} does not match {range}",
                content_length.unwrap_or_default()
            )));
        }
        (range.total, 0, range.last + 1)
    } else {
        let total = content_length
            .ok_or_else(|| not_the_file("the file's answer has no Content-Length"))?;
        (total, from, total)
    };
    Ok(Piece {
        response,
        content_type,
        filename,
        total,
        skip,
        end,
    })
}

/// The JSON error of a `media/get`, read with the usual size cap.
async fn envelope(transport: &Transport, mut response: reqwest::Response) -> Error {
    let limit = transport.max_response_bytes;
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Error::ResponseTooLarge {
                        endpoint: GET_PATH,
                        attempts: 1,
                        limit,
                    };
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Error::from_reqwest(GET_PATH, e, transport.timeout),
        }
    }
    match decode::<serde::de::IgnoredAny>(GET_PATH, &body) {
        Err(err) => err,
        Ok(_) => not_the_file("a JSON answer with errcode 0 instead of the file"),
    }
}

/// Where the stream of a download is.
struct Cursor {
    api: MediaApi,
    media_id: Arc<str>,
    offset: u64,
    total: u64,
    piece: Option<Piece>,
    /// Failures in a row without a byte received.
    failures: u32,
    done: bool,
}

impl Cursor {
    async fn next(&mut self) -> Option<Result<Bytes, Error>> {
        loop {
            if self.done {
                return None;
            }
            if self.offset >= self.total {
                self.done = true;
                return None;
            }
            let Some(piece) = self.piece.as_mut() else {
                match self.api.fetch(&self.media_id, self.offset).await {
                    Ok(piece) if piece.total != self.total => {
                        self.done = true;
                        return Some(Err(not_the_file(format!(
                            "the file was {} bytes and is now {}",
                            self.total, piece.total
                        ))));
                    }
                    Ok(piece) => self.piece = Some(piece),
                    Err(err) => {
                        self.done = true;
                        return Some(Err(err));
                    }
                }
                continue;
            };
            let transport = self.api.client.transport();
            match piece.response.chunk().await {
                Ok(Some(mut chunk)) => {
                    if piece.skip > 0 {
                        let cut = usize::try_from(piece.skip)
                            .unwrap_or(usize::MAX)
                            .min(chunk.len());
                        piece.skip -= cut as u64;
                        chunk = chunk.slice(cut..);
                    }
                    if chunk.is_empty() {
                        continue;
                    }
                    let room = piece.end.min(self.total) - self.offset;
                    if chunk.len() as u64 > room {
                        self.done = true;
                        return Some(Err(not_the_file(format!(
                            "more bytes than the {} announced",
                            self.total
                        ))));
                    }
                    self.offset += chunk.len() as u64;
                    self.failures = 0;
                    return Some(Ok(chunk));
                }
                Ok(None) if self.offset >= piece.end => self.piece = None,
                result => {
                    // Cut short: ask again from the first missing byte, as a read is.
                    self.piece = None;
                    self.failures += 1;
                    let policy = self.api.client.retry_policy();
                    if self.failures >= policy.max_attempts {
                        self.done = true;
                        let err = match result {
                            Err(e) => Error::from_reqwest(GET_PATH, e, transport.timeout),
                            Ok(_) => not_the_file(format!(
                                "the answer ended at byte {} of {}",
                                self.offset, self.total
                            )),
                        };
                        return Some(Err(err.after_attempts(self.failures)));
                    }
                    let wait = policy.backoff(self.failures);
                    tracing::info!(
                        offset = self.offset,
                        total = self.total,
                        attempt = self.failures,
                        "media/get cut short; resuming"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

impl MediaApi {
    /// One answer's head from byte `from` on, retried like any read (transient errors,
    /// a refreshed token); the body is read by the caller.
    async fn fetch(&self, media_id: &str, from: u64) -> Result<Piece, Error> {
        let transport = self.client.transport();
        let range = format!("bytes={from}-{}", from + CHUNK_BYTES - 1);
        self.client
            .run(
                GET_PATH,
                true,
                "a download changes nothing; try again",
                |_| None,
                |token| {
                    let url = transport.token_url(GET_PATH, token.secret());
                    let range = range.clone();
                    async move {
                        let mut url = url?;
                        url.query_pairs_mut().append_pair("media_id", media_id);
                        let response = transport
                            .http
                            .get(url)
                            .header(reqwest::header::RANGE, range)
                            .timeout(transport.timeout)
                            .send()
                            .await
                            .map_err(|e| Error::from_reqwest(GET_PATH, e, transport.timeout))?;
                        piece(transport, response, from).await
                    }
                },
            )
            .await
    }

    /// A download of `media_id` from byte `from` on.
    async fn open(&self, media_id: &str, from: u64) -> Result<Download, Error> {
        GetMedia::new(media_id).validate()?;
        let first = self.fetch(media_id, from).await?;
        let content_type = first.content_type.clone();
        let filename = first.filename.clone();
        let len = first.total;
        let cursor = Cursor {
            api: self.clone(),
            media_id: media_id.into(),
            offset: from.min(len),
            total: len,
            piece: Some(first),
            failures: 0,
            done: false,
        };
        let stream = futures_util::stream::unfold(cursor, |mut cursor| async move {
            cursor.next().await.map(|item| (item, cursor))
        });
        Ok(Download {
            content_type,
            filename,
            len,
            stream: Box::pin(stream),
        })
    }

    /// Download `media_id` (what a customer sent, or an upload): its Content-Type,
    /// filename and size now, its bytes as a [`Stream`] read in chunks of at most 20 MiB.
    /// An unknown or expired id is [`Error::Api`] 40007; a JSON error is never taken
    /// for the file.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use futures_util::TryStreamExt;
    /// let download = client.media().download("MEDIA_ID").await?;
    /// if download.content_type().starts_with("image/") {
    ///     let bytes: Vec<u8> = download.map_ok(|b| b.to_vec()).try_concat().await?;
    ///     println!("a picture of {} bytes", bytes.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn download(&self, media_id: &str) -> Result<Download, Error> {
        self.open(media_id, 0).await
    }

    /// Download `media_id` into the file at `path`: `Range` chunks of at most 20 MiB, a
    /// broken chunk asked for again from its first missing byte, the size checked at the
    /// end. The bytes go to `PATH.<id>.part` first and are renamed to `path` once
    /// complete, so a download that fails leaves no file at `path`, and calling again
    /// resumes the part file. An unknown or expired id (40007) creates no file at all.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// let saved = client.media().download_to("MEDIA_ID", "screenshot.jpg").await?;
    /// println!("{} bytes of {}", saved.len, saved.content_type);
    /// # Ok(()) }
    /// ```
    pub async fn download_to(
        &self,
        media_id: &str,
        path: impl AsRef<Path>,
    ) -> Result<Downloaded, Error> {
        self.download_to_with(media_id, path, |_, _| {}).await
    }

    /// [`download_to`](Self::download_to), calling `progress(bytes_so_far, total)` after
    /// each piece is written (for a progress bar).
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// client
    ///     .media()
    ///     .download_to_with("MEDIA_ID", "voice.amr", |done, total| eprint!("\r{done}/{total}"))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn download_to_with(
        &self,
        media_id: &str,
        path: impl AsRef<Path>,
        progress: impl FnMut(u64, u64) + Send,
    ) -> Result<Downloaded, Error> {
        self.save(media_id, Dest::File(path.as_ref()), progress)
            .await
    }

    /// Download `media_id` into the directory `dir`, under the name the sender gave it
    /// (made safe with [`safe_file_name`]; an existing file of that name is replaced),
    /// exactly as [`download_to`](Self::download_to) does otherwise. Give each message
    /// its own directory when names may repeat.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// let saved = client.media().download_into("MEDIA_ID", "inbox/msgid").await?;
    /// println!("saved {}", saved.path.display());
    /// # Ok(()) }
    /// ```
    pub async fn download_into(
        &self,
        media_id: &str,
        dir: impl AsRef<Path>,
    ) -> Result<Downloaded, Error> {
        self.save(media_id, Dest::Dir(dir.as_ref()), |_, _| {})
            .await
    }

    /// [`download_into`](Self::download_into), calling `progress(bytes_so_far, total)`
    /// after each piece is written.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// let saved = client
    ///     .media()
    ///     .download_into_with("MEDIA_ID", ".", |done, total| eprint!("\r{done}/{total}"))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn download_into_with(
        &self,
        media_id: &str,
        dir: impl AsRef<Path>,
        progress: impl FnMut(u64, u64) + Send,
    ) -> Result<Downloaded, Error> {
        self.save(media_id, Dest::Dir(dir.as_ref()), progress).await
    }

    async fn save(
        &self,
        media_id: &str,
        dest: Dest<'_>,
        mut progress: impl FnMut(u64, u64) + Send,
    ) -> Result<Downloaded, Error> {
        use futures_util::TryStreamExt as _;
        GetMedia::new(media_id).validate()?;
        let part = match dest {
            Dest::File(path) => part_path(path, media_id),
            Dest::Dir(dir) => dir.join(format!(".{:08x}.part", media_tag(media_id))),
        };
        let save = |source| Error::Save {
            path: part.display().to_string(),
            source,
        };
        let mut have = tokio::fs::metadata(&part).await.map_or(0, |m| m.len());
        let mut download = self.open(media_id, have).await?;
        if have > download.len() {
            // Not a prefix of this file: start again.
            have = 0;
            download = self.open(media_id, 0).await?;
        }
        let total = download.len();
        if let Dest::Dir(dir) = dest {
            tokio::fs::create_dir_all(dir).await.map_err(save)?;
        }
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&part)
            .await
            .map_err(save)?;
        file.set_len(have).await.map_err(save)?;
        let mut file = file.into_std().await;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(have)).map_err(save)?;
        let mut writer = ChunkWriter::new(file);
        let mut written = have;
        progress(written, total);
        let failed = loop {
            match download.try_next().await {
                Ok(Some(chunk)) => {
                    let len = chunk.len() as u64;
                    writer.write(chunk).await.map_err(save)?;
                    written += len;
                    progress(written, total);
                }
                Ok(None) => break None,
                Err(err) => break Some(err),
            }
        };
        // What arrived stays in the part file for the next call to resume.
        let file = writer.finish().map_err(save)?;
        if let Some(err) = failed {
            return Err(err);
        }
        drop(file);
        let on_disk = tokio::fs::metadata(&part).await.map_err(save)?.len();
        if on_disk != total {
            return Err(not_the_file(format!(
                "{} has {on_disk} bytes, the service announced {total}",
                part.display()
            )));
        }
        let path = match dest {
            Dest::File(path) => path.to_owned(),
            Dest::Dir(dir) => dir.join(safe_file_name(
                download.filename.as_deref().unwrap_or(media_id),
            )),
        };
        tokio::fs::rename(&part, &path)
            .await
            .map_err(|source| Error::Save {
                path: path.display().to_string(),
                source,
            })?;
        Ok(Downloaded {
            path,
            len: total,
            fetched: total - have,
            content_type: download.content_type,
            filename: download.filename,
        })
    }
}

/// Writes a download's chunks to its part file on a blocking thread, straight from the
/// `Bytes` the connection handed over (no second buffer holds them), one at a time: the
/// next chunk is taken only once the last one is written. While a chunk is written the
/// connection reads ahead into a buffer of its own (the chunk still shares the old one),
/// so the heap holds the chunk and that read-ahead, whatever the file's size. Keeping a
/// write in flight while the next chunk was taken kept one more read buffer alive for
/// no throughput the bench could tell (issue 23).
struct ChunkWriter {
    /// `None` once a write failed or its thread panicked: the file went with it.
    file: Option<std::fs::File>,
}

impl ChunkWriter {
    fn new(file: std::fs::File) -> Self {
        Self { file: Some(file) }
    }

    /// Write `chunk` on a blocking thread and wait for it.
    async fn write(&mut self, chunk: Bytes) -> std::io::Result<()> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| std::io::Error::other("the part file was lost after a failed write"))?;
        let (file, done) = tokio::task::spawn_blocking(move || {
            let done = std::io::Write::write_all(&mut file, &chunk);
            (file, done)
        })
        .await
        .map_err(std::io::Error::other)?;
        self.file = Some(file);
        done
    }

    /// The file, once every chunk is written.
    fn finish(self) -> std::io::Result<std::fs::File> {
        self.file
            .ok_or_else(|| std::io::Error::other("the part file was lost after a failed write"))
    }
}

/// Where [`MediaApi::save`] puts the file.
#[derive(Clone, Copy)]
enum Dest<'a> {
    /// At this path.
    File(&'a Path),
    /// In this directory, under the sender's name.
    Dir(&'a Path),
}

/// `DIR/NAME.<8 hex of the media id>.part`: a partial file only resumes the same media.
fn part_path(path: &Path, media_id: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "media".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!("{name}.{:08x}.part", media_tag(media_id)))
}

fn media_tag(media_id: &str) -> u32 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(media_id.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}
