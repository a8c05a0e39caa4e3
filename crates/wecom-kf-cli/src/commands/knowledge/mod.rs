//! `wecom-kf knowledge group|intent|export|import`: the knowledge base (知识库) that
//! WeCom's 智能助手 answers from. A group is named by its id or its name.

mod import;
mod sheet;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use serde::Serialize;
use wecom_kf::types::kf::knowledge::{AddIntent, Answer, Group, Intent, ModifyIntent};

use crate::context::Context;
use crate::error::CliError;
use crate::output::{Format, Row};

/// Knowledge base commands.
#[derive(Subcommand, Debug)]
pub enum KnowledgeCommand {
    /// List, add, rename and delete groups (分组).
    #[command(subcommand)]
    Group(GroupCommand),
    /// List, add, edit and delete intents (问答): a question, similar questions, an answer.
    #[command(subcommand)]
    Intent(IntentCommand),
    /// Write the knowledge base as a FAQ file (CSV unless --format json) on stdout.
    #[command(
        after_help = "Columns: group, question, similar_questions (one per line), answer, attachments (one per line).\n\nExamples:\n  wecom-kf knowledge export > faq.csv\n  wecom-kf knowledge export --group 售后 --format json > after-sales.json"
    )]
    Export {
        /// Only this group (id or name).
        #[arg(long)]
        group: Option<String>,
    },
    /// Make the knowledge base what a FAQ file says: shows the plan, then applies it.
    #[command(
        after_help = "The file has the columns of `knowledge export` (CSV, or JSON by extension).\nEvery row is checked before anything is sent: a bad row is refused with its row number and column.\nRows are matched by group and main question: added, changed, unchanged, and with --prune removed.\nRunning it again is safe: a second run changes nothing.\n\nExamples:\n  wecom-kf knowledge import faq.csv --dry-run\n  wecom-kf knowledge import faq.csv\n  wecom-kf knowledge import faq.csv --prune    # also delete what the file does not have"
    )]
    Import {
        /// The CSV or JSON file.
        file: PathBuf,
        /// Print the plan and stop.
        #[arg(long)]
        dry_run: bool,
        /// Also delete the groups and intents the file does not have (not the default group).
        #[arg(long)]
        prune: bool,
    },
}

/// Group commands.
#[derive(Subcommand, Debug)]
pub enum GroupCommand {
    /// Every group; the default one is marked.
    List,
    /// Add a group (1–12 characters, unique).
    #[command(after_help = "Example:\n  wecom-kf knowledge group add 售后")]
    Add {
        /// Its name.
        name: String,
    },
    /// Rename a group (not the default one).
    #[command(after_help = "Example:\n  wecom-kf knowledge group rename 售后 售后服务")]
    Rename {
        /// The group, by id or name.
        group: String,
        /// Its new name.
        name: String,
    },
    /// Delete a group and its intents (not the default one).
    Delete {
        /// The group, by id or name.
        group: String,
    },
}

/// Intent commands.
#[derive(Subcommand, Debug)]
pub enum IntentCommand {
    /// Every intent, or a group's.
    List {
        /// Only this group (id or name).
        #[arg(long)]
        group: Option<String>,
    },
    /// Add an intent.
    #[command(
        after_help = "Example:\n  wecom-kf knowledge intent add --group 售后 --question 怎么退货？ --answer '七天内可在订单页申请退货。' --similar 如何退货 --attach 'link:退货政策|https://example.com/r'"
    )]
    Add {
        /// The group, by id or name (default: the default group).
        #[arg(long)]
        group: Option<String>,
        #[command(flatten)]
        content: Content,
    },
    /// Change an intent: each part given replaces the old one.
    Edit {
        /// The intent.
        intent_id: String,
        /// A new main question.
        #[arg(long)]
        question: Option<String>,
        /// Replace the similar questions (repeat for several).
        #[arg(long)]
        similar: Vec<String>,
        /// Remove every similar question.
        #[arg(long, conflicts_with = "similar")]
        no_similar: bool,
        /// A new answer (with the --attach given).
        #[arg(long)]
        answer: Option<String>,
        /// An attachment of the new answer: image:MEDIA_ID, video:MEDIA_ID,
        /// link:TITLE|URL|DESC|PICURL, miniprogram:TITLE|APPID|PAGEPATH|THUMB_MEDIA_ID.
        #[arg(long, requires = "answer")]
        attach: Vec<String>,
    },
    /// Delete an intent.
    Delete {
        /// The intent.
        intent_id: String,
    },
}

