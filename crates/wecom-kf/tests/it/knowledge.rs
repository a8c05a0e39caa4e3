//! `client.knowledge()` against the emulator: every call, every refusal, paging over
//! more than one page, the default group, attachments as listed, a lost add.

use futures_util::TryStreamExt;
use serde_json::{Value, json};
use wecom_kf::types::Endpoint;
use wecom_kf::types::ErrCode;
use wecom_kf::types::kf::knowledge::{
    AddGroup, AddIntent, Answer, Attachment, DeleteGroup, LinkAttachment, ListGroups, ListIntents,
    ListedAttachment, MiniprogramAttachment, ModifyIntent, NamedMedia,
};
use wecom_kf::types::limits::{KNOWLEDGE_GROUPS_MAX, KNOWLEDGE_INTENTS_PER_GROUP_MAX};
use wecom_kf::{Client, Error};
use wecom_kf_emulator::{Config, DEMO_CORP_ID, DEMO_SECRET, Fault, FaultRule, Running};

use crate::{PNG, avatar, calls, client, emulator, emulator_with};

/// A call the client would refuse to send: straight to the emulator, with a token.
async fn raw(em: &Running, path: &str, body: &Value) -> Value {
    let http = reqwest::Client::new();
    let token: Value = http
        .get(format!(
            "{}/cgi-bin/gettoken?corpid={DEMO_CORP_ID}&corpsecret={DEMO_SECRET}",
            em.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap();
    http.post(format!("{}{path}?access_token={token}", em.base_url()))
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn api_code(err: &Error) -> ErrCode {
    err.api_code()
        .unwrap_or_else(|| panic!("not an API error: {err:?}"))
}

async fn default_group(client: &Client) -> String {
    let groups: Vec<_> = client.knowledge().groups().try_collect().await.unwrap();
    let defaults: Vec<_> = groups.iter().filter(|g| g.is_default).collect();
    assert_eq!(defaults.len(), 1, "{groups:?}");
    defaults[0].group_id.clone()
}

#[tokio::test]
async fn the_default_group_is_there_from_the_start_and_stays() {
    let em = emulator().await;
    let client = client(&em);
    let groups: Vec<_> = client.knowledge().groups().try_collect().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert!(groups[0].is_default);
    assert_eq!(groups[0].name, "默认分组");
    let id = groups[0].group_id.clone();
    let err = client.knowledge().delete_group(&id).await.unwrap_err();
    assert_eq!(api_code(&err), ErrCode::INVALID_PARAMETER);
    assert!(err.to_string().contains("default group"), "{err}");
    let err = client
        .knowledge()
        .rename_group(&id, "改名")
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrCode::INVALID_PARAMETER);
    // It holds intents like any other group.
    let intent = AddIntent::new(&id, "营业时间？", Answer::new("九点到六点。"));
    client.knowledge().add_intent(&intent).await.unwrap();
    // A reset brings back a corp with only its default group.
    em.emulator().reset().unwrap();
    let after: Vec<_> = client.knowledge().groups().try_collect().await.unwrap();
    assert_eq!(after.len(), 1);
    assert!(after[0].is_default);
    let intents: Vec<_> = client
        .knowledge()
        .all_intents()
        .try_collect()
        .await
        .unwrap();
    assert!(intents.is_empty());
}

#[tokio::test]
async fn groups_are_added_renamed_and_deleted_with_their_intents() {
    let em = emulator().await;
    let client = client(&em);
    let kb = client.knowledge();
    let after_sales = kb.add_group("售后").await.unwrap();
    let logistics = kb.add_group("物流").await.unwrap();
    // Names are unique, on add and on rename; renaming to its own name is fine.
    let err = kb.add_group("售后").await.unwrap_err();
    assert_eq!(api_code(&err), ErrCode::INVALID_PARAMETER);
    assert!(err.to_string().contains("already exists"), "{err}");
    let err = kb.rename_group(&logistics, "售后").await.unwrap_err();
    assert_eq!(api_code(&err), ErrCode::INVALID_PARAMETER);
    kb.rename_group(&logistics, "物流").await.unwrap();
    kb.rename_group(&after_sales, "售后服务").await.unwrap();
    let only = kb
        .group_page(&ListGroups::default().group(&after_sales))
        .await
        .unwrap();
    assert_eq!(only.group_list.len(), 1);
    assert_eq!(only.group_list[0].name, "售后服务");
    assert!(!only.has_more);

    let intent = AddIntent::new(&after_sales, "怎么退货？", Answer::new("订单页申请。"));
    kb.add_intent(&intent).await.unwrap();
    kb.delete_group(&after_sales).await.unwrap();
    let intents: Vec<_> = kb.all_intents().try_collect().await.unwrap();
    assert!(intents.is_empty(), "the group's intents went with it");
    let names: Vec<_> = kb
        .groups()
        .map_ok(|g| g.name)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(names, ["默认分组", "物流"]);
    // Unknown ids are refused.
    for err in [
        kb.rename_group("nope", "x").await.unwrap_err(),
        kb.delete_intent("nope").await.unwrap_err(),
        kb.add_intent(&AddIntent::new("nope", "q", Answer::new("a")))
            .await
            .unwrap_err(),
        kb.modify_intent(&ModifyIntent::new("nope").question("q"))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(api_code(&err), ErrCode::INVALID_PARAMETER, "{err}");
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
    // del_group of an unknown id is refused too (sent raw: the client would count a
    // refusal after a lost answer as done, but this is a first attempt).
    let answer = raw(&em, DeleteGroup::PATH, &json!({"group_id": "nope"})).await;
    assert_eq!(answer["errcode"], 40058, "{answer}");
}

#[tokio::test]
async fn a_corp_holds_at_most_100_groups_and_a_group_200_intents() {
    let em = emulator().await;
    let client = client(&em);
    let kb = client.knowledge();
    for i in 1..KNOWLEDGE_GROUPS_MAX {
        kb.add_group(format!("分组{i}")).await.unwrap();
    }
    let err = kb.add_group("再多一个").await.unwrap_err();
    assert_eq!(api_code(&err), ErrCode::INVALID_PARAMETER);
    assert!(err.to_string().contains("100 knowledge groups"), "{err}");

    let group = default_group(&client).await;
    for i in 0..KNOWLEDGE_INTENTS_PER_GROUP_MAX {
        kb.add_intent(&AddIntent::new(
            &group,
            format!("问题{i}"),
            Answer::new("答"),
        ))
        .await
        .unwrap();
    }
    let err = kb
        .add_intent(&AddIntent::new(&group, "第201个", Answer::new("答")))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrCode::INVALID_PARAMETER);
    assert!(err.to_string().contains("200 intents"), "{err}");
}

#[tokio::test]
async fn paging_covers_more_groups_and_intents_than_one_page() {
    let em = emulator().await;
    let client = client(&em);
    let kb = client.knowledge();
    for i in 0..20 {
        kb.add_group(format!("组{i:02}")).await.unwrap();
    }
    let before = calls(&em, ListGroups::PATH);
    let pages: Vec<_> = kb
        .group_pages(ListGroups::page(None, 7))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(calls(&em, ListGroups::PATH) - before, 3, "7 + 7 + 7 of 21");
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [7, 7, 7]);
    let names: Vec<_> = pages.concat().into_iter().map(|g| g.name).collect();
    assert_eq!(names[0], "默认分组");
    assert_eq!(names[20], "组19");

    let groups: Vec<_> = kb.groups().try_collect().await.unwrap();
    let (a, b) = (&groups[1].group_id, &groups[2].group_id);
    for i in 0..25 {
        let group = if i % 2 == 0 { a } else { b };
        kb.add_intent(&AddIntent::new(
            group,
            format!("问{i:02}"),
            Answer::new("答"),
        ))
        .await
        .unwrap();
    }
    let before = calls(&em, ListIntents::PATH);
    let all: Vec<_> = kb
        .intent_pages(ListIntents::page(None, 10))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(calls(&em, ListIntents::PATH) - before, 3);
    assert_eq!(all.concat().len(), 25);
    let in_a: Vec<_> = kb
        .intent_pages(ListIntents::page(None, 5).group(a))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(in_a.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 3]);
    assert!(in_a.concat().iter().all(|i| &i.group_id == a));
    let streamed: Vec<_> = kb.intents(b).try_collect().await.unwrap();
    assert_eq!(streamed.len(), 12);
    // A cursor the service never gave is refused.
    let err = kb
        .intent_page(&ListIntents::page(Some("x".into()), 5))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrCode::INVALID_PARAMETER);
}

