//! The router, its state, the security and metrics middleware, and the handlers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use maud::Markup;
use tracing::{info, warn};
use yuqing_cases::{
    Actor, Case, CaseError, CaseFilter, CaseState, Channel, Response as CaseResponse, Role,
};
use yuqing_core::clock::cst;
use yuqing_core::{Alert, AlertKind};

use crate::error::ConsoleError;
use crate::form::{Form, FormError};
use crate::metrics;
use crate::reports::ReportHookError;
use crate::session::{self, SessionView, Sessions, LOGIN_COOKIE, SESSION_COOKIE};
use crate::views::{self, Chrome};
use crate::ConsoleContext;
use yuqing_report::escape::gist;

/// The largest form body accepted (a 20,000-character feedback, percent-encoded, fits).
pub const MAX_FORM_BYTES: usize = 256 * 1024;

/// The Content-Security-Policy of every answer: no inline script or style, nothing from
/// elsewhere, no framing.
pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

const CSS: &str = include_str!("../static/console.css");
const JS: &str = include_str!("../static/console.js");

/// The case actions the console posts, as the case API names them.
pub const ACTIONS: [&str; 7] = [
    "accept", "assign", "reassign", "feedback", "respond", "close", "note",
];

pub(crate) struct Inner {
    pub ctx: ConsoleContext,
    pub sessions: Sessions,
}

/// The handlers' state.
#[derive(Clone)]
pub(crate) struct App(pub Arc<Inner>);

impl App {
    pub fn ctx(&self) -> &ConsoleContext {
        &self.0.ctx
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.ctx.clock.now()
    }

    pub fn now_cst(&self) -> DateTime<FixedOffset> {
        self.now().with_timezone(&cst())
    }

    /// How many seconds pass on the console's clock per real second.
    fn speed(&self) -> f64 {
        let real = Duration::from_secs(1000);
        let s = self.0.ctx.clock.simulated(real).as_secs_f64() / real.as_secs_f64();
        if s.is_finite() && s > 0.0 {
            s
        } else {
            1.0
        }
    }

    fn user(&self, headers: &HeaderMap) -> Option<SessionView> {
        let id = session::cookie(headers, SESSION_COOKIE)?;
        self.0.sessions.get(id, self.now())
    }

    pub fn chrome<'a>(&'a self, user: Option<&'a SessionView>) -> Chrome<'a> {
        Chrome {
            site: &self.0.ctx.config.title,
            now: self.now(),
            speed: self.speed(),
            user,
        }
    }

    fn secure(&self) -> bool {
        self.0.ctx.config.secure_cookies
    }
}

/// The console (see the crate documentation), ready to be merged into the daemon's router.
pub fn router(ctx: ConsoleContext) -> Router {
    metrics::init();
    let cfg = &ctx.config;
    let sessions = Sessions::new(cfg.session_idle, cfg.session_max, cfg.max_sessions);
    let app = App(Arc::new(Inner { ctx, sessions }));
    Router::new()
        .route("/console", get(to_root))
        .route("/console/", get(wall))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/events/{id}", get(event))
        .route("/console/cases", get(cases))
        .route("/console/cases/{id}", get(case))
        .route("/console/cases/{id}/{action}", post(case_action))
        .route("/console/reports", get(reports))
        .route("/console/reports/{*path}", get(report))
        .route("/console/static/console.css", get(css))
        .route("/console/static/console.js", get(js))
        .route("/console/{*rest}", get(not_found).post(not_found))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(middleware::from_fn(frame))
        .with_state(app)
}

/// Security headers on every answer, and the request metrics.
async fn frame(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let start = Instant::now();
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        // A report page sets its own, stricter policy.
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    metrics::REQUESTS
        .with_label_values(&[&route, res.status().as_str()])
        .inc();
    metrics::DURATION
        .with_label_values(&[&route])
        .observe(start.elapsed().as_secs_f64());
    res
}

fn html(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

fn see_other(location: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn with_cookie(mut r: Response, cookie: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

fn error_page(app: &App, user: Option<&SessionView>, e: &ConsoleError) -> Response {
    let status = e.status();
    html(
        status,
        views::error(&app.chrome(user), e.heading(), &e.message()),
    )
}

/// Where a logged-out visitor of `path` is sent.
fn to_login(path: &str, query: Option<&str>) -> Response {
    let mut next = path.to_string();
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        next.push('?');
        next.push_str(q);
    }
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", &next)
        .finish();
    see_other(&format!("/console/login?{q}"))
}

/// A `next` target is followed only when it is a console page.
pub(crate) fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with("/console/")
                && !n.contains("//")
                && !n.contains('\\')
                && !n.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            n
        }
        _ => "/console/",
    }
}

