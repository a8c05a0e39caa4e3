//! media/upload: type, part, size and format rules.

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
