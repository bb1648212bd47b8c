//! Pre-send email checks and pre-launch landing-page checks.
//!
//! A pure library: bytes and a [`Policy`] in, a [`Report`] of located, explained findings out.
//! No I/O, no global state beyond the embedded caniemail data (parsed once), so the same calls
//! serve the CLI (`keel check-email`, `keel check-page`) and an HTTP handler.
//!
//! ```
//! use keel_checks::{Policy, check_email};
//! let report = check_email(b"<html><body><img src=\"https://x.test/a.png\"></body></html>", &Policy::default());
//! assert!(report.findings.iter().any(|f| f.rule == "img-alt"));
//! ```

pub mod axe;
pub mod caniemail;
pub mod color;
pub mod css;
pub mod finding;
pub mod html;
pub mod output;
pub mod policy;
pub mod rules;
pub mod source;

mod context;
mod email;
mod message;
mod page;
pub(crate) mod support;
mod tags;

pub use caniemail::ClientSet;
pub use email::GMAIL_CLIP_BYTES;
pub use finding::{ClientImpact, Finding, Location, Part, Report, Severity};
pub use page::default_registry;
pub use policy::{Policy, Problem, QualityPolicy, QualityPolicyDocument, register};

use context::Ctx;
use html::Document;
use std::borrow::Cow;

/// Decodes HTML (borrowing valid UTF-8 input), or reports why it cannot be checked.
fn decode<'a>(
    bytes: &'a [u8],
    charset: Option<&str>,
    ctx: &mut Ctx<'_>,
) -> Option<(Cow<'a, str>, &'static str)> {
    let (text, encoding, had_errors) = match source::decode_html_cow(bytes, charset) {
        Ok(d) => d,
        Err(source::Unreadable::Binary) => {
            ctx.whole(
                &rules::INPUT_UNREADABLE,
                "the input looks like a binary file, not HTML",
            );
            return None;
        }
    };
    if had_errors {
        ctx.whole(
            &rules::INPUT_ENCODING,
            format!(
                "bytes invalid in {} were replaced with U+FFFD",
                encoding.name()
            ),
        );
    }
    Some((text, encoding.name()))
}

/// Parses decoded HTML, or reports why it cannot be checked.
fn parse(text: Cow<'_, str>, detail: html::Detail, ctx: &mut Ctx<'_>) -> Option<Document> {
    match Document::parse_with(text.into_owned(), detail) {
        Ok(doc) => Some(doc),
        Err(e) => {
            ctx.whole(
                &rules::INPUT_UNREADABLE,
                format!("the HTML could not be parsed: {}", e.0),
            );
            None
        }
    }
}

/// Decodes and parses HTML, or reports why it cannot be checked.
fn prepare(
    bytes: &[u8],
    charset: Option<&str>,
    detail: html::Detail,
    ctx: &mut Ctx<'_>,
) -> Option<(Document, &'static str)> {
    let (text, name) = decode(bytes, charset, ctx)?;
    parse(text, detail, ctx).map(|doc| (doc, name))
}

/// Runs the email rules on decoded HTML: at the client-support detail level straight from the
/// source text (no document model), otherwise on a parsed document. Returns the report's HTML
/// size, or `None` when the HTML could not be parsed.
fn check_email_text(
    text: Cow<'_, str>,
    subject: Option<&str>,
    detail: html::Detail,
    ctx: &mut Ctx<'_>,
) -> Option<usize> {
    if detail == html::Detail::Features {
        let bytes = text.len();
        email::check_features(&text, bytes, ctx);
        return Some(bytes);
    }
    let doc = parse(text, detail, ctx)?;
    let bytes = doc.source.len();
    email::check(&doc, subject, bytes, ctx);
    Some(bytes)
}

/// Checks an HTML email (the HTML as it will be sent).
pub fn check_email(html: &[u8], policy: &Policy) -> Report {
    let mut ctx = Ctx::new(policy);
    let detail = email::detail_needed(&ctx);
    let Some((text, encoding)) = decode(html, None, &mut ctx) else {
        return ctx.into_report(html.len(), "unknown");
    };
    match check_email_text(text, None, detail, &mut ctx) {
        Some(bytes) => ctx.into_report(bytes, encoding),
        None => ctx.into_report(html.len(), "unknown"),
    }
}

/// Checks a whole message (`.eml`, RFC 5322): headers and structure, then its HTML part.
/// Locations in the HTML part are lines of the decoded HTML part; header findings have
/// [`Part::Headers`] and the line of the header in the message.
pub fn check_message(eml: &[u8], policy: &Policy) -> Report {
    let mut ctx = Ctx::new(policy);
    if source::looks_binary(eml) {
        ctx.whole(
            &rules::INPUT_UNREADABLE,
            "the input looks like a binary file, not a message",
        );
        return ctx.into_report(0, "unknown");
    }
    let Some(parsed) = message::parse(eml) else {
        ctx.whole(
            &rules::INPUT_UNREADABLE,
            "the input is not an RFC 5322 message (no headers)",
        );
        return ctx.into_report(0, "unknown");
    };
    message::check(&parsed, eml, &mut ctx);
    let subject = parsed.message.subject().map(str::to_owned);
    match parsed
        .message
        .body_html(0)
        .filter(|_| parsed.message.html_body_count() > 0)
    {
        Some(html) => {
            let html = html.into_owned();
            // mail-parser has already decoded the part's charset to UTF-8.
            let detail = email::detail_needed(&ctx);
            let checked = decode(html.as_bytes(), Some("utf-8"), &mut ctx)
                .and_then(|(text, _)| check_email_text(text, subject.as_deref(), detail, &mut ctx));
            match checked {
                Some(bytes) => ctx.into_report(bytes, "UTF-8"),
                None => ctx.into_report(html.len(), "UTF-8"),
            }
        }
        None => {
            ctx.push(
                Finding::new(
                    &rules::INPUT_UNREADABLE,
                    "the message has no text/html part",
                )
                .in_part(Part::Message),
            );
            ctx.into_report(0, "UTF-8")
        }
    }
}

/// True when bytes look like an RFC 5322 message rather than an HTML document.
pub fn looks_like_message(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]);
    let first = head.lines().next().unwrap_or("");
    !first.trim_start().starts_with('<')
        && first.split_once(':').is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Checks a landing page.
pub fn check_page(html: &[u8], policy: &Policy) -> Report {
    check_page_at(html, None, policy)
}

/// Checks a landing page served at `url` (scripts from the page's own host are first-party).
/// `charset` is the HTTP Content-Type charset, if any.
pub fn check_page_at(html: &[u8], url: Option<&str>, policy: &Policy) -> Report {
    check_page_with(html, url, None, policy)
}

/// [`check_page_at`] with the charset from an HTTP Content-Type header.
pub fn check_page_with(
    html: &[u8],
    url: Option<&str>,
    charset: Option<&str>,
    policy: &Policy,
) -> Report {
    let mut ctx = Ctx::new(policy);
    let Some((doc, encoding)) = prepare(html, charset, html::Detail::Full, &mut ctx) else {
        return ctx.into_report(html.len(), "unknown");
    };
    let base = url.and_then(|u| url::Url::parse(u).ok());
    let bytes = doc.source.len();
    page::check(&doc, base.as_ref(), &mut ctx);
    ctx.into_report(bytes, encoding)
}
