//! The FAQ file of `knowledge export` and `knowledge import`: one row per intent, the
//! same columns in CSV and JSON.
//!
//! | column | meaning |
//! |---|---|
//! | `group` | the group's name |
//! | `question` | the main question |
//! | `similar_questions` | one per line in the cell (a list in JSON) |
//! | `answer` | the answer's text |
//! | `attachments` | one per line (a list in JSON): `image:MEDIA`, `video:MEDIA`, `link:TITLE\|URL\|DESC\|PICURL`, `miniprogram:TITLE\|APPID\|PAGEPATH\|THUMB_MEDIA_ID` |
//!
//! An image or video is listed back by its file name, so an export writes the name; to
//! add or change an answer with one, give the `media_id` of an upload instead.

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};
use wecom_kf::types::Endpoint;
use wecom_kf::types::kf::knowledge::{
    AddGroup, AddIntent, Answer, Attachment, Intent, LinkAttachment, ListedAnswer,
    ListedAttachment, MiniprogramAttachment,
};

use crate::error::CliError;

/// The columns, in order.
pub const COLUMNS: [&str; 5] = [
    "group",
    "question",
    "similar_questions",
    "answer",
    "attachments",
];

/// One intent as a row of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub group: String,
    pub question: String,
    #[serde(default, deserialize_with = "lines")]
    pub similar_questions: Vec<String>,
    pub answer: String,
    #[serde(default, deserialize_with = "lines")]
    pub attachments: Vec<String>,
}

/// A list in JSON, or one item per line in a CSV cell.
fn lines<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Cell {
        List(Vec<String>),
        Text(String),
    }
    let items = match Option::<Cell>::deserialize(d)? {
        None => Vec::new(),
        Some(Cell::List(items)) => items,
        Some(Cell::Text(text)) => text.lines().map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

/// A row as CSV writes it: the lists joined by newlines.
#[derive(Serialize)]
struct CsvRow<'a> {
    group: &'a str,
    question: &'a str,
    similar_questions: String,
    answer: &'a str,
    attachments: String,
}

/// An attachment of a row, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    Image(String),
    Video(String),
    Link(LinkAttachment),
    Miniprogram {
        title: String,
        appid: String,
        pagepath: String,
        thumb_media_id: String,
    },
}

impl Spec {
    pub fn parse(text: &str) -> Result<Spec, String> {
        let (kind, rest) = text.split_once(':').ok_or_else(|| {
            format!("{text:?} is not KIND:VALUE (image, video, link, miniprogram)")
        })?;
        let parts: Vec<String> = rest.split('|').map(|p| p.trim().to_owned()).collect();
        let part = |i: usize| parts.get(i).cloned().unwrap_or_default();
        let need = |i: usize, what: &str| {
            let value = part(i);
            if value.is_empty() {
                Err(format!("{text:?}: {kind} needs its {what}"))
            } else {
                Ok(value)
            }
        };
        match kind.trim() {
            "image" => Ok(Spec::Image(need(0, "media_id")?)),
            "video" => Ok(Spec::Video(need(0, "media_id")?)),
            "link" => Ok(Spec::Link(
                LinkAttachment::new(need(0, "title")?, need(1, "url")?)
                    .desc(part(2))
                    .picurl(part(3)),
            )),
            "miniprogram" => Ok(Spec::Miniprogram {
                title: need(0, "title")?,
                appid: need(1, "appid")?,
                pagepath: need(2, "pagepath")?,
                thumb_media_id: part(3),
            }),
            other => Err(format!(
                "{text:?}: unknown kind {other:?} (image, video, link, miniprogram)"
            )),
        }
    }

    /// How the service lists it: what a row is compared with.
    pub fn listed(&self) -> ListedAttachment {
        ListedAttachment::listed(&self.to_send_unchecked(), self.name())
    }

    fn name(&self) -> String {
        match self {
            Spec::Image(v) | Spec::Video(v) => v.clone(),
            _ => String::new(),
        }
    }

    fn to_send_unchecked(&self) -> Attachment {
        match self {
            Spec::Image(v) => Attachment::image(v),
            Spec::Video(v) => Attachment::video(v),
            Spec::Link(link) => Attachment::Link { link: link.clone() },
            Spec::Miniprogram {
                title,
                appid,
                pagepath,
                thumb_media_id,
            } => Attachment::Miniprogram {
                miniprogram: MiniprogramAttachment::new(title, appid, pagepath, thumb_media_id),
            },
        }
    }

    /// The attachment to send.
    pub fn to_send(&self) -> Attachment {
        self.to_send_unchecked()
    }

    /// Why it cannot be sent as it is, if it cannot (a miniprogram needs its cover).
    pub fn unsendable(&self) -> Option<String> {
        match self {
            Spec::Miniprogram { thumb_media_id, .. } if thumb_media_id.is_empty() => Some(
                "a miniprogram is listed without its cover: give THUMB_MEDIA_ID to add or change this answer"
                    .into(),
            ),
            _ => None,
        }
    }

