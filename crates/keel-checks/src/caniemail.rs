//! The caniemail.com support tables (MIT, embedded from `data/caniemail/`) and the question they
//! answer: which of the target clients lack, or only partly have, a feature.

use crate::finding::ClientImpact;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
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

/// A JSON string, borrowed from the embedded data when it has no escapes.
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON value that is a string or anything else (which reads as `None`).
struct MaybeStr<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for MaybeStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<MaybeStr<'de>, E> {
                Ok(MaybeStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<MaybeStr<'de>, E> {
                Ok(MaybeStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<MaybeStr<'de>, E> {
                Ok(MaybeStr(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<MaybeStr<'de>, E> {
                Ok(MaybeStr(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<MaybeStr<'de>, E> {
                Ok(MaybeStr(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<MaybeStr<'de>, E> {
                Ok(MaybeStr(None))
            }
            fn visit_unit<E>(self) -> Result<MaybeStr<'de>, E> {
                Ok(MaybeStr(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<MaybeStr<'de>, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeStr(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<MaybeStr<'de>, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(MaybeStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON object's entries in source order; anything but an object reads as no entries (as
/// `Value::as_object` did).
struct Entries<'a, T>(Vec<(Str<'a>, T)>);

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Entries<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Entries<'de, T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Entries<'de, T>, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = a.next_entry()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Entries<'de, T>, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Entries(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<Entries<'de, T>, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Entries<'de, T>, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Entries<'de, T>, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Entries<'de, T>, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Entries<'de, T>, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Entries<'de, T>, E> {
                Ok(Entries(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<T> Default for Entries<'_, T> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

/// The parts of the caniemail JSON the checks read; everything else is skipped unparsed.
#[derive(Deserialize, Default)]
struct RawData<'a> {
    #[serde(borrow, default)]
    data: Vec<RawFeature<'a>>,
    #[serde(borrow, default)]
    nicenames: RawNames<'a>,
}

#[derive(Deserialize, Default)]
struct RawNames<'a> {
    #[serde(borrow, default)]
    family: Entries<'a, MaybeStr<'a>>,
    #[serde(borrow, default)]
    platform: Entries<'a, MaybeStr<'a>>,
}

#[derive(Deserialize)]
struct RawFeature<'a> {
    #[serde(borrow, default)]
    slug: Option<MaybeStr<'a>>,
    #[serde(borrow, default)]
    title: Option<MaybeStr<'a>>,
    #[serde(borrow, default)]
    url: Option<MaybeStr<'a>>,
    #[serde(borrow, default)]
    stats: Entries<'a, Entries<'a, Entries<'a, MaybeStr<'a>>>>,
    #[serde(borrow, default)]
    notes_by_num: Entries<'a, MaybeStr<'a>>,
}

fn owned(s: Option<MaybeStr<'_>>) -> String {
    s.and_then(|m| m.0).map(Cow::into_owned).unwrap_or_default()
}

impl Data {
    fn parse(json: &str) -> Data {
        // The data is embedded at build time and covered by tests; a malformed copy yields an
        // empty table (no client findings) rather than a crash. Deserialising straight into the
        // fields read (borrowing strings) makes this a few milliseconds of every process's start.
        let raw: RawData<'_> = serde_json::from_str(json).unwrap_or_default();
        let mut features = Vec::with_capacity(raw.data.len());
        for f in raw.data {
            let mut stats = Vec::new();
            for (family, platforms) in f.stats.0 {
                for (platform, versions) in platforms.0 {
                    let results = versions
                        .0
                        .into_iter()
                        .map(|(v, r)| {
                            (
                                v.0.into_owned(),
                                r.0.map_or_else(|| "u".to_owned(), Cow::into_owned),
                            )
                        })
                        .collect();
                    stats.push(PlatformStats {
                        family: family.0.clone().into_owned(),
                        platform: platform.0.into_owned(),
                        results,
                    });
                }
            }
            let notes = f
                .notes_by_num
                .0
                .into_iter()
                .map(|(k, v)| {
                    (
                        k.0.into_owned(),
                        v.0.map(Cow::into_owned).unwrap_or_default(),
                    )
                })
                .collect();
            features.push(Feature {
                slug: owned(f.slug),
                title: owned(f.title),
                url: owned(f.url),
                stats,
                notes,
            });
        }
        let names = |entries: Entries<'_, MaybeStr<'_>>| -> HashMap<String, String> {
            entries
                .0
                .into_iter()
                .map(|(k, v)| {
                    let k = k.0.into_owned();
                    let v = v.0.map_or_else(|| k.clone(), Cow::into_owned);
                    (k, v)
                })
                .collect()
        };
        let families = names(raw.nicenames.family);
        let platforms = names(raw.nicenames.platform);
        Data::index_features(features, families, platforms)
    }

    /// Builds the lookup tables over parsed features.
    fn index_features(
        features: Vec<Feature>,
        families: HashMap<String, String>,
        platforms: HashMap<String, String>,
    ) -> Data {
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
        Data {
            features,
            by_slug,
            by_prefix,
            client_ids,
            families,
            platforms,
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
    use serde_json::Value;

    fn str_of(v: &Value, key: &str) -> String {
        v.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// The previous parser (through `serde_json::Value`), kept to check the typed one.
    fn parse_value(json: &str) -> Data {
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
        let names = |key: &str| -> HashMap<String, String> {
            root.get("nicenames")
                .and_then(|n| n.get(key))
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or(k).to_owned()))
                .collect()
        };
        Data::index_features(features, names("family"), names("platform"))
    }

    #[test]
    fn typed_parse_reads_what_the_value_parse_read() {
        let (a, b) = (Data::parse(DATA), parse_value(DATA));
        assert_eq!(a.features.len(), b.features.len());
        for (x, y) in a.features.iter().zip(&b.features) {
            assert_eq!((&x.slug, &x.title, &x.url), (&y.slug, &y.title, &y.url));
            type Stats = Vec<(String, String, Vec<(String, String)>)>;
            let stats = |f: &Feature| -> Stats {
                f.stats
                    .iter()
                    .map(|s| (s.family.clone(), s.platform.clone(), s.results.clone()))
                    .collect()
            };
            assert_eq!(stats(x), stats(y), "{}", x.slug);
            let sorted = |m: &HashMap<String, String>| {
                let mut v: Vec<_> = m.iter().collect();
                v.sort();
                v.into_iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(sorted(&x.notes), sorted(&y.notes), "{}", x.slug);
        }
        let sorted = |m: &HashMap<String, String>| {
            let mut v: Vec<_> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            v.sort();
            v
        };
        assert_eq!(sorted(&a.families), sorted(&b.families));
        assert_eq!(sorted(&a.platforms), sorted(&b.platforms));
        assert_eq!(a.client_ids, b.client_ids);
        assert!(!a.platforms.is_empty());
    }

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
