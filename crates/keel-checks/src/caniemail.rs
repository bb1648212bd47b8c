//! The caniemail.com support tables (MIT, embedded from `data/caniemail/`) and the question they
//! answer: which of the target clients lack, or only partly have, a feature.

use crate::finding::ClientImpact;
use serde_json::Value;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/caniemail/caniemail.json");

/// One tested platform of a client family, with its results in source (chronological) order.
#[derive(Debug)]
struct PlatformStats {
    family: String,
    platform: String,
    results: Vec<(String, String)>,
}

/// One caniemail feature.
#[derive(Debug)]
pub struct Feature {
    /// Id, e.g. `css-display-flex`.
    pub slug: String,
    /// Display name, e.g. `display:flex`.
    pub title: String,
    /// Page on caniemail.com.
    pub url: String,
    stats: Vec<PlatformStats>,
    notes: HashMap<String, String>,
}

/// The whole embedded data set, indexed by slug.
#[derive(Debug)]
pub struct Data {
    features: Vec<Feature>,
    by_slug: HashMap<String, usize, BuildHasherDefault<SlugHasher>>,
    /// For each prefix in [`PREFIXES`], the features whose slug starts with it, keyed by the
    /// rest of the slug: `css-` + a property name is one lookup of the name, with no copy.
    by_prefix: Vec<HashMap<String, usize, BuildHasherDefault<SlugHasher>>>,
    /// Every `family.platform` client id, sorted.
    client_ids: Vec<String>,
    families: HashMap<String, String>,
    platforms: HashMap<String, String>,
}

/// Slug prefixes that checks join with a name found in the document (see
/// [`Data::index_joined`]).
const PREFIXES: &[&str] = &["css-", "css-unit-", "html-", "html-input-", "html-button-"];

/// A fast hasher for the slug table: every property, unit and selector of every template is
/// looked up by slug, and the keys are short trusted strings, so SipHash's DoS resistance only
/// costs time here (this is the FxHash multiply-rotate scheme).
#[derive(Default)]
pub struct SlugHasher(u64);

impl Hasher for SlugHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The embedded data, parsed once per process.
pub fn data() -> &'static Data {
    static DATA_SET: OnceLock<Data> = OnceLock::new();
    DATA_SET.get_or_init(|| Data::parse(DATA))
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Data {
    fn parse(json: &str) -> Data {
        // The data is embedded at build time and covered by tests; a malformed copy yields an
        // empty table (no client findings) rather than a crash.
        let root: Value = serde_json::from_str(json).unwrap_or(Value::Null);
        let mut features = Vec::new();
        for f in root
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut stats = Vec::new();
            for (family, platforms) in f
                .get("stats")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                for (platform, versions) in platforms.as_object().into_iter().flatten() {
                    let results = versions
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(v, s)| (v.clone(), s.as_str().unwrap_or("u").to_owned()))
                        .collect();
                    stats.push(PlatformStats {
                        family: family.clone(),
                        platform: platform.clone(),
                        results,
                    });
                }
            }
            let notes = f
                .get("notes_by_num")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
            features.push(Feature {
                slug: str_of(f, "slug"),
                title: str_of(f, "title"),
                url: str_of(f, "url"),
                stats,
                notes,
            });
        }
        let by_slug = features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.slug.clone(), i))
            .collect();
        let by_prefix = PREFIXES
            .iter()
            .map(|prefix| {
                features
                    .iter()
                    .enumerate()
                    .filter_map(|(i, f)| {
                        f.slug.strip_prefix(prefix).map(|rest| (rest.to_owned(), i))
                    })
                    .collect()
            })
            .collect();
        let mut client_ids: Vec<String> = features
            .iter()
            .flat_map(|f| {
                f.stats
                    .iter()
                    .map(|s| format!("{}.{}", s.family, s.platform))
            })
            .collect();
        client_ids.sort();
        client_ids.dedup();
        let names = |key: &str| -> HashMap<String, String> {
            root.get("nicenames")
                .and_then(|n| n.get(key))
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or(k).to_owned()))
                .collect()
        };
        Data {
            features,
            by_slug,
            by_prefix,
            client_ids,
            families: names("family"),
            platforms: names("platform"),
        }
    }

    /// A feature by slug.
    pub fn feature(&self, slug: &str) -> Option<&Feature> {
        self.by_slug.get(slug).and_then(|&i| self.features.get(i))
    }

    /// The index of a feature by slug.
    pub fn index(&self, slug: &str) -> Option<usize> {
        self.by_slug.get(slug).copied()
    }

    /// The index of the feature `prefix` + `name` (e.g. `css-` + `margin`) without allocating.
    pub fn index_joined(&self, prefix: &str, name: &str) -> Option<usize> {
        if prefix.is_empty() {
            return self.index(name);
        }
        if let Some(map) = PREFIXES
            .iter()
            .position(|p| *p == prefix)
            .and_then(|i| self.by_prefix.get(i))
        {
            return map.get(name).copied();
        }
        let mut buf = [0u8; 96];
        let len = prefix.len() + name.len();
        let slot = buf.get_mut(..len)?;
        slot[..prefix.len()].copy_from_slice(prefix.as_bytes());
        slot[prefix.len()..].copy_from_slice(name.as_bytes());
        std::str::from_utf8(slot).ok().and_then(|s| self.index(s))
    }

    /// A feature by index.
    pub fn feature_at(&self, index: usize) -> Option<&Feature> {
        self.features.get(index)
    }

    /// The target-client impacts of every feature, by index (what [`Feature::impacts`] returns).
    pub fn all_impacts(&self, clients: &ClientSet) -> Vec<Vec<ClientImpact>> {
        self.features.iter().map(|f| f.impacts(clients)).collect()
    }

    /// True when the slug exists.
    pub fn has(&self, slug: &str) -> bool {
        self.by_slug.contains_key(slug)
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// True when no data was loaded.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Every `family.platform` client id in the data.
    pub fn client_ids(&self) -> Vec<String> {
        self.client_ids.clone()
    }

    /// Display name of a client, e.g. `Outlook (Windows)`.
    pub fn client_name(&self, family: &str, platform: &str) -> String {
        let fam = self.families.get(family).map_or(family, String::as_str);
        let plat = match platform {
            "desktop-webmail" => "web",
            "mobile-webmail" => "mobile web",
            "desktop-app" => "desktop",
            p => self.platforms.get(p).map_or(p, String::as_str),
        };
        format!("{fam} ({plat})")
    }
}

