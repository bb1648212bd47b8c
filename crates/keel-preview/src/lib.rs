//! Rendered previews of an email or page in headless Chromium: mobile and desktop widths, with
//! images blocked, and with the dark colour scheme; and accessibility results from axe-core run
//! inside the rendered page ([`accessibility`]). An adapter crate: it runs the browser as a
//! child process and writes PNG files or returns axe's JSON; the checks themselves (and the
//! reading of axe's results) live in `keel-checks`.
//!
//! ```no_run
//! use keel_preview::{Preview, render_all};
//! let shots = render_all("/usr/bin/chromium".as_ref(), "email.html".as_ref(), "out".as_ref(), &Preview::standard_set());
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why a preview could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The browser could not be started.
    #[error("cannot start {browser}: {source}")]
    Start {
        /// Browser path.
        browser: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The browser ran but produced no screenshot.
    #[error("{browser} did not write {shot} (exit status {status}): {stderr}")]
    NoScreenshot {
        /// Browser path.
        browser: PathBuf,
        /// The expected PNG.
        shot: PathBuf,
        /// Exit status text.
        status: String,
        /// The end of the browser's stderr.
        stderr: String,
    },
    /// The browser did not finish in time and was stopped.
    #[error("{browser} took longer than {seconds} s rendering {shot}")]
    Timeout {
        /// Browser path.
        browser: PathBuf,
        /// The expected PNG.
        shot: PathBuf,
        /// The time limit.
        seconds: u64,
    },
    /// The page rendered but axe-core produced no results (or reported an error).
    #[error("axe-core did not report results: {0}")]
    NoResults(String),
    /// The input or output path is not usable.
    #[error("{path}: {source}")]
    Path {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// One rendering: a viewport and how to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Name used in the file name, e.g. `mobile-dark`.
    pub name: String,
    /// Viewport width in CSS pixels.
    pub width: u32,
    /// Viewport height in CSS pixels.
    pub height: u32,
    /// Block images, as many email clients do by default.
    pub images_off: bool,
    /// Emulate the dark colour scheme (`prefers-color-scheme: dark`).
    pub dark: bool,
}

impl Preview {
    /// Mobile (375 px) and desktop (1280 px), each plain, with images off and in dark mode.
    pub fn standard_set() -> Vec<Preview> {
        let mut set = Vec::new();
        for (device, width, height) in [("mobile", 375, 812), ("desktop", 1280, 900)] {
            for (variant, images_off, dark) in [
                ("", false, false),
                ("-images-off", true, false),
                ("-dark", false, true),
            ] {
                set.push(Preview {
                    name: format!("{device}{variant}"),
                    width,
                    height,
                    images_off,
                    dark,
                });
            }
        }
        set
    }

    /// The Chromium command-line arguments for this preview of `url`, writing `shot`.
    pub fn chromium_args(&self, url: &str, shot: &Path) -> Vec<String> {
        let mut args = vec![
            "--headless".to_owned(),
            "--disable-gpu".to_owned(),
            // Containers run as root, where Chromium's sandbox cannot start.
            "--no-sandbox".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-extensions".to_owned(),
            "--mute-audio".to_owned(),
            // Without these, Chromium keeps trying to reach Google's services from a closed
            // network; a preview never needs them.
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            format!("--window-size={},{}", self.width, self.height),
            format!("--screenshot={}", shot.display()),
            // A profile of its own, so several previews can render at once (Chromium otherwise
            // hands a second launch over to the first and exits without a screenshot).
            format!(
                "--user-data-dir={}",
                shot.with_extension("profile").display()
            ),
        ];
        if self.images_off {
            args.push("--blink-settings=imagesEnabled=false".to_owned());
        }
        if self.dark {
            args.push("--force-dark-mode".to_owned());
        }
        args.push(url.to_owned());
        args
    }
}

/// Renders every preview of an HTML file into `out_dir` as `<stem>-<preview>.png`.
pub fn render_all(
    browser: &Path,
    html: &Path,
    out_dir: &Path,
    previews: &[Preview],
) -> Result<Vec<PathBuf>, PreviewError> {
    let html = html.canonicalize().map_err(|source| PreviewError::Path {
        path: html.to_path_buf(),
        source,
    })?;
    std::fs::create_dir_all(out_dir).map_err(|source| PreviewError::Path {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let stem = html.file_stem().map_or_else(
        || "preview".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let url = format!("file://{}", html.display());
    previews
        .iter()
        .map(|p| {
            let shot = out_dir.join(format!("{stem}-{}.png", p.name));
            render(browser, &url, &shot, p, Duration::from_secs(60))?;
            Ok(shot)
        })
        .collect()
}

/// Renders one preview of `url` into `shot`, stopping the browser after `limit`.
pub fn render(
    browser: &Path,
    url: &str,
    shot: &Path,
    preview: &Preview,
    limit: Duration,
) -> Result<(), PreviewError> {
    let _ = std::fs::remove_file(shot);
    let mut child = Command::new(browser)
        .args(preview.chromium_args(url, shot))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| PreviewError::Start {
            browser: browser.to_path_buf(),
            source,
        })?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.to_string(),
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PreviewError::Timeout {
                    browser: browser.to_path_buf(),
                    shot: shot.to_path_buf(),
                    seconds: limit.as_secs(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                return Err(PreviewError::Start {
                    browser: browser.to_path_buf(),
                    source: e,
                });
            }
        }
    };
    if shot.exists() {
        return Ok(());
    }
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    let tail: String = stderr.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
    Err(PreviewError::NoScreenshot {
        browser: browser.to_path_buf(),
        shot: shot.to_path_buf(),
        status,
        stderr: tail,
    })
}

/// The vendored axe-core script (Deque Systems, MPL-2.0: see `vendor/LICENSE-axe-core`;
/// refresh with `scripts/refresh-axe.sh`). Embedded, so checks never need the network.
pub const AXE_SCRIPT: &str = include_str!("../vendor/axe.min.js");

/// The vendored axe-core version, e.g. `axe-core 4.14.1`.
pub fn axe_version() -> &'static str {
    include_str!("../vendor/VERSION")
        .lines()
        .next()
        .unwrap_or("axe-core")
}

/// Runs axe-core inside `html` rendered by headless Chromium and returns axe's `violations`
/// array as JSON (read it with `keel_checks::axe::parse_results`). `axe_options` is the JSON
/// options object for `axe.run` (see `keel_checks::axe::run_options`).
///
/// How: the page is written to a private temporary directory with two `<script>` elements
/// inserted after its doctype (axe itself and a runner that waits for the `load` event), and
/// Chromium's `--dump-dom` prints the DOM once virtual time has run out; the runner has put
/// the results, percent-encoded, into an element of its own. No DevTools connection or driver
/// is needed, and the network is closed to the page (remote images, fonts and trackers are
/// not fetched), so results depend only on the HTML.
pub fn accessibility(
    browser: &Path,
    html: &[u8],
    axe_options: &str,
    width: u32,
    limit: Duration,
) -> Result<String, PreviewError> {
    let dir = private_dir("keel-axe")?;
    let result = accessibility_in(&dir, browser, html, axe_options, width, limit);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn accessibility_in(
    dir: &Path,
    browser: &Path,
    html: &[u8],
    axe_options: &str,
    width: u32,
    limit: Duration,
) -> Result<String, PreviewError> {
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|source| PreviewError::Path {
            path: path.clone(),
            source,
        })?;
        Ok::<PathBuf, PreviewError>(path)
    };
    let axe = write("axe.min.js", AXE_SCRIPT.as_bytes())?;
    let runner = write("run.js", runner_script(axe_options).as_bytes())?;
    let tags = format!(
        "<script src=\"file://{}\" charset=\"utf-8\"></script><script src=\"file://{}\" charset=\"utf-8\"></script>",
        axe.display(),
        runner.display()
    );
    let at = injection_point(html);
    let mut page = Vec::with_capacity(html.len() + tags.len());
    page.extend_from_slice(html.get(..at).unwrap_or_default());
    page.extend_from_slice(tags.as_bytes());
    page.extend_from_slice(html.get(at..).unwrap_or_default());
    let page = write("page.html", &page)?;
    let args = vec![
        "--headless".to_owned(),
        "--disable-gpu".to_owned(),
        "--no-sandbox".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-extensions".to_owned(),
        "--mute-audio".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        // Nothing leaves the machine: a check must not fetch tracking pixels or wait on hosts.
        "--host-resolver-rules=MAP * ~NOTFOUND".to_owned(),
        format!("--window-size={width},900"),
        // Lets timers and promises (axe is asynchronous) run before the DOM is printed.
        "--virtual-time-budget=30000".to_owned(),
        format!("--user-data-dir={}", dir.join("profile").display()),
        "--dump-dom".to_owned(),
        format!("file://{}", page.display()),
    ];
    let dom = run_capturing(browser, &args, limit, &page)?;
    let dom = String::from_utf8_lossy(&dom);
    let Some(start) = dom.find("<keel-axe-results") else {
        return Err(PreviewError::NoResults(
            "the page never finished loading, or its scripts were blocked".into(),
        ));
    };
    let rest = &dom[start..];
    let open_end = rest.find('>').map_or(rest.len(), |i| i + 1);
    let body = &rest[open_end..];
    let body = &body[..body.find("</keel-axe-results>").unwrap_or(body.len())];
    let text = percent_decode(body.trim());
    if rest[..open_end].contains("data-error") {
        return Err(PreviewError::NoResults(text));
    }
    Ok(text)
}

