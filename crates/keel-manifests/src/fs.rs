//! Reading a directory tree of YAML files and writing exported files: the only I/O here.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::load::SourceFile;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Every `.yaml`/`.yml` file under `dir` (or `dir` itself if it is a file), sorted by path.
/// Each file is named as `dir` joined with its relative path, as a person would open it.
pub fn read_tree(dir: &Path) -> Result<Vec<SourceFile>, Error> {
    let mut paths = Vec::new();
    if dir.is_file() {
        paths.push(dir.to_path_buf());
    } else {
        collect(dir, &mut paths)?;
    }
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let text = String::from_utf8(bytes).map_err(|_| Error::NotText { path: path.clone() })?;
        files.push(SourceFile::new(path.display().to_string(), text));
    }
    Ok(files)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Writes `files` (paths relative to `dir`) under `dir`, creating folders as needed.
pub fn write_tree(dir: &Path, files: &[SourceFile]) -> Result<(), Error> {
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, &file.text).map_err(io(&path))?;
    }
    Ok(())
}