/// What an intent says.
#[derive(Args, Debug)]
pub struct Content {
    /// The main question (unique across groups).
    #[arg(long)]
    question: String,
    /// The answer's text.
    #[arg(long)]
    answer: String,
    /// A similar question; repeat for several.
    #[arg(long)]
    similar: Vec<String>,
    /// An attachment: image:MEDIA_ID, video:MEDIA_ID, link:TITLE|URL|DESC|PICURL,
    /// miniprogram:TITLE|APPID|PAGEPATH|THUMB_MEDIA_ID; repeat for several (at most 4).
    #[arg(long)]
    attach: Vec<String>,
}

fn answer(text: String, attach: &[String]) -> Result<Answer, CliError> {
    attach.iter().try_fold(Answer::new(text), |a, spec| {
        let spec =
            sheet::Spec::parse(spec).map_err(|e| CliError::Usage(format!("--attach {e}")))?;
        if let Some(why) = spec.unsendable() {
            return Err(CliError::Usage(format!("--attach: {why}")));
        }
        Ok(a.attach(spec.to_send()))
    })
}

#[derive(Serialize)]
struct GroupRow {
    group_id: String,
    name: String,
    is_default: bool,
}

impl Row for GroupRow {
    const FIELDS: &'static [&'static str] = &["group_id", "name", "is_default"];
    const COLUMNS: &'static [&'static str] = &["GROUP_ID", "NAME", "DEFAULT"];
    const NOUN: &'static str = "group";

    fn cells(&self) -> Vec<String> {
        vec![
            self.group_id.clone(),
            self.name.clone(),
            if self.is_default { "yes" } else { "" }.to_owned(),
        ]
    }
}

#[derive(Serialize)]
struct IntentRow {
    intent_id: String,
    group: String,
    question: String,
    similar_questions: usize,
    answer: String,
    attachments: usize,
}

impl Row for IntentRow {
    const FIELDS: &'static [&'static str] = &[
        "intent_id",
        "group",
        "question",
        "similar_questions",
        "answer",
        "attachments",
    ];
    const COLUMNS: &'static [&'static str] = &[
        "INTENT_ID",
        "GROUP",
        "QUESTION",
        "SIMILAR",
        "ANSWER",
        "ATTACHMENTS",
    ];
    const NOUN: &'static str = "intent";

    fn cells(&self) -> Vec<String> {
        vec![
            self.intent_id.clone(),
            self.group.clone(),
            self.question.clone(),
            self.similar_questions.to_string(),
            self.answer.clone(),
            self.attachments.to_string(),
        ]
    }
}

/// The group a user named, by id or by name.
fn find<'a>(groups: &'a [Group], wanted: &str) -> Result<&'a Group, CliError> {
    groups
        .iter()
        .find(|g| g.group_id == wanted)
        .or_else(|| groups.iter().find(|g| g.name == wanted))
        .ok_or_else(|| CliError::Input(format!("no knowledge group has the id or name {wanted:?}")))
}

async fn groups(ctx: &Context) -> Result<Vec<Group>, CliError> {
    Ok(ctx.client.knowledge().groups().try_collect().await?)
}

async fn intents(ctx: &Context, group: Option<&Group>) -> Result<Vec<Intent>, CliError> {
    let kb = ctx.client.knowledge();
    Ok(match group {
        Some(g) => kb.intents(&g.group_id).try_collect().await?,
        None => kb.all_intents().try_collect().await?,
    })
}

fn name_of<'a>(groups: &'a [Group], group_id: &str) -> &'a str {
    groups
        .iter()
        .find(|g| g.group_id == group_id)
        .map_or("", |g| g.name.as_str())
}

