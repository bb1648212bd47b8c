//! Writing documents back to YAML files (`keel export`) in a stable, readable layout.
//!
//! Output is deterministic: documents are sorted by kind and name, each spec is written in its
//! type's field order, and empty optional fields are left out, so exporting twice gives the same
//! bytes and a diff shows only real changes.

use std::collections::BTreeMap;

use crate::document::Document;
use crate::error::Error;
use crate::load::SourceFile;
use crate::registry::Registry;

/// How exported documents are spread over files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One file per kind (`tools.yaml`), documents separated by `---`.
    FilePerKind,
    /// One file per object (`tools/hubspot.yaml`).
    FilePerObject,
}

/// The folder or file stem for a kind: `ChangeRecord` → `change-records`, `Person` → `people`.
pub fn kind_stem(kind: &str) -> String {
    let mut kebab = String::new();
    let mut previous_lower = false;
    for c in kind.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                kebab.push('-');
            }
            kebab.push(c.to_ascii_lowercase());
        } else {
            kebab.push(c);
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if kebab == "person" {
        return "people".to_string();
    }
    if ["ss", "x", "ch", "sh"]
        .iter()
        .any(|end| kebab.ends_with(end))
    {
        kebab.push_str("es");
    } else if kebab.ends_with('s') {
        // Already plural, like `ChannelRules`.
    } else if let Some(stem) = kebab
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        kebab = format!("{stem}ies");
    } else {
        kebab.push('s');
    }
    kebab
}

/// One document as YAML text (ending in a newline).
pub fn document_to_yaml(registry: &Registry, document: &Document) -> Result<String, Error> {
    let kind = registry
        .kind(&document.kind)
        .ok_or_else(|| Error::UnknownKind {
            object: document.object_ref().to_string(),
        })?;
    let mut text = kind.to_yaml(document)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// Several documents as one YAML stream, sorted by kind and name.
pub fn documents_to_yaml(registry: &Registry, documents: &[Document]) -> Result<String, Error> {
    let mut sorted: Vec<&Document> = documents.iter().collect();
    sorted.sort_by(|a, b| (&a.kind, &a.metadata.name).cmp(&(&b.kind, &b.metadata.name)));
    let mut out = String::new();
    for (i, document) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&document_to_yaml(registry, document)?);
    }
    Ok(out)
}

/// The files an export writes, with paths relative to the export directory.
pub fn export(
    registry: &Registry,
    documents: &[Document],
    layout: Layout,
) -> Result<Vec<SourceFile>, Error> {
    let mut files = Vec::new();
    match layout {
        Layout::FilePerKind => {
            let mut by_kind: BTreeMap<&str, Vec<Document>> = BTreeMap::new();
            for document in documents {
                by_kind
                    .entry(document.kind.as_str())
                    .or_default()
                    .push(document.clone());
            }
            for (kind, group) in by_kind {
                files.push(SourceFile::new(
                    format!("{}.yaml", kind_stem(kind)),
                    documents_to_yaml(registry, &group)?,
                ));
            }
        }
        Layout::FilePerObject => {
            for document in documents {
                let path = format!(
                    "{}/{}.yaml",
                    kind_stem(&document.kind),
                    document.metadata.name
                );
                files.push(SourceFile::new(path, document_to_yaml(registry, document)?));
            }
            files.sort_by(|a, b| a.path.cmp(&b.path));
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_stems_read_naturally() {
        assert_eq!(kind_stem("Tool"), "tools");
        assert_eq!(kind_stem("ChangeRecord"), "change-records");
        assert_eq!(kind_stem("Person"), "people");
        assert_eq!(kind_stem("Policy"), "policies");
        assert_eq!(kind_stem("SLA"), "slas");
        assert_eq!(kind_stem("DataContract"), "data-contracts");
        assert_eq!(kind_stem("Purpose"), "purposes");
        assert_eq!(kind_stem("ChannelRules"), "channel-rules");
    }
}
