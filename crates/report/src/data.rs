//! Reading what reports rest on, and the numbers computed from it: distinct items, case audit
//! logs, deadline outcomes and accountability per group. Nothing here invents a value: every
//! number comes from records in the store, and every record used is returned so that builders
//! can cite it.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use sqlx::Row;
use yuqing_cases::{
    AuditEntry, Case, CaseError, Cases, DepartmentStats, Minutes, Response, UNASSIGNED,
};
use yuqing_core::{Alert, AlertKind, Deadline, Event, Grade, Item, JudgedItem, Platform, Stage};
use yuqing_store::Store;

use crate::error::ReportError;
use crate::escape::gist;
use crate::model::{Evidence, EvidenceEntry};
use crate::render::time;

type Result<T, E = ReportError> = std::result::Result<T, E>;

/// At most this many item observations are read for one report; beyond it the report says that
/// it counted only part of the data.
pub const MAX_OBSERVATIONS: usize = 500_000;

/// The evidence of an item.
pub fn item_evidence(item: &Item) -> Evidence {
    Evidence::item(&item.source, &item.id)
}

/// Judged observations in `[from, to)`, in event time, paged through the store (at most
/// [`MAX_OBSERVATIONS`]; the flag says whether the cap cut the list).
pub async fn judged_in(
    store: &Store,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Result<(Vec<JudgedItem>, bool)> {
    let mut out: Vec<JudgedItem> = Vec::new();
    let mut cursor = from;
    let mut page: i64 = 5_000;
    // Keys already taken at the cursor's millisecond (pages overlap at their boundary).
    let mut boundary: HashSet<(String, i64)> = HashSet::new();
    loop {
        let batch = store.judged_between(cursor, to, page).await?;
        let n = batch.len();
        let Some(last) = batch.last() else { break };
        let last_t = last.item.observed_at;
        let last_ms = last_t.timestamp_millis();
        let cursor_ms = cursor.timestamp_millis();
        let mut at_last: HashSet<(String, i64)> = HashSet::new();
        for j in batch {
            let ms = j.item.observed_at.timestamp_millis();
            let k = (j.item.key(), ms);
            if ms == cursor_ms && boundary.contains(&k) {
                continue;
            }
            if ms == last_ms {
                at_last.insert(k);
            }
            out.push(j);
            if out.len() >= MAX_OBSERVATIONS {
                return Ok((out, true));
            }
        }
        if (n as i64) < page {
            break;
        }
        if last_ms == cursor_ms {
            // A whole page in one millisecond: read a larger page from the same place.
            boundary.extend(at_last);
            page = page.saturating_mul(2);
        } else {
            cursor = last_t;
            boundary = at_last;
        }
    }
    Ok((out, false))
}

/// The judged observations of an event (at most [`MAX_OBSERVATIONS`], with the flag).
pub async fn event_observations(store: &Store, event_id: &str) -> Result<(Vec<JudgedItem>, bool)> {
    let obs = store
        .items_of_event(event_id, MAX_OBSERVATIONS as i64 + 1)
        .await?;
    let cut = obs.len() > MAX_OBSERVATIONS;
    let mut obs = obs;
    obs.truncate(MAX_OBSERVATIONS);
    Ok((obs, cut))
}

/// One judged item per `source`/`id`: its latest observation (the latest counts), in order of
/// publication.
pub fn distinct_latest(obs: impl IntoIterator<Item = JudgedItem>) -> Vec<JudgedItem> {
    let mut by_key: HashMap<String, JudgedItem> = HashMap::new();
    for j in obs {
        let k = j.item.key();
        match by_key.get(&k) {
            Some(prev) if prev.item.observed_at > j.item.observed_at => {}
            _ => {
                by_key.insert(k, j);
            }
        }
    }
    let mut v: Vec<JudgedItem> = by_key.into_values().collect();
    v.sort_by(|a, b| {
        a.item
            .published_at
            .cmp(&b.item.published_at)
            .then_with(|| a.item.source.cmp(&b.item.source))
            .then_with(|| a.item.id.cmp(&b.item.id))
    });
    v
}

/// Interactions of an item as last observed: reposts + comments + likes.
pub fn interactions(item: &Item) -> u64 {
    let m = &item.metrics;
    m.reposts.unwrap_or(0) + m.comments.unwrap_or(0) + m.likes.unwrap_or(0)
}

/// What the source says about the author's kind: 政务 (official) or 媒体 (media); portals are
/// official by nature.
pub fn author_kind(item: &Item) -> Option<&'static str> {
    match item.extra.get("author_kind").and_then(|v| v.as_str()) {
        Some("official") => Some("政务账号"),
        Some("media") => Some("媒体"),
        _ if item.platform == Platform::Portal => Some("政务网站"),
        _ => None,
    }
}

