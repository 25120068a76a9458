//! The shipped Prometheus files, checked by Prometheus's own tool: `promtool check config` on
//! every configuration, `promtool check rules` on every rule file, `promtool test rules` on the
//! unit tests of the alerting rules. Also: every rule is documented and labelled, and every
//! metric a rule reads is one yuqing registers.
#![allow(clippy::print_stdout)] // Says which configuration was checked with static targets.

use std::collections::BTreeSet;
use std::path::Path;

use yuqing_dashboards::{deploy, files, prometheus, rules};

fn promtool_ok(args: &[&str], dir: &Path) -> String {
    let out = prometheus::promtool(args, dir).unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "promtool {args:?} in {} failed:\n{text}",
        dir.display()
    );
    text
}

#[test]
fn configurations_pass_promtool_check_config() {
    let dir = deploy("prometheus");
    let configs = files(&dir, &["yml"]).unwrap();
    let names: Vec<_> = configs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "prometheus.yml",
        "prometheus-compose.yml",
        "prometheus-kubernetes.yml",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    for name in &names {
        let out = prometheus::promtool(&["check", "config", name], &dir).unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            // Every configuration loads the rules.
            assert!(text.contains("2 rule files found"), "{name}:\n{text}");
            continue;
        }
        // Debian's Prometheus is built without Kubernetes service discovery. Check everything
        // else of that file: the same configuration with the discovery swapped for a static
        // target (the relabelling, the rule files, the globals).
        assert!(
            text.contains("field kubernetes_sd_configs not found"),
            "{name}:\n{text}"
        );
        let original = std::fs::read_to_string(dir.join(name)).unwrap();
        let swapped = swap_kubernetes_sd(&original);
        assert_ne!(swapped, original, "{name}: nothing to swap");
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("rules")).unwrap();
        for r in files(&dir.join("rules"), &["yml"]).unwrap() {
            std::fs::copy(&r, tmp.path().join("rules").join(r.file_name().unwrap())).unwrap();
        }
        std::fs::write(tmp.path().join(name), &swapped).unwrap();
        let text = promtool_ok(&["check", "config", name], tmp.path());
        assert!(text.contains("2 rule files found"), "{name}:\n{text}");
        println!("{name}: checked with static targets (promtool has no Kubernetes discovery here)");
    }
}

/// Replaces the `kubernetes_sd_configs:` block of a scrape job with a static target.
fn swap_kubernetes_sd(text: &str) -> String {
    let mut out = Vec::new();
    let mut skipping: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(i) = skipping {
            if line.trim().is_empty() || indent > i {
                continue;
            }
            skipping = None;
        }
        if line.trim_start().starts_with("kubernetes_sd_configs:") {
            out.push(format!(
                "{}static_configs: [{{targets: [\"127.0.0.1:9464\"]}}]",
                " ".repeat(indent)
            ));
            skipping = Some(indent);
            continue;
        }
        out.push(line.to_string());
    }
    out.join("\n") + "\n"
}

#[test]
fn rule_files_pass_promtool_check_rules() {
    let dir = deploy("prometheus/rules");
    let rule_files = files(&dir, &["yml"]).unwrap();
    assert!(rule_files.len() >= 2, "{rule_files:?}");
    for f in &rule_files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let text = promtool_ok(&["check", "rules", name], &dir);
        assert!(text.contains("SUCCESS"), "{text}");
    }
}

#[test]
fn alerting_rules_pass_their_unit_tests() {
    let dir = deploy("prometheus/tests");
    let tests = files(&dir, &["yml"]).unwrap();
    assert!(!tests.is_empty());
    for t in &tests {
        let name = t.file_name().unwrap().to_str().unwrap();
        let text = promtool_ok(&["test", "rules", name], &dir);
        assert!(text.contains("SUCCESS"), "{text}");
    }
}

#[test]
fn every_alert_is_unit_tested_documented_and_labelled() {
    let mut all = Vec::new();
    for f in files(&deploy("prometheus/rules"), &["yml"]).unwrap() {
        all.extend(rules::load(&f).unwrap());
    }
    let tested: String = files(&deploy("prometheus/tests"), &["yml"])
        .unwrap()
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let mut names = BTreeSet::new();
    for r in &all {
        assert!(names.insert(r.name.clone()), "{} defined twice", r.name);
        if r.alert {
            assert!(
                r.name.starts_with("Yuqing"),
                "{}: alert names start with Yuqing",
                r.name
            );
            let sev = r.labels.get("severity").and_then(|v| v.as_str());
            assert!(
                matches!(sev, Some("critical" | "warning" | "info")),
                "{}: severity {sev:?}",
                r.name
            );
            for k in ["summary", "description"] {
                assert!(
                    r.annotations
                        .get(k)
                        .and_then(|v| v.as_str())
                        .is_some_and(|s| !s.is_empty()),
                    "{}: no {k}",
                    r.name
                );
            }
            assert!(
                tested.contains(&format!("alertname: {}\n", r.name)),
                "{} has no unit test in deploy/prometheus/tests/",
                r.name
            );
        } else {
            let parts: Vec<&str> = r.name.split(':').collect();
            assert!(
                parts.len() == 3 && parts[0] == "yuqing",
                "{}: recording rules are named yuqing:<metric>:<operations>",
                r.name
            );
        }
    }
    assert!(all.iter().filter(|r| r.alert).count() >= 15);
}

#[test]
fn rules_read_only_metrics_yuqing_registers() {
    let registered = yuqing_dashboards::registered_metrics().unwrap();
    assert!(registered.contains("yuqing_component_received_events_total"));
    for f in files(&deploy("prometheus/rules"), &["yml"]).unwrap() {
        for r in rules::load(&f).unwrap() {
            for m in yuqing_dashboards::metric_names(&r.expr) {
                assert!(
                    registered.contains(&m),
                    "{}: {} reads {m}, which no crate registers",
                    f.display(),
                    r.name
                );
            }
        }
    }
}

#[test]
fn swapping_kubernetes_discovery_keeps_the_rest() {
    let text = "scrape_configs:\n  - job_name: x\n    kubernetes_sd_configs:\n      - role: pod\n        namespaces:\n          names: [a]\n    relabel_configs:\n      - action: keep\n";
    assert_eq!(
        swap_kubernetes_sd(text),
        "scrape_configs:\n  - job_name: x\n    static_configs: [{targets: [\"127.0.0.1:9464\"]}]\n    relabel_configs:\n      - action: keep\n"
    );
}
