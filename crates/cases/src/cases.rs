//! [`Cases`]: the workflow over the store.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use tokio::sync::broadcast;
use tracing::{debug, info, warn};
use yuqing_core::clock::cst;
use yuqing_core::{Alert, AlertKind, Deadline, Grade, Problems, SharedClock, SystemClock};
use yuqing_store::Store;

use crate::error::CaseError;
use crate::metrics::{self, AccountabilityMetrics};
use crate::model::{
    Actor, AuditEntry, Case, CaseFilter, CaseState, Channel, DepartmentStats, Minutes, Response,
    Role,
};

type Result<T, E = CaseError> = std::result::Result<T, E>;

/// The label for cases whose department nobody named.
pub const UNASSIGNED: &str = "未指定";

/// How far in the future a response time may lie (clock skew between people and the server).
const FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// The `[cases]` table of a pipeline: workflow time limits and the departments known to
/// accountability metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasesConfig {
    /// A case must be accepted (受理) this soon after its first alert; later counts as 迟报,
    /// never counts as 漏报 (not acted on) ("30m").
    #[serde(default = "default_accept_within", with = "humantime_serde")]
    pub accept_within: Duration,
    /// Department names used as metric labels (others are counted as `其他`); the API users'
    /// departments are added by [`Cases::configure`].
    #[serde(default)]
    pub departments: Vec<String>,
}

fn default_accept_within() -> Duration {
    Duration::from_secs(30 * 60)
}

impl Default for CasesConfig {
    fn default() -> CasesConfig {
        CasesConfig {
            accept_within: default_accept_within(),
            departments: Vec::new(),
        }
    }
}

impl CasesConfig {
    /// Reports every semantic problem with its key path (`path` is the table's, e.g. `cases`).
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        if self.accept_within < Duration::from_secs(60) {
            problems.at(path, "accept_within", "must be at least 1m");
        }
        if self.accept_within > Duration::from_secs(7 * 24 * 3600) {
            problems.at(path, "accept_within", "must be at most 7d");
        }
        let mut seen = HashSet::new();
        for (i, d) in self.departments.iter().enumerate() {
            let p = format!("{}[{i}]", yuqing_core::problem::join(path, "departments"));
            if d.trim().is_empty() {
                problems.push(p, "must not be empty");
            } else if !seen.insert(d.as_str()) {
                problems.push(p, format!("`{d}` is listed twice"));
            }
        }
    }
}

/// A public response recorded on a case: what the grader needs to stop the clocks
/// (`Grader::note_responded(event_id, at, Some(channel))`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Responded {
    /// The case.
    pub case_id: String,
    /// Its event.
    pub event_id: String,
    /// When the response was published.
    pub at: DateTime<FixedOffset>,
    /// Where.
    pub channel: Channel,
}

/// The case workflow over a [`Store`]; cheap to clone (one pool, one clock).
#[derive(Debug, Clone)]
pub struct Cases {
    store: Store,
    clock: SharedClock,
    cfg: Arc<CasesConfig>,
    known_departments: Arc<HashSet<String>>,
    responses: broadcast::Sender<Responded>,
}

const CASE_COLUMNS: &str = "case_id, event_id, title, grade, state, department, region, assigned_to, url, \
     first_seen_ms, first_alert_ms, opened_ms, accepted_ms, assigned_ms, feedback_ms, responded_ms, \
     closed_ms, feedback, response_channel, response_link, deadlines, reopened, version";

const AUDIT_COLUMNS: &str =
    "id, case_id, at_ms, actor, role, action, from_state, to_state, department, detail, alert_id";

/// The deterministic case id of an event.
pub fn case_id_of(event_id: &str) -> String {
    yuqing_core::id::stable_id("case-", &[event_id])
}

fn to_time(ms: i64) -> DateTime<FixedOffset> {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&cst())
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> CaseError {
    CaseError::Corrupt(format!("{what}: {e}"))
}

/// One column value of a dynamic UPDATE.
enum Val {
    I(Option<i64>),
    S(Option<String>),
}

/// What an action changes.
struct Change {
    action: &'static str,
    to: CaseState,
    sets: Vec<(&'static str, Val)>,
    department: Option<String>,
    detail: Value,
}

impl Cases {
    /// The workflow over `store` on the wall clock, with default settings. The store must have
    /// run migration `0002_cases` (it does on [`Store::open`]).
    pub async fn new(store: Store) -> Result<Cases> {
        Cases::with_clock(store, Arc::new(SystemClock)).await
    }

    /// The workflow with an injected clock (tests, replays).
    pub async fn with_clock(store: Store, clock: SharedClock) -> Result<Cases> {
        let probe: std::result::Result<i64, sqlx::Error> =
            sqlx::query_scalar("SELECT COUNT(*) FROM case_audit")
                .fetch_one(store.pool())
                .await;
        if let Err(e) = probe {
            return Err(CaseError::Schema(format!(
                "the store has no case tables ({e}); it must be migrated with 0002_cases.sql \
                 (a yuqing-store built before that migration was added must be rebuilt)"
            )));
        }
        metrics::init();
        let cases = Cases {
            store,
            clock,
            cfg: Arc::new(CasesConfig::default()),
            known_departments: Arc::new(HashSet::new()),
            responses: broadcast::channel(1024).0,
        };
        cases.refresh_metrics().await;
        Ok(cases)
    }

