//! `wecom-kf knowledge import FILE [--dry-run] [--prune]`: make the knowledge base what
//! the file says, with as few calls as there are changes.
//!
//! The file is checked first (every row, locally); then the corp's groups and intents
//! are read and compared with it by group and main question: added, changed, unchanged,
//! and with `--prune` removed. `--dry-run` prints that plan and stops. Otherwise the plan
//! is applied, one call per change (a question that moved to another group is deleted and
//! added again: there is no call to move one). Interrupted, it can be run again: the new
//! plan holds only what is left, and a run after a complete one changes nothing.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use futures_util::TryStreamExt;
use serde::Serialize;
use wecom_kf::types::kf::knowledge::{AddIntent, Group, Intent, ModifyIntent, Question};

use super::sheet::{self, Checked};
use crate::context::Context;
use crate::error::CliError;
use crate::output::Format;

/// What to do with one intent.
#[derive(Debug)]
enum Step<'a> {
    Add(&'a Checked),
    Change {
        row: &'a Checked,
        change: ModifyIntent,
        parts: Vec<&'static str>,
    },
    /// In another group: delete, then add.
    Move {
        row: &'a Checked,
        intent_id: String,
        from: String,
    },
}

/// The plan: what the file changes.
#[derive(Debug, Default)]
struct Plan<'a> {
    add_groups: Vec<String>,
    remove_groups: Vec<Group>,
    remove_intents: Vec<(String, Intent)>,
    steps: Vec<Step<'a>>,
    unchanged: usize,
}

/// The plan as printed in JSON.
#[derive(Serialize, Default)]
struct Report {
    groups_added: Vec<String>,
    groups_removed: Vec<String>,
    added: Vec<Line>,
    changed: Vec<Line>,
    removed: Vec<Line>,
    unchanged: usize,
    /// Calls that change something: one per change.
    calls: usize,
    applied: bool,
}

#[derive(Serialize)]
struct Line {
    row: Option<usize>,
    group: String,
    question: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parts: Vec<&'static str>,
    /// The group a question moves from.
    #[serde(skip_serializing_if = "Option::is_none")]
    moved_from: Option<String>,
}

impl Plan<'_> {
    fn calls(&self) -> usize {
        let steps: usize = self
            .steps
            .iter()
            .map(|s| if matches!(s, Step::Move { .. }) { 2 } else { 1 })
            .sum();
        self.add_groups.len() + self.remove_groups.len() + self.remove_intents.len() + steps
    }

    fn report(&self) -> Report {
        let line = |row: &Checked, parts: Vec<&'static str>| Line {
            row: Some(row.number),
            group: row.row.group.clone(),
            question: row.row.question.clone(),
            parts,
            moved_from: None,
        };
        let mut report = Report {
            groups_added: self.add_groups.clone(),
            groups_removed: self.remove_groups.iter().map(|g| g.name.clone()).collect(),
            unchanged: self.unchanged,
            calls: self.calls(),
            ..Report::default()
        };
        for step in &self.steps {
            match step {
                Step::Add(row) => report.added.push(line(row, Vec::new())),
                Step::Change { row, parts, .. } => report.changed.push(line(row, parts.clone())),
                Step::Move { row, from, .. } => {
                    report.changed.push(Line {
                        moved_from: Some(from.clone()),
                        ..line(row, vec!["group"])
                    });
                }
            }
        }
        for (group, intent) in &self.remove_intents {
            report.removed.push(Line {
                row: None,
                group: group.clone(),
                question: intent.question.content().to_owned(),
                parts: Vec::new(),
                moved_from: None,
            });
        }
        report
    }
}

