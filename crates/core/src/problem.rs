//! Configuration problems, reported with the key path that holds them.

use std::fmt;

/// One problem in a configuration: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key path, for example `sources[2].interval`.
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A collector of problems: validation reports all of them, not just the first.
#[derive(Debug, Default, Clone)]
pub struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    /// No problems yet.
    pub fn new() -> Problems {
        Problems::default()
    }

    /// Records a problem at `path`.
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.list.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Records a problem at `prefix.key` (or `key` when the prefix is empty).
    pub fn at(&mut self, prefix: &str, key: &str, message: impl Into<String>) {
        self.push(join(prefix, key), message);
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The problems, in the order found.
    pub fn list(&self) -> &[Problem] {
        &self.list
    }

    /// Consumes into the list.
    pub fn into_vec(self) -> Vec<Problem> {
        self.list
    }

    /// Adds every problem of `other`.
    pub fn extend(&mut self, other: Problems) {
        self.list.extend(other.list);
    }
}

/// Joins a key path: `join("a", "b") == "a.b"`, `join("", "b") == "b"`.
pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else if key.starts_with('[') {
        format!("{prefix}{key}")
    } else {
        format!("{prefix}.{key}")
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.list.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join() {
        assert_eq!(join("sources", "[2]"), "sources[2]");
        assert_eq!(join("sources[2]", "interval"), "sources[2].interval");
        let mut p = Problems::new();
        p.at("sources[2]", "interval", "must be >= 10s");
        assert_eq!(p.to_string(), "sources[2].interval: must be >= 10s");
    }
}
