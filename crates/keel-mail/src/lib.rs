//! Keel's outgoing e-mail: a small [`Message`] type and a [`Mailer`] that sends it through SMTP.
//!
//! Configuration is one SMTP URL and a From address:
//!
//! - `KEEL_SMTP_URL` — `smtp://host:port` (plain, e.g. a local relay or a test receiver),
//!   `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://user:pass@host:465`
//!   (implicit TLS, rustls with the webpki roots). Special characters in user and password must be
//!   percent-encoded.
//! - `KEEL_MAIL_FROM` — the From mailbox, e.g. `Keel <keel@example.com>`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), keel_mail::MailError> {
//! let mailer = keel_mail::Mailer::new(&keel_mail::MailConfig::new(
//!     "smtp://127.0.0.1:2525",
//!     "Keel <keel@example.com>",
//! ))?;
//! let message = keel_mail::Message::text("ana@example.com", "Hello", "Plain text body")
//!     .with_header("List-Unsubscribe", "<https://example.com/u?token=abc>");
//! mailer.send(&message).await?;
//! # Ok(()) }
//! ```
//!
//! With the `test-receiver` feature, [`receiver::Receiver`] is a real SMTP server on loopback
//! that collects what it receives, so tests exercise the same SMTP conversation as production.

#[cfg(feature = "test-receiver")]
pub mod receiver;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Environment variable holding the SMTP URL.
pub const SMTP_URL_ENV: &str = "KEEL_SMTP_URL";
/// Environment variable holding the From mailbox.
pub const FROM_ENV: &str = "KEEL_MAIL_FROM";

/// Errors of sending mail.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The configuration (URL or From address) was not understood.
    #[error("mail configuration: {0}")]
    Config(String),
    /// The message could not be built (bad address, bad header).
    #[error("invalid message: {0}")]
    Message(String),
    /// The SMTP server refused the message or could not be reached.
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// Where and as whom to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// The SMTP URL (see the crate documentation).
    pub smtp_url: String,
    /// The From mailbox.
    pub from: String,
}

impl MailConfig {
    /// A configuration from its two values.
    pub fn new(smtp_url: impl Into<String>, from: impl Into<String>) -> Self {
        Self {
            smtp_url: smtp_url.into(),
            from: from.into(),
        }
    }

    /// Reads `KEEL_SMTP_URL` and `KEEL_MAIL_FROM`; `None` when no SMTP URL is set (mail is then
    /// not sent). The From address defaults to `Keel <keel@localhost>`.
    pub fn from_env() -> Option<Self> {
        let url = std::env::var(SMTP_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())?;
        let from = std::env::var(FROM_ENV)
            .ok()
            .filter(|f| !f.trim().is_empty())
            .unwrap_or_else(|| "Keel <keel@localhost>".to_string());
        Some(Self::new(url.trim(), from.trim()))
    }
}

/// An e-mail to send: one recipient, a subject, a text body, an optional HTML alternative and
/// extra headers (for example `List-Unsubscribe` and `List-Unsubscribe-Post`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The recipient's address (or `Name <address>` mailbox).
    pub to: String,
    /// Subject line (non-ASCII is encoded as RFC 2047).
    pub subject: String,
    /// Plain-text body; always sent.
    pub text: String,
    /// HTML alternative, sent as `multipart/alternative` with the text when present.
    pub html: Option<String>,
    /// Extra headers, in order. Names must be ASCII header names; values are encoded as needed.
    pub headers: Vec<(String, String)>,
}

impl Message {
    /// A plain-text message.
    pub fn text(
        to: impl Into<String>,
        subject: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            to: to.into(),
            subject: subject.into(),
            text: text.into(),
            html: None,
            headers: Vec::new(),
        }
    }

    /// Adds an HTML alternative.
    pub fn with_html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// Adds an extra header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Sends messages through one SMTP server. Cheap to clone; connections are opened per message.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// A mailer for `config`; fails on an unusable URL or From address.
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
            .map_err(|e| MailError::Config(format!("{SMTP_URL_ENV}: {e}")))?
            .build();
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|e| MailError::Config(format!("From address {:?}: {e}", config.from)))?;
        Ok(Self { transport, from })
    }

    /// The From mailbox used.
    pub fn from_address(&self) -> String {
        self.from.to_string()
    }

    /// Builds the RFC 5322 message without sending it.
    pub fn build(&self, message: &Message) -> Result<lettre::Message, MailError> {
        let to = message
            .to
            .parse::<Mailbox>()
            .map_err(|e| MailError::Message(format!("recipient {:?}: {e}", message.to)))?;
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone());
        for (name, value) in &message.headers {
            let header = HeaderName::new_from_ascii(name.clone())
                .map_err(|_| MailError::Message(format!("header name {name:?} is not valid")))?;
            if value.contains(['\r', '\n']) {
                return Err(MailError::Message(format!(
                    "header {name} must not contain line breaks"
                )));
            }
            builder = builder.raw_header(HeaderValue::new(header, value.clone()));
        }
        let built = match &message.html {
            None => builder.singlepart(SinglePart::plain(message.text.clone())),
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                html.clone(),
            )),
        };
        built.map_err(|e| MailError::Message(e.to_string()))
    }

    /// Sends one message; returns once the server has accepted it.
    pub async fn send(&self, message: &Message) -> Result<(), MailError> {
        let built = self.build(message)?;
        self.transport
            .send(built)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Smtp(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn mailer() -> Mailer {
        Mailer::new(&MailConfig::new(
            "smtp://127.0.0.1:2525",
            "Keel <keel@example.com>",
        ))
        .unwrap()
    }

    #[test]
    fn builds_text_and_html_with_extra_headers() {
        let msg = Message::text("ana@example.com", "Bitte bestätigen", "Text body")
            .with_html("<p>HTML body</p>")
            .with_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        let raw = String::from_utf8(mailer().build(&msg).unwrap().formatted()).unwrap();
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("From: Keel <keel@example.com>"));
        assert!(raw.contains("To: ana@example.com"));
    }

    #[test]
    fn bad_input_is_named() {
        let m = mailer();
        assert!(matches!(
            m.build(&Message::text("not an address", "s", "t")),
            Err(MailError::Message(_))
        ));
        assert!(matches!(
            m.build(&Message::text("a@example.com", "s", "t").with_header("Bad Name", "v")),
            Err(MailError::Message(_))
        ));
        assert!(matches!(
            m.build(&Message::text("a@example.com", "s", "t").with_header("X-A", "a\r\nBcc: x")),
            Err(MailError::Message(_))
        ));
        assert!(matches!(
            Mailer::new(&MailConfig::new("http://x", "a@example.com")),
            Err(MailError::Config(_))
        ));
        assert!(matches!(
            Mailer::new(&MailConfig::new("smtp://127.0.0.1:25", "nobody")),
            Err(MailError::Config(_))
        ));
    }
}