/// Compare the file with the corp.
fn plan<'a>(
    rows: &'a [Checked],
    groups: &[Group],
    intents: &[Intent],
    prune: bool,
) -> Result<Plan<'a>, CliError> {
    let group_name: HashMap<&str, &str> = groups
        .iter()
        .map(|g| (g.group_id.as_str(), g.name.as_str()))
        .collect();
    let by_question: HashMap<&str, &Intent> =
        intents.iter().map(|i| (i.question.content(), i)).collect();
    let existing_groups: HashSet<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    let mut plan = Plan::default();
    let mut wanted_groups: HashSet<&str> = HashSet::new();
    for row in rows {
        let group = row.row.group.as_str();
        if !existing_groups.contains(group) && wanted_groups.insert(group) {
            plan.add_groups.push(group.to_owned());
        }
        wanted_groups.insert(group);
        let Some(intent) = by_question.get(row.row.question.as_str()) else {
            check_sendable(row)?;
            plan.steps.push(Step::Add(row));
            continue;
        };
        let now_in = group_name
            .get(intent.group_id.as_str())
            .copied()
            .unwrap_or("");
        if now_in != group {
            check_sendable(row)?;
            plan.steps.push(Step::Move {
                row,
                intent_id: intent.intent_id.clone(),
                from: now_in.to_owned(),
            });
            continue;
        }
        let mut change = ModifyIntent::new(&intent.intent_id);
        let mut parts = Vec::new();
        let similar: Vec<&str> = intent
            .similar_questions
            .items
            .iter()
            .map(Question::content)
            .collect();
        if similar != row.row.similar_questions {
            change = change.similar(row.row.similar_questions.clone());
            parts.push("similar_questions");
        }
        if intent.answers.first() != Some(&row.listed_answer()) {
            check_sendable(row)?;
            change = change.answer(row.answer());
            parts.push("answer");
        }
        if parts.is_empty() {
            plan.unchanged += 1;
        } else {
            plan.steps.push(Step::Change { row, change, parts });
        }
    }
    if prune {
        let in_file: HashSet<&str> = rows.iter().map(|r| r.row.question.as_str()).collect();
        plan.remove_groups = groups
            .iter()
            .filter(|g| !g.is_default && !wanted_groups.contains(g.name.as_str()))
            .cloned()
            .collect();
        let gone: HashSet<&str> = plan
            .remove_groups
            .iter()
            .map(|g| g.group_id.as_str())
            .collect();
        // A removed group takes its intents with it: no call for each of them.
        plan.remove_intents = intents
            .iter()
            .filter(|i| {
                !in_file.contains(i.question.content()) && !gone.contains(i.group_id.as_str())
            })
            .map(|i| {
                let group = group_name.get(i.group_id.as_str()).copied().unwrap_or("");
                (group.to_owned(), i.clone())
            })
            .collect();
    }
    Ok(plan)
}

/// An answer that must be sent needs media ids, not the names an export writes.
fn check_sendable(row: &Checked) -> Result<(), CliError> {
    for spec in &row.specs {
        if let Some(why) = spec.unsendable() {
            return Err(sheet::bad_row(row.number, "attachments", why));
        }
    }
    Ok(())
}

fn print_plan(ctx: &Context, report: &Report) -> Result<(), CliError> {
    if ctx.out.format == Format::Json {
        return ctx.out.json(report);
    }
    for g in &report.groups_added {
        ctx.out.line(format!("+ group {g}"))?;
    }
    for g in &report.groups_removed {
        ctx.out.line(format!("- group {g} (with its intents)"))?;
    }
    for l in &report.added {
        ctx.out.line(format!("+ {} / {}", l.group, l.question))?;
    }
    for l in &report.changed {
        ctx.out.line(format!(
            "~ {} / {} ({})",
            l.group,
            l.question,
            l.parts.join(", ")
        ))?;
    }
    for l in &report.removed {
        ctx.out.line(format!("- {} / {}", l.group, l.question))?;
    }
    ctx.out.line(format!(
        "plan: {} added, {} changed, {} unchanged, {} removed; {} group(s) added, {} removed; {} call(s){}",
        report.added.len(),
        report.changed.len(),
        report.unchanged,
        report.removed.len(),
        report.groups_added.len(),
        report.groups_removed.len(),
        report.calls,
        if report.applied { ", applied" } else { "" }
    ))
}

pub async fn run(ctx: &Context, file: &Path, dry_run: bool, prune: bool) -> Result<(), CliError> {
    // Every row is checked before the first call.
    let rows = sheet::check(sheet::read(file)?)?;
    let kb = ctx.client.knowledge();
    let groups: Vec<Group> = kb.groups().try_collect().await?;
    let intents: Vec<Intent> = kb.all_intents().try_collect().await?;
    let plan = plan(&rows, &groups, &intents, prune)?;
    let mut report = plan.report();
    if dry_run || plan.calls() == 0 {
        return print_plan(ctx, &report);
    }
    let mut group_id: HashMap<String, String> = groups
        .iter()
        .map(|g| (g.name.clone(), g.group_id.clone()))
        .collect();
    // Removals first: they make room under the caps and free questions that move.
    for group in &plan.remove_groups {
        kb.delete_group(&group.group_id).await?;
    }
    for (_, intent) in &plan.remove_intents {
        kb.delete_intent(&intent.intent_id).await?;
    }
    for step in &plan.steps {
        if let Step::Move { intent_id, .. } = step {
            kb.delete_intent(intent_id).await?;
        }
    }
    for name in &plan.add_groups {
        let id = kb.add_group(name).await?;
        group_id.insert(name.clone(), id);
    }
    for step in &plan.steps {
        match step {
            Step::Change { change, .. } => kb.modify_intent(change).await?,
            Step::Add(row) | Step::Move { row, .. } => {
                let group = group_id.get(&row.row.group).cloned().unwrap_or_default();
                let request = AddIntent::new(group, &row.row.question, row.answer())
                    .similar(row.row.similar_questions.clone());
                kb.add_intent(&request).await?;
            }
        }
    }
    report.applied = true;
    print_plan(ctx, &report)
}