    /// Applies the `[cases]` settings; `users` adds the API users' departments to the metric
    /// labels.
    pub fn configure(mut self, cfg: &CasesConfig, users: &[crate::UserConfig]) -> Cases {
        let mut known: HashSet<String> = cfg.departments.iter().cloned().collect();
        known.extend(users.iter().filter_map(|u| u.department.clone()));
        self.known_departments = Arc::new(known);
        self.cfg = Arc::new(cfg.clone());
        self
    }

    /// The settings in force.
    pub fn config(&self) -> &CasesConfig {
        &self.cfg
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Every public response recorded from now on (for `Grader::note_responded`).
    pub fn subscribe(&self) -> broadcast::Receiver<Responded> {
        self.responses.subscribe()
    }

    /// "Now" on the workflow's clock, in UTC+8.
    pub fn now_cst(&self) -> DateTime<FixedOffset> {
        self.clock.now_cst()
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.now_cst()
    }

    fn label(&self, department: Option<&str>) -> String {
        match department {
            Some(d) if self.known_departments.contains(d) => d.to_string(),
            Some(_) => "其他".to_string(),
            None => UNASSIGNED.to_string(),
        }
    }

    // ------------------------------------------------------------------ alerts

    /// Applies an alert: a new event opens a case (待受理); a flare of a closed case reopens
    /// it; every other alert joins the case's timeline and raises its grade and due times.
    /// Idempotent: the same alert applied twice changes nothing the second time.
    pub async fn on_alert(&self, alert: &Alert) -> Result<()> {
        if alert.kind == AlertKind::SourceHealth || alert.event_id.trim().is_empty() {
            return Ok(());
        }
        for attempt in 0..5 {
            match self.apply_alert(alert).await {
                Err(CaseError::Conflict(_)) if attempt < 4 => continue,
                Err(CaseError::Db(e)) if attempt < 4 && is_busy(&e) => {
                    tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                    continue;
                }
                other => return other,
            }
        }
        Ok(())
    }

    async fn apply_alert(&self, alert: &Alert) -> Result<()> {
        let case_id = case_id_of(&alert.event_id);
        let now = self.now();
        let first_seen = alert
            .extra
            .get("first_seen")
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .unwrap_or(alert.at)
            .min(alert.at);
        let deadlines =
            serde_json::to_string(&alert.deadlines).map_err(|e| corrupt("deadlines", e))?;
        let mut tx = self.store.pool().begin().await?;
        let created = sqlx::query(
            "INSERT INTO cases (case_id, event_id, title, grade, state, department, region, assigned_to, url,
                                first_seen_ms, first_alert_ms, opened_ms, deadlines, reopened, version, updated_ms)
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, NULL, $7, $8, $9, $10, $11, 0, 0, $12)
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(&case_id)
        .bind(&alert.event_id)
        .bind(&alert.title)
        .bind(alert.grade.as_str())
        .bind(alert.department.clone())
        .bind(alert.region.clone())
        .bind(alert.url.clone())
        .bind(first_seen.timestamp_millis())
        .bind(alert.at.timestamp_millis())
        .bind(now.timestamp_millis())
        .bind(&deadlines)
        .bind(now.timestamp_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let detail = alert_detail(alert);
        let fresh = insert_audit(
            &mut tx,
            &case_id,
            now,
            &Actor::system(),
            if created { "opened" } else { "alert" },
            None,
            created.then_some(CaseState::Pending),
            alert.department.as_deref(),
            &detail,
            Some(&alert.alert_id),
        )
        .await?;
        if !fresh {
            tx.rollback().await?;
            debug!(alert = %alert.alert_id, "Alert already applied to its case.");
            return Ok(());
        }
        if !created {
            let case = load_case(&mut tx, &case_id).await?;
            let mut sets = vec![("title", Val::S(Some(alert.title.clone())))];
            if alert.grade > case.grade {
                sets.push(("grade", Val::S(Some(alert.grade.as_str().to_string()))));
            }
            if !alert.deadlines.is_empty() {
                sets.push(("deadlines", Val::S(Some(deadlines))));
            }
            let mut to = case.state;
            if alert.kind == AlertKind::Flared && case.state == CaseState::Closed {
                to = CaseState::Pending;
                sets.push(("closed_ms", Val::I(None)));
                sets.push(("reopened", Val::I(Some(case.reopened as i64 + 1))));
                insert_audit(
                    &mut tx,
                    &case_id,
                    now,
                    &Actor::system(),
                    "reopened",
                    Some(CaseState::Closed),
                    Some(CaseState::Pending),
                    case.responsible(),
                    &json!({ "reason": "再次升温，重新受理", "alert_id": alert.alert_id }),
                    None,
                )
                .await?;
            }
            update_case(&mut tx, &case, to, now, sets).await?;
        }
        tx.commit().await?;
        if created {
            info!(case = %case_id, event = %alert.event_id, grade = %alert.grade, "Case opened.");
        }
        if alert.kind == AlertKind::Overdue {
            let deadline = alert
                .extra
                .get("timer")
                .and_then(|t| t.get("deadline"))
                .and_then(Value::as_str)
                .filter(|k| {
                    !k.is_empty()
                        && k.len() <= 32
                        && k.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                })
                .unwrap_or("other");
            let case = self.show(&case_id).await?;
            metrics::DEADLINE_MISSED
                .with_label_values(&[&self.label(case.responsible()), deadline])
                .inc();
        }
        self.refresh_metrics().await;
        Ok(())
    }

    // ------------------------------------------------------------------ reads

    /// Cases matching `filter`, most recently alerted first.
    pub async fn list(&self, filter: &CaseFilter) -> Result<Vec<Case>> {
        let mut sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1 = 1");
        let mut binds: Vec<Val> = Vec::new();
        let mut n = 0;
        let mut param = |binds: &mut Vec<Val>, v: Val| {
            binds.push(v);
            n += 1;
            format!("${n}")
        };
        if let Some(s) = &filter.state {
            let state = CaseState::parse(s).ok_or_else(|| {
                CaseError::invalid("state", format!("unknown state `{s}` (pending, accepted, assigned, feedback, responded, closed)"))
            })?;
            let p = param(&mut binds, Val::S(Some(state.as_str().to_string())));
            sql.push_str(&format!(" AND state = {p}"));
        }
        if filter.open == Some(true) {
            sql.push_str(" AND state <> 'closed'");
        }
        if let Some(g) = &filter.grade {
            let grade = Grade::parse(g).ok_or_else(|| {
                CaseError::invalid("grade", format!("unknown grade `{g}` (I, II, III, IV)"))
            })?;
            let p = param(&mut binds, Val::S(Some(grade.as_str().to_string())));
            sql.push_str(&format!(" AND grade = {p}"));
        }
        if let Some(d) = &filter.department {
            let p = param(&mut binds, Val::S(Some(format!("%{}%", escape_like(d)))));
            sql.push_str(&format!(
                " AND (COALESCE(assigned_to, department, '') LIKE {p} ESCAPE '\\')"
            ));
        }
        if let Some(from) = filter.from {
            let p = param(&mut binds, Val::I(Some(from.timestamp_millis())));
            sql.push_str(&format!(" AND first_alert_ms >= {p}"));
        }
        if let Some(to) = filter.to {
            let p = param(&mut binds, Val::I(Some(to.timestamp_millis())));
            sql.push_str(&format!(" AND first_alert_ms < {p}"));
        }
        let limit = filter.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(CaseError::invalid("limit", "must be between 1 and 1000"));
        }
        let offset = filter.offset.unwrap_or(0);
        if offset < 0 {
            return Err(CaseError::invalid("offset", "must not be negative"));
        }
        let pl = param(&mut binds, Val::I(Some(limit)));
        let po = param(&mut binds, Val::I(Some(offset)));
        sql.push_str(&format!(
            " ORDER BY first_alert_ms DESC, case_id LIMIT {pl} OFFSET {po}"
        ));
        let mut q = sqlx::query(&sql);
        for v in binds {
            q = match v {
                Val::I(x) => q.bind(x),
                Val::S(x) => q.bind(x),
            };
        }
        let rows = q.fetch_all(self.store.pool()).await?;
        rows.iter().map(case_from_row).collect()
    }

