//! The console over its router (tower `oneshot`), on a seeded SQLite store and a manual clock:
//! login and logout, sessions, role-based forms, CSRF, escaping of hostile posts, countdowns,
//! the case workflow through the forms, bad input, and the security headers.

mod common;

use std::time::Duration;

use axum::http::{header, StatusCode};
use common::{at, Answer, World, DEPT, DUTY, IMG, JS_URL, OTHER, SCRIPT, VIEW};
use yuqing_cases::CaseState;
use yuqing_console::session::SESSION_COOKIE;

fn assert_security_headers(a: &Answer) {
    let h = |name: header::HeaderName| {
        a.headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_string()
    };
    let csp = h(header::CONTENT_SECURITY_POLICY);
    assert!(
        csp.starts_with("default-src 'self'; script-src 'self'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h(header::X_FRAME_OPTIONS), "DENY");
    assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
}

/// The tags of a page: every literal `<` of a page starts a tag, since text is escaped.
fn tags(html: &str) -> Vec<&str> {
    html.match_indices('<')
        .map(|(i, _)| &html[i..=html[i..].find('>').map(|j| i + j).unwrap_or(html.len() - 1)])
        .collect()
}

/// The attribute names of a tag (maud always double-quotes values and escapes `"` in them).
fn attr_names(tag: &str) -> Vec<String> {
    let inner = tag
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_end_matches('/');
    let mut names = Vec::new();
    let mut rest = inner
        .split_once(char::is_whitespace)
        .map(|(_, r)| r)
        .unwrap_or("");
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        names.push(rest[..end].to_ascii_lowercase());
        rest = &rest[end..];
        if let Some(r) = rest.strip_prefix("=\"") {
            let close = r.find('"').expect("unterminated attribute value");
            rest = &r[close + 1..];
        }
    }
    names
}

/// Every `<script` of a page is the console's own file, with no inline code, and no element
/// carries inline style or event handlers.
fn assert_no_inline_code(html: &str) {
    for (i, _) in html.match_indices("<script") {
        let tag_end = html[i..].find('>').unwrap() + i;
        let tag = &html[i..=tag_end];
        assert!(
            tag.contains("src=\"/console/static/console.js"),
            "foreign script: {tag}"
        );
        assert!(
            html[tag_end + 1..].starts_with("</script>"),
            "inline script after {tag}"
        );
    }
    for tag in tags(html) {
        if tag.starts_with("<!") || tag.starts_with("</") {
            continue;
        }
        for name in attr_names(tag) {
            assert!(!name.starts_with("on"), "event handler attribute in {tag}");
            assert_ne!(name, "style", "inline style in {tag}");
        }
        assert!(
            !tag.to_ascii_lowercase().starts_with("<img"),
            "an image tag: {tag}"
        );
    }
}

/// Form fields of a step.
type Fields<'a> = Vec<(&'a str, &'a str)>;

async fn state(w: &World, event: &str) -> CaseState {
    w.cases.show(event).await.unwrap().state
}

async fn audit_len(w: &World, event: &str) -> usize {
    w.cases.audit(event).await.unwrap().len()
}

async fn case_id(w: &World, event: &str) -> String {
    w.cases.show(event).await.unwrap().case_id
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_logout_ends_the_session() {
    let w = World::new().await;
    let mut c = w.client();

    // Logged out: pages send to the login form, remembering where to return.
    let r = c.get("/console/cases?grade=I").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        "/console/login?next=%2Fconsole%2Fcases%3Fgrade%3DI"
    );

    // The login form sets its own CSRF cookie.
    let page = c.get("/console/login?next=/console/cases").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_security_headers(&page);
    assert_no_inline_code(&page.body);
    let set = page
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(set.starts_with("yuqing_console_login="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let login_csrf = page.csrf();

    // A wrong token: 401, no session.
    let r = c
        .post(
            "/console/login",
            &[
                ("csrf", &login_csrf),
                ("token", "not-a-token-at-all-000"),
                ("next", "/console/"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("令牌无效"));
    assert!(c.cookie(SESSION_COOKIE).is_none());

    // The right token without the form's CSRF token: 403, no session.
    let mut bare = w.client();
    let r = bare.post("/console/login", &[("token", DUTY)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(bare.cookie(SESSION_COOKIE).is_none());

    // The right token: a session cookie, HttpOnly and SameSite=Strict, and back to `next`.
    let page = c.get("/console/login?next=/console/cases").await;
    let r = c
        .post(
            "/console/login",
            &[
                ("csrf", &page.csrf()),
                ("token", DUTY),
                ("next", "/console/cases"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/console/cases");
    let set: Vec<&str> = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = set
        .iter()
        .find(|s| s.starts_with("yuqing_console_session="))
        .expect("session cookie");
    assert!(session.contains("; HttpOnly") && session.contains("; SameSite=Strict"));
    assert!(session.contains("; Path=/console"));
    let id = c.cookie(SESSION_COOKIE).unwrap().to_string();
    assert_eq!(id.len(), 64, "256 random bits");

    let r = c.get("/console/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("王值班"));

    // An open redirect through `next` is not followed.
    let mut d = w.client();
    let page = d.get("/console/login").await;
    let r = d
        .post(
            "/console/login",
            &[
                ("csrf", &page.csrf()),
                ("token", VIEW),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/console/");

    // Logout needs the session's CSRF token.
    let r = c.post("/console/logout", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        c.get("/console/").await.status,
        StatusCode::OK,
        "still logged in"
    );
    let csrf = c.session_csrf().await;
    let r = c.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/console/login");
    assert!(c.cookie(SESSION_COOKIE).is_none(), "cookie cleared");

    // The old session id no longer works, even if presented again.
    c.cookies.push((SESSION_COOKIE.to_string(), id));
    assert_eq!(c.get("/console/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sessions_expire_on_the_console_clock() {
    let w = World::new().await; // session_idle 1h, session_max 4h
    let mut c = w.login(DUTY).await;
    w.clock.advance(Duration::from_secs(50 * 60));
    assert_eq!(c.get("/console/").await.status, StatusCode::OK);
    w.clock.advance(Duration::from_secs(50 * 60));
    assert_eq!(
        c.get("/console/").await.status,
        StatusCode::OK,
        "kept alive by use"
    );
    w.clock.advance(Duration::from_secs(61 * 60));
    let r = c.get("/console/").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "idle for more than an hour"
    );
    assert!(r.location().starts_with("/console/login"));

    // However active, a session ends at session_max.
    let mut c = w.login(DUTY).await;
    for _ in 0..8 {
        w.clock.advance(Duration::from_secs(30 * 60));
        assert_eq!(c.get("/console/").await.status, StatusCode::OK);
    }
    w.clock.advance(Duration::from_secs(60));
    assert_eq!(c.get("/console/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let w = World::new().await;
    let mut c = w.login(DUTY).await;
    let red = case_id(&w, &w.red).await;
    for uri in [
        "/console/".to_string(),
        "/console/cases".to_string(),
        format!("/console/cases/{red}"),
        format!("/console/events/{}", w.red),
        "/console/reports".to_string(),
        "/console/login".to_string(),
        "/console/static/console.css".to_string(),
        "/console/static/console.js".to_string(),
        "/console/nope".to_string(),
    ] {
        let r = c.get(&uri).await;
        assert_security_headers(&r);
        if r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
        {
            assert_no_inline_code(&r.body);
            assert!(r.body.starts_with("<!DOCTYPE html>"), "{uri}");
        }
    }
    let r = c.get("/console/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let css = c.get("/console/static/console.css").await;
    assert_eq!(css.headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(css.body.contains(".grade-i") && css.body.contains("@media"));
    let js = c.get("/console/static/console.js").await;
    assert_eq!(
        js.headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(js.body.contains("data-due"));
    assert_eq!(c.get("/console").await.location(), "/console/");
}

#[tokio::test]
async fn hostile_posts_are_escaped_and_only_http_links_are_links() {
    let w = World::new().await;
    let mut c = w.login(DUTY).await;
    let red = case_id(&w, &w.red).await;
    for uri in [
        format!("/console/events/{}", w.red),
        format!("/console/cases/{red}"),
        "/console/".to_string(),
        "/console/cases".to_string(),
    ] {
        let r = c.get(&uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert!(!r.body.contains(SCRIPT), "raw <script> on {uri}");
        assert!(!r.body.contains("<img src=x"), "raw <img> on {uri}");
        assert!(
            r.body.contains("&lt;script&gt;alert('xss')&lt;/script&gt;"),
            "escaped title on {uri}"
        );
        assert_no_inline_code(&r.body);
        let lower = r.body.to_ascii_lowercase();
        assert!(
            !lower.contains("href=\"javascript:"),
            "javascript: link on {uri}"
        );
        assert!(!lower.contains("href=\"data:"), "data: link on {uri}");
    }
    let ev = c.get(&format!("/console/events/{}", w.red)).await;
    assert!(
        ev.body
            .contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
        "escaped img post"
    );
    assert!(!ev.body.contains(IMG));
    // The javascript: URL is shown as text, not as a link; the https one is a link.
    assert!(ev.body.contains("<code class=\"unsafe-link\""));
    assert!(ev.body.contains(JS_URL), "shown as text");
    assert!(ev
        .body
        .contains("href=\"https://m.weibo.cn/status/1\" rel=\"noopener noreferrer nofollow\""));
    // An ampersand in a link is escaped in the attribute.
    let orange = c.get(&format!("/console/events/{}", w.orange)).await;
    assert!(orange
        .body
        .contains("href=\"https://example.org/a?b=1&amp;c=2\""));
}

#[tokio::test]
async fn countdowns_carry_the_deadlines_and_read_right_without_javascript() {
    let w = World::new().await;
    let mut c = w.login(VIEW).await;
    let r = c.get("/console/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .body
        .contains(&format!("data-now=\"{}\"", at(0).timestamp_millis())));
    assert!(r.body.contains("data-speed=\"1\""));
    assert!(r
        .body
        .contains("<meta http-equiv=\"refresh\" content=\"30\">"));
    // Every open case's deadlines are on the wall, each with its due time in data-due.
    let mut dues: Vec<i64> = r
        .body
        .match_indices("data-due=\"")
        .map(|(i, m)| {
            let s = &r.body[i + m.len()..];
            s[..s.find('"').unwrap()].parse().unwrap()
        })
        .collect();
    dues.sort();
    let mut want = Vec::new();
    for ev in [&w.red, &w.orange, &w.yellow, &w.blue] {
        for d in w.cases.show(ev).await.unwrap().deadlines {
            want.push(d.due.timestamp_millis());
        }
    }
    want.sort();
    assert_eq!(dues, want);
    assert_eq!(want.len(), 8);
    assert!(want.contains(&at(60).timestamp_millis()));
    // The server writes the countdown text itself.
    assert!(r.body.contains(&format!(
        "data-due=\"{}\">剩余 01:00:00</span>",
        at(60).timestamp_millis()
    )));
    assert!(r.body.contains(&format!(
        "data-due=\"{}\">剩余 2天 00:00:00</span>",
        at(48 * 60).timestamp_millis()
    )));
    // Grades are coloured by class: I red … IV blue.
    for class in [
        "card grade-i",
        "card grade-ii",
        "card grade-iii",
        "card grade-iv",
    ] {
        assert!(r.body.contains(class), "{class}");
    }
    // Ninety minutes later the first release is overdue by half an hour.
    w.clock.advance(Duration::from_secs(45 * 60));
    assert_eq!(c.get("/console/").await.status, StatusCode::OK);
    w.clock.advance(Duration::from_secs(45 * 60));
    let r = c.get("/console/").await;
    assert!(r.body.contains(&format!(
        "<span class=\"countdown overdue\" data-due=\"{}\">超时 00:30:00</span>",
        at(60).timestamp_millis()
    )));
    assert!(r
        .body
        .contains("<span class=\"total-n\">4</span><span class=\"total-label\">超时未回应"));
    // The source-health alert of the last 24 hours is listed.
    assert!(r.body.contains("信源 demo-forum 连续 3 次抓取失败"));
}

#[tokio::test]
async fn forms_follow_the_role() {
    let w = World::new().await;
    let red = case_id(&w, &w.red).await;
    let page = format!("/console/cases/{red}");

    let mut duty = w.login(DUTY).await;
    let r = duty.get(&page).await;
    assert!(r.body.contains("id=\"form-accept\""));
    assert!(r.body.contains("id=\"form-close\""));
    assert!(r.body.contains("id=\"form-note\""));
    assert!(
        !r.body.contains("id=\"form-assign\""),
        "not before acceptance"
    );

    let mut viewer = w.login(VIEW).await;
    let r = viewer.get(&page).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        !r.body.contains("class=\"action\""),
        "a viewer sees no action form"
    );
    assert!(r.body.contains("只读用户"));

    // The department sees its case, but no form until the case is assigned to it.
    let mut dept = w.login(DEPT).await;
    let r = dept.get(&page).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("class=\"action\""));
    // Another department's case is not shown to it.
    let orange = case_id(&w, &w.orange).await;
    let r = dept.get(&format!("/console/cases/{orange}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = dept.get(&format!("/console/events/{}", w.orange)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = dept.get("/console/cases").await;
    assert!(r.body.contains("某化工厂爆炸") && !r.body.contains("某小区楼体开裂"));

    let csrf = duty.session_csrf().await;
    assert_eq!(
        duty.post(&format!("{page}/accept"), &[("csrf", &csrf)])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let r = duty
        .post(
            &format!("{page}/assign"),
            &[("csrf", &csrf), ("department", "应急管理局")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let r = dept.get(&page).await;
    assert!(r.body.contains("id=\"form-feedback\""));
    assert!(r.body.contains("id=\"form-note\""));
    assert!(
        !r.body.contains("id=\"form-close\""),
        "only the duty room closes"
    );
    assert!(!r.body.contains("id=\"form-reassign\""));

    // The other department still sees nothing of it.
    let mut other = w.login(OTHER).await;
    assert_eq!(other.get(&page).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_viewer_or_department_posting_anyway_is_refused_and_nothing_changes() {
    let w = World::new().await;
    let red = case_id(&w, &w.red).await;
    let before = audit_len(&w, &w.red).await;

    let mut viewer = w.login(VIEW).await;
    let csrf = viewer.session_csrf().await;
    for (action, fields) in [
        ("accept", vec![]),
        ("note", vec![("text", "我来看看")]),
        ("close", vec![("note", "无需处理")]),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(fields);
        let r = viewer
            .post(&format!("/console/cases/{red}/{action}"), &f)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{action}");
        assert!(r.body.contains("无权操作"));
    }
    let mut dept = w.login(DEPT).await;
    let csrf = dept.session_csrf().await;
    let r = dept
        .post(&format!("/console/cases/{red}/accept"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Feedback on a case not assigned to the department: refused by the workflow.
    let r = dept
        .post(
            &format!("/console/cases/{red}/feedback"),
            &[("csrf", &csrf), ("facts", "已核实")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(state(&w, &w.red).await, CaseState::Pending);
    assert_eq!(audit_len(&w, &w.red).await, before);
}

#[tokio::test]
async fn posts_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let w = World::new().await;
    let red = case_id(&w, &w.red).await;
    let url = format!("/console/cases/{red}/accept");
    let before = audit_len(&w, &w.red).await;

    let mut duty = w.login(DUTY).await;
    let mine = duty.session_csrf().await;
    let mut other = w.login(DUTY).await;
    let theirs = other.session_csrf().await;
    assert_ne!(mine, theirs, "a token per session");

    for fields in [
        vec![],
        vec![("csrf", "")],
        vec![(
            "csrf",
            "0000000000000000000000000000000000000000000000000000000000000000",
        )],
        vec![("csrf", &mine[..63])],
        vec![("csrf", theirs.as_str())],
    ] {
        let r = duty.post(&url, &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{fields:?}");
        assert!(r.body.contains("CSRF"));
    }
    // No session at all.
    let mut anon = w.client();
    let r = anon.post(&url, &[("csrf", &mine)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(state(&w, &w.red).await, CaseState::Pending);
    assert_eq!(audit_len(&w, &w.red).await, before);

    // The right token works.
    let r = duty.post(&url, &[("csrf", &mine)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(state(&w, &w.red).await, CaseState::Accepted);
}

#[tokio::test]
async fn the_case_goes_from_pending_to_closed_through_the_forms() {
    let w = World::new().await;
    let id = case_id(&w, &w.red).await;
    let page = format!("/console/cases/{id}");
    let mut duty = w.login(DUTY).await;
    let csrf = duty.session_csrf().await;

    w.clock.advance(Duration::from_secs(50 * 60));
    let steps: Vec<(&str, Fields, CaseState)> = vec![
        ("accept", vec![], CaseState::Accepted),
        (
            "assign",
            vec![("department", "应急管理局")],
            CaseState::Assigned,
        ),
        (
            "feedback",
            vec![("facts", "经核实，化工厂储罐起火，已扑灭，2 人轻伤。")],
            CaseState::Feedback,
        ),
        (
            "respond",
            vec![
                ("channel", "weibo"),
                ("link", "https://weibo.com/gov/123"),
                ("at", "2026-11-22T10:40"),
            ],
            CaseState::Responded,
        ),
        ("close", vec![("note", "")], CaseState::Closed),
    ];
    for (action, fields, want) in steps {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(fields);
        let r = duty.post(&format!("{page}/{action}"), &f).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
        assert_eq!(r.location(), format!("{page}?done={action}"));
        assert_eq!(state(&w, &w.red).await, want, "{action}");
        let shown = duty.get(r.location()).await;
        assert!(shown.body.contains("已完成："), "{action}");
        assert!(shown.body.contains(&format!(">{}</span>", want.label())));
    }
    let case = w.cases.show(&id).await.unwrap();
    let r = case.response.unwrap();
    assert_eq!(r.at, at(40));
    assert_eq!(r.link.as_deref(), Some("https://weibo.com/gov/123"));
    let actions: Vec<String> = w
        .cases
        .audit(&id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor == "王值班")
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["accept", "assign", "feedback", "respond", "close"]
    );
    // The timeline shows every step, and the met deadlines say so.
    let shown = duty.get(&page).await;
    for label in ["受理", "转办", "反馈", "回应", "办结", "政务微博", "已回应"] {
        assert!(shown.body.contains(label), "{label}");
    }
    assert!(shown.body.contains("href=\"https://weibo.com/gov/123\""));
    // A closed case leaves the wall.
    let wall = duty.get("/console/").await;
    assert!(!wall.body.contains(&format!("data-case=\"{id}\"")));
}

#[tokio::test]
async fn bad_form_input_gets_a_clear_4xx_and_changes_nothing() {
    let w = World::new().await;
    let id = case_id(&w, &w.red).await;
    let page = format!("/console/cases/{id}");
    let mut duty = w.login(DUTY).await;
    let csrf = duty.session_csrf().await;
    let c = csrf.as_str();

    // Closing without a response needs a note: 409, and it says why.
    let r = duty
        .post(&format!("{page}/close"), &[("csrf", c), ("note", "  ")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("当前状态不允许此操作"));
    // Assigning before acceptance: 409.
    let r = duty
        .post(
            &format!("{page}/assign"),
            &[("csrf", c), ("department", "应急管理局")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(state(&w, &w.red).await, CaseState::Pending);

    duty.post(&format!("{page}/accept"), &[("csrf", c)]).await;
    let before = audit_len(&w, &w.red).await;
    let bad: Vec<(&str, Fields, StatusCode, &str)> = vec![
        (
            "assign",
            vec![("department", "   ")],
            StatusCode::BAD_REQUEST,
            "department is required",
        ),
        (
            "assign",
            vec![],
            StatusCode::BAD_REQUEST,
            "department is required",
        ),
        (
            "assign",
            vec![("department", "应急管理局"), ("extra", "1")],
            StatusCode::BAD_REQUEST,
            "unexpected field `extra`",
        ),
        (
            "assign",
            vec![("department", "应急管理局"), ("department", "住建局")],
            StatusCode::BAD_REQUEST,
            "more than once",
        ),
        ("accept", vec![], StatusCode::CONFLICT, "cannot accept"),
        ("explode", vec![], StatusCode::NOT_FOUND, "没有这个操作"),
    ];
    for (action, fields, status, message) in bad {
        let mut f = vec![("csrf", c)];
        f.extend(fields);
        let r = duty.post(&format!("{page}/{action}"), &f).await;
        assert_eq!(r.status, status, "{action}: {}", r.body);
        assert!(
            r.body.contains(message),
            "{action}: want {message:?} in\n{}",
            r.body
        );
        assert!(r.body.contains("未做任何更改") || status == StatusCode::NOT_FOUND);
        assert_security_headers(&r);
    }
    assert_eq!(state(&w, &w.red).await, CaseState::Accepted);
    assert_eq!(audit_len(&w, &w.red).await, before);

    duty.post(
        &format!("{page}/assign"),
        &[("csrf", c), ("department", "应急管理局")],
    )
    .await;
    duty.post(
        &format!("{page}/feedback"),
        &[("csrf", c), ("facts", "已核实")],
    )
    .await;
    let before = audit_len(&w, &w.red).await;
    for (fields, message) in [
        (
            vec![("channel", "weibo"), ("link", JS_URL)],
            "must be an http or https URL",
        ),
        (vec![("channel", "carrier-pigeon")], "unknown channel"),
        (
            vec![("channel", "weibo"), ("at", "yesterday")],
            "must be a time like",
        ),
        (
            vec![("channel", "weibo"), ("at", "2026-11-23T10:00")],
            "is in the future",
        ),
        (
            vec![("channel", "weibo"), ("at", "2026-11-21T10:00")],
            "before the event was first seen",
        ),
    ] {
        let mut f = vec![("csrf", c)];
        f.extend(fields);
        let r = duty.post(&format!("{page}/respond"), &f).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{message}: {}", r.body);
        assert!(r.body.contains(message), "want {message:?} in\n{}", r.body);
        assert!(!r.body.contains("href=\"javascript:"));
    }
    assert_eq!(state(&w, &w.red).await, CaseState::Feedback);
    assert_eq!(audit_len(&w, &w.red).await, before);

    // An unknown case: 404.
    let r = duty
        .post("/console/cases/case-nope/accept", &[("csrf", c)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = duty.get("/console/cases/case-nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = duty.get("/console/events/ev-nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A bad filter: 400 with the reason.
    let r = duty.get("/console/cases?grade=V").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("unknown grade"));
}

#[tokio::test]
async fn the_event_page_explains_the_event() {
    let w = World::new().await;
    let mut c = w.login(VIEW).await;
    let r = c.get(&format!("/console/events/{}", w.red)).await;
    assert_eq!(r.status, StatusCode::OK);
    let b = &r.body;
    for want in [
        "I级 特别重大",
        "扩散（2–6 小时，转播扩散）",
        "42.5 次/小时",
        "规模 1800，区间 900–3100",
        "应急管理局",
        "某市某区",
        "某区人民政府 → 应急管理局",
        "询问诉求",
        // reasons in words: the event's, the items', the alerts'
        "事件：规则「simhash」 3 条相似信息合并（+0.80）",
        "敏感度：词表「安全事故」 爆炸（+0.35）",
        "等级：规则「size」 规模 120 ≥ 50（+1.00）",
        "主管部门：部门表「应急」 化工厂 → 应急管理局",
        "首次权威发布",
        "新预警",
    ] {
        assert!(b.contains(want), "missing {want:?}");
    }
    // The spread chart: inline SVG with one point per snapshot and the forecast band.
    assert!(b.contains("<svg class=\"chart\""));
    assert_eq!(b.matches("<circle class=\"point\"").count(), 10);
    assert!(b.contains("<rect class=\"band\""));
    assert!(b.contains("24h 高潮"));
    // Items: three posts (the re-observed one once, with its latest counts).
    assert!(b.contains("相关信息（3 条"));
    assert!(b.contains("转 99"));
    assert!(b.contains("观测 2 次"));
    assert!(b.contains("微博"));
}

#[tokio::test]
async fn the_case_list_filters_by_grade_and_state() {
    let w = World::new().await;
    let mut c = w.login(DUTY).await;
    let r = c.get("/console/cases").await;
    assert_eq!(r.body.matches("<tr><td><span class=\"badge").count(), 4);
    let r = c.get("/console/cases?grade=I").await;
    assert_eq!(r.body.matches("<tr><td><span class=\"badge").count(), 1);
    assert!(r.body.contains("某化工厂爆炸"));
    let r = c.get("/console/cases?state=closed").await;
    assert!(r.body.contains("没有符合条件的案件"));
    let r = c.get("/console/cases?department=%E4%BD%8F%E6%88%BF").await;
    assert_eq!(r.body.matches("<tr><td><span class=\"badge").count(), 1);
    assert!(r.body.contains("某小区楼体开裂"));
}

#[tokio::test]
async fn reports_say_when_none_are_configured() {
    let w = World::new().await;
    let mut c = w.login(VIEW).await;
    c.app = w.router_without_reports();
    // Sessions belong to a router: log in to this one.
    let r = c.login(VIEW).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = c.get("/console/reports").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("未配置报告"));
    let r = c.get("/console/reports/daily/2026-11-22").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reports_are_built_by_the_report_crate_and_served_without_scripts() {
    let w = World::new().await;
    let mut anon = w.client();
    let r = anon.get("/console/reports/daily/2026-11-22").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/console/login?next="));

    let mut c = w.login(DUTY).await;
    let index = c.get("/console/reports").await;
    assert_eq!(index.status, StatusCode::OK);
    for want in [
        "href=\"/console/reports/daily/2026-11-22\"",
        "href=\"/console/reports/daily/2026-11-16\"",
        "href=\"/console/reports/bulletin/2026-11\"",
        "href=\"/console/reports/bulletin/2026-10\"",
        "href=\"/console/reports/event/ev-red\"",
        "href=\"/console/reports/event/ev-blue\"",
        "href=\"/console/reports/daily/2026-11-22.md\"",
    ] {
        assert!(index.body.contains(want), "missing {want}");
    }
    assert!(
        !index.body.contains("/console/reports/summary/"),
        "no case is closed yet"
    );
    assert!(!index.body.contains(SCRIPT));

    for (path, kind) in [
        ("daily/2026-11-22", "网络舆情日志"),
        ("event/ev-red", "舆情专报"),
        ("bulletin/2026-11", "定期通报"),
    ] {
        let r = c.get(&format!("/console/reports/{path}")).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert!(r.body.starts_with("<!DOCTYPE html>"), "{path}");
        assert!(r.body.contains(kind), "{path} is a {kind}");
        let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("script-src 'none'") && csp.starts_with("default-src 'none'"),
            "{csp}"
        );
        assert_eq!(r.headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(
            !r.body.contains(SCRIPT),
            "{path}: hostile text must be escaped"
        );
        assert!(
            !r.body.to_ascii_lowercase().contains("<script"),
            "{path}: no script at all"
        );
    }
    let md = c.get("/console/reports/event/ev-red.md").await;
    assert_eq!(md.status, StatusCode::OK);
    assert_eq!(
        md.headers[header::CONTENT_TYPE],
        "text/markdown; charset=utf-8"
    );
    assert_eq!(
        md.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"event-ev-red.md\""
    );
    assert!(md.body.contains("舆情专报"));

    // A summary waits for 办结; unknown and future reports are refused clearly.
    let red = case_id(&w, &w.red).await;
    let r = c.get(&format!("/console/reports/summary/{red}")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("办结"), "{}", r.body);
    assert_eq!(
        c.get("/console/reports/event/ev-nope").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("/console/reports/weekly/1").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("/console/reports/daily/2030-01-01").await.status,
        StatusCode::CONFLICT
    );

    // Closed through the console, the case gets its summary.
    let csrf = c.session_csrf().await;
    let page = format!("/console/cases/{red}");
    c.post(&format!("{page}/accept"), &[("csrf", &csrf)]).await;
    let r = c
        .post(
            &format!("{page}/close"),
            &[("csrf", &csrf), ("note", "经核实为误报，无需回应。")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = c.get(&page).await;
    assert!(shown
        .body
        .contains(&format!("href=\"/console/reports/summary/{red}\"")));
    let r = c.get(&format!("/console/reports/summary/{red}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("总结报告"));
    let index = c.get("/console/reports").await;
    assert!(index
        .body
        .contains(&format!("href=\"/console/reports/summary/{red}\"")));
}

#[tokio::test]
async fn requests_are_counted_by_route() {
    let w = World::new().await;
    let mut c = w.login(DUTY).await;
    c.get("/console/").await;
    let id = case_id(&w, &w.red).await;
    c.post(&format!("/console/cases/{id}/accept"), &[("csrf", "wrong")])
        .await;
    let text = yuqing_core::telemetry::render();
    assert!(text.contains("yuqing_console_requests_total{route=\"/console/\",status=\"200\"}"));
    assert!(text.contains("yuqing_console_logins_total{outcome=\"ok\"}"));
    assert!(text.contains("yuqing_console_rejected_total{reason=\"csrf\"}"));
    assert!(text.contains("yuqing_console_case_actions_total{action=\"accept\",status=\"403\"}"));
    assert!(text.contains("yuqing_console_sessions "));
    for line in text.lines().filter(|l| l.starts_with("yuqing_console_")) {
        assert!(
            !line.contains("ev-red") && !line.contains(&id),
            "unbounded label: {line}"
        );
    }
}
