//! Email rules over a parsed HTML document: Gmail clipping, images, links, unsubscribe,
//! preheader, accessibility, contrast, dark mode, postal address, brand and spam patterns.

use crate::color::{contrast_ratio, parse_color};
use crate::context::{Ctx, has_merge_tag, host_matches, host_of, snippet_at, style_hides};
use crate::css::Scan;
use crate::html::Document;
use crate::rules;
use regex::Regex;
use std::sync::OnceLock;

/// Gmail clips HTML above 102 KB (102 × 1024 bytes of the HTML part as sent).
pub const GMAIL_CLIP_BYTES: usize = 102 * 1024;

const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "tiny.cc",
    "rb.gy",
    "t.ly",
    "bl.ink",
    "lnkd.in",
    "s.id",
    "v.gd",
    "shorte.st",
    "adf.ly",
    "bitly.com",
];

const UNSUBSCRIBE_WORDS: &[&str] = &[
    "unsubscribe",
    "opt out",
    "opt-out",
    "abmelden",
    "abbestellen",
    "désinscri",
    "desinscri",
    "se désabonner",
    "darse de baja",
    "cancelar suscripción",
    "afmelden",
    "disiscriviti",
    "annulla iscrizione",
    "avregistrera",
    "manage preferences",
    "email preferences",
    "manage your subscription",
];

/// How much of the document the enabled rules need: client support, dark mode and clipping
/// work from elements and styles alone, every other rule needs the full tree and text.
pub(crate) fn detail_needed(ctx: &Ctx<'_>) -> crate::html::Detail {
    use rules::*;
    let tree_rules = [
        IMG_ALT,
        IMG_DIMENSIONS,
        IMG_HTTP,
        LINK_MALFORMED,
        LINK_HTTP,
        LINK_EMPTY,
        LINK_JAVASCRIPT,
        LINK_UTM,
        LINK_TEXT_MISMATCH,
        LINK_DOMAIN,
        UNSUBSCRIBE_LINK,
        PREHEADER,
        HTML_LANG,
        HTML_DIR,
        TABLE_ROLE,
        HEADING_ORDER,
        CONTRAST,
        POSTAL_ADDRESS,
        BRAND_FOOTER,
        SPAM_IMAGE_ONLY,
        SPAM_CAPS,
        SPAM_EXCLAMATION,
        URL_SHORTENER,
    ];
    if ctx.any(&tree_rules) {
        crate::html::Detail::Full
    } else {
        crate::html::Detail::Features
    }
}

/// Runs the rules that need no document model (client support, dark mode, clipping) straight
/// on the decoded source: what [`check`] does when [`detail_needed`] says
/// [`Features`](crate::html::Detail::Features), without building elements.
pub(crate) fn check_features(source: &str, html_bytes: usize, ctx: &mut Ctx<'_>) {
    use rules::*;
    if ctx.any(&[CLIENT_SUPPORT, DARK_MODE]) {
        let dark = ctx.on(&DARK_MODE);
        let found = crate::support::scan_source(source, dark);
        let lines = crate::source::LineIndex::new(source);
        crate::support::check(source, &lines, &found.uses, ctx);
        if dark {
            dark_mode(found.color_scheme_meta, &found.scan, ctx);
        }
    }
    clipping(html_bytes, ctx);
}

