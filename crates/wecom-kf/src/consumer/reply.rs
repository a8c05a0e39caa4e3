//! Replying to a customer's message from a handler, safely run again: every part has a
//! msgid derived from the message it answers, a long text is split into parts that fit
//! within the sends the message allows, and a part an earlier run sent is recognised
//! by the service's duplicate-msgid refusal (and only by that one).

use wecom_kf_types::kf::message::{Content, Message};
use wecom_kf_types::kf::send_msg::{DUPLICATE_MSGID, SendMsg};
use wecom_kf_types::limits::{SENDS_PER_CUSTOMER_MESSAGE, TEXT_MAX_BYTES};

use super::reply_msgid;
use crate::{Client, Error};

/// What marks a text cut short because the sends ran out.
pub const CUT: &str = "…";

/// Whether `err` is the service refusing a msgid this account already sent: the part
/// went out in an earlier run. Only a 40058 ([`DUPLICATE_MSGID`]) whose errmsg says
/// the msgid is duplicated counts; any other 40058 (a bad field, broken JSON) is an
/// error like any other.
pub fn is_duplicate_msgid(err: &Error) -> bool {
    fn api_message(err: &Error) -> Option<&str> {
        match err {
            Error::Api { message, .. } => Some(message),
            Error::OutcomeUnknown { source, .. } | Error::Refused { source, .. } => {
                api_message(source)
            }
            _ => None,
        }
    }
    err.api_code() == Some(DUPLICATE_MSGID)
        && api_message(err).is_some_and(|m| {
            let m = m.to_ascii_lowercase();
            m.contains("msgid") && m.contains("duplicat")
        })
}

/// Split `text` into at most `max_parts` parts of at most `max_bytes` bytes each, at
/// line or sentence boundaries where one is near (else at a space, else between two
/// characters). What does not fit in the last part is cut, and the part ends with
/// [`CUT`]. The same text always gives the same parts.
///
/// ```
/// use wecom_kf::consumer::split_text;
/// let parts = split_text(&"一句话。".repeat(300), 2048, 5);
/// assert_eq!(parts.len(), 2);
/// assert!(parts.iter().all(|p| p.len() <= 2048 && p.ends_with('。')));
/// ```
pub fn split_text(text: &str, max_bytes: usize, max_parts: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    let max_bytes = max_bytes.max(CUT.len() + 4);
    while !rest.is_empty() && parts.len() < max_parts {
        if rest.len() <= max_bytes {
            parts.push(rest.to_owned());
            break;
        }
        if parts.len() + 1 == max_parts {
            let cut = boundary(rest, max_bytes - CUT.len());
            parts.push(format!("{}{CUT}", rest[..cut].trim_end()));
            break;
        }
        let cut = boundary(rest, max_bytes);
        parts.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    parts
}

/// Where to cut `text` to keep at most `max` bytes: after the last line break, else
/// after the last sentence end, else after the last space, in the second half of the
/// room; else at the last character boundary.
fn boundary(text: &str, max: usize) -> usize {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let room = &text[..end];
    let half = end / 2;
    let after = |pred: &dyn Fn(char) -> bool| {
        room.char_indices()
            .filter(|&(i, c)| pred(c) && i + c.len_utf8() > half)
            .last()
            .map(|(i, c)| i + c.len_utf8())
    };
    after(&|c| c == '\n')
        .or_else(|| after(&|c| "。！？!?；;….".contains(c)))
        .or_else(|| after(&char::is_whitespace))
        .unwrap_or(end)
}

/// What became of a reply.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ReplyReport {
    /// Parts sent now.
    pub sent: u32,
    /// Parts an earlier run sent already (refused now as duplicates).
    pub already_sent: u32,
    /// The refusal that stopped the reply: the session does not allow it (95018), the
    /// sends ran out (95001), the 48 h window closed (95002), or a local check. Sending
    /// again cannot help; [`Error::diagnosis`] says why.
    pub refused: Option<Error>,
}

