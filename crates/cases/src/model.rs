//! The records of the case workflow: states, roles, actors, cases, audit entries, filters and
//! accountability statistics.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use yuqing_core::{Deadline, Grade};

/// Where a case is in the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 待受理: opened by an alert, waiting for the duty room.
    Pending,
    /// 已受理: the duty room took it.
    Accepted,
    /// 已转办: handed to the owning department.
    Assigned,
    /// 已反馈: the department reported the facts.
    Feedback,
    /// 已回应: a public response was made.
    Responded,
    /// 办结: done.
    Closed,
}

impl CaseState {
    /// Every state, in workflow order.
    pub const ALL: [CaseState; 6] = [
        CaseState::Pending,
        CaseState::Accepted,
        CaseState::Assigned,
        CaseState::Feedback,
        CaseState::Responded,
        CaseState::Closed,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Pending => "pending",
            CaseState::Accepted => "accepted",
            CaseState::Assigned => "assigned",
            CaseState::Feedback => "feedback",
            CaseState::Responded => "responded",
            CaseState::Closed => "closed",
        }
    }

    /// What a duty officer reads.
    pub fn label(self) -> &'static str {
        match self {
            CaseState::Pending => "待受理",
            CaseState::Accepted => "已受理",
            CaseState::Assigned => "已转办",
            CaseState::Feedback => "已反馈",
            CaseState::Responded => "已回应",
            CaseState::Closed => "办结",
        }
    }

    /// Parses a wire name or a Chinese label.
    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL
            .into_iter()
            .find(|c| c.as_str() == s || c.label() == s)
    }

    /// True until the case is closed.
    pub fn is_open(self) -> bool {
        self != CaseState::Closed
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 值班员: everything.
    DutyOfficer,
    /// 部门: feedback, responses and notes on cases assigned to its department; reads those.
    Department,
    /// 只读: reads everything, changes nothing.
    Viewer,
    /// The system itself (alerts opening and updating cases).
    System,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::DutyOfficer => "duty_officer",
            Role::Department => "department",
            Role::Viewer => "viewer",
            Role::System => "system",
        }
    }

    /// What a duty officer reads.
    pub fn label(self) -> &'static str {
        match self {
            Role::DutyOfficer => "值班员",
            Role::Department => "部门",
            Role::Viewer => "只读",
            Role::System => "系统",
        }
    }

    fn parse(s: &str) -> Role {
        match s {
            "duty_officer" => Role::DutyOfficer,
            "department" => Role::Department,
            "viewer" => Role::Viewer,
            _ => Role::System,
        }
    }

    pub(crate) fn from_db(s: &str) -> Role {
        Role::parse(s)
    }
}

/// Who acts: recorded in the audit log with every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The person (or `系统`).
    pub name: String,
    /// The role.
    pub role: Role,
    /// The department of a department user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

impl Actor {
    /// A duty officer.
    pub fn duty(name: impl Into<String>) -> Actor {
        Actor {
            name: name.into(),
            role: Role::DutyOfficer,
            department: None,
        }
    }

    /// A user of a department.
    pub fn department(name: impl Into<String>, department: impl Into<String>) -> Actor {
        Actor {
            name: name.into(),
            role: Role::Department,
            department: Some(department.into()),
        }
    }

    /// A read-only user.
    pub fn viewer(name: impl Into<String>) -> Actor {
        Actor {
            name: name.into(),
            role: Role::Viewer,
            department: None,
        }
    }

    /// The system (alerts).
    pub fn system() -> Actor {
        Actor {
            name: "系统".to_string(),
            role: Role::System,
            department: None,
        }
    }
}

/// Where a public response was made (seed: website statement, expert interpretation, press
/// conference or briefing, media interview, 政务微博/微信).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 网站发布 (a statement on the government website).
    Website,
    /// 专家解读.
    ExpertInterpretation,
    /// 新闻发布会 or briefing.
    PressConference,
    /// 接受媒体采访.
    MediaInterview,
    /// 政务微博.
    Weibo,
    /// 政务微信.
    Wechat,
    /// Anything else.
    Other,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 7] = [
        Channel::Website,
        Channel::ExpertInterpretation,
        Channel::PressConference,
        Channel::MediaInterview,
        Channel::Weibo,
        Channel::Wechat,
        Channel::Other,
    ];

    /// The wire name (what deadlines' `channels` name, e.g. `press_conference`).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Website => "website",
            Channel::ExpertInterpretation => "expert_interpretation",
            Channel::PressConference => "press_conference",
            Channel::MediaInterview => "media_interview",
            Channel::Weibo => "weibo",
            Channel::Wechat => "wechat",
            Channel::Other => "other",
        }
    }

    /// What a duty officer reads.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Website => "网站发布",
            Channel::ExpertInterpretation => "专家解读",
            Channel::PressConference => "新闻发布会",
            Channel::MediaInterview => "媒体采访",
            Channel::Weibo => "政务微博",
            Channel::Wechat => "政务微信",
            Channel::Other => "其他",
        }
    }

    /// Parses a wire name or a Chinese label.
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s || c.label() == s)
    }
}

