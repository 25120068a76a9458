//! The accountability gauges (`yuqing_cases_accountability_*`): a known audit history gives
//! known values, on SQLite and PostgreSQL. Each test but one uses a registry of its own; the
//! one that checks the global registry is alone in touching it in this binary.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{alert, at, clock, overdue};
use prometheus::Registry;
use yuqing_cases::metrics::ACCOUNTABILITY_WINDOW;
use yuqing_cases::{AccountabilityMetrics, Actor, Cases, CasesConfig, Channel, Response};
use yuqing_core::{AlertKind, Grade, ManualClock};
use yuqing_store::Store;

const MIN: u64 = 60;

/// The value of the series `name{labels}` (exactly those labels), if it exists.
fn value(r: &Registry, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let fam = r.gather().into_iter().find(|f| f.get_name() == name)?;
    fam.get_metric()
        .iter()
        .find(|m| {
            m.get_label().len() == labels.len()
                && labels.iter().all(|(k, v)| {
                    m.get_label()
                        .iter()
                        .any(|l| l.get_name() == *k && l.get_value() == *v)
                })
        })
        .map(|m| m.get_gauge().get_value())
}

fn cases_of(r: &Registry, dept: &str, status: &str) -> Option<f64> {
    value(
        r,
        "yuqing_cases_accountability_cases",
        &[("department", dept), ("status", status)],
    )
}

fn deadlines(r: &Registry, dept: &str) -> [Option<f64>; 3] {
    ["met", "missed", "pending"].map(|o| {
        value(
            r,
            "yuqing_cases_accountability_deadlines",
            &[("department", dept), ("outcome", o)],
        )
    })
}

fn reports(r: &Registry, dept: &str) -> (Option<f64>, Option<f64>) {
    let d = [("department", dept)];
    (
        value(r, "yuqing_cases_accountability_late_reports", &d),
        value(r, "yuqing_cases_accountability_missed_reports", &d),
    )
}

/// mean, p50, p90, max of a duration gauge.
fn durations(r: &Registry, what: &str, dept: &str) -> [Option<f64>; 4] {
    let name = format!("yuqing_cases_accountability_time_to_{what}_seconds");
    ["mean", "p50", "p90", "max"].map(|s| value(r, &name, &[("department", dept), ("stat", s)]))
}

/// Five cases, the clock ending at minute 80 (accept limit 30 min; every event first seen at
/// minute 0, every first-release deadline due at minute 60):
///
/// - ev-1 应急管理局: alerted at 5, accepted at 50 (迟报), answered at 50 (deadline met).
/// - ev-2 应急管理局: alerted at 6, never accepted (漏报), overdue at 60 (deadline missed).
/// - ev-3 住房和城乡建设局 (not configured: `其他`): alerted at 70, due in 24 h.
/// - ev-4 no department (`未指定`): alerted at 5, accepted at 15, never answered.
/// - ev-5 应急管理局, reassigned to 公安局: alerted at 5, accepted at 15, answered at 40,
///   closed.
async fn history(store: Store) -> (Cases, Arc<ManualClock>) {
    let clk = clock(5);
    let cfg = CasesConfig {
        departments: vec!["应急管理局".into(), "公安局".into()],
        ..CasesConfig::default()
    };
    let cases = Cases::with_clock(store, clk.clone())
        .await
        .unwrap()
        .configure(&cfg, &[]);
    let duty = Actor::duty("王值班");
    cases
        .on_alert(&alert("ev-1", AlertKind::New, Grade::III, 5, 0))
        .await
        .unwrap();
    cases
        .on_alert(&alert("ev-2", AlertKind::New, Grade::III, 6, 0))
        .await
        .unwrap();
    let mut a4 = alert("ev-4", AlertKind::New, Grade::IV, 5, 0);
    a4.department = None;
    cases.on_alert(&a4).await.unwrap();
    cases
        .on_alert(&alert("ev-5", AlertKind::New, Grade::III, 5, 0))
        .await
        .unwrap();

    clk.advance(Duration::from_secs(10 * MIN)); // minute 15
    cases.accept("ev-4", &duty).await.unwrap();
    cases.accept("ev-5", &duty).await.unwrap();
    cases.assign("ev-5", "公安局", &duty).await.unwrap();

    clk.advance(Duration::from_secs(35 * MIN)); // minute 50
    cases.accept("ev-1", &duty).await.unwrap();
    cases.assign("ev-1", "应急管理局", &duty).await.unwrap();
    cases
        .feedback("ev-1", "已核实", &Actor::department("张科长", "应急管理局"))
        .await
        .unwrap();
    let website = |minute| Response {
        channel: Channel::Website,
        link: None,
        at: at(minute),
    };
    cases
        .respond(
            "ev-1",
            &website(50),
            &Actor::department("张科长", "应急管理局"),
        )
        .await
        .unwrap();
    let police = Actor::department("李警官", "公安局");
    cases.feedback("ev-5", "已处置", &police).await.unwrap();
    cases.respond("ev-5", &website(40), &police).await.unwrap();
    cases.close("ev-5", None, &duty).await.unwrap();

    clk.advance(Duration::from_secs(30 * MIN)); // minute 80
    cases.on_alert(&overdue("ev-2", 60)).await.unwrap();
    let mut a3 = alert("ev-3", AlertKind::New, Grade::IV, 70, 0);
    a3.department = Some("住房和城乡建设局".into());
    a3.deadlines[0].due = at(24 * 60);
    cases.on_alert(&a3).await.unwrap();
    (cases, clk)
}

