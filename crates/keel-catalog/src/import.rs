//! Import of a SaaS-management inventory (CSV) into tools and contracts.
//!
//! Expected columns (header names are matched loosely, case and punctuation ignored): name,
//! vendor, owner email, cost (annual), seats, renewal date, and optionally currency. Every
//! bad row is reported with its line and column, and the good rows still come through.

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{Duration, NaiveDate};
use keel_manifests::{Metadata, valid_name};
use serde::Serialize;

use crate::catalog::{Catalog, Entry};
use crate::contract::{BillingPeriod, Contract, Money, valid_currency};
use crate::error::Error;
use crate::tool::{Lifecycle, Owners, Tool};

/// One good inventory row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryRow {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// The name for Keel (lower-case, dashes), made from the tool name.
    pub name: String,
    /// The tool name as written.
    pub display_name: String,
    /// The vendor.
    pub vendor: String,
    /// The owner, as a person's name in the catalog.
    pub owner: Option<String>,
    /// Annual cost.
    pub annual_cost: Option<Money>,
    /// Seats bought.
    pub seats: Option<u32>,
    /// Renewal date (end of term).
    pub renewal: Option<NaiveDate>,
}

/// A problem with one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Line in the file.
    pub line: u64,
    /// The column, by its header.
    pub column: String,
    /// What is wrong.
    pub message: String,
}

/// The outcome of an import: good rows and per-row errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inventory {
    /// Rows that could be read.
    pub rows: Vec<InventoryRow>,
    /// Problems, by line.
    pub errors: Vec<RowError>,
}

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

const COLUMNS: [(&str, &[&str]); 7] = [
    ("name", &["name", "toolname", "application", "app", "tool"]),
    ("vendor", &["vendor", "supplier"]),
    (
        "owner email",
        &["owneremail", "owner", "appowner", "businessowner"],
    ),
    (
        "cost",
        &[
            "cost",
            "annualcost",
            "annualspend",
            "spend",
            "contractvalue",
        ],
    ),
    (
        "seats",
        &[
            "seats",
            "licenses",
            "licences",
            "licensecount",
            "seatsbought",
        ],
    ),
    (
        "renewal date",
        &["renewaldate", "renewal", "contractend", "enddate"],
    ),
    ("currency", &["currency"]),
];

/// Makes a catalog name from a tool name: `Salesforce Marketing Cloud` → `salesforce-marketing-cloud`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Parses an amount such as `12,500.00`, `$12500` or `€ 9.99` into minor units and the currency
/// its symbol names.
pub fn parse_amount(text: &str) -> Result<(i64, Option<&'static str>), String> {
    let trimmed = text.trim();
    let currency = match trimmed.chars().next() {
        Some('$') => Some("USD"),
        Some('€') => Some("EUR"),
        Some('£') => Some("GBP"),
        _ => None,
    };
    let digits: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | ',' | ' '))
        .collect();
    let (units, cents) = match digits.split_once('.') {
        Some((u, c)) if c.len() <= 2 && c.chars().all(|d| d.is_ascii_digit()) => {
            (u, format!("{c:0<2}"))
        }
        Some(_) => return Err(format!("`{text}` is not an amount (e.g. 12,500.00)")),
        None => (digits.as_str(), "00".to_string()),
    };
    if units.is_empty() || !units.chars().all(|d| d.is_ascii_digit()) {
        return Err(format!("`{text}` is not an amount (e.g. 12,500.00)"));
    }
    let units: i64 = units
        .parse()
        .map_err(|_| format!("`{text}` is too large"))?;
    let cents: i64 = cents
        .parse()
        .map_err(|_| format!("`{text}` is not an amount"))?;
    let minor = units
        .checked_mul(100)
        .and_then(|u| u.checked_add(cents))
        .ok_or_else(|| format!("`{text}` is too large"))?;
    Ok((minor, currency))
}

/// Parses `2026-11-30` or US-style `11/30/2026`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%m/%d/%Y"))
        .map_err(|_| format!("`{text}` is not a date (use YYYY-MM-DD or MM/DD/YYYY)"))
}

