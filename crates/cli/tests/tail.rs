//! `yuqing tail` over an embedded store: the grade, department and place filters, JSON Lines, and
//! the terminal line coloured by grade (`--color`, `NO_COLOR`).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::bin;
use serde_json::{json, Value};
use yuqing_core::Alert;

/// The alerts of the store, in the order stored: (id, grade, department, region).
const ALERTS: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    ("al-t1", "IV", Some("住房和城乡建设局"), Some("袁州区")),
    ("al-t2", "I", Some("应急管理局"), Some("万载县")),
    ("al-t3", "III", Some("应急管理局"), Some("袁州区")),
    ("al-t4", "II", Some("人力资源和社会保障局"), Some("万载县")),
    (
        "al-t5",
        "II",
        Some("宜春市应急管理局"),
        Some("宜春市万载县"),
    ),
    ("al-t6", "IV", None, None),
];

fn alert(id: &str, grade: &str, department: Option<&str>, region: Option<&str>) -> Alert {
    let mut v = json!({
        "alert_id": id, "event_id": format!("ev-{id}"), "kind": "new", "grade": grade,
        "stage": "spreading", "title": format!("测试事件 {id}"), "rule": "test",
        "deadlines": [{"kind": "first_release", "label": "首次发布", "due": "2026-11-22T11:00:00+08:00"}],
        "at": "2026-11-22T10:00:00+08:00"
    });
    if let Some(d) = department {
        v["department"] = json!(d);
    }
    if let Some(r) = region {
        v["region"] = json!(r);
    }
    Alert::from_json(v.to_string().as_bytes()).unwrap()
}

/// A data directory whose embedded store holds [`ALERTS`].
fn store_with_alerts(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}", data.join("yuqing.db").display());
        let store = yuqing_store::Store::open(&url).await.unwrap();
        for (id, grade, dept, region) in ALERTS {
            assert!(store
                .insert_alert(&alert(id, grade, *dept, *region), &[])
                .await
                .unwrap());
        }
    });
    data
}

/// Runs `yuqing tail ARGS --data-dir DATA` until it exits (it stops after `--limit` alerts);
/// fails the test if it is still running after a minute (it would follow for ever).
fn tail(data: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut c = Command::new(bin());
    c.arg("tail")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return (out.status.code(), String::from_utf8(out.stdout).unwrap());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "tail {args:?} did not stop after its --limit; it printed:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The alert ids of JSON Lines output.
fn ids(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            v["alert_id"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn filters_and_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = store_with_alerts(dir.path());
    let json = |args: &[&str], limit: usize| {
        let limit = limit.to_string();
        let mut all = vec!["--from-start", "--json", "--limit", &limit];
        all.extend_from_slice(args);
        let (code, out) = tail(&data, &all, &[]);
        assert_eq!(code, Some(0), "{args:?}");
        ids(&out)
    };
    // Everything, in the order stored, as JSON Lines that parse back into alerts.
    assert_eq!(
        json(&[], 6),
        ["al-t1", "al-t2", "al-t3", "al-t4", "al-t5", "al-t6"]
    );
    // The grade and above.
    assert_eq!(json(&["--grade", "II"], 3), ["al-t2", "al-t4", "al-t5"]);
    assert_eq!(json(&["--grade", "I"], 1), ["al-t2"]);
    assert_eq!(
        json(&["--grade", "III"], 4),
        ["al-t2", "al-t3", "al-t4", "al-t5"]
    );
    // Department and place match by substring; alerts without them never match.
    assert_eq!(
        json(&["--department", "应急管理局"], 3),
        ["al-t2", "al-t3", "al-t5"]
    );
    assert_eq!(json(&["--region", "万载"], 3), ["al-t2", "al-t4", "al-t5"]);
    // Filters combine.
    assert_eq!(
        json(&["--region", "万载", "--department", "应急"], 2),
        ["al-t2", "al-t5"]
    );
}

#[test]
fn terminal_lines_are_coloured_by_grade_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let data = store_with_alerts(dir.path());
    let base = ["--from-start", "--limit", "4"];

    // Into a pipe, `auto` writes plain text: the grade tag in brackets, department, place and
    // the first deadline.
    let (code, out) = tail(&data, &base, &[]);
    assert_eq!(code, Some(0));
    assert!(!out.contains('\x1b'), "{out:?}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].contains("[IV 蓝色 新预警]"), "{}", lines[0]);
    assert!(
        lines[1].contains("[I 红色 新预警]")
            && lines[1].contains("测试事件 al-t2")
            && lines[1].contains("责任单位 应急管理局")
            && lines[1].contains("属地 万载县")
            && lines[1].contains("首次发布截止 11-22 11:00"),
        "{}",
        lines[1]
    );

    // `always`: each grade in its colour (I red, II orange, III yellow, IV blue), reset after
    // the tag.
    let (code, out) = tail(&data, &[&base[..], &["--color", "always"]].concat(), &[]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    for (line, (grade, colour)) in lines.iter().zip([
        ("IV", "\x1b[1;97;44m"),
        ("I", "\x1b[1;97;41m"),
        ("III", "\x1b[1;30;43m"),
        ("II", "\x1b[1;30;48;5;208m"),
    ]) {
        assert!(
            line.contains(&format!("{colour} {grade} ")) && line.contains("\x1b[0m"),
            "{grade}: {line:?}"
        );
    }

    // `never`, and NO_COLOR under `auto`, write no escapes; JSON is never coloured.
    for (args, env) in [
        (vec!["--color", "never"], vec![]),
        (vec!["--color", "auto"], vec![("NO_COLOR", "1")]),
        (vec!["--color", "always", "--json"], vec![]),
    ] {
        let (code, out) = tail(&data, &[&base[..], &args[..]].concat(), &env);
        assert_eq!(code, Some(0));
        assert_eq!(out.lines().count(), 4);
        assert!(!out.contains('\x1b'), "{args:?}: {out:?}");
    }
}

#[test]
fn a_bad_grade_or_colour_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = store_with_alerts(dir.path());
    for args in [["--grade", "V"], ["--color", "sometimes"]] {
        let out = Command::new(bin())
            .arg("tail")
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // Grades are accepted in lower case too.
    let (code, out) = tail(
        &data,
        &["--from-start", "--json", "--limit", "1", "--grade", "i"],
        &[],
    );
    assert_eq!(code, Some(0));
    assert_eq!(ids(&out), ["al-t2"]);
}