#[tokio::test]
async fn intents_keep_their_parts_and_list_attachments_by_name() {
    let em = emulator().await;
    let client = client(&em);
    let kb = client.knowledge();
    let group = default_group(&client).await;
    let image = avatar(&client).await;
    let answer = Answer::new("七天内可退货。")
        .attach(Attachment::image(&image))
        .attach(Attachment::Link {
            link: LinkAttachment::new("退货政策", "https://example.com/r").desc("详情"),
        })
        .attach(Attachment::Miniprogram {
            miniprogram: MiniprogramAttachment::new("小程序", "wx123", "pages/r", &image),
        });
    let request = AddIntent::new(&group, "怎么退货？", answer).similar(["如何退货", "退货流程"]);
    let id = kb.add_intent(&request).await.unwrap();
    let listed: Vec<_> = kb.intents(&group).try_collect().await.unwrap();
    assert_eq!(listed.len(), 1);
    let intent = &listed[0];
    assert_eq!(intent.intent_id, id);
    assert_eq!(intent.question.content(), "怎么退货？");
    assert_eq!(intent.similar_questions.items.len(), 2);
    let attachments = &intent.answers[0].attachments;
    assert_eq!(
        attachments[0],
        ListedAttachment::Image {
            image: NamedMedia::new("avatar.png")
        }
    );
    assert!(
        matches!(&attachments[1], ListedAttachment::Link { link } if link.url == "https://example.com/r")
    );
    let raw_list = raw(&em, ListIntents::PATH, &json!({})).await;
    let mini = &raw_list["intent_list"][0]["answers"][0]["attachments"][2]["miniprogram"];
    assert_eq!(mini["appid"], "wx123");
    assert!(mini.get("thumb_media_id").is_none(), "{mini}");

    // mod_intent replaces each part it is sent, keeps the others.
    kb.modify_intent(&ModifyIntent::new(&id).similar(["退货"]))
        .await
        .unwrap();
    let after = kb
        .intent_page(&ListIntents::page(None, 10).intent(&id))
        .await
        .unwrap();
    let after = &after.intent_list[0];
    assert_eq!(after.question.content(), "怎么退货？");
    assert_eq!(after.similar_questions.items.len(), 1);
    assert_eq!(after.answers[0].attachments.len(), 3);

    // Questions are unique across groups, on add and on change.
    let other = kb.add_group("其他").await.unwrap();
    let err = kb
        .add_intent(&AddIntent::new(&other, "怎么退货？", Answer::new("a")))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrCode::INVALID_PARAMETER);
    let second = kb
        .add_intent(&AddIntent::new(&other, "怎么换货？", Answer::new("a")))
        .await
        .unwrap();
    let err = kb
        .modify_intent(&ModifyIntent::new(&second).question("怎么退货？"))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrCode::INVALID_PARAMETER);
    // Media that was never uploaded is refused like in a send.
    let err = kb
        .modify_intent(
            &ModifyIntent::new(&second).answer(Answer::new("a").attach(Attachment::video("nope"))),
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), ErrCode::INVALID_MEDIA_ID);
    kb.delete_intent(&second).await.unwrap();
    let left: Vec<_> = kb.all_intents().try_collect().await.unwrap();
    assert_eq!(left.len(), 1);
}

