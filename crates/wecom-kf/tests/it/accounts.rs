//! Every account call, end to end.

use futures_util::TryStreamExt;
use wecom_kf::types::Endpoint;
use wecom_kf::types::kf::account::{ListAccounts, UpdateAccount};

use crate::{PNG, avatar, calls, client, emulator};

#[tokio::test]
async fn add_update_list_link_delete() {
    let em = emulator().await;
    let client = client(&em);
    let media_id = avatar(&client).await;

    let name = "售后客服一号".to_owned();
    let open_kfid = client.account().add(&name, &media_id).await.unwrap();
    assert!(open_kfid.starts_with("wk"));

    let page = client.account().list(0, 100).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].name, name);
    assert_eq!(page[0].open_kfid, open_kfid);
    assert_eq!(page[0].manage_privilege, Some(true));
    // The avatar URL serves the uploaded image back.
    let served = reqwest::get(&page[0].avatar)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&served[..], PNG);

    client
        .account()
        .update(UpdateAccount::new(&open_kfid).name("新名字"))
        .await
        .unwrap();
    assert_eq!(
        client.account().list(0, 10).await.unwrap()[0].name,
        "新名字"
    );

    let link = client
        .account()
        .contact_link(&open_kfid, Some("spring_sale-1"))
        .await
        .unwrap();
    assert!(
        link.starts_with("https://work.weixin.qq.com/kf/kfc"),
        "{link}"
    );
    assert!(link.contains("enc_scene="), "{link}");
    let plain = client
        .account()
        .contact_link(&open_kfid, None)
        .await
        .unwrap();
    assert!(!plain.contains("enc_scene"), "{plain}");

    client.account().delete(&open_kfid).await.unwrap();
    assert!(client.account().list(0, 100).await.unwrap().is_empty());
}

#[tokio::test]
async fn add_with_avatar_uploads_then_adds() {
    let em = emulator().await;
    let client = client(&em);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("avatar.png");
    std::fs::write(&path, PNG).unwrap();
    let open_kfid = client
        .account()
        .add_with_avatar("头像客服", &path)
        .await
        .unwrap();
    assert_eq!(calls(&em, "/cgi-bin/media/upload"), 1);
    let listed = client.account().list(0, 100).await.unwrap();
    assert_eq!(listed[0].open_kfid, open_kfid);
    assert!(listed[0].avatar.contains("/__emulator/media/"));

    // A bad name is refused before the upload: nothing is left half-done.
    let err = client
        .account()
        .add_with_avatar("名".repeat(17), &path)
        .await
        .unwrap_err();
    assert!(err.is_validation(), "{err}");
    assert_eq!(calls(&em, "/cgi-bin/media/upload"), 1);
}

#[tokio::test]
async fn list_all_streams_every_page_lazily() {
    let em = emulator().await;
    let client = client(&em);
    let media_id = avatar(&client).await;
    for i in 0..250 {
        client
            .account()
            .add(format!("客服{i}"), &media_id)
            .await
            .unwrap();
    }
    let before = calls(&em, ListAccounts::PATH);
    let stream = client.account().list_all();
    assert_eq!(
        calls(&em, ListAccounts::PATH),
        before,
        "nothing is sent until polled"
    );
    let all: Vec<_> = stream.try_collect().await.unwrap();
    assert_eq!(all.len(), 250);
    assert_eq!(all[0].name, "客服0");
    assert_eq!(all[249].name, "客服249");
    assert_eq!(calls(&em, ListAccounts::PATH) - before, 3, "100 + 100 + 50");

    // Full pages to the end: one more request finds nothing and ends the stream.
    let before = calls(&em, ListAccounts::PATH);
    let pages: Vec<_> = client.account().pages(50).try_collect().await.unwrap();
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![50; 5]);
    assert_eq!(calls(&em, ListAccounts::PATH) - before, 6);
}
