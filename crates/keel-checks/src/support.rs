//! Client support: every HTML element and attribute, image format and CSS property, value,
//! at-rule and selector the email uses, looked up in caniemail for the target clients and
//! reported once per feature with every affected client.

use crate::caniemail::SlugHasher;
use crate::caniemail::data;
use crate::context::{Ctx, snippet_in};
use crate::css::{Scan, scan_declarations, scan_stylesheet};
use crate::finding::{ClientImpact, Finding};
use crate::html::{Document, Element};
use crate::rules;
use crate::source::{LineIndex, decode_entities_cow};
use crate::tags::{Sink, Tag};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, OnceLock};

/// An element as client support reads it: a parsed [`Element`], or a [`Tag`] borrowed from the
/// source whose values are decoded only when read.
trait ElementView {
    fn name(&self) -> &str;
    fn attr_count(&self) -> usize;
    fn attr_name(&self, i: usize) -> &str;
    /// The value of attribute `i`, character references decoded.
    fn attr_value(&self, i: usize) -> Cow<'_, str>;

    /// The value of the attribute `name`, if present.
    fn attr(&self, name: &str) -> Option<Cow<'_, str>> {
        (0..self.attr_count())
            .find(|&i| self.attr_name(i) == name)
            .map(|i| self.attr_value(i))
    }
}

impl ElementView for Element {
    fn name(&self) -> &str {
        &self.name
    }
    fn attr_count(&self) -> usize {
        self.attrs.len()
    }
    fn attr_name(&self, i: usize) -> &str {
        self.attrs.get(i).map_or("", |(n, _)| n.as_str())
    }
    fn attr_value(&self, i: usize) -> Cow<'_, str> {
        Cow::Borrowed(self.attrs.get(i).map_or("", |(_, v)| v.as_str()))
    }
}

/// A scanned tag with the source it borrows from.
struct Borrowed<'t, 's> {
    src: &'s str,
    tag: &'t Tag<'s>,
}

impl ElementView for Borrowed<'_, '_> {
    fn name(&self) -> &str {
        &self.tag.name
    }
    fn attr_count(&self) -> usize {
        self.tag.attrs.len()
    }
    fn attr_name(&self, i: usize) -> &str {
        self.tag.attrs.get(i).map_or("", |(n, _, _)| n.as_ref())
    }
    fn attr_value(&self, i: usize) -> Cow<'_, str> {
        decode_entities_cow(self.tag.raw_value(self.src, i))
    }
}

/// Collects every feature use in the document: HTML from the element list, CSS from `<style>`
/// blocks and `style` attributes.
pub(crate) fn feature_uses(doc: &Document) -> (Vec<(usize, usize)>, Scan) {
    let mut uses: Vec<(usize, usize)> = Vec::new();
    let data = data();
    if let (Some(o), Some(f)) = (doc.doctype, data.index("html-doctype")) {
        uses.push((f, o));
    }
    if let Some(f) = data.index("html-comments") {
        uses.extend(doc.comments.iter().map(|(o, _)| (f, *o)));
    }
    let mut scan = Scan::default();
    for e in &doc.elements {
        element_uses(e, e.offset, &mut uses);
        if let (Some(style), Some(base)) = (e.attr("style"), e.style_offset) {
            scan_declarations(style, base, &mut scan);
        }
    }
    for s in &doc.styles {
        scan_stylesheet(&s.css, s.offset, &mut scan);
    }
    uses.extend(scan.uses.drain(..).map(|u| (u.feature, u.offset)));
    (uses, scan)
}

/// What [`scan_source`] finds.
pub(crate) struct SourceFeatures {
    /// Feature uses, `(feature index, byte offset)` (HTML and CSS interleaved).
    pub uses: Vec<(usize, usize)>,
    /// The CSS scan (its `uses` already moved into `uses`).
    pub scan: Scan,
    /// True when a `<meta name="color-scheme">` (or `supported-color-schemes`) is present.
    pub color_scheme_meta: bool,
}