    /// One case, by case id or event id.
    pub async fn show(&self, id: &str) -> Result<Case> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE case_id = $1 OR event_id = $1"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        row.as_ref()
            .map(case_from_row)
            .transpose()?
            .ok_or_else(|| CaseError::NotFound(id.to_string()))
    }

    /// The audit log of a case (by case id or event id), oldest first.
    pub async fn audit(&self, id: &str) -> Result<Vec<AuditEntry>> {
        let case = self.show(id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM case_audit WHERE case_id = $1 ORDER BY id"
        ))
        .bind(&case.case_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    /// Every public response recorded, oldest first: after a restart, feed them to
    /// `Grader::note_responded` so that met deadlines stay met.
    pub async fn responses(&self) -> Result<Vec<Responded>> {
        let rows = sqlx::query(
            "SELECT c.case_id, c.event_id, a.detail FROM case_audit a JOIN cases c ON c.case_id = a.case_id
             WHERE a.action = 'respond' ORDER BY a.id",
        )
        .fetch_all(self.store.pool())
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let detail: String = r.try_get("detail")?;
            let v: Value = serde_json::from_str(&detail).map_err(|e| corrupt("audit detail", e))?;
            let resp: Response = serde_json::from_value(v["response"].clone())
                .map_err(|e| corrupt("response", e))?;
            out.push(Responded {
                case_id: r.try_get("case_id")?,
                event_id: r.try_get("event_id")?,
                at: resp.at,
                channel: resp.channel,
            });
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ actions

    /// 受理: the duty room takes a pending case.
    pub async fn accept(&self, id: &str, actor: &Actor) -> Result<Case> {
        self.act(id, actor, "accept", |case, now| match case.state {
            CaseState::Pending => Ok(Change {
                action: "accept",
                to: CaseState::Accepted,
                sets: vec![("accepted_ms", Val::I(Some(now.timestamp_millis())))],
                department: None,
                detail: json!({}),
            }),
            s => Err(illegal(
                case,
                "accept",
                s,
                "only a 待受理 (pending) case can be accepted",
            )),
        })
        .await
    }

    /// 转办: hands an accepted case to a department.
    pub async fn assign(&self, id: &str, department: &str, actor: &Actor) -> Result<Case> {
        let department = clean("department", department, 100)?;
        self.act(id, actor, "assign", move |case, now| match case.state {
            CaseState::Accepted => Ok(Change {
                action: "assign",
                to: CaseState::Assigned,
                sets: vec![
                    ("assigned_to", Val::S(Some(department.clone()))),
                    ("assigned_ms", Val::I(Some(now.timestamp_millis()))),
                ],
                department: Some(department.clone()),
                detail: json!({ "department": department }),
            }),
            CaseState::Pending => Err(illegal(case, "assign", case.state, "accept it first")),
            CaseState::Assigned | CaseState::Feedback => Err(illegal(
                case,
                "assign",
                case.state,
                "it is already assigned; use reassign to hand it to another department",
            )),
            s => Err(illegal(
                case,
                "assign",
                s,
                "only an 已受理 (accepted) case can be assigned",
            )),
        })
        .await
    }

    /// 改派: hands an assigned case to another department (its feedback is asked again).
    pub async fn reassign(
        &self,
        id: &str,
        department: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<Case> {
        let department = clean("department", department, 100)?;
        let reason = clean("reason", reason, 2000)?;
        self.act(id, actor, "reassign", move |case, now| match case.state {
            CaseState::Assigned | CaseState::Feedback => {
                if case.assigned_to.as_deref() == Some(department.as_str()) {
                    return Err(CaseError::invalid(
                        "department",
                        format!("the case is already assigned to {department}"),
                    ));
                }
                Ok(Change {
                    action: "reassign",
                    to: CaseState::Assigned,
                    sets: vec![
                        ("assigned_to", Val::S(Some(department.clone()))),
                        ("assigned_ms", Val::I(Some(now.timestamp_millis()))),
                        ("feedback", Val::S(None)),
                        ("feedback_ms", Val::I(None)),
                    ],
                    department: Some(department.clone()),
                    detail: json!({
                        "department": department,
                        "previous": case.assigned_to,
                        "reason": reason,
                    }),
                })
            }
            s => Err(illegal(
                case,
                "reassign",
                s,
                "only an 已转办 or 已反馈 case can be reassigned",
            )),
        })
        .await
    }

    /// 反馈: the department reports the facts (again, to add to them).
    pub async fn feedback(&self, id: &str, facts: &str, actor: &Actor) -> Result<Case> {
        let facts = clean("facts", facts, 20_000)?;
        self.act(id, actor, "feedback", move |case, now| match case.state {
            CaseState::Assigned | CaseState::Feedback => Ok(Change {
                action: "feedback",
                to: CaseState::Feedback,
                sets: vec![
                    ("feedback", Val::S(Some(facts.clone()))),
                    ("feedback_ms", Val::I(Some(now.timestamp_millis()))),
                ],
                department: case.assigned_to.clone(),
                detail: json!({ "facts": facts }),
            }),
            s => Err(illegal(
                case,
                "give feedback on",
                s,
                "feedback comes after the case is assigned (已转办)",
            )),
        })
        .await
    }

    /// 回应: records a public response (the first one, or a further update).
    pub async fn respond(&self, id: &str, response: &Response, actor: &Actor) -> Result<Case> {
        let response = Response {
            channel: response.channel,
            link: match &response.link {
                Some(l) => Some(clean_link(l)?),
                None => None,
            },
            at: response.at.with_timezone(&cst()),
        };
        let now = self.now();
        if response.at.timestamp_millis() > now.timestamp_millis() + FUTURE_SKEW_MS {
            return Err(CaseError::invalid(
                "at",
                format!("{} is in the future", response.at.to_rfc3339()),
            ));
        }
        let r = response.clone();
        let case = self
            .act(id, actor, "respond", move |case, _now| {
                if r.at < case.first_seen {
                    return Err(CaseError::invalid(
                        "at",
                        format!(
                            "{} is before the event was first seen ({})",
                            r.at.to_rfc3339(),
                            case.first_seen.to_rfc3339()
                        ),
                    ));
                }
                match case.state {
                    CaseState::Feedback | CaseState::Responded => {
                        let first = case.response.as_ref().is_none_or(|p| r.at < p.at);
                        let mut sets = Vec::new();
                        if first {
                            sets.push(("responded_ms", Val::I(Some(r.at.timestamp_millis()))));
                            sets.push((
                                "response_channel",
                                Val::S(Some(r.channel.as_str().into())),
                            ));
                            sets.push(("response_link", Val::S(r.link.clone())));
                        }
                        Ok(Change {
                            action: "respond",
                            to: CaseState::Responded,
                            sets,
                            department: case.responsible().map(str::to_string),
                            detail: json!({ "response": r }),
                        })
                    }
                    s => Err(illegal(
                        case,
                        "respond to",
                        s,
                        "the response comes after the department's feedback (已反馈)",
                    )),
                }
            })
            .await?;
        let _ = self.responses.send(Responded {
            case_id: case.case_id.clone(),
            event_id: case.event_id.clone(),
            at: response.at,
            channel: response.channel,
        });
        Ok(case)
    }

    /// 办结: closes a responded case; any other open case only with a note saying why.
    pub async fn close(&self, id: &str, note: Option<&str>, actor: &Actor) -> Result<Case> {
        let note = match note {
            Some(n) if !n.trim().is_empty() => Some(clean("note", n, 4000)?),
            _ => None,
        };
        self.act(id, actor, "close", move |case, now| {
            let sets = vec![("closed_ms", Val::I(Some(now.timestamp_millis())))];
            match (case.state, &note) {
                (CaseState::Closed, _) => {
                    Err(illegal(case, "close", case.state, "it is already closed"))
                }
                (CaseState::Responded, _) | (_, Some(_)) => Ok(Change {
                    action: "close",
                    to: CaseState::Closed,
                    sets,
                    department: case.responsible().map(str::to_string),
                    detail: json!({ "note": note, "without_response": case.state != CaseState::Responded }),
                }),
                (s, None) => Err(illegal(
                    case,
                    "close",
                    s,
                    "only an 已回应 (responded) case closes without a note; give a note saying why it needs no response",
                )),
            }
        })
        .await
    }

    /// Adds a note to the audit log; the state does not change.
    pub async fn note(&self, id: &str, text: &str, actor: &Actor) -> Result<Case> {
        let text = clean("text", text, 4000)?;
        self.act(id, actor, "note", move |case, _| {
            Ok(Change {
                action: "note",
                to: case.state,
                sets: Vec::new(),
                department: actor_department(case),
                detail: json!({ "text": text }),
            })
        })
        .await
    }

    async fn act<F>(&self, id: &str, actor: &Actor, action: &'static str, f: F) -> Result<Case>
    where
        F: FnOnce(&Case, DateTime<FixedOffset>) -> Result<Change>,
    {
        if actor.name.trim().is_empty() {
            return Err(CaseError::invalid("actor", "must name who acts"));
        }
        let now = self.now();
        let mut tx = self.store.pool().begin().await?;
        let Some(case) = find_case(&mut tx, id).await? else {
            return Err(CaseError::NotFound(id.to_string()));
        };
        authorize(actor, action, &case)?;
        let change = f(&case, now)?;
        update_case(&mut tx, &case, change.to, now, change.sets).await?;
        insert_audit(
            &mut tx,
            &case.case_id,
            now,
            actor,
            change.action,
            Some(case.state),
            Some(change.to),
            change.department.as_deref(),
            &change.detail,
            None,
        )
        .await?;
        tx.commit().await?;
        info!(
            case = %case.case_id, actor = %actor.name, action = change.action,
            from = %case.state, to = %change.to, "Case updated."
        );
        self.refresh_metrics().await;
        self.show(&case.case_id).await
    }

    // ------------------------------------------------------------------ accountability

    /// Accountability per responsible department for the cases first alerted in `[from, to)`,
    /// computed from the audit log (考核: 迟报、漏报), sorted by department.
    pub async fn accountability(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<Vec<DepartmentStats>> {
        let groups = self
            .tally(from, to, |d| d.unwrap_or(UNASSIGNED).to_string())
            .await?;
        Ok(groups.into_values().map(Tally::into_stats).collect())
    }

    /// Sets the accountability gauges of `m` from the cases first alerted in the `window`
    /// before now (and up to the clock-skew allowance after it): the same computation as
    /// [`Cases::accountability`], with departments as metric labels (configured names, others
    /// `其他`, none `未指定`). Every label the configuration allows gets its counts (zero when
    /// it had no cases); a duration series exists only while some case measured it.
    pub async fn refresh_accountability_metrics(
        &self,
        m: &AccountabilityMetrics,
        window: Duration,
    ) -> Result<()> {
        let now = self.now();
        let span = chrono::Duration::from_std(window)
            .map_err(|e| CaseError::invalid("window", e.to_string()))?;
        let groups = self
            .tally(
                now - span,
                now + chrono::Duration::milliseconds(FUTURE_SKEW_MS),
                |d| self.label(d),
            )
            .await?;
        let mut labels: Vec<String> = self.known_departments.iter().cloned().collect();
        labels.extend(["其他".to_string(), UNASSIGNED.to_string()]);
        labels.extend(groups.keys().cloned());
        labels.sort();
        labels.dedup();
        let empty = Tally::default();
        let figures: Vec<(&str, &Tally)> = labels
            .iter()
            .map(|l| (l.as_str(), groups.get(l).unwrap_or(&empty)))
            .collect();
        m.set(window, &figures);
        Ok(())
    }

    /// Refreshes the global accountability gauges ([`AccountabilityMetrics::global`]) every
    /// `every` over the rolling `window` until `shutdown` completes: for the process that owns
    /// the cases (the daemon's alert stage). A failed refresh is logged, counted in
    /// `yuqing_cases_accountability_refresh_errors_total` and leaves the previous values.
    pub async fn run_accountability_metrics(
        &self,
        every: Duration,
        window: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let m = AccountabilityMetrics::global();
        let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = self.refresh_accountability_metrics(m, window).await {
                        m.refresh_errors.with_label_values(&[e.kind()]).inc();
                        warn!(error = %e, "Refreshing the accountability metrics failed.");
                    }
                }
                () = &mut shutdown => break,
            }
        }
    }

    /// The accountability figures of the cases first alerted in `[from, to)`, grouped by
    /// `group` of the responsible department (the last one assigned, else the owner).
    async fn tally(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
        group: impl Fn(Option<&str>) -> String,
    ) -> Result<BTreeMap<String, Tally>> {
        if to <= from {
            return Err(CaseError::invalid("to", "must be after from"));
        }
        let now = self.now();
        let accept_within = self.cfg.accept_within.as_millis() as i64;
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE first_alert_ms >= $1 AND first_alert_ms < $2"
        ))
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .fetch_all(self.store.pool())
        .await?;
        let cases: Vec<Case> = rows.iter().map(case_from_row).collect::<Result<_>>()?;
        let audit_rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM case_audit WHERE case_id IN
               (SELECT case_id FROM cases WHERE first_alert_ms >= $1 AND first_alert_ms < $2)
             ORDER BY id"
        ))
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .fetch_all(self.store.pool())
        .await?;
        let mut audit: BTreeMap<String, Vec<AuditEntry>> = BTreeMap::new();
        for r in &audit_rows {
            let e = audit_from_row(r)?;
            audit.entry(e.case_id.clone()).or_default().push(e);
        }
        let mut by_dept: BTreeMap<String, Tally> = BTreeMap::new();
        let empty = Vec::new();
        for case in &cases {
            let log = audit.get(&case.case_id).unwrap_or(&empty);
            let assigned = log
                .iter()
                .rev()
                .find(|e| e.action == "assign" || e.action == "reassign")
                .and_then(|e| e.department.clone());
            let dept = group(assigned.as_deref().or(case.department.as_deref()));
            let acc = by_dept.entry(dept.clone()).or_insert_with(|| Tally {
                stats: DepartmentStats {
                    department: dept,
                    ..DepartmentStats::default()
                },
                ..Tally::default()
            });
            let s = &mut acc.stats;
            s.cases += 1;
            *s.by_grade
                .entry(case.grade.as_str().to_string())
                .or_default() += 1;
            let alert_ms = case.first_alert.timestamp_millis();
            acc.to_alert
                .push(elapsed(alert_ms - case.first_seen.timestamp_millis()));
            let accepted = log.iter().find(|e| e.action == "accept").map(|e| e.at);
            match accepted {
                Some(t) => {
                    s.accepted += 1;
                    let lag = t.timestamp_millis() - alert_ms;
                    acc.to_accept.push(elapsed(lag));
                    if lag > accept_within {
                        s.late_accepted += 1;
                    }
                }
                None => {
                    if now.timestamp_millis() - alert_ms > accept_within {
                        s.not_acted_on += 1;
                    }
                }
            }
            let responded = log
                .iter()
                .filter(|e| e.action == "respond")
                .filter_map(|e| {
                    serde_json::from_value::<Response>(e.detail["response"].clone()).ok()
                })
                .map(|r| r.at)
                .min();
            if let Some(r) = responded {
                s.responded += 1;
                acc.to_response
                    .push(elapsed(r.timestamp_millis() - alert_ms));
            }
            if case.state == CaseState::Closed {
                s.closed += 1;
            }
            if case.reopened > 0 {
                s.reopened += 1;
            }
            // Every deadline any alert stated, and those an overdue alert declared missed.
            let mut stated: BTreeMap<(String, i64), ()> = BTreeMap::new();
            let mut missed: HashSet<(String, i64)> = HashSet::new();
            for d in &case.deadlines {
                stated.insert((d.kind.clone(), d.due.timestamp_millis()), ());
            }
            for e in log.iter().filter(|e| e.alert_id.is_some()) {
                if let Ok(ds) =
                    serde_json::from_value::<Vec<Deadline>>(e.detail["deadlines"].clone())
                {
                    for d in ds {
                        stated.insert((d.kind, d.due.timestamp_millis()), ());
                    }
                }
                if e.detail["kind"] == "overdue" {
                    let kind = e.detail["timer"]["deadline"].as_str().unwrap_or_default();
                    let due = e.detail["timer"]["due"]
                        .as_str()
                        .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
                    if let Some(due) = due {
                        missed.insert((kind.to_string(), due.timestamp_millis()));
                        stated.insert((kind.to_string(), due.timestamp_millis()), ());
                    }
                }
            }
            for (key, ()) in stated {
                let due = key.1;
                if missed.contains(&key) {
                    s.deadlines_missed += 1;
                } else if responded.is_some_and(|r| r.timestamp_millis() <= due) {
                    s.deadlines_met += 1;
                } else if due < now.timestamp_millis() {
                    s.deadlines_missed += 1;
                } else {
                    s.deadlines_pending += 1;
                }
            }
        }
        Ok(by_dept)
    }

    /// Recounts `yuqing_cases_open{grade}` from the store (called after every change).
    pub async fn refresh_metrics(&self) {
        let rows = sqlx::query(
            "SELECT grade, COUNT(*) AS n FROM cases WHERE state <> 'closed' GROUP BY grade",
        )
        .fetch_all(self.store.pool())
        .await;
        match rows {
            Ok(rows) => {
                let mut counts: BTreeMap<String, i64> = BTreeMap::new();
                for r in rows {
                    if let (Ok(g), Ok(n)) =
                        (r.try_get::<String, _>("grade"), r.try_get::<i64, _>("n"))
                    {
                        counts.insert(g, n);
                    }
                }
                for g in Grade::ALL {
                    metrics::OPEN
                        .with_label_values(&[g.as_str()])
                        .set(counts.get(g.as_str()).copied().unwrap_or(0));
                }
            }
            Err(e) => warn!(error = %e, "Counting open cases failed."),
        }
    }
}

