//! Every operation × every fault, against the emulator's fault injection.
//!
//! For each cell: no panic, no hang past the timeouts (each cell is bounded), and the
//! documented outcome. Reads and idempotent calls succeed after bounded retries, or fail
//! with the right typed error. `add` never creates two accounts, and when its outcome is
//! unknown, `list` shows at most one. `update` and `delete` end in the requested state.
//!
//! `cargo test -p wecom-kf --test it fault_matrix -- --nocapture` prints the matrix.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use wecom_kf::media::Media;
use wecom_kf::token::TokenCache;
use wecom_kf::types::Endpoint;
use wecom_kf::types::kf::account::{AddAccount, DeleteAccount, ListAccounts, UpdateAccount};
use wecom_kf::types::kf::contact_way::AddContactWay;
use wecom_kf::types::kf::customer::{
    BatchGetCustomers, CancelUpgradeService, GetUpgradeServiceConfig, UpgradeService,
};
use wecom_kf::types::kf::knowledge::{
    AddGroup, AddIntent, Answer, DeleteGroup, DeleteIntent, ListGroups, ListIntents, ModifyGroup,
    ModifyIntent,
};
use wecom_kf::types::kf::message::Content;
use wecom_kf::types::kf::qualification::GetCorpQualification;
use wecom_kf::types::kf::recall_msg::RecallMsg;
use wecom_kf::types::kf::send_msg::SendMsg;
use wecom_kf::types::kf::send_msg_on_event::SendMsgOnEvent;
use wecom_kf::types::kf::service_state::{GetServiceState, ServiceState, TransServiceState};
use wecom_kf::types::kf::servicer::{AddServicers, DeleteServicers, ListServicers, Target};
use wecom_kf::types::kf::statistic::{CorpStatistic, DayRange, ServicerStatistic};
use wecom_kf::types::kf::sync_msg::SyncMsg;
use wecom_kf::types::media::{GET_PATH, MediaType, UPLOAD_PATH};
use wecom_kf::types::token::GetToken;
use wecom_kf::{Client, Error, RetryPolicy};
use wecom_kf_emulator::{Fault, FaultRule, Running};

use crate::{PNG, emulator};

const TIMEOUT: Duration = Duration::from_millis(300);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    GetToken,
    Upload,
    Add,
    Update,
    Delete,
    List,
    Link,
    ServicerAdd,
    ServicerDel,
    ServicerList,
    StateGet,
    StateTrans,
    CustomerGet,
    UpgradeConfig,
    Upgrade,
    CancelUpgrade,
    CorpStats,
    ServicerStats,
    Qualification,
    Sync,
    Send,
    SendOnEvent,
    Recall,
    KbAddGroup,
    KbDelGroup,
    KbModGroup,
    KbListGroup,
    KbAddIntent,
    KbDelIntent,
    KbModIntent,
    KbListIntent,
    MediaGet,
}

impl Op {
    const ALL: [Op; 32] = [
        Op::GetToken,
        Op::Upload,
        Op::Add,
        Op::Update,
        Op::Delete,
        Op::List,
        Op::Link,
        Op::ServicerAdd,
        Op::ServicerDel,
        Op::ServicerList,
        Op::StateGet,
        Op::StateTrans,
        Op::CustomerGet,
        Op::UpgradeConfig,
        Op::Upgrade,
        Op::CancelUpgrade,
        Op::CorpStats,
        Op::ServicerStats,
        Op::Qualification,
        Op::Sync,
        Op::Send,
        Op::SendOnEvent,
        Op::Recall,
        Op::KbAddGroup,
        Op::KbDelGroup,
        Op::KbModGroup,
        Op::KbListGroup,
        Op::KbAddIntent,
        Op::KbDelIntent,
        Op::KbModIntent,
        Op::KbListIntent,
        Op::MediaGet,
    ];

