//! The HTTP JSON API of the case workflow, as an axum [`Router`] the daemon mounts.
//!
//! | method | path | who |
//! |---|---|---|
//! | GET | `/api/cases?state&open&grade&department&from&to&limit&offset` | everyone (部门: own cases) |
//! | GET | `/api/cases/{id}` (case id or event id) | everyone (部门: own cases) |
//! | POST | `/api/cases/{id}/accept` `{}` | 值班员 |
//! | POST | `/api/cases/{id}/assign` `{"department"}` | 值班员 |
//! | POST | `/api/cases/{id}/reassign` `{"department","reason"}` | 值班员 |
//! | POST | `/api/cases/{id}/feedback` `{"facts"}` | 值班员, the assigned 部门 |
//! | POST | `/api/cases/{id}/respond` `{"channel","link"?,"at"?}` | 值班员, the assigned 部门 |
//! | POST | `/api/cases/{id}/close` `{"note"?}` | 值班员 |
//! | POST | `/api/cases/{id}/note` `{"text"}` | 值班员, the assigned 部门 |
//! | GET | `/api/accountability?from&to` (RFC 3339; default the last 30 days) | everyone |
//!
//! Every request carries `Authorization: Bearer <token>` (tokens in `[[api.users]]`). Errors
//! are JSON, `{"error": {"code": "…", "message": "…"}}`, and change nothing: 400 malformed or
//! invalid input, 401 no or unknown token, 403 role not allowed, 404 unknown case or action,
//! 409 illegal transition or concurrent change, 500 store failure.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration as ChronoDuration, FixedOffset};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tracing::{error, warn};
use yuqing_core::Problems;

use crate::cases::Cases;
use crate::error::CaseError;
use crate::metrics;
use crate::model::{Actor, Case, CaseFilter, Channel, Response, Role};

/// One user of the case API: `[[api.users]]`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The person's name, recorded in the audit log with everything they do.
    pub name: String,
    /// The bearer token (at least 16 characters, no spaces); keep it secret.
    pub token: String,
    /// `duty_officer` (值班员: everything), `department` (部门: feedback, responses and notes on
    /// the cases assigned to it) or `viewer` (只读).
    pub role: Role,
    /// The department of a `department` user, exactly as cases are assigned to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

impl fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserConfig")
            .field("name", &self.name)
            .field("token", &"***")
            .field("role", &self.role)
            .field("department", &self.department)
            .finish()
    }
}

impl UserConfig {
    /// Reports every semantic problem of one user with its key path (e.g. `api.users[2]`).
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        if self.name.trim().is_empty() {
            problems.at(path, "name", "must not be empty");
        }
        if self.token.chars().count() < 16 {
            problems.at(path, "token", "must be at least 16 characters");
        }
        if self.token.chars().any(char::is_whitespace) {
            problems.at(path, "token", "must not contain spaces");
        }
        match (self.role, &self.department) {
            (Role::System, _) => {
                problems.at(path, "role", "must be duty_officer, department or viewer")
            }
            (Role::Department, None) => {
                problems.at(path, "department", "is required for role = \"department\"")
            }
            (Role::Department, Some(d)) if d.trim().is_empty() => {
                problems.at(path, "department", "must not be empty")
            }
            (Role::DutyOfficer | Role::Viewer, Some(_)) => {
                problems.at(path, "department", "is only for role = \"department\"")
            }
            _ => {}
        }
    }
}

/// Validates a list of users (at `path[i]`): each user, and that names and tokens are unique.
pub fn validate_users(users: &[UserConfig], path: &str, problems: &mut Problems) {
    let mut names = HashMap::new();
    let mut tokens = HashMap::new();
    for (i, u) in users.iter().enumerate() {
        let p = format!("{path}[{i}]");
        u.validate(&p, problems);
        if let Some(j) = names.insert(u.name.as_str(), i) {
            problems.at(
                &p,
                "name",
                format!("duplicate user name (also {path}[{j}])"),
            );
        }
        if let Some(j) = tokens.insert(u.token.as_str(), i) {
            problems.at(&p, "token", format!("duplicate token (also {path}[{j}])"));
        }
    }
}

/// Bearer-token authentication: token → user.
#[derive(Clone)]
pub struct Auth {
    users: Arc<HashMap<[u8; 32], Actor>>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("users", &self.users.len())
            .finish()
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Auth {
    /// The users of `[[api.users]]` (validate them first; invalid users are skipped).
    pub fn new(users: &[UserConfig]) -> Auth {
        let mut map = HashMap::new();
        for u in users {
            let mut p = Problems::new();
            u.validate("", &mut p);
            if !p.is_empty() {
                warn!(user = %u.name, error = %p, "API user skipped.");
                continue;
            }
            map.insert(
                digest(&u.token),
                Actor {
                    name: u.name.clone(),
                    role: u.role,
                    department: u.department.clone(),
                },
            );
        }
        Auth {
            users: Arc::new(map),
        }
    }

    /// The user an `Authorization` header names, if any.
    pub fn check(&self, header: Option<&HeaderValue>) -> Option<Actor> {
        let v = header?.to_str().ok()?;
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))?;
        self.users.get(&digest(token.trim())).cloned()
    }
}

