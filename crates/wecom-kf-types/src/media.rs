//! `POST /cgi-bin/media/upload?type=TYPE` — temporary media (docs/kf-api.md §2).
//!
//! The body is `multipart/form-data` with one part named [`FORM_PART`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::ErrCode;
use crate::limits::{
    FILE_MAX_BYTES, IMAGE_MAX_BYTES, MEDIA_MIN_BYTES_EXCLUSIVE, VIDEO_MAX_BYTES, VOICE_MAX_BYTES,
};
use crate::validate::{Invalid, Limit, Validated};

/// The path of the endpoint.
pub const UPLOAD_PATH: &str = "/cgi-bin/media/upload";
/// The fixed name of the multipart form part.
pub const FORM_PART: &str = "media";

/// The `type` query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    /// JPG or PNG, ≤ 10 MB.
    Image,
    /// AMR, ≤ 2 MB.
    Voice,
    /// MP4, ≤ 10 MB.
    Video,
    /// Anything, ≤ 20 MB.
    File,
}

/// A content format recognised from the first bytes of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
    /// BMP (`BM`).
    Bmp,
    /// GIF (`GIF8`).
    Gif,
    /// AMR (`#!AMR`).
    Amr,
    /// MP4 / ISO base media (`ftyp` at offset 4).
    Mp4,
    /// Anything else.
    Other,
}

impl Format {
    /// Recognise a format from the first bytes (12 are enough).
    pub fn sniff(head: &[u8]) -> Format {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Format::Jpeg
        } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Format::Png
        } else if head.starts_with(b"#!AMR") {
            Format::Amr
        } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
            Format::Mp4
        } else if head.starts_with(b"GIF8") {
            Format::Gif
        } else if head.starts_with(b"BM") {
            Format::Bmp
        } else {
            Format::Other
        }
    }

    /// The part `Content-Type` the official overview suggests for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Bmp => "image/bmp",
            Format::Gif => "image/gif",
            Format::Amr => "voice/amr",
            Format::Mp4 => "video/mp4",
            Format::Other => "application/octet-stream",
        }
    }
}

impl MediaType {
    /// Every type.
    pub const ALL: [MediaType; 4] = [
        MediaType::Image,
        MediaType::Voice,
        MediaType::Video,
        MediaType::File,
    ];

    /// The wire name (`image`, `voice`, `video`, `file`).
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Voice => "voice",
            MediaType::Video => "video",
            MediaType::File => "file",
        }
    }

    /// The largest size accepted for this type, in bytes.
    pub fn max_bytes(self) -> u64 {
        match self {
            MediaType::Image => IMAGE_MAX_BYTES,
            MediaType::Voice => VOICE_MAX_BYTES,
            MediaType::Video => VIDEO_MAX_BYTES,
            MediaType::File => FILE_MAX_BYTES,
        }
    }

    /// Which formats the type accepts, as a phrase for errors (`None`: any).
    pub fn formats(self) -> Option<&'static str> {
        match self {
            MediaType::Image => Some("JPG or PNG"),
            MediaType::Voice => Some("AMR"),
            MediaType::Video => Some("MP4"),
            MediaType::File => None,
        }
    }

    /// Whether content of `format` may be uploaded as this type.
    pub fn accepts(self, format: Format) -> bool {
        match self {
            MediaType::Image => matches!(format, Format::Jpeg | Format::Png),
            MediaType::Voice => format == Format::Amr,
            MediaType::Video => format == Format::Mp4,
            MediaType::File => true,
        }
    }

    /// Check a file's size (> 5 bytes, ≤ the type's maximum).
    pub fn validate_size(self, len: u64) -> Validated {
        if len <= MEDIA_MIN_BYTES_EXCLUSIVE || len > self.max_bytes() {
            let errcode = if len == 0 {
                ErrCode::EMPTY_MEDIA
            } else if len <= MEDIA_MIN_BYTES_EXCLUSIVE {
                ErrCode::INVALID_FILE_SIZE
            } else {
                ErrCode::MEDIA_SIZE_OUT_OF_LIMIT
            };
            return Err(Invalid {
                field: "media",
                limit: Limit::Bytes {
                    min: MEDIA_MIN_BYTES_EXCLUSIVE + 1,
                    max: self.max_bytes(),
                },
                given: format!("{len} bytes for type {self}"),
                errcode,
            });
        }
        Ok(())
    }

    /// Check a file's format from its first bytes.
    pub fn validate_format(self, head: &[u8]) -> Validated {
        let format = Format::sniff(head);
        match self.formats() {
            Some(formats) if !self.accepts(format) => Err(Invalid {
                field: "media",
                limit: Limit::Format(formats),
                given: format!("{format:?} content for type {self}"),
                errcode: if self == MediaType::Image {
                    ErrCode::INVALID_IMAGE_CONTENT
                } else {
                    ErrCode::INVALID_MEDIA_FILE_TYPE
                },
            }),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MediaType {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        MediaType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| Invalid {
                field: "type",
                limit: Limit::Pattern("image|voice|video|file"),
                given: format!("{s:?}"),
                errcode: ErrCode::INVALID_MEDIA_TYPE,
            })
    }
}

