//! Through the daemon: an ingested incident raises an alert that `yuqing tail` shows; its case
//! goes from 待受理 to 办结 over the HTTP API (bad requests get a 4xx and change nothing), and the
//! CLI sees the same case.

mod common;

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{bin, http, items, wait_for, Daemon};
use serde_json::{json, Value};

const INGEST: &str = "workflow-ingest-token-0123";
const DUTY: &str = "workflow-duty-token-012345";
const VIEWER: &str = "workflow-viewer-token-0123";

#[test]
fn alert_to_closed_case_over_the_api() {
    workflow("");
}

/// The same, with every stage talking over a real Kafka-protocol broker and state in PostgreSQL.
#[test]
fn alert_to_closed_case_over_kafka_and_postgres() {
    let broker = yuqing_testkit::Broker::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(yuqing_testkit::PgDatabase::create());
    let prefix = yuqing_testkit::unique("wf");
    workflow(&format!(
        "[bus]\nkind = \"kafka\"\n[bus.kafka]\nbootstrap = \"{}\"\ntopic_prefix = \"{prefix}.\"\n\
         group_prefix = \"{prefix}-\"\npartitions = 2\nsession_timeout = \"6s\"\n[store]\nurl = \"{}\"\n",
        broker.bootstrap, db.url
    ));
}

/// Department sinks of the bundled routing table (`pipelines/alert/routing.toml`) that the test
/// configures as webhooks, by the department whose alerts they receive.
const DEPT_SINKS: &[(&str, &str)] = &[
    ("生态环境局", "dept-environment"),
    ("人力资源和社会保障局", "dept-hrss"),
    ("应急管理局", "dept-emergency"),
    ("教育局", "dept-education"),
];

/// Webhook receivers on loopback: `/hook/{sink}` records the alert ids each sink delivered.
type Hooks = Arc<Mutex<HashMap<String, Vec<String>>>>;

fn hooks(rt: &tokio::runtime::Runtime) -> (String, Hooks) {
    let got: Hooks = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook/{sink}",
        axum::routing::post(
            move |axum::extract::Path(sink): axum::extract::Path<String>,
                  axum::Json(alert): axum::Json<Value>| {
                let g = g.clone();
                async move {
                    let id = alert["alert_id"].as_str().unwrap_or_default().to_string();
                    g.lock().unwrap().entry(sink).or_default().push(id);
                    "ok"
                }
            },
        ),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}/hook"), got)
}

