//! `client.servicer()`: long lists split into calls of 100, per-item results typed.

use wecom_kf::types::Endpoint;
use wecom_kf::types::ErrCode;
use wecom_kf::types::kf::servicer::{AddServicers, Target};

use crate::{avatar, calls, client, emulator};

#[tokio::test]
async fn adding_250_members_takes_three_calls_and_reports_each_one() {
    let em = emulator().await;
    let client = client(&em);
    let kfid = client
        .account()
        .add("售后", avatar(&client).await)
        .await
        .unwrap();
    let userids: Vec<String> = (0..250).map(|i| format!("user{i:03}")).collect();
    for userid in userids.iter().skip(1) {
        em.emulator().put_member(userid, userid, &[], true).unwrap();
    }
    em.emulator().put_department(7, "售前").unwrap();
    // user000 is not in the directory: its failure is an item, never hidden by errcode 0.
    let changes = client.servicer().add(&kfid, &userids, &[7]).await.unwrap();
    assert_eq!(calls(&em, AddServicers::PATH), 3);
    assert_eq!(changes.results.len(), 251);
    assert_eq!(changes.changed().count(), 250);
    let failed: Vec<_> = changes.failed().collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].errcode, ErrCode::USERID_NOT_FOUND);
    assert_eq!(
        failed[0].target,
        Target::User {
            userid: "user000".into()
        }
    );
    assert!(!changes.all_ok());
    let listed = client.servicer().list(&kfid).await.unwrap();
    assert_eq!(listed.len(), 250);
    // Removing them again: the ones already gone are "unchanged", not failures.
    let removed = client
        .servicer()
        .remove(&kfid, &userids, &[7])
        .await
        .unwrap();
    assert_eq!(
        calls(&em, wecom_kf::types::kf::servicer::DeleteServicers::PATH),
        3
    );
    assert_eq!(removed.changed().count(), 250);
    assert_eq!(removed.unchanged().count(), 1);
    assert!(removed.all_ok());
    assert!(client.servicer().list(&kfid).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_empty_change_is_refused_before_sending() {
    let em = emulator().await;
    let client = client(&em);
    let err = client
        .servicer()
        .add("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", &[], &[])
        .await
        .unwrap_err();
    assert!(err.is_validation(), "{err}");
    assert_eq!(calls(&em, AddServicers::PATH), 0);
}