#[derive(Clone)]
struct AppState {
    cases: Cases,
    auth: Auth,
}

/// The case API (see the module documentation), ready to be merged into the daemon's router.
pub fn router(cases: Cases, auth: Auth) -> Router {
    Router::new()
        .route("/api/cases", get(list))
        .route("/api/cases/{id}", get(show))
        .route("/api/cases/{id}/{action}", post(act))
        .route("/api/accountability", get(accountability))
        .with_state(AppState { cases, auth })
}

/// An API error: status and JSON body.
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> ApiError {
        let status = match &e {
            CaseError::NotFound(_) => StatusCode::NOT_FOUND,
            CaseError::IllegalTransition { .. } | CaseError::Conflict(_) => StatusCode::CONFLICT,
            CaseError::Forbidden { .. } => StatusCode::FORBIDDEN,
            CaseError::Invalid { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            error!(error = %e, "Case API request failed.");
            return ApiError::new(
                status,
                e.kind(),
                "the case store failed; see the server log",
            );
        }
        ApiError::new(status, e.kind(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> HttpResponse {
        let mut r = (
            self.status,
            Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

fn count(action: &str, status: StatusCode) {
    metrics::API_REQUESTS
        .with_label_values(&[action, status.as_str()])
        .inc();
}

fn finish(action: &'static str, r: Result<Value, ApiError>) -> HttpResponse {
    match r {
        Ok(v) => {
            count(action, StatusCode::OK);
            (StatusCode::OK, Json(v)).into_response()
        }
        Err(e) => {
            count(action, e.status);
            e.into_response()
        }
    }
}

fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Actor, ApiError> {
    state
        .auth
        .check(headers.get(header::AUTHORIZATION))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or unknown bearer token (Authorization: Bearer <token>)",
            )
        })
}

/// The case as the API shows it: the record plus labels a duty officer reads.
pub fn case_json(case: &Case) -> Value {
    let mut v = serde_json::to_value(case).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("state_label".into(), case.state.label().into());
        m.insert("grade_label".into(), case.grade.label().into());
        m.insert(
            "responsible".into(),
            case.responsible().map(Value::from).unwrap_or(Value::Null),
        );
    }
    v
}

fn visible(actor: &Actor, case: &Case) -> bool {
    match actor.role {
        Role::Department => match (&actor.department, case.responsible()) {
            (Some(d), Some(r)) => r.contains(d.as_str()),
            _ => false,
        },
        _ => true,
    }
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<CaseFilter>, QueryRejection>,
) -> HttpResponse {
    let r = async {
        let actor = authenticate(&state, &headers)?;
        let Query(mut filter) = query.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                format!("bad query: {e}"),
            )
        })?;
        if actor.role == Role::Department {
            filter.department = actor.department.clone();
        }
        let cases = state.cases.list(&filter).await?;
        Ok(json!({ "cases": cases.iter().map(case_json).collect::<Vec<_>>() }))
    }
    .await;
    finish("list", r)
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> HttpResponse {
    let r = async {
        let actor = authenticate(&state, &headers)?;
        let case = state.cases.show(&id).await?;
        if !visible(&actor, &case) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("case {} belongs to another department", case.case_id),
            ));
        }
        let audit = state.cases.audit(&case.case_id).await?;
        let mut v = case_json(&case);
        v["audit"] = serde_json::to_value(&audit).unwrap_or(Value::Null);
        Ok(v)
    }
    .await;
    finish("show", r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    department: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReassignBody {
    department: String,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    facts: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RespondBody {
    channel: String,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    at: Option<DateTime<FixedOffset>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
}

/// Parses a JSON body; an empty body is `{}`.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| format!("malformed JSON body: {e}"))
}

fn bad(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "malformed", message)
}

const ACTIONS: [&str; 7] = [
    "accept", "assign", "reassign", "feedback", "respond", "close", "note",
];

