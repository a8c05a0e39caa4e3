//! media/upload: type, part, size and format rules.

use serde_json::{Value, json};

use crate::{Api, PNG, assert_err};

#[tokio::test]
async fn upload_rules() {
    let api = Api::new().await;
    let ok = api.upload("image", "media", PNG.to_vec()).await;
    assert_eq!(ok["errcode"], 0);
    assert_eq!(ok["type"], "image");
    assert!(
        ok["created_at"].is_string(),
        "created_at is a string, as documented: {ok}"
    );
    assert!(ok["media_id"].as_str().unwrap().len() <= 128);

    assert_err(&api.upload("picture", "media", PNG.to_vec()).await, 40005);
    assert_err(&api.upload("image", "file", PNG.to_vec()).await, 40004);
    assert_err(&api.upload("image", "media", vec![]).await, 44001);
    assert_err(&api.upload("file", "media", b"12345".to_vec()).await, 40006);
    assert_eq!(
        api.upload("file", "media", b"123456".to_vec()).await["errcode"],
        0
    );
    assert_err(
        &api.upload("image", "media", b"GIF89a......".to_vec()).await,
        40123,
    );
    assert_err(
        &api.upload("voice", "media", b"not amr at all".to_vec())
            .await,
        40004,
    );
    assert_err(
        &api.upload("video", "media", b"not an mp4 file".to_vec())
            .await,
        40004,
    );
    let mut big_png = PNG.to_vec();
    big_png.resize(10 * 1024 * 1024 + 1, 0);
    assert_err(&api.upload("image", "media", big_png).await, 45001);
    let not_multipart = api
        .post_with(
            "/cgi-bin/media/upload",
            &[("access_token", &api.token), ("type", "file")],
            "raw",
        )
        .await;
    assert_err(&not_multipart, 40004);
    // Media lasts three days: after that, 40007 when used (see accounts tests).
}

// ---- media/get and the customer's uploads ----

