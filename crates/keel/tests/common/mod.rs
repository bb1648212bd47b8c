//! Shared helpers for end-to-end tests that run the real `keel` binary.

#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::zombie_processes
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `keel serve`.
pub struct RunningServer {
    pub child: Child,
    pub base: String,
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn keel() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keel"))
}

/// Starts `keel serve` on a random port with the given database and extra arguments, and waits
/// until it prints its address.
pub fn serve(db: &Path, extra: &[&str]) -> RunningServer {
    serve_with_env(db, extra, &[])
}

/// Like [`serve`], with extra environment variables for the server process.
pub fn serve_with_env(db: &Path, extra: &[&str], env: &[(&str, &str)]) -> RunningServer {
    let mut command = keel();
    command.envs(env.iter().copied());
    command.args(["serve", "--db", db.to_str().unwrap()]);
    if !extra.contains(&"--addr") {
        command.args(["--addr", "127.0.0.1:0"]);
    }
    let mut child = command
        .args(extra)
        .env("KEEL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start keel serve");
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 || Instant::now() > deadline {
            panic!("keel serve exited or stalled before listening");
        }
        if let Some(rest) = line.split("listening on ").nth(1) {
            let base = rest.split_whitespace().next().unwrap().to_string();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || {
                let mut sink = String::new();
                while reader.read_line(&mut sink).unwrap_or(0) > 0 {
                    sink.clear();
                }
            });
            return RunningServer { child, base };
        }
    }
}

/// Runs the binary to completion, returning (exit code, stdout, stderr).
pub fn run(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    use std::io::Write;
    let mut child = keel()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
