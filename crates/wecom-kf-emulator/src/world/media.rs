//! Temporary media: checked for size and format, kept 3 days (docs/kf-api.md §2).

use wecom_kf_types::ErrCode;
use wecom_kf_types::limits::MEDIA_TTL_SECS;
use wecom_kf_types::media::{Format, MediaType};

use super::World;
use crate::ids;
use crate::rejection::Rejection;
use crate::store::{MediaRow, NewMedia};

/// One uploaded file, as the multipart part gave it.
pub(crate) struct Upload<'a> {
    pub media_type: MediaType,
    pub filename: &'a str,
    pub data: &'a [u8],
}

impl World<'_> {
    /// `media/upload`: the new media id and its creation time.
    pub(crate) fn upload_media(&mut self, upload: &Upload<'_>) -> Result<(String, i64), Rejection> {
        let invalid = |e: wecom_kf_types::Invalid| Rejection::with(e.errcode, e.to_string());
        let head = &upload.data[..upload.data.len().min(16)];
        upload
            .media_type
            .validate_size(upload.data.len() as u64)
            .map_err(invalid)?;
        upload.media_type.validate_format(head).map_err(invalid)?;
        let media_id = ids::media_id();
        self.store.insert_media(&NewMedia {
            media_id: &media_id,
            media_type: upload.media_type,
            filename: upload.filename,
            content_type: Format::sniff(head).content_type(),
            data: upload.data,
            created_at: self.now,
        })?;
        Ok((media_id, self.now))
    }

    /// `media/get`: what is known of a media id uploaded in the last 3 days, by an app
    /// or a customer (40007 for an unknown or expired one).
    pub(crate) fn media_to_serve(&self, media_id: &str) -> Result<MediaRow, Rejection> {
        let media = self
            .store
            .media(media_id)
            .ok_or_else(|| Rejection::with(ErrCode::INVALID_MEDIA_ID, "unknown media_id"))?;
        if self.now - media.created_at >= i64::try_from(MEDIA_TTL_SECS).unwrap_or(i64::MAX) {
            return Err(Rejection::with(
                ErrCode::INVALID_MEDIA_ID,
                "media_id expired (temporary media lasts 3 days)",
            ));
        }
        Ok(media.clone())
    }

    /// A media id of this kind, uploaded in the last 3 days (40007 otherwise).
    pub(crate) fn check_media(
        &self,
        field: &str,
        media_id: &str,
        kind: MediaType,
    ) -> Result<(), Rejection> {
        let media = self.store.media(media_id).ok_or_else(|| {
            Rejection::with(
                ErrCode::INVALID_MEDIA_ID,
                format!("{field}: unknown media_id"),
            )
        })?;
        if self.now - media.created_at >= i64::try_from(MEDIA_TTL_SECS).unwrap_or(i64::MAX) {
            return Err(Rejection::with(
                ErrCode::INVALID_MEDIA_ID,
                format!("{field}: media_id expired (temporary media lasts 3 days)"),
            ));
        }
        if media.media_type != kind {
            return Err(Rejection::with(
                ErrCode::INVALID_MEDIA_ID,
                format!("{field}: media_id is a {}, not a {kind}", media.media_type),
            ));
        }
        Ok(())
    }
}
