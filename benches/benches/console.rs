//! The web console's pages (`yuqing-console`), answered through its router in process (tower
//! `oneshot`, no socket) from a SQLite store, as a logged-in duty officer:
//!
//! - `console/wall/<n>_open_cases`: the wall view with `n` open cases (each read with its
//!   latest alert: one query per case), two countdowns each;
//! - `console/event/200_items`: an event page with 200 item observations (each with two
//!   reasons), 144 spread points (the inline SVG chart) and 10 alerts;
//! - `console/case/40_audit_entries`: a case page with its timeline and action forms;
//! - `console/case/note_post`: a note posted through the form (CSRF check, workflow
//!   transaction, audit insert, 303) — the write path.
//!
//! Everything is synthetic, built here.

use std::hint::black_box;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, FixedOffset};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use tokio::runtime::Runtime;
use tower::ServiceExt;
use yuqing_cases::{Actor, Auth, Cases, Role, UserConfig};
use yuqing_console::{ConsoleConfig, ConsoleContext};
use yuqing_core::{Alert, Event, JudgedItem, ManualClock, SharedClock};
use yuqing_store::Store;

const TOKEN: &str = "bench-duty-token-0123456789";

fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T08:00:00+08:00").unwrap()
}

fn event(id: &str, k: i64) -> Event {
    serde_json::from_value(json!({
        "event_id": id, "title": format!("事件 {id}：某地发生险情，网民关注"),
        "first_seen": t0().to_rfc3339(), "first_source": "bench", "last_seen": (t0() + Duration::minutes(k * 10)).to_rfc3339(),
        "updated_at": (t0() + Duration::minutes(k * 10)).to_rfc3339(), "stage": "spreading",
        "velocity": 12.5, "acceleration": 1.5,
        "forecast_peak": {"size": 5000.0, "low": 3000.0, "high": 8000.0, "method": "hawkes"},
        "grade": "II",
        "counts": {"items": 10 + k, "reposts": k * k, "comments": k * 3, "likes": k, "views": 0,
                   "platforms": 3, "sources": 5, "official": 1, "media": 2},
        "sensitivity": 0.8, "sentiment": -0.4, "department": "应急管理局", "region": "某区",
        "reasons": [{"about": "event", "rule": "rule:simhash", "evidence": "合并", "weight": 0.5}]
    }))
    .unwrap()
}

fn alert(event_id: &str, grade: &str, seq: i64) -> Alert {
    serde_json::from_value(json!({
        "alert_id": format!("al-{event_id}-{seq}"), "event_id": event_id, "kind": if seq == 0 { "new" } else { "reminder" },
        "grade": grade, "stage": "spreading", "title": format!("事件 {event_id}：某地发生险情，网民关注"),
        "department": "应急管理局", "region": "某区",
        "deadlines": [
            {"kind": "first_release", "label": "首次权威发布", "due": (t0() + Duration::hours(1)).to_rfc3339()},
            {"kind": "response", "label": "回应", "due": (t0() + Duration::hours(48)).to_rfc3339()}
        ],
        "rule": "bench", "reasons": [{"about": "grade", "rule": "rule:size", "evidence": "规模 ≥ 50"}],
        "at": (t0() + Duration::minutes(seq)).to_rfc3339()
    }))
    .unwrap()
}

fn judged(event_id: &str, i: i64) -> JudgedItem {
    let mut j: JudgedItem = serde_json::from_value(json!({
        "id": format!("{}", i % 120), "source": "bench", "platform": "weibo",
        "text": "现场有浓烟，附近居民已疏散，消防正在处置，请大家注意安全。".repeat(3),
        "url": format!("https://m.weibo.cn/status/{i}"), "author": "网友",
        "published_at": (t0() + Duration::minutes(i % 120)).to_rfc3339(),
        "observed_at": (t0() + Duration::minutes(i)).to_rfc3339(),
        "metrics": {"reposts": i, "comments": 2, "likes": 5},
        "analysis": {"sensitivity": 0.7, "sentiment": -0.3, "event_id": event_id,
            "reasons": [{"about": "sensitivity", "rule": "lexicon:安全事故", "evidence": "浓烟", "weight": 0.3},
                        {"about": "department", "rule": "departments:应急", "evidence": "消防"}]}
    }))
    .unwrap();
    j.item.normalize().unwrap();
    j
}