/// Runs every email rule on a document. `subject` is the message subject, if known.
pub(crate) fn check(doc: &Document, subject: Option<&str>, html_bytes: usize, ctx: &mut Ctx<'_>) {
    use rules::*;
    // Rule families whose rules are all disabled are skipped entirely, so a policy that keeps
    // only client support (as the benchmark does) pays only for that.
    if ctx.any(&[CLIENT_SUPPORT, DARK_MODE]) {
        let (uses, scan) = crate::support::feature_uses(doc);
        crate::support::check(&doc.source, doc.lines(), &uses, ctx);
        if ctx.on(&DARK_MODE) {
            let meta = doc.by_name("meta").any(|(_, m)| {
                m.attr("name").is_some_and(|n| {
                    n.eq_ignore_ascii_case("color-scheme")
                        || n.eq_ignore_ascii_case("supported-color-schemes")
                })
            });
            dark_mode(meta, &scan, ctx);
        }
    }
    clipping(html_bytes, ctx);
    if ctx.any(&[IMG_ALT, IMG_DIMENSIONS, IMG_HTTP]) {
        images(doc, ctx);
    }
    if ctx.any(&[
        LINK_EMPTY,
        LINK_JAVASCRIPT,
        LINK_MALFORMED,
        LINK_HTTP,
        URL_SHORTENER,
        LINK_DOMAIN,
        LINK_TEXT_MISMATCH,
        LINK_UTM,
        UNSUBSCRIBE_LINK,
    ]) {
        links(doc, ctx);
    }
    preheader(doc, ctx);
    if ctx.any(&[HTML_LANG, HTML_DIR, TABLE_ROLE, HEADING_ORDER]) {
        accessibility(doc, ctx);
    }
    contrast(doc, ctx);
    if ctx.any(&[
        POSTAL_ADDRESS,
        BRAND_FOOTER,
        SPAM_IMAGE_ONLY,
        SPAM_CAPS,
        SPAM_EXCLAMATION,
    ]) {
        let text = doc.body_text();
        footer(&text, ctx);
        spam(doc, subject, &text, ctx);
    }
}

fn clipping(bytes: usize, ctx: &mut Ctx<'_>) {
    let kb = |b: usize| format!("{:.1} KB", b as f64 / 1024.0);
    if bytes > GMAIL_CLIP_BYTES {
        ctx.whole(
            &rules::GMAIL_CLIPPING,
            format!(
                "HTML is {} ({bytes} bytes); Gmail clips above 102 KB",
                kb(bytes)
            ),
        );
    } else if bytes > ctx.policy.spec.email.gmail_clip_warn_bytes {
        ctx.whole(
            &rules::GMAIL_CLIPPING_NEAR,
            format!(
                "HTML is {} ({bytes} bytes), {} under Gmail's 102 KB clipping limit",
                kb(bytes),
                kb(GMAIL_CLIP_BYTES - bytes)
            ),
        );
    }
}

fn images(doc: &Document, ctx: &mut Ctx<'_>) {
    for (_, img) in doc.by_name("img") {
        if !img.has("alt") {
            ctx.at(
                doc,
                &rules::IMG_ALT,
                img.offset,
                "image has no alt attribute",
            );
        }
        let style = img.attr("style").unwrap_or("").to_ascii_lowercase();
        let has_w = img.has("width") || style.contains("width");
        let has_h = img.has("height") || style.contains("height");
        if !(img.has("width") && (has_h || img.has("height"))) || !has_w {
            let missing = match (img.has("width"), img.has("height") || has_h) {
                (false, false) => "width and height",
                (false, true) => "a width attribute",
                _ => "a height",
            };
            ctx.at(
                doc,
                &rules::IMG_DIMENSIONS,
                img.offset,
                format!("image has no {missing}"),
            );
        }
        if img.attr("src").is_some_and(|s| {
            s.trim()
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
        }) {
            ctx.at(
                doc,
                &rules::IMG_HTTP,
                img.offset,
                "image is loaded over http",
            );
        }
    }
}

/// True when a link is an unsubscribe link by its text or URL.
fn is_unsubscribe(href: &str, text: &str, extra: &[String]) -> bool {
    let h = href.to_ascii_lowercase();
    let t = text.to_lowercase();
    h.contains("unsub")
        || h.contains("optout")
        || h.contains("opt-out")
        || UNSUBSCRIBE_WORDS.iter().any(|w| t.contains(w))
        || extra.iter().any(|w| t.contains(&w.to_lowercase()))
}

/// The URL-looking visible text of a link, if it reads like a URL or domain.
fn visible_url(text: &str) -> Option<url::Url> {
    let t = text.trim().trim_end_matches(['.', ',', ')']);
    if t.contains(char::is_whitespace) || !t.contains('.') || t.contains('@') {
        return None;
    }
    static DOMAIN: OnceLock<Option<Regex>> = OnceLock::new();
    let re = DOMAIN
        .get_or_init(|| {
            Regex::new(r"(?i)^(https?://)?(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(/\S*)?$")
                .ok()
        })
        .as_ref()?;
    if !re.is_match(t) {
        return None;
    }
    let with_scheme = if t.to_ascii_lowercase().starts_with("http") {
        t.to_owned()
    } else {
        format!("https://{t}")
    };
    url::Url::parse(&with_scheme).ok()
}

