//! 舆情专报: one event in depth — timeline from the first post, the spread curve, platforms,
//! key accounts, sentiment, risk assessment, handling and response so far. The sections are also
//! the body of the summary (总结报告).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, FixedOffset};
use yuqing_cases::{AuditEntry, Case, Cases};
use yuqing_core::{Alert, AlertKind, Event, JudgedItem, Platform};
use yuqing_store::{SpreadPoint, Store};

use crate::builder::{finish, Ctx};
use crate::data::{
    self, author_kind, deadline_checks, distinct_latest, grade_text, interactions, num,
    platform_label, stage_label, Appendix, DeadlineOutcome,
};
use crate::error::ReportError;
use crate::escape::gist;
use crate::model::{
    Block, Chart, Evidence, Fact, Period, Report, ReportKind, Row, Section, Statement, Table,
};
use crate::svg;

type Result<T, E = ReportError> = std::result::Result<T, E>;

/// Everything the store holds about one event.
#[derive(Debug)]
pub(crate) struct EventData {
    pub event: Event,
    /// One per item (its latest observation), in order of publication.
    pub items: Vec<JudgedItem>,
    /// Observations read (re-observations included).
    pub observations: usize,
    /// Whether [`data::MAX_OBSERVATIONS`] cut the observations.
    pub truncated: bool,
    pub spread: Vec<SpreadPoint>,
    pub alerts: Vec<Alert>,
    pub case: Option<Case>,
    pub audit: Vec<AuditEntry>,
}

impl EventData {
    pub async fn load(store: &Store, cases: &Cases, event_id: &str) -> Result<EventData> {
        let event = store
            .event(event_id)
            .await?
            .ok_or_else(|| ReportError::NotFound {
                what: "event",
                id: event_id.to_string(),
            })?;
        let (obs, truncated) = data::event_observations(store, event_id).await?;
        let observations = obs.len();
        let items = distinct_latest(obs);
        let spread = store.spread(event_id).await?;
        let alerts = store.alerts_of_event(event_id).await?;
        let case = data::case_of(cases, event_id).await?;
        let audit = match &case {
            Some(c) => cases.audit(&c.case_id).await?,
            None => Vec::new(),
        };
        Ok(EventData {
            event,
            items,
            observations,
            truncated,
            spread,
            alerts,
            case,
            audit,
        })
    }

    fn first_item(&self) -> Option<&JudgedItem> {
        let key = self.event.evidence.first();
        key.and_then(|k| {
            self.items
                .iter()
                .find(|j| &format!("{}/{}", j.item.source, j.item.id) == k)
        })
        .or_else(|| self.items.first())
    }

    /// The spread point in force at `t` (the last one at or before it).
    fn point_at(&self, t: DateTime<FixedOffset>) -> Option<&SpreadPoint> {
        self.spread.iter().rev().find(|p| p.at <= t)
    }
}

fn audit_ev(e: &AuditEntry, app: &mut Appendix) -> Evidence {
    app.audit(e)
}