async fn gauges_follow_the_audit_log(store: Store) {
    let (cases, clk) = history(store).await;
    let r = Registry::new();
    let m = AccountabilityMetrics::register(&r).unwrap();
    cases
        .refresh_accountability_metrics(&m, ACCOUNTABILITY_WINDOW)
        .await
        .unwrap();

    assert_eq!(
        value(&r, "yuqing_cases_accountability_window_seconds", &[]),
        Some(30.0 * 24.0 * 3600.0)
    );
    // 应急管理局: ev-1 and ev-2.
    let d = "应急管理局";
    let statuses = ["alerted", "accepted", "responded", "closed", "reopened"];
    assert_eq!(
        statuses.map(|s| cases_of(&r, d, s)),
        [Some(2.0), Some(1.0), Some(1.0), Some(0.0), Some(0.0)]
    );
    assert_eq!(deadlines(&r, d), [Some(1.0), Some(1.0), Some(0.0)]);
    assert_eq!(
        reports(&r, d),
        (Some(1.0), Some(1.0)),
        "迟报 ev-1, 漏报 ev-2"
    );
    // First seen → alert: 300 s and 360 s.
    assert_eq!(
        durations(&r, "alert", d),
        [Some(330.0), Some(330.0), Some(354.0), Some(360.0)]
    );
    assert_eq!(durations(&r, "accept", d), [Some(2700.0); 4]);
    assert_eq!(durations(&r, "response", d), [Some(2700.0); 4]);

    // 公安局: ev-5, counted where it was assigned, not under its owner.
    let d = "公安局";
    assert_eq!(
        statuses.map(|s| cases_of(&r, d, s)),
        [Some(1.0), Some(1.0), Some(1.0), Some(1.0), Some(0.0)]
    );
    assert_eq!(deadlines(&r, d), [Some(1.0), Some(0.0), Some(0.0)]);
    assert_eq!(reports(&r, d), (Some(0.0), Some(0.0)));
    assert_eq!(durations(&r, "alert", d), [Some(300.0); 4]);
    assert_eq!(durations(&r, "accept", d), [Some(600.0); 4]);
    assert_eq!(durations(&r, "response", d), [Some(2100.0); 4]);

    // 其他: ev-3 under a department not configured; alerted 10 minutes ago, not yet 漏报.
    let d = "其他";
    assert_eq!(cases_of(&r, d, "alerted"), Some(1.0));
    assert_eq!(cases_of(&r, d, "accepted"), Some(0.0));
    assert_eq!(deadlines(&r, d), [Some(0.0), Some(0.0), Some(1.0)]);
    assert_eq!(reports(&r, d), (Some(0.0), Some(0.0)));
    assert_eq!(durations(&r, "alert", d), [Some(4200.0); 4]);
    assert_eq!(durations(&r, "accept", d), [None; 4], "nothing measured");
    assert_eq!(durations(&r, "response", d), [None; 4]);
    assert_eq!(
        cases_of(&r, "住房和城乡建设局", "alerted"),
        None,
        "unconfigured names never become labels"
    );

    // 未指定: ev-4, accepted in time, never answered: its deadline passed.
    let d = "未指定";
    assert_eq!(cases_of(&r, d, "alerted"), Some(1.0));
    assert_eq!(cases_of(&r, d, "accepted"), Some(1.0));
    assert_eq!(deadlines(&r, d), [Some(0.0), Some(1.0), Some(0.0)]);
    assert_eq!(reports(&r, d), (Some(0.0), Some(0.0)));
    assert_eq!(durations(&r, "accept", d), [Some(600.0); 4]);

    // The gauges agree with the API's figures over the same cases.
    let api = cases.accountability(at(0), at(120)).await.unwrap();
    let ying = api.iter().find(|s| s.department == "应急管理局").unwrap();
    assert_eq!(
        (ying.cases, ying.late_accepted, ying.not_acted_on),
        (2, 1, 1)
    );
    assert_eq!(ying.to_alert.mean, Some(5.5), "minutes");

    // Half an hour later, over a window of 100 minutes (from minute 10): only ev-3 is left,
    // now 40 minutes without acceptance (漏报); the others drop to zero and lose their
    // durations.
    clk.advance(Duration::from_secs(30 * MIN)); // minute 110
    cases
        .refresh_accountability_metrics(&m, Duration::from_secs(100 * MIN))
        .await
        .unwrap();
    assert_eq!(
        value(&r, "yuqing_cases_accountability_window_seconds", &[]),
        Some(6000.0)
    );
    assert_eq!(cases_of(&r, "其他", "alerted"), Some(1.0));
    assert_eq!(reports(&r, "其他"), (Some(0.0), Some(1.0)));
    for d in ["应急管理局", "公安局", "未指定"] {
        assert_eq!(cases_of(&r, d, "alerted"), Some(0.0), "{d}");
        assert_eq!(deadlines(&r, d), [Some(0.0); 3], "{d}");
        assert_eq!(reports(&r, d), (Some(0.0), Some(0.0)), "{d}");
        assert_eq!(durations(&r, "alert", d), [None; 4], "{d}");
        assert_eq!(durations(&r, "accept", d), [None; 4], "{d}");
    }
}