/// Whether `actor` may see `case` (a department sees the cases it is responsible for).
pub(crate) fn visible(actor: &Actor, case: &Case) -> bool {
    match actor.role {
        Role::Department => match (&actor.department, case.responsible()) {
            (Some(d), Some(r)) => r.contains(d.as_str()),
            _ => false,
        },
        _ => true,
    }
}

/// The actions `actor` may take on `case` in its state: the forms its page shows.
pub(crate) fn allowed_actions(actor: &Actor, case: &Case) -> Vec<&'static str> {
    use CaseState::*;
    let s = case.state;
    let own = actor.role == Role::Department
        && actor.department.is_some()
        && actor.department == case.assigned_to;
    let duty = actor.role == Role::DutyOfficer;
    let mut out = Vec::new();
    if duty && s == Pending {
        out.push("accept");
    }
    if duty && s == Accepted {
        out.push("assign");
    }
    if duty && matches!(s, Assigned | Feedback) {
        out.push("reassign");
    }
    if (duty || own) && matches!(s, Assigned | Feedback) {
        out.push("feedback");
    }
    if (duty || own) && matches!(s, Feedback | Responded) {
        out.push("respond");
    }
    if duty && s.is_open() {
        out.push("close");
    }
    if duty || own {
        out.push("note");
    }
    out
}

// ---------------------------------------------------------------------------------- pages

async fn to_root() -> Response {
    see_other("/console/")
}

async fn not_found(State(app): State<App>, headers: HeaderMap) -> Response {
    let user = app.user(&headers);
    error_page(
        &app,
        user.as_ref(),
        &ConsoleError::NotFound("没有这个页面。".to_string()),
    )
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        CSS,
    )
        .into_response()
}

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        JS,
    )
        .into_response()
}

/// An open case on the wall, with the alert that last touched it.
pub(crate) struct WallCase {
    pub case: Case,
    pub latest: Option<Alert>,
}

async fn wall(State(app): State<App>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let Some(user) = app.user(&headers) else {
        return to_login("/console/", q.as_deref());
    };
    match wall_data(&app, &user).await {
        Ok((cases, more, health)) => html(
            StatusCode::OK,
            views::wall(
                &app.chrome(Some(&user)),
                app.ctx().config.refresh.as_secs(),
                &cases,
                more,
                &health,
            ),
        ),
        Err(e) => error_page(&app, Some(&user), &e),
    }
}

async fn wall_data(
    app: &App,
    user: &SessionView,
) -> Result<(Vec<WallCase>, bool, Vec<Alert>), ConsoleError> {
    let ctx = app.ctx();
    let limit = ctx.config.wall_cases.clamp(1, 999);
    let mut filter = CaseFilter {
        open: Some(true),
        limit: Some(limit + 1),
        ..CaseFilter::default()
    };
    if user.actor.role == Role::Department {
        filter.department = user.actor.department.clone();
    }
    let mut list = ctx.cases.list(&filter).await?;
    let more = list.len() as i64 > limit;
    list.truncate(limit as usize);
    let mut out = Vec::with_capacity(list.len());
    for case in list {
        let latest = ctx.store.alerts_of_event(&case.event_id).await?.pop();
        out.push(WallCase { case, latest });
    }
    // Collector health from the newest alerts: bounded work whatever the day's volume.
    let mut health = Vec::new();
    if user.actor.role != Role::Department {
        let last = ctx.store.last_alert_seq().await?;
        let since = app.now_cst() - chrono::Duration::hours(24);
        health = ctx
            .store
            .alerts_after((last - 500).max(0), 500)
            .await?
            .into_iter()
            .map(|s| s.alert)
            .filter(|a| a.kind == AlertKind::SourceHealth && a.at >= since)
            .collect();
        health.reverse();
        health.truncate(20);
    }
    Ok((out, more, health))
}

