//! A real browser (Debian's Chromium through chromedriver) signs in and navigates the UI.
//!
//! Skipped with a message when chromedriver is not installed, unless `CI=true`. On failure a
//! screenshot is written to `target/browser-failure.png` (or `$KEEL_SCREENSHOT_DIR`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::zombie_processes)]

mod common;

use fantoccini::{ClientBuilder, Locator};
use std::process::{Command, Stdio};

fn chromedriver() -> Option<String> {
    for path in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] {
        if std::path::Path::new(path).exists() {
            return Some(path.to_string());
        }
    }
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_and_navigate() {
    let Some(driver_path) = chromedriver() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromedriver is required on CI (apt-get install chromium chromium-driver)");
        }
        eprintln!("SKIPPED browser test: chromedriver not installed");
        return;
    };
    // Several TLS providers are linked into the test binary; chromedriver is plain HTTP, but the
    // WebDriver client still wants one chosen.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let server = common::serve(&dir.path().join("keel.db"), &["--demo"]);
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
                     "--window-size=1280,900"]
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
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("connect to chromedriver");
    let result = run_tour(&c, &server.base).await;
    if let Err(e) = &result {
        let dir = std::env::var("KEEL_SCREENSHOT_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target").to_string());
        if let Ok(png) = c.screenshot().await {
            let path = format!("{dir}/browser-failure.png");
            let _ = std::fs::write(&path, png);
            eprintln!("screenshot saved to {path}");
        }
        eprintln!("browser tour failed: {e}");
    }
    let _ = c.close().await;
    let _ = driver.kill();
    let _ = driver.wait();
    result.unwrap();
}

