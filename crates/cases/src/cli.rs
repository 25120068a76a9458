//! `yuqing case …`: the workflow from a terminal on the server (acting as a duty officer).

use std::io::Write;

use chrono::{DateTime, FixedOffset};
use yuqing_core::SharedClock;
use yuqing_store::Store;

use crate::cases::Cases;
use crate::error::CaseError;
use crate::model::{Actor, Case, CaseFilter, Channel, Response};

/// `yuqing case`: list, show and move cases through the workflow.
#[derive(Debug, Clone, clap::Args)]
pub struct CaseArgs {
    /// Who acts (recorded in the audit log as a duty officer, 值班员).
    #[arg(
        long,
        global = true,
        env = "YUQING_ACTOR",
        default_value = "命令行值班员"
    )]
    pub actor: String,
    /// What to do.
    #[command(subcommand)]
    pub command: CaseCommand,
}

/// The subcommands of `yuqing case`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CaseCommand {
    /// List cases, most recently alerted first.
    List {
        /// Only this state (pending, accepted, assigned, feedback, responded, closed, or 待受理 …).
        #[arg(long)]
        state: Option<String>,
        /// Only open cases.
        #[arg(long)]
        open: bool,
        /// Only this grade (I, II, III, IV).
        #[arg(long)]
        grade: Option<String>,
        /// Only cases whose responsible department contains this.
        #[arg(long)]
        department: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// JSON Lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show a case and its audit log.
    Show {
        /// Case id or event id.
        id: String,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// 受理: take a pending case.
    Accept {
        /// Case id or event id.
        id: String,
    },
    /// 转办: hand an accepted case to a department.
    Assign {
        /// Case id or event id.
        id: String,
        /// The department.
        department: String,
    },
    /// 改派: hand an assigned case to another department.
    Reassign {
        /// Case id or event id.
        id: String,
        /// The new department.
        department: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// 反馈: record the department's facts.
    Feedback {
        /// Case id or event id.
        id: String,
        /// The facts.
        facts: String,
    },
    /// 回应: record a public response.
    Respond {
        /// Case id or event id.
        id: String,
        /// Where: website, expert_interpretation, press_conference, media_interview, weibo,
        /// wechat, other (or 网站发布 …).
        #[arg(long)]
        channel: String,
        /// A link to it.
        #[arg(long)]
        link: Option<String>,
        /// When it was published (RFC 3339); default now.
        #[arg(long)]
        at: Option<DateTime<FixedOffset>>,
    },
    /// 办结: close a case (a note is required unless it was responded to).
    Close {
        /// Case id or event id.
        id: String,
        /// Why (required when the case was not responded to).
        #[arg(long)]
        note: Option<String>,
    },
    /// Add a note to the audit log.
    Note {
        /// Case id or event id.
        id: String,
        /// The note.
        text: String,
    },
}

/// Runs `yuqing case …` against `store`, writing to `out`.
pub async fn run_cli(
    args: CaseArgs,
    store: Store,
    clock: SharedClock,
    out: &mut impl Write,
) -> Result<(), CaseError> {
    let cases = Cases::with_clock(store, clock).await?;
    let actor = Actor::duty(args.actor.clone());
    let case = match args.command {
        CaseCommand::List {
            state,
            open,
            grade,
            department,
            limit,
            json,
        } => {
            let filter = CaseFilter {
                state,
                open: open.then_some(true),
                grade,
                department,
                limit: Some(limit),
                ..CaseFilter::default()
            };
            let list = cases.list(&filter).await?;
            if json {
                for c in &list {
                    writeln!(out, "{}", crate::api::case_json(c))?;
                }
            } else {
                write_table(out, &list)?;
            }
            return Ok(());
        }
        CaseCommand::Show { id, json } => {
            let case = cases.show(&id).await?;
            let audit = cases.audit(&id).await?;
            if json {
                let mut v = crate::api::case_json(&case);
                v["audit"] = serde_json::to_value(&audit).unwrap_or_default();
                writeln!(out, "{v:#}")?;
            } else {
                write_case(out, &case)?;
                writeln!(out, "审计记录:")?;
                for e in audit {
                    let change = match (e.from_state, e.to_state) {
                        (Some(a), Some(b)) if a != b => format!("{} → {}", a.label(), b.label()),
                        (None, Some(b)) => b.label().to_string(),
                        _ => String::new(),
                    };
                    writeln!(
                        out,
                        "  {}  {}（{}）  {}  {}  {}",
                        e.at.format("%Y-%m-%d %H:%M:%S"),
                        e.actor,
                        e.role.label(),
                        e.action,
                        change,
                        e.detail
                    )?;
                }
            }
            return Ok(());
        }
        CaseCommand::Accept { id } => cases.accept(&id, &actor).await?,
        CaseCommand::Assign { id, department } => cases.assign(&id, &department, &actor).await?,
        CaseCommand::Reassign {
            id,
            department,
            reason,
        } => cases.reassign(&id, &department, &reason, &actor).await?,
        CaseCommand::Feedback { id, facts } => cases.feedback(&id, &facts, &actor).await?,
        CaseCommand::Respond {
            id,
            channel,
            link,
            at,
        } => {
            let channel = Channel::parse(&channel).ok_or_else(|| {
                CaseError::invalid(
                    "channel",
                    format!(
                        "`{channel}` (one of {})",
                        Channel::ALL.map(Channel::as_str).join(", ")
                    ),
                )
            })?;
            let response = Response {
                channel,
                link,
                at: at.unwrap_or_else(|| cases.now_cst()),
            };
            cases.respond(&id, &response, &actor).await?
        }
        CaseCommand::Close { id, note } => cases.close(&id, note.as_deref(), &actor).await?,
        CaseCommand::Note { id, text } => cases.note(&id, &text, &actor).await?,
    };
    writeln!(
        out,
        "{}  {}（{}）",
        case.case_id,
        case.state.label(),
        case.state.as_str()
    )?;
    Ok(())
}

fn write_table(out: &mut impl Write, list: &[Case]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<22} {:<4} {:<8} {:<16} {:<20} 标题",
        "案件", "等级", "状态", "首次预警", "责任单位"
    )?;
    for c in list {
        writeln!(
            out,
            "{:<22} {:<4} {:<8} {:<16} {:<20} {}",
            c.case_id,
            c.grade.as_str(),
            c.state.label(),
            c.first_alert.format("%m-%d %H:%M"),
            c.responsible().unwrap_or("未指定"),
            c.title
        )?;
    }
    writeln!(out, "共 {} 件", list.len())
}

