//! Rendered previews of an email or page in headless Chromium: mobile and desktop widths, with
//! images blocked, and with the dark colour scheme. An adapter crate: it runs the browser as a
//! child process and writes PNG files; the checks themselves live in `keel-checks`.
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

#[cfg(test)]
mod tests {
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