async fn event(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some(user) = app.user(&headers) else {
        return to_login(&format!("/console/events/{}", encode_segment(&id)), None);
    };
    let r = async {
        let ctx = app.ctx();
        let ev = ctx
            .store
            .event(&id)
            .await?
            .ok_or_else(|| ConsoleError::NotFound(format!("没有事件 {id}。")))?;
        let case = match ctx.cases.show(&ev.event_id).await {
            Ok(c) => Some(c),
            Err(CaseError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        if user.actor.role == Role::Department
            && !case.as_ref().is_some_and(|c| visible(&user.actor, c))
        {
            return Err(ConsoleError::Forbidden(
                "该事件不属于本部门的案件。".to_string(),
            ));
        }
        let items = ctx
            .store
            .items_of_event(&ev.event_id, ctx.config.items_per_event)
            .await?;
        let spread = ctx.store.spread(&ev.event_id).await?;
        let alerts = ctx.store.alerts_of_event(&ev.event_id).await?;
        Ok(views::event(
            &app.chrome(Some(&user)),
            &ev,
            case.as_ref(),
            &items,
            ctx.config.items_per_event,
            &spread,
            &alerts,
        ))
    }
    .await;
    match r {
        Ok(m) => html(StatusCode::OK, m),
        Err(e) => error_page(&app, Some(&user), &e),
    }
}

/// The case list's filter, from the query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListQuery {
    pub state: Option<CaseState>,
    pub grade: Option<yuqing_core::Grade>,
    /// `open` (default), `all`.
    pub all: bool,
    pub department: Option<String>,
    pub page: i64,
}

fn list_query(q: Option<&str>) -> Result<ListQuery, ConsoleError> {
    let f = Form::parse(q.unwrap_or_default().as_bytes());
    f.expect(&["state", "grade", "scope", "department", "page"])?;
    let state = match f.text("state") {
        None => None,
        Some(s) => Some(CaseState::parse(s).ok_or_else(|| {
            FormError::Invalid {
                field: "state",
                message: "unknown state (pending, accepted, assigned, feedback, responded, closed)"
                    .to_string(),
            }
        })?),
    };
    let grade = match f.text("grade") {
        None => None,
        Some(g) => Some(
            yuqing_core::Grade::parse(g).ok_or_else(|| FormError::Invalid {
                field: "grade",
                message: "unknown grade (I, II, III, IV)".to_string(),
            })?,
        ),
    };
    let all = match f.text("scope") {
        None | Some("open") => false,
        Some("all") => true,
        Some(_) => {
            return Err(FormError::Invalid {
                field: "scope",
                message: "must be open or all".to_string(),
            }
            .into())
        }
    };
    let department = f.text("department").map(|d| gist(d, 100));
    let page = match f.text("page") {
        None => 1,
        Some(p) => p
            .parse::<i64>()
            .ok()
            .filter(|p| (1..=10_000).contains(p))
            .ok_or_else(|| FormError::Invalid {
                field: "page",
                message: "must be a page number from 1".to_string(),
            })?,
    };
    Ok(ListQuery {
        state,
        grade,
        all: all || state == Some(CaseState::Closed),
        department,
        page,
    })
}

async fn cases(State(app): State<App>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let Some(user) = app.user(&headers) else {
        return to_login("/console/cases", q.as_deref());
    };
    let r = async {
        let mut lq = list_query(q.as_deref())?;
        let per_page = app.ctx().config.cases_per_page.clamp(1, 999);
        if user.actor.role == Role::Department {
            lq.department = user.actor.department.clone();
        }
        let filter = CaseFilter {
            state: lq.state.map(|s| s.as_str().to_string()),
            open: (!lq.all).then_some(true),
            grade: lq.grade.map(|g| g.as_str().to_string()),
            department: lq.department.clone(),
            limit: Some(per_page + 1),
            offset: Some((lq.page - 1) * per_page),
            ..CaseFilter::default()
        };
        let mut list = app.ctx().cases.list(&filter).await?;
        let more = list.len() as i64 > per_page;
        list.truncate(per_page as usize);
        Ok(views::cases(&app.chrome(Some(&user)), &lq, &list, more))
    }
    .await;
    match r {
        Ok(m) => html(StatusCode::OK, m),
        Err(e) => error_page(&app, Some(&user), &e),
    }
}

async fn load_visible_case(app: &App, actor: &Actor, id: &str) -> Result<Case, ConsoleError> {
    let case = app.ctx().cases.show(id).await?;
    if !visible(actor, &case) {
        return Err(ConsoleError::Forbidden(format!(
            "案件 {} 不属于本部门。",
            case.case_id
        )));
    }
    Ok(case)
}

async fn case(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some(user) = app.user(&headers) else {
        return to_login(&format!("/console/cases/{}", encode_segment(&id)), None);
    };
    let r = async {
        let ctx = app.ctx();
        let case = load_visible_case(&app, &user.actor, &id).await?;
        let audit = ctx.cases.audit(&case.case_id).await?;
        let done = Form::parse(q.unwrap_or_default().as_bytes())
            .text("done")
            .and_then(|d| ACTIONS.iter().copied().find(|a| *a == d));
        let mut departments: Vec<String> = ctx.cases.config().departments.clone();
        if let Some(d) = &case.department {
            if !departments.contains(d) {
                departments.insert(0, d.clone());
            }
        }
        let actions = allowed_actions(&user.actor, &case);
        Ok(views::case(
            &app.chrome(Some(&user)),
            &case,
            &audit,
            &actions,
            &departments,
            done,
        ))
    }
    .await;
    match r {
        Ok(m) => html(StatusCode::OK, m),
        Err(e) => error_page(&app, Some(&user), &e),
    }
}

/// Parses a response time from a `datetime-local` field, read in UTC+8.
fn parse_local_time(s: &str) -> Result<DateTime<FixedOffset>, FormError> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            if let Some(t) = cst().from_local_datetime(&n).single() {
                return Ok(t);
            }
        }
    }
    Err(FormError::Invalid {
        field: "at",
        message: "must be a time like 2026-11-22T10:30 (UTC+8)".to_string(),
    })
}

