//! 总结报告: the review of a closed case — how the event arose and spread, what was verified,
//! what was done, how the public was answered, the effects seen in the data, and what happened
//! after closing.

use chrono::{DateTime, Duration, FixedOffset};
use yuqing_cases::{CaseError, CaseState, Cases, Response};
use yuqing_core::AlertKind;
use yuqing_store::Store;

use crate::builder::{finish, Ctx};
use crate::data::{self, grade_text, num, stage_label, Appendix};
use crate::error::ReportError;
use crate::escape::gist;
use crate::event::{self, EventData};
use crate::model::{
    Block, Evidence, Fact, Period, Report, ReportKind, Row, Section, Statement, Table,
};

type Result<T, E = ReportError> = std::result::Result<T, E>;

/// Builds the 总结报告 of a closed case (by case id or event id); refuses with
/// [`ReportError::NotClosed`] while the case is open.
pub async fn summary(store: &Store, cases: &Cases, id: &str, tz: FixedOffset) -> Result<Report> {
    let case = match cases.show(id).await {
        Ok(c) => c,
        Err(CaseError::NotFound(_)) => {
            return Err(ReportError::NotFound {
                what: "case",
                id: id.to_string(),
            })
        }
        Err(e) => return Err(e.into()),
    };
    if case.state != CaseState::Closed {
        return Err(ReportError::NotClosed {
            case_id: case.case_id.clone(),
            state: case.state.as_str(),
            state_label: case.state.label(),
        });
    }
    let ctx = Ctx::new(cases, tz);
    let d = EventData::load(store, cases, &case.event_id).await?;
    let closed = case.closed.unwrap_or(ctx.now);
    let mut app = Appendix::new(tz);
    let cev = app.case(&case);
    let eev = app.event(&d.event);

    let mut sections = Vec::new();
    let mut s = event::overview(&d, &mut app, &ctx);
    s.title = "事件概况".into();
    sections.push(s);
    let mut s = event::spread(&d, &mut app, &ctx, ctx.now);
    s.title = "传播过程".into();
    sections.push(s);
    sections.push(event::platforms(&d, &mut app));
    sections.push(event::accounts(&d, &mut app, &ctx, 5));
    sections.push(event::sentiment(&d, &mut app, &ctx));
    let mut s = event::risk(&d, &mut app, &ctx, closed);
    s.title = "研判与预警".into();
    sections.push(s);

    // 核实情况
    let mut s = Section::new("核实情况");
    let feedback: Vec<_> = d.audit.iter().filter(|e| e.action == "feedback").collect();
    if feedback.is_empty() {
        s.text("未记录责任单位的反馈。", vec![cev.clone()]);
    }
    for e in feedback {
        let ev = app.audit(e);
        s.text(
            format!(
                "{} {}反馈核实情况（原文）：",
                ctx.t(e.at),
                e.department.clone().unwrap_or_else(|| e.actor.clone())
            ),
            vec![ev.clone()],
        );
        s.push(Block::Quote(Statement::new(
            e.detail["facts"].as_str().unwrap_or_default(),
            vec![ev],
        )));
    }
    sections.push(s);

    // 处置经过 and 回应情况: the case's record.
    let mut s = event::handling(&d, &mut app, &ctx);
    s.title = "处置经过与回应".into();
    let responses: Vec<(Response, &yuqing_cases::AuditEntry)> = d
        .audit
        .iter()
        .filter(|e| e.action == "respond")
        .filter_map(|e| {
            serde_json::from_value::<Response>(e.detail["response"].clone())
                .ok()
                .map(|r| (r, e))
        })
        .collect();
    if responses.is_empty() {
        let note = d
            .audit
            .iter()
            .rev()
            .find(|e| e.action == "close")
            .map(|e| (e, e.detail["note"].as_str().unwrap_or_default().to_string()));
        match note {
            Some((e, n)) => {
                let ev = app.audit(e);
                s.text("未作公开回应；办结说明（原文）：", vec![ev.clone()]);
                s.push(Block::Quote(Statement::new(n, vec![ev])));
            }
            None => {
                s.text("未作公开回应。", vec![cev.clone()]);
            }
        }
    } else {
        s.push(Block::Table(Table {
            columns: vec![
                "发布时间".into(),
                "渠道".into(),
                "链接".into(),
                "记录".into(),
            ],
            rows: responses
                .iter()
                .map(|(r, e)| Row {
                    cells: vec![
                        ctx.t(r.at),
                        r.channel.label().to_string(),
                        r.link.clone().unwrap_or_default(),
                        format!("{} 于 {} 记录", e.actor, ctx.t(e.at)),
                    ],
                    evidence: vec![app.audit(e)],
                })
                .collect(),
        }));
    }
    sections.push(s);

    // 处置效果: what the data show before and after the first public response.
    let mut s = Section::new("处置效果");
    match data::first_response(&d.audit) {
        Some((r, e)) => {
            let rev = app.audit(e);
            effects(&mut s, &d, &ctx, r.at, closed, vec![eev.clone(), rev]);
        }
        None => {
            s.text(
                "未作公开回应，无回应前后对比；办结时的传播情况如下。",
                vec![cev.clone()],
            );
            if let Some(p) = d.spread.iter().rev().find(|p| p.at <= closed) {
                s.text(
                    format!(
                        "办结时（{}）累计帖文 {}、转发 {}、评论 {}，处于{}阶段。",
                        ctx.t(closed),
                        num(p.items.max(0) as u64),
                        num(p.reposts.max(0) as u64),
                        num(p.comments.max(0) as u64),
                        stage_label(&p.stage)
                    ),
                    vec![eev.clone()],
                );
            }
        }
    }
    s.note(
        "回应前后对比全部取自事件快照的传播记录和各条信息的研判结果；新增量为两个时点累计值之差。",
    );
    sections.push(s);

    // 后续跟踪
    let mut s = Section::new("后续跟踪");
    let after: Vec<_> = d
        .alerts
        .iter()
        .filter(|a| a.at > closed && a.kind != AlertKind::SourceHealth)
        .collect();
    let later_items = d
        .items
        .iter()
        .filter(|j| j.item.published_at > closed)
        .count();
    s.text(
        format!(
            "办结（{}）后新增信息 {} 条，预警 {} 条；因再次升温重新受理 {} 次。事件最近一次传播 {}，当前处于{}阶段。",
            ctx.t(closed),
            num(later_items as u64),
            after.len(),
            case.reopened,
            ctx.t(d.event.last_seen),
            d.event.stage.label()
        ),
        vec![eev.clone(), cev.clone()],
    );
    if !after.is_empty() {
        s.push(Block::Table(Table {
            columns: vec!["时间".into(), "类型".into(), "等级".into()],
            rows: after
                .iter()
                .map(|a| Row {
                    cells: vec![ctx.t(a.at), a.kind.label().to_string(), grade_text(a.grade)],
                    evidence: vec![app.alert(a)],
                })
                .collect(),
        }));
    }
    sections.push(s);

    let period = Period {
        from: d.event.first_seen,
        to: closed.max(d.event.first_seen + Duration::milliseconds(1)),
    };
    let mut report = finish(
        ReportKind::Summary,
        format!("关于「{}」舆情处置的总结报告", gist(&d.event.title, 60)),
        period,
        sections,
        app,
        &ctx,
    );
    // The case opens the evidence list (it names the file).
    if let Some(pos) = report.appendix.iter().position(|e| e.evidence == cev) {
        let entry = report.appendix.remove(pos);
        report.appendix.insert(0, entry);
    }
    Ok(report)
}