/// A customer; their external_userid.
pub(crate) async fn customer(api: &Api) -> String {
    let answer: Value = api
        .http
        .post(api.url("/__emulator/customers"))
        .json(&json!({"nickname": "客户"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["external_userid"].as_str().unwrap().to_owned()
}

/// The customer uploads `data` as `filename` with `content_type`; the raw answer.
pub(crate) async fn customer_upload(
    api: &Api,
    who: &str,
    filename: &str,
    content_type: &str,
    data: Vec<u8>,
) -> Value {
    let part = reqwest::multipart::Part::bytes(data)
        .file_name(filename.to_owned())
        .mime_str(content_type)
        .unwrap();
    api.http
        .post(api.url(&format!("/__emulator/customers/{who}/media")))
        .multipart(reqwest::multipart::Form::new().part("media", part))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `media/get` with an optional `Range` header.
pub(crate) async fn get(api: &Api, media_id: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = api
        .http
        .get(api.url("/cgi-bin/media/get"))
        .query(&[("access_token", api.token.as_str()), ("media_id", media_id)]);
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map_or("", |v| v.to_str().unwrap())
}

/// Bytes that differ at every offset, so a misplaced chunk shows.
pub(crate) fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from((i * 7 + i / 251) % 256).unwrap())
        .collect()
}

#[tokio::test]
async fn customer_media_is_served_with_its_type_name_and_ranges() {
    let api = Api::new().await;
    let who = customer(&api).await;
    let data = pattern(10_000);
    let up = customer_upload(&api, &who, "订单 截图.png", "image/png", data.clone()).await;
    assert_eq!(up["errcode"], 0, "{up}");
    assert_eq!(up["type"], "image");
    let id = up["media_id"].as_str().unwrap();

    let whole = get(&api, id, None).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(header(&whole, "content-type"), "image/png");
    assert_eq!(header(&whole, "content-length"), "10000");
    assert_eq!(header(&whole, "accept-ranges"), "bytes");
    let disposition = whole.headers()["content-disposition"].as_bytes().to_vec();
    assert_eq!(
        wecom_kf_types::media::disposition_filename(&disposition).as_deref(),
        Some("订单 截图.png")
    );
    assert_eq!(whole.bytes().await.unwrap().as_ref(), &data[..]);

    let part = get(&api, id, Some("bytes=100-199")).await;
    assert_eq!(part.status(), 206);
    assert_eq!(header(&part, "content-range"), "bytes 100-199/10000");
    assert_eq!(header(&part, "content-length"), "100");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &data[100..200]);
    let open = get(&api, id, Some("bytes=9990-")).await;
    assert_eq!(open.status(), 206);
    assert_eq!(header(&open, "content-range"), "bytes 9990-9999/10000");
    assert_eq!(open.bytes().await.unwrap().as_ref(), &data[9990..]);
    let last = get(&api, id, Some("bytes=-3")).await;
    assert_eq!(last.bytes().await.unwrap().as_ref(), &data[9997..]);
    let past_end = get(&api, id, Some("bytes=9990-20000")).await;
    assert_eq!(header(&past_end, "content-range"), "bytes 9990-9999/10000");

    let outside = get(&api, id, Some("bytes=10000-")).await;
    assert_eq!(outside.status(), 416);
    assert_eq!(header(&outside, "content-range"), "bytes */10000");

    // Typed by the part's Content-Type.
    for (content_type, kind) in [
        ("voice/amr", "voice"),
        ("audio/amr", "voice"),
        ("video/mp4", "video"),
        ("application/pdf", "file"),
    ] {
        let up = customer_upload(&api, &who, "x", content_type, b"#!AMR\n..".to_vec()).await;
        assert_eq!(up["type"], kind, "{content_type}: {up}");
    }
}

#[tokio::test]
async fn a_file_over_20_mib_is_served_only_in_chunks() {
    let api = Api::new().await;
    let who = customer(&api).await;
    let data = pattern(25 * 1024 * 1024);
    let up = customer_upload(
        &api,
        &who,
        "big.bin",
        "application/octet-stream",
        data.clone(),
    )
    .await;
    let id = up["media_id"].as_str().unwrap().to_owned();

    let plain = get(&api, &id, None).await;
    assert_eq!(plain.status(), 200);
    assert!(header(&plain, "content-type").starts_with("application/json"));
    assert_err(&plain.json().await.unwrap(), 830_002);
    let too_big = get(&api, &id, Some(&format!("bytes=0-{}", 20 * 1024 * 1024))).await;
    assert_err(&too_big.json().await.unwrap(), 830_002);
    let open = get(&api, &id, Some("bytes=0-")).await;
    assert_err(&open.json().await.unwrap(), 830_002);

    let chunk = 20 * 1024 * 1024;
    let mut got = Vec::with_capacity(data.len());
    while got.len() < data.len() {
        let last = (got.len() + chunk).min(data.len()) - 1;
        let part = get(&api, &id, Some(&format!("bytes={}-{last}", got.len()))).await;
        assert_eq!(part.status(), 206);
        got.extend_from_slice(&part.bytes().await.unwrap());
    }
    assert!(got == data, "the chunks reassemble the file");
}

#[tokio::test]
async fn unknown_and_expired_media_are_40007_and_app_uploads_are_served() {
    let mut api = Api::new().await;
    assert_err(
        &get(&api, "nosuchmedia", None).await.json().await.unwrap(),
        40007,
    );
    assert_err(&get(&api, "", None).await.json().await.unwrap(), 41006);
    let app = api.upload_png().await;
    let served = get(&api, &app, None).await;
    assert_eq!(header(&served, "content-type"), "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
    let tail = get(&api, &app, Some("bytes=-8")).await;
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &PNG[PNG.len() - 8..]);

    let who = customer(&api).await;
    let up = customer_upload(&api, &who, "a.txt", "text/plain", b"hello world".to_vec()).await;
    let id = &up["media_id"].as_str().unwrap().to_owned();
    api.em().emulator().advance_clock(3 * 24 * 3600 - 1);
    api.renew_token().await;
    assert_eq!(get(&api, id, None).await.status(), 200);
    api.em().emulator().advance_clock(1);
    let expired = get(&api, id, None).await;
    assert!(header(&expired, "content-disposition").is_empty());
    assert_err(&expired.json().await.unwrap(), 40007);
    assert_err(&get(&api, &app, None).await.json().await.unwrap(), 40007);
}

#[tokio::test]
async fn customer_uploads_are_checked() {
    let api = Api::new().await;
    let answer = customer_upload(&api, "wmnobody", "a.png", "image/png", PNG.to_vec()).await;
    assert_eq!(answer["errcode"], 40096, "{answer}");
    let who = customer(&api).await;
    let empty = customer_upload(&api, &who, "a.png", "image/png", vec![]).await;
    assert_eq!(empty["errcode"], 44001, "{empty}");
    let wrong_part: Value = api
        .http
        .post(api.url(&format!("/__emulator/customers/{who}/media")))
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("a.png"),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wrong_part["errcode"], 40058, "{wrong_part}");
    assert!(wrong_part["errmsg"].as_str().unwrap().contains("media"));
}