/// The Chinese name of a platform.
pub fn platform_label(p: Platform) -> &'static str {
    match p {
        Platform::Portal => "政府网站",
        Platform::News => "新闻网站",
        Platform::Forum => "论坛贴吧",
        Platform::Weibo => "微博",
        Platform::Wechat => "微信公众号",
        Platform::Board => "网络问政",
        Platform::Hotline => "热线",
        Platform::Comment => "新闻跟帖",
        Platform::Other => "其他",
    }
}

/// `II 重大（橙色）`.
pub fn grade_text(g: Grade) -> String {
    format!("{} {}（{}）", g.as_str(), g.label(), g.colour())
}

/// `萌芽`, … from a stored stage name.
pub fn stage_label(s: &str) -> String {
    match s {
        "emerging" => Stage::Emerging.label().to_string(),
        "spreading" => Stage::Spreading.label().to_string(),
        "peak" => Stage::Peak.label().to_string(),
        "fading" => Stage::Fading.label().to_string(),
        other => other.to_string(),
    }
}

/// An integer with thousands grouping.
pub fn num(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The case of an event, when one was opened.
pub async fn case_of(cases: &Cases, id: &str) -> Result<Option<Case>> {
    match cases.show(id).await {
        Ok(c) => Ok(Some(c)),
        Err(CaseError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Ids of the cases with an audit entry in `[from, to)`.
///
/// The case workflow offers no query by time, so this reads the `case_audit` table (migration
/// `0002_cases`, indexed on `at_ms`) directly; the entries themselves are then read through
/// [`Cases::audit`].
pub async fn cases_active_between(
    store: &Store,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT case_id FROM case_audit WHERE at_ms >= $1 AND at_ms < $2 ORDER BY case_id",
    )
    .bind(from.timestamp_millis())
    .bind(to.timestamp_millis())
    .fetch_all(store.pool())
    .await
    .map_err(yuqing_store::StoreError::from)?;
    rows.iter()
        .map(|r| {
            r.try_get::<String, _>("case_id")
                .map_err(|e| ReportError::Store(e.into()))
        })
        .collect()
}

/// Every case first alerted in `[from, to)` (paged through [`Cases::list`]).
pub async fn cases_alerted_between(
    cases: &Cases,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Result<Vec<Case>> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = cases
            .list(&yuqing_cases::CaseFilter {
                from: Some(from),
                to: Some(to),
                limit: Some(1000),
                offset: Some(offset),
                ..Default::default()
            })
            .await?;
        let n = page.len();
        out.extend(page);
        if n < 1000 {
            break;
        }
        offset += 1000;
    }
    out.sort_by(|a, b| {
        a.first_alert
            .cmp(&b.first_alert)
            .then_with(|| a.case_id.cmp(&b.case_id))
    });
    Ok(out)
}

/// The outcome of one deadline of a case.
#[derive(Debug, Clone, PartialEq)]
pub enum DeadlineOutcome {
    /// A public response was published by the due time.
    Met {
        /// When the first response was published.
        at: DateTime<FixedOffset>,
    },
    /// An overdue alert declared it missed, or it passed with no response.
    Missed {
        /// Whether an overdue alert declared it (else it simply passed).
        declared: bool,
    },
    /// Not yet due.
    Pending,
}

impl DeadlineOutcome {
    /// 按时, 超时, 未到期.
    pub fn label(&self) -> &'static str {
        match self {
            DeadlineOutcome::Met { .. } => "按时",
            DeadlineOutcome::Missed { .. } => "超时",
            DeadlineOutcome::Pending => "未到期",
        }
    }
}

/// A deadline any alert of a case stated, and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadlineCheck {
    /// `first_release`, `press_conference`, `response`.
    pub kind: String,
    /// 首次权威发布, ….
    pub label: String,
    /// When it was due.
    pub due: DateTime<FixedOffset>,
    /// What became of it.
    pub outcome: DeadlineOutcome,
    /// The audit entries (alerts applied to the case, the response) behind the outcome.
    pub evidence: Vec<Evidence>,
}

