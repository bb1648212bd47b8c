//! Double opt-in end to end in a real browser: a person subscribes on the public form, the
//! confirmation mail arrives at a real SMTP receiver on loopback, and Chromium opens the link from
//! the mail and clicks the confirmation button; the grant is then in the consent ledger, and the
//! same link a second time gets the "already used" page.
//!
//! Skipped with a message when chromedriver is not installed, unless `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::zombie_processes)]

use fantoccini::{ClientBuilder, Locator};
use keel_store::{Actor, Store, migrations};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

fn chromedriver() -> Option<String> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_string)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn server(dir: &std::path::Path) -> (String, Store, keel_mail::receiver::Receiver) {
    let store = Store::connect(dir.join("keel.db").to_str().unwrap())
        .await
        .unwrap();
    migrations::migrate(&store).await.unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/ops/privacy");
    let files: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            keel_manifests::SourceFile::new(
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect();
    let loaded = keel_manifests::load(&files, &keel_web::ops::registry());
    let plan = keel_manifests::plan(
        &keel_web::ops::current_documents(&store).await.unwrap(),
        &loaded.documents(),
    );
    keel_web::ops::apply_plan(&store, &Actor::System("test"), &plan, "privacy")
        .await
        .unwrap();
    let mail = keel_mail::receiver::Receiver::start().await.unwrap();
    let mailer = keel_mail::Mailer::new(&keel_mail::MailConfig::new(
        mail.url(),
        "Halyard <news@halyard.example>",
    ))
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut state = keel_web::AppState::new(store.clone(), Default::default()).unwrap();
    state.privacy = Arc::new(keel_web::api::privacy::PrivacyConfig::new(
        base.clone(),
        None,
        Some(mailer),
    ));
    tokio::spawn(keel_web::serve(state, listener, std::future::pending()));
    (base, store, mail)
}

#[tokio::test(flavor = "multi_thread")]
async fn double_opt_in_confirmed_by_clicking_the_mailed_link() {
    let Some(driver_path) = chromedriver() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromedriver is required on CI (apt-get install chromium chromium-driver)");
        }
        eprintln!("SKIPPED privacy browser test: chromedriver not installed");
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let (base, store, mail) = server(dir.path()).await;
    let port = free_port();
    let mut driver = Command::new(driver_path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     "--window-size=1024,800"]
        }),
    );
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::rustls()
            .expect("TLS roots")
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("connect to chromedriver");
    let result = run(&c, &base, &store, &mail).await;
    if let Err(e) = &result {
        if let Ok(png) = c.screenshot().await {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/privacy-browser-failure.png"
            );
            let _ = std::fs::write(path, png);
            eprintln!("screenshot saved to {path}");
        }
        eprintln!("privacy browser test failed: {e}");
    }
    let _ = c.close().await;
    let _ = driver.kill();
    let _ = driver.wait();
    result.unwrap();
}

/// Waits until the page's `h1` reads `expected`. Reading the heading right after a click can
/// catch the page being left (or a stale element while the next one loads), so this polls.
async fn heading_becomes(c: &fantoccini::Client, expected: &str) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..150 {
        if let Ok(h1) = c.find(Locator::Css("h1")).await
            && let Ok(text) = h1.text().await
        {
            if text == expected {
                return Ok(());
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "expected the heading `{expected}`, last saw `{last}`"
    ))
}

async fn run(
    c: &fantoccini::Client,
    base: &str,
    store: &Store,
    mail: &keel_mail::receiver::Receiver,
) -> Result<(), String> {
    let err = |e: fantoccini::error::CmdError| e.to_string();
    c.goto(&format!(
        "{base}/privacy/subscribe?purpose=newsletter&lang=en"
    ))
    .await
    .map_err(err)?;
    c.find(Locator::Id("email"))
        .await
        .map_err(err)?
        .send_keys("hiker@example.com")
        .await
        .map_err(err)?;
    c.find(Locator::Id("agree"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    c.find(Locator::Css("button[type=submit]"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    heading_becomes(c, "Check your inbox").await?;
    let mails = mail.wait_for(1, Duration::from_secs(15)).await;
    let text = mails.first().ok_or("no confirmation mail arrived")?.text();
    let start = text
        .find(&format!("{base}/privacy/confirm"))
        .ok_or("no link in the mail")?;
    let link: String = text[start..]
        .chars()
        .take_while(|ch| !ch.is_whitespace())
        .collect();
    if !keel_store::privacy::ledger_for(store, "hiker@example.com")
        .await
        .map_err(|e| e.to_string())?
        .is_empty()
    {
        return Err("consent recorded before confirmation".into());
    }
    c.goto(&link).await.map_err(err)?;
    c.find(Locator::Id("confirm"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    heading_becomes(c, "Subscription confirmed").await?;
    let ledger = keel_store::privacy::ledger_for(store, "hiker@example.com")
        .await
        .map_err(|e| e.to_string())?;
    if ledger.len() != 1 || ledger[0].state != "granted" || ledger[0].text_hash.is_none() {
        return Err(format!(
            "expected one granted statement with its text, got {ledger:?}"
        ));
    }
    // The same link again: the clear "already used" page.
    c.goto(&link).await.map_err(err)?;
    c.find(Locator::Id("confirm"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    heading_becomes(c, "Link already used").await?;
    Ok(())
}