/// 基本情况.
pub(crate) fn overview(d: &EventData, app: &mut Appendix, ctx: &Ctx) -> Section {
    let e = &d.event;
    let ev = app.event(e);
    let mut s = Section::new("基本情况");
    let mut facts = vec![
        Fact::new("事件", &e.title, vec![ev.clone()]),
        Fact::new("事件编号", &e.event_id, vec![ev.clone()]),
    ];
    let mut first_ev = vec![ev.clone()];
    if let Some(f) = d.first_item() {
        first_ev.push(app.item(f));
    }
    facts.push(Fact::new(
        "首次发现",
        format!("{}，首发来源 {}", ctx.t(e.first_seen), e.first_source),
        first_ev.clone(),
    ));
    facts.push(Fact::new(
        "最近一次传播",
        ctx.t(e.last_seen),
        vec![ev.clone()],
    ));
    let platforms: std::collections::BTreeSet<Platform> =
        d.items.iter().map(|j| j.item.platform).collect();
    let sources: std::collections::BTreeSet<&str> =
        d.items.iter().map(|j| j.item.source.as_str()).collect();
    facts.push(Fact::new(
        "信息量",
        format!(
            "{} 条信息（{} 次观测），涉及 {} 个平台、{} 个来源",
            num(d.items.len() as u64),
            num(d.observations as u64),
            platforms.len(),
            sources.len()
        ),
        vec![ev.clone()],
    ));
    let c = &e.counts;
    facts.push(Fact::new(
        "累计传播（事件快照）",
        format!(
            "帖文 {}、转发 {}、评论 {}、点赞 {}（截至 {}）",
            num(c.items),
            num(c.reposts),
            num(c.comments),
            num(c.likes),
            ctx.t(e.updated_at)
        ),
        vec![ev.clone()],
    ));
    let opt = |label: &str, v: Option<String>, facts: &mut Vec<Fact>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            facts.push(Fact::new(label, v, vec![ev.clone()]));
        }
    };
    opt("类别", e.category.clone(), &mut facts);
    opt("责任单位（研判）", e.department.clone(), &mut facts);
    opt("属地", e.region.clone(), &mut facts);
    opt("回应主体", Some(e.response_subject.join("、")), &mut facts);
    opt(
        "处置类别",
        e.handling_class.map(|h| h.as_str().to_string()),
        &mut facts,
    );
    opt("敏感话题", Some(e.topics.join("、")), &mut facts);
    opt("关键词", Some(e.keywords.join("、")), &mut facts);
    s.push(Block::Facts(facts));
    if let Some(f) = d.first_item() {
        let i = &f.item;
        s.text(
            format!(
                "首发信息：{} {}{}发布：「{}」",
                ctx.t(i.published_at),
                platform_label(i.platform),
                i.author
                    .as_deref()
                    .map(|a| format!(" {a} "))
                    .unwrap_or_else(|| format!(" {} ", i.source)),
                gist(i.title.as_deref().unwrap_or(&i.text), 140)
            ),
            vec![app.item(f)],
        );
    }
    if d.truncated {
        s.text(
            format!(
                "注意：该事件的观测记录超过 {} 条，本报告只统计了前 {} 条。",
                num(data::MAX_OBSERVATIONS as u64),
                num(d.observations as u64)
            ),
            vec![ev],
        );
    }
    s
}

