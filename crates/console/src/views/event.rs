//! The event page.

use std::collections::BTreeMap;

use maud::{html, Markup};
use yuqing_cases::Case;
use yuqing_core::{Alert, Event, JudgedItem, Reason, Stage};
use yuqing_store::SpreadPoint;

use super::{deadlines, grade_badge, link_or_text, page, state_tag, Chrome, PageOpts};
use crate::app::encode_segment;
use crate::chart;
use crate::text;
use yuqing_report::data::platform_label;
use yuqing_report::escape::gist;

/// Where a stage lies on the curve, in words.
fn stage_words(s: Stage) -> String {
    let span = match s {
        Stage::Emerging => "首次发现后 0–2 小时",
        Stage::Spreading => "2–6 小时，转播扩散",
        Stage::Peak => "6–24 小时，达到高潮",
        Stage::Fading => "高潮已过或趋于平静",
    };
    format!("{}（{span}）", s.label())
}

fn reasons_list(reasons: &[Reason]) -> Markup {
    html! {
        ul.reasons {
            @for r in reasons {
                li { (text::reason_words(r)) }
            }
        }
    }
}

/// One post as shown: its latest observation and how often it was seen.
struct Row<'a> {
    latest: &'a JudgedItem,
    seen: usize,
}

fn rows(items: &[JudgedItem]) -> Vec<Row<'_>> {
    let mut by_key: BTreeMap<(&str, &str), Row<'_>> = BTreeMap::new();
    for j in items {
        let key = (j.item.source.as_str(), j.item.id.as_str());
        by_key
            .entry(key)
            .and_modify(|r| {
                r.seen += 1;
                if j.item.observed_at >= r.latest.item.observed_at {
                    r.latest = j;
                }
            })
            .or_insert(Row { latest: j, seen: 1 });
    }
    let mut out: Vec<Row<'_>> = by_key.into_values().collect();
    out.sort_by_key(|r| (r.latest.item.published_at, r.latest.item.id.clone()));
    out
}

fn metrics_words(j: &JudgedItem) -> String {
    let m = &j.item.metrics;
    let mut parts = Vec::new();
    for (label, v) in [
        ("转", m.reposts),
        ("评", m.comments),
        ("赞", m.likes),
        ("阅", m.views),
    ] {
        if let Some(v) = v {
            parts.push(format!("{label} {v}"));
        }
    }
    if parts.is_empty() {
        "—".to_string()
    } else {
        parts.join(" · ")
    }
}

