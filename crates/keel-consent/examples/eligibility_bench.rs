//! Eligibility benchmark driver (run through `bench/eligibility/run.sh`).
//!
//! Generates a seeded audience, checks it against a marketing campaign several times and prints
//! the best and median wall time, contacts per second and the reason counts as JSON. With
//! `--dump DIR` it also writes the columns and the per-jurisdiction / per-time-zone facts as raw
//! little-endian files so a peer implementation can evaluate exactly the same data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, NaiveTime, Utc};
use keel_consent::eligibility::{
    Audience, Campaign, CapWindow, Channel, ChannelSet, FrequencyCap, QuietHours, Reason,
    SendPolicy, UNKNOWN, check_audience,
};
use keel_consent::spec::{JurisdictionSpec, PurposeCategory, Regime};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

/// splitmix64: a tiny seeded generator, enough for benchmark data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const JURISDICTIONS: [(&str, Regime); 10] = [
    ("eu", Regime::Gdpr),
    ("uk", Regime::UkGdpr),
    ("california", Regime::Ccpa),
    ("virginia", Regime::UsState),
    ("colorado", Regime::UsState),
    ("connecticut", Regime::UsState),
    ("utah", Regime::UsState),
    ("us-other", Regime::None),
    ("canada", Regime::None),
    ("brazil", Regime::Gdpr),
];

fn policy() -> SendPolicy {
    SendPolicy {
        jurisdictions: JURISDICTIONS
            .iter()
            .map(|(name, regime)| {
                let spec = JurisdictionSpec {
                    title: name.to_string(),
                    regime: *regime,
                    regions: vec!["XX".into()],
                    consent_model: None,
                    honour_gpc: None,
                };
                (name.to_string(), spec)
            })
            .collect(),
        quiet_hours: Some(QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            channels: vec![],
        }),
        frequency_cap: Some(FrequencyCap {
            max_sends: 12,
            window: CapWindow::Month,
        }),
        default_time_zone: None,
    }
}

fn generate(n: usize, seed: u64) -> Audience {
    let mut rng = Rng(seed);
    let zones: Vec<chrono_tz::Tz> = chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .step_by(12)
        .take(48)
        .collect();
    let mut a = Audience {
        jurisdictions: JURISDICTIONS.iter().map(|(n, _)| n.to_string()).collect(),
        time_zones: zones.clone(),
        ..Audience::default()
    };
    let mut brand = Vec::new();
    for i in 0..n {
        a.jurisdiction.push(if rng.chance(2) {
            UNKNOWN
        } else {
            rng.below(JURISDICTIONS.len() as u64) as u16
        });
        a.time_zone.push(if rng.chance(3) {
            UNKNOWN
        } else {
            rng.below(zones.len() as u64) as u16
        });
        a.consent.push(match rng.below(100) {
            0..60 => 1,
            60..75 => 0,
            75..90 => 2,
            _ => 3,
        });
        a.flags
            .push(u8::from(rng.chance(5)) | (u8::from(rng.chance(1)) << 1));
        a.topics_opted_out.push(if rng.chance(20) {
            rng.next() & rng.next() & rng.next()
        } else {
            0
        });
        a.channels_opted_out.push(if rng.chance(5) {
            (rng.next() & 0x3f) as u8
        } else {
            0
        });
        let mut reachable = ChannelSet::default().0;
        if rng.chance(95) {
            reachable |= Channel::Email.bit();
        }
        if rng.chance(40) {
            reachable |= Channel::Sms.bit();
        }
        a.channels_reachable.push(reachable);
        a.suppressed_channels.push(if rng.chance(2) {
            Channel::Email.bit()
        } else {
            0
        });
        if rng.chance(1) {
            brand.push(i as u32);
        }
        a.max_sends_per_week.push(if rng.chance(20) {
            1 + rng.below(3) as u16
        } else {
            0
        });
        let s7 = rng.below(6) as u16;
        a.sends_7d.push(s7);
        a.sends_30d.push(s7 + rng.below(15) as u16);
    }
    a.brand_suppressions.insert("acme".into(), brand);
    a
}

fn write_column<T: Copy>(dir: &str, name: &str, values: &[T], to_bytes: impl Fn(T) -> Vec<u8>) {
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(format!("{dir}/{name}.bin")).unwrap());
    for v in values {
        f.write_all(&to_bytes(*v)).unwrap();
    }
}

