//! # yuqing-dashboards
//!
//! Test support for what yuqing ships to operate it — `deploy/prometheus/` (scrape configuration,
//! recording and alerting rules), `deploy/grafana/` (provisioned data sources and dashboards) and
//! `deploy/k8s/` (manifests) — and the tests themselves (`tests/`):
//!
//! - `tests/dashboards.rs`: every dashboard validates against the JSON Schema of the Grafana
//!   `schemaVersion` it declares (`schema/`), every panel's options and field config against its
//!   panel plugin's schema, every target against its data source's query schema; panel ids,
//!   grid positions, data source references, variables and metric names are consistent.
//! - `tests/rules.rs`: `promtool check config`, `promtool check rules` and `promtool test rules`
//!   (unit tests of the alerting rules in `deploy/prometheus/tests/`).
//! - `tests/live.rs`, `tests/live_kafka.rs`: the daemon runs the bundled demo world on
//!   PostgreSQL (in-process, and over a real Kafka-protocol broker), a real Prometheus scrapes
//!   it every second with the shipped rules loaded, and every PromQL expression of every panel,
//!   variable and rule is evaluated, every SQL query of every panel and variable runs against
//!   the PostgreSQL the demo filled (as the read-only role Grafana uses).
//! - `tests/kubernetes.rs`: the manifests parse and hang together (selectors, probes, ports,
//!   resources, the pipeline in the ConfigMap validates, the arguments parse with the real CLI).
//! - `tests/compose.rs`: `deploy/compose/` without Docker: references resolve, host ports are
//!   unique, the stages' commands parse with the real CLI, the mounted pipeline validates, Kafka
//!   runs in KRaft mode, the image can write the data directory, Prometheus and Grafana find
//!   their files.
//!
//! The library holds what those tests share: reading YAML into JSON values ([`yaml`]), walking
//! dashboards and expanding Grafana's variables and SQL macros as Grafana does ([`grafana`]),
//! reading rule files ([`rules`]) and driving a Prometheus process ([`prometheus`]).
#![warn(missing_docs)]

use std::path::{Path, PathBuf};

pub mod grafana;
pub mod prometheus;
pub mod rules;
pub mod yaml;

/// What can go wrong while loading or checking the shipped files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSON file is not valid JSON.
    #[error("{path}: not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A YAML text is not valid YAML, or uses what JSON cannot hold (aliases, odd keys).
    #[error("not valid YAML: {0}")]
    Yaml(String),
    /// A file does not have the shape the tests expect.
    #[error("{0}")]
    Shape(String),
    /// A query references a variable the dashboard does not define, or a macro Grafana does not
    /// know, or uses a macro wrongly.
    #[error("{0}")]
    Template(String),
    /// A helper process (prometheus, promtool) could not be started or failed.
    #[error("{0}")]
    Process(String),
    /// An HTTP request to a helper process failed.
    #[error("HTTP {url}: {source}")]
    Http {
        /// The request URL.
        url: String,
        /// The cause.
        source: reqwest::Error,
    },
}

/// The root of the repository (two levels above this crate).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = here.join("../..");
    root.canonicalize().unwrap_or(root)
}

/// A path under `deploy/`.
pub fn deploy(rel: &str) -> PathBuf {
    repo_root().join("deploy").join(rel)
}

/// Reads a file to a string.
pub fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Result<serde_json::Value, Error> {
    let text = read(path)?;
    serde_json::from_str(&text).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// The files directly in `dir` whose names end with one of `exts` (without the dot), sorted.
pub fn files(dir: &Path, exts: &[&str]) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| exts.iter().any(|e| n.ends_with(&format!(".{e}"))))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Every metric name yuqing registers: the `"yuqing_…"` literals of the crates' sources that
/// register metrics (`register_*!` calls), with the `_bucket`, `_sum` and `_count` series a
/// histogram adds.
pub fn registered_metrics() -> Result<std::collections::BTreeSet<String>, Error> {
    let mut out = std::collections::BTreeSet::new();
    let crates = repo_root().join("crates");
    let mut stack = vec![crates.clone()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if p.is_dir() {
                // Sources only: not tests, not this crate.
                if name != "tests" && name != "target" && p != crates.join("dashboards") {
                    stack.push(p);
                }
            } else if name.ends_with(".rs") {
                let text = read(&p)?;
                if !text.contains("register_") {
                    continue;
                }
                for m in metric_names(&text) {
                    for suffix in ["", "_bucket", "_sum", "_count"] {
                        out.insert(format!("{m}{suffix}"));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The `yuqing_…` metric names a text (PromQL, SQL, Rust) mentions. Recording rules
/// (`yuqing:…`) are not metric names and are left out.
pub fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("yuqing_") {
        let start = i + pos;
        let boundary = start == 0 || {
            let b = bytes[start - 1];
            !(b.is_ascii_alphanumeric() || b == b'_' || b == b':')
        };
        let len = text[start..]
            .bytes()
            .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        if boundary && len > "yuqing_".len() {
            out.insert(text[start..start + len].to_string());
        }
        i = start + len.max(1);
    }
    out
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a helper process).
pub fn free_port() -> Result<u16, Error> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::Process(format!("no free loopback port: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_deploy_directory() {
        assert!(
            deploy("grafana").is_dir(),
            "{}",
            deploy("grafana").display()
        );
        assert!(repo_root().join("Cargo.toml").is_file());
    }

    #[test]
    fn finds_metric_names() {
        let names = metric_names(
            "sum by (stage) (rate(yuqing_component_errors_total[5m])) / yuqing:stage_sent:rate5m + x_yuqing_no",
        );
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["yuqing_component_errors_total"]
        );
        let all = registered_metrics().unwrap();
        assert!(all.contains("yuqing_collect_requests_total"));
        assert!(all.contains("yuqing_component_processing_duration_seconds_bucket"));
        assert!(!all.iter().any(|m| m.starts_with("yuqing_test")), "{all:?}");
    }

    #[test]
    fn lists_files_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["b.yml", "a.yaml", "c.json", "d.yml.bak"] {
            std::fs::write(dir.path().join(n), "x").unwrap();
        }
        let names: Vec<String> = files(dir.path(), &["yml", "yaml"])
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.yaml", "b.yml"]);
    }
}
