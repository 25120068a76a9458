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
        4,
        "demo + three examples (embedded, kafka-postgres, reference): {text}"
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

/// A pipeline in a directory of its own with copies of the bundled rules files, edited by `edit`;
/// returns the directory, the pipeline and the two rules files.
fn pipeline_with_rules(
    edit_grading: impl Fn(String) -> String,
    edit_routing: impl Fn(String) -> String,
    extra: &str,
) -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("alert")).unwrap();
    let grading = dir.path().join("alert/grading.toml");
    let routing = dir.path().join("alert/routing.toml");
    let read = |p: &str| std::fs::read_to_string(root().join(p)).unwrap();
    std::fs::write(&grading, edit_grading(read("pipelines/alert/grading.toml"))).unwrap();
    std::fs::write(&routing, edit_routing(read("pipelines/alert/routing.toml"))).unwrap();
    let cfg = dir.path().join("pipeline.toml");
    std::fs::write(
        &cfg,
        format!(
            "[alert]\ngrading = \"alert/grading.toml\"\nrouting = \"alert/routing.toml\"\n{extra}"
        ),
    )
    .unwrap();
    (dir, cfg, grading, routing)
}

/// Every sink the bundled routing table names, so that no warning is about them.
const ALL_SINKS: &str = "[[sinks]]\nkind = \"stdout\"\nid = \"console\"\nall = true\n";

fn validate_out(cfg: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new(bin())
        .arg("validate")
        .arg(cfg)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[test]
fn broken_routing_and_grading_files_are_rejected_naming_file_and_key() {
    // routing.toml: a receiver without a name (so a copy rule names an unknown receiver) and a
    // misspelt key in a receiver; grading.toml: a rule with a bad grade.
    let (_dir, cfg, grading, routing) = pipeline_with_rules(
        |g| g.replacen("grade = \"IV\"", "grade = \"V\"", 1),
        |r| {
            r.replacen("name = \"政府办\"", "name = \"\"", 1).replacen(
                "contacts = [\"网信办值班室\"]",
                "contact = [\"网信办值班室\"]",
                1,
            )
        },
        ALL_SINKS,
    );
    let (code, out) = validate_out(&cfg);
    assert_eq!(code, Some(2), "{out}");
    let line = |needle: &str| {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with `{needle}` in:\n{out}"))
            .to_string()
    };
    // A parse error (unknown key) names the file and the key path inside it.
    let l = line("receiver[2].contact");
    assert!(l.contains(&routing.display().to_string()), "{l}");
    assert!(l.contains("unknown field"), "{l}");
    // The grading file's problem is reported too, not hidden behind the routing file's.
    let l = line("rule[0].grade");
    assert!(l.contains(&grading.display().to_string()), "{l}");
    assert!(out.contains(&cfg.display().to_string()), "{out}");

    // With the key fixed, the semantic problems of the routing table show, each with its key.
    let (_dir, cfg, _grading, routing) = pipeline_with_rules(
        |g| g,
        |r| r.replacen("name = \"政府办\"", "name = \"\"", 1),
        ALL_SINKS,
    );
    let (code, out) = validate_out(&cfg);
    assert_eq!(code, Some(2), "{out}");
    let routing = routing.display().to_string();
    assert!(
        out.lines()
            .any(|l| l.contains(&routing) && l.contains("receiver[1].name: must not be empty")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains(&routing) && l.contains("unknown receiver `政府办`")),
        "{out}"
    );

    // A syntax error names the file and the line.
    let (_dir, cfg, grading, _routing) =
        pipeline_with_rules(|g| format!("{g}\n[[rule]\n"), |r| r, ALL_SINKS);
    let (code, out) = validate_out(&cfg);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains(&grading.display().to_string())
                && l.contains("line ")
                && l.contains("not valid TOML")),
        "{out}"
    );

    // A rules file that is not there.
    let (dir, cfg, _grading, routing) = pipeline_with_rules(|g| g, |r| r, ALL_SINKS);
    std::fs::remove_file(&routing).unwrap();
    let (code, out) = validate_out(&cfg);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("alert.routing") && out.contains(&routing.display().to_string()),
        "{out}"
    );
    drop(dir);
}

#[test]
fn the_daemon_and_replay_refuse_a_broken_rules_file_with_exit_2() {
    let (dir, cfg, _grading, routing) = pipeline_with_rules(
        |g| g,
        |r| r.replacen("name = \"政府办\"", "name = \"\"", 1),
        ALL_SINKS,
    );
    let out = Command::new(bin())
        .args(["run", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&routing.display().to_string()) && stderr.contains("receiver[1].name"),
        "{stderr}"
    );

    let items = dir.path().join("items.jsonl");
    std::fs::write(&items, "").unwrap();
    let out = Command::new(bin())
        .args(["replay", "--input"])
        .arg(&items)
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("receiver[1].name"), "{stderr}");
}

#[test]
fn broken_analyze_resources_and_models_are_rejected_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let res = dir.path().join("analyze");
    std::fs::create_dir(&res).unwrap();
    std::fs::write(res.join("rules.toml"), "[[rule]]\nname = \"x\"\ntopic = \n").unwrap();
    std::fs::write(dir.path().join("bogus.model"), "not a model").unwrap();
    let cfg = dir.path().join("pipeline.toml");
    std::fs::write(
        &cfg,
        "[analyze]\nresources = \"analyze\"\nmodel = \"bogus.model\"\nsentiment_model = \"missing.model\"\n",
    )
    .unwrap();
    let (code, out) = validate_out(&cfg);
    assert_eq!(code, Some(2), "{out}");
    let has = |a: &str, b: &str| out.lines().any(|l| l.contains(a) && l.contains(b));
    assert!(
        has(
            "analyze.resources",
            &res.join("rules.toml").display().to_string()
        ) && has("analyze.resources", "line 3"),
        "{out}"
    );
    assert!(has("analyze.model", "bogus.model"), "{out}");
    assert!(has("analyze.sentiment_model", "missing.model"), "{out}");
}

#[test]
fn receivers_whose_sinks_are_not_configured_are_warned_about() {
    // A routing table of one's own naming the sink `duty`, which the pipeline lacks: a warning
    // with the key path (alerts would reach no sink), not an error.
    let (_dir, cfg, _grading, routing) = pipeline_with_rules(|g| g, |r| r, "");
    let (code, out) = validate_out(&cfg);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("warning: ")
            && l.contains(&routing.display().to_string())
            && l.contains("receiver[0].sinks[0]")
            && l.contains("`duty`")),
        "{out}"
    );
    // With the sink configured, that warning goes.
    let (_dir, cfg, _grading, _routing) = pipeline_with_rules(
        |g| g,
        |r| r,
        "[[sinks]]\nkind = \"stdout\"\nid = \"duty\"\n",
    );
    let (code, out) = validate_out(&cfg);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("receiver[0].sinks[0]"), "{out}");
    assert!(out.contains("receiver[0].escalation_sinks[0]"), "{out}");
}
