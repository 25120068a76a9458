//! `yuqing validate` accepts the shipped pipelines and rejects broken ones with the key path.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::bin;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn shipped_pipelines_are_valid() {
    let out = Command::new(bin())
        .arg("validate")
        .arg(root().join("pipelines"))
        .arg(root().join("pipelines/examples"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(
        text.matches("ok: ").count(),
        3,
        "demo + two examples: {text}"
    );
}

#[test]
fn broken_pipelines_exit_2_naming_the_key() {
    let dir = root().join("fixtures/pipelines/invalid");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` line",
            path.display()
        );
        let out = Command::new(bin())
            .arg("validate")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", path.display());
        let stdout = String::from_utf8_lossy(&out.stdout);
        for e in expected {
            assert!(
                stdout.contains(e),
                "{}: expected `{e}` in:\n{stdout}",
                path.display()
            );
        }
        n += 1;
    }
    assert!(n >= 5, "the invalid fixtures are there");
}

#[test]
fn a_broken_config_stops_run_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[bus]\nkind = \"carrier-pigeon\"\n").unwrap();
    let out = Command::new(bin())
        .args(["run", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bus.kind"));
}