pub(crate) fn event(
    c: &Chrome<'_>,
    ev: &Event,
    case: Option<&Case>,
    items: &[JudgedItem],
    items_limit: i64,
    spread: &[SpreadPoint],
    alerts: &[Alert],
) -> Markup {
    let f = &ev.forecast_peak;
    let rows = rows(items);
    let body = html! {
        p.crumbs {
            a href="/console/" { "预警墙" } " / 事件 " code { (ev.event_id) }
        }
        section.panel.event-head {
            div.head-line {
                @match ev.grade {
                    Some(g) => (grade_badge(g)),
                    None => span.badge.grade-none { "未定级" },
                }
                @if let Some(case) = case {
                    a.case-link href={ "/console/cases/" (encode_segment(&case.case_id)) } {
                        "案件 " (state_tag(case.state))
                    }
                }
                a.report-link href={ "/console/reports/event/" (encode_segment(&ev.event_id)) } { "舆情专报" }
            }
            h1 { (ev.title) }
            dl.facts {
                dt { "阶段" } dd { (stage_words(ev.stage)) }
                dt { "传播速度" } dd { (text::num(ev.velocity)) " 次/小时（加速度 " (text::num(ev.acceleration)) " 次/小时²）" }
                dt { "24 小时预测" } dd {
                    "规模 " (text::num(f.size)) "，区间 " (text::num(f.low)) "–" (text::num(f.high))
                    @if let Some(p) = f.peak_at { "，预计高峰 " (text::datetime(&p)) }
                    span.muted { "（" (f.method) "）" }
                }
                dt { "当前规模" } dd {
                    (ev.counts.items) " 条，转发 " (ev.counts.reposts) "，评论 " (ev.counts.comments)
                    "，点赞 " (ev.counts.likes) "，阅读 " (ev.counts.views)
                    "；" (ev.counts.platforms) " 个平台，" (ev.counts.sources) " 个来源"
                    @if ev.counts.official > 0 { "，政务号 " (ev.counts.official) }
                    @if ev.counts.media > 0 { "，媒体 " (ev.counts.media) }
                }
                dt { "主管部门" } dd { (ev.department.as_deref().unwrap_or("未识别")) }
                dt { "属地" } dd { (ev.region.as_deref().unwrap_or("未识别")) }
                dt { "回应主体" } dd {
                    @if ev.response_subject.is_empty() { "未识别" } @else { (ev.response_subject.join(" → ")) }
                }
                @if let Some(cat) = &ev.category { dt { "分类" } dd { (cat) } }
                @if let Some(h) = ev.handling_class { dt { "处置类别" } dd { (h.as_str()) } }
                dt { "敏感度 / 情感" } dd { (format!("{:.2}", ev.sensitivity)) " / " (format!("{:+.2}", ev.sentiment)) }
                @if !ev.topics.is_empty() { dt { "敏感话题" } dd { (ev.topics.join("、")) } }
                @if !ev.keywords.is_empty() { dt { "关键词" } dd { (ev.keywords.join("、")) } }
                dt { "首次发现" } dd {
                    (text::datetime(&ev.first_seen)) "，" (ev.first_source)
                    @if let Some(u) = &ev.first_url { " " (link_or_text(u, "首发原文")) }
                }
                dt { "最近更新" } dd { (text::datetime(&ev.updated_at)) }
            }
            @if let Some(case) = case {
                @if !case.deadlines.is_empty() {
                    h2 { "处置时限" }
                    (deadlines(Some(case), &case.deadlines, c.now))
                }
            }
        }
        section.panel.spread {
            h2 { "传播曲线" }
            (chart::spread(spread, ev.first_seen.to_utc(), f))
            @if !spread.is_empty() {
                details {
                    summary { "数据（" (spread.len()) " 个时点）" }
                    table.table.compact {
                        thead { tr { th { "时间" } th { "条数" } th { "转发" } th { "评论" } th { "点赞" } th { "速度" } th { "阶段" } } }
                        tbody {
                            @for p in spread {
                                tr {
                                    td { (text::short_datetime(&p.at)) } td { (p.items) } td { (p.reposts) }
                                    td { (p.comments) } td { (p.likes) } td { (text::num(p.velocity)) } td { (p.stage) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !ev.reasons.is_empty() {
            section.panel {
                h2 { "研判依据" }
                (reasons_list(&ev.reasons))
            }
        }
        section.panel.alerts {
            h2 { "预警记录（" (alerts.len()) "）" }
            @if alerts.is_empty() { p.empty { "尚未预警。" } }
            @for a in alerts.iter().rev() {
                article.alert {
                    div.alert-head {
                        time datetime=(a.at.to_rfc3339()) { (text::datetime(&a.at)) }
                        " " span.kind { (a.kind.label()) } " "
                        @if let Some(p) = a.previous_grade { (grade_badge(p)) " → " }
                        (grade_badge(a.grade))
                        " " span.stage { (a.stage.label()) }
                        " " span.muted { "规则 " (a.rule) }
                    }
                    @if !a.reasons.is_empty() { (reasons_list(&a.reasons)) }
                    @if !a.deadlines.is_empty() { (deadlines(case, &a.deadlines, c.now)) }
                }
            }
        }
        section.panel.items {
            h2 {
                "相关信息（" (rows.len()) " 条"
                @if items.len() as i64 >= items_limit { "，仅显示前 " (items_limit) " 次观测" }
                "）"
            }
            div.table-wrap {
                table.table.items-table {
                    thead { tr { th { "来源" } th { "平台" } th { "发布时间" } th { "内容" } th { "互动" } th { "敏感度" } th { "链接" } } }
                    tbody {
                        @for r in &rows {
                            @let j = r.latest;
                            @let it = &j.item;
                            tr {
                                td { (it.source) @if let Some(a) = &it.author { br; span.muted { (a) } } }
                                td { (platform_label(it.platform)) }
                                td { time datetime=(it.published_at.to_rfc3339()) { (text::short_datetime(&it.published_at)) } }
                                td.text {
                                    @if let Some(t) = it.title.as_deref().filter(|t| !t.trim().is_empty()) {
                                        strong { (gist(t, 60)) } " "
                                    }
                                    span.excerpt { (gist(&it.text, 140)) }
                                    @if !j.analysis.reasons.is_empty() {
                                        details.why {
                                            summary { "判断依据（" (j.analysis.reasons.len()) "）" }
                                            (reasons_list(&j.analysis.reasons))
                                        }
                                    }
                                }
                                td { (metrics_words(j)) @if r.seen > 1 { br; span.muted { "观测 " (r.seen) " 次" } } }
                                td { (format!("{:.2}", j.analysis.sensitivity)) }
                                td {
                                    @match &it.url {
                                        Some(u) => (link_or_text(u, "原文")),
                                        None => "—",
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(c, &ev.title, PageOpts::default(), body)
}