async fn case_action(
    State(app): State<App>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let user = app.user(&headers);
    let label = ACTIONS
        .iter()
        .copied()
        .find(|a| *a == action)
        .unwrap_or("unknown");
    let r = act(&app, user.as_ref(), &id, label, &body).await;
    let status = match &r {
        Ok(_) => StatusCode::SEE_OTHER,
        Err(e) => e.status(),
    };
    metrics::CASE_ACTIONS
        .with_label_values(&[label, status.as_str()])
        .inc();
    match r {
        Ok(case_id) => see_other(&format!(
            "/console/cases/{}?done={label}",
            encode_segment(&case_id)
        )),
        Err(e) => {
            let reason = match &e {
                ConsoleError::NoSession => Some("no_session"),
                ConsoleError::Csrf => Some("csrf"),
                ConsoleError::Forbidden(_) => Some("role"),
                ConsoleError::Form(_) => Some("invalid_form"),
                _ => None,
            };
            if let Some(reason) = reason {
                metrics::REJECTED.with_label_values(&[reason]).inc();
            }
            warn!(action = label, status = status.as_u16(), error = %e, "Console case action refused.");
            error_page(&app, user.as_ref(), &e)
        }
    }
}

/// Checks and applies one case action; returns the case id.
async fn act(
    app: &App,
    user: Option<&SessionView>,
    id: &str,
    action: &'static str,
    body: &[u8],
) -> Result<String, ConsoleError> {
    let user = user.ok_or(ConsoleError::NoSession)?;
    let form = Form::parse(body);
    if !user.csrf_ok(form.get("csrf")) {
        return Err(ConsoleError::Csrf);
    }
    if action == "unknown" {
        return Err(ConsoleError::NotFound(format!(
            "没有这个操作（可用：{}）。",
            ACTIONS.join(", ")
        )));
    }
    let actor = &user.actor;
    let allowed = match actor.role {
        Role::DutyOfficer => true,
        Role::Department => matches!(action, "feedback" | "respond" | "note"),
        Role::Viewer | Role::System => false,
    };
    if !allowed {
        return Err(ConsoleError::Forbidden(format!(
            "{}（{}）不能执行「{}」。",
            actor.name,
            actor.role.label(),
            crate::text::action_label(action)
        )));
    }
    load_visible_case(app, actor, id).await?;
    let c = &app.ctx().cases;
    let case = match action {
        "accept" => {
            form.expect(&["csrf"])?;
            c.accept(id, actor).await?
        }
        "assign" => {
            form.expect(&["csrf", "department"])?;
            c.assign(id, form.required("department")?, actor).await?
        }
        "reassign" => {
            form.expect(&["csrf", "department", "reason"])?;
            c.reassign(
                id,
                form.required("department")?,
                form.required("reason")?,
                actor,
            )
            .await?
        }
        "feedback" => {
            form.expect(&["csrf", "facts"])?;
            c.feedback(id, form.required("facts")?, actor).await?
        }
        "respond" => {
            form.expect(&["csrf", "channel", "link", "at"])?;
            let ch = form.required("channel")?;
            let channel = Channel::parse(ch).ok_or_else(|| FormError::Invalid {
                field: "channel",
                message: format!(
                    "unknown channel (one of {})",
                    Channel::ALL.map(Channel::as_str).join(", ")
                ),
            })?;
            let at = match form.text("at") {
                Some(s) => parse_local_time(s)?,
                None => app.now_cst(),
            };
            let response = CaseResponse {
                channel,
                link: form.text("link").map(str::to_string),
                at,
            };
            c.respond(id, &response, actor).await?
        }
        "close" => {
            form.expect(&["csrf", "note"])?;
            c.close(id, form.text("note"), actor).await?
        }
        _ => {
            form.expect(&["csrf", "text"])?;
            c.note(id, form.required("text")?, actor).await?
        }
    };
    info!(case = %case.case_id, actor = %actor.name, action, "Case action from the console.");
    Ok(case.case_id)
}