/// 事件时间线: from the first post — first appearance on each platform, official and media
/// accounts, stage changes, alerts and the handling steps.
pub(crate) fn timeline(d: &EventData, app: &mut Appendix, ctx: &Ctx) -> Section {
    let mut rows: Vec<(DateTime<FixedOffset>, u8, Row)> = Vec::new();
    let mut seen_platform = std::collections::HashSet::new();
    let mut seen_account = std::collections::HashSet::new();
    for (n, j) in d.items.iter().enumerate() {
        let i = &j.item;
        let what = if n == 0 {
            Some("首发".to_string())
        } else if !seen_platform.contains(&i.platform) {
            Some(format!("首次出现在{}", platform_label(i.platform)))
        } else {
            match (author_kind(i), &i.author) {
                (Some(k), a) => {
                    let key = (i.source.clone(), a.clone());
                    (!seen_account.contains(&key)).then(|| format!("{k}发布"))
                }
                _ => None,
            }
        };
        seen_platform.insert(i.platform);
        if author_kind(i).is_some() {
            seen_account.insert((i.source.clone(), i.author.clone()));
        }
        if let Some(what) = what {
            let who = i.author.clone().unwrap_or_else(|| i.source.clone());
            let text = format!(
                "{} {}：「{}」",
                platform_label(i.platform),
                who,
                gist(i.title.as_deref().unwrap_or(&i.text), 80)
            );
            rows.push((
                i.published_at,
                0,
                Row {
                    cells: vec![ctx.t(i.published_at), what, text],
                    evidence: vec![app.item(j)],
                },
            ));
        }
    }
    let ev = Evidence::event(&d.event.event_id);
    let mut stage: Option<&str> = None;
    for p in &d.spread {
        if stage != Some(p.stage.as_str()) {
            let at = p.at.fixed_offset();
            rows.push((
                at,
                1,
                Row {
                    cells: vec![
                        ctx.t(at),
                        "传播阶段".to_string(),
                        format!(
                            "进入{}阶段（累计帖文 {}、转发 {}、评论 {}）",
                            stage_label(&p.stage),
                            num(p.items.max(0) as u64),
                            num(p.reposts.max(0) as u64),
                            num(p.comments.max(0) as u64)
                        ),
                    ],
                    evidence: vec![ev.clone()],
                },
            ));
            stage = Some(p.stage.as_str());
        }
    }
    for a in &d.alerts {
        let mut text = format!("{}，规则「{}」", grade_text(a.grade), a.rule);
        if let Some(p) = a.previous_grade {
            text.push_str(&format!("，原 {} 级", p.as_str()));
        }
        rows.push((
            a.at,
            2,
            Row {
                cells: vec![ctx.t(a.at), a.kind.label().to_string(), text],
                evidence: vec![app.alert(a)],
            },
        ));
    }
    for e in d.audit.iter().filter(|e| e.alert_id.is_none()) {
        let label = match e.action.as_str() {
            "accept" => "受理",
            "assign" => "转办",
            "reassign" => "改派",
            "feedback" => "部门反馈",
            "respond" => "公开回应",
            "close" => "办结",
            "note" => "备注",
            "reopened" => "重新受理",
            _ => "处置",
        };
        let text = format!("{}（{}）", gist(&data::audit_text(e, ctx.tz), 120), e.actor);
        rows.push((
            e.at,
            3,
            Row {
                cells: vec![ctx.t(e.at), label.to_string(), text],
                evidence: vec![audit_ev(e, app)],
            },
        ));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut s = Section::new("事件时间线");
    if rows.is_empty() {
        s.text("暂无记录。", vec![ev]);
    } else {
        s.push(Block::Table(Table {
            columns: vec!["时间".into(), "节点".into(), "内容".into()],
            rows: rows.into_iter().map(|r| r.2).collect(),
        }));
        s.note("时间线列出首发、各平台首次出现、政务和媒体账号首次发布、传播阶段变化、预警和处置记录；转发和评论的逐条记录见依据中的事件。");
    }
    s
}

/// The milestones of the curve: 2 小时上网发布，6 小时转播，24 小时达到高潮.
const MARKS: [(i64, &str); 3] = [
    (2, "2小时 上网发布"),
    (6, "6小时 转播"),
    (24, "24小时 高潮"),
];

/// 传播态势: the spread curve with its 2h/6h/24h marks, the peak velocity and the stage.
pub(crate) fn spread(
    d: &EventData,
    app: &mut Appendix,
    ctx: &Ctx,
    until: DateTime<FixedOffset>,
) -> Section {
    let e = &d.event;
    let ev = app.event(e);
    let mut s = Section::new("传播态势");
    let origin = e.first_seen;
    let hours = |t: DateTime<FixedOffset>| (t - origin).num_seconds() as f64 / 3600.0;
    let points: Vec<&SpreadPoint> = d
        .spread
        .iter()
        .filter(|p| p.at.fixed_offset() <= until)
        .collect();
    if points.is_empty() {
        s.text("暂无传播记录。", vec![ev]);
        return s;
    }
    let series = |name: &str, f: &dyn Fn(&SpreadPoint) -> i64| svg::Series {
        name: name.to_string(),
        points: points
            .iter()
            .map(|p| (hours(p.at.fixed_offset()).max(0.0), f(p).max(0) as f64))
            .collect(),
    };
    let last_h = points
        .last()
        .map(|p| hours(p.at.fixed_offset()))
        .unwrap_or(0.0);
    let marks: Vec<svg::Mark> = MARKS
        .iter()
        .filter(|(h, _)| (*h as f64) <= 2.0 * last_h.max(1.0))
        .map(|(h, l)| svg::Mark {
            x: *h as f64,
            label: l.to_string(),
        })
        .collect();
    let chart_svg = svg::line_chart(
        &format!("传播曲线：{}", gist(&e.title, 24)),
        "距首次发现（小时）",
        &[
            series("累计帖文", &|p| p.items),
            series("累计转发", &|p| p.reposts),
            series("累计评论", &|p| p.comments),
        ],
        &marks,
    );
    let mut rows = Vec::new();
    for (h, label) in MARKS {
        let at = origin + Duration::hours(h);
        let cells = if at > until {
            vec![
                label.to_string(),
                ctx.t(at),
                "尚未到达".into(),
                String::new(),
                String::new(),
                String::new(),
            ]
        } else {
            match d.point_at(at.to_utc().fixed_offset()) {
                Some(p) => vec![
                    label.to_string(),
                    ctx.t(at),
                    num(p.items.max(0) as u64),
                    num(p.reposts.max(0) as u64),
                    num(p.comments.max(0) as u64),
                    stage_label(&p.stage),
                ],
                None => vec![
                    label.to_string(),
                    ctx.t(at),
                    "0".into(),
                    "0".into(),
                    "0".into(),
                    String::new(),
                ],
            }
        };
        rows.push(Row {
            cells,
            evidence: vec![ev.clone()],
        });
    }
    s.push(Block::Chart(Chart {
        title: "传播曲线（累计帖文、转发、评论）".into(),
        svg: chart_svg,
        data: Table {
            columns: vec![
                "节点".into(),
                "时间".into(),
                "累计帖文".into(),
                "累计转发".into(),
                "累计评论".into(),
                "阶段".into(),
            ],
            rows,
        },
        evidence: vec![ev.clone()],
    }));
    if let Some(peak) = points
        .iter()
        .filter(|p| p.velocity.is_finite())
        .max_by(|a, b| a.velocity.total_cmp(&b.velocity))
    {
        s.text(
            format!(
                "峰值传播速度 {} 次/小时（{}，{}阶段）。",
                num(peak.velocity.max(0.0).round() as u64),
                ctx.t(peak.at.fixed_offset()),
                stage_label(&peak.stage)
            ),
            vec![ev.clone()],
        );
    }
    if let Some(last) = points.last() {
        s.text(
            format!(
                "截至 {}：累计帖文 {}、转发 {}、评论 {}，处于{}阶段，传播速度 {} 次/小时。",
                ctx.t(last.at.fixed_offset()),
                num(last.items.max(0) as u64),
                num(last.reposts.max(0) as u64),
                num(last.comments.max(0) as u64),
                stage_label(&last.stage),
                num(last.velocity.max(0.0).round() as u64)
            ),
            vec![ev.clone()],
        );
    }
    s.note("曲线取自事件快照的传播记录（事件时间，每分钟至多一点）；累计转发、评论为该事件各帖文最新计数之和加上已采集的转发、评论条目。2/6/24 小时节点取该时刻之前最近一点。");
    s
}

/// 平台分布.
pub(crate) fn platforms(d: &EventData, app: &mut Appendix) -> Section {
    let ev = Evidence::event(&d.event.event_id);
    let mut s = Section::new("平台分布");
    let mut by: BTreeMap<Platform, Vec<&JudgedItem>> = BTreeMap::new();
    for j in &d.items {
        by.entry(j.item.platform).or_default().push(j);
    }
    if by.is_empty() {
        s.text("暂无信息。", vec![ev]);
        return s;
    }
    let total = d.items.len().max(1) as f64;
    let mut list: Vec<(Platform, Vec<&JudgedItem>)> = by.into_iter().collect();
    list.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let bars: Vec<(String, f64)> = list
        .iter()
        .map(|(p, v)| (platform_label(*p).to_string(), v.len() as f64))
        .collect();
    let rows: Vec<Row> = list
        .iter()
        .map(|(p, v)| {
            let mut top: Vec<&&JudgedItem> = v.iter().collect();
            top.sort_by_key(|j| std::cmp::Reverse(interactions(&j.item)));
            let mut evidence = vec![ev.clone()];
            evidence.extend(top.iter().take(3).map(|j| app.item(j)));
            Row {
                cells: vec![
                    platform_label(*p).to_string(),
                    num(v.len() as u64),
                    format!("{:.1}%", v.len() as f64 / total * 100.0),
                    num(v.iter().map(|j| interactions(&j.item)).sum()),
                ],
                evidence,
            }
        })
        .collect();
    s.push(Block::Chart(Chart {
        title: "各平台信息数".into(),
        svg: svg::bar_chart("各平台信息数", &bars),
        data: Table {
            columns: vec!["平台".into(), "信息数".into()],
            rows: bars
                .iter()
                .map(|(l, v)| Row {
                    cells: vec![l.clone(), num(*v as u64)],
                    evidence: Vec::new(),
                })
                .collect(),
        },
        evidence: vec![ev.clone()],
    }));
    s.push(Block::Table(Table {
        columns: vec![
            "平台".into(),
            "信息数".into(),
            "占比".into(),
            "互动量".into(),
        ],
        rows,
    }));
    s.note("信息数按来源和编号去重；互动量为各条信息最新一次观测的转发、评论、点赞之和；依据列出事件及该平台互动量最高的信息。");
    s
}

/// 重点账号: the authors with the most reach, as the sources published them.
pub(crate) fn accounts(d: &EventData, app: &mut Appendix, ctx: &Ctx, limit: usize) -> Section {
    let ev = Evidence::event(&d.event.event_id);
    let mut s = Section::new("重点账号");
    struct Acc<'a> {
        name: String,
        source: String,
        platform: Platform,
        kind: Option<&'static str>,
        items: Vec<&'a JudgedItem>,
        reach: u64,
        first: DateTime<FixedOffset>,
    }
    let mut by: HashMap<(String, String), Acc> = HashMap::new();
    for j in &d.items {
        let i = &j.item;
        let name = match (&i.author, i.platform) {
            (Some(a), _) if !a.trim().is_empty() => a.clone(),
            (_, Platform::Portal) => format!("{}（网站）", i.source),
            _ => continue,
        };
        let a = by
            .entry((i.source.clone(), name.clone()))
            .or_insert_with(|| Acc {
                name,
                source: i.source.clone(),
                platform: i.platform,
                kind: author_kind(i),
                items: Vec::new(),
                reach: 0,
                first: i.published_at,
            });
        a.items.push(j);
        a.reach += interactions(i);
        a.first = a.first.min(i.published_at);
        if a.kind.is_none() {
            a.kind = author_kind(i);
        }
    }
    if by.is_empty() {
        s.text("该事件的信息均未载明发布账号。", vec![ev]);
        return s;
    }
    let mut list: Vec<Acc> = by.into_values().collect();
    list.sort_by(|a, b| {
        b.reach
            .cmp(&a.reach)
            .then(b.items.len().cmp(&a.items.len()))
            .then(a.first.cmp(&b.first))
            .then(a.name.cmp(&b.name))
    });
    let official = list.iter().filter(|a| a.kind.is_some()).count();
    let n = list.len();
    let rows: Vec<Row> = list
        .iter_mut()
        .take(limit)
        .map(|a| {
            a.items
                .sort_by_key(|j| std::cmp::Reverse(interactions(&j.item)));
            Row {
                cells: vec![
                    a.name.clone(),
                    a.kind.unwrap_or("—").to_string(),
                    format!("{}（{}）", platform_label(a.platform), a.source),
                    num(a.items.len() as u64),
                    num(a.reach),
                    ctx.t(a.first),
                ],
                evidence: a.items.iter().take(3).map(|j| app.item(j)).collect(),
            }
        })
        .collect();
    s.text(
        format!(
            "共 {} 个发布账号，其中政务、媒体账号 {} 个；按互动量列出前 {} 个。",
            num(n as u64),
            official,
            rows.len()
        ),
        vec![ev],
    );
    s.push(Block::Table(Table {
        columns: vec![
            "账号（来源所载）".into(),
            "类型".into(),
            "平台（来源）".into(),
            "信息数".into(),
            "互动量".into(),
            "首次发布".into(),
        ],
        rows,
    }));
    s.note("账号只列来源公开载明的名称或编号（或采集时的散列），不做任何画像；类型取自来源的标注（政务、媒体）；互动量为该账号各条信息的转发、评论、点赞之和。");
    s
}

