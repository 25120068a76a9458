//! The resource files of the judgment: bundled in the binary from `pipelines/analyze/`, or read from
//! a directory that overrides them file by file.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::AnalyzeError;

/// A resource file the analyzer reads, with its bundled default.
struct Bundled {
    name: &'static str,
    text: &'static str,
}

macro_rules! bundled {
    ($($name:literal),* $(,)?) => {
        &[$(Bundled { name: $name, text: include_str!(concat!("../../../pipelines/analyze/", $name)) }),*]
    };
}

const BUNDLED: &[Bundled] = bundled!(
    "sensitivity.txt",
    "negation.txt",
    "sentiment.txt",
    "emoji.tsv",
    "t2s.tsv",
    "taxonomy.txt",
    "category_terms.txt",
    "departments.toml",
    "rules.toml",
    "gazetteer.tsv",
    "userdict.txt",
    "stopwords.txt",
);

/// The names of every resource file, in load order.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUNDLED.iter().map(|b| b.name)
}

/// One resource file's text and where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file name (`rules.toml`).
    pub name: &'static str,
    /// Where it was read (the override path, or `<bundled>/name`).
    pub path: PathBuf,
    /// The text.
    pub text: Cow<'static, str>,
}

impl Source {
    /// An error at `line` (1-based) of this file.
    pub fn error(&self, line: usize, message: impl Into<String>) -> AnalyzeError {
        AnalyzeError::Syntax {
            path: self.path.clone(),
            line,
            message: message.into(),
        }
    }

    /// The non-empty, non-comment lines with their 1-based numbers, trimmed.
    pub fn lines(&self) -> impl Iterator<Item = (usize, &str)> {
        self.text.lines().enumerate().filter_map(|(i, l)| {
            let t = l.trim();
            (!t.is_empty() && !t.starts_with('#')).then_some((i + 1, t))
        })
    }
}

/// The full set of resource files.
#[derive(Debug, Clone)]
pub struct ResourceSet {
    files: Vec<Source>,
}

impl ResourceSet {
    /// The files bundled in the binary.
    pub fn bundled() -> ResourceSet {
        ResourceSet {
            files: BUNDLED
                .iter()
                .map(|b| Source {
                    name: b.name,
                    path: Path::new("<bundled>").join(b.name),
                    text: Cow::Borrowed(b.text),
                })
                .collect(),
        }
    }

    /// The bundled files, each replaced by `dir/name` where that file exists.
    pub fn with_overrides(dir: &Path) -> Result<ResourceSet, AnalyzeError> {
        if !dir.is_dir() {
            return Err(AnalyzeError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "resources directory does not exist",
                ),
            });
        }
        let mut set = ResourceSet::bundled();
        for f in &mut set.files {
            let p = dir.join(f.name);
            if p.is_file() {
                let text = std::fs::read_to_string(&p).map_err(|source| AnalyzeError::Io {
                    path: p.clone(),
                    source,
                })?;
                f.path = p;
                f.text = Cow::Owned(text);
            }
        }
        Ok(set)
    }

    /// The file called `name` (one of [`names`]).
    pub fn get(&self, name: &str) -> &Source {
        self.files
            .iter()
            .find(|f| f.name == name)
            .expect("every resource name is bundled")
    }
}

/// Parses a weight in `lo..=hi`.
pub fn parse_weight(
    src: &Source,
    line: usize,
    s: &str,
    lo: f64,
    hi: f64,
) -> Result<f64, AnalyzeError> {
    let w: f64 = s
        .parse()
        .map_err(|_| src.error(line, format!("`{s}` is not a number")))?;
    if !w.is_finite() || w < lo || w > hi {
        return Err(src.error(line, format!("weight {w} is outside {lo}..={hi}")));
    }
    Ok(w)
}

/// A section header `[name]`, if the line is one.
pub fn section(line: &str) -> Option<&str> {
    line.strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .map(str::trim)
}

/// The 1-based line of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_file_is_present_and_nonempty() {
        let set = ResourceSet::bundled();
        for n in names() {
            assert!(set.get(n).lines().count() > 0, "{n} is empty");
        }
    }

    #[test]
    fn overrides_replace_single_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("negation.txt"), "不\n").unwrap();
        let set = ResourceSet::with_overrides(dir.path()).unwrap();
        assert_eq!(set.get("negation.txt").lines().count(), 1);
        assert!(set.get("negation.txt").path.starts_with(dir.path()));
        assert!(set.get("rules.toml").path.starts_with("<bundled>"));
        assert!(ResourceSet::with_overrides(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn lines_are_numbered_from_one() {
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(section("[安全事故]"), Some("安全事故"));
        assert_eq!(section("爆炸 0.5"), None);
    }
}