/// Reads an inventory CSV; `people_by_email` maps lower-cased emails to person names.
pub fn read_inventory<R: Read>(
    reader: R,
    people_by_email: &BTreeMap<String, String>,
) -> Result<Inventory, Error> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = csv.headers()?.clone();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, header) in headers.iter().enumerate() {
        let h = normalise(header);
        if let Some((column, _)) = COLUMNS
            .iter()
            .find(|(_, aliases)| aliases.contains(&h.as_str()))
        {
            index.entry(column).or_insert(i);
        }
    }
    for required in ["name", "vendor"] {
        if !index.contains_key(required) {
            return Err(Error::MissingColumn(required));
        }
    }
    let mut inventory = Inventory::default();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for record in csv.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        let get = |column: &str| {
            index
                .get(column)
                .and_then(|i| record.get(*i))
                .filter(|v| !v.is_empty())
        };
        let mut errors = Vec::new();
        let mut error = |column: &str, message: String| {
            errors.push(RowError {
                line,
                column: column.to_string(),
                message,
            })
        };
        let display_name = get("name").unwrap_or_default().to_string();
        let name = slug(&display_name);
        if display_name.is_empty() {
            error("name", "the tool has no name".to_string());
        } else if !valid_name(&name) {
            error(
                "name",
                format!("cannot make a catalog name from `{display_name}`"),
            );
        } else if let Some(first) = seen.get(&name) {
            error(
                "name",
                format!("`{display_name}` is already on line {first}"),
            );
        }
        let vendor = get("vendor").unwrap_or_default().to_string();
        if vendor.is_empty() {
            error("vendor", "no vendor".to_string());
        }
        let owner = match get("owner email") {
            None => None,
            Some(email) => match people_by_email.get(&email.to_ascii_lowercase()) {
                Some(person) => Some(person.clone()),
                None => {
                    error(
                        "owner email",
                        format!("no person with email `{email}` in the catalog"),
                    );
                    None
                }
            },
        };
        let mut currency = get("currency").map(str::to_string);
        if let Some(code) = &currency
            && !valid_currency(code)
        {
            error(
                "currency",
                format!("`{code}` is not an ISO 4217 currency code"),
            );
        }
        let annual_cost = match get("cost").map(parse_amount) {
            None => None,
            Some(Ok((minor, symbol))) => {
                if currency.is_none() {
                    currency = symbol.map(str::to_string);
                }
                Some(Money::new(minor, currency.as_deref().unwrap_or("USD")))
            }
            Some(Err(message)) => {
                error("cost", message);
                None
            }
        };
        let seats = match get("seats").map(|s| s.replace(',', "").parse::<u32>()) {
            None => None,
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => {
                error(
                    "seats",
                    format!(
                        "`{}` is not a whole number of seats",
                        get("seats").unwrap_or_default()
                    ),
                );
                None
            }
        };
        let renewal = match get("renewal date").map(parse_date) {
            None => None,
            Some(Ok(d)) => Some(d),
            Some(Err(message)) => {
                error("renewal date", message);
                None
            }
        };
        if errors.is_empty() {
            seen.insert(name.clone(), line);
            inventory.rows.push(InventoryRow {
                line,
                name,
                display_name,
                vendor,
                owner,
                annual_cost,
                seats,
                renewal,
            });
        } else {
            inventory.errors.extend(errors);
        }
    }
    Ok(inventory)
}

/// Emails of the catalog's people, lower-cased, to their names.
pub fn people_by_email(catalog: &Catalog) -> BTreeMap<String, String> {
    catalog
        .people
        .iter()
        .map(|(name, p)| (p.spec.email.to_ascii_lowercase(), name.clone()))
        .collect()
}

