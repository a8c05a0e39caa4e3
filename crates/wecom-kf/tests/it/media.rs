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

// ---- downloads ----

mod download {
    use futures_util::TryStreamExt;
    use wecom_kf::Error;
    use wecom_kf::types::ErrCode;
    use wecom_kf::types::media::{GET_PATH, MediaType};
    use wecom_kf_emulator::{Fault, FaultRule};

    use crate::{
        account, calls, client, customer_sends_media, customer_who_wrote, emulator, pattern,
    };

    fn cut(after_bytes: u64, count: u32) -> FaultRule {
        FaultRule {
            fault: Fault::CutBody { after_bytes },
            endpoint: Some(GET_PATH.into()),
            count: Some(count),
            rate: None,
        }
    }

    /// What a bot does: sync, find the media, save it. Byte for byte, with the sender's
    /// type and name, for an image, a voice note and a file (a JSON file is a file).
    #[tokio::test]
    async fn image_voice_and_file_from_a_customer_round_trip() {
        let em = emulator().await;
        let client = client(&em);
        let kfid = account(&client).await;
        let who = customer_who_wrote(&em, &kfid).await;
        let mut amr = b"#!AMR\n".to_vec();
        amr.extend(pattern(3000));
        let sent = [
            (
                "订单截图.png",
                "image/png",
                crate::PNG.to_vec(),
                MediaType::Image,
            ),
            ("语音.amr", "voice/amr", amr, MediaType::Voice),
            (
                "order.json",
                "application/json",
                br#"{"errcode":40007}"#.to_vec(),
                MediaType::File,
            ),
        ];
        for (name, content_type, data, _) in &sent {
            customer_sends_media(&em, &kfid, &who, name, content_type, data.clone()).await;
        }
        let page = client.message().sync(&kfid).await.unwrap();
        let media: Vec<_> = page
            .msg_list
            .iter()
            .filter_map(|m| m.content.media())
            .map(|(kind, id)| (kind, id.to_owned()))
            .collect();
        assert_eq!(media.len(), 3);
        let dir = tempfile::tempdir().unwrap();
        for ((kind, media_id), (name, content_type, data, expected)) in media.iter().zip(&sent) {
            assert_eq!(kind, expected);
            let path = dir.path().join(wecom_kf::media::safe_file_name(name));
            let saved = client.media().download_to(media_id, &path).await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), *data, "{name}");
            assert_eq!(saved.len, data.len() as u64);
            assert_eq!(saved.content_type, *content_type);
            assert_eq!(saved.filename.as_deref(), Some(*name));
            assert_eq!(saved.media_type(), *expected);
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            3,
            "no part files left"
        );
        // Into a directory, under the sender's name made safe.
        let inbox = dir.path().join("msg1");
        let saved = client
            .media()
            .download_into(&media[0].1, &inbox)
            .await
            .unwrap();
        assert_eq!(saved.path, inbox.join("订单截图.png"));
        assert_eq!(std::fs::read(&saved.path).unwrap(), crate::PNG);
        assert_eq!(std::fs::read_dir(&inbox).unwrap().count(), 1);
    }

    /// 25 MB: two Range chunks of at most 20 MiB reassemble it, for the stream and the
    /// file alike; a plain GET of it is 830002.
    #[tokio::test]
    async fn a_25_mb_file_comes_in_chunks_and_a_plain_get_is_830002() {
        let em = emulator().await;
        let client = client(&em);
        let kfid = account(&client).await;
        let who = customer_who_wrote(&em, &kfid).await;
        let data = pattern(25 * 1000 * 1000);
        let id = customer_sends_media(&em, &kfid, &who, "big.zip", "application/zip", data.clone())
            .await;

        let before = calls(&em, GET_PATH);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.zip");
        let saved = client.media().download_to(&id, &path).await.unwrap();
        assert_eq!(saved.len, 25_000_000);
        assert!(std::fs::read(&path).unwrap() == data, "byte for byte");
        assert_eq!(calls(&em, GET_PATH) - before, 2, "two chunks");

        let download = client.media().download(&id).await.unwrap();
        assert_eq!(download.len(), 25_000_000);
        let mut streamed = Vec::new();
        let mut download = download;
        while let Some(chunk) = download.try_next().await.unwrap() {
            streamed.extend_from_slice(&chunk);
        }
        assert!(streamed == data, "the stream reassembles the chunks");

        let token = client.token_provider().token().await.unwrap();
        let plain: serde_json::Value = reqwest::Client::new()
            .get(format!("{}{GET_PATH}", em.base_url()))
            .query(&[("access_token", token.expose()), ("media_id", id.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(plain["errcode"], 830_002, "{plain}");
    }

    /// A connection cut in the middle of the body: the download asks again from the
    /// first missing byte, and the file is exact.
    #[tokio::test]
    async fn a_cut_connection_is_resumed_byte_exact() {
        let em = emulator().await;
        let client = client(&em);
        let kfid = account(&client).await;
        let who = customer_who_wrote(&em, &kfid).await;
        let data = pattern(300_000);
        let id =
            customer_sends_media(&em, &kfid, &who, "a.pdf", "application/pdf", data.clone()).await;
        em.emulator().add_fault(cut(100_000, 1));
        let before = calls(&em, GET_PATH);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pdf");
        let saved = client.media().download_to(&id, &path).await.unwrap();
        assert!(std::fs::read(&path).unwrap() == data, "byte exact");
        assert_eq!(saved.fetched, 300_000);
        assert_eq!(calls(&em, GET_PATH) - before, 2, "resumed once");
        assert_eq!(em.emulator().stats().faults_injected["cut_body"], 1);

        // The stream too.
        em.emulator().add_fault(cut(1, 1));
        let streamed: Vec<u8> = client
            .media()
            .download(&id)
            .await
            .unwrap()
            .map_ok(|b| b.to_vec())
            .try_concat()
            .await
            .unwrap();
        assert!(streamed == data);
    }

    /// A download that fails midway keeps its part file, and the next call resumes it
    /// (it fetches only the rest: the bytes already there are kept as they are).
    #[tokio::test]
    async fn a_failed_download_leaves_no_file_and_the_next_call_resumes_it() {
        let em = emulator().await;
        let client = client(&em);
        let kfid = account(&client).await;
        let who = customer_who_wrote(&em, &kfid).await;
        let data = pattern(200_000);
        let id = customer_sends_media(
            &em,
            &kfid,
            &who,
            "b.bin",
            "application/octet-stream",
            data.clone(),
        )
        .await;
        // 50,000 bytes, then every attempt cut before its first byte.
        em.emulator().add_fault(cut(50_000, 1));
        em.emulator().add_fault(cut(0, 10));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.bin");
        let err = client.media().download_to(&id, &path).await.unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        assert!(!path.exists(), "no file at the path until it is complete");
        let parts: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(parts.len(), 1);
        assert_eq!(std::fs::metadata(&parts[0]).unwrap().len(), 50_000);
        // Mark what is there: a resumed download keeps it, a fresh one would not.
        std::fs::write(&parts[0], vec![0xAA; 50_000]).unwrap();
        em.emulator().clear_faults();
        let saved = client.media().download_to(&id, &path).await.unwrap();
        assert_eq!(saved.fetched, 150_000);
        let got = std::fs::read(&path).unwrap();
        assert!(
            got[..50_000].iter().all(|&b| b == 0xAA),
            "the part file was kept"
        );
        assert!(got[50_000..] == data[50_000..]);
        assert!(!parts[0].exists());
    }

    /// Unknown and expired ids are `Error::Api` 40007 and leave no file; a bad id is
    /// refused before anything is sent.
    #[tokio::test]
    async fn unknown_and_expired_ids_are_40007_and_leave_no_file() {
        let em = emulator().await;
        let client = client(&em);
        let kfid = account(&client).await;
        let who = customer_who_wrote(&em, &kfid).await;
        let id =
            customer_sends_media(&em, &kfid, &who, "c.png", "image/png", crate::PNG.to_vec()).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");

        let err = client
            .media()
            .download_to("nosuchmedia", &path)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Api {
                    code: ErrCode::INVALID_MEDIA_ID,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = client.media().download("nosuchmedia").await.unwrap_err();
        assert_eq!(err.api_code(), Some(ErrCode::INVALID_MEDIA_ID));

        em.emulator().advance_clock(3 * 24 * 3600);
        let err = client.media().download_to(&id, &path).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Api {
                    code: ErrCode::INVALID_MEDIA_ID,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no file at all"
        );

        let before = calls(&em, GET_PATH);
        let err = client.media().download(&"x".repeat(129)).await.unwrap_err();
        assert!(err.is_validation(), "{err:?}");
        assert!(
            err.to_string().contains("media_id") && err.to_string().contains("128"),
            "{err}"
        );
        assert_eq!(calls(&em, GET_PATH), before, "nothing sent");
    }

    /// A download is a read: `-1` and an HTML page instead of the file are retried.
    #[tokio::test]
    async fn downloads_are_retried_like_reads() {
        let em = emulator().await;
        let client = client(&em);
        let kfid = account(&client).await;
        let who = customer_who_wrote(&em, &kfid).await;
        let id =
            customer_sends_media(&em, &kfid, &who, "d.png", "image/png", crate::PNG.to_vec()).await;
        for fault in [
            Fault::Errcode { errcode: -1 },
            Fault::NonJson,
            Fault::Http502,
        ] {
            em.emulator().add_fault(FaultRule {
                fault,
                endpoint: Some(GET_PATH.into()),
                count: Some(1),
                rate: None,
            });
            let bytes: Vec<u8> = client
                .media()
                .download(&id)
                .await
                .unwrap()
                .map_ok(|b| b.to_vec())
                .try_concat()
                .await
                .unwrap();
            assert_eq!(bytes, crate::PNG);
        }
    }
}