fn main() {
    let mut contacts = 10_000_000usize;
    let mut seed = 42u64;
    let mut runs = 5usize;
    let mut dump: Option<String> = None;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--contacts" => contacts = value.parse().expect("--contacts N"),
            "--seed" => seed = value.parse().expect("--seed N"),
            "--runs" => runs = value.parse().expect("--runs N"),
            "--dump" => dump = Some(value),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    let started = Instant::now();
    let audience = generate(contacts, seed);
    let generated = started.elapsed();
    let campaign = Campaign {
        category: PurposeCategory::MarketingCommunications,
        channel: Channel::Email,
        topic: Some(5),
        brand: Some("acme".into()),
        regions: None,
    };
    let policy = policy();
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-06-01T19:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut times = Vec::new();
    let mut outcome = None;
    for _ in 0..runs {
        let t = Instant::now();
        let result = check_audience(&audience, &campaign, &policy, now).unwrap();
        times.push(t.elapsed().as_secs_f64());
        outcome = Some(result);
    }
    let outcome = outcome.unwrap();
    times.sort_by(f64::total_cmp);
    let best = times[0];
    let median = times[times.len() / 2];
    let by_reason: BTreeMap<&str, u64> = outcome
        .by_reason
        .iter()
        .map(|(r, c)| (r.code(), *c))
        .collect();
    if let Some(dir) = &dump {
        std::fs::create_dir_all(dir).unwrap();
        write_column(dir, "jurisdiction", &audience.jurisdiction, |v| {
            v.to_le_bytes().to_vec()
        });
        write_column(dir, "time_zone", &audience.time_zone, |v| {
            v.to_le_bytes().to_vec()
        });
        write_column(dir, "consent", &audience.consent, |v| vec![v]);
        write_column(dir, "flags", &audience.flags, |v| vec![v]);
        write_column(dir, "topics_opted_out", &audience.topics_opted_out, |v| {
            v.to_le_bytes().to_vec()
        });
        write_column(
            dir,
            "channels_opted_out",
            &audience.channels_opted_out,
            |v| vec![v],
        );
        write_column(
            dir,
            "channels_reachable",
            &audience.channels_reachable,
            |v| vec![v],
        );
        write_column(
            dir,
            "suppressed_channels",
            &audience.suppressed_channels,
            |v| vec![v],
        );
        write_column(
            dir,
            "brand_acme",
            &audience.brand_suppressions["acme"],
            |v| v.to_le_bytes().to_vec(),
        );
        write_column(
            dir,
            "max_sends_per_week",
            &audience.max_sends_per_week,
            |v| v.to_le_bytes().to_vec(),
        );
        write_column(dir, "sends_7d", &audience.sends_7d, |v| {
            v.to_le_bytes().to_vec()
        });
        write_column(dir, "sends_30d", &audience.sends_30d, |v| {
            v.to_le_bytes().to_vec()
        });
        // The same per-jurisdiction and per-zone facts the engine derives, for the peer.
        let jurisdictions: Vec<serde_json::Value> = JURISDICTIONS
            .iter()
            .map(|(name, _)| {
                let spec = &policy.jurisdictions[*name];
                serde_json::json!({
                    "name": name,
                    "opt_in": spec.model_for(campaign.category) == keel_consent::spec::ConsentModel::OptIn,
                    "gpc_opts_out": spec.gpc_opts_out(campaign.category),
                })
            })
            .collect();
        let zones: Vec<String> = audience
            .time_zones
            .iter()
            .map(|z| z.name().to_string())
            .collect();
        let meta = serde_json::json!({
            "contacts": contacts,
            "now": now.to_rfc3339(),
            "jurisdictions": jurisdictions,
            "time_zones": zones,
            "quiet_start": "21:00", "quiet_end": "08:00",
            "topic": 5, "channel_bit": Channel::Email.bit(), "policy_cap_month": 12,
            "reasons": Reason::ALL.iter().map(|r| r.code()).collect::<Vec<_>>(),
        });
        std::fs::write(
            format!("{dir}/meta.json"),
            serde_json::to_string_pretty(&meta).unwrap(),
        )
        .unwrap();
    }
    let report = serde_json::json!({
        "contacts": contacts,
        "threads": rayon::current_num_threads(),
        "generate_seconds": generated.as_secs_f64(),
        "best_seconds": best,
        "median_seconds": median,
        "contacts_per_second": (contacts as f64 / best).round(),
        "eligible": outcome.eligible,
        "by_reason": by_reason,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
