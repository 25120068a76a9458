//! 网络舆情日志: one day's events with their grades, owners and status, the day's alerts,
//! handling steps and deadlines.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use yuqing_cases::{AuditEntry, Case, Cases};
use yuqing_core::{Alert, AlertKind, Event, JudgedItem, Platform};
use yuqing_store::Store;

use crate::builder::{finish, Ctx};
use crate::data::{
    self, case_of, deadline_checks, grade_text, interactions, num, platform_label, stage_label,
    top_alert, Appendix, DeadlineOutcome,
};
use crate::error::ReportError;
use crate::escape::gist;
use crate::model::{Block, Evidence, Period, Report, ReportKind, Row, Section, Table};

type Result<T, E = ReportError> = std::result::Result<T, E>;

/// At most this many events without a warning are listed by name.
const OTHER_EVENTS_LISTED: usize = 30;

/// The day `[00:00, 24:00)` of `date` in `tz`.
pub fn day_bounds(
    date: NaiveDate,
    tz: FixedOffset,
) -> Result<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    let start = date
        .and_hms_opt(0, 0, 0)
        .and_then(|d| tz.from_local_datetime(&d).single())
        .ok_or_else(|| {
            ReportError::invalid("date", format!("{date} has no midnight in UTC{tz}"))
        })?;
    let end = start
        .checked_add_signed(Duration::days(1))
        .ok_or_else(|| ReportError::invalid("date", format!("{date} is out of range")))?;
    Ok((start, end))
}

#[derive(Default)]
struct DayItems<'a> {
    keys: HashSet<String>,
    observations: usize,
    latest: HashMap<String, &'a JudgedItem>,
    platforms: BTreeSet<Platform>,
    first: Option<DateTime<FixedOffset>>,
}

impl<'a> DayItems<'a> {
    fn add(&mut self, j: &'a JudgedItem) {
        let k = j.item.key();
        self.observations += 1;
        self.platforms.insert(j.item.platform);
        self.first = Some(
            self.first
                .map_or(j.item.observed_at, |f| f.min(j.item.observed_at)),
        );
        match self.latest.get(&k) {
            Some(prev) if prev.item.observed_at > j.item.observed_at => {}
            _ => {
                self.latest.insert(k.clone(), j);
            }
        }
        self.keys.insert(k);
    }

    /// The items with the most interactions (then the earliest), at most `n`.
    fn top(&self, n: usize) -> Vec<&'a JudgedItem> {
        let mut v: Vec<&JudgedItem> = self.latest.values().copied().collect();
        v.sort_by(|a, b| {
            interactions(&b.item)
                .cmp(&interactions(&a.item))
                .then(a.item.published_at.cmp(&b.item.published_at))
                .then(a.item.key().cmp(&b.item.key()))
        });
        v.truncate(n);
        v
    }
}

struct Graded {
    event: Event,
    alerts: Vec<Alert>,
    case: Option<Case>,
    audit: Vec<AuditEntry>,
    point: Option<yuqing_store::SpreadPoint>,
}