fn links(doc: &Document, ctx: &mut Ctx<'_>) {
    let texts = doc.texts_by_ancestor("a");
    let policy = &ctx.policy.spec;
    let utm = policy.email.utm.clone();
    let approved = policy.brand.approved_link_domains.clone();
    let extra_words = policy.email.unsubscribe_words.clone();
    let mut unsubscribe = false;
    for (i, a) in doc.by_name("a") {
        let Some(href) = a.attr("href") else { continue };
        let text = texts.get(&i).map_or("", String::as_str);
        let raw = href.trim();
        if is_unsubscribe(raw, text, &extra_words) {
            unsubscribe = true;
        }
        let lower = raw.to_ascii_lowercase();
        if raw.is_empty() || raw == "#" {
            ctx.at(
                doc,
                &rules::LINK_EMPTY,
                a.offset,
                format!(
                    "link \"{}\" has an empty href",
                    crate::finding::shorten(text)
                ),
            );
            continue;
        }
        if lower.starts_with("javascript:") {
            ctx.at(
                doc,
                &rules::LINK_JAVASCRIPT,
                a.offset,
                "link runs javascript:",
            );
            continue;
        }
        if raw.starts_with('#') || has_merge_tag(raw) {
            continue;
        }
        if ["mailto:", "tel:", "sms:"]
            .iter()
            .any(|s| lower.starts_with(s))
        {
            continue;
        }
        let url = match url::Url::parse(raw) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.host_str()
                        .is_some_and(|h| h.contains('.') || h == "localhost") =>
            {
                u
            }
            Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                ctx.at(
                    doc,
                    &rules::LINK_MALFORMED,
                    a.offset,
                    format!("link has an unexpected scheme `{}:`", u.scheme()),
                );
                continue;
            }
            Ok(_) => {
                ctx.at(
                    doc,
                    &rules::LINK_MALFORMED,
                    a.offset,
                    format!("link `{}` has no valid host", crate::finding::shorten(raw)),
                );
                continue;
            }
            Err(e) => {
                let why = if e == url::ParseError::RelativeUrlWithoutBase {
                    "is relative, which has no meaning in an email".to_owned()
                } else {
                    format!("does not parse ({e})")
                };
                ctx.at(
                    doc,
                    &rules::LINK_MALFORMED,
                    a.offset,
                    format!("link `{}` {why}", crate::finding::shorten(raw)),
                );
                continue;
            }
        };
        if raw.contains(char::is_whitespace) {
            ctx.at(
                doc,
                &rules::LINK_MALFORMED,
                a.offset,
                "link contains whitespace",
            );
        }
        if url.scheme() == "http" {
            ctx.at(
                doc,
                &rules::LINK_HTTP,
                a.offset,
                format!("link uses http: `{}`", crate::finding::shorten(raw)),
            );
        }
        let host = host_of(&url).unwrap_or_default();
        if SHORTENERS.contains(&host.as_str()) {
            ctx.at(
                doc,
                &rules::URL_SHORTENER,
                a.offset,
                format!("link goes through the URL shortener {host}"),
            );
        }
        if !approved.is_empty() && !approved.iter().any(|d| host_matches(&host, d)) {
            ctx.at(
                doc,
                &rules::LINK_DOMAIN,
                a.offset,
                format!("link to {host}, which is not an approved domain"),
            );
        }
        if let Some(shown) = visible_url(text) {
            let shown_host = host_of(&shown).unwrap_or_default();
            if !shown_host.is_empty()
                && !host_matches(&host, &shown_host)
                && !host_matches(&shown_host, &host)
            {
                ctx.at(
                    doc,
                    &rules::LINK_TEXT_MISMATCH,
                    a.offset,
                    format!("link text shows {shown_host} but the link goes to {host}"),
                );
            }
        }
        let utm_applies = !utm.required.is_empty()
            && !is_unsubscribe(raw, text, &extra_words)
            && (utm.domains.is_empty() || utm.domains.iter().any(|d| host_matches(&host, d)));
        if utm_applies {
            let present: Vec<String> = url
                .query_pairs()
                .map(|(k, _)| k.to_ascii_lowercase())
                .collect();
            let missing: Vec<&str> = utm
                .required
                .iter()
                .filter(|r| !present.contains(&r.to_ascii_lowercase()))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                ctx.at(
                    doc,
                    &rules::LINK_UTM,
                    a.offset,
                    format!("link to {host} lacks {}", missing.join(", ")),
                );
            }
        }
    }
    if !unsubscribe {
        ctx.whole(
            &rules::UNSUBSCRIBE_LINK,
            "no link labelled \"unsubscribe\" (or pointing to an unsubscribe URL) in the body",
        );
    }
}

