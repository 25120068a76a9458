//! The pages. Every splice goes through maud, which escapes it; nothing user-generated is ever
//! written with `PreEscaped`.

mod case;
mod event;
mod wall;

use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use yuqing_cases::{Case, Role};
use yuqing_core::clock::cst;
use yuqing_core::Deadline;

pub(crate) use case::{case, cases};
pub(crate) use event::event;
pub(crate) use wall::wall;

use crate::reports::ReportLink;
use crate::session::SessionView;
use crate::text::{self, DeadlineState};
use yuqing_report::data::grade_text;
use yuqing_report::escape::{gist, safe_url};

/// The style sheet's URL (versioned so that an upgrade is not served a stale copy).
pub const CSS_URL: &str = concat!("/console/static/console.css?v=", env!("CARGO_PKG_VERSION"));
/// The script's URL.
pub const JS_URL: &str = concat!("/console/static/console.js?v=", env!("CARGO_PKG_VERSION"));

/// What every page shows around its body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chrome<'a> {
    /// The duty room's name.
    pub site: &'a str,
    /// The console clock's time.
    pub now: DateTime<Utc>,
    /// Seconds of console time per real second.
    pub speed: f64,
    /// Who is logged in.
    pub user: Option<&'a SessionView>,
}

/// Options of a page.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PageOpts<'a> {
    /// Reload every this many seconds.
    pub refresh: Option<u64>,
    /// A class for `<body>`.
    pub body_class: &'a str,
}

pub(crate) fn page(c: &Chrome<'_>, title: &str, opts: PageOpts<'_>, body: Markup) -> Markup {
    let speed = format!("{}", (c.speed * 1000.0).round() / 1000.0);
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(r) = opts.refresh {
                    meta http-equiv="refresh" content=(r);
                }
                title { (title) " · " (c.site) }
                link rel="stylesheet" href=(CSS_URL);
                script src=(JS_URL) defer {}
            }
            body class=(opts.body_class) data-now=(c.now.timestamp_millis()) data-speed=(speed) {
                header.top {
                    a.brand href="/console/" { (c.site) }
                    @if c.user.is_some() {
                        nav.nav {
                            a href="/console/" { "预警墙" }
                            a href="/console/cases" { "案件" }
                            a href="/console/reports" { "报告" }
                        }
                    }
                    span.clock data-clock="" { (text::full_datetime(&c.now)) }
                    @if let Some(u) = c.user {
                        span.user {
                            (u.actor.name) " · " (u.actor.role.label())
                            @if let Some(d) = &u.actor.department { " · " (d) }
                        }
                        form.logout method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(u.csrf);
                            button type="submit" { "退出" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub(crate) fn error(c: &Chrome<'_>, heading: &str, message: &str) -> Markup {
    page(
        c,
        heading,
        PageOpts::default(),
        html! {
            section.panel.error {
                h1 { (heading) }
                p.message { (message) }
                p {
                    @if c.user.is_some() {
                        a href="/console/" { "返回预警墙" }
                    } @else {
                        a href="/console/login" { "登录" }
                    }
                }
            }
        },
    )
}

pub(crate) fn login(c: &Chrome<'_>, csrf: &str, next: &str, message: Option<&str>) -> Markup {
    page(
        c,
        "登录",
        PageOpts {
            body_class: "login",
            ..PageOpts::default()
        },
        html! {
            section.panel.login-panel {
                h1 { "登录" }
                @if let Some(m) = message { p.flash.flash-error { (m) } }
                form method="post" action="/console/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="next" value=(next);
                    label for="token" { "API 令牌" }
                    input #token type="password" name="token" autocomplete="current-password" required;
                    p.hint { "粘贴配置在 [[api.users]] 中分配给您的令牌。" }
                    button type="submit" { "登录" }
                }
            }
        },
    )
}

pub(crate) fn reports(c: &Chrome<'_>, list: Option<&[ReportLink]>) -> Markup {
    page(
        c,
        "报告",
        PageOpts::default(),
        html! {
            section.panel {
                h1 { "报告" }
                p.hint { "报告按需从库中生成：每一句都注明依据（信息、事件、预警、案件与处置记录），可打印或下载 Markdown。" }
                @match list {
                    None => p.empty { "本实例未配置报告（舆情日志、专报、通报、总结）。" },
                    Some([]) => p.empty { "暂无报告。" },
                    Some(list) => div.table-wrap { table.table.reports-table {
                        thead { tr { th { "类别" } th { "标题" } th { "时段" } th { "Markdown" } } }
                        tbody {
                            @for r in list {
                                tr {
                                    td { (r.kind) }
                                    td { a href={ "/console/reports/" (r.path) } { (r.title) } }
                                    td { (r.period) }
                                    td { a href={ "/console/reports/" (r.path) ".md" } { "下载" } }
                                }
                            }
                        }
                    } },
                }
            }
        },
    )
}

/// A grade badge: `II级 重大`.
pub(crate) fn grade_badge(g: yuqing_core::Grade) -> Markup {
    html! {
        span class={ "badge " (text::grade_class(g)) } title=(grade_text(g)) {
            (g.as_str()) "级 " (g.label())
        }
    }
}

/// A case state tag.
pub(crate) fn state_tag(s: yuqing_cases::CaseState) -> Markup {
    html! { span class={ "state " (text::state_class(s)) } { (s.label()) } }
}

/// A link when `url` is http(s), else the URL as text.
pub(crate) fn link_or_text(url: &str, label: &str) -> Markup {
    match safe_url(url) {
        Some(u) => {
            html! { a href=(u) rel="noopener noreferrer nofollow" target="_blank" { (label) } }
        }
        None => {
            html! { code.unsafe-link title="非 http(s) 链接，未作为链接显示" { (gist(url, 80)) } }
        }
    }
}

/// The deadlines of a case with their countdowns (`data-due` in epoch milliseconds).
pub(crate) fn deadlines(case: Option<&Case>, list: &[Deadline], now: DateTime<Utc>) -> Markup {
    let now = now.with_timezone(&cst());
    html! {
        ul.deadlines {
            @for d in list {
                @let st = text::deadline_state(case, d, now);
                li class=(match st {
                    DeadlineState::Met => "deadline met",
                    DeadlineState::MetLate => "deadline met-late",
                    DeadlineState::Pending(_) => "deadline pending",
                    DeadlineState::Overdue(_) => "deadline overdue",
                }) {
                    span.dl-label { (d.label) }
                    " "
                    time.dl-due datetime=(d.due.to_rfc3339()) { (text::short_datetime(&d.due)) }
                    " "
                    @match st {
                        DeadlineState::Met => span.countdown.done { "已回应" },
                        DeadlineState::MetLate => span.countdown.done.late { "超时后回应" },
                        DeadlineState::Pending(ms) => span.countdown data-due=(d.due.timestamp_millis()) {
                            (text::countdown(ms))
                        },
                        DeadlineState::Overdue(ms) => span.countdown.overdue data-due=(d.due.timestamp_millis()) {
                            (text::countdown(-ms))
                        },
                    }
                }
            }
        }
    }
}

/// The role's note on what the user may do.
pub(crate) fn role_note(user: Option<&SessionView>) -> Option<&'static str> {
    match user.map(|u| u.actor.role) {
        Some(Role::Viewer) => Some("只读用户：可查看，不能操作。"),
        _ => None,
    }
}