/// Sentiment bins: 10 of width 0.2 over [-1, 1].
fn bin_of(v: f64) -> usize {
    (((v.clamp(-1.0, 1.0) + 1.0) / 0.2).floor() as usize).min(9)
}

/// 情感倾向: the mean and the distribution of `analysis.sentiment` over the event's items.
pub(crate) fn sentiment(d: &EventData, app: &mut Appendix, ctx: &Ctx) -> Section {
    let ev = Evidence::event(&d.event.event_id);
    let mut s = Section::new("情感倾向");
    let vals: Vec<(f64, &JudgedItem)> = d
        .items
        .iter()
        .filter(|j| j.analysis.sentiment.is_finite())
        .map(|j| (j.analysis.sentiment.clamp(-1.0, 1.0), j))
        .collect();
    if vals.is_empty() {
        s.text("暂无情感研判结果。", vec![ev]);
        return s;
    }
    let n = vals.len() as f64;
    let mean = vals.iter().map(|v| v.0).sum::<f64>() / n;
    let neg = vals.iter().filter(|v| v.0 < -0.2).count();
    let pos = vals.iter().filter(|v| v.0 > 0.2).count();
    let neu = vals.len() - neg - pos;
    let pct = |c: usize| format!("{:.1}%", c as f64 / n * 100.0);
    s.text(
        format!(
            "{} 条信息的情感均值为 {:.2}（-1 最负面，1 最正面）：负面 {} 条（{}），中性 {} 条（{}），正面 {} 条（{}）。",
            num(vals.len() as u64),
            mean,
            neg,
            pct(neg),
            neu,
            pct(neu),
            pos,
            pct(pos)
        ),
        vec![ev.clone()],
    );
    let mut bins = [0u64; 10];
    for (v, _) in &vals {
        bins[bin_of(*v)] += 1;
    }
    let columns: Vec<(String, f64)> = bins
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let lo = -1.0 + i as f64 * 0.2;
            (format!("{:.1}~{:.1}", lo, lo + 0.2), *c as f64)
        })
        .collect();
    s.push(Block::Chart(Chart {
        title: "情感值分布".into(),
        svg: svg::column_chart("情感值分布（信息条数）", "情感值", &columns),
        data: Table {
            columns: vec!["情感值区间".into(), "信息数".into()],
            rows: columns
                .iter()
                .map(|(l, c)| Row {
                    cells: vec![l.clone(), num(*c as u64)],
                    evidence: Vec::new(),
                })
                .collect(),
        },
        evidence: vec![ev.clone()],
    }));
    let mut most_neg: Vec<&(f64, &JudgedItem)> = vals.iter().filter(|v| v.0 < -0.2).collect();
    most_neg.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(interactions(&b.1.item).cmp(&interactions(&a.1.item)))
    });
    if !most_neg.is_empty() {
        s.push(Block::Table(Table {
            columns: vec![
                "时间".into(),
                "平台".into(),
                "内容摘录".into(),
                "情感值".into(),
            ],
            rows: most_neg
                .iter()
                .take(5)
                .map(|(v, j)| Row {
                    cells: vec![
                        ctx.t(j.item.published_at),
                        platform_label(j.item.platform).to_string(),
                        gist(&j.item.text, 80),
                        format!("{v:.2}"),
                    ],
                    evidence: vec![app.item(j)],
                })
                .collect(),
        }));
    }
    s.note("情感值取自研判结果 analysis.sentiment（每条信息最新一次观测）；负面 < -0.2 ≤ 中性 ≤ 0.2 < 正面；表中列出最负面的信息（至多 5 条）。");
    s
}