// ---------------------------------------------------------------------------------- login

fn login_form(app: &App, status: StatusCode, next: &str, message: Option<&str>) -> Response {
    let token = session::random_token();
    let page = views::login(&app.chrome(None), &token, next, message);
    with_cookie(
        html(status, page),
        session::set_cookie(LOGIN_COOKIE, &token, "/console/login", 3600, app.secure()),
    )
}

async fn login_page(State(app): State<App>, RawQuery(q): RawQuery) -> Response {
    let f = Form::parse(q.unwrap_or_default().as_bytes());
    let next = safe_next(f.get("next")).to_string();
    login_form(&app, StatusCode::OK, &next, None)
}

async fn login(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let next = safe_next(form.get("next")).to_string();
    let cookie_token = session::cookie(&headers, LOGIN_COOKIE);
    let csrf_ok = matches!(
        (cookie_token, form.get("csrf")),
        (Some(c), Some(f)) if !c.is_empty() && session::ct_eq(c.as_bytes(), f.as_bytes())
    );
    if !csrf_ok {
        metrics::LOGINS.with_label_values(&["bad_csrf"]).inc();
        return login_form(
            &app,
            StatusCode::FORBIDDEN,
            &next,
            Some("登录表单已失效（CSRF 校验失败），请重新输入令牌。"),
        );
    }
    if let Err(e) = form.expect(&["csrf", "token", "next"]) {
        metrics::LOGINS.with_label_values(&["malformed"]).inc();
        return login_form(&app, StatusCode::BAD_REQUEST, &next, Some(&e.to_string()));
    }
    let token = form.text("token").unwrap_or_default();
    let actor = HeaderValue::from_str(&format!("Bearer {token}"))
        .ok()
        .and_then(|h| app.ctx().auth.check(Some(&h)));
    let Some(actor) = actor.filter(|_| !token.is_empty()) else {
        metrics::LOGINS.with_label_values(&["bad_token"]).inc();
        warn!("Console login with an unknown token.");
        return login_form(
            &app,
            StatusCode::UNAUTHORIZED,
            &next,
            Some("令牌无效：请粘贴分配给您的 API 令牌。"),
        );
    };
    if let Some(old) = session::cookie(&headers, SESSION_COOKIE) {
        app.0.sessions.remove(old);
    }
    let s = app.0.sessions.create(actor, app.now());
    metrics::LOGINS.with_label_values(&["ok"]).inc();
    info!(user = %s.actor.name, role = s.actor.role.as_str(), "Console login.");
    let max_age = app.ctx().config.session_max.as_secs();
    let r = with_cookie(
        see_other(&next),
        session::set_cookie(SESSION_COOKIE, &s.id, "/console", max_age, app.secure()),
    );
    with_cookie(
        r,
        session::set_cookie(LOGIN_COOKIE, "", "/console/login", 0, app.secure()),
    )
}

async fn logout(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let clear = session::set_cookie(SESSION_COOKIE, "", "/console", 0, app.secure());
    let Some(user) = app.user(&headers) else {
        return with_cookie(see_other("/console/login"), clear);
    };
    let form = Form::parse(&body);
    if !user.csrf_ok(form.get("csrf")) {
        metrics::REJECTED.with_label_values(&["csrf"]).inc();
        return error_page(&app, Some(&user), &ConsoleError::Csrf);
    }
    app.0.sessions.remove(&user.id);
    info!(user = %user.actor.name, "Console logout.");
    with_cookie(see_other("/console/login"), clear)
}

// ---------------------------------------------------------------------------------- reports