#[tokio::test]
async fn an_upload_of_64_mib_works_and_more_is_refused() {
    let api = Api::new().await;
    let who = customer(&api).await;
    let max = usize::try_from(wecom_kf_emulator::CUSTOMER_MEDIA_MAX_BYTES).unwrap();
    let mut data = vec![0u8; max];
    data[max - 1] = 7;
    let up = customer_upload(&api, &who, "max.bin", "application/zip", data.clone()).await;
    assert_eq!(up["errcode"], 0, "{up}");
    let tail = get(&api, up["media_id"].as_str().unwrap(), Some("bytes=-2")).await;
    assert_eq!(
        header(&tail, "content-range"),
        format!("bytes {}-{}/{max}", max - 2, max - 1)
    );
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &[0, 7]);
    data.push(0);
    let over = customer_upload(&api, &who, "over.bin", "application/zip", data).await;
    assert_eq!(over["errcode"], 45001, "{over}");
}

/// The bytes of an upload are received and written without the store's lock: while
/// one upload is half sent, other calls are answered.
#[tokio::test]
async fn other_calls_go_on_while_an_upload_is_in_flight() {
    let api = Api::new().await;
    let who = customer(&api).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let part = reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(stream))
        .file_name("slow.bin")
        .mime_str("application/octet-stream")
        .unwrap();
    let upload = tokio::spawn({
        let http = api.http.clone();
        let url = api.url(&format!("/__emulator/customers/{who}/media"));
        async move {
            http.post(url)
                .multipart(reqwest::multipart::Form::new().part("media", part))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    });
    tx.send(Ok(vec![1; 1024 * 1024])).await.unwrap();
    // The upload is open; an API call and a control call are answered meanwhile.
    let list = tokio::time::timeout(std::time::Duration::from_secs(5), api.list())
        .await
        .expect("answered while an upload is in flight");
    assert!(list.is_empty());
    let other = tokio::time::timeout(std::time::Duration::from_secs(5), customer(&api))
        .await
        .expect("answered while an upload is in flight");
    assert!(!other.is_empty());
    assert!(!upload.is_finished());
    tx.send(Ok(vec![2; 1024])).await.unwrap();
    drop(tx);
    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), upload)
        .await
        .expect("the upload ends")
        .unwrap();
    assert_eq!(answer["errcode"], 0, "{answer}");
    let served = get(&api, answer["media_id"].as_str().unwrap(), None).await;
    assert_eq!(
        header(&served, "content-length"),
        (1024 * 1024 + 1024).to_string()
    );
}

#[tokio::test]
async fn a_cut_connection_stops_a_download_midway() {
    let api = Api::new().await;
    let who = customer(&api).await;
    let up = customer_upload(
        &api,
        &who,
        "a.bin",
        "application/octet-stream",
        pattern(100_000),
    )
    .await;
    api.em().emulator().add_fault(wecom_kf_emulator::FaultRule {
        fault: wecom_kf_emulator::Fault::CutBody { after_bytes: 1000 },
        endpoint: Some("/cgi-bin/media/get".into()),
        count: Some(1),
        rate: None,
    });
    let cut = get(&api, up["media_id"].as_str().unwrap(), None).await;
    assert_eq!(header(&cut, "content-length"), "100000");
    assert!(cut.bytes().await.is_err(), "the body ends early");
    let whole = get(&api, up["media_id"].as_str().unwrap(), None).await;
    assert_eq!(whole.bytes().await.unwrap().len(), 100_000);
}
