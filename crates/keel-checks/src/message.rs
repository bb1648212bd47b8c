//! Message rules for a full `.eml`: List-Unsubscribe (https URI) and List-Unsubscribe-Post
//! (RFC 8058), both signed by DKIM when a signature is present; From and Reply-To; subject;
//! size; a text/plain part. The HTML part then goes through the email rules.

use crate::context::Ctx;
use crate::rules;
use mail_parser::{Message, MessageParser};

/// A parsed message's parts the checks need.
pub(crate) struct Parsed<'x> {
    pub message: Message<'x>,
}

/// Parses a message; `None` when the bytes are not a message at all.
pub(crate) fn parse(bytes: &[u8]) -> Option<Parsed<'_>> {
    let message = MessageParser::default().parse(bytes)?;
    if message.headers().is_empty() {
        return None;
    }
    Some(Parsed { message })
}

fn line_of(raw: &[u8], offset: u32) -> u32 {
    let end = usize::try_from(offset).unwrap_or(usize::MAX).min(raw.len());
    u32::try_from(raw[..end].iter().filter(|&&b| b == b'\n').count() + 1).unwrap_or(u32::MAX)
}

/// Runs the header and structure rules.
pub(crate) fn check(parsed: &Parsed<'_>, raw: &[u8], ctx: &mut Ctx<'_>) {
    let m = &parsed.message;
    let header = |name: &str| {
        m.headers()
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .map(|h| {
                let start = usize::try_from(h.offset_start).unwrap_or(0).min(raw.len());
                let end = usize::try_from(h.offset_end)
                    .unwrap_or(0)
                    .clamp(start, raw.len());
                let value = String::from_utf8_lossy(&raw[start..end])
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                (line_of(raw, h.offset_field), value)
            })
    };
    let lu = header("List-Unsubscribe");
    match &lu {
        None => ctx.header(
            &rules::LIST_UNSUBSCRIBE,
            None,
            "",
            "no List-Unsubscribe header",
        ),
        Some((line, value)) => {
            let uris: Vec<&str> = value
                .split(',')
                .map(|u| u.trim().trim_start_matches('<').trim_end_matches('>'))
                .collect();
            if !uris
                .iter()
                .any(|u| u.to_ascii_lowercase().starts_with("https://"))
            {
                ctx.header(
                    &rules::LIST_UNSUBSCRIBE,
                    Some(*line),
                    value,
                    "List-Unsubscribe has no https URI (one-click needs one)",
                );
            }
        }
    }
    let post = header("List-Unsubscribe-Post");
    match &post {
        None => ctx.header(
            &rules::LIST_UNSUBSCRIBE_POST,
            None,
            "",
            "no List-Unsubscribe-Post header",
        ),
        Some((line, value)) if value.trim() != "List-Unsubscribe=One-Click" => ctx.header(
            &rules::LIST_UNSUBSCRIBE_POST,
            Some(*line),
            value,
            "List-Unsubscribe-Post must be exactly `List-Unsubscribe=One-Click`",
        ),
        Some(_) => {}
    }
    if let Some((line, sig)) = header("DKIM-Signature") {
        let signed: Vec<String> = sig
            .split(';')
            .filter_map(|tag| tag.trim().strip_prefix("h="))
            .flat_map(|h| {
                h.split(':')
                    .map(|n| n.trim().to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut missing = Vec::new();
        if lu.is_some() && !signed.iter().any(|h| h == "list-unsubscribe") {
            missing.push("List-Unsubscribe");
        }
        if post.is_some() && !signed.iter().any(|h| h == "list-unsubscribe-post") {
            missing.push("List-Unsubscribe-Post");
        }
        if !missing.is_empty() {
            ctx.header(
                &rules::DKIM_COVERAGE,
                Some(line),
                &sig,
                format!("DKIM h= does not include {}", missing.join(" and ")),
            );
        }
    }
    match m.from().map(|a| a.iter().collect::<Vec<_>>()) {
        None => ctx.header(&rules::FROM_HEADER, None, "", "no From header"),
        Some(addrs) => {
            let (line, value) = header("From").unwrap_or((1, String::new()));
            if addrs.len() != 1 {
                ctx.header(
                    &rules::FROM_HEADER,
                    Some(line),
                    &value,
                    format!("From has {} addresses; use exactly one", addrs.len()),
                );
            } else if !addrs.iter().all(|a| a.address().is_some_and(valid_address)) {
                ctx.header(
                    &rules::FROM_HEADER,
                    Some(line),
                    &value,
                    "From address is not a valid email address",
                );
            } else if addrs
                .iter()
                .all(|a| a.name().is_none_or(|n| n.trim().is_empty()))
            {
                let f =
                    crate::finding::Finding::new(&rules::FROM_HEADER, "From has no display name")
                        .at(Some(crate::finding::Location { line, column: 1 }), &value)
                        .in_part(crate::finding::Part::Headers);
                ctx.push(crate::finding::Finding {
                    severity: crate::finding::Severity::Info,
                    ..f
                });
            }
        }
    }
    if let Some(addrs) = m.reply_to().map(|a| a.iter().collect::<Vec<_>>()) {
        let (line, value) = header("Reply-To").unwrap_or((1, String::new()));
        if !addrs.iter().all(|a| a.address().is_some_and(valid_address)) {
            ctx.header(
                &rules::REPLY_TO,
                Some(line),
                &value,
                "Reply-To is not a valid email address",
            );
        } else if addrs.iter().any(|a| {
            a.address().is_some_and(|x| {
                let local = x.split('@').next().unwrap_or("").to_ascii_lowercase();
                local.contains("noreply")
                    || local.contains("no-reply")
                    || local.contains("donotreply")
            })
        }) {
            ctx.header(
                &rules::REPLY_TO,
                Some(line),
                &value,
                "Reply-To is a no-reply address; replies will be lost",
            );
        }
    }
    if m.subject().is_none_or(|s| s.trim().is_empty()) {
        ctx.header(&rules::SUBJECT, None, "", "no Subject");
    }
    let max = ctx.policy.spec.email.max_message_bytes;
    if raw.len() > max {
        let f = crate::finding::Finding::new(
            &rules::MESSAGE_SIZE,
            format!(
                "message is {} KB (over {} KB)",
                raw.len() / 1024,
                max / 1024
            ),
        )
        .in_part(crate::finding::Part::Message);
        ctx.push(f);
    }
    let has_text = (0..m.text_body_count()).any(|i| {
        m.text_part(u32::try_from(i).unwrap_or(u32::MAX))
            .is_some_and(|p| p.is_text() && !p.is_text_html())
    });
    if !has_text {
        ctx.push(
            crate::finding::Finding::new(&rules::TEXT_PART, "the message has no text/plain part")
                .in_part(crate::finding::Part::Message),
        );
    }
}

fn valid_address(a: &str) -> bool {
    match a.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !a.contains(char::is_whitespace)
        }
        None => false,
    }
}
