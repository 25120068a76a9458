//! The case list and the case page with its action forms.

use maud::{html, Markup};
use serde_json::Value;
use yuqing_cases::{AuditEntry, Case, CaseState, Channel, Role};
use yuqing_core::clock::cst;
use yuqing_core::Grade;

use super::{deadlines, grade_badge, link_or_text, page, role_note, state_tag, Chrome, PageOpts};
use crate::app::{encode_segment, ListQuery};
use crate::text::{self, DeadlineState};
use yuqing_report::escape::gist;

fn list_href(q: &ListQuery, page: i64) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if let Some(st) = q.state {
        s.append_pair("state", st.as_str());
    }
    if let Some(g) = q.grade {
        s.append_pair("grade", g.as_str());
    }
    if q.all {
        s.append_pair("scope", "all");
    }
    if let Some(d) = &q.department {
        s.append_pair("department", d);
    }
    s.append_pair("page", &page.to_string());
    format!("/console/cases?{}", s.finish())
}

/// The next unmet due time of a case, in words.
fn next_due(c: &Chrome<'_>, case: &Case) -> Markup {
    let now = c.now.with_timezone(&cst());
    let next = case
        .deadlines
        .iter()
        .filter(|d| {
            matches!(
                text::deadline_state(Some(case), d, now),
                DeadlineState::Pending(_) | DeadlineState::Overdue(_)
            )
        })
        .min_by_key(|d| d.due);
    match next {
        Some(d) if case.state.is_open() => deadlines(Some(case), std::slice::from_ref(d), c.now),
        _ => html! { span.muted { "—" } },
    }
}

pub(crate) fn cases(c: &Chrome<'_>, q: &ListQuery, list: &[Case], more: bool) -> Markup {
    let department_user = c.user.is_some_and(|u| u.actor.role == Role::Department);
    let body = html! {
        section.panel {
            h1 { "案件" }
            form.filters method="get" action="/console/cases" {
                label { "状态 "
                    select name="state" {
                        option value="" selected[q.state.is_none()] { "全部" }
                        @for s in CaseState::ALL {
                            option value=(s.as_str()) selected[q.state == Some(s)] { (s.label()) }
                        }
                    }
                }
                label { "等级 "
                    select name="grade" {
                        option value="" selected[q.grade.is_none()] { "全部" }
                        @for g in Grade::ALL {
                            option value=(g.as_str()) selected[q.grade == Some(g)] { (g.as_str()) "级 " (g.label()) }
                        }
                    }
                }
                label { "范围 "
                    select name="scope" {
                        option value="open" selected[!q.all] { "未办结" }
                        option value="all" selected[q.all] { "全部（含办结）" }
                    }
                }
                @if !department_user {
                    label { "责任单位 "
                        input type="text" name="department" value=[q.department.as_deref()] maxlength="100";
                    }
                }
                button type="submit" { "筛选" }
            }
            @if list.is_empty() {
                p.empty { "没有符合条件的案件。" }
            } @else {
                div.table-wrap {
                    table.table.cases-table {
                        thead { tr { th { "等级" } th { "标题" } th { "状态" } th { "责任单位" } th { "首次预警" } th { "最近时限" } } }
                        tbody {
                            @for case in list {
                                tr {
                                    td { (grade_badge(case.grade)) }
                                    td { a href={ "/console/cases/" (encode_segment(&case.case_id)) } { (case.title) } }
                                    td { (state_tag(case.state)) }
                                    td { (case.responsible().unwrap_or("未指定")) }
                                    td { (text::short_datetime(&case.first_alert)) }
                                    td { (next_due(c, case)) }
                                }
                            }
                        }
                    }
                }
            }
            p.pager {
                @if q.page > 1 { a href=(list_href(q, q.page - 1)) { "上一页" } }
                " 第 " (q.page) " 页 "
                @if more { a href=(list_href(q, q.page + 1)) { "下一页" } }
            }
        }
    };
    page(c, "案件", PageOpts::default(), body)
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// What an audit entry's details say, in words.
fn detail(e: &AuditEntry) -> Markup {
    let d = &e.detail;
    match e.action.as_str() {
        "opened" | "alert" => html! {
            (s(d, "kind_label").unwrap_or("预警"))
            @if let Some(g) = s(d, "grade").and_then(Grade::parse) { " " (grade_badge(g)) }
            @if let Some(r) = s(d, "rule") { " " span.muted { "规则 " (r) } }
            @if let Some(rs) = d.get("reasons").and_then(Value::as_array) {
                @if !rs.is_empty() {
                    ul.reasons { @for r in rs { @if let Some(r) = r.as_str() { li { (r) } } } }
                }
            }
        },
        "assign" => html! { "转办至 " strong { (s(d, "department").unwrap_or("—")) } },
        "reassign" => html! {
            "改派至 " strong { (s(d, "department").unwrap_or("—")) }
            @if let Some(p) = s(d, "previous") { "（原 " (p) "）" }
            @if let Some(r) = s(d, "reason") { p.pre { "理由：" (r) } }
        },
        "feedback" => html! { p.pre { (s(d, "facts").unwrap_or("")) } },
        "respond" => {
            let r = d.get("response").cloned().unwrap_or(Value::Null);
            let channel = s(&r, "channel")
                .and_then(Channel::parse)
                .map(Channel::label)
                .unwrap_or("其他");
            let at = s(&r, "at")
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| text::datetime(&t));
            html! {
                (channel)
                @if let Some(at) = at { " · 发布于 " (at) }
                @if let Some(l) = s(&r, "link") { " · " (link_or_text(l, "回应链接")) }
            }
        }
        "close" => html! {
            @if d.get("without_response").and_then(Value::as_bool) == Some(true) { "未经公开回应办结。" }
            @if let Some(n) = s(d, "note") { p.pre { (n) } }
        },
        "note" => html! { p.pre { (s(d, "text").unwrap_or("")) } },
        "reopened" => html! { (s(d, "reason").unwrap_or("再次升温，重新受理")) },
        _ => html! { code { (gist(&d.to_string(), 200)) } },
    }
}

