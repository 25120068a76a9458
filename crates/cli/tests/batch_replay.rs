//! Batch mode and `replay` produce identical judged items and alerts for the same input.

mod common;

use std::process::Command;

use common::{bin, items, jsonl, write_jsonl};

#[test]
fn batch_stages_and_replay_agree() {
    let dir = tempfile::tempdir().unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap();
    let input = dir.path().join("items.jsonl");
    write_jsonl(&input, &items(300, start, 60));

    let scored = dir.path().join("scored.jsonl");
    let events = dir.path().join("events.jsonl");
    let st = Command::new(bin())
        .args(["analyze", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&scored)
        .arg("--events")
        .arg(&events)
        .status()
        .unwrap();
    assert!(st.success());

    let out = dir.path().join("replay");
    let st = Command::new(bin())
        .args(["replay", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());

    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    assert!(
        read(&scored) == read(&out.join("scored.jsonl")),
        "judged items differ"
    );
    assert!(
        read(&events) == read(&out.join("events.jsonl")),
        "events differ"
    );
    let judged = jsonl(&scored);
    assert_eq!(judged.len(), 300);
    assert!(
        judged.iter().all(|j| j["analysis"]["event_id"].is_string()),
        "every item is in an event"
    );
    assert!(
        judged
            .iter()
            .any(|j| j["analysis"]["sensitivity"].as_f64().unwrap() > 0.5),
        "the explosion posts are sensitive"
    );

    let alerts = dir.path().join("alerts.jsonl");
    let st = Command::new(bin())
        .args(["alert", "--input"])
        .arg(out.join("events.jsonl"))
        .arg("--output")
        .arg(&alerts)
        .status()
        .unwrap();
    assert!(st.success());
    similar_asserts::assert_eq!(
        read(&alerts),
        read(&out.join("alerts.jsonl")),
        "alerts differ"
    );
    let alerts = jsonl(&alerts);
    assert!(!alerts.is_empty(), "the incident must raise an alert");
    let ids: std::collections::HashSet<_> = alerts
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), alerts.len(), "alert ids are unique");
}

#[test]
fn bad_lines_are_skipped_and_counted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("items.jsonl");
    std::fs::write(
        &input,
        "{\"id\":\"1\",\"source\":\"s\",\"platform\":\"weibo\",\"text\":\"化工厂爆炸\",\"published_at\":\"2026-11-22T10:00:00+08:00\"}\n\
         {not json\n\
         {\"id\":\"2\",\"source\":\"s\",\"platform\":\"nowhere\",\"text\":\"x\",\"published_at\":\"2026-11-22T10:00:00+08:00\"}\n\
         \n\
         {\"id\":\"3\",\"source\":\"s\",\"platform\":\"forum\",\"text\":\"路灯坏了\",\"published_at\":\"2026-11-22T10:01:00+08:00\"}\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .args(["analyze", "--input"])
        .arg(&input)
        .args(["--output", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 2, "the two good items come out");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("line=2") && stderr.contains("line=3"),
        "bad lines are reported by number: {stderr}"
    );
}
