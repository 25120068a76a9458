//! Alertmanager API v2: the exact body on a loopback receiver, and — when the Alertmanager
//! binary is installed (Debian: `prometheus-alertmanager`) — acceptance by the real thing.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use common::*;
use serde_json::json;
use yuqing_core::{AlertKind, ManualClock};
use yuqing_sinks::Dispatcher;

#[tokio::test]
async fn the_body_is_an_array_of_postable_alerts() {
    let rx = Receiver::start(|_| (200, String::new())).await;
    let d = Dispatcher::builder(sinks(&format!(
        r#"[[sinks]]
        kind = "alertmanager"
        id = "am"
        all = true
        url = "{}"
        generator_url = "https://yuqing.example/events/""#,
        rx.url("/")
    )))
    .clock(clock())
    .build()
    .unwrap();
    let alert = sample();
    let mut calmed = flood_alert(12);
    calmed.kind = AlertKind::Calmed;
    calmed.department = None;
    calmed.url = None;
    let report = d.deliver([alert.clone(), calmed.clone()]).await;
    assert!(report.all_delivered(), "{report:?}");
    let reqs = rx.take();
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/api/v2/alerts");
    assert_eq!(r.headers["content-type"], "application/json");
    // Batched: the two alerts may arrive in one request or two; collect them.
    let got: Vec<serde_json::Value> = reqs
        .iter()
        .flat_map(|r| r.json().as_array().unwrap().clone())
        .collect();
    assert_eq!(got.len(), 2);
    let description = |a: &yuqing_core::Alert| yuqing_sinks::render::plain_text(a, t0());
    let expected = json!({
        "labels": {
            "alertname": "YuqingAlert",
            "grade": "II",
            "event_id": "ev-0123456789abcdef",
            "department": "区应急管理局",
            "region": "某市某区",
            "severity": "critical",
        },
        "annotations": {
            "summary": "【舆情预警·橙色】某区化工厂火灾 <@all> 浓烟",
            "description": description(&alert),
            "alert_id": alert.alert_id,
            "kind": "escalated",
            "stage": "spreading",
            "url": "https://weibo.com/1/abc",
        },
        "startsAt": "2026-11-22T02:02:00.000Z",
        "endsAt": "2026-11-23T02:10:00.000Z",
        "generatorURL": "https://yuqing.example/events/ev-0123456789abcdef",
    });
    assert_eq!(
        serde_json::to_string(&got[0]).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
    // A calmed alert resolves: endsAt is now; no department label when none is known.
    let c = &got[1];
    assert_eq!(c["endsAt"], "2026-11-22T02:10:00.000Z");
    assert_eq!(c["labels"]["severity"], "info");
    assert_eq!(c["labels"]["grade"], "IV");
    assert!(c["labels"].get("department").is_none());
    assert_eq!(c["annotations"]["kind"], "calmed");
    assert_eq!(
        c["generatorURL"],
        format!("https://yuqing.example/events/{}", calmed.event_id)
    );
}

fn alertmanager_binary() -> Option<String> {
    if let Ok(p) = std::env::var("YUQING_ALERTMANAGER_BIN") {
        return Some(p);
    }
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        for name in ["alertmanager", "prometheus-alertmanager"] {
            let p = std::path::Path::new(dir).join(name);
            if p.is_file() {
                return Some(p.to_string_lossy().into_owned());
            }
        }
    }
    None
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_real_alertmanager_accepts_the_alerts() {
    let Some(bin) = alertmanager_binary() else {
        println!("skipping: no alertmanager binary (apt-get install prometheus-alertmanager)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n",
    )
    .unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new(&bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start alertmanager");
    let _guard = Kill(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{base}/-/ready")).send().await {
            if r.status().is_success() {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "alertmanager did not become ready");

    // Real time here: Alertmanager compares endsAt with its own clock.
    let now = Utc::now();
    let clock = std::sync::Arc::new(ManualClock::new(now));
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"alertmanager\"\nid = \"am\"\nall = true\nurl = \"{base}\""
    )))
    .clock(clock)
    .build()
    .unwrap();
    let mut alert = sample();
    alert.at = (now - chrono::Duration::minutes(5)).fixed_offset();
    let report = d.deliver([alert.clone()]).await;
    assert!(report.all_delivered(), "{report:?}");

    let listed: serde_json::Value = http
        .get(format!("{base}/api/v2/alerts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let found = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["annotations"]["alert_id"] == alert.alert_id.as_str())
        .unwrap_or_else(|| panic!("alert not stored: {listed}"));
    assert_eq!(found["labels"]["alertname"], "YuqingAlert");
    assert_eq!(found["labels"]["grade"], "II");
    assert_eq!(found["labels"]["severity"], "critical");
    assert_eq!(found["labels"]["event_id"], alert.event_id.as_str());
    assert_eq!(found["labels"]["department"], "区应急管理局");
    assert_eq!(found["labels"]["region"], "某市某区");
    assert_eq!(found["status"]["state"], "active");
    assert_eq!(found["generatorURL"], "https://weibo.com/1/abc");
}