/// The runner: waits for the page to load, runs axe and leaves the results in the DOM.
fn runner_script(axe_options: &str) -> String {
    format!(
        r#"(function () {{
  function report(kind, text) {{
    var out = document.createElement('keel-axe-results');
    out.setAttribute(kind, '');
    out.textContent = encodeURIComponent(text);
    document.documentElement.appendChild(out);
  }}
  window.addEventListener('load', function () {{
    try {{
      axe.run(document, {axe_options}).then(
        function (r) {{ report('data-ok', JSON.stringify(r.violations)); }},
        function (e) {{ report('data-error', String(e)); }});
    }} catch (e) {{ report('data-error', String(e)); }}
  }});
}})();
"#
    )
}

/// Where the scripts go: after the doctype (so the page keeps its rendering mode) or a byte
/// order mark, else at the start. Inserting at the end would not work for HTML that ends
/// inside an unterminated comment or `<textarea>`.
fn injection_point(html: &[u8]) -> usize {
    let head = html.get(..html.len().min(1024)).unwrap_or_default();
    let lower: Vec<u8> = head.to_ascii_lowercase();
    if let Some(d) = lower.windows(9).position(|w| w == b"<!doctype")
        && let Some(end) = lower
            .get(d..)
            .and_then(|r| r.iter().position(|&b| b == b'>'))
    {
        return d + end + 1;
    }
    if html.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    }
}

