//! A located tag scanner for the client-support detail level: start tags with their attributes,
//! `<style>` contents, comments and the doctype, in one pass over the bytes.
//!
//! Client support needs no tree, no text and no selector matching, so the general parser's
//! per-element dispatch is pure overhead there. This scanner follows the HTML tokenizer's rules
//! for what is a tag, an attribute, a comment or raw text (so `<` inside `<style>` or a quoted
//! attribute value is not a tag), and like it never fails: every input yields a result, and an
//! unterminated construct simply runs to the end of the input.

use crate::html::{Element, StyleBlock};
use crate::source::decode_entities_owned;
use std::borrow::Cow;

/// What the scanner found, in source order.
#[derive(Debug, Default)]
pub(crate) struct Tags {
    pub elements: Vec<Element>,
    pub styles: Vec<StyleBlock>,
    pub comments: Vec<(usize, String)>,
    pub doctype: Option<usize>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Position of `needle` in `hay` at or after `from`.
fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while let Some(p) = hay.get(i..)?.iter().position(|&b| b == first) {
        let at = i + p;
        if hay.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Position of the byte `b` at or after `from`.
fn find_byte(hay: &[u8], from: usize, b: u8) -> Option<usize> {
    hay.get(from..)?
        .iter()
        .position(|&c| c == b)
        .map(|p| from + p)
}

/// Elements whose contents are text up to the matching end tag (raw text and RCDATA).
fn raw_text(name: &str) -> bool {
    matches!(
        name,
        "style" | "script" | "xmp" | "iframe" | "noembed" | "noframes" | "textarea" | "title"
    )
}

/// The start of the end tag `</name` (any case, followed by a space, `/` or `>`) at or after
/// `from`; the end of the input when there is none.
fn end_of_raw_text(b: &[u8], from: usize, name: &str) -> usize {
    let mut i = from;
    while let Some(at) = find(b, i, b"</") {
        let after = at + 2 + name.len();
        let matches_name = b
            .get(at + 2..after)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        if matches_name
            && b.get(after)
                .is_none_or(|&c| is_space(c) || c == b'/' || c == b'>')
        {
            return at;
        }
        i = at + 2;
    }
    b.len()
}

/// Lowercases only when needed: markup in the wild is almost always lowercase already.
fn lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// One start tag as written, borrowing from the source: what a [`Sink`] sees.
#[derive(Debug, Default)]
pub(crate) struct Tag<'s> {
    /// Lowercase tag name.
    pub name: Cow<'s, str>,
    /// Byte offset of the `<`.
    pub offset: usize,
    /// Byte length of the start tag.
    pub tag_len: usize,
    /// Attributes in source order (later duplicates dropped): lowercase name and the byte range
    /// of the raw value (character references not yet decoded).
    pub attrs: Vec<(Cow<'s, str>, usize, usize)>,
    /// Byte offset of the `style` attribute's value, if present.
    pub style_offset: Option<usize>,
}

impl<'s> Tag<'s> {
    /// The raw (undecoded) value of attribute `i`.
    pub fn raw_value(&self, src: &'s str, i: usize) -> &'s str {
        self.attrs
            .get(i)
            .and_then(|&(_, from, to)| src.get(from..to))
            .unwrap_or("")
    }
}

/// Receives what the scanner finds, in source order, borrowing from the source.
pub(crate) trait Sink<'s> {
    /// A start tag (for raw-text elements, after their contents).
    fn element(&mut self, src: &'s str, tag: &Tag<'s>);
    /// The contents of a `<style>` element starting at `offset`.
    fn style(&mut self, css: &'s str, offset: usize);
    /// A comment (or bogus comment) at `offset` with its text.
    fn comment(&mut self, offset: usize, text: &'s str);
    /// The first doctype's offset.
    fn doctype(&mut self, offset: usize);
}

/// Builds owned [`Tags`].
impl<'s> Sink<'s> for Tags {
    fn element(&mut self, src: &'s str, tag: &Tag<'s>) {
        let attrs = tag
            .attrs
            .iter()
            .enumerate()
            .map(|(i, (n, _, _))| {
                (
                    n.clone().into_owned(),
                    decode_entities_owned(tag.raw_value(src, i).to_owned()),
                )
            })
            .collect();
        self.elements.push(Element {
            name: tag.name.clone().into_owned(),
            attrs,
            offset: tag.offset,
            tag_len: tag.tag_len,
            parent: None,
            style_offset: tag.style_offset,
        });
    }

    fn style(&mut self, css: &'s str, offset: usize) {
        self.styles.push(StyleBlock {
            css: css.to_owned(),
            offset,
        });
    }

    fn comment(&mut self, offset: usize, text: &'s str) {
        self.comments.push((offset, text.to_owned()));
    }

    fn doctype(&mut self, offset: usize) {
        if self.doctype.is_none() {
            self.doctype = Some(offset);
        }
    }
}

/// Scans a document.
pub(crate) fn scan(src: &str) -> Tags {
    let mut out = Tags::default();
    scan_with(src, &mut out);
    out
}

/// Scans a document, handing everything found to `sink` without copying it.
pub(crate) fn scan_with<'s>(src: &'s str, sink: &mut impl Sink<'s>) {
    let b = src.as_bytes();
    let mut tag = Tag::default();
    let mut doctype = false;
    let mut i = 0;
    while let Some(lt) = find_byte(b, i, b'<') {
        i = lt + 1;
        match b.get(i) {
            Some(c) if c.is_ascii_alphabetic() => {
                let Some(end) = start_tag(src, lt, &mut tag) else {
                    // A tag cut off by the end of the input is dropped, as browsers do.
                    break;
                };
                i = end;
                if tag.name == "plaintext" {
                    break;
                }
                if raw_text(&tag.name) {
                    let close = end_of_raw_text(b, end, &tag.name);
                    if tag.name == "style" {
                        sink.style(src.get(end..close).unwrap_or(""), end);
                    }
                    i = close;
                }
                sink.element(src, &tag);
            }
            Some(b'/') => match b.get(i + 1) {
                Some(c) if c.is_ascii_alphabetic() => match start_tag(src, lt + 1, &mut tag) {
                    // An end tag's attributes are parsed (quotes matter) and ignored.
                    Some(end) => i = end,
                    None => break,
                },
                Some(b'>') => i += 2,
                Some(_) => i = bogus_comment(src, lt, i + 1, sink),
                None => break,
            },
            Some(b'!') => {
                if b.get(i + 1..i + 3) == Some(b"--") {
                    i = comment(src, lt, i + 3, sink);
                } else if b
                    .get(i + 1..i + 8)
                    .is_some_and(|d| d.eq_ignore_ascii_case(b"doctype"))
                {
                    if !doctype {
                        doctype = true;
                        sink.doctype(lt);
                    }
                    i = find_byte(b, i, b'>').map_or(b.len(), |e| e + 1);
                } else {
                    i = bogus_comment(src, lt, i + 1, sink);
                }
            }
            Some(b'?') => i = bogus_comment(src, lt, i, sink),
            _ => {}
        }
    }
}

/// A `<!-- … -->` comment whose text starts at `from`; returns the position after it.
fn comment<'s>(src: &'s str, lt: usize, from: usize, sink: &mut impl Sink<'s>) -> usize {
    let b = src.as_bytes();
    // `<!-->` and `<!--->` are (empty) comments too.
    for abrupt in [&b">"[..], b"->"] {
        if b.get(from..from + abrupt.len()) == Some(abrupt) {
            sink.comment(lt, "");
            return from + abrupt.len();
        }
    }
    let (text_end, next) = match find(b, from, b"-->") {
        Some(e) => (e, e + 3),
        None => (b.len(), b.len()),
    };
    sink.comment(lt, src.get(from..text_end).unwrap_or(""));
    next
}

/// A bogus comment (`<!x>`, `<?x>`, `</ x>`): text up to the next `>`.
fn bogus_comment<'s>(src: &'s str, lt: usize, from: usize, sink: &mut impl Sink<'s>) -> usize {
    let b = src.as_bytes();
    let (text_end, next) = match find_byte(b, from, b'>') {
        Some(e) => (e, e + 1),
        None => (b.len(), b.len()),
    };
    sink.comment(lt, src.get(from..text_end).unwrap_or(""));
    next
}

/// A start tag beginning at `lt` (the `<`), read into `tag` (its buffers are reused); returns
/// the position after `>`, or `None` when the input ends inside the tag.
fn start_tag<'s>(src: &'s str, lt: usize, tag: &mut Tag<'s>) -> Option<usize> {
    let b = src.as_bytes();
    let name_start = lt + 1;
    let mut j = name_start;
    while j < b.len() && !is_space(b[j]) && b[j] != b'/' && b[j] != b'>' {
        j += 1;
    }
    tag.name = lowercase(src.get(name_start..j)?);
    tag.attrs.clear();
    tag.style_offset = None;
    loop {
        while j < b.len() && (is_space(b[j]) || b[j] == b'/') {
            j += 1;
        }
        match b.get(j) {
            None => return None,
            Some(b'>') => {
                j += 1;
                break;
            }
            Some(_) => {}
        }
        let ns = j;
        // The first character may be `=`; after it, `=` ends the name.
        j += 1;
        while j < b.len() && !is_space(b[j]) && !matches!(b[j], b'/' | b'>' | b'=') {
            j += 1;
        }
        let attr_name = src.get(ns..j)?;
        while j < b.len() && is_space(b[j]) {
            j += 1;
        }
        let mut value = (j, j);
        if b.get(j) == Some(&b'=') {
            j += 1;
            while j < b.len() && is_space(b[j]) {
                j += 1;
            }
            match b.get(j) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = find_byte(b, j + 1, q)?;
                    value = (j + 1, end);
                    j = end + 1;
                }
                Some(b'>') | None => value = (j, j),
                Some(_) => {
                    let vs = j;
                    while j < b.len() && !is_space(b[j]) && b[j] != b'>' {
                        j += 1;
                    }
                    value = (vs, j);
                }
            }
        }
        let attr_name = lowercase(attr_name);
        // Later duplicates of an attribute are ignored, as browsers do.
        if tag.attrs.iter().any(|(n, _, _)| *n == attr_name) {
            continue;
        }
        if attr_name == "style" {
            tag.style_offset = Some(value.0);
        }
        tag.attrs.push((attr_name, value.0, value.1));
    }
    tag.offset = lt;
    tag.tag_len = j - lt;
    Some(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tags_attributes_and_offsets() {
        let src = "<!DOCTYPE html><!-- c --><P Class=a data-x='1>2' style=\"color:red\" hidden>x</p>\
                   <style>a<b{}</style ><img src=x.png alt></body>";
        let t = scan(src);
        let names: Vec<&str> = t.elements.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["p", "style", "img"]);
        let p = &t.elements[0];
        assert_eq!(p.attr("class"), Some("a"));
        assert_eq!(p.attr("data-x"), Some("1>2"));
        assert!(p.has("hidden"));
        assert_eq!(
            &src[p.style_offset.unwrap()..p.style_offset.unwrap() + 9],
            "color:red"
        );
        assert_eq!(
            &src[p.offset..p.offset + p.tag_len],
            &src[25..src.find("x</p>").unwrap()]
        );
        assert_eq!(t.styles[0].css, "a<b{}");
        assert_eq!(t.doctype, Some(0));
        assert_eq!(t.comments, vec![(15, " c ".to_owned())]);
        assert_eq!(t.elements[2].attr("alt"), Some(""));
    }

    #[test]
    fn never_fails_on_broken_markup() {
        for src in [
            "<",
            "<a",
            "<a href=\"x",
            "<!--",
            "<!-->",
            "</",
            "</>",
            "<style>p{",
            "<?x",
            "<!x",
            "<a b='c",
            "<é>",
            "<a =b>",
            "a < b > c",
            "<textarea><p></textarea><i>",
        ] {
            let _ = scan(src);
        }
        let t = scan("<textarea><p></textarea><i>");
        let names: Vec<&str> = t.elements.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["textarea", "i"]);
    }
}
