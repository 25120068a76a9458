//! The wall view: open cases by grade, with countdowns.

use maud::{html, Markup};
use yuqing_core::clock::cst;
use yuqing_core::{Alert, Grade};

use super::{deadlines, grade_badge, page, state_tag, Chrome, PageOpts};
use crate::app::{encode_segment, WallCase};
use crate::text::{self, DeadlineState};

/// The most urgent unmet due time of a case (epoch ms), for ordering.
fn urgency(w: &WallCase, c: &Chrome<'_>) -> i64 {
    let now = c.now.with_timezone(&cst());
    w.case
        .deadlines
        .iter()
        .filter(|d| {
            matches!(
                text::deadline_state(Some(&w.case), d, now),
                DeadlineState::Pending(_) | DeadlineState::Overdue(_)
            )
        })
        .map(|d| d.due.timestamp_millis())
        .min()
        .unwrap_or(i64::MAX)
}

fn overdue(w: &WallCase, c: &Chrome<'_>) -> bool {
    let now = c.now.with_timezone(&cst());
    w.case.deadlines.iter().any(|d| {
        matches!(
            text::deadline_state(Some(&w.case), d, now),
            DeadlineState::Overdue(_)
        )
    })
}

pub(crate) fn wall(
    c: &Chrome<'_>,
    refresh_secs: u64,
    cases: &[WallCase],
    more: bool,
    health: &[Alert],
) -> Markup {
    let mut by_grade: Vec<(Grade, Vec<&WallCase>)> =
        Grade::ALL.iter().map(|g| (*g, Vec::new())).collect();
    for w in cases {
        if let Some((_, v)) = by_grade.iter_mut().find(|(g, _)| *g == w.case.grade) {
            v.push(w);
        }
    }
    for (_, v) in &mut by_grade {
        v.sort_by_key(|w| (urgency(w, c), -w.case.first_alert.timestamp_millis()));
    }
    let overdue_n = cases.iter().filter(|w| overdue(w, c)).count();
    let pending_n = cases
        .iter()
        .filter(|w| w.case.state == yuqing_cases::CaseState::Pending)
        .count();
    let body = html! {
        section.summary {
            h1 { "预警墙" }
            ul.totals {
                @for (g, v) in &by_grade {
                    li class={ "total " (text::grade_class(*g)) } {
                        span.total-n { (v.len()) }
                        span.total-label { (g.as_str()) "级 " (g.colour()) }
                    }
                }
                li.total.total-pending { span.total-n { (pending_n) } span.total-label { "待受理" } }
                li.total.total-overdue { span.total-n { (overdue_n) } span.total-label { "超时未回应" } }
            }
            p.refresh-note { "每 " (refresh_secs) " 秒自动刷新" }
        }
        @if cases.is_empty() {
            p.empty.panel { "当前没有未办结的预警。" }
        }
        section.columns {
            @for (g, v) in &by_grade {
                section class={ "column " (text::grade_class(*g)) } {
                    h2 { (grade_badge(*g)) span.count { (v.len()) } }
                    @for w in v {
                        (card(c, w))
                    }
                }
            }
        }
        @if more {
            p.more { "未办结案件较多，仅显示最近的部分；" a href="/console/cases" { "查看全部案件" } }
        }
        @if !health.is_empty() {
            section.panel.health {
                h2 { "信源异常（24 小时内）" }
                ul {
                    @for a in health {
                        li { time datetime=(a.at.to_rfc3339()) { (text::short_datetime(&a.at)) } " " (a.title) }
                    }
                }
            }
        }
    };
    page(
        c,
        "预警墙",
        PageOpts {
            refresh: Some(refresh_secs),
            body_class: "wall",
        },
        body,
    )
}

fn card(c: &Chrome<'_>, w: &WallCase) -> Markup {
    let case = &w.case;
    let case_url = format!("/console/cases/{}", encode_segment(&case.case_id));
    let event_url = format!("/console/events/{}", encode_segment(&case.event_id));
    html! {
        article class={ "card " (text::grade_class(case.grade)) } data-case=(case.case_id) {
            div.card-head {
                (grade_badge(case.grade))
                @if let Some(a) = &w.latest {
                    span.kind { (a.kind.label()) }
                    span.stage { (a.stage.label()) }
                }
                (state_tag(case.state))
            }
            h3.card-title { a href=(case_url) { (case.title) } }
            p.meta {
                @if let Some(d) = case.responsible() { span.dept { (d) } }
                @if let Some(r) = &case.region { span.region { (r) } }
                span.first { "首次预警 " time datetime=(case.first_alert.to_rfc3339()) { (text::short_datetime(&case.first_alert)) } }
            }
            @if !case.deadlines.is_empty() {
                (deadlines(Some(case), &case.deadlines, c.now))
            }
            p.links { a href=(event_url) { "事件详情" } }
        }
    }
}