    fn path(self) -> &'static str {
        match self {
            Op::GetToken => GetToken::PATH,
            Op::Upload => UPLOAD_PATH,
            Op::Add => AddAccount::PATH,
            Op::Update => UpdateAccount::PATH,
            Op::Delete => DeleteAccount::PATH,
            Op::List => ListAccounts::PATH,
            Op::Link => AddContactWay::PATH,
            Op::ServicerAdd => AddServicers::PATH,
            Op::ServicerDel => DeleteServicers::PATH,
            Op::ServicerList => ListServicers::PATH,
            Op::StateGet => GetServiceState::PATH,
            Op::StateTrans => TransServiceState::PATH,
            Op::CustomerGet => BatchGetCustomers::PATH,
            Op::UpgradeConfig => GetUpgradeServiceConfig::PATH,
            Op::Upgrade => UpgradeService::PATH,
            Op::CancelUpgrade => CancelUpgradeService::PATH,
            Op::CorpStats => CorpStatistic::PATH,
            Op::ServicerStats => ServicerStatistic::PATH,
            Op::Qualification => GetCorpQualification::PATH,
            Op::Sync => SyncMsg::PATH,
            Op::Send => SendMsg::PATH,
            Op::SendOnEvent => SendMsgOnEvent::PATH,
            Op::Recall => RecallMsg::PATH,
            Op::KbAddGroup => AddGroup::PATH,
            Op::KbDelGroup => DeleteGroup::PATH,
            Op::KbModGroup => ModifyGroup::PATH,
            Op::KbListGroup => ListGroups::PATH,
            Op::KbAddIntent => AddIntent::PATH,
            Op::KbDelIntent => DeleteIntent::PATH,
            Op::KbModIntent => ModifyIntent::PATH,
            Op::KbListIntent => ListIntents::PATH,
            Op::MediaGet => GET_PATH,
        }
    }

    /// The calls that are never retried once they may have reached the server.
    fn idempotent(self) -> bool {
        !matches!(
            self,
            Op::Add | Op::StateTrans | Op::KbAddGroup | Op::KbAddIntent
        )
    }
}

/// The matrix covers every endpoint the emulator serves: a new endpoint in its registry
/// fails this until it has an operation here.
#[test]
fn the_matrix_covers_every_endpoint_of_the_registry() {
    let mut registered: Vec<&str> = wecom_kf_emulator::api_paths().map(|(p, _)| p).collect();
    let mut covered: Vec<&str> = Op::ALL.iter().map(|op| op.path()).collect();
    registered.sort_unstable();
    covered.sort_unstable();
    assert_eq!(covered, registered);
}

#[derive(Clone, Debug)]
enum Injected {
    Rule(Fault, u32),
    RevokedToken,
    ExpiredToken,
}

fn faults() -> Vec<(&'static str, Injected)> {
    vec![
        ("-1 once", Injected::Rule(Fault::Errcode { errcode: -1 }, 1)),
        (
            "-1 burst of 5",
            Injected::Rule(Fault::Errcode { errcode: -1 }, 5),
        ),
        (
            "45009",
            Injected::Rule(Fault::Errcode { errcode: 45009 }, 1),
        ),
        ("HTTP 502 (HTML)", Injected::Rule(Fault::Http502, 1)),
        (
            "reset before commit",
            Injected::Rule(Fault::DropBeforeCommit, 1),
        ),
        (
            "reset after commit",
            Injected::Rule(Fault::DropAfterCommit, 1),
        ),
        (
            "latency past timeout",
            Injected::Rule(Fault::Latency { ms: 900 }, 1),
        ),
        ("truncated JSON", Injected::Rule(Fault::Truncate, 1)),
        ("non-JSON 200", Injected::Rule(Fault::NonJson, 1)),
        ("oversized body", Injected::Rule(Fault::Oversized, 1)),
        (
            "cut mid-body",
            Injected::Rule(Fault::CutBody { after_bytes: 10 }, 1),
        ),
        ("token revoked", Injected::RevokedToken),
        ("token expired", Injected::ExpiredToken),
    ]
}

fn client(em: &Running, tokens: TokenCache) -> Client {
    crate::builder(em)
        .token_cache(tokens)
        .request_timeout(TIMEOUT)
        .retry_policy(
            RetryPolicy::attempts(3)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(10)),
        )
        .build()
        .unwrap()
}

