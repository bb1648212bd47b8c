//! Demo data for attribution: two months of Halyard Outdoor's website traffic across channels
//! (utm-tagged campaigns, search and social referrers, click ids, direct visits), identifies and
//! aliases, form fills and orders; the matching Google Ads and Meta Ads cost exports and CRM
//! opportunities (each with a few bad rows, so the quarantine has something to show); then one
//! recompute, so the attribution dashboard has results from the start. The conversion events are
//! the server's defaults (form fills and orders, plus won opportunities); the dashboard and the
//! seed's output name them.

use keel_attribution::imports::{self, AdLayout};
use keel_store::{Actor, Store};

/// Deterministic numbers, so the demo is the same on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next(100) < percent
    }
}

/// (utm source, medium, campaign, referrer, click id) of each kind of visit.
const ENTRIES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "google",
        "cpc",
        "winter-sale",
        "https://www.google.com/",
        "gclid",
    ),
    (
        "google",
        "cpc",
        "brand-search",
        "https://www.google.com/",
        "gclid",
    ),
    (
        "facebook",
        "paid-social",
        "gift-guide",
        "https://m.facebook.com/",
        "fbclid",
    ),
    (
        "instagram",
        "paid-social",
        "trail-stories",
        "https://l.instagram.com/",
        "fbclid",
    ),
    ("newsletter", "email", "november-digest", "", ""),
    ("", "", "", "https://www.google.com/", ""),
    ("", "", "", "https://www.bing.com/", ""),
    ("", "", "", "https://www.reddit.com/r/hiking", ""),
    ("", "", "", "https://outdoorgearlab.example/reviews", ""),
    ("", "", "", "", ""),
];

/// Relative weights of the entries above as first touches and as later touches.
const FIRST: &[u64] = &[14, 8, 12, 8, 4, 16, 4, 6, 6, 22];
const LATER: &[u64] = &[10, 10, 6, 4, 20, 10, 2, 4, 4, 30];

