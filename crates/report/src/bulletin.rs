//! 定期通报: how the cases first alerted in a period were handled, per department and per place —
//! counts, response times, deadlines met and missed, late (迟报) and missed (漏报) reports.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use yuqing_cases::Cases;
use yuqing_core::AlertKind;
use yuqing_store::Store;

use crate::builder::{finish, Ctx};
use crate::data::{
    self, grade_text, group_stats, minutes_text, place, responsible_department, Appendix,
    CaseRecord, DeadlineOutcome, GroupStats,
};
use crate::error::ReportError;
use crate::escape::gist;
use crate::model::{Block, Evidence, Period, Report, ReportKind, Row, Section, Table};

type Result<T, E = ReportError> = std::result::Result<T, E>;

fn group_table(groups: &[GroupStats], first: &str) -> Table {
    Table {
        columns: vec![
            first.to_string(),
            "案件".into(),
            "等级（I/II/III/IV）".into(),
            "受理".into(),
            "回应".into(),
            "办结".into(),
            "预警→受理".into(),
            "预警→回应".into(),
            "时限 按时/超时/未到期".into(),
            "迟报".into(),
            "漏报".into(),
        ],
        rows: groups
            .iter()
            .map(|g| {
                let s = &g.stats;
                let grades = ["I", "II", "III", "IV"]
                    .iter()
                    .map(|k| s.by_grade.get(*k).copied().unwrap_or(0).to_string())
                    .collect::<Vec<_>>()
                    .join("/");
                let mut evidence = g.cases.clone();
                evidence.extend(g.late.iter().cloned());
                evidence.extend(g.responses.iter().cloned());
                for (_, d) in &g.missed {
                    evidence.extend(d.evidence.iter().cloned());
                }
                let mut seen = std::collections::HashSet::new();
                evidence.retain(|e| seen.insert(e.clone()));
                Row {
                    cells: vec![
                        s.department.clone(),
                        s.cases.to_string(),
                        grades,
                        s.accepted.to_string(),
                        s.responded.to_string(),
                        s.closed.to_string(),
                        minutes_text(&s.to_accept),
                        minutes_text(&s.to_response),
                        format!(
                            "{}/{}/{}",
                            s.deadlines_met, s.deadlines_missed, s.deadlines_pending
                        ),
                        s.late_accepted.to_string(),
                        s.not_acted_on.to_string(),
                    ],
                    evidence,
                }
            })
            .collect(),
    }
}