async fn run_tour(c: &fantoccini::Client, base: &str) -> Result<(), String> {
    let err = |e: fantoccini::error::CmdError| e.to_string();
    c.goto(&format!("{base}/admin/users")).await.map_err(err)?;
    // Anonymous: sent to the sign-in page.
    let url = c.current_url().await.map_err(err)?;
    if !url.path().starts_with("/login") {
        return Err(format!("expected the sign-in page, got {url}"));
    }
    c.find(Locator::Id("email"))
        .await
        .map_err(err)?
        .send_keys("maya@halyard.example")
        .await
        .map_err(err)?;
    c.find(Locator::Id("password"))
        .await
        .map_err(err)?
        .send_keys("keel-demo-2026")
        .await
        .map_err(err)?;
    c.find(Locator::Css("button[type=submit]"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    // Signing in returns to the page asked for; read nothing from the sign-in page being left.
    arrive(c, "/admin/users").await?;
    let h1 = c
        .find(Locator::Css("h1"))
        .await
        .map_err(err)?
        .text()
        .await
        .map_err(err)?;
    if h1 != "People" {
        return Err(format!(
            "after sign-in expected the People page, got `{h1}`"
        ));
    }
    let body = c
        .find(Locator::Css("body"))
        .await
        .map_err(err)?
        .text()
        .await
        .map_err(err)?;
    if !body.contains("Hannah Schmidt") {
        return Err("the demo people are not listed".into());
    }
    c.find(Locator::LinkText("Audit log"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    arrive(c, "/audit").await?;
    c.wait()
        .for_element(Locator::Css(".notice.ok"))
        .await
        .map_err(err)?;
    let notice = c
        .find(Locator::Css(".notice"))
        .await
        .map_err(err)?
        .text()
        .await
        .map_err(err)?;
    if !notice.contains("Chain intact") {
        return Err(format!("audit page should show an intact chain: {notice}"));
    }
    c.find(Locator::LinkText("API tokens"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    arrive(c, "/admin/tokens").await?;
    c.find(Locator::Id("label"))
        .await
        .map_err(err)?
        .send_keys("browser test")
        .await
        .map_err(err)?;
    c.find(Locator::Css("form.stack button[type=submit]"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    let secret = c
        .wait()
        .for_element(Locator::Id("new-token"))
        .await
        .map_err(err)?
        .text()
        .await
        .map_err(err)?;
    if !secret.starts_with("keel_") {
        return Err(format!("new token not shown: {secret}"));
    }
    c.find(Locator::LinkText("Catalog"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    arrive(c, "/catalog").await?;
    c.wait()
        .for_element(Locator::Css("a[href='/catalog/tools/salesforce']"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    arrive(c, "/catalog/tools/salesforce").await?;
    let page = c
        .wait()
        .for_element(Locator::Css("main"))
        .await
        .map_err(err)?
        .text()
        .await
        .map_err(err)?;
    if !page.contains("Service readiness") || !page.contains("Blast radius") {
        return Err("the tool page should show its scorecard and blast radius".into());
    }
    c.find(Locator::LinkText("Stack graph"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    arrive(c, "/catalog/graph").await?;
    c.wait()
        .for_element(Locator::Css(".chart svg"))
        .await
        .map_err(err)?;
    if let Ok(dir) = std::env::var("KEEL_SCREENSHOT_DIR")
        && let Ok(png) = c.screenshot().await
    {
        let _ = std::fs::write(format!("{dir}/stack-graph.png"), png);
    }
    c.find(Locator::LinkText("Overview"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    arrive(c, "/").await?;
    let h1 = c
        .wait()
        .for_element(Locator::Css("h1"))
        .await
        .map_err(err)?
        .text()
        .await
        .map_err(err)?;
    if h1 != "Overview" {
        return Err(format!("expected Overview, got {h1}"));
    }
    if let Ok(dir) = std::env::var("KEEL_SCREENSHOT_DIR")
        && let Ok(png) = c.screenshot().await
    {
        let _ = std::fs::write(format!("{dir}/overview.png"), png);
    }
    submit_a_brief(c, base).await?;
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    // Wait for the sign-in form rather than reading the URL while the navigation is in flight.
    c.wait()
        .for_element(Locator::Id("password"))
        .await
        .map_err(err)?;
    let url = c.current_url().await.map_err(err)?;
    if !url.path().starts_with("/login") {
        return Err(format!(
            "sign-out should return to the sign-in page, got {url}"
        ));
    }
    Ok(())
}

/// Fills the campaign brief form as a requester would and sees policy approve it, with the
/// deciding rule and its reason on the request page.
async fn submit_a_brief(c: &fantoccini::Client, base: &str) -> Result<(), String> {
    let err = |e: fantoccini::error::CmdError| e.to_string();
    c.goto(&format!("{base}/requests/new/campaign_brief"))
        .await
        .map_err(err)?;
    arrive(c, "/requests/new/campaign_brief").await?;
    let launch = (chrono::Utc::now().date_naive() + chrono::Days::new(40)).to_string();
    for (id, text) in [
        ("name", "Autumn trail running EMEA"),
        ("campaign_code", "EMEA-2027-07"),
        ("audience", "emea-trail-runners"),
        (
            "goals",
            "Grow first purchases of trail running shoes among newsletter readers in EMEA.",
        ),
        (
            "success_metrics",
            "800 orders and 60,000 EUR revenue in 45 days.",
        ),
        (
            "brand_constraints",
            "2026 outdoor visual system; no athlete likenesses.",
        ),
        (
            "technical_requirements",
            "UTMs per channel; orders tracked through the shop's events.",
        ),
        ("budget", "1200"),
        ("owner", "jonas"),
    ] {
        c.find(Locator::Id(id))
            .await
            .map_err(err)?
            .send_keys(text)
            .await
            .map_err(err)?;
    }
    c.find(Locator::Css("input[name=audience__size]"))
        .await
        .map_err(err)?
        .send_keys("24000")
        .await
        .map_err(err)?;
    c.find(Locator::Css("input[name=channels][value=email]"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    c.find(Locator::Css("#region option[value=emea]"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    // Date inputs are typed in the browser's locale; set the ISO value the form posts.
    c.execute(
        "document.getElementById('launch_date').value = arguments[0];",
        vec![serde_json::Value::String(launch)],
    )
    .await
    .map_err(err)?;
    c.find(Locator::Css("button[value=submit]"))
        .await
        .map_err(err)?
        .click()
        .await
        .map_err(err)?;
    let status = c
        .wait()
        .for_element(Locator::Id("request-status"))
        .await
        .map_err(err)?
        .text()
        .await
        .map_err(err)?;
    let body = c
        .find(Locator::Css("body"))
        .await
        .map_err(err)?
        .text()
        .await
        .map_err(err)?;
    if let Ok(dir) = std::env::var("KEEL_SCREENSHOT_DIR")
        && let Ok(png) = c.screenshot().await
    {
        let _ = std::fs::write(format!("{dir}/request.png"), png);
    }
    if status != "approved" {
        return Err(format!(
            "the routine brief should be approved by policy, got `{status}`: {body}"
        ));
    }
    if !body.contains("campaign-approvals/small-organic-campaign")
        || !body.contains("Campaigns under 5,000 without paid media follow the standard playbook.")
    {
        return Err(format!(
            "the deciding rule and its reason are not shown: {body}"
        ));
    }
    Ok(())
}

/// Waits until the browser shows `path`, so nothing is read from the page being left.
async fn arrive(c: &fantoccini::Client, path: &str) -> Result<(), String> {
    for _ in 0..100 {
        if let Ok(url) = c.current_url().await
            && url.path() == path
            && c.find(Locator::Css("h1")).await.is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(format!("the browser never arrived at {path}"))
}