/// Decodes `%XX` escapes (what `encodeURIComponent` produces).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A new empty directory under the system temporary directory, private to this call.
fn private_dir(prefix: &str) -> Result<PathBuf, PreviewError> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| PreviewError::Path {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

/// Runs the browser, collecting its standard output, and stops it after `limit`.
fn run_capturing(
    browser: &Path,
    args: &[String],
    limit: Duration,
    page: &Path,
) -> Result<Vec<u8>, PreviewError> {
    let mut child = Command::new(browser)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| PreviewError::Start {
            browser: browser.to_path_buf(),
            source,
        })?;
    // The DOM can be larger than a pipe buffer: read it while waiting.
    let reader = child.stdout.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = std::io::Read::read_to_end(&mut pipe, &mut out);
            out
        })
    });
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PreviewError::Timeout {
                    browser: browser.to_path_buf(),
                    shot: page.to_path_buf(),
                    seconds: limit.as_secs(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                return Err(PreviewError::Start {
                    browser: browser.to_path_buf(),
                    source: e,
                });
            }
        }
    }
    Ok(reader.and_then(|r| r.join().ok()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn injects_after_the_doctype() {
        assert_eq!(injection_point(b"<!DOCTYPE html>\n<html>"), 15);
        assert_eq!(injection_point(b"<html>"), 0);
        assert_eq!(injection_point(b"\xEF\xBB\xBF<p>"), 3);
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(
            percent_decode("%5B%7B%22a%22%3A%22%C3%A9%22%7D%5D"),
            "[{\"a\":\"é\"}]"
        );
        assert_eq!(percent_decode("100%"), "100%");
    }

    use super::*;

    #[test]
    fn standard_set_covers_widths_images_and_dark() {
        let set = Preview::standard_set();
        assert_eq!(set.len(), 6);
        assert!(set.iter().any(|p| p.width == 375 && p.dark));
        assert!(set.iter().any(|p| p.width == 1280 && p.images_off));
    }

    #[test]
    fn builds_chromium_arguments() {
        let p = Preview {
            name: "mobile-dark".into(),
            width: 375,
            height: 812,
            images_off: true,
            dark: true,
        };
        let args = p.chromium_args("file:///t/e.html", Path::new("/o/e.png"));
        assert!(args.contains(&"--window-size=375,812".to_owned()));
        assert!(args.contains(&"--screenshot=/o/e.png".to_owned()));
        assert!(args.contains(&"--blink-settings=imagesEnabled=false".to_owned()));
        assert!(args.contains(&"--force-dark-mode".to_owned()));
        assert_eq!(args.last().map(String::as_str), Some("file:///t/e.html"));
    }

    #[test]
    fn reports_a_missing_browser() {
        let err = render(
            Path::new("/nonexistent/chromium"),
            "file:///x.html",
            Path::new("/tmp/keel-preview-none.png"),
            &Preview::standard_set()[0],
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(err, PreviewError::Start { .. }));
    }
}
