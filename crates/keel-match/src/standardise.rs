//! Standardisation of raw values per field kind, so that comparisons see "Bob Smith" and
//! "ROBERT  SMITH" as the same person and "j.doe+news@gmial.com" as "jdoe@gmail.com".
//!
//! Every standardiser is idempotent: standardising a standardised value changes nothing.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::OnceLock;

use crate::config::FieldKind;

/// A standardised value: the text that is compared and a small integer of kind-specific extra
/// information (nickname groups for given names, the house number for addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standard {
    /// The standardised text; never empty.
    pub text: String,
    /// Kind-specific extra (see [`nickname_groups`] and [`house_number`]); 0 when none.
    pub aux: u32,
}

/// Standardises one raw value; `None` when the value is missing or carries no information.
pub fn standardise(
    kind: FieldKind,
    raw: &str,
    region: Option<phonenumber::country::Id>,
) -> Option<Standard> {
    let raw = raw.trim();
    if raw.is_empty() || is_null_marker(raw) {
        return None;
    }
    let (text, aux) = match kind {
        FieldKind::Name => {
            let t = name(raw);
            let aux = t.split(' ').next().map_or(0, nickname_groups);
            (t, aux)
        }
        FieldKind::FirstName => {
            let t = name(raw);
            let aux = nickname_groups(&t);
            (t, aux)
        }
        FieldKind::LastName => (name(raw), 0),
        FieldKind::Email => (email(raw)?, 0),
        FieldKind::Phone => (phone(raw, region)?, 0),
        FieldKind::Company => (company(raw), 0),
        FieldKind::Address => {
            let t = address(raw);
            let aux = house_number(&t);
            (t, aux)
        }
        FieldKind::Postcode => (postcode(raw), 0),
        FieldKind::Date => (date(raw)?, 0),
        FieldKind::Text => (text(raw), 0),
        FieldKind::Exact => (raw.to_string(), 0),
        FieldKind::Numeric => (numeric(raw)?, 0),
    };
    if text.is_empty() || is_null_marker(&text) {
        None
    } else {
        Some(Standard { text, aux })
    }
}

fn is_null_marker(raw: &str) -> bool {
    matches!(
        raw.to_ascii_lowercase().as_str(),
        "null" | "none" | "n/a" | "na" | "nan" | "-" | "--" | "?" | "unknown"
    )
}

/// Parses a region code for phone numbers ("US", "gb").
pub fn parse_region(code: &str) -> Option<phonenumber::country::Id> {
    phonenumber::country::Id::from_str(&code.to_ascii_uppercase()).ok()
}

/// Lowercase ASCII letters, digits and single spaces; accents transliterated, punctuation dropped.
pub fn text(raw: &str) -> String {
    let ascii = deunicode::deunicode(raw);
    let mut out = String::with_capacity(ascii.len());
    for ch in ascii.chars() {
        let c = ch.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if c == '\'' {
            // Apostrophes join rather than split: "O'Brien" = "OBrien".
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

const NAME_NOISE: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "jr", "sr", "ii", "iii", "iv", "phd",
    "md", "esq",
];

/// A person's name: [`text`] without titles and generational suffixes.
pub fn name(raw: &str) -> String {
    let t = text(raw);
    let kept: Vec<&str> = t.split(' ').filter(|w| !NAME_NOISE.contains(w)).collect();
    if kept.is_empty() { t } else { kept.join(" ") }
}

struct Nicknames {
    groups: HashMap<String, Vec<u16>>,
    formal: Vec<String>,
}

fn nicknames() -> &'static Nicknames {
    static TABLE: OnceLock<Nicknames> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut groups: HashMap<String, Vec<u16>> = HashMap::new();
        let mut formal = Vec::new();
        let lines = include_str!("../data/nicknames.csv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
        for line in lines {
            let id = u16::try_from(formal.len() + 1).unwrap_or(u16::MAX);
            let mut names = line.split(',').map(str::trim);
            if let Some(first) = names.next() {
                formal.push(first.to_string());
                groups.entry(first.to_string()).or_default().push(id);
            }
            for n in names {
                groups.entry(n.to_string()).or_default().push(id);
            }
        }
        Nicknames { groups, formal }
    })
}

/// The nickname groups of a standardised given name, packed as up to two 16-bit group ids
/// (0 = none). Two names are nickname-equivalent when they share a group.
pub fn nickname_groups(first: &str) -> u32 {
    match nicknames().groups.get(first) {
        Some(ids) => {
            let a = u32::from(ids.first().copied().unwrap_or(0));
            let b = u32::from(ids.get(1).copied().unwrap_or(0));
            a | (b << 16)
        }
        None => 0,
    }
}