/// Milliseconds between two steps (never negative).
fn elapsed(ms: i64) -> i64 {
    ms.max(0)
}

/// The accountability figures of one group of cases: the counts, and the raw durations
/// (milliseconds) behind the [`Minutes`] of the API and the seconds of the metrics.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) stats: DepartmentStats,
    pub(crate) to_alert: Vec<i64>,
    pub(crate) to_accept: Vec<i64>,
    pub(crate) to_response: Vec<i64>,
}

impl Tally {
    fn into_stats(self) -> DepartmentStats {
        let minutes =
            |v: Vec<i64>| Minutes::of(v.into_iter().map(|ms| ms as f64 / 60_000.0).collect());
        DepartmentStats {
            to_alert: minutes(self.to_alert),
            to_accept: minutes(self.to_accept),
            to_response: minutes(self.to_response),
            ..self.stats
        }
    }
}

fn actor_department(case: &Case) -> Option<String> {
    case.responsible().map(str::to_string)
}

fn is_busy(e: &sqlx::Error) -> bool {
    let s = e.to_string();
    s.contains("database is locked") || s.contains("busy")
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn illegal(case: &Case, action: &'static str, from: CaseState, hint: &str) -> CaseError {
    CaseError::IllegalTransition {
        case_id: case.case_id.clone(),
        action,
        from,
        hint: hint.to_string(),
    }
}

/// Trims and checks a free-text field.
fn clean(field: &'static str, s: &str, max_chars: usize) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(CaseError::invalid(field, "must not be empty"));
    }
    if t.chars().count() > max_chars {
        return Err(CaseError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(CaseError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(t.to_string())
}

fn clean_link(l: &str) -> Result<String> {
    let t = clean("link", l, 2000)?;
    let lower = t.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://"))
        || t.contains(char::is_whitespace)
    {
        return Err(CaseError::invalid("link", "must be an http or https URL"));
    }
    Ok(t)
}

/// Who may do what.
fn authorize(actor: &Actor, action: &'static str, case: &Case) -> Result<()> {
    let deny = |why: &str| CaseError::Forbidden {
        case_id: case.case_id.clone(),
        actor: actor.name.clone(),
        role: actor.role,
        action,
        why: why.to_string(),
    };
    match actor.role {
        Role::DutyOfficer => Ok(()),
        Role::Viewer => Err(deny("a viewer (只读) changes nothing")),
        Role::System => Err(deny("the system only applies alerts")),
        Role::Department => match action {
            "feedback" | "respond" | "note" => {
                let own = actor.department.is_some() && actor.department == case.assigned_to;
                if own {
                    Ok(())
                } else {
                    Err(deny("the case is not assigned to the user's department"))
                }
            }
            _ => Err(deny("only the duty room (值班员) may do this")),
        },
    }
}

fn alert_detail(alert: &Alert) -> Value {
    let mut d = json!({
        "kind": alert.kind.as_str(),
        "kind_label": alert.kind.label(),
        "grade": alert.grade.as_str(),
        "at": alert.at.to_rfc3339(),
        "rule": alert.rule,
        "deadlines": alert.deadlines,
        "reasons": alert.reasons.iter().take(6).map(|r| r.evidence.clone()).collect::<Vec<_>>(),
    });
    if let Some(p) = alert.previous_grade {
        d["previous_grade"] = Value::String(p.as_str().to_string());
    }
    if let Some(t) = alert.extra.get("timer") {
        d["timer"] = t.clone();
    }
    if let Some(r) = alert.extra.get("route") {
        d["route"] = r.clone();
    }
    d
}

#[allow(clippy::too_many_arguments)]
async fn insert_audit(
    tx: &mut Transaction<'_, Any>,
    case_id: &str,
    at: DateTime<FixedOffset>,
    actor: &Actor,
    action: &str,
    from: Option<CaseState>,
    to: Option<CaseState>,
    department: Option<&str>,
    detail: &Value,
    alert_id: Option<&str>,
) -> Result<bool> {
    let res = sqlx::query(
        "INSERT INTO case_audit (case_id, at_ms, actor, role, action, from_state, to_state, department, detail, alert_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (case_id, alert_id) DO NOTHING",
    )
    .bind(case_id)
    .bind(at.timestamp_millis())
    .bind(&actor.name)
    .bind(actor.role.as_str())
    .bind(action)
    .bind(from.map(|s| s.as_str().to_string()))
    .bind(to.map(|s| s.as_str().to_string()))
    .bind(department.map(str::to_string))
    .bind(detail.to_string())
    .bind(alert_id.map(str::to_string))
    .execute(&mut **tx)
    .await?;
    Ok(res.rows_affected() == 1)
}

async fn update_case(
    tx: &mut Transaction<'_, Any>,
    case: &Case,
    to: CaseState,
    now: DateTime<FixedOffset>,
    sets: Vec<(&'static str, Val)>,
) -> Result<()> {
    let mut sql =
        String::from("UPDATE cases SET state = $1, updated_ms = $2, version = version + 1");
    for (i, (col, _)) in sets.iter().enumerate() {
        sql.push_str(&format!(", {col} = ${}", i + 3));
    }
    let n = sets.len() + 3;
    sql.push_str(&format!(" WHERE case_id = ${n} AND version = ${}", n + 1));
    let mut q = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(now.timestamp_millis());
    for (_, v) in sets {
        q = match v {
            Val::I(x) => q.bind(x),
            Val::S(x) => q.bind(x),
        };
    }
    let res = q
        .bind(&case.case_id)
        .bind(case.version)
        .execute(&mut **tx)
        .await?;
    if res.rows_affected() != 1 {
        return Err(CaseError::Conflict(case.case_id.clone()));
    }
    Ok(())
}

async fn find_case(tx: &mut Transaction<'_, Any>, id: &str) -> Result<Option<Case>> {
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE case_id = $1 OR event_id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(case_from_row).transpose()
}

async fn load_case(tx: &mut Transaction<'_, Any>, case_id: &str) -> Result<Case> {
    find_case(tx, case_id)
        .await?
        .ok_or_else(|| CaseError::NotFound(case_id.to_string()))
}

fn case_from_row(r: &AnyRow) -> Result<Case> {
    let opt_time = |col: &str| -> Result<Option<DateTime<FixedOffset>>> {
        Ok(r.try_get::<Option<i64>, _>(col)?.map(to_time))
    };
    let grade: String = r.try_get("grade")?;
    let state: String = r.try_get("state")?;
    let deadlines: String = r.try_get("deadlines")?;
    let channel: Option<String> = r.try_get("response_channel")?;
    let responded = opt_time("responded_ms")?;
    let response = match (channel, responded) {
        (Some(c), Some(at)) => Some(Response {
            channel: Channel::parse(&c).unwrap_or(Channel::Other),
            link: r.try_get("response_link")?,
            at,
        }),
        _ => None,
    };
    Ok(Case {
        case_id: r.try_get("case_id")?,
        event_id: r.try_get("event_id")?,
        title: r.try_get("title")?,
        grade: Grade::parse(&grade).ok_or_else(|| corrupt("grade", &grade))?,
        state: CaseState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        department: r.try_get("department")?,
        region: r.try_get("region")?,
        assigned_to: r.try_get("assigned_to")?,
        url: r.try_get("url")?,
        first_seen: to_time(r.try_get("first_seen_ms")?),
        first_alert: to_time(r.try_get("first_alert_ms")?),
        opened: to_time(r.try_get("opened_ms")?),
        accepted: opt_time("accepted_ms")?,
        assigned: opt_time("assigned_ms")?,
        feedback_at: opt_time("feedback_ms")?,
        feedback: r.try_get("feedback")?,
        response,
        closed: opt_time("closed_ms")?,
        deadlines: serde_json::from_str(&deadlines).map_err(|e| corrupt("deadlines", e))?,
        reopened: r.try_get::<i64, _>("reopened")?.clamp(0, u32::MAX as i64) as u32,
        version: r.try_get("version")?,
    })
}

fn audit_from_row(r: &AnyRow) -> Result<AuditEntry> {
    let detail: String = r.try_get("detail")?;
    let role: String = r.try_get("role")?;
    let from: Option<String> = r.try_get("from_state")?;
    let to: Option<String> = r.try_get("to_state")?;
    Ok(AuditEntry {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        at: to_time(r.try_get("at_ms")?),
        actor: r.try_get("actor")?,
        role: Role::from_db(&role),
        action: r.try_get("action")?,
        from_state: from.as_deref().and_then(CaseState::parse),
        to_state: to.as_deref().and_then(CaseState::parse),
        department: r.try_get("department")?,
        detail: serde_json::from_str(&detail).map_err(|e| corrupt("audit detail", e))?,
        alert_id: r.try_get("alert_id")?,
    })
}