fn pick(rng: &mut Lcg, weights: &[u64]) -> usize {
    let total: u64 = weights.iter().sum();
    let mut x = rng.next(total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    0
}

fn ids(m: &mut serde_json::Value, identified: bool, user: &str, anon: &str) {
    if identified {
        m["userId"] = serde_json::json!(user);
    }
    m["anonymousId"] = serde_json::json!(anon);
}

/// Seeds events into the `website` source, imports costs and opportunities, and recomputes.
pub async fn seed(store: &Store) -> anyhow::Result<()> {
    use keel_store::events;
    let actor = Actor::System("demo");
    let source = match events::source_by_name(store, "website").await? {
        Some(s) => s,
        None => events::create_source(store, &actor, "website").await?.0,
    };
    let mut rng = Lcg(8);
    let today = chrono::Utc::now().date_naive();
    let start = today - chrono::Duration::days(60);
    let mut messages: Vec<serde_json::Value> = Vec::new();
    let mut opportunities =
        String::from("Opportunity ID,Account,Contact Email,Amount,Stage,Close Date\n");
    let accounts = [
        "Alpine Co-op",
        "Fjord Rentals",
        "Summit Schools",
        "Cascade Guides",
        "Harbor Camps",
    ];
    let mut opp = 0;
    for visitor in 0..420u64 {
        let anon = format!("dv-{visitor}");
        let user = format!("customer-{visitor}");
        let email = format!(
            "buyer{visitor}@{}.example",
            ["alpine", "fjord", "summit", "cascade", "harbor"][visitor as usize % 5]
        );
        let sessions = 1 + rng.next(5);
        let mut day = rng.next(55);
        let identifies = rng.chance(45);
        let mut identified = false;
        for s in 0..sessions {
            let at = (start + chrono::Duration::days(day as i64))
                .and_hms_opt(8 + rng.next(12) as u32, rng.next(60) as u32, 0)
                .map(|t| t.and_utc())
                .unwrap_or_else(chrono::Utc::now);
            let entry = ENTRIES[pick(&mut rng, if s == 0 { FIRST } else { LATER })];
            let (src, medium, campaign, referrer, click) = entry;
            let mut url = format!(
                "https://halyard.example/{}",
                ["", "products/storm-shell", "blog/layering-guide", "pricing"]
                    [rng.next(4) as usize]
            );
            let mut params = Vec::new();
            if !src.is_empty() {
                params.push(format!(
                    "utm_source={src}&utm_medium={medium}&utm_campaign={campaign}"
                ));
            }
            if !click.is_empty() {
                params.push(format!("{click}=demo{visitor}x{s}"));
            }
            if !params.is_empty() {
                url = format!("{url}?{}", params.join("&"));
            }
            let pages = 1 + rng.next(4);
            for p in 0..pages {
                let t = at + chrono::Duration::minutes(3 * p as i64);
                let mut m = serde_json::json!({
                    "type": "page", "messageId": format!("da-{visitor}-{s}-{p}"), "timestamp": t.to_rfc3339(),
                    "context": {"page": {"url": url, "referrer": if p == 0 { referrer } else { "https://halyard.example/" }}, "userAgent": "Mozilla/5.0"}
                });
                ids(&mut m, identified, &user, &anon);
                messages.push(m);
            }
            let t = at + chrono::Duration::minutes(3 * pages as i64 + 1);
            if identifies && !identified && (s + 1 == sessions || rng.chance(40)) {
                identified = true;
                let mut m = serde_json::json!({"type": "identify", "messageId": format!("da-{visitor}-{s}-id"), "userId": user, "anonymousId": anon, "timestamp": t.to_rfc3339(), "traits": {"email": email}});
                if rng.chance(20) {
                    // Signed in on another device: the alias joins that device's earlier visits.
                    m = serde_json::json!({"type": "alias", "messageId": format!("da-{visitor}-{s}-al"), "userId": user, "previousId": anon, "timestamp": t.to_rfc3339()});
                    messages.push(serde_json::json!({"type": "identify", "messageId": format!("da-{visitor}-{s}-id"), "userId": user, "timestamp": t.to_rfc3339(), "traits": {"email": email}}));
                }
                messages.push(m);
                let mut f = serde_json::json!({"type": "track", "event": "Form Submitted", "messageId": format!("da-{visitor}-{s}-form"), "timestamp": (t + chrono::Duration::minutes(1)).to_rfc3339(), "properties": {"form": "catalogue-request"}});
                ids(&mut f, identified, &user, &anon);
                f["userId"] = serde_json::json!(user);
                messages.push(f);
                if rng.chance(35) {
                    opp += 1;
                    let won = rng.chance(55);
                    let close = (t + chrono::Duration::days(3 + rng.next(10) as i64))
                        .date_naive()
                        .min(today);
                    opportunities.push_str(&format!(
                        "OPP-{opp:04},{},{email},{}.00,{},{}\n",
                        accounts[rng.next(accounts.len() as u64) as usize],
                        800 + rng.next(40) * 100,
                        if won {
                            "Closed Won"
                        } else {
                            ["Prospecting", "Negotiation", "Closed Lost"][rng.next(3) as usize]
                        },
                        if won || rng.chance(50) {
                            close.to_string()
                        } else {
                            String::new()
                        },
                    ));
                }
            }
            if rng.chance(if identified { 30 } else { 6 }) {
                let revenue = 40 + rng.next(260);
                let mut m = serde_json::json!({"type": "track", "event": "Order Completed", "messageId": format!("da-{visitor}-{s}-order"), "timestamp": (t + chrono::Duration::minutes(2)).to_rfc3339(), "properties": {"revenue": revenue, "currency": "USD"}});
                ids(&mut m, identified, &user, &anon);
                messages.push(m);
            }
            day = (day + 1 + rng.next(6)).min(59);
        }
    }
    let now = chrono::Utc::now();
    let accepted: Vec<keel_events::Event> = messages
        .iter()
        .filter_map(|m| keel_events::parse_message(m, None, None, now).ok())
        .collect();
    events::ingest(store, source.id, &accepted, &[]).await?;

    // Cost exports as the platforms write them, including a title block, totals and bad rows.
    let mut google = String::from(
        "Campaign report\n\"Last 60 days\"\nDay,Campaign,Impr.,Clicks,Cost,Currency code\n",
    );
    let mut meta = String::from(
        "Reporting starts,Reporting ends,Campaign name,Impressions,Link clicks,Amount spent (USD)\n",
    );
    for d in 0..60 {
        let day = start + chrono::Duration::days(d);
        for (campaign, base) in [("winter-sale", 90u64), ("brand-search", 25)] {
            let impressions = 1500 + rng.next(2500);
            let clicks = impressions / 25 + rng.next(20);
            google.push_str(&format!(
                "{day},{campaign},{impressions},{clicks},{}.{:02},USD\n",
                base + rng.next(base),
                rng.next(100)
            ));
        }
        for (campaign, base) in [("gift-guide", 60u64), ("trail-stories", 35)] {
            let impressions = 4000 + rng.next(6000);
            let clicks = impressions / 60 + rng.next(30);
            meta.push_str(&format!(
                "{day},{day},{campaign},{impressions},{clicks},{}.{:02}\n",
                base + rng.next(base),
                rng.next(100)
            ));
        }
    }
    google.push_str(&format!("{today},winter-sale,,12,-4.00,USD\n2026-02-30,brand-search,100,5,3.10,USD\nTotal: Account,,,,,\n"));
    meta.push_str(&format!("{today},{today},,900,14,12.5\n"));
    opportunities.push_str("OPP-9001,,nobody@,abc,Closed Won,\n");
    for (text, layout, file) in [
        (&google, AdLayout::GoogleAds, "google-ads-last-60-days.csv"),
        (&meta, AdLayout::MetaAds, "meta-ads-last-60-days.csv"),
    ] {
        let parsed = imports::parse_ad_costs(text, layout, "USD")
            .map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
        keel_store::attribution::import_ad_costs(store, &actor, layout, file, &parsed).await?;
    }
    let parsed = imports::parse_opportunities(&opportunities, "USD")
        .map_err(|e| anyhow::anyhow!("crm: {e}"))?;
    keel_store::attribution::import_opportunities(store, &actor, "crm-opportunities.csv", &parsed)
        .await?;
    let summary = keel_web::api::attribution::recompute(store)
        .await
        .map_err(|e| anyhow::anyhow!("attribution: {e}"))?;
    let events: Vec<&str> = summary["conversion_events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e.as_str()).collect())
        .unwrap_or_default();
    println!(
        "Attribution: {} conversions of {} people; conversion events: {}.",
        summary["conversions"],
        summary["people"],
        events.join(", ")
    );
    Ok(())
}