fn write_case(out: &mut impl Write, c: &Case) -> std::io::Result<()> {
    let t = |x: Option<DateTime<FixedOffset>>| {
        x.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "—".into())
    };
    writeln!(out, "案件 {}（事件 {}）", c.case_id, c.event_id)?;
    writeln!(out, "标题: {}", c.title)?;
    writeln!(
        out,
        "等级: {} {}  状态: {}",
        c.grade.as_str(),
        c.grade.label(),
        c.state.label()
    )?;
    writeln!(
        out,
        "责任单位: {}  属地: {}  转办: {}",
        c.department.as_deref().unwrap_or("—"),
        c.region.as_deref().unwrap_or("—"),
        c.assigned_to.as_deref().unwrap_or("—")
    )?;
    writeln!(
        out,
        "首次发现: {}  首次预警: {}  受理: {}  回应: {}  办结: {}",
        t(Some(c.first_seen)),
        t(Some(c.first_alert)),
        t(c.accepted),
        t(c.response.as_ref().map(|r| r.at)),
        t(c.closed)
    )?;
    for d in &c.deadlines {
        writeln!(
            out,
            "时限: {} 截止 {}",
            d.label,
            d.due.format("%Y-%m-%d %H:%M")
        )?;
    }
    if let Some(f) = &c.feedback {
        writeln!(out, "反馈: {f}")?;
    }
    if let Some(r) = &c.response {
        writeln!(
            out,
            "回应: {} {} {}",
            r.channel.label(),
            r.at.format("%Y-%m-%d %H:%M"),
            r.link.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}