/// Send `answer` to the customer of `message` (nothing for a message with no customer).
/// Texts longer than one message are split with [`split_text`]; all parts together
/// stay within the sends one customer message allows
/// ([`SENDS_PER_CUSTOMER_MESSAGE`]), and each part `n` has the msgid
/// [`reply_msgid`]`(message, n)`, so a run again after a crash sends no part twice. In
/// batch mode, pass the burst's last message.
///
/// An error that sending again may cure (network, a busy service, a 40058 that is not
/// a duplicate msgid) is returned: fail the handler and the consumer runs it again.
///
/// ```no_run
/// # async fn f(client: wecom_kf::Client, message: wecom_kf::types::kf::message::Message) -> Result<(), wecom_kf::Error> {
/// use wecom_kf::consumer::reply;
/// use wecom_kf::types::kf::message::Content;
/// let report = reply(&client, &message, vec![Content::text("很长的回答……")]).await?;
/// if let Some(refused) = report.refused {
///     eprintln!("not sent: {refused}");
/// }
/// # Ok(()) }
/// ```
pub async fn reply(
    client: &Client,
    message: &Message,
    answer: Vec<Content>,
) -> Result<ReplyReport, Error> {
    let mut report = ReplyReport::default();
    let (Some(open_kfid), Some(customer)) = (message.open_kfid(), message.external_userid()) else {
        return Ok(report);
    };
    for (n, content) in plan(answer).into_iter().enumerate() {
        let msgid = reply_msgid(message, u32::try_from(n).unwrap_or(u32::MAX));
        let send = SendMsg::new(open_kfid, customer, content).msgid(msgid);
        match client.message().send_request(send).await {
            Ok(_) => report.sent += 1,
            Err(err) if is_duplicate_msgid(&err) => report.already_sent += 1,
            Err(err) if err.diagnosis().is_some() || err.is_validation() => {
                report.refused = Some(err);
                break;
            }
            Err(err) => return Err(err),
        }
    }
    Ok(report)
}

/// The parts of an answer, within the sends one customer message allows: each text
/// split to fit, the last that fits cut with [`CUT`], what comes after dropped.
pub fn plan(answer: Vec<Content>) -> Vec<Content> {
    let budget = SENDS_PER_CUSTOMER_MESSAGE as usize;
    let mut parts = Vec::new();
    for content in answer {
        let left = budget - parts.len();
        if left == 0 {
            break;
        }
        match content.as_text() {
            Some(text) if text.len() > TEXT_MAX_BYTES => {
                parts.extend(
                    split_text(text, TEXT_MAX_BYTES, left)
                        .into_iter()
                        .map(Content::text),
                );
            }
            _ => parts.push(content),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_splits_at_sentences_and_the_rest_is_cut_visibly() {
        let sentence = "这是一个很长的回答中的一句话。";
        let text = sentence.repeat(400);
        let parts = split_text(&text, 2048, 5);
        assert_eq!(parts.len(), 5);
        assert!(parts.iter().all(|p| p.len() <= 2048), "{parts:?}");
        assert!(parts[..4].iter().all(|p| p.ends_with('。')));
        assert!(parts[4].ends_with(CUT));
        // Nothing lost before the cut: the parts are the text's start, in order.
        let joined: String = parts[..4].concat();
        assert!(text.starts_with(&joined));
    }

    #[test]
    fn lines_come_before_sentences_and_a_text_without_either_is_cut_between_characters() {
        let text = format!("{}\n{}", "a. ".repeat(500), "b".repeat(3000));
        let parts = split_text(&text, 2048, 5);
        assert_eq!(parts[0], "a. ".repeat(500).trim_end());
        assert!(parts.iter().all(|p| p.len() <= 2048));
        assert_eq!(parts[1..].concat(), "b".repeat(3000));
        let one = split_text("短", 2048, 1);
        assert_eq!(one, ["短"]);
        let cut = split_text(&"字".repeat(1000), 2048, 1);
        assert!(cut[0].len() <= 2048 && cut[0].ends_with(CUT));
    }

    #[test]
    fn the_plan_keeps_within_five_sends() {
        let answer = vec![
            Content::text("x".repeat(6000)),
            Content::text("y".repeat(6000)),
        ];
        let parts = plan(answer);
        assert_eq!(parts.len(), 5);
        assert!(parts[4].as_text().unwrap().ends_with(CUT));
        assert!(parts[2].as_text().unwrap().starts_with('x'));
        assert!(parts[3].as_text().unwrap().starts_with('y'));
    }
}