/// 风险研判: the grade, stage, forecast band and the rules' reasons, quoted.
pub(crate) fn risk(
    d: &EventData,
    app: &mut Appendix,
    ctx: &Ctx,
    until: DateTime<FixedOffset>,
) -> Section {
    let e = &d.event;
    let ev = app.event(e);
    let mut s = Section::new("风险研判");
    let mut facts = Vec::new();
    match data::top_alert(&d.alerts, until) {
        Some(a) => facts.push(Fact::new(
            "预警等级",
            format!(
                "{}（{} {}）",
                grade_text(a.grade),
                ctx.t(a.at),
                a.kind.label()
            ),
            vec![app.alert(a)],
        )),
        None => facts.push(Fact::new("预警等级", "未达预警标准", vec![ev.clone()])),
    }
    facts.push(Fact::new(
        "传播阶段",
        format!("{}（截至 {}）", e.stage.label(), ctx.t(e.updated_at)),
        vec![ev.clone()],
    ));
    facts.push(Fact::new(
        "传播速度",
        format!(
            "{} 次/小时，加速度 {} 次/小时²",
            num(e.velocity.max(0.0).round() as u64),
            if e.acceleration.is_finite() {
                format!("{:+.0}", e.acceleration)
            } else {
                "—".into()
            }
        ),
        vec![ev.clone()],
    ));
    let f = &e.forecast_peak;
    facts.push(Fact::new(
        "24小时规模预测",
        format!(
            "{}（区间 {}–{}），方法 {}{}",
            num(f.size.max(0.0).round() as u64),
            num(f.low.max(0.0).round() as u64),
            num(f.high.max(0.0).round() as u64),
            f.method,
            f.peak_at
                .map(|p| format!("，预计高峰 {}", ctx.t(p)))
                .unwrap_or_default()
        ),
        vec![ev.clone()],
    ));
    facts.push(Fact::new(
        "敏感度",
        format!("{:.2}（0–1）", e.sensitivity),
        vec![ev.clone()],
    ));
    s.push(Block::Facts(facts));
    if !e.reasons.is_empty() {
        let text = e
            .reasons
            .iter()
            .map(|r| format!("[{}] {}", r.rule, r.evidence))
            .collect::<Vec<_>>()
            .join("\n");
        s.text("事件研判依据（系统记录原文）：", vec![ev.clone()]);
        s.push(Block::Quote(Statement::new(text, vec![ev.clone()])));
    }
    let graded: Vec<&Alert> = d
        .alerts
        .iter()
        .filter(|a| {
            a.at <= until
                && matches!(
                    a.kind,
                    AlertKind::New | AlertKind::Escalated | AlertKind::Flared | AlertKind::Overdue
                )
        })
        .collect();
    for a in graded {
        let text = a
            .reasons
            .iter()
            .map(|r| r.evidence.clone())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let evid = app.alert(a);
        s.text(
            format!(
                "{} {}：{}，规则「{}」，理由（原文）：",
                ctx.t(a.at),
                a.kind.label(),
                grade_text(a.grade),
                a.rule
            ),
            vec![evid.clone()],
        );
        if !text.is_empty() {
            s.push(Block::Quote(Statement::new(text, vec![evid])));
        }
    }
    s.note("本节只引用系统记录的等级、阶段、预测区间和规则理由，不作额外推断。");
    s
}

