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

fn lowercase(s: &str) -> String {
    let mut s = s.to_owned();
    s.make_ascii_lowercase();
    s
}

/// Scans a document.
pub(crate) fn scan(src: &str) -> Tags {
    let b = src.as_bytes();
    let mut out = Tags::default();
    let mut i = 0;
    while let Some(lt) = find_byte(b, i, b'<') {
        i = lt + 1;
        match b.get(i) {
            Some(c) if c.is_ascii_alphabetic() => {
                let Some((element, end)) = start_tag(src, lt) else {
                    // A tag cut off by the end of the input is dropped, as browsers do.
                    break;
                };
                i = end;
                if element.name == "plaintext" {
                    break;
                }
                if raw_text(&element.name) {
                    let close = end_of_raw_text(b, end, &element.name);
                    if element.name == "style" {
                        out.styles.push(StyleBlock {
                            css: src.get(end..close).unwrap_or("").to_owned(),
                            offset: end,
                        });
                    }
                    i = close;
                }
                out.elements.push(element);
            }
            Some(b'/') => match b.get(i + 1) {
                Some(c) if c.is_ascii_alphabetic() => match start_tag(src, lt + 1) {
                    // An end tag's attributes are parsed (quotes matter) and ignored.
                    Some((_, end)) => i = end,
                    None => break,
                },
                Some(b'>') => i += 2,
                Some(_) => i = bogus_comment(src, lt, i + 1, &mut out),
                None => break,
            },
            Some(b'!') => {
                if b.get(i + 1..i + 3) == Some(b"--") {
                    i = comment(src, lt, i + 3, &mut out);
                } else if b
                    .get(i + 1..i + 8)
                    .is_some_and(|d| d.eq_ignore_ascii_case(b"doctype"))
                {
                    if out.doctype.is_none() {
                        out.doctype = Some(lt);
                    }
                    i = find_byte(b, i, b'>').map_or(b.len(), |e| e + 1);
                } else {
                    i = bogus_comment(src, lt, i + 1, &mut out);
                }
            }
            Some(b'?') => i = bogus_comment(src, lt, i, &mut out),
            _ => {}
        }
    }
    out
}

/// A `<!-- … -->` comment whose text starts at `from`; returns the position after it.
fn comment(src: &str, lt: usize, from: usize, out: &mut Tags) -> usize {
    let b = src.as_bytes();
    // `<!-->` and `<!--->` are (empty) comments too.
    for abrupt in [&b">"[..], b"->"] {
        if b.get(from..from + abrupt.len()) == Some(abrupt) {
            out.comments.push((lt, String::new()));
            return from + abrupt.len();
        }
    }
    let (text_end, next) = match find(b, from, b"-->") {
        Some(e) => (e, e + 3),
        None => (b.len(), b.len()),
    };
    out.comments
        .push((lt, src.get(from..text_end).unwrap_or("").to_owned()));
    next
}

/// A bogus comment (`<!x>`, `<?x>`, `</ x>`): text up to the next `>`.
fn bogus_comment(src: &str, lt: usize, from: usize, out: &mut Tags) -> usize {
    let b = src.as_bytes();
    let (text_end, next) = match find_byte(b, from, b'>') {
        Some(e) => (e, e + 1),
        None => (b.len(), b.len()),
    };
    out.comments
        .push((lt, src.get(from..text_end).unwrap_or("").to_owned()));
    next
}

/// A start tag beginning at `lt` (the `<`); returns the element and the position after `>`, or
/// `None` when the input ends inside the tag.
fn start_tag(src: &str, lt: usize) -> Option<(Element, usize)> {
    let b = src.as_bytes();
    let name_start = lt + 1;
    let mut j = name_start;
    while j < b.len() && !is_space(b[j]) && b[j] != b'/' && b[j] != b'>' {
        j += 1;
    }
    let name = lowercase(src.get(name_start..j)?);
    let mut attrs: Vec<(String, String)> = Vec::new();
    let mut style_offset = None;
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
        if attrs.iter().any(|(n, _)| *n == attr_name) {
            continue;
        }
        if attr_name == "style" {
            style_offset = Some(value.0);
        }
        let v = src.get(value.0..value.1).unwrap_or("").to_owned();
        attrs.push((attr_name, decode_entities_owned(v)));
    }
    Some((
        Element {
            name,
            attrs,
            offset: lt,
            tag_len: j - lt,
            parent: None,
            style_offset,
        },
        j,
    ))
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