fn csrf(c: &Chrome<'_>) -> Markup {
    html! {
        @if let Some(u) = c.user {
            input type="hidden" name="csrf" value=(u.csrf);
        }
    }
}

fn forms(c: &Chrome<'_>, case: &Case, actions: &[&str], departments: &[String]) -> Markup {
    let base = format!("/console/cases/{}", encode_segment(&case.case_id));
    let now = c
        .now
        .with_timezone(&cst())
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    html! {
        @for a in actions {
            @match *a {
                "accept" => form #form-accept .action method="post" action={ (base) "/accept" } {
                    (csrf(c))
                    p.hint { "受理后转办至主管部门。" }
                    button type="submit" { "受理" }
                },
                "assign" => form #form-assign .action method="post" action={ (base) "/assign" } {
                    (csrf(c))
                    label for="assign-department" { "转办至部门" }
                    input #assign-department type="text" name="department" list="departments"
                        value=[case.department.as_deref()] required maxlength="100";
                    button type="submit" { "转办" }
                },
                "reassign" => form #form-reassign .action method="post" action={ (base) "/reassign" } {
                    (csrf(c))
                    label for="reassign-department" { "改派至部门" }
                    input #reassign-department type="text" name="department" list="departments" required maxlength="100";
                    label for="reassign-reason" { "改派理由" }
                    input #reassign-reason type="text" name="reason" required maxlength="2000";
                    button type="submit" { "改派" }
                },
                "feedback" => form #form-feedback .action method="post" action={ (base) "/feedback" } {
                    (csrf(c))
                    label for="feedback-facts" { "部门反馈（核实情况）" }
                    textarea #feedback-facts name="facts" rows="4" required maxlength="20000" {}
                    button type="submit" { "提交反馈" }
                },
                "respond" => form #form-respond .action method="post" action={ (base) "/respond" } {
                    (csrf(c))
                    label for="respond-channel" { "回应渠道" }
                    select #respond-channel name="channel" required {
                        @for ch in Channel::ALL {
                            option value=(ch.as_str()) { (ch.label()) }
                        }
                    }
                    label for="respond-link" { "回应链接（http/https，可选）" }
                    input #respond-link type="url" name="link" placeholder="https://" maxlength="2000";
                    label for="respond-at" { "发布时间（北京时间，默认现在）" }
                    input #respond-at type="datetime-local" name="at" value=(now);
                    button type="submit" { "登记回应" }
                },
                "close" => form #form-close .action method="post" action={ (base) "/close" } {
                    (csrf(c))
                    label for="close-note" {
                        "办结说明"
                        @if case.state != CaseState::Responded { "（未公开回应，必须说明理由）" } @else { "（可选）" }
                    }
                    textarea #close-note name="note" rows="2" maxlength="4000"
                        required[case.state != CaseState::Responded] {}
                    button type="submit" { "办结" }
                },
                "note" => form #form-note .action method="post" action={ (base) "/note" } {
                    (csrf(c))
                    label for="note-text" { "备注" }
                    textarea #note-text name="text" rows="2" required maxlength="4000" {}
                    button type="submit" { "添加备注" }
                },
                _ => {},
            }
        }
        @if !departments.is_empty() {
            datalist #departments {
                @for d in departments { option value=(d) {} }
            }
        }
    }
}