/// Builds the 定期通报 of the cases first alerted in `[from, to)`.
pub async fn bulletin(
    store: &Store,
    cases: &Cases,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
    tz: FixedOffset,
) -> Result<Report> {
    if to <= from {
        return Err(ReportError::invalid("to", "must be after from"));
    }
    let ctx = Ctx::new(cases, tz);
    let accept_within = cases.config().accept_within;
    let list = data::cases_alerted_between(cases, from, to).await?;
    let mut records = Vec::with_capacity(list.len());
    for case in list {
        let audit = cases.audit(&case.case_id).await?;
        records.push(CaseRecord { case, audit });
    }
    let mut app = Appendix::new(tz);
    for r in &records {
        app.case(&r.case);
        for e in &r.audit {
            app.audit(e);
        }
    }
    let by_dept = group_stats(&records, accept_within, ctx.now, |r| {
        responsible_department(&r.case, &r.audit)
    });
    let by_place = group_stats(&records, accept_within, ctx.now, |r| place(&r.case));
    let total = group_stats(&records, accept_within, ctx.now, |_| "合计".to_string());
    let alerts = store.alerts_between(from, to).await?;

    let mut sections = Vec::new();
    let mut s = Section::new("概况");
    match total.first() {
        None => {
            s.text(
                format!("{} 至 {} 无预警立案的案件。", ctx.t(from), ctx.t(to)),
                Vec::new(),
            );
        }
        Some(t) => {
            let st = &t.stats;
            let grades: Vec<String> = ["I", "II", "III", "IV"]
                .iter()
                .filter_map(|g| st.by_grade.get(*g).map(|n| format!("{g} 级 {n} 件")))
                .collect();
            s.text(
                format!(
                    "本期（{} 至 {}）预警立案 {} 件（{}）；已受理 {} 件，已公开回应 {} 件，已办结 {} 件，再次升温重新受理 {} 件。",
                    ctx.t(from),
                    ctx.t(to),
                    st.cases,
                    grades.join("、"),
                    st.accepted,
                    st.responded,
                    st.closed,
                    st.reopened
                ),
                t.cases.clone(),
            );
            s.text(
                format!(
                    "预警至受理：{}；预警至首次公开回应：{}。",
                    minutes_text(&st.to_accept),
                    minutes_text(&st.to_response)
                ),
                t.cases.clone(),
            );
            let mut missed_ev: Vec<Evidence> = Vec::new();
            for (_, d) in &t.missed {
                missed_ev.extend(d.evidence.iter().cloned());
            }
            if missed_ev.is_empty() {
                missed_ev = t.cases.clone();
            }
            s.text(
                format!(
                    "回应时限 {} 项：按时 {} 项，超时 {} 项，未到期 {} 项。",
                    st.deadlines_met + st.deadlines_missed + st.deadlines_pending,
                    st.deadlines_met,
                    st.deadlines_missed,
                    st.deadlines_pending
                ),
                missed_ev,
            );
            let mut late_ev = t.late.clone();
            late_ev.extend(t.not_acted_on.iter().cloned());
            s.text(
                format!(
                    "迟报（预警后超过 {} 才受理）{} 件；漏报（预警后超过 {} 仍未受理）{} 件。",
                    humantime::format_duration(accept_within),
                    st.late_accepted,
                    humantime::format_duration(accept_within),
                    st.not_acted_on
                ),
                if late_ev.is_empty() {
                    t.cases.clone()
                } else {
                    late_ev
                },
            );
        }
    }
    let mut kinds: BTreeMap<(u8, &str), Vec<Evidence>> = BTreeMap::new();
    for a in alerts.iter().filter(|a| a.kind != AlertKind::SourceHealth) {
        kinds
            .entry((data::kind_rank(a.kind), a.kind.label()))
            .or_default()
            .push(app.alert(a));
    }
    if !kinds.is_empty() {
        let parts: Vec<String> = kinds
            .iter()
            .map(|((_, k), v)| format!("{k} {} 条", v.len()))
            .collect();
        s.text(
            format!(
                "本期发出预警 {} 条：{}。",
                kinds.values().map(Vec::len).sum::<usize>(),
                parts.join("、")
            ),
            kinds.into_values().flatten().collect(),
        );
    }
    s.note(format!(
        "统计对象为本期内首次预警的案件；责任单位为最后一次转办的单位（未转办时为研判的主管单位）；属地为案件所载属地；迟报、漏报的受理时限为 {}（案件流程配置 accept_within）；时限结果：超时预警已声明的为超时，首次公开回应不晚于截止时间的为按时，已过截止时间仍无回应的为超时，其余未到期。",
        humantime::format_duration(accept_within)
    ));
    sections.push(s);

    let mut s = Section::new("按责任单位");
    if by_dept.is_empty() {
        s.text("无。", Vec::new());
    } else {
        s.push(Block::Table(group_table(&by_dept, "责任单位")));
    }
    sections.push(s);

    let mut s = Section::new("按属地");
    if by_place.is_empty() {
        s.text("无。", Vec::new());
    } else {
        s.push(Block::Table(group_table(&by_place, "属地")));
    }
    sections.push(s);

    let find = |id: &str| records.iter().find(|r| r.case.case_id == id);
    let mut s = Section::new("超时明细");
    let missed: Vec<&(String, data::DeadlineCheck)> =
        total.iter().flat_map(|t| t.missed.iter()).collect();
    if missed.is_empty() {
        s.text("本期无超时。", Vec::new());
    } else {
        let rows = missed
            .iter()
            .filter_map(|(case_id, d)| {
                let r = find(case_id)?;
                let mut evidence = vec![Evidence::case(case_id)];
                evidence.extend(d.evidence.iter().cloned());
                Some(Row {
                    cells: vec![
                        gist(&r.case.title, 30),
                        responsible_department(&r.case, &r.audit),
                        d.label.clone(),
                        ctx.t(d.due),
                        match (&d.outcome, data::first_response(&r.audit)) {
                            (DeadlineOutcome::Missed { declared: true }, Some((resp, _))) => {
                                format!("超时预警已发出；首次回应 {}", ctx.t(resp.at))
                            }
                            (DeadlineOutcome::Missed { declared: true }, None) => {
                                "超时预警已发出；尚无公开回应".into()
                            }
                            (_, Some((resp, _))) => format!("首次回应 {}", ctx.t(resp.at)),
                            (_, None) => "截止时未记录回应".into(),
                        },
                    ],
                    evidence,
                })
            })
            .collect();
        s.push(Block::Table(Table {
            columns: vec![
                "案件".into(),
                "责任单位".into(),
                "时限".into(),
                "截止时间".into(),
                "说明".into(),
            ],
            rows,
        }));
    }
    sections.push(s);

    let mut s = Section::new("迟报与漏报明细");
    let mut rows = Vec::new();
    for t in &total {
        for e in &t.late {
            let Evidence::Audit { case_id, id } = e else {
                continue;
            };
            let Some(r) = find(case_id) else { continue };
            let Some(entry) = r.audit.iter().find(|x| x.id == *id) else {
                continue;
            };
            rows.push(Row {
                cells: vec![
                    gist(&r.case.title, 30),
                    responsible_department(&r.case, &r.audit),
                    "迟报".into(),
                    ctx.t(r.case.first_alert),
                    format!(
                        "{} 受理，用时 {} 分钟",
                        ctx.t(entry.at),
                        (entry.at - r.case.first_alert).num_minutes()
                    ),
                ],
                evidence: vec![Evidence::case(case_id), e.clone()],
            });
        }
        for e in &t.not_acted_on {
            let Evidence::Case { id } = e else { continue };
            let Some(r) = find(id) else { continue };
            rows.push(Row {
                cells: vec![
                    gist(&r.case.title, 30),
                    responsible_department(&r.case, &r.audit),
                    "漏报".into(),
                    ctx.t(r.case.first_alert),
                    format!("截至 {} 仍为{}", ctx.t(ctx.now), r.case.state.label()),
                ],
                evidence: vec![e.clone()],
            });
        }
    }
    if rows.is_empty() {
        s.text("本期无迟报、漏报。", Vec::new());
    } else {
        s.push(Block::Table(Table {
            columns: vec![
                "案件".into(),
                "责任单位".into(),
                "类型".into(),
                "首次预警".into(),
                "说明".into(),
            ],
            rows,
        }));
    }
    sections.push(s);

    let mut s = Section::new("案件清单");
    if records.is_empty() {
        s.text("无。", Vec::new());
    } else {
        let rows = records
            .iter()
            .map(|r| {
                let c = &r.case;
                let opt = |t: Option<DateTime<FixedOffset>>| {
                    t.map(|t| ctx.t(t)).unwrap_or_else(|| "—".into())
                };
                Row {
                    cells: vec![
                        gist(&c.title, 30),
                        grade_text(c.grade),
                        c.state.label().to_string(),
                        responsible_department(c, &r.audit),
                        place(c),
                        ctx.t(c.first_alert),
                        opt(r.audit.iter().find(|e| e.action == "accept").map(|e| e.at)),
                        opt(data::first_response(&r.audit).map(|(x, _)| x.at)),
                        opt(c.closed),
                    ],
                    evidence: vec![Evidence::case(&c.case_id), Evidence::event(&c.event_id)],
                }
            })
            .collect();
        for r in &records {
            if let Some(e) = store.event(&r.case.event_id).await? {
                app.event(&e);
            }
        }
        let mut table: Table = Table {
            columns: vec![
                "案件".into(),
                "等级".into(),
                "状态".into(),
                "责任单位".into(),
                "属地".into(),
                "首次预警".into(),
                "受理".into(),
                "首次回应".into(),
                "办结".into(),
            ],
            rows,
        };
        for row in &mut table.rows {
            row.evidence.retain(|e| app.has(e));
        }
        s.push(Block::Table(table));
    }
    sections.push(s);

    let last = to - chrono::Duration::milliseconds(1);
    Ok(finish(
        ReportKind::Bulletin,
        format!(
            "舆情处置情况通报（{} 至 {}）",
            ctx.local(from).format("%Y年%m月%d日"),
            ctx.local(last).format("%Y年%m月%d日")
        ),
        Period { from, to },
        sections,
        app,
        &ctx,
    ))
}