/// The first public response recorded in an audit log (earliest publication time) and its entry.
pub fn first_response(audit: &[AuditEntry]) -> Option<(Response, &AuditEntry)> {
    audit
        .iter()
        .filter(|e| e.action == "respond")
        .filter_map(|e| {
            serde_json::from_value::<Response>(e.detail["response"].clone())
                .ok()
                .map(|r| (r, e))
        })
        .min_by_key(|(r, _)| r.at)
}

/// Every deadline stated for a case and its outcome at `now`, by the rules of
/// [`Cases::accountability`]: a deadline an overdue alert declared is missed; else it is met when
/// the first response came by the due time; else missed once past; else pending.
pub fn deadline_checks(
    case: &Case,
    audit: &[AuditEntry],
    now: DateTime<FixedOffset>,
) -> Vec<DeadlineCheck> {
    // (kind, due) → (label, due, evidence)
    type Stated = BTreeMap<(String, i64), (String, DateTime<FixedOffset>, Vec<Evidence>)>;
    let mut stated: Stated = BTreeMap::new();
    let mut missed: HashMap<(String, i64), Evidence> = HashMap::new();
    let mut labels: HashMap<String, String> = HashMap::new();
    let mut add =
        |kind: &str, label: Option<&str>, due: DateTime<FixedOffset>, ev: Option<Evidence>| {
            let e = stated
                .entry((kind.to_string(), due.timestamp_millis()))
                .or_insert_with(|| (label.unwrap_or(kind).to_string(), due, Vec::new()));
            if let Some(l) = label {
                e.0 = l.to_string();
            }
            // The first entry that stated it is its evidence (the overdue entry and the response
            // are added below).
            if let Some(ev) = ev {
                if e.2.is_empty() {
                    e.2.push(ev);
                }
            }
        };
    for d in &case.deadlines {
        add(&d.kind, Some(&d.label), d.due, None);
        labels.insert(d.kind.clone(), d.label.clone());
    }
    for e in audit.iter().filter(|e| e.alert_id.is_some()) {
        let ev = Evidence::audit(&e.case_id, e.id);
        if let Ok(ds) = serde_json::from_value::<Vec<Deadline>>(e.detail["deadlines"].clone()) {
            for d in ds {
                labels.insert(d.kind.clone(), d.label.clone());
                add(&d.kind, Some(&d.label), d.due, Some(ev.clone()));
            }
        }
        if e.detail["kind"] == "overdue" {
            let kind = e.detail["timer"]["deadline"].as_str().unwrap_or_default();
            let due = e.detail["timer"]["due"]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
            if let Some(due) = due {
                add(kind, None, due, Some(ev.clone()));
                missed.insert((kind.to_string(), due.timestamp_millis()), ev);
            }
        }
    }
    let response = first_response(audit);
    stated
        .into_iter()
        .map(|((kind, due_ms), (label, due, mut evidence))| {
            let label = if label == kind {
                labels.get(&kind).cloned().unwrap_or(label)
            } else {
                label
            };
            let outcome = if let Some(ev) = missed.get(&(kind.clone(), due_ms)) {
                if !evidence.contains(ev) {
                    evidence.push(ev.clone());
                }
                DeadlineOutcome::Missed { declared: true }
            } else if let Some((r, entry)) = response
                .as_ref()
                .filter(|(r, _)| r.at.timestamp_millis() <= due_ms)
            {
                evidence.push(Evidence::audit(&entry.case_id, entry.id));
                DeadlineOutcome::Met { at: r.at }
            } else if due_ms < now.timestamp_millis() {
                DeadlineOutcome::Missed { declared: false }
            } else {
                DeadlineOutcome::Pending
            };
            DeadlineCheck {
                kind,
                label,
                due,
                outcome,
                evidence,
            }
        })
        .collect()
}

/// The department a case counts for: the last department it was assigned to, else the owner
/// the analysis named, else 未指定 (as [`Cases::accountability`] counts).
pub fn responsible_department(case: &Case, audit: &[AuditEntry]) -> String {
    audit
        .iter()
        .rev()
        .find(|e| e.action == "assign" || e.action == "reassign")
        .and_then(|e| e.department.clone())
        .or_else(|| case.department.clone())
        .unwrap_or_else(|| UNASSIGNED.to_string())
}