/// Collects the same feature uses as [`feature_uses`] straight from the source text with the
/// tag scanner, copying nothing. `details`: also record the declarations, media queries and
/// selectors the dark-mode rule reads.
pub(crate) fn scan_source(src: &str, details: bool) -> SourceFeatures {
    type Memo<'s> = HashMap<&'s str, (usize, usize), BuildHasherDefault<SlugHasher>>;
    struct Collect<'s> {
        out: SourceFeatures,
        comments: Option<usize>,
        details: bool,
        /// Inline styles repeat (inliners copy the same declarations onto every cell): each
        /// distinct `style` value is scanned once; its uses, relative to the value's start, are
        /// the range of `relative` the memo points at.
        memo: Memo<'s>,
        relative: Vec<(usize, usize)>,
    }
    impl<'s> Collect<'s> {
        fn style_attr(&mut self, raw: &'s str, base: usize) {
            if let Some(&(from, to)) = self.memo.get(raw) {
                let cached = self.relative.get(from..to).unwrap_or(&[]);
                self.out
                    .uses
                    .extend(cached.iter().map(|&(feature, rel)| (feature, base + rel)));
                return;
            }
            let scan = &mut self.out.scan;
            let before = scan.uses.len();
            scan_declarations(&decode_entities_cow(raw), base, scan);
            // Only the uses are memoised: with details (dark mode) every declaration is kept too.
            if self.details {
                return;
            }
            let from = self.relative.len();
            self.relative.extend(
                scan.uses
                    .drain(before..)
                    .map(|u| (u.feature, u.offset.saturating_sub(base))),
            );
            let to = self.relative.len();
            self.out.uses.extend(
                self.relative[from..to]
                    .iter()
                    .map(|&(feature, rel)| (feature, base + rel)),
            );
            self.memo.insert(raw, (from, to));
        }
    }
    impl<'s> Sink<'s> for Collect<'s> {
        fn element(&mut self, src: &'s str, tag: &Tag<'s>) {
            let view = Borrowed { src, tag };
            element_uses(&view, tag.offset, &mut self.out.uses);
            if let Some(base) = tag.style_offset
                && let Some(i) = (0..view.attr_count()).find(|&i| view.attr_name(i) == "style")
            {
                self.style_attr(tag.raw_value(src, i), base);
            }
            if tag.name == "meta"
                && view.attr("name").is_some_and(|n| {
                    n.eq_ignore_ascii_case("color-scheme")
                        || n.eq_ignore_ascii_case("supported-color-schemes")
                })
            {
                self.out.color_scheme_meta = true;
            }
        }
        fn style(&mut self, css: &'s str, offset: usize) {
            scan_stylesheet(css, offset, &mut self.out.scan);
        }
        fn comment(&mut self, offset: usize, _text: &'s str) {
            if let Some(f) = self.comments {
                self.out.uses.push((f, offset));
            }
        }
        fn doctype(&mut self, offset: usize) {
            if let Some(f) = data().index("html-doctype") {
                self.out.uses.push((f, offset));
            }
        }
    }
    let mut scan = Scan::default();
    scan.set_details(details);
    let mut sink = Collect {
        out: SourceFeatures {
            uses: Vec::with_capacity(256),
            scan,
            color_scheme_meta: false,
        },
        comments: data().index("html-comments"),
        details,
        memo: Memo::default(),
        relative: Vec::new(),
    };
    crate::tags::scan_with(src, &mut sink);
    let mut out = sink.out;
    out.uses
        .extend(out.scan.uses.drain(..).map(|u| (u.feature, u.offset)));
    out
}

fn element_uses(e: &impl ElementView, at: usize, uses: &mut Vec<(usize, usize)>) {
    let data = data();
    let mut add = |prefix: &str, name: &str| {
        if let Some(f) = data.index_joined(prefix, name) {
            uses.push((f, at));
        }
    };
    let name = e.name();
    match name {
        "abbr" | "acronym" | "address" | "audio" | "base" | "bdi" | "blockquote" | "body"
        | "code" | "del" | "dfn" | "dialog" | "div" | "form" | "hr" | "img" | "link"
        | "marquee" | "meter" | "object" | "p" | "picture" | "pre" | "progress" | "rp" | "rt"
        | "ruby" | "select" | "small" | "span" | "strike" | "strong" | "style" | "svg"
        | "table" | "textarea" | "video" | "wbr" => add("html-", name),
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => add("", "html-h1-h6"),
        "ul" | "ol" | "dl" => add("", "html-lists"),
        "map" | "area" => add("", "html-image-maps"),
        "article" | "aside" | "details" | "figcaption" | "figure" | "footer" | "header"
        | "main" | "mark" | "nav" | "section" | "summary" | "time" => add("", "html-semantics"),
        "input" => {
            let t = e
                .attr("type")
                .unwrap_or(Cow::Borrowed("text"))
                .to_ascii_lowercase();
            if matches!(
                t.as_str(),
                "checkbox" | "hidden" | "radio" | "reset" | "submit" | "text"
            ) {
                add("html-input-", &t);
            }
        }
        "button" => {
            let t = e
                .attr("type")
                .unwrap_or(Cow::Borrowed("submit"))
                .to_ascii_lowercase();
            if matches!(t.as_str(), "submit" | "reset") {
                add("html-button-", &t);
            }
        }
        "meta"
            if e.attr("name")
                .is_some_and(|n| n.eq_ignore_ascii_case("color-scheme")) =>
        {
            add("", "html-meta-color-scheme")
        }
        _ => {}
    }
    for i in 0..e.attr_count() {
        let attr = e.attr_name(i);
        match attr {
            "align" | "background" | "cellpadding" | "cellspacing" | "dir" | "height"
            | "hidden" | "lang" | "loading" | "popover" | "required" | "role" | "target"
            | "valign" | "width" => add("html-", attr),
            "srcset" | "sizes" => add("", "html-srcset"),
            "usemap" => add("", "html-image-maps"),
            "inert" => add("", "css-inert-attribute"),
            a if a.starts_with("aria-") => {
                if matches!(
                    a,
                    "aria-describedby"
                        | "aria-hidden"
                        | "aria-label"
                        | "aria-labelledby"
                        | "aria-live"
                ) {
                    add("html-", a);
                }
            }
            "href" if name == "a" => {
                let value = e.attr_value(i);
                let v = value.trim();
                if v.len() > 1 && v.starts_with('#') {
                    add("", "html-anchor-links");
                } else if v
                    .get(..7)
                    .is_some_and(|s| s.eq_ignore_ascii_case("mailto:"))
                {
                    add("", "html-mailto-links");
                }
            }
            "src" if name == "img" => {
                if let Some(format) = image_format(&e.attr_value(i)) {
                    add("", format);
                }
            }
            _ => {}
        }
    }
}