impl Inventory {
    /// Adds the imported rows to `catalog`: a live tool per row (owned by the owner), and an
    /// annual contract ending on the renewal date when cost and renewal date are known. Tools
    /// already in the catalog are left as they are; their contract is still added.
    pub fn merge_into(&self, catalog: &mut Catalog) {
        for row in &self.rows {
            catalog.tools.entry(row.name.clone()).or_insert_with(|| {
                let mut tool = Tool::new(&row.display_name, &row.vendor, Lifecycle::Live);
                tool.owners = Owners {
                    platform: row.owner.iter().cloned().collect(),
                    ..Owners::default()
                };
                Entry {
                    metadata: Metadata::named(row.name.clone()),
                    spec: tool,
                }
            });
            if let (Some(cost), Some(end)) = (&row.annual_cost, row.renewal) {
                let contract = Contract {
                    vendor: row.vendor.clone(),
                    tools: vec![row.name.clone()],
                    tier: None,
                    seats: row.seats.filter(|s| *s > 0),
                    cost: cost.clone(),
                    billing_period: BillingPeriod::Annual,
                    start: end - Duration::days(364),
                    end,
                    auto_renew: false,
                    notice_days: 0,
                    dpa_signed: false,
                    security_review: None,
                    sla: None,
                    data_ownership: None,
                    owner: row.owner.clone(),
                };
                let name = format!("{}-{}", row.name, end.format("%Y"));
                catalog.contracts.insert(
                    name.clone(),
                    Entry {
                        metadata: Metadata::named(name),
                        spec: contract,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> BTreeMap<String, String> {
        BTreeMap::from([(
            "dana.reyes@halyard.example".to_string(),
            "dana-reyes".to_string(),
        )])
    }

    #[test]
    fn reads_good_rows_and_reports_bad_ones_by_line_and_column() {
        let csv = "Application,Vendor,Owner Email,Annual Cost,Licenses,Renewal Date\n\
                   Monday.com,monday.com,Dana.Reyes@halyard.example,\"$11,400.00\",50,2027-01-14\n\
                   Canva,Canva,,5000,40,04/14/2027\n\
                   Mystery,,nobody@example.com,12.345,many,2027-13-01\n\
                   Monday.com,monday.com,,1,1,2027-01-01\n";
        let inv = read_inventory(csv.as_bytes(), &people()).unwrap();
        assert_eq!(inv.rows.len(), 2);
        let monday = &inv.rows[0];
        assert_eq!(monday.name, "monday-com");
        assert_eq!(monday.owner.as_deref(), Some("dana-reyes"));
        assert_eq!(monday.annual_cost, Some(Money::new(1_140_000, "USD")));
        assert_eq!(monday.seats, Some(50));
        assert_eq!(inv.rows[1].renewal, NaiveDate::from_ymd_opt(2027, 4, 14));
        let errors: Vec<(u64, &str)> = inv
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_str()))
            .collect();
        assert_eq!(
            errors,
            vec![
                (4, "vendor"),
                (4, "owner email"),
                (4, "cost"),
                (4, "seats"),
                (4, "renewal date"),
                (5, "name")
            ]
        );
        assert!(inv.errors[5].message.contains("line 2"));
    }

    #[test]
    fn a_missing_column_is_an_error() {
        let err = read_inventory("Vendor,Cost\nA,1\n".as_bytes(), &people()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "inventory CSV: no `name` column in the header"
        );
    }

    #[test]
    fn amounts_and_dates() {
        assert_eq!(parse_amount("12,500.5"), Ok((1_250_050, None)));
        assert_eq!(parse_amount("€ 9.99"), Ok((999, Some("EUR"))));
        assert!(parse_amount("1.234.5").is_err());
        assert!(parse_amount("-5").is_err());
        assert!(parse_date("30/11/2026").is_err());
        assert_eq!(
            slug("Salesforce Marketing Cloud"),
            "salesforce-marketing-cloud"
        );
        assert_eq!(slug("  Monday.com! "), "monday-com");
    }

    #[test]
    fn merging_adds_tools_and_contracts() {
        let csv = "Name,Vendor,Owner Email,Cost,Seats,Renewal Date\nCanva,Canva,dana.reyes@halyard.example,5000,40,2027-04-14\n";
        let inv = read_inventory(csv.as_bytes(), &people()).unwrap();
        let mut catalog = Catalog::default();
        inv.merge_into(&mut catalog);
        assert_eq!(
            catalog.tools["canva"].spec.owners.platform,
            vec!["dana-reyes"]
        );
        let contract = &catalog.contracts["canva-2027"].spec;
        assert_eq!(contract.end, NaiveDate::from_ymd_opt(2027, 4, 14).unwrap());
        assert_eq!(contract.annual_cost(), Money::new(500_000, "USD"));
    }
}