/// The place a case counts for (属地): its region, else 未指定.
pub fn place(case: &Case) -> String {
    case.region
        .clone()
        .unwrap_or_else(|| UNASSIGNED.to_string())
}

fn minutes(ms: i64) -> f64 {
    ms.max(0) as f64 / 60_000.0
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Mean, median and longest of a list of minutes (rounded to 0.1, as the case workflow does).
pub fn minutes_of(mut v: Vec<f64>) -> Minutes {
    if v.is_empty() {
        return Minutes::default();
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Minutes {
        count: n as u64,
        mean: Some(round1(v.iter().sum::<f64>() / n as f64)),
        median: Some(round1(median)),
        max: Some(round1(v[n - 1])),
    }
}

/// A case and its audit log.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    /// The case.
    pub case: Case,
    /// Its audit log, oldest first.
    pub audit: Vec<AuditEntry>,
}

/// Accountability of one group (a department or a place) with the records behind each number.
#[derive(Debug, Clone, Default)]
pub struct GroupStats {
    /// The numbers, computed by the rules of [`Cases::accountability`] (`department` holds the
    /// group's name).
    pub stats: DepartmentStats,
    /// The cases counted.
    pub cases: Vec<Evidence>,
    /// 迟报: accepted late — the acceptance entries.
    pub late: Vec<Evidence>,
    /// 漏报: not acted on — the cases.
    pub not_acted_on: Vec<Evidence>,
    /// Missed deadlines: the case, the deadline and its evidence.
    pub missed: Vec<(String, DeadlineCheck)>,
    /// The response entries (回应).
    pub responses: Vec<Evidence>,
}

/// Accountability per group of `records`, keyed by `group` (sorted by group name).
pub fn group_stats(
    records: &[CaseRecord],
    accept_within: std::time::Duration,
    now: DateTime<FixedOffset>,
    group: impl Fn(&CaseRecord) -> String,
) -> Vec<GroupStats> {
    struct Acc {
        g: GroupStats,
        to_alert: Vec<f64>,
        to_accept: Vec<f64>,
        to_response: Vec<f64>,
    }
    let accept_ms = accept_within.as_millis() as i64;
    let mut by: BTreeMap<String, Acc> = BTreeMap::new();
    for rec in records {
        let case = &rec.case;
        let name = group(rec);
        let acc = by.entry(name.clone()).or_insert_with(|| Acc {
            g: GroupStats {
                stats: DepartmentStats {
                    department: name,
                    ..DepartmentStats::default()
                },
                ..GroupStats::default()
            },
            to_alert: Vec::new(),
            to_accept: Vec::new(),
            to_response: Vec::new(),
        });
        let g = &mut acc.g;
        let s = &mut g.stats;
        s.cases += 1;
        g.cases.push(Evidence::case(&case.case_id));
        *s.by_grade
            .entry(case.grade.as_str().to_string())
            .or_default() += 1;
        let alert_ms = case.first_alert.timestamp_millis();
        acc.to_alert
            .push(minutes(alert_ms - case.first_seen.timestamp_millis()));
        match rec.audit.iter().find(|e| e.action == "accept") {
            Some(e) => {
                s.accepted += 1;
                let lag = e.at.timestamp_millis() - alert_ms;
                acc.to_accept.push(minutes(lag));
                if lag > accept_ms {
                    s.late_accepted += 1;
                    g.late.push(Evidence::audit(&e.case_id, e.id));
                }
            }
            None => {
                if now.timestamp_millis() - alert_ms > accept_ms {
                    s.not_acted_on += 1;
                    g.not_acted_on.push(Evidence::case(&case.case_id));
                }
            }
        }
        if let Some((r, e)) = first_response(&rec.audit) {
            s.responded += 1;
            acc.to_response
                .push(minutes(r.at.timestamp_millis() - alert_ms));
            g.responses.push(Evidence::audit(&e.case_id, e.id));
        }
        if case.state == yuqing_cases::CaseState::Closed {
            s.closed += 1;
        }
        if case.reopened > 0 {
            s.reopened += 1;
        }
        for d in deadline_checks(case, &rec.audit, now) {
            match d.outcome {
                DeadlineOutcome::Met { .. } => s.deadlines_met += 1,
                DeadlineOutcome::Missed { .. } => {
                    s.deadlines_missed += 1;
                    g.missed.push((case.case_id.clone(), d));
                }
                DeadlineOutcome::Pending => s.deadlines_pending += 1,
            }
        }
    }
    by.into_values()
        .map(|mut a| {
            a.g.stats.to_alert = minutes_of(a.to_alert);
            a.g.stats.to_accept = minutes_of(a.to_accept);
            a.g.stats.to_response = minutes_of(a.to_response);
            a.g
        })
        .collect()
}

/// Minutes as "均 12.5 / 中位 10 / 最长 30 分钟".
pub fn minutes_text(m: &Minutes) -> String {
    match (m.mean, m.median, m.max) {
        (Some(a), Some(b), Some(c)) => {
            format!("均 {} / 中位 {} / 最长 {} 分钟", trim(a), trim(b), trim(c))
        }
        _ => "—".to_string(),
    }
}

fn trim(v: f64) -> String {
    if v == v.trunc() {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// What an audit entry did, in words (user text — facts, notes, reasons — quoted as recorded).
pub fn audit_text(e: &AuditEntry, tz: FixedOffset) -> String {
    let d = &e.detail;
    let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
    match e.action.as_str() {
        "opened" => format!("预警立案：{} {} 级", s("kind_label"), s("grade")),
        "alert" => {
            let mut t = format!("预警：{} {} 级", s("kind_label"), s("grade"));
            if d["kind"] == "overdue" {
                if let Some(dl) = d["timer"]["deadline"].as_str() {
                    t.push_str(&format!("（时限 {dl} 已过）"));
                }
            }
            t
        }
        "accept" => "受理".to_string(),
        "assign" => format!("转办至 {}", s("department")),
        "reassign" => format!(
            "改派至 {}（原 {}；理由：{}）",
            s("department"),
            d["previous"].as_str().unwrap_or("—"),
            s("reason")
        ),
        "feedback" => format!("部门反馈：{}", s("facts")),
        "respond" => match serde_json::from_value::<Response>(d["response"].clone()) {
            Ok(r) => format!(
                "记录公开回应：{}，发布于 {}{}",
                r.channel.label(),
                time(r.at.with_timezone(&tz)),
                r.link.map(|l| format!("，链接 {l}")).unwrap_or_default()
            ),
            Err(_) => "记录公开回应".to_string(),
        },
        "close" => match d["note"].as_str() {
            Some(n) => format!("办结（说明：{n}）"),
            None => "办结".to_string(),
        },
        "note" => format!("备注：{}", s("text")),
        "reopened" => format!("重新受理：{}", s("reason")),
        other => other.to_string(),
    }
}

/// Collects appendix entries for the evidence a builder cites.
#[derive(Debug)]
pub struct Appendix {
    tz: FixedOffset,
    entries: HashMap<Evidence, EvidenceEntry>,
}

impl Appendix {
    /// An empty appendix whose times are written in `tz`.
    pub fn new(tz: FixedOffset) -> Appendix {
        Appendix {
            tz,
            entries: HashMap::new(),
        }
    }

    fn put(
        &mut self,
        evidence: Evidence,
        at: Option<DateTime<FixedOffset>>,
        description: String,
        url: Option<String>,
    ) -> Evidence {
        let tz = self.tz;
        self.entries
            .entry(evidence.clone())
            .or_insert(EvidenceEntry {
                evidence: evidence.clone(),
                at: at.map(|t| t.with_timezone(&tz)),
                description,
                url,
            });
        evidence
    }

    /// Registers an item; returns its evidence.
    pub fn item(&mut self, j: &JudgedItem) -> Evidence {
        let i = &j.item;
        let mut d = platform_label(i.platform).to_string();
        if let Some(k) = author_kind(i) {
            d.push_str(&format!(" · {k}"));
        }
        if let Some(a) = &i.author {
            d.push_str(&format!(" · 作者（来源所载）：{a}"));
        }
        let body = match i.title.as_deref().filter(|t| !t.trim().is_empty()) {
            Some(t) => gist(t, 60),
            None => gist(&i.text, 60),
        };
        d.push_str(&format!(" · 「{body}」"));
        if let Some(ev) = &j.analysis.event_id {
            d.push_str(&format!(" · 事件 {ev}"));
        }
        self.put(item_evidence(i), Some(i.published_at), d, i.url.clone())
    }

    /// Registers an event.
    pub fn event(&mut self, e: &Event) -> Evidence {
        let d = format!(
            "「{}」 首次发现 {}，首发来源 {}",
            gist(&e.title, 60),
            time(e.first_seen.with_timezone(&self.tz)),
            e.first_source
        );
        self.put(
            Evidence::event(&e.event_id),
            Some(e.first_seen),
            d,
            e.first_url.clone(),
        )
    }

    /// Registers an alert.
    pub fn alert(&mut self, a: &Alert) -> Evidence {
        let d = format!(
            "{}（{}），{}，规则 {}，事件 {}",
            a.kind.label(),
            a.kind.as_str(),
            grade_text(a.grade),
            a.rule,
            a.event_id
        );
        self.put(Evidence::alert(&a.alert_id), Some(a.at), d, None)
    }

    /// Registers a case.
    pub fn case(&mut self, c: &Case) -> Evidence {
        let d = format!(
            "「{}」 {}，{}，事件 {}",
            gist(&c.title, 60),
            grade_text(c.grade),
            c.state.label(),
            c.event_id
        );
        self.put(Evidence::case(&c.case_id), Some(c.first_alert), d, None)
    }

    /// Registers an audit entry.
    pub fn audit(&mut self, e: &AuditEntry) -> Evidence {
        let mut d = format!(
            "案件 {} · {}（{}） · {}",
            e.case_id,
            e.actor,
            e.role.label(),
            e.action
        );
        if let Some(a) = &e.alert_id {
            d.push_str(&format!(" · 预警 {a}"));
        }
        d.push_str(&format!(" · {}", gist(&audit_text(e, self.tz), 80)));
        self.put(Evidence::audit(&e.case_id, e.id), Some(e.at), d, None)
    }

    /// True when the evidence is registered.
    pub fn has(&self, e: &Evidence) -> bool {
        self.entries.contains_key(e)
    }

    /// The entries of the evidence `cited` (in that order); evidence never registered is listed
    /// with what its id says.
    pub fn finish(mut self, cited: &[Evidence]) -> Vec<EvidenceEntry> {
        let mut out = Vec::with_capacity(cited.len());
        for e in cited {
            if let Some(entry) = self.entries.remove(e) {
                out.push(entry);
            }
        }
        out
    }
}

/// The order alert kinds are listed in.
pub fn kind_rank(k: AlertKind) -> u8 {
    match k {
        AlertKind::New => 0,
        AlertKind::Escalated => 1,
        AlertKind::Flared => 2,
        AlertKind::Overdue => 3,
        AlertKind::Reminder => 4,
        AlertKind::Calmed => 5,
        AlertKind::SourceHealth => 6,
    }
}

/// The order audit actions are listed in (the workflow's).
pub fn action_rank(a: &str) -> u8 {
    match a {
        "opened" => 0,
        "alert" => 1,
        "accept" => 2,
        "assign" => 3,
        "reassign" => 4,
        "feedback" => 5,
        "respond" => 6,
        "close" => 7,
        "reopened" => 8,
        "note" => 9,
        _ => 10,
    }
}

/// The alert that first reached the highest grade of a list, at or before `until`.
pub fn top_alert(alerts: &[Alert], until: DateTime<FixedOffset>) -> Option<&Alert> {
    alerts
        .iter()
        .filter(|a| a.at <= until && a.kind != AlertKind::SourceHealth)
        .max_by(|a, b| a.grade.cmp(&b.grade).then(b.at.cmp(&a.at)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_group_by_thousands() {
        assert_eq!(num(0), "0");
        assert_eq!(num(999), "999");
        assert_eq!(num(1_000), "1,000");
        assert_eq!(num(1_234_567), "1,234,567");
    }

    #[test]
    fn minutes_match_the_case_workflow_rounding() {
        let m = minutes_of(vec![30.0, 10.0, 20.05, 5.0]);
        assert_eq!(m.count, 4);
        assert_eq!(m.median, Some(15.0));
        assert_eq!(m.max, Some(30.0));
        assert_eq!(m.mean, Some(16.3));
        assert_eq!(minutes_of(vec![]), Minutes::default());
        assert_eq!(minutes_text(&m), "均 16.3 / 中位 15 / 最长 30 分钟");
    }
}