#[tokio::test]
async fn bad_values_are_refused_by_the_client_and_by_the_emulator_alike() {
    let em = emulator().await;
    let client = client(&em);
    let group = default_group(&client).await;
    let long_answer = AddIntent::new(&group, "q", Answer::new("答".repeat(501)));
    let err = client
        .knowledge()
        .add_intent(&long_answer)
        .await
        .unwrap_err();
    assert!(err.is_validation(), "{err}");
    assert!(err.to_string().contains("answers[].text.content"), "{err}");
    assert_eq!(calls(&em, AddIntent::PATH), 0, "nothing was sent");
    // The same bodies sent raw get the code the client named.
    let cases = [
        (
            AddGroup::PATH,
            json!({"name": "一二三四五六七八九十一二三"}),
        ),
        (AddGroup::PATH, json!({"name": ""})),
        (AddIntent::PATH, serde_json::to_value(&long_answer).unwrap()),
        (
            AddIntent::PATH,
            json!({"group_id": group, "question": {"text": {"content": "q"}}, "answers": []}),
        ),
        (
            AddIntent::PATH,
            json!({"group_id": group, "question": {"text": {"content": "q"}},
                   "answers": [{"text": {"content": "a"}}, {"text": {"content": "b"}}]}),
        ),
        (ListGroups::PATH, json!({"limit": 1001})),
        (ModifyIntent::PATH, json!({"intent_id": "x"})),
    ];
    for (path, body) in cases {
        let answer = raw(&em, path, &body).await;
        assert_eq!(answer["errcode"], 40058, "{path} {body}: {answer}");
    }
    let groups: Vec<_> = client.knowledge().groups().try_collect().await.unwrap();
    assert_eq!(groups.len(), 1, "nothing was added");
}

