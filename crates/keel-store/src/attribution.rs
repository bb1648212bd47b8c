//! Attribution data: imported ad cost and delivery, imported CRM opportunities, the quarantine
//! of refused import rows, and the stored results of the last attribution run.
//!
//! Imports are idempotent: cost rows are keyed by platform, day and campaign, opportunities by
//! their CRM id, and quarantined rows by their raw text, so importing the same file twice
//! changes nothing the second time (the summary says so). Each import is one transaction with
//! one audit entry carrying its summary.

use crate::audit::{self, state};
use crate::{Actor, Result, Store, now, sql};
use chrono::{DateTime, NaiveDate, Utc};
use keel_attribution::imports::{AdCost, AdLayout, Opportunity, Parsed, Quarantined};
use serde::Serialize;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// What was imported: `google-ads`, `meta-ads` or `opportunities`.
    pub kind: String,
    /// Valid rows in the file.
    pub accepted: u64,
    /// Rows new to Keel.
    pub inserted: u64,
    /// Rows that replaced a different stored version.
    pub updated: u64,
    /// Rows already stored exactly so.
    pub unchanged: u64,
    /// Rows refused and kept in the quarantine.
    pub quarantined: u64,
    /// Title lines and total rows of the export, not data.
    pub skipped: u64,
}

/// A stored day of campaign spend.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct StoredAdCost {
    /// `google-ads` or `meta-ads`.
    pub platform: String,
    /// Day, `YYYY-MM-DD`.
    pub day: String,
    /// Campaign name.
    pub campaign: String,
    /// Impressions.
    pub impressions: i64,
    /// Clicks.
    pub clicks: i64,
    /// Spend in minor units of `currency`.
    pub cost_minor: i64,
    /// ISO currency code.
    pub currency: String,
}

/// A stored CRM opportunity.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct StoredOpportunity {
    /// The CRM's id.
    pub opportunity_id: String,
    /// Account name.
    pub account: String,
    /// Contact e-mail (lower case), when known.
    pub contact_email: Option<String>,
    /// Amount in minor units of `currency`.
    pub amount_minor: i64,
    /// ISO currency code.
    pub currency: String,
    /// Stage as in the CRM.
    pub stage: String,
    /// 1 when the stage is won.
    pub won: i64,
    /// Close date, `YYYY-MM-DD`.
    pub close_date: Option<String>,
}

/// A refused import row as stored.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct QuarantinedRow {
    /// Id.
    pub id: i64,
    /// `google-ads`, `meta-ads` or `opportunities`.
    pub kind: String,
    /// The file it came from.
    pub file: String,
    /// 1-based line in that file.
    pub row_number: i64,
    /// The row as written.
    pub raw: String,
    /// Every reason (JSON array of strings).
    pub reasons: sqlx::types::Json<Vec<String>>,
    /// When it was (last) refused.
    pub created_at: DateTime<Utc>,
}