fn workflow(extra: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = dir.path().join("pipeline.toml");
    let hook_rt = tokio::runtime::Runtime::new().unwrap();
    let (hook_base, received) = hooks(&hook_rt);
    // Routed sinks: each gets only the alerts the routing table sends to its department.
    let dept_sinks: String = DEPT_SINKS
        .iter()
        .map(|(_, id)| {
            format!("[[sinks]]\nkind = \"webhook\"\nid = \"{id}\"\nurl = \"{hook_base}/{id}\"\n")
        })
        .collect();
    std::fs::write(
        &cfg,
        format!(
            "name = \"workflow\"\n[api]\ningest_tokens = [\"{INGEST}\"]\n\
             [[api.users]]\nname = \"值班员甲\"\ntoken = \"{DUTY}\"\nrole = \"duty_officer\"\n\
             [[api.users]]\nname = \"观察员\"\ntoken = \"{VIEWER}\"\nrole = \"viewer\"\n\
             [[sinks]]\nkind = \"file\"\nid = \"log\"\nall = true\npath = \"alerts.jsonl\"\n\
             {dept_sinks}{extra}"
        ),
    )
    .unwrap();
    let store_flag: Vec<String> = match extra.split("url = \"").nth(1) {
        Some(rest) => vec![
            "--store".into(),
            rest.split('"').next().unwrap().to_string(),
        ],
        None => vec![],
    };
    let d = Daemon::start(
        &[
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        dir.path(),
        "workflow",
    );
    let client = http();
    let start = chrono::Utc::now().fixed_offset() - chrono::Duration::minutes(5);
    let body: String = items(60, start, 2)
        .iter()
        .map(|v| format!("{v}\n"))
        .collect();
    let r = client
        .post(d.url("/ingest"))
        .bearer_auth(INGEST)
        .body(body)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap());

    // Pushing with a wrong token is refused and accepts nothing.
    let r = client
        .post(d.url("/ingest"))
        .bearer_auth("nope-nope-nope-nope")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);

    // `yuqing tail` shows the first alert (it follows the store's alert log).
    let out = wait_for(Duration::from_secs(60), "an alert to tail", || {
        let mut child = Command::new(bin())
            .args([
                "tail",
                "--from-start",
                "--limit",
                "1",
                "--json",
                "--data-dir",
            ])
            .arg(&data)
            .args(&store_flag)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // `tail` follows until it has printed one alert; give it a few seconds.
        for _ in 0..50 {
            if let Ok(Some(_)) = child.try_wait() {
                return child.wait_with_output().ok();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    });
    assert!(out.status.success());
    let first: Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert!(first["alert_id"].as_str().unwrap().starts_with("al-"));
    let out = Command::new(bin())
        .args([
            "tail",
            "--from-start",
            "--limit",
            "1",
            "--grade",
            "V",
            "--data-dir",
        ])
        .arg(&data)
        .args(&store_flag)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a bad grade is a usage error");

    // The alerted event is a case, 待受理.
    let case: Value = wait_for(Duration::from_secs(30), "a case", || {
        let v: Value = client
            .get(d.url("/api/cases"))
            .bearer_auth(DUTY)
            .send()
            .ok()?
            .json()
            .ok()?;
        let list = v
            .get("cases")
            .and_then(Value::as_array)
            .or(v.as_array())?
            .clone();
        list.into_iter().find(|c| c["state_label"] == "待受理")
    });
    let id = case["case_id"].as_str().unwrap().to_string();
    let act = |token: &str, action: &str, body: Value| {
        client
            .post(d.url(&format!("/api/cases/{id}/{action}")))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap()
    };

    // Bad requests: 4xx with a clear JSON message, nothing changes.
    assert_eq!(
        client.get(d.url("/api/cases")).send().unwrap().status(),
        401
    );
    assert_eq!(act(VIEWER, "accept", json!({})).status(), 403);
    let r = client
        .post(d.url("/api/cases/no-such-case/accept"))
        .bearer_auth(DUTY)
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = act(DUTY, "feedback", json!({"facts": "x"}));
    assert_eq!(r.status(), 409, "feedback before acceptance is illegal");
    let msg: Value = r.json().unwrap();
    assert!(msg["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    let r = client
        .post(d.url(&format!("/api/cases/{id}/accept")))
        .bearer_auth(DUTY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let still: Value = client
        .get(d.url(&format!("/api/cases/{id}")))
        .bearer_auth(DUTY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let state = |v: &Value| {
        v.get("case").unwrap_or(v)["state_label"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(state(&still), "待受理", "bad requests changed nothing");

    // 受理 → 转办 → 反馈 → 回应 → 办结.
    for (action, body, expect) in [
        ("accept", json!({}), "已受理"),
        ("assign", json!({"department": "应急管理局"}), "已转办"),
        (
            "feedback",
            json!({"facts": "经核查，系企业车间闪燃，无人员死亡，网传多人死亡不实。"}),
            "已反馈",
        ),
        (
            "respond",
            json!({"channel": "weibo", "link": "https://weibo.com/demo/1"}),
            "已回应",
        ),
        ("close", json!({"note": "已回应并办结"}), "办结"),
    ] {
        let r = act(DUTY, action, body);
        assert!(r.status().is_success(), "{action}: {}", r.text().unwrap());
        let v: Value = r.json().unwrap();
        assert_eq!(state(&v), expect, "{action}");
    }

    // The CLI reads the same case.
    let out = Command::new(bin())
        .args(["case", "show", &id, "--data-dir"])
        .arg(&data)
        .args(&store_flag)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("办结"), "{text}");
    let out = Command::new(bin())
        .args(["case", "accept", "no-such-case", "--data-dir"])
        .arg(&data)
        .args(&store_flag)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The reports of the replayed incident: every one renders, the summary only once closed.
    let event_id = case["event_id"].as_str().unwrap().to_string();
    let today = chrono::Utc::now()
        .with_timezone(&yuqing_core::clock::cst())
        .format("%Y-%m-%d")
        .to_string();
    let report_out = dir.path().join("summary.html");
    for (args, expect) in [
        (
            vec![
                "event".to_string(),
                event_id.clone(),
                "--format".into(),
                "md".into(),
            ],
            "专报",
        ),
        (
            vec![
                "daily".to_string(),
                "--date".into(),
                today.clone(),
                "--format".into(),
                "md".into(),
            ],
            "日志",
        ),
        (
            vec![
                "bulletin".to_string(),
                "--from".into(),
                today.clone(),
                "--to".into(),
                today.clone(),
                "--format".into(),
                "md".into(),
            ],
            "通报",
        ),
        (
            vec![
                "summary".to_string(),
                id.clone(),
                "--format".into(),
                "html".into(),
                "--out".into(),
                report_out.display().to_string(),
            ],
            "",
        ),
    ] {
        let out = Command::new(bin())
            .arg("report")
            .args(&args)
            .arg("--data-dir")
            .arg(&data)
            .args(&store_flag)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "report {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(expect),
            "report {args:?}"
        );
    }
    let html = std::fs::read_to_string(&report_out).unwrap();
    assert!(
        html.contains("<html") && html.contains("总结"),
        "summary report written"
    );
    let out = Command::new(bin())
        .args(["report", "event", "ev-does-not-exist", "--data-dir"])
        .arg(&data)
        .args(&store_flag)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown event is a usage error"
    );

    // The routed delivery reached the sink.
    let delivered = wait_for(Duration::from_secs(30), "a delivered alert", || {
        let v = common::jsonl(&data.join("alerts.jsonl"));
        (!v.is_empty()).then_some(v)
    });
    assert!(delivered.iter().any(|a| a["alert_id"] == first["alert_id"]));

    // Routing: each department's webhook got exactly the alerts of its department (the routing
    // table's 谁主管谁负责), and the incidents of two departments went to two sinks.
    let want = |sink: &str| -> HashSet<String> {
        let dept = DEPT_SINKS.iter().find(|(_, id)| *id == sink).unwrap().0;
        common::jsonl(&data.join("alerts.jsonl"))
            .iter()
            .filter(|a| a["department"] == dept)
            .map(|a| a["alert_id"].as_str().unwrap().to_string())
            .collect()
    };
    let routed = wait_for(Duration::from_secs(30), "routed deliveries", || {
        let got = received.lock().unwrap().clone();
        DEPT_SINKS
            .iter()
            .all(|(_, id)| {
                let have: HashSet<String> = got.get(*id).into_iter().flatten().cloned().collect();
                have == want(id)
            })
            .then_some(got)
    });
    let busy = DEPT_SINKS
        .iter()
        .filter(|(_, id)| routed.get(*id).is_some_and(|v| !v.is_empty()))
        .count();
    assert!(
        busy >= 2,
        "alerts of two departments, routed apart: {routed:?}"
    );
    assert!(
        routed.get("dept-education").is_none_or(|v| v.is_empty()),
        "no alert for the education bureau: {routed:?}"
    );
    for (sink, ids) in &routed {
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{sink} got an alert twice");
    }
    assert!(d.terminate().success());
}
