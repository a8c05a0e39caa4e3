//! Temporary media (docs/kf-api.md §2): `POST /cgi-bin/media/upload?type=TYPE` and
//! `GET /cgi-bin/media/get?media_id=…`.
//!
//! An upload's body is `multipart/form-data` with one part named [`FORM_PART`]. A
//! download is plain HTTP: the file's `Content-Type`, a `Content-Disposition` with its
//! filename, `Range` for chunks ([`ByteRange`], [`ContentRange`]); an error is a JSON
//! envelope with HTTP 200, told apart from the file by its headers ([`is_envelope`]).

use std::fmt::{self, Write as _};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::ErrCode;
use crate::limits::{
    FILE_MAX_BYTES, IMAGE_MAX_BYTES, MEDIA_ID_MAX_BYTES, MEDIA_MIN_BYTES_EXCLUSIVE,
    VIDEO_MAX_BYTES, VOICE_MAX_BYTES,
};
use crate::validate::{self, Invalid, Limit, Validated};

/// The path of the endpoint.
pub const UPLOAD_PATH: &str = "/cgi-bin/media/upload";
/// The path of `media/get` (download).
pub const GET_PATH: &str = "/cgi-bin/media/get";
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

    /// The type of a file by its `Content-Type`: `image/*`, `voice/*` or `audio/*`,
    /// `video/*`, anything else a `file` (how a customer's upload is typed).
    pub fn from_content_type(content_type: &str) -> MediaType {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.split('/').next().unwrap_or_default() {
            "image" => MediaType::Image,
            "voice" | "audio" => MediaType::Voice,
            "video" => MediaType::Video,
            _ => MediaType::File,
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

/// `GET /cgi-bin/media/get?media_id=…`: download temporary media, e.g. what a
/// customer sent (docs/kf-api.md §2.1). Not a JSON endpoint: the answer is the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetMedia {
    /// From a `kf/sync_msg` message or a `media/upload`; valid 3 days.
    #[serde(default)]
    pub media_id: String,
}

impl GetMedia {
    /// The path.
    pub const PATH: &'static str = GET_PATH;

    /// A download of `media_id`.
    pub fn new(media_id: impl Into<String>) -> Self {
        GetMedia {
            media_id: media_id.into(),
        }
    }

    /// `media_id` present (41006) and at most 128 bytes (40007).
    pub fn validate(&self) -> Validated {
        validate::required_bytes(
            "media_id",
            &self.media_id,
            MEDIA_ID_MAX_BYTES,
            ErrCode::MEDIA_ID_MISSING,
            ErrCode::INVALID_MEDIA_ID,
        )
    }
}

/// One range of a `Range: bytes=…` header (only single ranges are taken).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=A-B`: from A to B, both included.
    FromTo(u64, u64),
    /// `bytes=A-`: from A to the end.
    From(u64),
    /// `bytes=-N`: the last N bytes.
    Last(u64),
}

impl ByteRange {
    /// Parse a `Range` header: `None` for anything but one well-formed byte range
    /// (a server may then ignore the header and answer the whole file).
    pub fn parse(header: &str) -> Option<ByteRange> {
        let spec = header.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (start, end) = spec.split_once('-')?;
        let number = |s: &str| -> Option<u64> {
            let s = s.trim();
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        match (start.trim().is_empty(), end.trim().is_empty()) {
            (true, false) => number(end).map(ByteRange::Last),
            (false, true) => number(start).map(ByteRange::From),
            (false, false) => {
                let (a, b) = (number(start)?, number(end)?);
                (a <= b).then_some(ByteRange::FromTo(a, b))
            }
            (true, true) => None,
        }
    }

    /// The bytes this range covers in a file of `total` bytes, as `(first, last)`
    /// inclusive, or `None` when it lies outside the file (HTTP 416).
    pub fn resolve(self, total: u64) -> Option<(u64, u64)> {
        let last = total.checked_sub(1)?;
        match self {
            ByteRange::FromTo(a, b) => (a <= last).then(|| (a, b.min(last))),
            ByteRange::From(a) => (a <= last).then_some((a, last)),
            ByteRange::Last(0) => None,
            ByteRange::Last(n) => Some((total.saturating_sub(n), last)),
        }
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ByteRange::FromTo(a, b) => write!(f, "bytes={a}-{b}"),
            ByteRange::From(a) => write!(f, "bytes={a}-"),
            ByteRange::Last(n) => write!(f, "bytes=-{n}"),
        }
    }
}

