//! Hot reload: edits to a resources directory are picked up; a broken edit keeps the old rules and
//! reports file and line.

use std::path::Path;

use yuqing_analyze::{AnalyzeConfig, AnalyzeError, SharedAnalyzer};
use yuqing_core::Item;

fn item(text: &str) -> Item {
    let line = serde_json::json!({
        "id": "1", "source": "test", "platform": "news", "text": text,
        "published_at": "2026-11-22T10:00:00+08:00"
    });
    Item::from_json(line.to_string().as_bytes()).unwrap()
}

const RULE_V1: &str = r#"
[[rule]]
name = "测试规则"
topic = "群体事件"
weight = 0.5
any = ["紫色气球"]
"#;

const RULE_V2: &str = r#"
[[rule]]
name = "测试规则"
topic = "群体事件"
weight = 0.5
any = ["紫色气球"]

[[rule]]
name = "新规则"
topic = "群体事件"
weight = 0.6
any = ["橙色风筝"]
"#;

const RULE_BROKEN: &str = r#"
[[rule]]
name = "测试规则"
topic = "群体事件"
weight = 0.5
any = ["紫色气球"]

[[rule]]
name = "坏规则"
topic = "群体事件"
weight = 0.6
regex = ['(未闭合']
"#;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn fired(shared: &SharedAnalyzer, text: &str) -> Vec<String> {
    shared
        .current()
        .judge(&item(text))
        .reasons
        .into_iter()
        .filter(|r| r.rule.starts_with("rule:"))
        .map(|r| r.rule)
        .collect()
}

#[test]
fn rules_reload_and_bad_edits_keep_the_old_rules() {
    let base = tempfile::tempdir().unwrap();
    let res = base.path().join("res");
    std::fs::create_dir(&res).unwrap();
    write(&res, "rules.toml", RULE_V1);
    let cfg = AnalyzeConfig {
        resources: Some("res".into()),
        ..AnalyzeConfig::default()
    };
    let shared = SharedAnalyzer::load(&cfg, base.path()).unwrap();
    assert!(fired(&shared, "广场上飘着紫色气球").contains(&"rule:测试规则".to_string()));
    assert!(fired(&shared, "天上有橙色风筝").is_empty());
    assert!(!shared.reload_if_changed().unwrap(), "nothing changed yet");

    // A good edit is picked up.
    write(&res, "rules.toml", RULE_V2);
    assert!(shared.reload_if_changed().unwrap());
    assert!(fired(&shared, "天上有橙色风筝").contains(&"rule:新规则".to_string()));

    // A broken edit keeps the previous rules and names file and line.
    write(&res, "rules.toml", RULE_BROKEN);
    let err = shared.reload_if_changed().unwrap_err();
    match &err {
        AnalyzeError::Syntax {
            path,
            line,
            message,
        } => {
            assert!(path.ends_with("rules.toml"), "{}", path.display());
            assert_eq!(*line, 12, "{message}");
            assert!(message.contains("bad regex"), "{message}");
        }
        other => panic!("expected a syntax error, got {other}"),
    }
    assert!(err.to_string().contains("rules.toml:12:"), "{err}");
    assert!(shared.last_error().is_some());
    assert!(
        fired(&shared, "天上有橙色风筝").contains(&"rule:新规则".to_string()),
        "old rules stay"
    );
    // The same broken state is reported once, not on every tick.
    assert!(!shared.reload_if_changed().unwrap());

    // Fixing it clears the error.
    write(&res, "rules.toml", RULE_V1);
    assert!(shared.reload_if_changed().unwrap());
    assert!(shared.last_error().is_none());
    assert!(fired(&shared, "天上有橙色风筝").is_empty());
}

#[test]
fn a_new_lexicon_file_in_the_directory_is_picked_up() {
    let base = tempfile::tempdir().unwrap();
    let res = base.path().join("res");
    std::fs::create_dir(&res).unwrap();
    let cfg = AnalyzeConfig {
        resources: Some("res".into()),
        ..AnalyzeConfig::default()
    };
    let shared = SharedAnalyzer::load(&cfg, base.path()).unwrap();
    let before = shared.current().judge(&item("出现了紫色气球")).sensitivity;
    let bundled = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines/analyze/sensitivity.txt"),
    )
    .unwrap();
    let lines = bundled.lines().count();
    write(
        &res,
        "sensitivity.txt",
        &format!("{bundled}\n[测试]\n紫色气球 0.8\n"),
    );
    assert!(shared.reload_if_changed().unwrap());
    let after = shared.current().judge(&item("出现了紫色气球")).sensitivity;
    assert!(after > before + 0.5, "{before} → {after}");
    // A bad weight: file and line.
    write(
        &res,
        "sensitivity.txt",
        &format!("{bundled}\n[测试]\n紫色气球 0.8\n红色气球 很高\n"),
    );
    let e = shared.reload_if_changed().unwrap_err();
    let want = format!("sensitivity.txt:{}: `很高` is not a number", lines + 4);
    assert!(e.to_string().ends_with(&want), "{e} (want {want})");
}

#[test]
fn load_errors_are_typed() {
    let base = tempfile::tempdir().unwrap();
    let cfg = AnalyzeConfig {
        resources: Some("missing".into()),
        ..AnalyzeConfig::default()
    };
    assert!(matches!(
        SharedAnalyzer::load(&cfg, base.path()),
        Err(AnalyzeError::Io { .. })
    ));
    let cfg = AnalyzeConfig {
        model: Some("nope.model".into()),
        ..AnalyzeConfig::default()
    };
    let e = SharedAnalyzer::load(&cfg, base.path()).unwrap_err();
    assert_eq!(e.kind(), "io");
    let cfg = AnalyzeConfig {
        keywords: 1000,
        ..AnalyzeConfig::default()
    };
    assert!(matches!(
        SharedAnalyzer::load(&cfg, base.path()),
        Err(AnalyzeError::Config(_))
    ));
}
