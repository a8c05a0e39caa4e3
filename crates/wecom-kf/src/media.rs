//! `POST /cgi-bin/media/upload`: temporary media (avatars, files), from a path, bytes or
//! an async reader. The form part is named `media` and carries a filename and a content
//! type. Size and format are checked before anything is sent.

use std::path::Path;
use std::sync::Mutex;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};
use wecom_kf_types::media::{FORM_PART, Format, MediaType, UPLOAD_PATH, UploadMediaResponse};

use crate::transport::decode;
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