/// Builds the 网络舆情日志 of `date` (midnight to midnight in `tz`; up to now when the day is
/// still running).
pub async fn daily(
    store: &Store,
    cases: &Cases,
    date: NaiveDate,
    tz: FixedOffset,
) -> Result<Report> {
    let ctx = Ctx::new(cases, tz);
    let (from, to) = day_bounds(date, tz)?;
    if ctx.now < from {
        return Err(ReportError::invalid(
            "date",
            format!("{date} has not begun (now is {})", ctx.t(ctx.now)),
        ));
    }
    let cutoff = to.min(ctx.now);
    let (obs, truncated) = data::judged_in(store, from, cutoff).await?;
    let mut by_event: BTreeMap<String, DayItems> = BTreeMap::new();
    let mut unassigned = DayItems::default();
    let mut all = DayItems::default();
    for j in &obs {
        all.add(j);
        match &j.analysis.event_id {
            Some(e) => by_event.entry(e.clone()).or_default().add(j),
            None => unassigned.add(j),
        }
    }
    let day_alerts: Vec<Alert> = store
        .alerts_between(from, cutoff)
        .await?
        .into_iter()
        .filter(|a| a.kind != AlertKind::SourceHealth)
        .collect();
    let mut event_ids: BTreeSet<String> = by_event.keys().cloned().collect();
    event_ids.extend(day_alerts.iter().map(|a| a.event_id.clone()));
    let active_cases = data::cases_active_between(store, from, cutoff).await?;
    let mut case_logs: BTreeMap<String, (Case, Vec<AuditEntry>)> = BTreeMap::new();
    for id in &active_cases {
        if let Some(c) = case_of(cases, id).await? {
            let audit = cases.audit(&c.case_id).await?;
            event_ids.insert(c.event_id.clone());
            case_logs.insert(c.event_id.clone(), (c, audit));
        }
    }

    let mut app = Appendix::new(tz);
    let mut graded: Vec<Graded> = Vec::new();
    let mut others: Vec<(Event, &DayItems)> = Vec::new();
    let empty = DayItems::default();
    for id in &event_ids {
        let Some(event) = store.event(id).await? else {
            tracing::debug!(event = %id, "Event of the day not stored; listed by its items only.");
            continue;
        };
        let case = match case_logs.remove(id) {
            Some(c) => Some(c),
            None => match case_of(cases, id).await? {
                Some(c) if c.first_alert <= cutoff => {
                    let audit = cases.audit(&c.case_id).await?;
                    Some((c, audit))
                }
                _ => None,
            },
        };
        let alerts: Vec<Alert> = store
            .alerts_of_event(id)
            .await?
            .into_iter()
            .filter(|a| a.at <= cutoff)
            .collect();
        if alerts.is_empty() && case.is_none() {
            others.push((event, by_event.get(id).unwrap_or(&empty)));
            continue;
        }
        let point = store
            .spread(id)
            .await?
            .into_iter()
            .rev()
            .find(|p| p.at <= cutoff);
        let (case, audit) = match case {
            Some((c, a)) => (Some(c), a),
            None => (None, Vec::new()),
        };
        graded.push(Graded {
            event,
            alerts,
            case,
            audit,
            point,
        });
    }
    graded.sort_by(|a, b| {
        let ga = top_alert(&a.alerts, cutoff).map(|x| x.grade);
        let gb = top_alert(&b.alerts, cutoff).map(|x| x.grade);
        gb.cmp(&ga)
            .then(a.event.first_seen.cmp(&b.event.first_seen))
    });
    others.sort_by(|a, b| {
        b.1.keys
            .len()
            .cmp(&a.1.keys.len())
            .then(a.0.first_seen.cmp(&b.0.first_seen))
    });

    let mut sections = Vec::new();

    // 一、概况
    let mut s = Section::new("概况");
    let graded_ev: Vec<Evidence> = graded.iter().map(|g| app.event(&g.event)).collect();
    let mut all_ev = graded_ev.clone();
    for (e, _) in &others {
        all_ev.push(app.event(e));
    }
    s.text(
        format!(
            "{}（{} 至 {}）共监测到信息 {} 条（{} 次观测），分属 {} 个事件，其中预警事件 {} 个{}。",
            date.format("%Y年%m月%d日"),
            ctx.t(from),
            ctx.t(cutoff),
            num(all.keys.len() as u64),
            num(all.observations as u64),
            num(by_event.len() as u64),
            graded.len(),
            if unassigned.keys.is_empty() {
                String::new()
            } else {
                format!(
                    "，另有 {} 条信息未归入事件",
                    num(unassigned.keys.len() as u64)
                )
            }
        ),
        all_ev,
    );
    if !day_alerts.is_empty() {
        let mut kinds: BTreeMap<(u8, &str), usize> = BTreeMap::new();
        for a in &day_alerts {
            *kinds
                .entry((data::kind_rank(a.kind), a.kind.label()))
                .or_default() += 1;
        }
        let parts: Vec<String> = kinds
            .iter()
            .map(|((_, k), n)| format!("{k} {n} 条"))
            .collect();
        let ev: Vec<Evidence> = day_alerts.iter().map(|a| app.alert(a)).collect();
        s.text(
            format!(
                "当日发出预警 {} 条：{}。",
                day_alerts.len(),
                parts.join("、")
            ),
            ev,
        );
    } else {
        s.text("当日未发出预警。", graded_ev.clone());
    }
    let mut by_grade: BTreeMap<std::cmp::Reverse<yuqing_core::Grade>, Vec<Evidence>> =
        BTreeMap::new();
    for g in &graded {
        if let Some(a) = top_alert(&g.alerts, cutoff) {
            by_grade
                .entry(std::cmp::Reverse(a.grade))
                .or_default()
                .push(Evidence::event(&g.event.event_id));
        }
    }
    if !by_grade.is_empty() {
        let parts: Vec<String> = by_grade
            .iter()
            .map(|(g, v)| format!("{} 级 {} 个", g.0.as_str(), v.len()))
            .collect();
        s.text(
            format!("预警事件按等级：{}。", parts.join("、")),
            by_grade.into_values().flatten().collect(),
        );
    }
    let day_audit: Vec<&AuditEntry> = graded
        .iter()
        .flat_map(|g| g.audit.iter())
        .filter(|e| e.at >= from && e.at < cutoff && e.alert_id.is_none())
        .collect();
    if !day_audit.is_empty() {
        let mut acts: BTreeMap<(u8, &str), usize> = BTreeMap::new();
        for e in &day_audit {
            *acts
                .entry((data::action_rank(&e.action), action_label(&e.action)))
                .or_default() += 1;
        }
        let parts: Vec<String> = acts
            .iter()
            .map(|((_, k), n)| format!("{k} {n} 次"))
            .collect();
        let ev: Vec<Evidence> = day_audit.iter().map(|e| app.audit(e)).collect();
        s.text(
            format!(
                "当日处置记录 {} 条：{}。",
                day_audit.len(),
                parts.join("、")
            ),
            ev,
        );
    }
    if truncated {
        s.text(
            format!(
                "注意：当日观测记录超过 {} 条，本日志只统计了前 {} 条。",
                num(data::MAX_OBSERVATIONS as u64),
                num(obs.len() as u64)
            ),
            graded_ev.clone(),
        );
    }
    sections.push(s);

    // 二、预警事件
    let mut s = Section::new("预警事件");
    if graded.is_empty() {
        s.text("当日无预警事件。", Vec::new());
    } else {
        let rows = graded
            .iter()
            .map(|g| {
                let mut evidence = vec![app.event(&g.event)];
                let top = top_alert(&g.alerts, cutoff);
                if let Some(a) = top {
                    evidence.push(app.alert(a));
                }
                let day = by_event.get(&g.event.event_id);
                if let Some(d) = day {
                    for j in d.top(1) {
                        evidence.push(app.item(j));
                    }
                }
                let (owner, state) = match &g.case {
                    Some(c) => {
                        evidence.push(app.case(c));
                        let last = g
                            .audit
                            .iter()
                            .rev()
                            .find(|e| e.at < cutoff && e.to_state.is_some());
                        if let Some(e) = last {
                            evidence.push(app.audit(e));
                        }
                        let owner = g
                            .audit
                            .iter()
                            .rev()
                            .find(|e| {
                                e.at < cutoff && (e.action == "assign" || e.action == "reassign")
                            })
                            .and_then(|e| e.department.clone())
                            .or_else(|| c.department.clone())
                            .unwrap_or_else(|| yuqing_cases::UNASSIGNED.to_string());
                        let state = last
                            .and_then(|e| e.to_state)
                            .map(|s| s.label().to_string())
                            .unwrap_or_else(|| "未立案".into());
                        (owner, state)
                    }
                    None => (
                        g.event
                            .department
                            .clone()
                            .unwrap_or_else(|| yuqing_cases::UNASSIGNED.to_string()),
                        "未立案".to_string(),
                    ),
                };
                let cumulative = match &g.point {
                    Some(p) => format!(
                        "帖文 {} / 转发 {} / 评论 {}",
                        num(p.items.max(0) as u64),
                        num(p.reposts.max(0) as u64),
                        num(p.comments.max(0) as u64)
                    ),
                    None => "—".into(),
                };
                Row {
                    cells: vec![
                        gist(&g.event.title, 40),
                        top.map(|a| grade_text(a.grade))
                            .unwrap_or_else(|| "—".into()),
                        g.point
                            .as_ref()
                            .map(|p| stage_label(&p.stage))
                            .unwrap_or_else(|| g.event.stage.label().to_string()),
                        num(day.map_or(0, |d| d.keys.len()) as u64),
                        cumulative,
                        owner,
                        g.event.region.clone().unwrap_or_else(|| "—".into()),
                        state,
                        ctx.t(g.event.first_seen),
                    ],
                    evidence,
                }
            })
            .collect();
        s.push(Block::Table(Table {
            columns: vec![
                "事件".into(),
                "等级".into(),
                "阶段".into(),
                "当日信息".into(),
                "累计（截至日终）".into(),
                "责任单位".into(),
                "属地".into(),
                "状态".into(),
                "首次发现".into(),
            ],
            rows,
        }));
        s.note("等级为截至日终的最高预警等级；状态、责任单位取截至日终的案件审计记录（责任单位为最后转办的单位，未转办时为研判的主管单位）；累计数取截至日终最近一次事件快照。");
    }
    sections.push(s);

    // 三、预警记录
    let mut s = Section::new("预警记录");
    if day_alerts.is_empty() {
        s.text("当日未发出预警。", Vec::new());
    } else {
        let rows = day_alerts
            .iter()
            .map(|a| Row {
                cells: vec![
                    ctx.t(a.at),
                    a.kind.label().to_string(),
                    grade_text(a.grade),
                    gist(&a.title, 40),
                    a.rule.clone(),
                    a.deadlines
                        .iter()
                        .map(|d| format!("{} {}", d.label, ctx.t(d.due)))
                        .collect::<Vec<_>>()
                        .join("；"),
                ],
                evidence: vec![app.alert(a), Evidence::event(&a.event_id)],
            })
            .collect();
        for a in &day_alerts {
            if let Some(g) = graded.iter().find(|g| g.event.event_id == a.event_id) {
                app.event(&g.event);
            }
        }
        s.push(Block::Table(Table {
            columns: vec![
                "时间".into(),
                "类型".into(),
                "等级".into(),
                "事件".into(),
                "规则".into(),
                "时限".into(),
            ],
            rows,
        }));
    }
    sections.push(s);

    // 四、处置记录
    let mut s = Section::new("处置记录");
    if day_audit.is_empty() {
        s.text("当日无处置记录。", Vec::new());
    } else {
        let mut entries = day_audit.clone();
        entries.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
        let rows = entries
            .iter()
            .map(|e| {
                let title = graded
                    .iter()
                    .find(|g| g.case.as_ref().is_some_and(|c| c.case_id == e.case_id))
                    .map(|g| gist(&g.event.title, 30))
                    .unwrap_or_default();
                Row {
                    cells: vec![
                        ctx.t(e.at),
                        title,
                        format!("{}（{}）", e.actor, e.role.label()),
                        gist(&data::audit_text(e, tz), 160),
                    ],
                    evidence: vec![app.audit(e)],
                }
            })
            .collect();
        s.push(Block::Table(Table {
            columns: vec!["时间".into(), "事件".into(), "操作人".into(), "内容".into()],
            rows,
        }));
    }
    sections.push(s);

    // 五、时限
    let mut s = Section::new("当日到期时限");
    let mut rows = Vec::new();
    for g in &graded {
        let Some(c) = &g.case else { continue };
        for d in deadline_checks(c, &g.audit, ctx.now) {
            if d.due < from || d.due >= to {
                continue;
            }
            let mut evidence = vec![app.case(c)];
            for e in &d.evidence {
                if let Evidence::Audit { id, .. } = e {
                    if let Some(a) = g.audit.iter().find(|x| x.id == *id) {
                        evidence.push(app.audit(a));
                    }
                }
            }
            let what = match &d.outcome {
                DeadlineOutcome::Met { at } => format!("于 {} 回应", ctx.t(*at)),
                DeadlineOutcome::Missed { declared: true } => "超时预警已发出".into(),
                DeadlineOutcome::Missed { declared: false } => "截止时未记录回应".into(),
                DeadlineOutcome::Pending => String::new(),
            };
            rows.push(Row {
                cells: vec![
                    gist(&g.event.title, 30),
                    d.label.clone(),
                    ctx.t(d.due),
                    d.outcome.label().to_string(),
                    what,
                ],
                evidence,
            });
        }
    }
    if rows.is_empty() {
        s.text("当日无到期时限。", Vec::new());
    } else {
        s.push(Block::Table(Table {
            columns: vec![
                "事件".into(),
                "时限".into(),
                "截止时间".into(),
                "结果".into(),
                "说明".into(),
            ],
            rows,
        }));
    }
    sections.push(s);

    // 六、其他监测事件
    let mut s = Section::new("其他监测事件（未达预警标准）");
    if others.is_empty() {
        s.text("无。", Vec::new());
    } else {
        let listed = others.len().min(OTHER_EVENTS_LISTED);
        let rows = others
            .iter()
            .take(listed)
            .map(|(e, d)| {
                let mut evidence = vec![app.event(e)];
                for j in d.top(1) {
                    evidence.push(app.item(j));
                }
                Row {
                    cells: vec![
                        gist(&e.title, 40),
                        num(d.keys.len() as u64),
                        d.platforms
                            .iter()
                            .map(|p| platform_label(*p))
                            .collect::<Vec<_>>()
                            .join("、"),
                        e.region.clone().unwrap_or_else(|| "—".into()),
                        ctx.t(e.first_seen),
                    ],
                    evidence,
                }
            })
            .collect();
        s.push(Block::Table(Table {
            columns: vec![
                "事件".into(),
                "当日信息".into(),
                "平台".into(),
                "属地".into(),
                "首次发现".into(),
            ],
            rows,
        }));
        if others.len() > listed {
            let rest: Vec<Evidence> = others[listed..].iter().map(|(e, _)| app.event(e)).collect();
            let rest_items: usize = others[listed..].iter().map(|(_, d)| d.keys.len()).sum();
            s.text(
                format!(
                    "另有 {} 个事件（当日信息共 {} 条）未逐一列出。",
                    num(rest.len() as u64),
                    num(rest_items as u64)
                ),
                rest,
            );
        }
    }
    sections.push(s);

    if !unassigned.keys.is_empty() {
        let mut s = Section::new("未归入事件的信息");
        let top = unassigned.top(10);
        let ev: Vec<Evidence> = top.iter().map(|j| app.item(j)).collect();
        s.text(
            format!(
                "{} 条信息未归入任何事件（研判结果无事件编号），互动量最高的 {} 条见依据。",
                num(unassigned.keys.len() as u64),
                ev.len()
            ),
            ev,
        );
        sections.push(s);
    }

    Ok(finish(
        ReportKind::Daily,
        format!("网络舆情日志（{}）", date.format("%Y年%m月%d日")),
        Period { from, to },
        sections,
        app,
        &ctx,
    ))
}

/// What a duty officer calls an audit action.
pub(crate) fn action_label(a: &str) -> &'static str {
    match a {
        "opened" => "立案",
        "alert" => "预警",
        "accept" => "受理",
        "assign" => "转办",
        "reassign" => "改派",
        "feedback" => "反馈",
        "respond" => "回应",
        "close" => "办结",
        "note" => "备注",
        "reopened" => "重新受理",
        _ => "其他",
    }
}