async fn run_group(command: GroupCommand, ctx: &Context) -> Result<(), CliError> {
    let kb = ctx.client.knowledge();
    match command {
        GroupCommand::List => {
            let rows: Vec<GroupRow> = groups(ctx)
                .await?
                .into_iter()
                .map(|g| GroupRow {
                    group_id: g.group_id,
                    name: g.name,
                    is_default: g.is_default,
                })
                .collect();
            ctx.out.rows(&rows)
        }
        GroupCommand::Add { name } => {
            let group_id = kb.add_group(&name).await?;
            if ctx.out.format == Format::Json {
                ctx.out
                    .json(&serde_json::json!({"group_id": group_id, "name": name}))
            } else {
                ctx.out.line(format!("added group {name}: {group_id}"))
            }
        }
        GroupCommand::Rename { group, name } => {
            let all = groups(ctx).await?;
            let target = find(&all, &group)?;
            kb.rename_group(&target.group_id, &name).await?;
            ctx.out
                .line(format!("renamed group {} to {name}", target.name))
        }
        GroupCommand::Delete { group } => {
            let all = groups(ctx).await?;
            let target = find(&all, &group)?;
            kb.delete_group(&target.group_id).await?;
            ctx.out.line(format!("deleted group {}", target.name))
        }
    }
}

async fn run_intent(command: IntentCommand, ctx: &Context) -> Result<(), CliError> {
    let kb = ctx.client.knowledge();
    match command {
        IntentCommand::List { group } => {
            let all = groups(ctx).await?;
            let only = group.as_deref().map(|g| find(&all, g)).transpose()?;
            let rows: Vec<IntentRow> = intents(ctx, only)
                .await?
                .into_iter()
                .map(|i| {
                    let answer = i.answers.first();
                    IntentRow {
                        group: name_of(&all, &i.group_id).to_owned(),
                        question: i.question.content().to_owned(),
                        similar_questions: i.similar_questions.items.len(),
                        answer: answer.map(|a| a.text.content.clone()).unwrap_or_default(),
                        attachments: answer.map_or(0, |a| a.attachments.len()),
                        intent_id: i.intent_id,
                    }
                })
                .collect();
            ctx.out.rows(&rows)
        }
        IntentCommand::Add { group, content } => {
            let all = groups(ctx).await?;
            let target = match group.as_deref() {
                Some(g) => find(&all, g)?,
                None => all
                    .iter()
                    .find(|g| g.is_default)
                    .ok_or_else(|| CliError::Input("the corp has no default group".into()))?,
            };
            let request = AddIntent::new(
                &target.group_id,
                content.question,
                answer(content.answer, &content.attach)?,
            )
            .similar(content.similar);
            let intent_id = kb.add_intent(&request).await?;
            if ctx.out.format == Format::Json {
                ctx.out.json(&serde_json::json!({"intent_id": intent_id}))
            } else {
                ctx.out.line(format!("added intent {intent_id}"))
            }
        }
        IntentCommand::Edit {
            intent_id,
            question,
            similar,
            no_similar,
            answer: text,
            attach,
        } => {
            let mut change = ModifyIntent::new(&intent_id);
            if let Some(question) = question {
                change = change.question(question);
            }
            if no_similar || !similar.is_empty() {
                change = change.similar(similar);
            }
            if let Some(text) = text {
                change = change.answer(answer(text, &attach)?);
            }
            kb.modify_intent(&change).await?;
            ctx.out.line(format!("changed intent {intent_id}"))
        }
        IntentCommand::Delete { intent_id } => {
            kb.delete_intent(&intent_id).await?;
            ctx.out.line(format!("deleted intent {intent_id}"))
        }
    }
}

pub async fn run(command: KnowledgeCommand, ctx: &Context) -> Result<(), CliError> {
    match command {
        KnowledgeCommand::Group(command) => run_group(command, ctx).await,
        KnowledgeCommand::Intent(command) => run_intent(command, ctx).await,
        KnowledgeCommand::Export { group } => {
            let all = groups(ctx).await?;
            let only = group.as_deref().map(|g| find(&all, g)).transpose()?;
            let mut listed = intents(ctx, only).await?;
            // Group by group, in the groups' order, each group's intents in theirs.
            let order: std::collections::HashMap<&str, usize> = all
                .iter()
                .enumerate()
                .map(|(i, g)| (g.group_id.as_str(), i))
                .collect();
            listed.sort_by_key(|i| {
                order
                    .get(i.group_id.as_str())
                    .copied()
                    .unwrap_or(usize::MAX)
            });
            let rows: Vec<sheet::Row> = listed
                .iter()
                .map(|i| sheet::row_of(name_of(&all, &i.group_id), i))
                .collect();
            let mut bytes = Vec::new();
            sheet::write(&rows, ctx.out.format == Format::Json, &mut bytes)?;
            ctx.out.raw(&bytes)
        }
        KnowledgeCommand::Import {
            file,
            dry_run,
            prune,
        } => import::run(ctx, &file, dry_run, prune).await,
    }
}
