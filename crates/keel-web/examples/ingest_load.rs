//! Load generator for the tracking API: N concurrent clients post Segment batches with unique
//! message ids for a fixed time, then it prints sustained events/second and request latency
//! percentiles. Used by `bench/ingest/run.sh`.
//!
//! Usage: `ingest_load BASE_URL WRITE_KEY [clients=16] [batch=100] [seconds=15]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: ingest_load BASE_URL WRITE_KEY [clients] [batch] [seconds]");
        std::process::exit(2);
    }
    let base = args[1].clone();
    let key = args[2].clone();
    let clients: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(16);
    let batch: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(100);
    let seconds: u64 = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(15);
    let client = reqwest::Client::new();
    let sent = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base, key, sent, failed) = (
            client.clone(),
            base.clone(),
            key.clone(),
            sent.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let messages: Vec<serde_json::Value> = (0..batch)
                    .map(|i| {
                        n += 1;
                        serde_json::json!({
                            "type": if i % 5 == 0 { "page" } else { "track" },
                            "event": "Product Viewed", "name": "/products/storm-shell",
                            "anonymousId": format!("anon-{c}-{}", n % 500),
                            "messageId": format!("bench-{c}-{n}"),
                            "timestamp": "2026-11-22T09:00:00Z", "sentAt": "2026-11-22T09:00:01Z",
                            "properties": {"sku": "SS-42", "price": 249.0, "currency": "EUR"},
                            "context": {"campaign": {"source": "google", "medium": "cpc", "name": "winter-sale"}, "userAgent": "bench"}
                        })
                    })
                    .collect();
                let t = Instant::now();
                let r = client.post(format!("{base}/v1/batch")).basic_auth(&key, Some("")).json(&serde_json::json!({"batch": messages})).send().await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        latencies.push(t.elapsed());
                        sent.fetch_add(batch as u64, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    };
    let events = sent.load(Ordering::Relaxed);
    println!(
        "clients={clients} batch={batch} seconds={elapsed:.1} events={events} events_per_second={:.0} requests={} failed={} p50_ms={:.1} p99_ms={:.1}",
        events as f64 / elapsed,
        all.len(),
        failed.load(Ordering::Relaxed),
        pct(0.50),
        pct(0.99)
    );
}