/// The Content-Security-Policy of a report page: the report crate's self-contained document has
/// inline CSS and inline SVG, and nothing else may run or load.
pub const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     script-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn report_error(e: ReportHookError, path: &str) -> ConsoleError {
    match e {
        ReportHookError::NotFound => ConsoleError::NotFound(format!("没有报告 {path}。")),
        ReportHookError::Refused(m) => ConsoleError::Refused(m),
        ReportHookError::Failed(m) => ConsoleError::Report(m),
    }
}

async fn reports(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(user) = app.user(&headers) else {
        return to_login("/console/reports", None);
    };
    let list = match &app.ctx().reports {
        None => None,
        Some(src) => match src.list(app.now_cst()).await {
            Ok(mut l) => {
                l.retain(|r| crate::reports::valid_path(&r.path));
                Some(l)
            }
            Err(e) => return error_page(&app, Some(&user), &report_error(e, "")),
        },
    };
    html(
        StatusCode::OK,
        views::reports(&app.chrome(Some(&user)), list.as_deref()),
    )
}

async fn report(State(app): State<App>, headers: HeaderMap, Path(path): Path<String>) -> Response {
    let Some(user) = app.user(&headers) else {
        return to_login(&format!("/console/reports/{path}"), None);
    };
    let (name, markdown) = match path.strip_suffix(".md") {
        Some(p) => (p.to_string(), true),
        None => (path.clone(), false),
    };
    let r = async {
        let missing = || ConsoleError::NotFound(format!("没有报告 {path}。"));
        if !crate::reports::valid_path(&name) {
            return Err(missing());
        }
        let src = app.ctx().reports.as_ref().ok_or_else(missing)?;
        src.render(&name, app.now_cst())
            .await
            .map_err(|e| report_error(e, &path))
    }
    .await;
    match r {
        Ok(rep) if markdown => {
            let file = format!("{}.md", name.replace('/', "-"));
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "text/markdown; charset=utf-8".to_string(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{file}\""),
                    ),
                ],
                rep.markdown,
            )
                .into_response()
        }
        Ok(rep) => {
            info!(user = %user.actor.name, report = %name, "Report shown.");
            let mut res = html(StatusCode::OK, maud::PreEscaped(rep.html));
            res.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(REPORT_CSP),
            );
            res
        }
        Err(e) => error_page(&app, Some(&user), &e),
    }
}

/// Percent-encodes one path segment.
pub(crate) fn encode_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets_stay_in_the_console() {
        assert_eq!(
            safe_next(Some("/console/cases/x?y=1")),
            "/console/cases/x?y=1"
        );
        assert_eq!(safe_next(Some("https://evil.example/")), "/console/");
        assert_eq!(safe_next(Some("//evil.example/console/")), "/console/");
        assert_eq!(safe_next(Some("/console//evil.example")), "/console/");
        assert_eq!(safe_next(Some("/console/\\evil")), "/console/");
        assert_eq!(safe_next(Some("/api/cases")), "/console/");
        assert_eq!(safe_next(None), "/console/");
    }

    #[test]
    fn list_queries_are_strict() {
        assert_eq!(
            list_query(None).unwrap(),
            ListQuery {
                page: 1,
                ..ListQuery::default()
            }
        );
        let q = list_query(Some("state=assigned&grade=II&scope=all&page=2")).unwrap();
        assert_eq!(q.state, Some(CaseState::Assigned));
        assert_eq!(q.grade, Some(yuqing_core::Grade::II));
        assert!(q.all);
        assert_eq!(q.page, 2);
        assert!(list_query(Some("state=closed")).unwrap().all);
        assert!(list_query(Some("grade=V")).is_err());
        assert!(list_query(Some("page=0")).is_err());
        assert!(list_query(Some("scope=some")).is_err());
        assert!(list_query(Some("evil=1")).is_err());
        assert!(list_query(Some("state=accepted&state=closed")).is_err());
    }

    #[test]
    fn local_times_are_read_in_cst() {
        let t = parse_local_time("2026-11-22T10:30").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T10:30:00+08:00");
        let t = parse_local_time("2026-11-22T02:30:00Z").unwrap();
        assert_eq!(
            t.timestamp(),
            parse_local_time("2026-11-22 10:30").unwrap().timestamp()
        );
        assert!(parse_local_time("yesterday").is_err());
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(encode_segment("ev-1"), "ev-1");
        assert_eq!(encode_segment("a b/c?"), "a%20b%2Fc%3F");
    }
}
