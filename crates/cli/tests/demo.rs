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