/// The caniemail image-format slug for an image URL, from a data: URI or the file extension.
fn image_format(src: &str) -> Option<&'static str> {
    let src = src.trim();
    if src
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("data:"))
    {
        return Some("image-base64");
    }
    let path = src.split(['?', '#']).next().unwrap_or("");
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    Some(match ext.as_str() {
        "gif" => "image-gif",
        "png" => "image-png",
        "jpg" | "jpeg" => "image-jpg",
        "webp" => "image-webp",
        "avif" => "image-avif",
        "svg" => "image-svg",
        "bmp" => "image-bmp",
        "ico" => "image-ico",
        "tif" | "tiff" => "image-tiff",
        "heif" | "heic" => "image-heif",
        "apng" => "image-apng",
        _ => return None,
    })
}

/// What client support says about one feature for a policy's target clients.
#[derive(Debug, Clone, Default)]
pub(crate) struct Verdict {
    /// Affected clients; empty when every target client supports the feature.
    pub clients: Arc<[ClientImpact]>,
    /// "is not supported in …" (after the feature title and use count).
    pub summary: String,
    /// True when at least one client lacks support entirely (a warning, not a notice).
    pub unsupported: bool,
    /// The help text, with the caniemail URL.
    pub help: &'static str,
}

/// The help text of a feature's findings (the rule's, with the caniemail URL): the same for
/// every policy, so made once per process and shared by every finding.
fn help_text(index: usize) -> &'static str {
    static HELP: OnceLock<Vec<String>> = OnceLock::new();
    let all = HELP.get_or_init(|| {
        let data = data();
        (0..data.len())
            .map(|i| {
                data.feature_at(i).map_or_else(String::new, |f| {
                    format!("{} See {}", rules::CLIENT_SUPPORT.help, f.url)
                })
            })
            .collect()
    });
    all.get(index).map_or("", String::as_str)
}

/// Computes the verdict of every feature for a set of target clients.
pub(crate) fn verdicts(clients: &crate::caniemail::ClientSet) -> Vec<Verdict> {
    let data = data();
    (0..data.len())
        .map(|i| {
            let Some(feature) = data.feature_at(i) else {
                return Verdict::default();
            };
            let impacts = feature.impacts(clients);
            if impacts.is_empty() {
                return Verdict::default();
            }
            Verdict {
                summary: summary(&impacts),
                unsupported: impacts.iter().any(|i| i.support == "unsupported"),
                help: help_text(i),
                clients: impacts.into(),
            }
        })
        .collect()
}