struct Bench {
    app: Router,
    cookie: String,
    csrf: String,
    case_id: String,
    _dir: tempfile::TempDir,
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    cookie: &str,
    body: String,
) -> (StatusCode, String, Vec<String>) {
    let mut req = Request::builder().method(method).uri(uri);
    if !cookie.is_empty() {
        req = req.header(header::COOKIE, cookie);
    }
    if method == "POST" {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let bytes = axum::body::to_bytes(res.into_body(), 64 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap(), cookies)
}

fn hidden_csrf(html: &str) -> String {
    let pat = "name=\"csrf\" value=\"";
    let i = html.find(pat).unwrap() + pat.len();
    html[i..i + 64].to_string()
}

async fn setup(open_cases: usize) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .unwrap();
    let clock: SharedClock = Arc::new(ManualClock::new(t0().to_utc() + Duration::minutes(30)));
    let users = vec![UserConfig {
        name: "值班员".into(),
        token: TOKEN.into(),
        role: Role::DutyOfficer,
        department: None,
    }];
    let cases = Cases::with_clock(store.clone(), clock.clone())
        .await
        .unwrap();
    let grades = ["I", "II", "III", "IV"];
    for n in 0..open_cases {
        let id = format!("ev-{n:04}");
        store.put_events(&[event(&id, 0)]).await.unwrap();
        let a = alert(&id, grades[n % 4], 0);
        store.insert_alert(&a, &[]).await.unwrap();
        cases.on_alert(&a).await.unwrap();
    }
    // The big event: 144 spread points, 200 observations, 10 alerts, 40 audit entries.
    let big = "ev-big";
    let snaps: Vec<Event> = (0..144).map(|k| event(big, k)).collect();
    store.put_events(&snaps).await.unwrap();
    let items: Vec<JudgedItem> = (0..200).map(|i| judged(big, i)).collect();
    store.put_judged(&items).await.unwrap();
    for s in 0..10 {
        let a = alert(big, "II", s);
        store.insert_alert(&a, &[]).await.unwrap();
        cases.on_alert(&a).await.unwrap();
    }
    let duty = Actor::duty("值班员");
    cases.accept(big, &duty).await.unwrap();
    for k in 0..28 {
        cases
            .note(big, &format!("跟进记录 {k}"), &duty)
            .await
            .unwrap();
    }
    let case_id = cases.show(big).await.unwrap().case_id;
    let ctx =
        ConsoleContext::new(store, cases, Auth::new(&users), clock).with_config(ConsoleConfig {
            wall_cases: 500,
            ..ConsoleConfig::default()
        });
    let app = yuqing_console::router(ctx);
    let (_, page, cookies) = send(&app, "GET", "/console/login", "", String::new()).await;
    let login_csrf = hidden_csrf(&page);
    let form = format!("csrf={login_csrf}&token={TOKEN}");
    let (status, _, cookies2) =
        send(&app, "POST", "/console/login", &cookies.join("; "), form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = cookies2
        .into_iter()
        .find(|c| c.starts_with("yuqing_console_session="))
        .unwrap();
    let (_, page, _) = send(&app, "GET", "/console/cases", &cookie, String::new()).await;
    let csrf = hidden_csrf(&page);
    Bench {
        app,
        cookie,
        csrf,
        case_id,
        _dir: dir,
    }
}

fn pages(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let mut g = c.benchmark_group("console");
    g.sample_size(20);
    for n in [50usize, 200] {
        let b = rt.block_on(setup(n));
        g.bench_function(format!("wall/{n}_open_cases"), |bench| {
            bench.iter(|| {
                let (status, body, _) =
                    rt.block_on(send(&b.app, "GET", "/console/", &b.cookie, String::new()));
                assert_eq!(status, StatusCode::OK);
                black_box(body.len())
            })
        });
        if n == 50 {
            g.bench_function("event/200_items", |bench| {
                bench.iter(|| {
                    let (status, body, _) = rt.block_on(send(
                        &b.app,
                        "GET",
                        "/console/events/ev-big",
                        &b.cookie,
                        String::new(),
                    ));
                    assert_eq!(status, StatusCode::OK);
                    black_box(body.len())
                })
            });
            let page = format!("/console/cases/{}", b.case_id);
            g.bench_function("case/40_audit_entries", |bench| {
                bench.iter(|| {
                    let (status, body, _) =
                        rt.block_on(send(&b.app, "GET", &page, &b.cookie, String::new()));
                    assert_eq!(status, StatusCode::OK);
                    black_box(body.len())
                })
            });
            let post = format!("{page}/note");
            let form = format!("csrf={}&text=%E8%B7%9F%E8%BF%9B", b.csrf);
            g.bench_function("case/note_post", |bench| {
                bench.iter(|| {
                    let (status, _, _) =
                        rt.block_on(send(&b.app, "POST", &post, &b.cookie, form.clone()));
                    assert_eq!(status, StatusCode::SEE_OTHER);
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, pages);
criterion_main!(benches);