fn effects(
    s: &mut Section,
    d: &EventData,
    ctx: &Ctx,
    response_at: DateTime<FixedOffset>,
    closed: DateTime<FixedOffset>,
    evidence: Vec<Evidence>,
) {
    let at = |t: DateTime<FixedOffset>| d.spread.iter().rev().find(|p| p.at <= t);
    let window = Duration::hours(6);
    let before_start = at(response_at - window);
    let at_resp = at(response_at);
    let after = at((response_at + window).min(closed.max(response_at)));
    let growth = |a: Option<&yuqing_store::SpreadPoint>, b: Option<&yuqing_store::SpreadPoint>| {
        let (ai, ar, ac) = a.map_or((0, 0, 0), |p| (p.items, p.reposts, p.comments));
        b.map(|p| {
            (
                (p.items - ai).max(0) as u64,
                (p.reposts - ar).max(0) as u64,
                (p.comments - ac).max(0) as u64,
            )
        })
    };
    let mut facts = Vec::new();
    if let Some((i, r, c)) = growth(before_start, at_resp) {
        facts.push(Fact::new(
            "回应前 6 小时新增",
            format!("帖文 {}、转发 {}、评论 {}", num(i), num(r), num(c)),
            evidence.clone(),
        ));
    }
    if let Some((i, r, c)) = growth(at_resp, after) {
        let end = (response_at + window).min(closed.max(response_at));
        facts.push(Fact::new(
            format!("回应后新增（至 {}）", ctx.t(end)),
            format!("帖文 {}、转发 {}、评论 {}", num(i), num(r), num(c)),
            evidence.clone(),
        ));
    }
    if let Some(p) = at_resp {
        facts.push(Fact::new(
            "回应时传播速度",
            format!(
                "{} 次/小时（{}阶段）",
                num(p.velocity.max(0.0).round() as u64),
                stage_label(&p.stage)
            ),
            evidence.clone(),
        ));
    }
    if let Some(p) = at(closed) {
        facts.push(Fact::new(
            "办结时",
            format!(
                "{}：累计帖文 {}、转发 {}、评论 {}，传播速度 {} 次/小时，{}阶段",
                ctx.t(closed),
                num(p.items.max(0) as u64),
                num(p.reposts.max(0) as u64),
                num(p.comments.max(0) as u64),
                num(p.velocity.max(0.0).round() as u64),
                stage_label(&p.stage)
            ),
            evidence.clone(),
        ));
    }
    let mean = |pred: &dyn Fn(DateTime<FixedOffset>) -> bool| {
        let v: Vec<f64> = d
            .items
            .iter()
            .filter(|j| pred(j.item.published_at) && j.analysis.sentiment.is_finite())
            .map(|j| j.analysis.sentiment.clamp(-1.0, 1.0))
            .collect();
        (!v.is_empty()).then(|| (v.iter().sum::<f64>() / v.len() as f64, v.len()))
    };
    let before = mean(&|t| t < response_at);
    let after_m = mean(&|t| t >= response_at);
    if before.is_some() || after_m.is_some() {
        let f = |m: Option<(f64, usize)>| {
            m.map(|(v, n)| format!("{v:.2}（{} 条）", num(n as u64)))
                .unwrap_or_else(|| "—".into())
        };
        facts.push(Fact::new(
            "情感均值 回应前 / 回应后",
            format!("{} / {}", f(before), f(after_m)),
            evidence.clone(),
        ));
    }
    s.text(
        format!(
            "首次公开回应于 {}，以下为回应前后的传播与情感对比。",
            ctx.t(response_at)
        ),
        evidence,
    );
    s.push(Block::Facts(facts));
}