fn preheader(doc: &Document, ctx: &mut Ctx<'_>) {
    if !ctx.on(&rules::PREHEADER) {
        return;
    }
    let body = doc.by_name("body").next().map(|(i, _)| i);
    let in_body = |i: usize| body.is_none_or(|b| doc.is_within(i, b));
    let mut tried = 0;
    let candidate = doc.elements.iter().enumerate().find(|(i, e)| {
        let marked = ["class", "id"].iter().any(|a| {
            e.attr(a).is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                v.contains("preheader") || v.contains("preview")
            })
        });
        let hidden = in_body(*i)
            && e.name != "style"
            && (marked || e.attr("style").is_some_and(style_hides));
        // Only the first few hidden elements can be a preheader; bounding this keeps hostile
        // documents with thousands of hidden elements linear.
        hidden && {
            tried += 1;
            tried <= 20 && !doc.text_within(*i).is_empty()
        }
    });
    let (min, max) = (
        ctx.policy.spec.email.preheader_min_chars,
        ctx.policy.spec.email.preheader_max_chars,
    );
    match candidate {
        None => {
            let first: String = doc.body_text().chars().take(60).collect();
            ctx.whole(
                &rules::PREHEADER,
                format!("no preheader; inboxes will preview the first body text: \"{first}\""),
            );
        }
        Some((i, e)) => {
            let text: String = doc
                .text_within(i)
                .chars()
                .filter(|c| {
                    !matches!(
                        c,
                        '\u{200c}'
                            | '\u{200b}'
                            | '\u{a0}'
                            | '\u{34f}'
                            | '\u{ad}'
                            | '\u{2007}'
                            | '\u{feff}'
                    )
                })
                .collect();
            let n = text.trim().chars().count();
            if n < min {
                ctx.at(
                    doc,
                    &rules::PREHEADER,
                    e.offset,
                    format!("preheader is {n} characters; aim for {min}–{max}"),
                );
            } else if n > max {
                ctx.at(
                    doc,
                    &rules::PREHEADER,
                    e.offset,
                    format!("preheader is {n} characters; inboxes show about {max}"),
                );
            }
        }
    }
}

fn accessibility(doc: &Document, ctx: &mut Ctx<'_>) {
    match doc.by_name("html").next() {
        Some((_, html)) => {
            if html.attr("lang").is_none_or(|l| l.trim().is_empty()) {
                ctx.at(
                    doc,
                    &rules::HTML_LANG,
                    html.offset,
                    "<html> has no lang attribute",
                );
            }
            if !html.has("dir") {
                ctx.at(
                    doc,
                    &rules::HTML_DIR,
                    html.offset,
                    "<html> has no dir attribute",
                );
            }
        }
        None => {
            ctx.whole(
                &rules::HTML_LANG,
                "the document has no <html> element with a lang attribute",
            );
        }
    }
    let mut layout_tables = Vec::new();
    for (i, t) in doc.by_name("table") {
        let role = t.attr("role").unwrap_or("").to_ascii_lowercase();
        if role == "presentation" || role == "none" {
            continue;
        }
        let end = doc.elements.len();
        let is_data = doc.elements[i + 1..end]
            .iter()
            .enumerate()
            .take_while(|(k, _)| doc.is_within(i + 1 + k, i))
            .any(|(_, e)| e.name == "th" || e.name == "caption");
        if !is_data {
            layout_tables.push(t.offset);
        }
    }
    if !layout_tables.is_empty() {
        let n = layout_tables.len();
        let msg = if n == 1 {
            "layout table has no role=\"presentation\"".to_owned()
        } else {
            format!("{n} layout tables have no role=\"presentation\"")
        };
        ctx.grouped(doc, &rules::TABLE_ROLE, &layout_tables, msg);
    }
    let mut previous: Option<u8> = None;
    for e in &doc.elements {
        let level = match e.name.as_bytes() {
            [b'h', d @ b'1'..=b'6'] => d - b'0',
            _ => continue,
        };
        if let Some(p) = previous
            && level > p + 1
        {
            ctx.at(
                doc,
                &rules::HEADING_ORDER,
                e.offset,
                format!("<h{level}> follows <h{p}>, skipping a level"),
            );
        }

        previous = Some(level);
    }
}