#[tokio::test]
async fn a_lost_add_intent_is_outcome_unknown_and_not_retried() {
    let em = emulator().await;
    let client = client(&em);
    let group = default_group(&client).await;
    em.emulator().add_fault(FaultRule {
        fault: Fault::DropAfterCommit,
        endpoint: Some(AddIntent::PATH.into()),
        count: Some(1),
        rate: None,
    });
    let request = AddIntent::new(&group, "丢失的回答", Answer::new("a"));
    let err = client.knowledge().add_intent(&request).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert!(err.to_string().contains("list_intent"), "{err}");
    assert_eq!(calls(&em, AddIntent::PATH), 1, "not retried");
    let intents: Vec<_> = client
        .knowledge()
        .all_intents()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(intents.len(), 1, "it was created once");
}

#[tokio::test]
async fn the_knowledge_base_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kb.sqlite").to_string_lossy().into_owned();
    let em = emulator_with(Config::with_db(&db)).await;
    let first = client(&em);
    let group = first.knowledge().add_group("持久").await.unwrap();
    let media = first
        .media()
        .upload(
            wecom_kf::types::media::MediaType::Image,
            wecom_kf::media::Media::bytes("图.png", PNG),
        )
        .await
        .unwrap()
        .media_id;
    let answer = Answer::new("a").attach(Attachment::image(media));
    first
        .knowledge()
        .add_intent(&AddIntent::new(&group, "还在吗？", answer))
        .await
        .unwrap();
    let before: Vec<_> = first.knowledge().all_intents().try_collect().await.unwrap();
    let groups_before: Vec<_> = first.knowledge().groups().try_collect().await.unwrap();
    em.shutdown().await;
    let em = emulator_with(Config::with_db(&db)).await;
    let second = client(&em);
    let after: Vec<_> = second
        .knowledge()
        .all_intents()
        .try_collect()
        .await
        .unwrap();
    let groups_after: Vec<_> = second.knowledge().groups().try_collect().await.unwrap();
    assert_eq!(after, before);
    assert_eq!(groups_after, groups_before, "the same default group, too");
}