    /// The row text of a listed attachment.
    pub fn of_listed(listed: &ListedAttachment) -> String {
        match listed {
            ListedAttachment::Image { image } => format!("image:{}", image.name),
            ListedAttachment::Video { video } => format!("video:{}", video.name),
            ListedAttachment::Link { link } => {
                let mut text = format!("link:{}|{}", link.title, link.url);
                if !link.desc.is_empty() || !link.picurl.is_empty() {
                    text.push('|');
                    text.push_str(&link.desc);
                }
                if !link.picurl.is_empty() {
                    text.push('|');
                    text.push_str(&link.picurl);
                }
                text
            }
            ListedAttachment::Miniprogram { miniprogram } => format!(
                "miniprogram:{}|{}|{}",
                miniprogram.title, miniprogram.appid, miniprogram.pagepath
            ),
            _ => String::from("unknown:"),
        }
    }
}

/// A row that passed the checks: its attachments parsed.
#[derive(Clone, Debug)]
pub struct Checked {
    /// 1-based, counting the header in CSV as row 1 like a spreadsheet does; the
    /// position in the list for JSON.
    pub number: usize,
    pub row: Row,
    pub specs: Vec<Spec>,
}

impl Checked {
    /// The answer as listed, for comparison.
    pub fn listed_answer(&self) -> ListedAnswer {
        ListedAnswer::new(
            self.row.answer.clone(),
            self.specs.iter().map(Spec::listed).collect(),
        )
    }

    /// The answer to send.
    pub fn answer(&self) -> Answer {
        self.specs
            .iter()
            .fold(Answer::new(self.row.answer.clone()), |a, s| {
                a.attach(s.to_send())
            })
    }
}

/// The column a field of the wire names.
fn column(field: &str) -> &'static str {
    if field == "name" {
        "group"
    } else if field.starts_with("question") {
        "question"
    } else if field.starts_with("similar_questions") {
        "similar_questions"
    } else if field.starts_with("answers[].attachments") {
        "attachments"
    } else {
        "answer"
    }
}

/// A bad row: its number, its column, and what is wrong.
pub fn bad_row(number: usize, column: &str, why: impl std::fmt::Display) -> CliError {
    CliError::Input(format!("row {number}, {column}: {why}; nothing was sent"))
}

/// Check every row against the documented limits, and that no question appears twice,
/// before anything is sent.
pub fn check(rows: Vec<(usize, Row)>) -> Result<Vec<Checked>, CliError> {
    let mut seen = std::collections::HashMap::new();
    let mut checked = Vec::with_capacity(rows.len());
    for (number, row) in rows {
        AddGroup::new(&row.group)
            .validate()
            .map_err(|e| bad_row(number, "group", e))?;
        let specs = row
            .attachments
            .iter()
            .map(|a| Spec::parse(a))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad_row(number, "attachments", e))?;
        let this = Checked { number, row, specs };
        // The placeholder group id stands for the group, checked above.
        AddIntent::new("g", &this.row.question, this.answer())
            .similar(this.row.similar_questions.clone())
            .validate()
            .map_err(|e| bad_row(number, column(e.field), e))?;
        if let Some(first) = seen.insert(this.row.question.clone(), number) {
            return Err(bad_row(
                number,
                "question",
                format!(
                    "{:?} is also on row {first} (questions are unique)",
                    this.row.question
                ),
            ));
        }
        checked.push(this);
    }
    Ok(checked)
}

/// Read a CSV or JSON file (by extension, or a leading `[`).
pub fn read(file: &Path) -> Result<Vec<(usize, Row)>, CliError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    let is_json = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('[');
    if is_json {
        let rows: Vec<Row> = serde_json::from_str(&text)
            .map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?;
        return Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| (i + 1, r))
            .collect());
    }
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (index, record) in reader.deserialize::<Row>().enumerate() {
        // Row 1 is the header, as a spreadsheet numbers them.
        let number = index + 2;
        let row = record.map_err(|e| bad_row(number, "row", e))?;
        rows.push((number, row));
    }
    Ok(rows)
}

/// The row of a listed intent in the group named `group`.
pub fn row_of(group: &str, intent: &Intent) -> Row {
    let answer = intent.answers.first();
    Row {
        group: group.to_owned(),
        question: intent.question.content().to_owned(),
        similar_questions: intent
            .similar_questions
            .items
            .iter()
            .map(|q| q.content().to_owned())
            .collect(),
        answer: answer.map(|a| a.text.content.clone()).unwrap_or_default(),
        attachments: answer
            .map(|a| a.attachments.iter().map(Spec::of_listed).collect())
            .unwrap_or_default(),
    }
}

/// Write rows as CSV or JSON.
pub fn write(rows: &[Row], json: bool, out: &mut impl std::io::Write) -> Result<(), CliError> {
    let fail = |e: &dyn std::fmt::Display| CliError::Input(format!("cannot write: {e}"));
    if json {
        serde_json::to_writer_pretty(&mut *out, rows).map_err(|e| fail(&e))?;
        return writeln!(out).map_err(|e| crate::output::io(&e));
    }
    let mut writer = csv::Writer::from_writer(out);
    if rows.is_empty() {
        writer.write_record(COLUMNS).map_err(|e| fail(&e))?;
    }
    for row in rows {
        writer
            .serialize(CsvRow {
                group: &row.group,
                question: &row.question,
                similar_questions: row.similar_questions.join("\n"),
                answer: &row.answer,
                attachments: row.attachments.join("\n"),
            })
            .map_err(|e| fail(&e))?;
    }
    writer.flush().map_err(|e| crate::output::io(&e))
}