async fn quarantine_rows(
    tx: &mut crate::Tx,
    kind: &str,
    file: &str,
    rows: &[Quarantined],
) -> Result<()> {
    for q in rows {
        sql("INSERT INTO import_quarantine (kind, file, row_number, raw, reasons, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (kind, raw) DO UPDATE SET file = excluded.file, row_number = excluded.row_number, reasons = excluded.reasons")
            .bind(kind)
            .bind(file)
            .bind(q.row as i64)
            .bind(&q.raw)
            .bind(serde_json::json!(q.reasons))
            .bind(now())
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Stores an ad platform export's accepted rows (upserting by platform, day and campaign) and
/// its refused rows, in one audited transaction.
pub async fn import_ad_costs(
    store: &Store,
    actor: &Actor,
    layout: AdLayout,
    file: &str,
    parsed: &Parsed<AdCost>,
) -> Result<ImportSummary> {
    let platform = layout.as_str();
    let mut summary = ImportSummary {
        kind: platform.to_owned(),
        accepted: parsed.accepted.len() as u64,
        quarantined: parsed.quarantined.len() as u64,
        skipped: parsed.skipped,
        ..ImportSummary::default()
    };
    let mut tx = store.begin().await?;
    for c in &parsed.accepted {
        let row = StoredAdCost {
            platform: platform.to_owned(),
            day: day(c.day),
            campaign: c.campaign.clone(),
            impressions: c.impressions,
            clicks: c.clicks,
            cost_minor: c.cost.minor,
            currency: c.cost.currency.clone(),
        };
        let existing: Option<StoredAdCost> = sql("SELECT platform, day, campaign, impressions, clicks, cost_minor, currency FROM ad_costs WHERE platform = $1 AND day = $2 AND campaign = $3")
            .bind(platform)
            .bind(&row.day)
            .bind(&row.campaign)
            .fetch_optional(&mut tx)
            .await?;
        match existing {
            Some(e) if e == row => summary.unchanged += 1,
            Some(_) => {
                sql("UPDATE ad_costs SET impressions = $4, clicks = $5, cost_minor = $6, currency = $7, imported_at = $8 WHERE platform = $1 AND day = $2 AND campaign = $3")
                    .bind(platform).bind(&row.day).bind(&row.campaign)
                    .bind(row.impressions).bind(row.clicks).bind(row.cost_minor).bind(&row.currency).bind(now())
                    .execute(&mut tx).await?;
                summary.updated += 1;
            }
            None => {
                sql("INSERT INTO ad_costs (platform, day, campaign, impressions, clicks, cost_minor, currency, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(platform).bind(&row.day).bind(&row.campaign)
                    .bind(row.impressions).bind(row.clicks).bind(row.cost_minor).bind(&row.currency).bind(now())
                    .execute(&mut tx).await?;
                summary.inserted += 1;
            }
        }
    }
    quarantine_rows(&mut tx, platform, file, &parsed.quarantined).await?;
    audit::record(
        &mut tx,
        actor,
        "import",
        "ad_costs",
        file,
        None,
        Some(state(&summary)?),
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}

/// Stores a CRM export's accepted opportunities (upserting by id) and its refused rows, in one
/// audited transaction.
pub async fn import_opportunities(
    store: &Store,
    actor: &Actor,
    file: &str,
    parsed: &Parsed<Opportunity>,
) -> Result<ImportSummary> {
    let mut summary = ImportSummary {
        kind: "opportunities".to_owned(),
        accepted: parsed.accepted.len() as u64,
        quarantined: parsed.quarantined.len() as u64,
        skipped: parsed.skipped,
        ..ImportSummary::default()
    };
    let mut tx = store.begin().await?;
    for o in &parsed.accepted {
        let row = StoredOpportunity {
            opportunity_id: o.id.clone(),
            account: o.account.clone(),
            contact_email: o.contact_email.clone(),
            amount_minor: o.amount.minor,
            currency: o.amount.currency.clone(),
            stage: o.stage.clone(),
            won: i64::from(o.won),
            close_date: o.close_date.map(day),
        };
        let existing: Option<StoredOpportunity> = sql("SELECT opportunity_id, account, contact_email, amount_minor, currency, stage, won, close_date FROM opportunities WHERE opportunity_id = $1")
            .bind(&row.opportunity_id)
            .fetch_optional(&mut tx)
            .await?;
        let q = match existing {
            Some(e) if e == row => {
                summary.unchanged += 1;
                continue;
            }
            Some(_) => {
                summary.updated += 1;
                "UPDATE opportunities SET account = $2, contact_email = $3, amount_minor = $4, currency = $5, stage = $6, won = $7, close_date = $8, imported_at = $9 WHERE opportunity_id = $1"
            }
            None => {
                summary.inserted += 1;
                "INSERT INTO opportunities (opportunity_id, account, contact_email, amount_minor, currency, stage, won, close_date, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            }
        };
        sql(q)
            .bind(&row.opportunity_id)
            .bind(&row.account)
            .bind(row.contact_email.clone())
            .bind(row.amount_minor)
            .bind(&row.currency)
            .bind(&row.stage)
            .bind(row.won)
            .bind(row.close_date.clone())
            .bind(now())
            .execute(&mut tx)
            .await?;
    }
    quarantine_rows(&mut tx, "opportunities", file, &parsed.quarantined).await?;
    audit::record(
        &mut tx,
        actor,
        "import",
        "opportunities",
        file,
        None,
        Some(state(&summary)?),
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}

/// Every stored cost row, by day and campaign.
pub async fn ad_costs(store: &Store) -> Result<Vec<StoredAdCost>> {
    sql("SELECT platform, day, campaign, impressions, clicks, cost_minor, currency FROM ad_costs ORDER BY day, platform, campaign")
        .fetch_all(store)
        .await
}

/// Every stored opportunity.
pub async fn opportunities(store: &Store) -> Result<Vec<StoredOpportunity>> {
    sql("SELECT opportunity_id, account, contact_email, amount_minor, currency, stage, won, close_date FROM opportunities ORDER BY opportunity_id")
        .fetch_all(store)
        .await
}

/// Quarantined rows of one kind (or all kinds), oldest file row first.
pub async fn quarantine(store: &Store, kind: Option<&str>) -> Result<Vec<QuarantinedRow>> {
    let base = "SELECT id, kind, file, row_number, raw, reasons, created_at FROM import_quarantine";
    match kind {
        Some(k) => {
            sql(format!("{base} WHERE kind = $1 ORDER BY file, row_number"))
                .bind(k)
                .fetch_all(store)
                .await
        }
        None => {
            sql(format!("{base} ORDER BY kind, file, row_number"))
                .fetch_all(store)
                .await
        }
    }
}

/// One stored result: credit of one model to a channel, or to a campaign within it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct StoredCredit {
    /// Model name, e.g. `markov_order_1`.
    pub model: String,
    /// Channel.
    pub channel: String,
    /// Campaign, or `None` on channel rows.
    pub campaign: Option<String>,
    /// Attributed conversions.
    pub conversions: f64,
    /// Attributed value (major units).
    pub value: f64,
}

/// The last stored attribution run.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AttributionRun {
    /// Id.
    pub id: i64,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
    /// Totals and conventions of the run.
    pub summary: sqlx::types::Json<serde_json::Value>,
}

/// Replaces the stored results with a new run, in one audited transaction.
pub async fn store_results(
    store: &Store,
    actor: &Actor,
    summary: serde_json::Value,
    credits: &[StoredCredit],
) -> Result<AttributionRun> {
    let mut tx = store.begin().await?;
    sql("DELETE FROM attribution_results")
        .execute(&mut tx)
        .await?;
    let run: AttributionRun = sql("INSERT INTO attribution_runs (computed_at, summary) VALUES ($1, $2) RETURNING id, computed_at, summary")
        .bind(now())
        .bind(summary.clone())
        .fetch_one(&mut tx)
        .await?;
    for c in credits {
        sql("INSERT INTO attribution_results (run_id, model, channel, campaign, conversions, value) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(run.id)
            .bind(&c.model)
            .bind(&c.channel)
            .bind(c.campaign.clone())
            .bind(c.conversions)
            .bind(c.value)
            .execute(&mut tx)
            .await?;
    }
    audit::record(
        &mut tx,
        actor,
        "recompute",
        "attribution_run",
        run.id,
        None,
        Some(summary),
    )
    .await?;
    tx.commit().await?;
    Ok(run)
}

/// The latest run, if any.
pub async fn latest_run(store: &Store) -> Result<Option<AttributionRun>> {
    sql("SELECT id, computed_at, summary FROM attribution_runs ORDER BY id DESC LIMIT 1")
        .fetch_optional(store)
        .await
}

/// Stored results, of one model or all, channels first then campaigns.
pub async fn results(store: &Store, model: Option<&str>) -> Result<Vec<StoredCredit>> {
    let base = "SELECT model, channel, campaign, conversions, value FROM attribution_results";
    match model {
        Some(m) => {
            sql(format!("{base} WHERE model = $1 ORDER BY id"))
                .bind(m)
                .fetch_all(store)
                .await
        }
        None => sql(format!("{base} ORDER BY id")).fetch_all(store).await,
    }
}

/// A stored event with what attribution reads from it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventForAttribution {
    /// Id (grows with every stored event, so a run remembers the last one it saw).
    pub id: i64,
    /// identify, track, page, screen, group or alias.
    pub event_type: String,
    /// Event or page name.
    pub name: Option<String>,
    /// User id.
    pub user_id: Option<String>,
    /// Anonymous id.
    pub anonymous_id: Option<String>,
    /// Previous id (alias).
    pub previous_id: Option<String>,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// Properties.
    pub properties: sqlx::types::Json<serde_json::Value>,
    /// Traits.
    pub traits: sqlx::types::Json<serde_json::Value>,
    /// Context.
    pub context: sqlx::types::Json<serde_json::Value>,
}

const EVENT_COLUMNS: &str = "id, event_type, name, user_id, anonymous_id, previous_id, timestamp, properties, traits, context";

/// Every stored event of every source, oldest first.
pub async fn all_events(store: &Store) -> Result<Vec<EventForAttribution>> {
    sql(format!(
        "SELECT {EVENT_COLUMNS} FROM events ORDER BY timestamp, id"
    ))
    .fetch_all(store)
    .await
}

/// Events stored after event `after` (by id), in id order.
pub async fn events_after(store: &Store, after: i64) -> Result<Vec<EventForAttribution>> {
    sql(format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE id > $1 ORDER BY id"
    ))
    .bind(after)
    .fetch_all(store)
    .await
}

/// Every event that names `id` as its user, anonymous or previous id, oldest first.
pub async fn events_naming(store: &Store, id: &str) -> Result<Vec<EventForAttribution>> {
    sql(format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE user_id = $1 OR anonymous_id = $1 OR previous_id = $1 ORDER BY timestamp, id"
    ))
    .bind(id)
    .fetch_all(store)
    .await
}

/// The id of the latest stored event (0 when there is none).
pub async fn last_event_id(store: &Store) -> Result<i64> {
    let id: Option<i64> = sql("SELECT MAX(id) FROM events")
        .fetch_optional_scalar::<Option<i64>>(store)
        .await?
        .flatten();
    Ok(id.unwrap_or(0))
}

/// A person as kept between runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeptPerson {
    /// Name (`user:…` or `anonymous:…`).
    pub person: String,
    /// Their conversions that had no touch before them.
    pub untouched_conversions: i64,
    /// E-mail addresses from their identify traits (lower case).
    pub emails: Vec<String>,
}

/// What [`replace_journeys`] replaces: everything, or the people some ids belonged to.
#[derive(Debug, Clone, Copy)]
pub enum Replace<'a> {
    /// Every kept journey, identity and person.
    All,
    /// The people any of these ids (`u:<user id>`, `a:<anonymous id>`) belonged to.
    PeopleOf(&'a [String]),
}

/// Replaces kept journeys, identities and people in one transaction: those of `what`, by the
/// ones given. Returns how many journeys were removed.
pub async fn replace_journeys(
    store: &Store,
    what: Replace<'_>,
    identities: &[(String, String)],
    people: &[KeptPerson],
    journeys: &[keel_attribution::compute::KeptJourney],
) -> Result<u64> {
    let mut tx = store.begin().await?;
    let mut removed = 0;
    match what {
        Replace::All => {
            removed = sql("DELETE FROM attribution_journeys")
                .execute(&mut tx)
                .await?;
            sql("DELETE FROM attribution_identities")
                .execute(&mut tx)
                .await?;
            sql("DELETE FROM attribution_people")
                .execute(&mut tx)
                .await?;
        }
        Replace::PeopleOf(ids) => {
            let mut names = std::collections::BTreeSet::new();
            for id in ids {
                let person: Option<String> =
                    sql("SELECT person FROM attribution_identities WHERE id_key = $1")
                        .bind(id.as_str())
                        .fetch_optional_scalar(&mut tx)
                        .await?;
                names.extend(person);
            }
            for p in people {
                names.insert(p.person.clone());
            }
            for name in &names {
                removed += sql("DELETE FROM attribution_journeys WHERE person = $1")
                    .bind(name.as_str())
                    .execute(&mut tx)
                    .await?;
                sql("DELETE FROM attribution_identities WHERE person = $1")
                    .bind(name.as_str())
                    .execute(&mut tx)
                    .await?;
                sql("DELETE FROM attribution_people WHERE person = $1")
                    .bind(name.as_str())
                    .execute(&mut tx)
                    .await?;
            }
            // Ids whose person was renamed by a merge.
            for id in ids {
                sql("DELETE FROM attribution_identities WHERE id_key = $1")
                    .bind(id.as_str())
                    .execute(&mut tx)
                    .await?;
            }
        }
    }
    for (key, person) in identities {
        sql("INSERT INTO attribution_identities (id_key, person) VALUES ($1, $2)")
            .bind(key.as_str())
            .bind(person.as_str())
            .execute(&mut tx)
            .await?;
    }
    for p in people {
        sql("INSERT INTO attribution_people (person, untouched_conversions, emails) VALUES ($1, $2, $3)")
            .bind(p.person.as_str())
            .bind(p.untouched_conversions)
            .bind(serde_json::json!(p.emails))
            .execute(&mut tx)
            .await?;
    }
    for j in journeys {
        sql("INSERT INTO attribution_journeys (person, journey) VALUES ($1, $2)")
            .bind(j.person.as_str())
            .bind(serde_json::to_value(j).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(removed)
}

/// Every kept journey, by person name (byte order) and then in the order they were built.
pub async fn kept_journeys(store: &Store) -> Result<Vec<keel_attribution::compute::KeptJourney>> {
    let mut rows: Vec<(
        i64,
        String,
        sqlx::types::Json<keel_attribution::compute::KeptJourney>,
    )> = sql("SELECT id, person, journey FROM attribution_journeys")
        .fetch_all(store)
        .await?;
    rows.sort_by(|a, b| a.1.as_bytes().cmp(b.1.as_bytes()).then(a.0.cmp(&b.0)));
    Ok(rows.into_iter().map(|(_, _, j)| j.0).collect())
}

/// Every kept person.
pub async fn kept_people(store: &Store) -> Result<Vec<KeptPerson>> {
    let rows: Vec<(String, i64, sqlx::types::Json<Vec<String>>)> =
        sql("SELECT person, untouched_conversions, emails FROM attribution_people")
            .fetch_all(store)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(person, untouched_conversions, emails)| KeptPerson {
            person,
            untouched_conversions,
            emails: emails.0,
        })
        .collect())
}