/// Answer of `media/upload`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadMediaResponse {
    /// The type it was uploaded as.
    #[serde(rename = "type")]
    pub media_type: MediaType,
    /// Usable for 3 days by every app of the corp.
    pub media_id: String,
    /// Unix seconds. The service sends it as a *string* (`"1380000000"`); numbers are accepted too.
    #[serde(deserialize_with = "string_or_number", serialize_with = "as_string")]
    pub created_at: u64,
}

impl UploadMediaResponse {
    /// An upload answer.
    pub fn new(media_type: MediaType, media_id: impl Into<String>, created_at: u64) -> Self {
        UploadMediaResponse {
            media_type,
            media_id: media_id.into(),
            created_at,
        }
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's serialize_with signature
fn as_string<S: serde::Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<'a> {
        Number(u64),
        Text(&'a str),
        Owned(String),
    }
    match Either::deserialize(deserializer)? {
        Either::Number(n) => Ok(n),
        Either::Text(s) => s.parse().map_err(serde::de::Error::custom),
        Either::Owned(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_limits_per_type() {
        assert_eq!(
            MediaType::Image.validate_size(5).unwrap_err().errcode,
            ErrCode::INVALID_FILE_SIZE
        );
        assert_eq!(
            MediaType::Image.validate_size(0).unwrap_err().errcode,
            ErrCode::EMPTY_MEDIA
        );
        assert!(MediaType::Image.validate_size(6).is_ok());
        assert!(MediaType::Image.validate_size(IMAGE_MAX_BYTES).is_ok());
        let err = MediaType::Image
            .validate_size(IMAGE_MAX_BYTES + 1)
            .unwrap_err();
        assert_eq!(err.errcode, ErrCode::MEDIA_SIZE_OUT_OF_LIMIT);
        assert!(err.to_string().contains("10485760"), "{err}");
        assert!(MediaType::Voice.validate_size(VOICE_MAX_BYTES + 1).is_err());
        assert!(MediaType::Video.validate_size(VIDEO_MAX_BYTES + 1).is_err());
        assert!(MediaType::File.validate_size(FILE_MAX_BYTES).is_ok());
        assert!(MediaType::File.validate_size(FILE_MAX_BYTES + 1).is_err());
    }

    #[test]
    fn formats_are_sniffed() {
        assert!(
            MediaType::Image
                .validate_format(b"\x89PNG\r\n\x1a\n....")
                .is_ok()
        );
        assert!(
            MediaType::Image
                .validate_format(&[0xFF, 0xD8, 0xFF, 0xE0])
                .is_ok()
        );
        assert_eq!(
            MediaType::Image
                .validate_format(b"GIF89a")
                .unwrap_err()
                .errcode,
            ErrCode::INVALID_IMAGE_CONTENT
        );
        assert!(MediaType::Voice.validate_format(b"#!AMR\n").is_ok());
        assert!(
            MediaType::Video
                .validate_format(b"\0\0\0\x18ftypmp42")
                .is_ok()
        );
        assert!(MediaType::Video.validate_format(b"hello world").is_err());
        assert!(MediaType::File.validate_format(b"anything").is_ok());
    }

    #[test]
    fn created_at_is_a_string_on_the_wire() {
        let doc = r#"{"errcode":0,"errmsg":"","type":"image","media_id":"1G6nrLmr5EC3MMb_-zK1dDdzmd0p7cNliYu9V5w7o8K0","created_at":"1380000000"}"#;
        let r: UploadMediaResponse = serde_json::from_str(doc).unwrap();
        assert_eq!(r.created_at, 1_380_000_000);
        assert_eq!(r.media_type, MediaType::Image);
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["created_at"], "1380000000");
        let numeric: UploadMediaResponse =
            serde_json::from_str(r#"{"type":"file","media_id":"m","created_at":1380000000}"#)
                .unwrap();
        assert_eq!(numeric.created_at, 1_380_000_000);
    }
}