/// A public response (回应).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// Where.
    pub channel: Channel,
    /// A link to it (http or https), where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// When it was published.
    pub at: DateTime<FixedOffset>,
}

/// A case: the handling of one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Deterministic id derived from the event id.
    pub case_id: String,
    /// The event.
    pub event_id: String,
    /// The event's title.
    pub title: String,
    /// The highest grade its alerts carried.
    pub grade: Grade,
    /// Where it is.
    pub state: CaseState,
    /// The owning department the analysis named (谁主管谁负责).
    pub department: Option<String>,
    /// The place.
    pub region: Option<String>,
    /// The department it was assigned to (转办).
    pub assigned_to: Option<String>,
    /// A link to the first item.
    pub url: Option<String>,
    /// When the event was first seen (event time).
    pub first_seen: DateTime<FixedOffset>,
    /// When the first alert fired (event time).
    pub first_alert: DateTime<FixedOffset>,
    /// When the case was opened.
    pub opened: DateTime<FixedOffset>,
    /// When it was (last) accepted.
    pub accepted: Option<DateTime<FixedOffset>>,
    /// When it was (last) assigned.
    pub assigned: Option<DateTime<FixedOffset>>,
    /// When the department's feedback came.
    pub feedback_at: Option<DateTime<FixedOffset>>,
    /// The department's facts.
    pub feedback: Option<String>,
    /// The first public response.
    pub response: Option<Response>,
    /// When it was closed.
    pub closed: Option<DateTime<FixedOffset>>,
    /// The due times its latest alert stated.
    pub deadlines: Vec<Deadline>,
    /// How often a flare reopened it.
    pub reopened: u32,
    /// Changes so far (optimistic concurrency).
    pub version: i64,
}

impl Case {
    /// The department responsible now: the assigned one, else the owner.
    pub fn responsible(&self) -> Option<&str> {
        self.assigned_to.as_deref().or(self.department.as_deref())
    }
}

/// One line of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Its position in the log.
    pub id: i64,
    /// The case.
    pub case_id: String,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// Who.
    pub actor: String,
    /// With which role.
    pub role: Role,
    /// What (`opened`, `alert`, `accept`, `assign`, `reassign`, `feedback`, `respond`,
    /// `close`, `note`, `reopened`).
    pub action: String,
    /// The state before.
    pub from_state: Option<CaseState>,
    /// The state after.
    pub to_state: Option<CaseState>,
    /// The department concerned.
    pub department: Option<String>,
    /// The details (the alert's kind and grade, the facts, the response, the note).
    pub detail: serde_json::Value,
    /// The alert behind a system entry.
    pub alert_id: Option<String>,
}

/// Which cases to list.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFilter {
    /// Only this state (wire name or label).
    #[serde(default)]
    pub state: Option<String>,
    /// Only open (not closed) cases.
    #[serde(default)]
    pub open: Option<bool>,
    /// Only this grade (`I`..`IV`).
    #[serde(default)]
    pub grade: Option<String>,
    /// Only cases whose responsible department contains this.
    #[serde(default)]
    pub department: Option<String>,
    /// Only cases first alerted at or after this (RFC 3339).
    #[serde(default)]
    pub from: Option<DateTime<FixedOffset>>,
    /// Only cases first alerted before this (RFC 3339).
    #[serde(default)]
    pub to: Option<DateTime<FixedOffset>>,
    /// At most this many (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Skip this many.
    #[serde(default)]
    pub offset: Option<i64>,
}

/// Minutes between two steps, over the cases that took both.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Minutes {
    /// Cases measured.
    pub count: u64,
    /// Mean.
    pub mean: Option<f64>,
    /// Median.
    pub median: Option<f64>,
    /// Longest.
    pub max: Option<f64>,
}

impl Minutes {
    pub(crate) fn of(mut v: Vec<f64>) -> Minutes {
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
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Accountability of one department over a period (考核: 迟报、漏报).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DepartmentStats {
    /// The responsible department (`未指定` when none was named).
    pub department: String,
    /// Cases first alerted in the period.
    pub cases: u64,
    /// Of them, by grade.
    pub by_grade: BTreeMap<String, u64>,
    /// Accepted (受理).
    pub accepted: u64,
    /// Publicly answered (回应).
    pub responded: u64,
    /// Closed (办结).
    pub closed: u64,
    /// Reopened by a flare.
    pub reopened: u64,
    /// First seen → first alert (detection).
    pub to_alert: Minutes,
    /// First alert → acceptance.
    pub to_accept: Minutes,
    /// First alert → first public response.
    pub to_response: Minutes,
    /// Deadlines met (a response by the due time).
    pub deadlines_met: u64,
    /// Deadlines missed (overdue).
    pub deadlines_missed: u64,
    /// Deadlines not yet due.
    pub deadlines_pending: u64,
    /// 迟报: accepted later than the acceptance time limit after the alert.
    pub late_accepted: u64,
    /// 漏报: alerted by the rules but not acted on — still not accepted after the acceptance
    /// time limit.
    pub not_acted_on: u64,
}
