//! Uploads from bytes, a path and a reader; checks before sending.

use wecom_kf::media::Media;
use wecom_kf::types::ErrCode;
use wecom_kf::types::media::MediaType;

use crate::{PNG, calls, client, emulator};

#[tokio::test]
async fn uploads_from_bytes_path_and_reader() {
    let em = emulator().await;
    let client = client(&em);
    let a = client
        .media()
        .upload(MediaType::Image, Media::bytes("a.png", PNG))
        .await
        .unwrap();
    assert_eq!(a.media_type, MediaType::Image);
    assert!(a.created_at > 1_700_000_000);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, b"hello from a file").unwrap();
    let b = client
        .media()
        .upload_path(MediaType::File, &path)
        .await
        .unwrap();
    assert_eq!(b.media_type, MediaType::File);

    let reader = std::io::Cursor::new(PNG.to_vec());
    let c = client
        .media()
        .upload(
            MediaType::Image,
            Media::reader("r.png", PNG.len() as u64, reader),
        )
        .await
        .unwrap();
    assert_ne!(a.media_id, c.media_id);
    // The streamed bytes arrived intact: the emulator serves them back.
    let served = reqwest::get(format!("{}/__emulator/media/{}", em.base_url(), c.media_id))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&served[..], PNG);
    assert_eq!(calls(&em, "/cgi-bin/media/upload"), 3);
}

#[tokio::test]
async fn size_and_format_are_checked_before_sending() {
    let em = emulator().await;
    let client = client(&em);
    let err = client
        .media()
        .upload(MediaType::Image, Media::bytes("x.png", &b"\x89PNG"[..]))
        .await
        .unwrap_err();
    assert!(err.is_validation(), "{err}");
    assert!(
        err.to_string().contains("media") && err.to_string().contains("4 bytes"),
        "{err}"
    );
    let err = client
        .media()
        .upload(MediaType::Image, Media::bytes("x.gif", &b"GIF89a-----"[..]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("JPG or PNG"), "{err}");
    let big = vec![0u8; 2 * 1024 * 1024 + 1];
    let err = client
        .media()
        .upload(MediaType::Voice, Media::bytes("x.amr", big))
        .await
        .unwrap_err();
    assert!(
        matches!(err, wecom_kf::Error::Validation(ref v) if v.errcode == ErrCode::MEDIA_SIZE_OUT_OF_LIMIT),
        "{err}"
    );
    let err = client
        .media()
        .upload_path(MediaType::Image, "/nonexistent/avatar.png")
        .await
        .unwrap_err();
    assert!(matches!(err, wecom_kf::Error::Io { .. }), "{err}");
    assert_eq!(calls(&em, "/cgi-bin/media/upload"), 0, "nothing was sent");
    assert_eq!(
        calls(&em, "/cgi-bin/gettoken"),
        0,
        "not even a token was fetched"
    );
}