async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> HttpResponse {
    let Some(action) = ACTIONS.iter().copied().find(|a| *a == action) else {
        return finish(
            "unknown",
            Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("unknown action `{action}` (one of {})", ACTIONS.join(", ")),
            )),
        );
    };
    let r = async {
        let actor = authenticate(&state, &headers)?;
        let allowed = match actor.role {
            Role::DutyOfficer => true,
            Role::Department => matches!(action, "feedback" | "respond" | "note"),
            Role::Viewer | Role::System => false,
        };
        if !allowed {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "{} ({}) may not {action} cases",
                    actor.name,
                    actor.role.label()
                ),
            ));
        }
        let c = &state.cases;
        let case = match action {
            "accept" => {
                parse_body::<Empty>(&body).map_err(bad)?;
                c.accept(&id, &actor).await?
            }
            "assign" => {
                let b: AssignBody = parse_body(&body).map_err(bad)?;
                c.assign(&id, &b.department, &actor).await?
            }
            "reassign" => {
                let b: ReassignBody = parse_body(&body).map_err(bad)?;
                c.reassign(&id, &b.department, &b.reason, &actor).await?
            }
            "feedback" => {
                let b: FeedbackBody = parse_body(&body).map_err(bad)?;
                c.feedback(&id, &b.facts, &actor).await?
            }
            "respond" => {
                let b: RespondBody = parse_body(&body).map_err(bad)?;
                let channel = Channel::parse(&b.channel).ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid",
                        format!(
                            "invalid channel: `{}` (one of {})",
                            b.channel,
                            Channel::ALL.map(Channel::as_str).join(", ")
                        ),
                    )
                })?;
                let response = Response {
                    channel,
                    link: b.link,
                    at: b.at.unwrap_or_else(|| c.now_cst()),
                };
                c.respond(&id, &response, &actor).await?
            }
            "close" => {
                let b: CloseBody = parse_body(&body).map_err(bad)?;
                c.close(&id, b.note.as_deref(), &actor).await?
            }
            _ => {
                let b: NoteBody = parse_body(&body).map_err(bad)?;
                c.note(&id, &b.text, &actor).await?
            }
        };
        Ok(case_json(&case))
    }
    .await;
    finish(action, r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Period {
    #[serde(default)]
    from: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    to: Option<DateTime<FixedOffset>>,
}

async fn accountability(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Period>, QueryRejection>,
) -> HttpResponse {
    let r = async {
        authenticate(&state, &headers)?;
        let Query(p) = query.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                format!("bad query (from and to are RFC 3339 times): {e}"),
            )
        })?;
        let to = p.to.unwrap_or_else(|| state.cases.now_cst());
        let from = p.from.unwrap_or(to - ChronoDuration::days(30));
        let stats = state.cases.accountability(from, to).await?;
        Ok(json!({
            "from": from.to_rfc3339(),
            "to": to.to_rfc3339(),
            "departments": stats,
        }))
    }
    .await;
    finish("accountability", r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_validated_with_paths() {
        let users: Vec<UserConfig> = serde_json::from_value(json!([
            {"name": "张三", "token": "short", "role": "duty_officer", "department": "x"},
            {"name": "张三", "token": "a-long-enough-token-1", "role": "department"},
            {"name": "", "token": "a-long-enough-token-1", "role": "system"},
        ]))
        .unwrap();
        let mut p = Problems::new();
        validate_users(&users, "api.users", &mut p);
        let text = p.to_string();
        for want in [
            "api.users[0].token: must be at least 16 characters",
            "api.users[0].department: is only for role = \"department\"",
            "api.users[1].department: is required for role = \"department\"",
            "api.users[1].name: duplicate user name (also api.users[0])",
            "api.users[2].name: must not be empty",
            "api.users[2].role: must be duty_officer, department or viewer",
            "api.users[2].token: duplicate token (also api.users[1])",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert!(
            !format!("{:?}", users[1]).contains("a-long-enough"),
            "tokens never printed"
        );
    }

    #[test]
    fn bearer_tokens_name_users() {
        let users = vec![UserConfig {
            name: "李四".into(),
            token: "duty-token-0123456789".into(),
            role: Role::DutyOfficer,
            department: None,
        }];
        let auth = Auth::new(&users);
        let ok = HeaderValue::from_static("Bearer duty-token-0123456789");
        assert_eq!(auth.check(Some(&ok)).unwrap().name, "李四");
        let wrong = HeaderValue::from_static("Bearer duty-token-012345678");
        assert!(auth.check(Some(&wrong)).is_none());
        let basic = HeaderValue::from_static("Basic duty-token-0123456789");
        assert!(auth.check(Some(&basic)).is_none());
        assert!(auth.check(None).is_none());
    }

    proptest::proptest! {
        #[test]
        fn body_parser_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = parse_body::<RespondBody>(&bytes);
            let _ = parse_body::<Empty>(&bytes);
        }
    }

    #[test]
    fn bodies_are_strict() {
        assert!(parse_body::<Empty>(b"").is_ok());
        assert!(parse_body::<Empty>(b"  \n").is_ok());
        assert!(parse_body::<Empty>(b"{\"x\":1}").is_err());
        assert!(parse_body::<AssignBody>(b"{\"department\":").is_err());
        let r: RespondBody =
            parse_body(br#"{"channel":"website","at":"2026-11-22T10:00:00+08:00"}"#).unwrap();
        assert_eq!(r.channel, "website");
    }
}