/// A set of target clients: `family.platform` pairs, or whole families.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSet {
    entries: Vec<(String, Option<String>)>,
}

/// The default target clients: Gmail web/iOS/Android, Outlook Windows/Mac/web, Apple Mail
/// macOS/iOS, Yahoo web.
pub const DEFAULT_CLIENTS: &[&str] = &[
    "gmail.desktop-webmail",
    "gmail.ios",
    "gmail.android",
    "outlook.windows",
    "outlook.macos",
    "outlook.outlook-com",
    "apple-mail.macos",
    "apple-mail.ios",
    "yahoo.desktop-webmail",
];

impl Default for ClientSet {
    fn default() -> Self {
        // The defaults are known-good ids.
        ClientSet::parse(DEFAULT_CLIENTS.iter().copied()).unwrap_or(ClientSet {
            entries: Vec::new(),
        })
    }
}

impl ClientSet {
    /// Parses ids such as `gmail`, `outlook.windows`, `apple-mail.ios`. Unknown ids are returned
    /// as the error, all at once.
    pub fn parse<'a>(ids: impl IntoIterator<Item = &'a str>) -> Result<ClientSet, Vec<String>> {
        let data = data();
        let known = &data.client_ids;
        let mut entries = Vec::new();
        let mut unknown = Vec::new();
        for id in ids {
            let id = id.trim();
            if id.is_empty() {
                continue;
            }
            match id.split_once('.') {
                Some((f, p)) if known.iter().any(|k| k == id) => {
                    entries.push((f.to_owned(), Some(p.to_owned())))
                }
                None if data.families.contains_key(id) => entries.push((id.to_owned(), None)),
                _ => unknown.push(id.to_owned()),
            }
        }
        if unknown.is_empty() {
            Ok(ClientSet { entries })
        } else {
            Err(unknown)
        }
    }

    fn contains(&self, family: &str, platform: &str) -> bool {
        self.entries
            .iter()
            .any(|(f, p)| f == family && p.as_deref().is_none_or(|p| p == platform))
    }
}

/// True when a version key is a test date (`2020-11`) rather than an app version: only the latest
/// test date describes the client people use today, while every app version may still be in use.
fn is_test_date(version: &str) -> bool {
    let b = version.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit())
}

impl Feature {
    /// The target clients that lack, or only partly have, this feature.
    pub fn impacts(&self, clients: &ClientSet) -> Vec<ClientImpact> {
        let data = data();
        let mut out = Vec::new();
        for s in &self.stats {
            if !clients.contains(&s.family, &s.platform) {
                continue;
            }
            let considered: &[(String, String)] = match s.results.last() {
                Some((v, _)) if is_test_date(v) => &s.results[s.results.len() - 1..],
                _ => &s.results,
            };
            for (level, label) in [('n', "unsupported"), ('a', "partial")] {
                let hits: Vec<&(String, String)> = considered
                    .iter()
                    .filter(|(_, r)| r.starts_with(level))
                    .collect();
                if hits.is_empty() {
                    continue;
                }
                let mut notes: Vec<String> = hits
                    .iter()
                    .flat_map(|(_, r)| r.split_whitespace().filter_map(|t| t.strip_prefix('#')))
                    .filter_map(|n| self.notes.get(n).map(|note| first_sentence(note)))
                    .collect();
                notes.dedup();
                out.push(ClientImpact {
                    client: format!("{}.{}", s.family, s.platform),
                    name: data.client_name(&s.family, &s.platform),
                    support: label.to_owned(),
                    versions: hits.iter().map(|(v, _)| v.clone()).collect(),
                    notes,
                });
            }
        }
        out
    }
}

/// The first sentence of a caniemail note (at most 200 characters): notes can run to
/// paragraphs, and every finding carries them per client.
fn first_sentence(note: &str) -> String {
    let end = note.find(". ").map_or(note.len(), |i| i + 1);
    let sentence = note.get(..end).unwrap_or(note);
    if sentence.chars().count() > 200 {
        let mut cut: String = sentence.chars().take(199).collect();
        cut.push('…');
        cut
    } else {
        sentence.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_all_features() {
        assert_eq!(data().len(), 307);
        assert!(data().has("css-display-flex"));
    }

    #[test]
    fn flex_is_unsupported_in_outlook_windows_all_versions() {
        let f = data().feature("css-display-flex").unwrap();
        let impacts = f.impacts(&ClientSet::default());
        let outlook = impacts
            .iter()
            .find(|i| i.client == "outlook.windows")
            .unwrap();
        assert_eq!(outlook.support, "unsupported");
        assert!(outlook.versions.contains(&"2007".to_owned()));
    }

    #[test]
    fn rejects_unknown_clients() {
        assert_eq!(
            ClientSet::parse(["gmail", "nope.x", "hotmail"]).unwrap_err(),
            vec!["nope.x", "hotmail"]
        );
        assert!(ClientSet::parse(["gmail", "outlook.windows"]).is_ok());
    }
}
