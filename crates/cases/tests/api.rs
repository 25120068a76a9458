//! The HTTP API: every status it promises, each error as JSON, and nothing changed by a bad
//! request. In-process (tower) on SQLite, plus one run over a real loopback socket.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{alert, at, clock};
use serde_json::{json, Value};
use tower::ServiceExt;
use yuqing_cases::{router, Auth, Cases, Role, UserConfig};
use yuqing_core::{AlertKind, Grade};

const DUTY: &str = "duty-token-0123456789";
const DEPT: &str = "dept-token-0123456789";
const OTHER: &str = "other-token-012345678";
const VIEW: &str = "view-token-0123456789";

fn users() -> Vec<UserConfig> {
    let u = |name: &str, token: &str, role, dept: Option<&str>| UserConfig {
        name: name.into(),
        token: token.into(),
        role,
        department: dept.map(str::to_string),
    };
    vec![
        u("王值班", DUTY, Role::DutyOfficer, None),
        u("张科长", DEPT, Role::Department, Some("应急管理局")),
        u("李科长", OTHER, Role::Department, Some("住房和城乡建设局")),
        u("领导", VIEW, Role::Viewer, None),
    ]
}

struct Api {
    app: axum::Router,
    cases: Cases,
    _dir: tempfile::TempDir,
}

async fn api() -> Api {
    let (store, dir) = common::sqlite().await;
    let cases = common::cases(store, clock(10)).await;
    cases
        .on_alert(&alert("ev-1", AlertKind::New, Grade::III, 5, 0))
        .await
        .unwrap();
    Api {
        app: router(cases.clone(), Auth::new(&users())),
        cases,
        _dir: dir,
    }
}

impl Api {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: &str,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let res = self
            .app
            .clone()
            .oneshot(req.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
        (status, v)
    }

