//! Sending through a real SMTP conversation to the loopback receiver.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_mail::receiver::Receiver;
use keel_mail::{MailConfig, Mailer, Message};
use std::time::Duration;

#[tokio::test]
async fn a_message_arrives_with_its_headers_and_decoded_body() {
    let receiver = Receiver::start().await.unwrap();
    let mailer = Mailer::new(&MailConfig::new(receiver.url(), "Keel <keel@example.com>")).unwrap();
    let link = format!(
        "https://keel.example/privacy/confirm?token={}",
        "a".repeat(120)
    );
    let message = Message::text(
        "ana@example.com",
        "Bitte bestätigen Sie Ihre Anmeldung",
        format!("Grüße! Confirm here:\n{link}\n"),
    )
    .with_html(format!("<p><a href=\"{link}\">Confirm</a></p>"))
    .with_header("List-Unsubscribe", "<https://keel.example/u?token=abc.def>")
    .with_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    mailer.send(&message).await.unwrap();
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, "keel@example.com");
    assert_eq!(m.rcpt_to, ["ana@example.com"]);
    assert_eq!(
        m.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert_eq!(
        m.header("List-Unsubscribe").as_deref(),
        Some("<https://keel.example/u?token=abc.def>")
    );
    let text = m.text();
    assert!(text.contains(&link), "{text}");
    assert!(text.contains("Grüße"), "{text}");
}

#[tokio::test]
async fn an_unreachable_server_is_an_smtp_error() {
    // Bind and drop to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mailer = Mailer::new(&MailConfig::new(
        format!("smtp://127.0.0.1:{port}"),
        "keel@example.com",
    ))
    .unwrap();
    let err = mailer
        .send(&Message::text("a@example.com", "s", "t"))
        .await
        .unwrap_err();
    assert!(matches!(err, keel_mail::MailError::Smtp(_)), "{err}");
}