/// The foreground/background of an element from inline styles and presentational attributes,
/// walking up the ancestors. `None` where a value is not computable from the markup.
fn inline_colors(doc: &Document, index: usize) -> (Option<[u8; 3]>, Option<[u8; 3]>, f32) {
    let (mut fg, mut bg, mut size) = (None, None, None);
    let mut cur = Some(index);
    let mut depth = 0;
    while let (Some(i), true) = (cur, depth < 256) {
        let Some(e) = doc.elements.get(i) else { break };
        if let Some(style) = e.attr("style") {
            for decl in style.split(';') {
                let Some((n, v)) = decl.split_once(':') else {
                    continue;
                };
                let (n, v) = (n.trim().to_ascii_lowercase(), v.trim());
                match n.as_str() {
                    "color" if fg.is_none() => fg = parse_color(v),
                    "background-color" | "background" if bg.is_none() => {
                        bg = parse_color(v.split_whitespace().next().unwrap_or(""))
                    }
                    "font-size" if size.is_none() => {
                        size = v
                            .strip_suffix("px")
                            .and_then(|p| p.trim().parse::<f32>().ok())
                    }
                    _ => {}
                }
            }
        }
        if fg.is_none() && e.name == "font" {
            fg = e.attr("color").and_then(parse_color);
        }
        if bg.is_none() {
            bg = e.attr("bgcolor").and_then(parse_color);
        }
        if fg.is_some() && bg.is_some() && size.is_some() {
            break;
        }
        cur = e.parent;
        depth += 1;
    }
    (fg, bg, size.unwrap_or(16.0))
}

fn contrast(doc: &Document, ctx: &mut Ctx<'_>) {
    if !ctx.on(&rules::CONTRAST) {
        return;
    }
    // Only text whose colour and background are both set inline is computable; stylesheet rules
    // and client dark modes are not evaluated.
    let mut seen = std::collections::HashSet::new();
    let mut groups: Vec<((String, String, String), Vec<usize>)> = Vec::new();
    for t in &doc.texts {
        let Some(parent) = t.parent else { continue };
        if t.text.trim().is_empty() || !seen.insert(parent) {
            continue;
        }
        let (Some(fg), Some(bg), size) = inline_colors(doc, parent) else {
            continue;
        };
        let ratio = contrast_ratio(fg, bg);
        let needed = if size >= 24.0 { 3.0 } else { 4.5 };
        if ratio < needed {
            let key = (hex(fg), hex(bg), format!("{ratio:.2}:1 (needs {needed}:1)"));
            let offset = doc.elements.get(parent).map_or(t.offset, |e| e.offset);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(offset),
                None => groups.push((key, vec![offset])),
            }
        }
    }
    for ((fg, bg, ratio), offsets) in groups {
        ctx.grouped(
            doc,
            &rules::CONTRAST,
            &offsets,
            format!("text {fg} on {bg} has contrast {ratio}"),
        );
    }
}

fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// `meta`: the document has a `<meta name="color-scheme">` (or `supported-color-schemes`).
fn dark_mode(meta: bool, scan: &Scan, ctx: &mut Ctx<'_>) {
    let css = scan.declarations.iter().any(|d| d.name == "color-scheme")
        || scan
            .media
            .iter()
            .any(|(m, _)| m.contains("prefers-color-scheme"))
        || scan
            .selectors
            .iter()
            .any(|(s, _)| s.contains("data-ogsc") || s.contains("data-ogsb"));
    if !meta && !css {
        ctx.whole(
            &rules::DARK_MODE,
            "no color-scheme meta and no prefers-color-scheme styles",
        );
    } else if !meta {
        ctx.whole(
            &rules::DARK_MODE,
            "dark-mode styles present but no <meta name=\"color-scheme\" content=\"light dark\">",
        );
    }
}