fn kind(err: &Error) -> String {
    match err {
        Error::Api { code, .. } => format!("Api({})", code.get()),
        Error::Http { status, .. } => format!("Http({status})"),
        Error::Transport { .. } => "Transport".into(),
        Error::Timeout { .. } => "Timeout".into(),
        Error::Decode { .. } => "Decode".into(),
        Error::ResponseTooLarge { .. } => "TooLarge".into(),
        Error::NotTheFile { .. } => "NotTheFile".into(),
        Error::Token(inner) => format!("Token({})", kind(inner)),
        Error::OutcomeUnknown { source, .. } => format!("OutcomeUnknown({})", kind(source)),
        other => format!("{other:?}"),
    }
}

/// Run one cell on a fresh emulator; returns the outcome text and the anomalies found.
async fn cell(op: Op, injected: &Injected) -> (String, Vec<String>, u64, u64) {
    let em = emulator().await;
    // The setup is not under test: it gets the generous timeout, so ten cells at once
    // on a loaded machine cannot fail it. The operation's client shares its token.
    let tokens = TokenCache::default();
    let setup = crate::builder(&em)
        .token_cache(tokens.clone())
        .build()
        .unwrap();
    let media_id = setup
        .media()
        .upload(MediaType::Image, Media::bytes("a.png", PNG))
        .await
        .unwrap()
        .media_id;
    let kfid = setup.account().add("原名", &media_id).await.unwrap();
    let servicers = setup.servicer();
    let zhangsan = vec!["zhangsan".to_owned()];
    em.emulator()
        .put_member("zhangsan", "张三", &[], true)
        .unwrap();
    if matches!(op, Op::ServicerDel | Op::ServicerList) {
        assert!(servicers.add(&kfid, &zhangsan, &[]).await.unwrap().all_ok());
    }
    // A welcome code needs a customer who entered and has not written yet.
    let who = if op == Op::SendOnEvent {
        crate::control(&em, "/__emulator/customers", &serde_json::json!({}))
            .await["external_userid"]
            .as_str()
            .unwrap()
            .to_owned()
    } else {
        crate::customer_who_wrote(&em, &kfid).await
    };
    crate::control(
        &em,
        "/__emulator/upgrade_service_config",
        &serde_json::json!({"member_range": {"userid_list": ["zhangsan"]}}),
    )
    .await;
    let welcome_code = crate::control(
        &em,
        &format!("/__emulator/customers/{who}/enter"),
        &serde_json::json!({"open_kfid": kfid}),
    )
    .await["welcome_code"]
        .as_str()
        .map(str::to_owned);
    // A customer's file, and where the download goes.
    let media_data = crate::pattern(50_000);
    let customer_media = if op == Op::MediaGet {
        crate::customer_sends_media(
            &em,
            &kfid,
            &who,
            "m.bin",
            "application/pdf",
            media_data.clone(),
        )
        .await
    } else {
        String::new()
    };
    let media_dir = tempfile::tempdir().unwrap();
    let media_path = media_dir.path().join("m.bin");
    let sent = if op == Op::Recall {
        setup
            .message()
            .send(&kfid, &who, Content::text("收回"))
            .await
            .unwrap()
    } else {
        String::new()
    };
    let kb = setup.knowledge();
    let (group, intent) = if matches!(
        op,
        Op::KbDelGroup | Op::KbModGroup | Op::KbAddIntent | Op::KbDelIntent | Op::KbModIntent
    ) {
        let group = kb.add_group("原组").await.unwrap();
        let intent = kb
            .add_intent(&AddIntent::new(&group, "原问题", Answer::new("原答案")))
            .await
            .unwrap();
        (group, intent)
    } else {
        (String::new(), String::new())
    };
    let yesterday = em.emulator().now() - 86_400;
    let days = DayRange::new(yesterday - 86_400, yesterday);
    // GetToken cells need a cold client; the others a warm one.
    let client = if op == Op::GetToken {
        client(&em, TokenCache::default())
    } else {
        client(&em, tokens)
    };
    match injected {
        Injected::Rule(fault, count) => em.emulator().add_fault(FaultRule {
            fault: fault.clone(),
            endpoint: Some(op.path().into()),
            count: Some(*count),
            rate: None,
        }),
        Injected::RevokedToken => drop(em.emulator().revoke_tokens(None).unwrap()),
        Injected::ExpiredToken => em.emulator().expire_tokens().unwrap(),
    }
    let before = em
        .emulator()
        .stats()
        .requests
        .get(op.path())
        .copied()
        .unwrap_or(0);
    let call = async {
        match op {
            Op::GetToken | Op::List => client.account().list(0, 100).await.map(drop),
            Op::Upload => client
                .media()
                .upload(MediaType::Image, Media::bytes("b.png", PNG))
                .await
                .map(drop),
            Op::Add => client.account().add("新增", &media_id).await.map(drop),
            Op::Update => {
                client
                    .account()
                    .update(UpdateAccount::new(&kfid).name("改名"))
                    .await
            }
            Op::Delete => client.account().delete(&kfid).await,
            Op::Link => client
                .account()
                .contact_link(&kfid, Some("s"))
                .await
                .map(drop),
            Op::ServicerAdd => client.servicer().add(&kfid, &zhangsan, &[]).await.map(drop),
            Op::ServicerDel => client
                .servicer()
                .remove(&kfid, &zhangsan, &[])
                .await
                .map(drop),
            Op::ServicerList => client.servicer().list(&kfid).await.map(drop),
            Op::StateGet => client.session().get(&kfid, &who).await.map(drop),
            Op::StateTrans => client.session().to_bot(&kfid, &who).await.map(drop),
            Op::CustomerGet => client
                .customer()
                .get(std::slice::from_ref(&who))
                .await
                .map(drop),
            Op::UpgradeConfig => client.customer().upgrade_config().await.map(drop),
            Op::Upgrade => {
                let request = UpgradeService::to_member(&kfid, &who, "zhangsan", "专属顾问");
                client.customer().upgrade(&request).await
            }
            Op::CancelUpgrade => client.customer().cancel_upgrade(&kfid, &who).await,
            Op::CorpStats => client.stats().corp(&kfid, days).await.map(drop),
            Op::ServicerStats => client.stats().servicer(&kfid, days, None).await.map(drop),
            Op::Qualification => client.corp_qualification().await.map(drop),
            Op::Sync => client.message().sync(&kfid).await.map(drop),
            Op::Send => client
                .message()
                .send(&kfid, &who, Content::text("您好"))
                .await
                .map(drop),
            Op::SendOnEvent => {
                let code = welcome_code.clone().unwrap_or_default();
                client
                    .message()
                    .send_on_event(SendMsgOnEvent::new(code, Content::text("欢迎")))
                    .await
                    .map(drop)
            }
            Op::Recall => client.message().recall(&kfid, &sent).await,
            Op::KbAddGroup => client.knowledge().add_group("新组").await.map(drop),
            Op::KbDelGroup => client.knowledge().delete_group(&group).await,
            Op::KbModGroup => client.knowledge().rename_group(&group, "改组").await,
            Op::KbListGroup => client
                .knowledge()
                .group_page(&ListGroups::default())
                .await
                .map(drop),
            Op::KbAddIntent => {
                let request = AddIntent::new(&group, "新问题", Answer::new("新答案"));
                client.knowledge().add_intent(&request).await.map(drop)
            }
            Op::KbDelIntent => client.knowledge().delete_intent(&intent).await,
            Op::KbModIntent => {
                let change = ModifyIntent::new(&intent).question("改问题");
                client.knowledge().modify_intent(&change).await
            }
            Op::KbListIntent => client
                .knowledge()
                .intent_page(&ListIntents::default())
                .await
                .map(drop),
            Op::MediaGet => client
                .media()
                .download_to(&customer_media, &media_path)
                .await
                .map(drop),
        }
    };
    // No hang: 3 attempts × (timeout + backoff) plus a token fetch fit well inside this.
    let result = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("the call hung");
    let attempts = em
        .emulator()
        .stats()
        .requests
        .get(op.path())
        .copied()
        .unwrap_or(0)
        - before;
    em.emulator().clear_faults();
    // A late commit (latency past the timeout) lands after the client gave up.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let check = crate::client(&em);
    let accounts = check.account().list(0, 100).await.unwrap();
    let mut anomalies = Vec::new();
    let outcome = match &result {
        Ok(()) => format!(
            "ok ({attempts} attempt{})",
            if attempts == 1 { "" } else { "s" }
        ),
        Err(err) => format!("{} ({attempts})", kind(err)),
    };
    // Reads and idempotent calls recover from any single fault.
    let single = matches!(
        injected,
        Injected::Rule(_, 1) | Injected::RevokedToken | Injected::ExpiredToken
    );
    let throttled = matches!(
        injected,
        Injected::Rule(Fault::Errcode { errcode: 45009 }, _)
    );
    if op.idempotent() && single && !throttled && result.is_err() {
        anomalies.push(format!("{op:?} did not recover: {outcome}"));
    }
    if throttled && result.is_ok() {
        anomalies.push(format!("{op:?} hid a 45009"));
    }
    if let Err(err) = &result {
        let typed = matches!(
            err,
            Error::Api { .. }
                | Error::Token(_)
                | Error::OutcomeUnknown { .. }
                | Error::Http { .. }
                | Error::Timeout { .. }
                | Error::Transport { .. }
                | Error::Decode { .. }
                | Error::ResponseTooLarge { .. }
                | Error::Refused { .. }
                | Error::NotTheFile { .. }
        );
        if !typed {
            anomalies.push(format!("untyped error {err:?}"));
        }
    }
    let added = accounts.iter().filter(|a| a.name == "新增").count();
    match op {
        Op::Add => {
            if added > 1 {
                anomalies.push(format!("add created {added} accounts"));
            }
            if result.is_ok() && added != 1 {
                anomalies.push("an acknowledged add is missing".into());
            }
            if let Err(err) = &result {
                if matches!(err, Error::Api { .. }) && added != 0 {
                    anomalies.push("a rejected add created an account".into());
                }
                if !err.is_outcome_unknown() && !matches!(err, Error::Api { .. }) {
                    anomalies.push(format!(
                        "an ambiguous add failure is not OutcomeUnknown: {err:?}"
                    ));
                }
            }
        }
        Op::Update
            if result.is_ok()
                && !accounts
                    .iter()
                    .any(|a| a.open_kfid == kfid && a.name == "改名") =>
        {
            anomalies.push("update acknowledged but not applied".into());
        }
        Op::Delete if result.is_ok() && accounts.iter().any(|a| a.open_kfid == kfid) => {
            anomalies.push("delete acknowledged but the account is still there".into());
        }
        Op::StateTrans => {
            let now = check
                .session()
                .get(&kfid, &who)
                .await
                .unwrap()
                .service_state;
            match &result {
                Ok(()) if now != ServiceState::Bot => {
                    anomalies.push(format!("trans acknowledged but the state is {now}"));
                }
                Err(Error::Api { .. }) if now != ServiceState::New => {
                    anomalies.push(format!("a refused trans moved the session to {now}"));
                }
                Err(err) if !err.is_outcome_unknown() && !matches!(err, Error::Api { .. }) => {
                    anomalies.push(format!("an ambiguous trans is not OutcomeUnknown: {err:?}"));
                }
                _ => {}
            }
        }
        // A send reaches the customer at most once, and an acknowledged one exactly once.
        Op::Send | Op::SendOnEvent => {
            let inbox = crate::inbox(&em, &kfid, &who).await;
            if inbox.len() > 1 {
                anomalies.push(format!("{op:?} delivered {} messages", inbox.len()));
            }
            if result.is_ok() && inbox.len() != 1 {
                anomalies.push(format!("an acknowledged {op:?} is missing"));
            }
        }
        Op::Recall if result.is_ok() => {
            let inbox = crate::inbox(&em, &kfid, &who).await;
            if inbox.first().is_none_or(|m| m["recalled"] != true) {
                anomalies.push("recall acknowledged but not applied".into());
            }
        }
        // A download is the file, byte for byte, or nothing at its path.
        Op::MediaGet => match &result {
            Ok(()) if std::fs::read(&media_path).ok() != Some(media_data) => {
                anomalies.push("the downloaded file differs from what the customer sent".into());
            }
            Err(_) if media_path.exists() => {
                anomalies.push("a failed download left a file at its path".into());
            }
            _ => {}
        },
        Op::ServicerAdd | Op::ServicerDel if result.is_ok() => {
            let serving = check.servicer().list(&kfid).await.unwrap().iter().any(|s| {
                s.target
                    == Target::User {
                        userid: "zhangsan".into(),
                    }
            });
            if serving != (op == Op::ServicerAdd) {
                anomalies.push(format!("{op:?} acknowledged but not applied"));
            }
        }
        Op::KbAddGroup
        | Op::KbAddIntent
        | Op::KbDelGroup
        | Op::KbModGroup
        | Op::KbDelIntent
        | Op::KbModIntent => {
            let groups = check
                .knowledge()
                .group_page(&ListGroups::default())
                .await
                .unwrap();
            let intents = check
                .knowledge()
                .intent_page(&ListIntents::default())
                .await
                .unwrap();
            let names: Vec<&str> = groups.group_list.iter().map(|g| g.name.as_str()).collect();
            let questions: Vec<&str> = intents
                .intent_list
                .iter()
                .map(|i| i.question.content())
                .collect();
            let (made, wanted) = match op {
                Op::KbAddGroup => (names.iter().filter(|n| **n == "新组").count(), 1),
                Op::KbAddIntent => (questions.iter().filter(|q| **q == "新问题").count(), 1),
                Op::KbDelGroup => (
                    usize::from(!names.contains(&"原组") && !questions.contains(&"原问题")),
                    1,
                ),
                Op::KbModGroup => (usize::from(names.contains(&"改组")), 1),
                Op::KbDelIntent => (usize::from(!questions.contains(&"原问题")), 1),
                _ => (usize::from(questions.contains(&"改问题")), 1),
            };
            if made > wanted {
                anomalies.push(format!("{op:?} was applied {made} times"));
            }
            if result.is_ok() && made != wanted {
                anomalies.push(format!("{op:?} acknowledged but not applied"));
            }
            if matches!(result, Err(Error::Api { .. })) && made != 0 {
                anomalies.push(format!("a refused {op:?} was applied"));
            }
            if matches!(op, Op::KbAddGroup | Op::KbAddIntent)
                && let Err(err) = &result
                && !err.is_outcome_unknown()
                && !matches!(err, Error::Api { .. })
            {
                anomalies.push(format!(
                    "an ambiguous {op:?} is not OutcomeUnknown: {err:?}"
                ));
            }
        }
        _ => {}
    }
    if op != Op::Add && added != 0 {
        anomalies.push("an account appeared from nowhere".into());
    }
    let stats = em.emulator().stats();
    let faults_injected = stats.faults_injected.values().sum::<u64>()
        + u64::from(matches!(
            injected,
            Injected::RevokedToken | Injected::ExpiredToken
        ));
    (
        outcome,
        anomalies,
        stats.requests.values().sum(),
        faults_injected,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_under_every_fault() {
    let faults = faults();
    let mut matrix: BTreeMap<(usize, Op), String> = BTreeMap::new();
    let mut anomalies = Vec::new();
    let (mut total_calls, mut total_faults) = (0u64, 0u64);
    // Cells are independent (each has its own emulator): run a row's cells concurrently,
    // a few at a time so a loaded 2-core machine keeps within the operations' timeouts.
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(5));
    for (row, (name, injected)) in faults.iter().enumerate() {
        let cells: Vec<_> = Op::ALL
            .iter()
            .map(|&op| {
                let injected = injected.clone();
                let permits = permits.clone();
                tokio::spawn(async move {
                    let _permit = permits.acquire_owned().await.expect("never closed");
                    (op, cell(op, &injected).await)
                })
            })
            .collect();
        for task in cells {
            let (op, (outcome, found, cell_calls, injected)) = task.await.expect("a cell panicked");
            total_calls += cell_calls;
            total_faults += injected;
            for a in found {
                anomalies.push(format!("{name} × {op:?}: {a}"));
            }
            matrix.insert((row, op), outcome);
        }
    }
    let mut table = String::from("| fault | ");
    table += &Op::ALL.map(|op| format!("{op:?}")).join(" | ");
    table += " |\n|---|";
    table += &"---|".repeat(Op::ALL.len());
    for (row, (name, _)) in faults.iter().enumerate() {
        let _ = write!(
            table,
            "\n| {name} | {} |",
            Op::ALL.map(|op| matrix[&(row, op)].clone()).join(" | ")
        );
    }
    println!(
        "{table}\n\ncells: {}, calls made: {total_calls}, faults injected: {total_faults}, anomalies: {}",
        matrix.len(),
        anomalies.len()
    );
    assert!(anomalies.is_empty(), "anomalies:\n{}", anomalies.join("\n"));
    assert_eq!(matrix.len(), faults.len() * Op::ALL.len());
}
