//! media/upload: type, part, size and format rules.

use serde_json::Value;

use crate::{Api, PNG, assert_err};

async fn upload(api: &Api, kind: &str, part_name: &str, data: Vec<u8>) -> Value {
    let part = reqwest::multipart::Part::bytes(data).file_name("f.bin");
    api.http
        .post(api.url("/cgi-bin/media/upload"))
        .query(&[("access_token", api.token.as_str()), ("type", kind)])
        .multipart(reqwest::multipart::Form::new().part(part_name.to_owned(), part))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn upload_rules() {
    let api = Api::new().await;
    let ok = upload(&api, "image", "media", PNG.to_vec()).await;
    assert_eq!(ok["errcode"], 0);
    assert_eq!(ok["type"], "image");
    assert!(
        ok["created_at"].is_string(),
        "created_at is a string, as documented: {ok}"
    );
    assert!(ok["media_id"].as_str().unwrap().len() <= 128);

    assert_err(&upload(&api, "picture", "media", PNG.to_vec()).await, 40005);
    assert_err(&upload(&api, "image", "file", PNG.to_vec()).await, 40004);
    assert_err(&upload(&api, "image", "media", vec![]).await, 44001);
    assert_err(
        &upload(&api, "file", "media", b"12345".to_vec()).await,
        40006,
    );
    assert_eq!(
        upload(&api, "file", "media", b"123456".to_vec()).await["errcode"],
        0
    );
    assert_err(
        &upload(&api, "image", "media", b"GIF89a......".to_vec()).await,
        40123,
    );
    assert_err(
        &upload(&api, "voice", "media", b"not amr at all".to_vec()).await,
        40004,
    );
    assert_err(
        &upload(&api, "video", "media", b"not an mp4 file".to_vec()).await,
        40004,
    );
    let mut big_png = PNG.to_vec();
    big_png.resize(10 * 1024 * 1024 + 1, 0);
    assert_err(&upload(&api, "image", "media", big_png).await, 45001);
    let not_multipart: Value = api
        .http
        .post(api.url("/cgi-bin/media/upload"))
        .query(&[("access_token", api.token.as_str()), ("type", "file")])
        .body("raw")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_err(&not_multipart, 40004);
    // Media lasts three days: after that, 40007 when used (see accounts tests).
}