fn postal_address_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?i)(\b\d{1,5}\s+([a-zà-ÿ.'-]+\s+){0,4}(street|st\.?|avenue|ave\.?|road|rd\.?|boulevard|blvd\.?|lane|ln\.?|drive|dr\.?|way|place|pl\.?|square|sq\.?|court|ct\.?|parkway|pkwy|highway|hwy|suite|plaza|terrace)\b)",
            r"|(\b(p\.?\s?o\.?\s+box|postfach|boîte postale|apartado)\s*\d+)",
            r"|(\b[A-Z]{2}\s+\d{5}(-\d{4})?\b)",
            r"|(\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b)",
            r"|([a-zäöüß]+(straße|strasse|str\.|weg|platz|gasse|allee)\s*\d+)",
            r"|(\b(rue|avenue|boulevard|chemin|via|viale|piazza|calle|avenida|plaza|carrer|rua)\s+[^\d,]{2,40}\d*)"
        ))
        .ok()
    })
    .as_ref()
}

fn footer(text: &str, ctx: &mut Ctx<'_>) {
    if ctx.on(&rules::POSTAL_ADDRESS) && !postal_address_regex().is_some_and(|re| re.is_match(text))
    {
        ctx.whole(
            &rules::POSTAL_ADDRESS,
            "no postal address found in the text (street and number, PO box or postcode)",
        );
    }
    let required = ctx.policy.spec.brand.required_footer_text.clone();
    let collapsed = text.to_lowercase();
    for r in required {
        let want = r
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if !collapsed.contains(&want) {
            ctx.whole(
                &rules::BRAND_FOOTER,
                format!("required text \"{r}\" is missing"),
            );
        }
    }
}

fn spam(doc: &Document, subject: Option<&str>, text: &str, ctx: &mut Ctx<'_>) {
    let images: Vec<usize> = doc
        .by_name("img")
        .filter(|(_, i)| {
            let tiny = |a: &str| {
                i.attr(a)
                    .and_then(|v| v.trim().trim_end_matches("px").parse::<u32>().ok())
                    .is_some_and(|v| v <= 2)
            };
            !(tiny("width") || tiny("height"))
        })
        .map(|(_, i)| i.offset)
        .collect();
    let chars = text.chars().filter(|c| c.is_alphanumeric()).count();
    if !images.is_empty() && chars < 100 {
        ctx.whole(
            &rules::SPAM_IMAGE_ONLY,
            format!(
                "{} images and only {chars} characters of text: the email is image-only",
                images.len()
            ),
        );
    } else if !images.is_empty() && chars < images.len() * 100 {
        ctx.whole(
            &rules::SPAM_IMAGE_ONLY,
            format!(
                "{} images for {chars} characters of text (under 100 characters per image)",
                images.len()
            ),
        );
    }
    let subject = subject
        .map(str::to_owned)
        .unwrap_or_else(|| doc.title.clone());
    let letters: Vec<char> = subject.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() >= 8
        && letters.iter().filter(|c| c.is_uppercase()).count() * 10 >= letters.len() * 7
    {
        ctx.whole(
            &rules::SPAM_CAPS,
            format!(
                "subject is in capitals: \"{}\"",
                crate::finding::shorten(&subject)
            ),
        );
    }
    if subject.matches('!').count() > 1 {
        ctx.whole(
            &rules::SPAM_EXCLAMATION,
            format!(
                "subject has {} exclamation marks",
                subject.matches('!').count()
            ),
        );
    }
    if let Some(t) = doc.texts.iter().find(|t| t.text.contains("!!")) {
        let off = t.offset + t.text.find("!!").unwrap_or(0);
        let _ = snippet_at;
        ctx.at(
            doc,
            &rules::SPAM_EXCLAMATION,
            off.min(t.offset),
            "repeated exclamation marks in the text",
        );
    }
}
