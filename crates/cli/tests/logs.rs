//! `--log-format json` (and `YUQING_LOG_FORMAT=json`) writes one JSON object per log line on
//! standard error; the default is human-readable text. The daemon's JSON logs are checked in
//! `surge.rs`.

mod common;

use std::process::Command;

use common::{bin, items, write_jsonl};
use serde_json::Value;

fn json_lines(stderr: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn batch_logs_as_json_lines_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("items.jsonl");
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap();
    let mut v = items(20, start, 60);
    v.push(serde_json::json!({"id": "bad"}));
    write_jsonl(&input, &v);
    let output = dir.path().join("scored.jsonl");

    let out = Command::new(bin())
        .args(["--log-format", "json", "analyze", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .env_remove("YUQING_LOG_FORMAT")
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines = json_lines(&out.stderr);
    let done = lines
        .iter()
        .find(|l| l["fields"]["message"] == "Analyze batch done.")
        .expect("the summary line");
    assert_eq!(done["level"], "INFO");
    assert_eq!(done["fields"]["read"], 21);
    assert_eq!(done["fields"]["written"], 20);
    assert_eq!(done["fields"]["rejected"], 1);
    let bad = lines
        .iter()
        .find(|l| l["fields"]["message"] == "Skipped a bad input line.")
        .expect("the bad line is reported");
    assert_eq!(bad["level"], "WARN");
    assert_eq!(bad["fields"]["line"], 21);

    // The environment variable does the same; the default is text.
    let out = Command::new(bin())
        .args(["replay", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(dir.path().join("replay"))
        .env("YUQING_LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(json_lines(&out.stderr)
        .iter()
        .any(|l| l["fields"]["message"] == "Replay done."));
    let out = Command::new(bin())
        .args(["analyze", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .env_remove("YUQING_LOG_FORMAT")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("Analyze batch done.") && text.contains("written=20"));
    assert!(text
        .lines()
        .all(|l| serde_json::from_str::<Value>(l).is_err()));

    // An unknown format is a usage error.
    let out = Command::new(bin())
        .args(["--log-format", "xml", "validate", "x.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