/// Whether two packed nickname group sets intersect.
pub fn nickname_equivalent(a: u32, b: u32) -> bool {
    let ids = |x: u32| [x & 0xffff, x >> 16];
    ids(a).iter().any(|&i| i != 0 && ids(b).contains(&i))
}

/// The formal form of a given name for blocking ("bob" → "robert"); the name itself otherwise.
pub fn formal_name(first: &str, groups: u32) -> &str {
    let id = groups & 0xffff;
    if id == 0 {
        return first;
    }
    let idx = usize::try_from(id).unwrap_or(0).saturating_sub(1);
    nicknames().formal.get(idx).map_or(first, String::as_str)
}

const DOMAIN_TYPOS: &[(&str, &str)] = &[
    ("gmial.com", "gmail.com"),
    ("gmai.com", "gmail.com"),
    ("gamil.com", "gmail.com"),
    ("gmail.co", "gmail.com"),
    ("gmail.con", "gmail.com"),
    ("gnail.com", "gmail.com"),
    ("googlemail.com", "gmail.com"),
    ("hotmial.com", "hotmail.com"),
    ("hotmal.com", "hotmail.com"),
    ("hotmail.co", "hotmail.com"),
    ("hotmail.con", "hotmail.com"),
    ("yaho.com", "yahoo.com"),
    ("yahooo.com", "yahoo.com"),
    ("yahoo.con", "yahoo.com"),
    ("outlok.com", "outlook.com"),
    ("outlook.con", "outlook.com"),
    ("iclod.com", "icloud.com"),
    ("icloud.con", "icloud.com"),
];

/// An email address: lowercase, plus-tag removed, dots removed for Gmail, common domain typos
/// fixed. `None` when there is no `@`.
pub fn email(raw: &str) -> Option<String> {
    let lower = raw
        .trim()
        .trim_matches(|c| c == '<' || c == '>')
        .to_lowercase();
    let (local, domain) = lower.rsplit_once('@')?;
    let domain = domain.trim_end_matches('.');
    let domain = DOMAIN_TYPOS
        .iter()
        .find(|(typo, _)| *typo == domain)
        .map_or(domain, |(_, fixed)| fixed);
    let local = local.split('+').next().unwrap_or(local);
    let local: String = if domain == "gmail.com" {
        local.chars().filter(|&c| c != '.').collect()
    } else {
        local.to_string()
    };
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    Some(format!("{local}@{domain}"))
}

/// A phone number as E.164 digits without the `+` (libphonenumber, in the default region);
/// falls back to the bare digits when the number cannot be parsed. `None` when too short.
pub fn phone(raw: &str, region: Option<phonenumber::country::Id>) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return None;
    }
    // Fast path for the North American plan, which most lead data uses: a ten-digit number (or
    // eleven starting with the country code 1) written with only separators is already
    // unambiguous, and libphonenumber's full parse costs tens of microseconds per record.
    let nanp = matches!(
        region,
        Some(phonenumber::country::Id::US | phonenumber::country::Id::CA)
    );
    let plain = raw
        .chars()
        .all(|c| c.is_ascii_digit() || " ()-.+".contains(c));
    let plus = raw.trim_start().starts_with('+');
    if nanp && plain {
        let national = match digits.len() {
            10 if !plus => Some(digits.as_str()),
            11 if digits.starts_with('1') => digits.get(1..),
            _ => None,
        };
        // Area codes and exchanges never start with 0 or 1.
        if let Some(n) = national.filter(|n| {
            n.starts_with(|c: char| c >= '2')
                && n.get(3..)
                    .is_some_and(|x| x.starts_with(|c: char| c >= '2'))
        }) {
            return Some(format!("1{n}"));
        }
    }
    // Already standardised (idempotence): E.164 digits are re-parsed with a leading `+`.
    let candidate = if raw.chars().all(|c| c.is_ascii_digit()) && digits.len() > 10 {
        format!("+{digits}")
    } else {
        raw.to_string()
    };
    match phonenumber::parse(region, &candidate) {
        Ok(n) if n.is_valid() => {
            let national = n.national();
            let zeros = "0".repeat(usize::from(national.zeros()));
            Some(format!("{}{zeros}{}", n.code().value(), national.value()))
        }
        _ => Some(digits),
    }
}