    async fn audit_len(&self) -> usize {
        self.cases.audit("ev-1").await.unwrap().len()
    }
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_happy_path() {
    let a = api().await;
    let (s, v) = a.call("GET", "/api/cases", Some(VIEW), "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["cases"][0]["state"], "pending");
    assert_eq!(v["cases"][0]["state_label"], "待受理");
    let id = v["cases"][0]["case_id"].as_str().unwrap().to_string();

    let (s, v) = a
        .call("POST", &format!("/api/cases/{id}/accept"), Some(DUTY), "")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state_label"], "已受理");
    let (s, _) = a
        .call(
            "POST",
            "/api/cases/ev-1/assign",
            Some(DUTY),
            r#"{"department":"应急管理局"}"#,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = a
        .call(
            "POST",
            "/api/cases/ev-1/feedback",
            Some(DEPT),
            r#"{"facts":"已核实，无人员伤亡"}"#,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = a
        .call(
            "POST",
            "/api/cases/ev-1/respond",
            Some(DEPT),
            &json!({"channel": "weibo", "link": "https://weibo.com/x/1", "at": at(9).to_rfc3339()})
                .to_string(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["response"]["channel"], "weibo");
    let (s, _) = a
        .call(
            "POST",
            "/api/cases/ev-1/note",
            Some(DEPT),
            r#"{"text":"已报告"}"#,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = a
        .call("POST", "/api/cases/ev-1/close", Some(DUTY), "{}")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["state"], "closed");

    let (s, v) = a.call("GET", "/api/cases/ev-1", Some(DEPT), "").await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<_> = v["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["opened", "accept", "assign", "feedback", "respond", "note", "close"]
    );
    assert_eq!(v["audit"][3]["actor"], "张科长");

    let (s, v) = a
        .call(
            "GET",
            &format!("/api/accountability?from={}&to={}", enc(at(0)), enc(at(60))),
            Some(VIEW),
            "",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["departments"][0]["department"], "应急管理局");
    assert_eq!(v["departments"][0]["cases"], 1);
    assert_eq!(v["departments"][0]["responded"], 1);
}

fn enc(t: chrono::DateTime<chrono::FixedOffset>) -> String {
    t.to_rfc3339().replace('+', "%2B")
}

#[tokio::test]
async fn wrong_or_missing_tokens_get_401() {
    let a = api().await;
    for token in [None, Some("not-a-token-at-all-xx")] {
        let (s, v) = a.call("GET", "/api/cases", token, "").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(code(&v), "unauthorized");
        let (s, _) = a.call("POST", "/api/cases/ev-1/accept", token, "").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(a.audit_len().await, 1, "nothing changed");
}

#[tokio::test]
async fn roles_not_allowed_get_403() {
    let a = api().await;
    let (s, v) = a
        .call("POST", "/api/cases/ev-1/accept", Some(VIEW), "")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("只读"),
        "{v}"
    );
    let (s, _) = a
        .call("POST", "/api/cases/ev-1/accept", Some(DEPT), "")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    a.call("POST", "/api/cases/ev-1/accept", Some(DUTY), "")
        .await;
    a.call(
        "POST",
        "/api/cases/ev-1/assign",
        Some(DUTY),
        r#"{"department":"应急管理局"}"#,
    )
    .await;
    // Another department may not give feedback, nor read the case.
    let (s, v) = a
        .call(
            "POST",
            "/api/cases/ev-1/feedback",
            Some(OTHER),
            r#"{"facts":"x"}"#,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(code(&v), "forbidden");
    let (s, _) = a.call("GET", "/api/cases/ev-1", Some(OTHER), "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = a.call("GET", "/api/cases", Some(OTHER), "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["cases"].as_array().unwrap().len(),
        0,
        "a department lists only its own cases"
    );
    let (s, v) = a.call("GET", "/api/cases", Some(DEPT), "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["cases"].as_array().unwrap().len(), 1);
    assert_eq!(
        a.audit_len().await,
        3,
        "only the duty officer's two actions were recorded"
    );
}

#[tokio::test]
async fn unknown_cases_and_actions_get_404() {
    let a = api().await;
    let (s, v) = a.call("GET", "/api/cases/ev-nope", Some(DUTY), "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(code(&v), "not_found");
    let (s, _) = a
        .call("POST", "/api/cases/ev-nope/accept", Some(DUTY), "")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = a
        .call("POST", "/api/cases/ev-1/delete", Some(DUTY), "")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unknown action"));
    assert_eq!(a.audit_len().await, 1);
}

#[tokio::test]
async fn illegal_transitions_get_409() {
    let a = api().await;
    let (s, v) = a
        .call(
            "POST",
            "/api/cases/ev-1/assign",
            Some(DUTY),
            r#"{"department":"应急管理局"}"#,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(code(&v), "illegal_transition");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("待受理"),
        "{v}"
    );
    let (s, _) = a
        .call("POST", "/api/cases/ev-1/close", Some(DUTY), "")
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = a
        .call("POST", "/api/cases/ev-1/accept", Some(DUTY), "")
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = a
        .call("POST", "/api/cases/ev-1/accept", Some(DUTY), "")
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let case = a.cases.show("ev-1").await.unwrap();
    assert_eq!(case.state, yuqing_cases::CaseState::Accepted);
    assert_eq!(a.audit_len().await, 2);
}

#[tokio::test]
async fn malformed_requests_get_400() {
    let a = api().await;
    a.call("POST", "/api/cases/ev-1/accept", Some(DUTY), "")
        .await;
    let before = a.cases.show("ev-1").await.unwrap();
    for (path, body) in [
        ("assign", "{\"department\":"),
        ("assign", "[1,2]"),
        ("assign", r#"{"dept":"应急管理局"}"#),
        ("assign", r#"{"department":""}"#),
        ("accept", r#"{"unexpected":true}"#),
        ("respond", r#"{"channel":"telepathy"}"#),
        ("respond", r#"{"channel":"weibo","at":"yesterday"}"#),
        ("note", r#"{"text":"   "}"#),
        ("note", "\u{0}\u{1}binary"),
    ] {
        let (s, v) = a
            .call("POST", &format!("/api/cases/ev-1/{path}"), Some(DUTY), body)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path} {body}: {v}");
        assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let (s, v) = a.call("GET", "/api/cases?limit=abc", Some(DUTY), "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = a.call("GET", "/api/cases?grade=V", Some(DUTY), "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = a
        .call("GET", "/api/accountability?from=last-week", Some(DUTY), "")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.cases.show("ev-1").await.unwrap(),
        before,
        "nothing changed"
    );
    assert_eq!(a.audit_len().await, 2);
}

#[tokio::test]
async fn over_a_real_loopback_socket() {
    let a = api().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, a.app.clone()).await });
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let req = format!(
        "POST /api/cases/ev-1/accept HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {DUTY}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_string(&mut resp),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"state\":\"accepted\""), "{resp}");
    server.abort();
    assert_eq!(
        a.cases.show("ev-1").await.unwrap().state,
        yuqing_cases::CaseState::Accepted
    );
}
