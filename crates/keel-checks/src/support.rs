//! Client support: every HTML element and attribute, image format and CSS property, value,
//! at-rule and selector the email uses, looked up in caniemail for the target clients and
//! reported once per feature with every affected client.

use crate::caniemail::data;
use crate::context::{Ctx, snippet_at};
use crate::css::{Scan, scan_declarations, scan_stylesheet};
use crate::finding::{ClientImpact, Finding};
use crate::html::{Document, Element};
use crate::rules;
use std::sync::Arc;

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
        element_uses(e, &mut uses);
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

fn element_uses(e: &Element, uses: &mut Vec<(usize, usize)>) {
    let at = e.offset;
    let data = data();
    let mut add = |prefix: &str, name: &str| {
        if let Some(f) = data.index_joined(prefix, name) {
            uses.push((f, at));
        }
    };
    let name = e.name.as_str();
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
            let t = e.attr("type").unwrap_or("text").to_ascii_lowercase();
            if matches!(
                t.as_str(),
                "checkbox" | "hidden" | "radio" | "reset" | "submit" | "text"
            ) {
                add("html-input-", &t);
            }
        }
        "button" => {
            let t = e.attr("type").unwrap_or("submit").to_ascii_lowercase();
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
    for (attr, value) in &e.attrs {
        match attr.as_str() {
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
                if let Some(format) = image_format(value) {
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

/// Reports unsupported features, one finding per feature, located at its first use.
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
    pub help: String,
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
                help: format!("{} See {}", rules::CLIENT_SUPPORT.help, feature.url),
                clients: impacts.into(),
            }
        })
        .collect()
}

/// Reports unsupported features, one finding per feature, located at its first use.
pub(crate) fn check(doc: &Document, uses: &[(usize, usize)], ctx: &mut Ctx<'_>) {
    if !ctx.on(&rules::CLIENT_SUPPORT) {
        return;
    }
    let data = data();
    let verdicts = ctx.policy.verdicts();
    let mut offsets: Vec<Vec<usize>> = vec![Vec::new(); data.len()];
    let mut order: Vec<usize> = Vec::new();
    for &(feature, offset) in uses {
        // Features every target client supports are dropped here, before any grouping work.
        if verdicts.get(feature).is_none_or(|v| v.clients.is_empty()) {
            continue;
        }
        if let Some(list) = offsets.get_mut(feature) {
            if list.is_empty() {
                order.push(feature);
            }
            list.push(offset);
        }
    }
    for index in order {
        let (Some(feature), Some(verdict)) = (data.feature_at(index), verdicts.get(index)) else {
            continue;
        };
        let mut locs = std::mem::take(&mut offsets[index]);
        locs.sort_unstable();
        locs.dedup();
        let Some(&first) = locs.first() else { continue };
        let times = if locs.len() == 1 {
            "used once".to_owned()
        } else {
            format!("used {} times", locs.len())
        };
        let mut f = Finding::new(
            &rules::CLIENT_SUPPORT,
            format!("`{}` ({times}) {}", feature.title, verdict.summary),
        )
        .at(Some(doc.locate(first)), snippet_at(doc, first));
        if !verdict.unsupported {
            f.severity = crate::finding::Severity::Info;
        }
        f.feature = Some(feature.slug.clone());
        f.help.clone_from(&verdict.help);
        // Locations of one feature can repeat thousands of times; keep the report readable.
        f.more_locations = locs
            .iter()
            .skip(1)
            .take(50)
            .map(|&o| doc.locate(o))
            .collect();
        f.clients = Arc::clone(&verdict.clients);
        ctx.push(f);
    }
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
