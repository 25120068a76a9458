//! The README's first command: `yuqing run` with no arguments runs the bundled demo on the
//! embedded default and prints alerts from the demo site within a minute.

mod common;

use std::time::Duration;

use common::{http, jsonl, metric, wait_for, Daemon};

#[test]
fn bundled_demo_alerts_within_a_minute_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = Daemon::start(
        &["run", "--data-dir", data.to_str().unwrap()],
        dir.path(),
        "demo",
    );
    let client = http();
    wait_for(Duration::from_secs(30), "readyz", || {
        client
            .get(d.url("/readyz"))
            .send()
            .ok()
            .filter(|r| r.status().is_success())
    });
    assert!(client
        .get(d.url("/healthz"))
        .send()
        .unwrap()
        .status()
        .is_success());

    // Alerts reach the alert log (and stdout, the console sink) within a minute of start.
    let alerts = wait_for(Duration::from_secs(60), "the first demo alert", || {
        let a = jsonl(&data.join("alerts.jsonl"));
        (!a.is_empty()).then_some(a)
    });
    let first = &alerts[0];
    assert!(
        first["grade"].is_string() && first["title"].is_string() && first["alert_id"].is_string()
    );
    assert!(d.log_text().contains("Alert fired."), "{}", d.log_text());

    // Every stage reports: the collectors fetched, every stage took records in.
    wait_for(Duration::from_secs(60), "every stage to report", || {
        let text = client.get(d.url("/metrics")).send().ok()?.text().ok()?;
        let all = ["analyze", "alert", "intake"].iter().all(|s| {
            metric(
                &text,
                "yuqing_component_received_events_total",
                &[("stage", s)],
            ) > 0.0
        });
        let wall = metric(&text, "yuqing_events_open_by_phase", &[]) > 0.0
            && metric(&text, "yuqing_analyze_sentiment_count", &[]) > 0.0
            && metric(
                &text,
                "yuqing_pipeline_latency_seconds_count",
                &[("stage", "analyze")],
            ) > 0.0;
        (all && wall && metric(&text, "yuqing_collect_requests_total", &[]) > 0.0).then_some(())
    });
    // Every kind of source in the demo pipeline — Weibo-style API, HTML portals, feed, news
    // comment API, message board — delivers new items through the real collectors.
    let kinds = demo_source_kinds();
    for kind in ["weibo", "html", "feed", "json_api", "board"] {
        assert!(
            kinds.iter().any(|(_, k)| k == kind),
            "the demo has a {kind} source"
        );
    }
    wait_for(
        Duration::from_secs(90),
        "items from every kind of source",
        || {
            let text = client.get(d.url("/metrics")).send().ok()?.text().ok()?;
            let missing: Vec<&str> = ["weibo", "html", "feed", "json_api", "board"]
                .into_iter()
                .filter(|kind| {
                    kinds.iter().filter(|(_, k)| k == kind).all(|(id, _)| {
                        metric(
                            &text,
                            "yuqing_collect_items_emitted_total",
                            &[("source", id), ("kind", "new")],
                        ) == 0.0
                    })
                })
                .collect();
            missing.is_empty().then_some(())
        },
    );

    // An alert about an incident (not only about source health) comes too.
    wait_for(Duration::from_secs(60), "an incident alert", || {
        jsonl(&data.join("alerts.jsonl"))
            .iter()
            .any(|a| a["kind"] != "source_health")
            .then_some(())
    });

    // The web console is served by the daemon.
    let r = client.get(d.url("/console/login")).send().unwrap();
    assert!(r.status().is_success());
    assert!(r.headers().get("content-security-policy").is_some());

    let status = d.terminate();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

/// (id, kind) of every `[[sources]]` entry of the bundled demo pipeline.
fn demo_source_kinds() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../pipelines/demo.toml"
    ))
    .unwrap();
    let value = |l: &str, key: &str| -> Option<String> {
        let rest = l.trim().strip_prefix(key)?.trim_start().strip_prefix('=')?;
        Some(rest.trim().trim_matches('"').to_string())
    };
    let mut out = Vec::new();
    let mut current: Option<(Option<String>, Option<String>)> = None;
    for line in text.lines().chain(std::iter::once("[end]")) {
        let l = line.trim();
        if l.starts_with('[') {
            if let Some((Some(id), Some(kind))) = current.take() {
                out.push((id, kind));
            }
            current = (l == "[[sources]]").then_some((None, None));
        } else if let Some((id, kind)) = current.as_mut() {
            if id.is_none() {
                *id = value(l, "id");
            }
            if kind.is_none() {
                *kind = value(l, "kind");
            }
        }
    }
    out
}