#[tokio::test]
async fn sqlite_gauges_follow_the_audit_log() {
    let (s, _d) = common::sqlite().await;
    gauges_follow_the_audit_log(s).await;
}

#[tokio::test]
async fn postgres_gauges_follow_the_audit_log() {
    let (s, db) = common::postgres().await;
    gauges_follow_the_audit_log(s.clone()).await;
    s.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn the_daemon_loop_sets_the_served_gauges() {
    let (s, _d) = common::sqlite().await;
    let (cases, _clk) = history(s).await;
    // One refresh (the first tick is immediate), then the shutdown future ends the loop.
    cases
        .run_accountability_metrics(
            Duration::from_secs(60),
            ACCOUNTABILITY_WINDOW,
            tokio::time::sleep(Duration::from_millis(200)),
        )
        .await;
    let text = yuqing_core::telemetry::render();
    for line in [
        "yuqing_cases_accountability_window_seconds 2592000",
        "yuqing_cases_accountability_late_reports{department=\"应急管理局\"} 1",
        "yuqing_cases_accountability_missed_reports{department=\"应急管理局\"} 1",
        "yuqing_cases_accountability_cases{department=\"公安局\",status=\"closed\"} 1",
        "yuqing_cases_accountability_deadlines{department=\"未指定\",outcome=\"missed\"} 1",
        "yuqing_cases_accountability_time_to_alert_seconds{department=\"应急管理局\",stat=\"p90\"} 354",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
    }
    for l in text
        .lines()
        .filter(|l| l.starts_with("# TYPE yuqing_cases_accountability"))
    {
        let name = l.split_whitespace().nth(2).unwrap();
        match l.split_whitespace().nth(3).unwrap() {
            "counter" => assert!(name.ends_with("_total"), "{l}"),
            kind => assert_eq!(kind, "gauge", "{l}"),
        }
    }
}