pub(crate) fn case(
    c: &Chrome<'_>,
    case: &Case,
    audit: &[AuditEntry],
    actions: &[&str],
    departments: &[String],
    done: Option<&str>,
) -> Markup {
    let body = html! {
        p.crumbs {
            a href="/console/cases" { "案件" } " / " code { (case.case_id) }
        }
        @if let Some(a) = done {
            p.flash.flash-ok { "已完成：" (text::action_label(a)) "。" }
        }
        section.panel.case-head {
            div.head-line {
                (grade_badge(case.grade))
                span #case-state { (state_tag(case.state)) }
                @if case.reopened > 0 { span.muted { "重新受理 " (case.reopened) " 次" } }
            }
            h1 { (case.title) }
            dl.facts {
                dt { "事件" } dd {
                    a href={ "/console/events/" (encode_segment(&case.event_id)) } { "事件详情" }
                    " · "
                    a href={ "/console/reports/event/" (encode_segment(&case.event_id)) } { "舆情专报" }
                    @if case.state == CaseState::Closed {
                        " · "
                        a href={ "/console/reports/summary/" (encode_segment(&case.case_id)) } { "总结报告" }
                    }
                }
                dt { "主管部门" } dd { (case.department.as_deref().unwrap_or("未识别")) }
                dt { "转办至" } dd { (case.assigned_to.as_deref().unwrap_or("—")) }
                dt { "属地" } dd { (case.region.as_deref().unwrap_or("未识别")) }
                dt { "首次发现" } dd { (text::datetime(&case.first_seen)) }
                dt { "首次预警" } dd { (text::datetime(&case.first_alert)) }
                @if let Some(t) = case.accepted { dt { "受理" } dd { (text::datetime(&t)) } }
                @if let Some(t) = case.assigned { dt { "转办" } dd { (text::datetime(&t)) } }
                @if let Some(t) = case.feedback_at { dt { "反馈" } dd { (text::datetime(&t)) } }
                @if let Some(r) = &case.response {
                    dt { "公开回应" } dd {
                        (r.channel.label()) " · " (text::datetime(&r.at))
                        @if let Some(l) = &r.link { " · " (link_or_text(l, "回应链接")) }
                    }
                }
                @if let Some(t) = case.closed { dt { "办结" } dd { (text::datetime(&t)) } }
                @if let Some(u) = &case.url { dt { "首发原文" } dd { (link_or_text(u, "打开")) } }
            }
            @if let Some(f) = &case.feedback {
                h2 { "部门反馈" }
                p.pre { (f) }
            }
            @if !case.deadlines.is_empty() {
                h2 { "处置时限" }
                (deadlines(Some(case), &case.deadlines, c.now))
            }
        }
        section.panel.case-actions {
            h2 { "操作" }
            @if let Some(n) = role_note(c.user) {
                p.muted.role-note { (n) }
            } @else if actions.is_empty() {
                p.muted { "当前状态下没有您可执行的操作。" }
            }
            div.forms { (forms(c, case, actions, departments)) }
        }
        section.panel.timeline {
            h2 { "处置记录" }
            ol.audit {
                @for e in audit {
                    li class={ "entry action-" (e.action) } {
                        div.entry-head {
                            time datetime=(e.at.to_rfc3339()) { (text::full_datetime(&e.at)) }
                            " " strong { (text::action_label(&e.action)) }
                            " " span.actor { (e.actor) "（" (e.role.label()) "）" }
                            @if let (Some(f), Some(t)) = (e.from_state, e.to_state) {
                                @if f != t { " " span.muted { (f.label()) " → " (t.label()) } }
                            } @else if let Some(t) = e.to_state {
                                " " span.muted { "→ " (t.label()) }
                            }
                        }
                        div.entry-detail { (detail(e)) }
                    }
                }
            }
        }
    };
    page(c, &case.title, PageOpts::default(), body)
}