/// A `Content-Range: bytes FIRST-LAST/TOTAL` header of a `206` answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentRange {
    /// First byte sent.
    pub first: u64,
    /// Last byte sent (included).
    pub last: u64,
    /// The whole file's size.
    pub total: u64,
}

impl ContentRange {
    /// Parse the header; `None` unless it is `bytes A-B/T` with `A <= B < T`.
    pub fn parse(header: &str) -> Option<ContentRange> {
        let rest = header.trim().strip_prefix("bytes")?.trim_start();
        let (range, total) = rest.split_once('/')?;
        let (first, last) = range.split_once('-')?;
        let range = ContentRange {
            first: first.trim().parse().ok()?,
            last: last.trim().parse().ok()?,
            total: total.trim().parse().ok()?,
        };
        (range.first <= range.last && range.last < range.total).then_some(range)
    }

    /// Bytes in this piece.
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Never empty (`first <= last`); here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for ContentRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bytes {}-{}/{}", self.first, self.last, self.total)
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…`: the plain form for old readers
/// (non-ASCII and quotes replaced by `_`), the RFC 6266 form with every byte.
pub fn content_disposition(filename: &str) -> String {
    let plain: String = filename
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(filename.len() * 3);
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            let _ = write!(encoded, "%{b:02X}");
        }
    }
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

/// The filename of a `Content-Disposition` header: `filename*` (RFC 5987, UTF-8)
/// first, else `filename` (quoted or not; raw UTF-8 bytes as the service sends them).
pub fn disposition_filename(header: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(header);
    let mut plain = None;
    for param in split_params(&text) {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        if name == "filename*" {
            let Some((charset, rest)) = value.split_once('\'') else {
                continue;
            };
            let Some((_, encoded)) = rest.split_once('\'') else {
                continue;
            };
            if charset.eq_ignore_ascii_case("utf-8")
                && let Some(decoded) = percent_decode(encoded)
                && !decoded.is_empty()
            {
                return Some(decoded);
            }
        } else if name == "filename" {
            let unquoted = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
                .replace("\\\"", "\"");
            if !unquoted.is_empty() {
                plain = Some(unquoted);
            }
        }
    }
    plain
}

/// `;`-separated parameters, keeping `;` inside quotes.
fn split_params(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether a `media/get` answer is the JSON error envelope rather than the file: a JSON
/// (or `text/plain`) Content-Type *and* no `Content-Disposition: attachment`. A customer's
/// `.json` file comes as an attachment, so it is never mistaken for an error.
pub fn is_envelope(content_type: &str, disposition: Option<&[u8]>) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let json = essence == "application/json" || essence == "text/json" || essence == "text/plain";
    let attachment = disposition.is_some_and(|d| {
        String::from_utf8_lossy(d)
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("attachment")
    });
    json && !attachment
}

/// A name that is safe to create in a directory: the last path component of
/// `filename` with separators, control characters and leading dots replaced, never
/// empty, at most 200 bytes. Filenames come from the network; never join them raw.
pub fn safe_file_name(filename: &str) -> String {
    let last = filename.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = last
        .chars()
        .map(|c| if c.is_control() || c == ':' { '_' } else { c })
        .collect();
    while name.starts_with('.') {
        name.replace_range(..1, "_");
    }
    if name.trim().is_empty() {
        "media".clone_into(&mut name);
    }
    if name.len() > 200 {
        let mut cut = 200;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    name
}

impl crate::kf::message::Content {
    /// The media of an `image`, `voice`, `video` or `file` message: its type and
    /// media id, to fetch with `media/get`.
    ///
    /// ```
    /// use wecom_kf_types::kf::message::{Content, Media};
    /// use wecom_kf_types::media::MediaType;
    /// let content = Content::Voice(Media::new("MEDIA_ID"));
    /// assert_eq!(content.media(), Some((MediaType::Voice, "MEDIA_ID")));
    /// ```
    pub fn media(&self) -> Option<(MediaType, &str)> {
        use crate::kf::message::Content;
        match self {
            Content::Image(m) => Some((MediaType::Image, &m.media_id)),
            Content::Voice(m) => Some((MediaType::Voice, &m.media_id)),
            Content::Video(m) => Some((MediaType::Video, &m.media_id)),
            Content::File(m) => Some((MediaType::File, &m.media_id)),
            _ => None,
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
    fn ranges_parse_and_resolve() {
        assert_eq!(
            ByteRange::parse("bytes=0-99"),
            Some(ByteRange::FromTo(0, 99))
        );
        assert_eq!(ByteRange::parse("bytes=100-"), Some(ByteRange::From(100)));
        assert_eq!(ByteRange::parse("bytes=-5"), Some(ByteRange::Last(5)));
        for bad in [
            "bytes=5-1",
            "bytes=0-1,4-5",
            "items=0-1",
            "bytes=-",
            "bytes=a-b",
            "bytes=+1-2",
        ] {
            assert_eq!(ByteRange::parse(bad), None, "{bad}");
        }
        assert_eq!(ByteRange::FromTo(0, 99).resolve(10), Some((0, 9)));
        assert_eq!(ByteRange::From(9).resolve(10), Some((9, 9)));
        assert_eq!(ByteRange::From(10).resolve(10), None);
        assert_eq!(ByteRange::FromTo(10, 20).resolve(10), None);
        assert_eq!(ByteRange::Last(3).resolve(10), Some((7, 9)));
        assert_eq!(ByteRange::Last(30).resolve(10), Some((0, 9)));
        assert_eq!(ByteRange::Last(0).resolve(10), None);
        assert_eq!(ByteRange::From(0).resolve(0), None);
        assert_eq!(ByteRange::FromTo(3, 7).to_string(), "bytes=3-7");
        let range = ContentRange::parse("bytes 0-9/25").unwrap();
        assert_eq!(
            (range.first, range.last, range.total, range.len()),
            (0, 9, 25, 10)
        );
        assert_eq!(range.to_string(), "bytes 0-9/25");
        assert_eq!(ContentRange::parse("bytes 9-0/25"), None);
        assert_eq!(ContentRange::parse("bytes 0-25/25"), None);
        assert_eq!(ContentRange::parse("bytes */25"), None);
    }

    #[test]
    fn filenames_round_trip_through_content_disposition() {
        for name in ["截图 2024.png", "a\"b;c.txt", "plain.amr", "x\r\ny.bin"] {
            let header = content_disposition(name);
            assert!(header.is_ascii(), "{header}");
            assert_eq!(
                disposition_filename(header.as_bytes()).as_deref(),
                Some(name)
            );
        }
        // What the service sends: raw UTF-8 in a quoted filename.
        assert_eq!(
            disposition_filename("attachment; filename=\"订单.jpg\"".as_bytes()).as_deref(),
            Some("订单.jpg")
        );
        assert_eq!(
            disposition_filename(b"attachment; filename=a.txt").as_deref(),
            Some("a.txt")
        );
        assert_eq!(disposition_filename(b"attachment"), None);
    }

    #[test]
    fn an_envelope_is_json_without_an_attachment() {
        assert!(is_envelope("application/json; charset=UTF-8", None));
        assert!(is_envelope("text/plain", None));
        assert!(!is_envelope(
            "application/json",
            Some(b"attachment; filename=\"a.json\"")
        ));
        assert!(!is_envelope("image/jpeg", None));
    }

    #[test]
    fn file_names_from_the_network_are_made_safe() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(safe_file_name(".bashrc"), "_bashrc");
        assert_eq!(safe_file_name(""), "media");
        assert_eq!(safe_file_name("a\nb.png"), "a_b.png");
        assert_eq!(safe_file_name(&"名".repeat(100)).len(), 198);
    }

    #[test]
    fn customer_uploads_are_typed_by_content_type() {
        assert_eq!(MediaType::from_content_type("image/png"), MediaType::Image);
        assert_eq!(MediaType::from_content_type("voice/amr"), MediaType::Voice);
        assert_eq!(
            MediaType::from_content_type("audio/amr; x=1"),
            MediaType::Voice
        );
        assert_eq!(MediaType::from_content_type("Video/MP4"), MediaType::Video);
        assert_eq!(
            MediaType::from_content_type("application/pdf"),
            MediaType::File
        );
        assert_eq!(MediaType::from_content_type(""), MediaType::File);
    }

    #[test]
    fn get_media_is_validated() {
        assert_eq!(
            GetMedia::new("").validate().unwrap_err().errcode,
            ErrCode::MEDIA_ID_MISSING
        );
        let err = GetMedia::new("x".repeat(129)).validate().unwrap_err();
        assert_eq!(err.errcode, ErrCode::INVALID_MEDIA_ID);
        assert!(err.to_string().contains("128"), "{err}");
        assert!(GetMedia::new("x".repeat(128)).validate().is_ok());
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