/// 处置与回应: the case, its deadlines and its audit log.
pub(crate) fn handling(d: &EventData, app: &mut Appendix, ctx: &Ctx) -> Section {
    let ev = Evidence::event(&d.event.event_id);
    let mut s = Section::new("处置与回应");
    let Some(case) = &d.case else {
        s.text("该事件尚未立案（没有预警开立案件）。", vec![ev]);
        return s;
    };
    let cev = app.case(case);
    let find = |action: &str| d.audit.iter().find(|e| e.action == action);
    let last_state = d.audit.iter().rev().find(|e| e.to_state.is_some());
    let mut facts = vec![Fact::new("案件", &case.case_id, vec![cev.clone()])];
    let mut state_ev = vec![cev.clone()];
    if let Some(e) = last_state {
        state_ev.push(app.audit(e));
    }
    facts.push(Fact::new("状态", case.state.label(), state_ev));
    facts.push(Fact::new("等级", grade_text(case.grade), vec![cev.clone()]));
    if let Some(dpt) = &case.department {
        facts.push(Fact::new("责任单位（研判）", dpt, vec![cev.clone()]));
    }
    let step = |label: &str, action: &str, facts: &mut Vec<Fact>, app: &mut Appendix| {
        if let Some(e) = find(action) {
            facts.push(Fact::new(
                label,
                format!("{}（{}）", ctx.t(e.at), e.actor),
                vec![app.audit(e)],
            ));
        }
    };
    if let Some(e) = d.audit.iter().find(|e| e.action == "opened") {
        facts.push(Fact::new(
            "立案（首次预警）",
            ctx.t(case.first_alert),
            vec![app.audit(e)],
        ));
    }
    step("受理", "accept", &mut facts, app);
    if let Some(e) = d
        .audit
        .iter()
        .rev()
        .find(|e| e.action == "assign" || e.action == "reassign")
    {
        facts.push(Fact::new(
            "转办单位",
            format!(
                "{}（{}）",
                e.department.clone().unwrap_or_default(),
                ctx.t(e.at)
            ),
            vec![app.audit(e)],
        ));
    }
    step("部门反馈", "feedback", &mut facts, app);
    if let Some((r, e)) = data::first_response(&d.audit) {
        facts.push(Fact::new(
            "首次公开回应",
            format!(
                "{}，{}{}",
                r.channel.label(),
                ctx.t(r.at),
                r.link.map(|l| format!("，{l}")).unwrap_or_default()
            ),
            vec![app.audit(e)],
        ));
    }
    step("办结", "close", &mut facts, app);
    if case.reopened > 0 {
        facts.push(Fact::new(
            "再次升温重新受理",
            format!("{} 次", case.reopened),
            vec![cev.clone()],
        ));
    }
    s.push(Block::Facts(facts));
    for e in d.audit.iter().filter(|e| e.action == "feedback") {
        let facts_text = e.detail["facts"].as_str().unwrap_or_default();
        let aev = app.audit(e);
        s.text(
            format!(
                "{} {}反馈（原文）：",
                ctx.t(e.at),
                e.department.clone().unwrap_or_else(|| e.actor.clone())
            ),
            vec![aev.clone()],
        );
        s.push(Block::Quote(Statement::new(facts_text, vec![aev])));
    }
    let checks = deadline_checks(case, &d.audit, ctx.now);
    if !checks.is_empty() {
        let rows = checks
            .iter()
            .map(|c| {
                let what = match &c.outcome {
                    DeadlineOutcome::Met { at } => format!("于 {} 回应", ctx.t(*at)),
                    DeadlineOutcome::Missed { declared: true } => "超时预警已发出".to_string(),
                    DeadlineOutcome::Missed { declared: false } => "截止时未记录回应".to_string(),
                    DeadlineOutcome::Pending => String::new(),
                };
                let mut evidence = vec![cev.clone()];
                evidence.extend(c.evidence.iter().cloned());
                for e in &c.evidence {
                    if let Evidence::Audit { id, .. } = e {
                        if let Some(a) = d.audit.iter().find(|x| x.id == *id) {
                            app.audit(a);
                        }
                    }
                }
                Row {
                    cells: vec![
                        c.label.clone(),
                        ctx.t(c.due),
                        c.outcome.label().to_string(),
                        what,
                    ],
                    evidence,
                }
            })
            .collect();
        s.push(Block::Table(Table {
            columns: vec![
                "时限".into(),
                "截止时间".into(),
                "结果".into(),
                "说明".into(),
            ],
            rows,
        }));
    }
    let rows: Vec<Row> = d
        .audit
        .iter()
        .map(|e| {
            let change = match (e.from_state, e.to_state) {
                (Some(a), Some(b)) if a != b => format!("{} → {}", a.label(), b.label()),
                (None, Some(b)) => b.label().to_string(),
                _ => String::new(),
            };
            Row {
                cells: vec![
                    ctx.t(e.at),
                    format!("{}（{}）", e.actor, e.role.label()),
                    change,
                    data::audit_text(e, ctx.tz),
                ],
                evidence: vec![app.audit(e)],
            }
        })
        .collect();
    s.push(Block::Table(Table {
        columns: vec!["时间".into(), "操作人".into(), "状态".into(), "内容".into()],
        rows,
    }));
    s.note("时限结果按案件流程的考核口径：超时预警已声明的为超时；首次公开回应不晚于截止时间的为按时；已过截止时间仍无回应的为超时；其余未到期。");
    s
}

/// Builds the 舆情专报 of one event.
pub async fn event(
    store: &Store,
    cases: &Cases,
    event_id: &str,
    tz: FixedOffset,
) -> Result<Report> {
    let ctx = Ctx::new(cases, tz);
    let d = EventData::load(store, cases, event_id).await?;
    let mut app = Appendix::new(tz);
    let until = ctx.now;
    let sections = vec![
        overview(&d, &mut app, &ctx),
        timeline(&d, &mut app, &ctx),
        spread(&d, &mut app, &ctx, until),
        platforms(&d, &mut app),
        accounts(&d, &mut app, &ctx, 10),
        sentiment(&d, &mut app, &ctx),
        risk(&d, &mut app, &ctx, until),
        handling(&d, &mut app, &ctx),
    ];
    let period = Period {
        from: d.event.first_seen,
        to: ctx.now.max(d.event.first_seen + Duration::milliseconds(1)),
    };
    Ok(finish(
        ReportKind::Event,
        format!("关于「{}」的舆情专报", gist(&d.event.title, 60)),
        period,
        sections,
        app,
        &ctx,
    ))
}