/// Reports unsupported features, one finding per feature, located at its first use.
/// `source` is the checked text and `lines` its line index.
pub(crate) fn check(source: &str, lines: &LineIndex, uses: &[(usize, usize)], ctx: &mut Ctx<'_>) {
    if !ctx.on(&rules::CLIENT_SUPPORT) {
        return;
    }
    let data = data();
    let verdicts = ctx.policy.verdicts();
    // Uses of features every target client supports are dropped before any grouping work; the
    // rest are bucketed per feature (a counting sort keeps each feature's offsets in the order
    // found, which is almost always already source order).
    let reported = |feature: usize| verdicts.get(feature).is_some_and(|v| !v.clients.is_empty());
    let mut starts = vec![0usize; data.len() + 1];
    for &(feature, _) in uses {
        if reported(feature)
            && let Some(count) = starts.get_mut(feature + 1)
        {
            *count += 1;
        }
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut grouped = vec![0usize; starts.last().copied().unwrap_or(0)];
    let mut next = starts.clone();
    for &(feature, offset) in uses {
        if reported(feature)
            && let Some(at) = next.get_mut(feature)
            && let Some(slot) = grouped.get_mut(*at)
        {
            *slot = offset;
            *at += 1;
        }
    }
    let locate = |offset: usize| lines.locate(source, offset);
    for (index, bounds) in starts.windows(2).enumerate() {
        let Some(group) = grouped.get_mut(bounds[0]..bounds[1]) else {
            continue;
        };
        if !group.is_sorted() {
            group.sort_unstable();
        }
        let group = dedup_sorted(group);
        let Some(&first) = group.first() else {
            continue;
        };
        let (Some(feature), Some(verdict)) = (data.feature_at(index), verdicts.get(index)) else {
            continue;
        };
        let rule = &rules::CLIENT_SUPPORT;
        // Built field by field: every string is allocated once, at its final size.
        let f = Finding {
            rule: rule.id.to_owned(),
            severity: if verdict.unsupported {
                rule.severity
            } else {
                crate::finding::Severity::Info
            },
            part: crate::finding::Part::Html,
            location: Some(locate(first)),
            // Already one shortened line (shortening is idempotent).
            snippet: snippet_in(source, first),
            message: message(feature, verdict, group.len()),
            why: Cow::Borrowed(rule.why),
            help: Cow::Borrowed(verdict.help),
            feature: Some(feature.slug.clone()),
            clients: Arc::clone(&verdict.clients),
            // Locations of one feature can repeat thousands of times; keep the report readable.
            more_locations: group.iter().skip(1).take(50).map(|&o| locate(o)).collect(),
        };
        ctx.push(f);
    }
}

/// Removes repeats from a sorted slice in place; returns the distinct prefix.
fn dedup_sorted(v: &mut [usize]) -> &[usize] {
    let mut len = 0;
    for i in 0..v.len() {
        if len == 0 || v[i] != v[len - 1] {
            v[len] = v[i];
            len += 1;
        }
    }
    &v[..len]
}

/// "`title` (used N times) is not supported in …", built in one allocation.
fn message(feature: &crate::caniemail::Feature, verdict: &Verdict, times: usize) -> String {
    use std::fmt::Write;
    let mut m = String::with_capacity(feature.title.len() + verdict.summary.len() + 24);
    m.push('`');
    m.push_str(&feature.title);
    if times == 1 {
        m.push_str("` (used once) ");
    } else {
        let _ = write!(m, "` (used {times} times) ");
    }
    m.push_str(&verdict.summary);
    m
}

fn summary(impacts: &[ClientImpact]) -> String {
    let list = |support: &str| -> String {
        impacts
            .iter()
            .filter(|i| i.support == support)
            .map(|i| {
                if i.versions.len() == 1
                    && i.versions
                        .first()
                        .is_some_and(|v| v.len() == 7 && v.as_bytes()[4] == b'-')
                {
                    i.name.clone()
                } else {
                    format!("{} {}", i.name, i.versions.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let (n, a) = (list("unsupported"), list("partial"));
    match (n.is_empty(), a.is_empty()) {
        (false, false) => format!("is not supported in {n}; partly supported in {a}"),
        (false, true) => format!("is not supported in {n}"),
        _ => format!("is only partly supported in {a}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut uses: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
        uses.sort_unstable();
        uses
    }

    /// Scanning the source (with repeated inline styles memoised) finds exactly the uses that
    /// the parsed document's elements give.
    #[test]
    fn source_scan_matches_the_document_and_the_memo_changes_nothing() {
        let cell = r#"<td style="display:flex;padding:1em;color:rgba(0,0,0,.5)" width="10">x</td>"#;
        let html = format!(
            "<!DOCTYPE html><html><head><meta name=\"color-scheme\" content=\"light dark\">\
             <style>@media (prefers-color-scheme: dark) {{ .a > p:hover {{ margin: 2rem }} }}</style>\
             </head><body><!-- c --><table>{}</table>\
             <td style=\"display:flex;padding:1em;color:rgba(0,0,0,.5)\" style=\"gap:1px\">y</td>\
             <p style=\"a&amp;b: c; margin-inline: 2px\">z</p>\
             <a href=\"mailto:x@y.z\">m</a><img src=\"x.WEBP?v=1\"></body></html>",
            cell.repeat(5)
        );
        let doc = Document::parse_with(html.clone(), crate::html::Detail::Features).unwrap();
        let (from_doc, _) = feature_uses(&doc);
        let memoised = scan_source(&html, false);
        let plain = scan_source(&html, true);
        assert!(memoised.color_scheme_meta && plain.color_scheme_meta);
        assert_eq!(sorted(memoised.uses), sorted(from_doc.clone()));
        assert_eq!(sorted(plain.uses), sorted(from_doc.clone()));
        let flex = data().index("css-display-flex").unwrap();
        assert_eq!(from_doc.iter().filter(|(f, _)| *f == flex).count(), 6);
    }
}