const LEGAL_SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "gmbh",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "sa",
    "ag",
    "bv",
    "nv",
    "pty",
    "srl",
    "sarl",
    "oy",
    "ab",
    "kg",
    "lp",
    "llp",
    "pllc",
    "sas",
    "spa",
    "kk",
    "pvt",
    "holdings",
    "group",
];

/// An organisation name: [`text`] with "&" as "and", without a leading "the" and without
/// trailing legal suffixes ("Acme, Inc." = "ACME").
pub fn company(raw: &str) -> String {
    let t = text(&raw.replace('&', " and "));
    let mut words: Vec<&str> = t.split(' ').filter(|w| !w.is_empty()).collect();
    while words.len() > 1 && words.first() == Some(&"the") {
        words.remove(0);
    }
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_SUFFIXES.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

const ADDRESS_WORDS: &[(&str, &str)] = &[
    ("street", "st"),
    ("str", "st"),
    ("avenue", "ave"),
    ("av", "ave"),
    ("road", "rd"),
    ("boulevard", "blvd"),
    ("drive", "dr"),
    ("lane", "ln"),
    ("court", "ct"),
    ("place", "pl"),
    ("square", "sq"),
    ("terrace", "ter"),
    ("parkway", "pkwy"),
    ("highway", "hwy"),
    ("circle", "cir"),
    ("way", "wy"),
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
    ("northeast", "ne"),
    ("northwest", "nw"),
    ("southeast", "se"),
    ("southwest", "sw"),
    ("apartment", "unit"),
    ("apt", "unit"),
    ("suite", "unit"),
    ("ste", "unit"),
    ("flat", "unit"),
    ("floor", "fl"),
];

/// A street address: [`text`] with street types, directions and unit words abbreviated
/// ("12 North Main Street, Apt. 4" = "12 n main st unit 4").
pub fn address(raw: &str) -> String {
    let t = text(&raw.replace('#', " unit "));
    let mut out: Vec<&str> = Vec::new();
    for w in t.split(' ').filter(|w| !w.is_empty()) {
        let w = ADDRESS_WORDS
            .iter()
            .find(|(long, _)| *long == w)
            .map_or(w, |(_, short)| short);
        // "unit unit 4" from "# Apt 4".
        if w == "unit" && out.last() == Some(&"unit") {
            continue;
        }
        out.push(w);
    }
    out.join(" ")
}

/// The house number of a standardised address (its first all-digit word), 0 when none.
pub fn house_number(address: &str) -> u32 {
    address
        .split(' ')
        .next()
        .and_then(|w| w.parse::<u32>().ok())
        .unwrap_or(0)
}

/// A postal code: uppercase letters and digits only.
pub fn postcode(raw: &str) -> String {
    raw.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A date as `YYYY-MM-DD`. Accepts ISO dates, `YYYY/MM/DD`, `DD.MM.YYYY`, `MM/DD/YYYY` (day
/// first when the first number cannot be a month) and `YYYYMMDD`; a trailing time is ignored.
pub fn date(raw: &str) -> Option<String> {
    let raw = raw.split(['T', ' ']).next().unwrap_or(raw);
    let parts: Vec<&str> = raw.split(['-', '/', '.']).collect();
    let num = |s: &str| s.parse::<u32>().ok();
    let (y, m, d) = match parts.as_slice() {
        // Only all-digit text is sliced by byte position (other text could split a character).
        [a] if a.len() == 8 && a.bytes().all(|b| b.is_ascii_digit()) => {
            (num(&a[..4])?, num(&a[4..6])?, num(&a[6..])?)
        }
        [a, b, c] if a.len() == 4 => (num(a)?, num(b)?, num(c)?),
        [a, b, c] if c.len() == 4 => {
            let (a, b) = (num(a)?, num(b)?);
            if raw.contains('.') || a > 12 {
                (num(c)?, b, a)
            } else {
                (num(c)?, a, b)
            }
        }
        _ => return None,
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1000..=9999).contains(&y) {
        return None;
    }
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// A number in canonical decimal form; thousands separators and currency signs ignored.
pub fn numeric(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E'))
        .collect();
    let v: f64 = cleaned.parse().ok()?;
    v.is_finite().then(|| format!("{v}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn us() -> Option<phonenumber::country::Id> {
        parse_region("US")
    }

    #[test]
    fn names_lose_case_accents_punctuation_and_titles() {
        assert_eq!(name("  Dr. José  O'Brien-Smith Jr. "), "jose obrien smith");
        assert_eq!(name("ZOË"), "zoe");
    }

    #[test]
    fn nicknames_are_equivalent_to_formal_names() {
        let bob = nickname_groups("bob");
        let robert = nickname_groups("robert");
        assert!(nickname_equivalent(bob, robert));
        assert!(nickname_equivalent(
            nickname_groups("bill"),
            nickname_groups("william")
        ));
        assert!(nickname_equivalent(
            nickname_groups("liz"),
            nickname_groups("beth")
        ));
        assert!(!nickname_equivalent(bob, nickname_groups("william")));
        assert!(!nickname_equivalent(0, 0));
        assert_eq!(formal_name("bob", bob), "robert");
        assert_eq!(formal_name("zed", 0), "zed");
    }

    #[test]
    fn emails_handle_plus_tags_gmail_dots_and_domain_typos() {
        assert_eq!(
            email("J.Doe+news@GMIAL.com").as_deref(),
            Some("jdoe@gmail.com")
        );
        assert_eq!(email("j.doe@acme.com").as_deref(), Some("j.doe@acme.com"));
        assert_eq!(email("<x@hotmial.com>").as_deref(), Some("x@hotmail.com"));
        assert_eq!(email("not an email"), None);
    }

    #[test]
    fn phones_become_e164_digits() {
        assert_eq!(
            phone("(415) 555-2671", us()).as_deref(),
            Some("14155552671")
        );
        assert_eq!(
            phone("+1 415 555 2671", us()).as_deref(),
            Some("14155552671")
        );
        assert_eq!(
            phone("+44 20 7946 0958", us()).as_deref(),
            Some("442079460958")
        );
        assert_eq!(
            phone("020 7946 0958", parse_region("GB")).as_deref(),
            Some("442079460958")
        );
        assert_eq!(phone("123", us()), None);
    }

    #[test]
    fn companies_lose_legal_suffixes() {
        assert_eq!(company("The Acme Company, Inc."), "acme");
        assert_eq!(company("Smith & Sons Ltd"), "smith and sons");
        assert_eq!(company("Müller GmbH"), "muller");
        assert_eq!(company("The Group"), "group");
    }

    #[test]
    fn addresses_are_abbreviated() {
        assert_eq!(
            address("12 North Main Street, Apt. 4B"),
            "12 n main st unit 4b"
        );
        assert_eq!(address("12 N. Main St #4B"), "12 n main st unit 4b");
        assert_eq!(house_number("12 n main st"), 12);
        assert_eq!(house_number("main st"), 0);
    }

    #[test]
    fn postcodes_dates_and_numbers() {
        assert_eq!(postcode("sw1a 1aa"), "SW1A1AA");
        assert_eq!(date("1985-03-07").as_deref(), Some("1985-03-07"));
        assert_eq!(date("03/07/1985").as_deref(), Some("1985-03-07"));
        assert_eq!(date("25/12/1985").as_deref(), Some("1985-12-25"));
        assert_eq!(date("07.03.1985").as_deref(), Some("1985-03-07"));
        assert_eq!(date("19850307").as_deref(), Some("1985-03-07"));
        assert_eq!(date("1985-13-01"), None);
        assert_eq!(numeric("$1,250.50").as_deref(), Some("1250.5"));
        assert_eq!(numeric("abc"), None);
    }

    #[test]
    fn missing_markers_are_missing() {
        assert_eq!(standardise(FieldKind::Text, " N/A ", None), None);
        assert_eq!(standardise(FieldKind::Name, "", None), None);
        assert_eq!(
            standardise(FieldKind::Exact, " AB-1 ", None).map(|s| s.text),
            Some("AB-1".into())
        );
    }

    const KINDS: [FieldKind; 12] = [
        FieldKind::Name,
        FieldKind::FirstName,
        FieldKind::LastName,
        FieldKind::Email,
        FieldKind::Phone,
        FieldKind::Company,
        FieldKind::Address,
        FieldKind::Postcode,
        FieldKind::Date,
        FieldKind::Text,
        FieldKind::Exact,
        FieldKind::Numeric,
    ];

    proptest! {
        #[test]
        fn standardisation_is_idempotent(raw in "[A-Za-z0-9 .@+#&,'éü()/-]{0,30}", k in 0usize..12) {
            let kind = KINDS[k];
            if let Some(once) = standardise(kind, &raw, us()) {
                let twice = standardise(kind, &once.text, us());
                prop_assert_eq!(Some(once), twice);
            }
        }
    }
}
