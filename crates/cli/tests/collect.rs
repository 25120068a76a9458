//! The collect stage's batch modes: `collect --input F --output G` validates pushed items as
//! `/ingest` does; `collect --once` polls every enabled source once (here an RSS feed on a
//! loopback server) and writes what it found.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{bin, jsonl, Site};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const SALT: &str = "collect-test-salt";

#[test]
fn collect_input_normalises_pushed_items_like_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("pipeline.toml");
    std::fs::write(
        &cfg,
        format!(
            "[api]\ningest_source = \"hotline-push\"\n[privacy]\nhash_authors = true\nsalt = \"{SALT}\"\n"
        ),
    )
    .unwrap();
    let input = dir.path().join("pushed.jsonl");
    std::fs::write(
        &input,
        "{\"id\":\"h1\",\"platform\":\"hotline\",\"text\":\"小区停水三天了\",\"author\":\"市民甲\",\"published_at\":\"2026-11-22T10:00:00+08:00\"}\n\
         {\"id\":\"h2\",\"source\":\"board\",\"platform\":\"board\",\"text\":\"路灯坏了\",\"published_at\":\"2026-11-22T10:05:00+08:00\",\"custom\":7}\n\
         {\"id\":\"h3\",\"platform\":\"hotline\",\"published_at\":\"2026-11-22T10:06:00+08:00\"}\n\
         {not json\n",
    )
    .unwrap();
    let output = dir.path().join("items.jsonl");
    let out = Command::new(bin())
        .args(["collect", "--config"])
        .arg(&cfg)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let items = jsonl(&output);
    assert_eq!(items.len(), 2, "the two good records: {items:?}");
    // A record without `source` gets `[api] ingest_source`; authors are hashed; unknown fields
    // pass through; the contract's defaults are filled in.
    assert_eq!(items[0]["source"], "hotline-push");
    let author = items[0]["author"].as_str().unwrap();
    assert!(
        author.starts_with("h:") && !author.contains("市民甲"),
        "{author}"
    );
    assert_eq!(items[0]["schema_version"], 1);
    assert_eq!(items[1]["source"], "board");
    assert_eq!(items[1]["custom"], 7);
    // Bad records are reported by line and counted, not fatal.
    assert!(
        stderr.contains("record=3") && stderr.contains("record=4"),
        "{stderr}"
    );
    assert!(
        stderr.contains("read=4") && stderr.contains("written=2") && stderr.contains("rejected=2"),
        "{stderr}"
    );

    // A JSON array works too, and standard input and output.
    let out = Command::new(bin())
        .args(["collect", "--input", "-", "--output", "-"])
        .stdin(std::fs::File::open({
            let p = dir.path().join("array.json");
            std::fs::write(&p, "[{\"id\":\"a1\",\"source\":\"s\",\"platform\":\"forum\",\"text\":\"x\",\"published_at\":\"2026-11-22T10:00:00+08:00\"}]").unwrap();
            p
        })
        .unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], "a1");

    // An empty file is an empty batch.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "\n").unwrap();
    let out = Command::new(bin())
        .args(["collect", "--input"])
        .arg(&empty)
        .arg("--output")
        .arg(dir.path().join("none.jsonl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(jsonl(&dir.path().join("none.jsonl")).is_empty());
}

fn feed_site() -> Site {
    Site::start(vec![(
        "/tzgg/rss.xml",
        "application/rss+xml; charset=utf-8",
        std::fs::read(root().join("fixtures/cli/county_rss.xml")).unwrap(),
    )])
}

fn feed_source(id: &str, url: &str, extra: &str) -> String {
    format!(
        "[[sources]]\nid = \"{id}\"\nkind = \"feed\"\nplatform = \"portal\"\nurl = \"{url}\"\n\
         interval = \"10m\"\nregion = \"某县\"\n{extra}"
    )
}

#[test]
fn collect_once_polls_every_enabled_source_once() {
    let site = feed_site();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("pipeline.toml");
    std::fs::write(
        &cfg,
        format!(
            "[collect]\nretries = 0\n[privacy]\nhash_authors = true\nsalt = \"{SALT}\"\n{}{}",
            feed_source("county-rss", &format!("{}/tzgg/rss.xml", site.base), ""),
            // A disabled source is not polled.
            feed_source(
                "disabled",
                &format!("{}/disabled.xml", site.base),
                "enabled = false\n"
            ),
        ),
    )
    .unwrap();
    let output = dir.path().join("found.jsonl");
    let out = Command::new(bin())
        .args(["collect", "--once", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let items = jsonl(&output);
    assert_eq!(items.len(), 2, "{items:?}");
    let titles: Vec<&str> = items.iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"关于城南路段夜间施工的通告"), "{titles:?}");
    assert!(titles.contains(&"县图书馆周末开放时间调整"), "{titles:?}");
    for i in &items {
        assert_eq!(i["source"], "county-rss");
        assert_eq!(i["platform"], "portal");
        assert!(i["published_at"].as_str().unwrap().starts_with("2026-11-2"));
        assert!(!i["text"].as_str().unwrap().contains("<p>"), "markup: {i}");
    }
    let with_author = items
        .iter()
        .find(|i| i["author"].is_string())
        .expect("the first post has an author");
    assert!(
        with_author["author"].as_str().unwrap().starts_with("h:"),
        "authors are hashed: {with_author}"
    );
    let requests = site.requests();
    assert_eq!(
        requests.iter().filter(|p| *p == "/tzgg/rss.xml").count(),
        1,
        "polled once: {requests:?}"
    );
    assert!(
        !requests.iter().any(|p| p == "/disabled.xml"),
        "{requests:?}"
    );
}

#[test]
fn collect_once_fails_when_a_source_fails_but_writes_what_the_others_found() {
    let site = feed_site();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("pipeline.toml");
    std::fs::write(
        &cfg,
        format!(
            "[collect]\nretries = 0\n{}{}",
            feed_source("county-rss", &format!("{}/tzgg/rss.xml", site.base), ""),
            feed_source("gone", &format!("{}/gone.xml", site.base), ""),
        ),
    )
    .unwrap();
    let output = dir.path().join("found.jsonl");
    let out = Command::new(bin())
        .args(["collect", "--once", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("1 of 2 source(s) failed") && stderr.contains("gone"),
        "{stderr}"
    );
    assert_eq!(jsonl(&output).len(), 2, "the working source's items");
    assert!(site.requests().iter().any(|p| p == "/gone.xml"));
}
