//! Configuration: the `[alert]` table of a pipeline, the grading rules (`grading.toml`) and the
//! routing table (`routing.toml`).
//!
//! The `[alert]` table names the two rules files (relative to the pipeline's directory; absent:
//! the bundled `pipelines/alert/*.toml`) and holds the operational knobs. The rules files are what
//! a duty room edits: which inputs make which grade, what is due by when, who receives what.
//!
//! ```toml
//! [alert]
//! grading = "alert/grading.toml"
//! routing = "alert/routing.toml"
//! national_five_hour_rule = true
//! min_notice = "30m"
//! forget_after = "7d"
//! ```

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use yuqing_core::{AlertKind, Grade, Problems, Stage};

/// The `[alert]` table of a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    /// The grading rules file, relative to the pipeline's directory; absent: the bundled
    /// `pipelines/alert/grading.toml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading: Option<PathBuf>,
    /// The routing table file, relative to the pipeline's directory; absent: the bundled
    /// `pipelines/alert/routing.toml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<PathBuf>,
    /// Adds the national rule (国办发〔2016〕61号): the first authoritative release of an
    /// especially major or major event (I–II) is due within 5 hours (deadline kind
    /// `authoritative_release`).
    #[serde(default)]
    pub national_five_hour_rule: bool,
    /// A deadline is never due sooner than this after the alert that first states it, so that a
    /// late detection still gives the department time to act ("30m").
    #[serde(default = "default_min_notice", with = "humantime_serde")]
    pub min_notice: Duration,
    /// An alerted event with no activity and no open deadline for this long is forgotten by the
    /// grader (its alerts stay in the store) ("7d").
    #[serde(default = "default_forget_after", with = "humantime_serde")]
    pub forget_after: Duration,
}

fn default_min_notice() -> Duration {
    Duration::from_secs(30 * 60)
}

fn default_forget_after() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

impl Default for AlertConfig {
    fn default() -> AlertConfig {
        AlertConfig {
            grading: None,
            routing: None,
            national_five_hour_rule: false,
            min_notice: default_min_notice(),
            forget_after: default_forget_after(),
        }
    }
}

impl AlertConfig {
    /// Reports every semantic problem of the table with its key path (`path` is the table's,
    /// normally `alert`). The rules files are checked when the [`Grader`](crate::Grader) loads
    /// them ([`Grader::new`](crate::Grader::new)).
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        for (key, file) in [("grading", &self.grading), ("routing", &self.routing)] {
            if let Some(f) = file {
                if f.as_os_str().is_empty() {
                    problems.at(
                        path,
                        key,
                        "must not be empty (omit it for the bundled rules)",
                    );
                }
            }
        }
        if self.min_notice > Duration::from_secs(24 * 3600) {
            problems.at(path, "min_notice", "must be at most 24h");
        }
        if self.forget_after < Duration::from_secs(24 * 3600) {
            problems.at(path, "forget_after", "must be at least 24h");
        }
        if self.forget_after > Duration::from_secs(366 * 24 * 3600) {
            problems.at(path, "forget_after", "must be at most 366d");
        }
    }
}

/// The grading rules: `pipelines/alert/grading.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradingConfig {
    /// Sensitivity topics that make an event an emergency (突发事件): its first public release is
    /// due within the `emergency_only` deadlines.
    #[serde(default)]
    pub emergency_topics: Vec<String>,
    /// Categories (first level, or `一级/二级`) that make an event an emergency.
    #[serde(default)]
    pub emergency_categories: Vec<String>,
    /// The grading rules. Every rule whose conditions all hold proposes its grade; the event
    /// takes the most severe proposal (the first rule listed wins a tie) and never goes down.
    #[serde(default, rename = "rule")]
    pub rules: Vec<GradingRule>,
    /// What is due by when, per grade.
    #[serde(default, rename = "deadline")]
    pub deadlines: Vec<DeadlineRule>,
    /// When an alerted event counts as calmed (消退).
    #[serde(default)]
    pub calm: CalmConfig,
    /// When a calmed event counts as flaring again.
    #[serde(default)]
    pub flare: FlareConfig,
}

/// One grading rule: conditions on the event's inputs and the grade they justify.
///
/// Absent conditions do not constrain. All present conditions must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradingRule {
    /// The rule's name, shown to the duty officer (`alert.rule`).
    pub name: String,
    /// The grade the rule justifies: `I`, `II`, `III` or `IV`.
    pub grade: Grade,
    /// What the rule means, in words a duty officer understands.
    pub description: String,
    /// Highest sensitivity of the event's items at least this (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity_min: Option<f64>,
    /// Mean sentiment at most this (-1..1; negative is negative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment_max: Option<f64>,
    /// Interactions (items + reposts + comments) per hour over the last hour at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub velocity_min: Option<f64>,
    /// Interactions so far at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_min: Option<f64>,
    /// Forecast 24-hour size (point forecast) at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_min: Option<f64>,
    /// Distinct items at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_min: Option<u64>,
    /// Distinct platforms at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platforms_min: Option<u32>,
    /// Media accounts involved at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_min: Option<u32>,
    /// Official accounts (政务号, portals) involved at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official_min: Option<u32>,
    /// The event is in one of these stages (`emerging`, `spreading`, `peak`, `fading`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<Stage>,
    /// At least one of these sensitivity topics was seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics_any: Vec<String>,
    /// The category is one of these (first level, or `一级/二级` prefix).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories_any: Vec<String>,
    /// `true`: only emergencies (see `emergency_topics`); `false`: only non-emergencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<bool>,
    /// At most this long since first sight ("2h").
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub age_max: Option<Duration>,
    /// At least this long since first sight ("6h").
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub age_min: Option<Duration>,
}

/// Where a deadline's clock starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineFrom {
    /// At the event's first sight (or at the flare that started the current wave): "within 1
    /// hour of the event", as the seed reads.
    #[default]
    FirstSeen,
    /// At the alert that first states the deadline.
    Alert,
}

/// One deadline: what is due within how long, for which grades.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineRule {
    /// A stable key (`first_release`, `press_conference`, `response`); unique.
    pub kind: String,
    /// What is due, in words (首次权威发布, 新闻发布会, 回应).
    pub label: String,
    /// How long after the start (see `from`) it is due ("1h", "24h", "48h").
    #[serde(with = "humantime_serde")]
    pub within: Duration,
    /// The grades it applies to.
    pub grades: Vec<Grade>,
    /// Only for emergencies (突发事件).
    #[serde(default)]
    pub emergency_only: bool,
    /// Where the clock starts: `first_seen` (default) or `alert`.
    #[serde(default)]
    pub from: DeadlineFrom,
    /// Response channels that meet it (e.g. `["press_conference"]`); empty: any response.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// Reminders this long before the due time (["30m", "10m"]).
    #[serde(default, with = "durations")]
    pub remind_before: Vec<Duration>,
}

/// When an alerted event counts as calmed (消退).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalmConfig {
    /// Calm when no new item or re-observation arrived for this long ("12h").
    #[serde(default = "default_quiet_after", with = "humantime_serde")]
    pub quiet_after: Duration,
    /// Also calm as soon as the spread stage says `fading` (消退).
    #[serde(default = "default_true")]
    pub on_fading_stage: bool,
}

fn default_quiet_after() -> Duration {
    Duration::from_secs(12 * 3600)
}

fn default_true() -> bool {
    true
}

impl Default for CalmConfig {
    fn default() -> CalmConfig {
        CalmConfig {
            quiet_after: default_quiet_after(),
            on_fading_stage: true,
        }
    }
}

/// When a calmed event counts as flaring again (再次升温).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlareConfig {
    /// Flare when the velocity (interactions per hour) reaches this.
    #[serde(default = "default_flare_velocity")]
    pub velocity_min: f64,
    /// Also flare when the spread stage leaves `fading` (the spread model saw a new wave).
    #[serde(default = "default_true")]
    pub on_stage_change: bool,
}

fn default_flare_velocity() -> f64 {
    100.0
}

impl Default for FlareConfig {
    fn default() -> FlareConfig {
        FlareConfig {
            velocity_min: default_flare_velocity(),
            on_stage_change: true,
        }
    }
}

/// The deadline kind the national 5-hour rule adds.
pub const NATIONAL_KIND: &str = "authoritative_release";

impl GradingConfig {
    /// The national 5-hour rule as a deadline.
    pub fn national_rule() -> DeadlineRule {
        DeadlineRule {
            kind: NATIONAL_KIND.to_string(),
            label: "首次权威发布（国办发〔2016〕61号 5小时）".to_string(),
            within: Duration::from_secs(5 * 3600),
            grades: vec![Grade::I, Grade::II],
            emergency_only: false,
            from: DeadlineFrom::FirstSeen,
            channels: Vec::new(),
            remind_before: vec![Duration::from_secs(3600)],
        }
    }

    /// Reports every semantic problem with its key path (`path` names the file's root, for
    /// example `alert.grading`).
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        let mut names = HashSet::new();
        if self.rules.is_empty() {
            problems.at(path, "rule", "must hold at least one rule");
        }
        for (i, r) in self.rules.iter().enumerate() {
            let p = format!("{}[{i}]", join(path, "rule"));
            r.validate(&p, problems);
            if !r.name.trim().is_empty() && !names.insert(r.name.as_str()) {
                problems.at(&p, "name", format!("duplicate rule name `{}`", r.name));
            }
        }
        let mut kinds = HashSet::new();
        for (i, d) in self.deadlines.iter().enumerate() {
            let p = format!("{}[{i}]", join(path, "deadline"));
            d.validate(&p, problems);
            if !d.kind.trim().is_empty() && !kinds.insert(d.kind.as_str()) {
                problems.at(&p, "kind", format!("duplicate deadline kind `{}`", d.kind));
            }
        }
        for (i, t) in self.emergency_topics.iter().enumerate() {
            if t.trim().is_empty() {
                problems.push(
                    format!("{}[{i}]", join(path, "emergency_topics")),
                    "must not be empty",
                );
            }
        }
        for (i, t) in self.emergency_categories.iter().enumerate() {
            if t.trim().is_empty() {
                problems.push(
                    format!("{}[{i}]", join(path, "emergency_categories")),
                    "must not be empty",
                );
            }
        }
        let calm = join(path, "calm");
        if self.calm.quiet_after < Duration::from_secs(600) {
            problems.at(&calm, "quiet_after", "must be at least 10m");
        }
        if self.calm.quiet_after > Duration::from_secs(30 * 24 * 3600) {
            problems.at(&calm, "quiet_after", "must be at most 30d");
        }
        let flare = join(path, "flare");
        if !self.flare.velocity_min.is_finite() || self.flare.velocity_min <= 0.0 {
            problems.at(&flare, "velocity_min", "must be a positive number");
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    yuqing_core::problem::join(prefix, key)
}

fn check_range(v: Option<f64>, lo: f64, hi: f64, path: &str, key: &str, problems: &mut Problems) {
    if let Some(v) = v {
        if !v.is_finite() || v < lo || v > hi {
            problems.at(path, key, format!("must be between {lo} and {hi}"));
        }
    }
}

impl GradingRule {
    fn validate(&self, path: &str, problems: &mut Problems) {
        if self.name.trim().is_empty() {
            problems.at(path, "name", "must not be empty");
        }
        if self.description.trim().is_empty() {
            problems.at(path, "description", "must explain the rule in words");
        }
        check_range(
            self.sensitivity_min,
            0.0,
            1.0,
            path,
            "sensitivity_min",
            problems,
        );
        check_range(
            self.sentiment_max,
            -1.0,
            1.0,
            path,
            "sentiment_max",
            problems,
        );
        check_range(self.velocity_min, 0.0, 1e12, path, "velocity_min", problems);
        check_range(self.size_min, 0.0, 1e12, path, "size_min", problems);
        check_range(self.forecast_min, 0.0, 1e12, path, "forecast_min", problems);
        if let (Some(lo), Some(hi)) = (self.age_min, self.age_max) {
            if lo >= hi {
                problems.at(path, "age_max", "must be longer than age_min");
            }
        }
        for (key, list) in [
            ("topics_any", &self.topics_any),
            ("categories_any", &self.categories_any),
        ] {
            for (i, t) in list.iter().enumerate() {
                if t.trim().is_empty() {
                    problems.push(format!("{}[{i}]", join(path, key)), "must not be empty");
                }
            }
        }
        let constrained = self.sensitivity_min.is_some()
            || self.velocity_min.is_some()
            || self.size_min.is_some()
            || self.forecast_min.is_some()
            || self.items_min.is_some()
            || self.platforms_min.is_some()
            || self.media_min.is_some()
            || self.official_min.is_some()
            || !self.topics_any.is_empty()
            || !self.categories_any.is_empty();
        if !constrained {
            problems.push(
                path.to_string(),
                "must set at least one condition on sensitivity, spread, reach, topics or category \
                 (a rule without one would grade every event)",
            );
        }
    }
}

impl DeadlineRule {
    fn validate(&self, path: &str, problems: &mut Problems) {
        if self.kind.trim().is_empty() {
            problems.at(path, "kind", "must not be empty");
        } else if !self
            .kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            problems.at(
                path,
                "kind",
                "must be lowercase ASCII letters, digits and `_`",
            );
        }
        if self.label.trim().is_empty() {
            problems.at(path, "label", "must not be empty");
        }
        if self.within < Duration::from_secs(60) {
            problems.at(path, "within", "must be at least 1m");
        }
        if self.within > Duration::from_secs(30 * 24 * 3600) {
            problems.at(path, "within", "must be at most 30d");
        }
        if self.grades.is_empty() {
            problems.at(path, "grades", "must name at least one grade");
        }
        for (i, lead) in self.remind_before.iter().enumerate() {
            let p = format!("{}[{i}]", join(path, "remind_before"));
            if *lead < Duration::from_secs(60) {
                problems.push(p, "must be at least 1m");
            } else if *lead >= self.within {
                problems.push(
                    p,
                    format!(
                        "must be shorter than within ({})",
                        humantime::format_duration(self.within)
                    ),
                );
            }
        }
        let mut seen = HashSet::new();
        for (i, lead) in self.remind_before.iter().enumerate() {
            if !seen.insert(*lead) {
                problems.push(
                    format!("{}[{i}]", join(path, "remind_before")),
                    "is listed twice",
                );
            }
        }
        for (i, c) in self.channels.iter().enumerate() {
            if c.trim().is_empty() {
                problems.push(
                    format!("{}[{i}]", join(path, "channels")),
                    "must not be empty",
                );
            }
        }
    }

    /// True when the deadline applies to an event of `grade`.
    pub fn applies(&self, grade: Grade, emergency: bool) -> bool {
        self.grades.contains(&grade) && (!self.emergency_only || emergency)
    }
}

mod durations {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Duration], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|d| humantime::format_duration(*d).to_string()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
        let raw = Vec::<String>::deserialize(d)?;
        raw.iter()
            .map(|s| humantime::parse_duration(s).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// The routing table: `pipelines/alert/routing.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Receivers that get every alert (the duty room).
    #[serde(default)]
    pub always: Vec<String>,
    /// Receivers that get an alert no route matched.
    #[serde(default)]
    pub fallback: Vec<String>,
    /// The receivers: who they are, where their alerts go, whom to escalate to.
    #[serde(default, rename = "receiver")]
    pub receivers: Vec<ReceiverConfig>,
    /// Routes by owner department and place (and optionally grade, kind, topic, category).
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteRule>,
    /// Copy rules (抄送): for example grades I–II always also to 政府办 and 网信办.
    #[serde(default, rename = "copy")]
    pub copies: Vec<RouteRule>,
    /// Quiet hours for chat sinks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
}

/// A receiver: a duty room, a department or an office.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    /// The receiver's name (政府办, 应急管理局值班室); unique.
    pub name: String,
    /// Sink ids (of the pipeline's `[[sinks]]`) its alerts go to.
    #[serde(default)]
    pub sinks: Vec<String>,
    /// Duty contacts (name and phone), shown in the alert.
    #[serde(default)]
    pub contacts: Vec<String>,
    /// The escalation chain, in order (who is told when a deadline is missed).
    #[serde(default)]
    pub escalation: Vec<String>,
    /// Sinks that also receive this receiver's overdue alerts (the level above).
    #[serde(default)]
    pub escalation_sinks: Vec<String>,
}

/// A route or copy rule: conditions on the alert and the receivers it adds.
///
/// Absent conditions do not constrain; every present one must hold. Departments match when the
/// alert's department equals the name or ends with it (天河区住房和城乡建设局 matches
/// 住房和城乡建设局); places match when the alert's region contains the name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// The rule's name, shown in the route's explanation.
    pub name: String,
    /// Owner departments (谁主管谁负责).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<String>,
    /// Places (属地管理).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Grades.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grades: Vec<Grade>,
    /// Alert kinds (`new`, `escalated`, `reminder`, `overdue`, `calmed`, `flared`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<AlertKind>,
    /// Sensitivity topics (any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Categories (first level, or `一级/二级` prefix).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Handling classes (询问诉求, 恶意传播炒作, 建设性意见).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handling: Vec<String>,
    /// The receivers to add.
    pub to: Vec<String>,
}

/// Quiet hours (UTC+8): alerts of the non-exempt grades to chat sinks wait for the end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// Start, `HH:MM` in UTC+8 ("22:00").
    pub start: String,
    /// End, `HH:MM` in UTC+8 ("07:00"); before `start` means the window spans midnight.
    pub end: String,
    /// Grades that ignore quiet hours.
    #[serde(default = "default_exempt")]
    pub exempt_grades: Vec<Grade>,
    /// Sink kinds that are deferred (the daemon tells the router each sink's kind).
    #[serde(default = "default_chat_kinds")]
    pub defer_kinds: Vec<String>,
    /// Sink ids that are deferred whatever their kind.
    #[serde(default)]
    pub defer_sinks: Vec<String>,
}

fn default_exempt() -> Vec<Grade> {
    vec![Grade::I, Grade::II]
}

fn default_chat_kinds() -> Vec<String> {
    ["wecom", "dingtalk", "feishu"]
        .into_iter()
        .map(String::from)
        .collect()
}

impl QuietHours {
    /// The window's start and end.
    pub fn window(&self) -> Option<(NaiveTime, NaiveTime)> {
        Some((parse_hm(&self.start)?, parse_hm(&self.end)?))
    }
}

pub(crate) fn parse_hm(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

impl RoutingConfig {
    /// Reports every semantic problem with its key path (`path` names the file's root, for
    /// example `alert.routing`).
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, r) in self.receivers.iter().enumerate() {
            let p = format!("{}[{i}]", join(path, "receiver"));
            if r.name.trim().is_empty() {
                problems.at(&p, "name", "must not be empty");
            } else if names.insert(r.name.as_str(), i).is_some() {
                problems.at(&p, "name", format!("duplicate receiver `{}`", r.name));
            }
            for (key, list) in [
                ("sinks", &r.sinks),
                ("contacts", &r.contacts),
                ("escalation", &r.escalation),
                ("escalation_sinks", &r.escalation_sinks),
            ] {
                for (j, s) in list.iter().enumerate() {
                    if s.trim().is_empty() {
                        problems.push(format!("{}[{j}]", join(&p, key)), "must not be empty");
                    }
                }
            }
            if r.sinks.is_empty() && r.contacts.is_empty() {
                problems.push(p.clone(), "must name at least one sink or contact");
            }
        }
        let known = |n: &str| names.contains_key(n);
        for (key, list) in [("always", &self.always), ("fallback", &self.fallback)] {
            for (j, n) in list.iter().enumerate() {
                if !known(n) {
                    problems.push(
                        format!("{}[{j}]", join(path, key)),
                        format!("unknown receiver `{n}`"),
                    );
                }
            }
        }
        if self.always.is_empty() && self.fallback.is_empty() {
            problems.push(
                join(path, "fallback"),
                "must name a receiver (or set `always`): an alert no route matches would reach nobody",
            );
        }
        for (key, rules) in [("route", &self.routes), ("copy", &self.copies)] {
            let mut seen = HashSet::new();
            for (i, r) in rules.iter().enumerate() {
                let p = format!("{}[{i}]", join(path, key));
                if r.name.trim().is_empty() {
                    problems.at(&p, "name", "must not be empty");
                } else if !seen.insert(r.name.as_str()) {
                    problems.at(&p, "name", format!("duplicate {key} name `{}`", r.name));
                }
                if r.to.is_empty() {
                    problems.at(&p, "to", "must name at least one receiver");
                }
                for (j, n) in r.to.iter().enumerate() {
                    if !known(n) {
                        problems.push(
                            format!("{}[{j}]", join(&p, "to")),
                            format!("unknown receiver `{n}`"),
                        );
                    }
                }
                for (j, h) in r.handling.iter().enumerate() {
                    if !["询问诉求", "恶意传播炒作", "建设性意见"].contains(&h.as_str())
                    {
                        problems.push(
                            format!("{}[{j}]", join(&p, "handling")),
                            "must be 询问诉求, 恶意传播炒作 or 建设性意见",
                        );
                    }
                }
                for (ckey, list) in [
                    ("departments", &r.departments),
                    ("regions", &r.regions),
                    ("topics", &r.topics),
                    ("categories", &r.categories),
                ] {
                    for (j, s) in list.iter().enumerate() {
                        if s.trim().is_empty() {
                            problems.push(format!("{}[{j}]", join(&p, ckey)), "must not be empty");
                        }
                    }
                }
            }
        }
        if let Some(q) = &self.quiet_hours {
            let p = join(path, "quiet_hours");
            let start = parse_hm(&q.start);
            let end = parse_hm(&q.end);
            if start.is_none() {
                problems.at(&p, "start", "must be a time of day as HH:MM (UTC+8)");
            }
            if end.is_none() {
                problems.at(&p, "end", "must be a time of day as HH:MM (UTC+8)");
            }
            if start.is_some() && start == end {
                problems.at(&p, "end", "must differ from start");
            }
            if q.defer_kinds.is_empty() && q.defer_sinks.is_empty() {
                problems.at(
                    &p,
                    "defer_kinds",
                    "must name a sink kind (or set defer_sinks)",
                );
            }
        }
    }

    /// Reports receivers' sinks that are not among `known` (the pipeline's sink ids), at `path`.
    pub fn check_sinks(&self, known: &[&str], path: &str, problems: &mut Problems) {
        for (i, r) in self.receivers.iter().enumerate() {
            let p = format!("{}[{i}]", join(path, "receiver"));
            for (key, list) in [
                ("sinks", &r.sinks),
                ("escalation_sinks", &r.escalation_sinks),
            ] {
                for (j, s) in list.iter().enumerate() {
                    if !known.contains(&s.as_str()) {
                        problems.push(
                            format!("{}[{j}]", join(&p, key)),
                            format!("unknown sink `{s}` (not among the pipeline's [[sinks]])"),
                        );
                    }
                }
            }
        }
        if let Some(q) = &self.quiet_hours {
            for (j, s) in q.defer_sinks.iter().enumerate() {
                if !known.contains(&s.as_str()) {
                    problems.push(
                        format!("{}[{j}]", join(&join(path, "quiet_hours"), "defer_sinks")),
                        format!("unknown sink `{s}`"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(p: &Problems) -> Vec<String> {
        p.list().iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn alert_table_reports_paths() {
        let cfg: AlertConfig = toml::from_str(
            r#"grading = ""
               min_notice = "2d"
               forget_after = "1h""#,
        )
        .unwrap();
        let mut p = Problems::new();
        cfg.validate("alert", &mut p);
        let m = messages(&p);
        assert!(
            m.iter()
                .any(|m| m.starts_with("alert.grading: must not be empty")),
            "{m:?}"
        );
        assert!(
            m.contains(&"alert.min_notice: must be at most 24h".to_string()),
            "{m:?}"
        );
        assert!(
            m.contains(&"alert.forget_after: must be at least 24h".to_string()),
            "{m:?}"
        );
        let mut ok = Problems::new();
        AlertConfig::default().validate("alert", &mut ok);
        assert!(ok.is_empty(), "{ok}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml::from_str::<AlertConfig>("gradng = \"x\"").unwrap_err();
        assert!(err.to_string().contains("unknown field `gradng`"), "{err}");
    }

    #[test]
    fn grading_problems_have_key_paths() {
        let g: GradingConfig = toml::from_str(
            r#"
            [[rule]]
            name = "a"
            grade = "II"
            description = ""
            sensitivity_min = 1.5
            [[rule]]
            name = "a"
            grade = "IV"
            description = "no condition"
            [[deadline]]
            kind = "First Release"
            label = "x"
            within = "30s"
            grades = []
            remind_before = ["1h"]
            [calm]
            quiet_after = "1m"
            [flare]
            velocity_min = -1.0
            "#,
        )
        .unwrap();
        let mut p = Problems::new();
        g.validate("alert.grading", &mut p);
        let m = messages(&p);
        for want in [
            "alert.grading.rule[0].description: must explain the rule in words",
            "alert.grading.rule[0].sensitivity_min: must be between 0 and 1",
            "alert.grading.rule[1].name: duplicate rule name `a`",
            "alert.grading.deadline[0].kind: must be lowercase ASCII letters, digits and `_`",
            "alert.grading.deadline[0].within: must be at least 1m",
            "alert.grading.deadline[0].grades: must name at least one grade",
            "alert.grading.calm.quiet_after: must be at least 10m",
            "alert.grading.flare.velocity_min: must be a positive number",
        ] {
            assert!(m.iter().any(|x| x == want), "missing {want:?} in {m:#?}");
        }
        assert!(
            m.iter()
                .any(|x| x.starts_with("alert.grading.rule[1]: must set at least one condition")),
            "{m:#?}"
        );
        assert!(
            m.iter()
                .any(|x| x
                    .starts_with("alert.grading.deadline[0].remind_before[0]: must be shorter")),
            "{m:#?}"
        );
    }

    #[test]
    fn routing_problems_have_key_paths() {
        let r: RoutingConfig = toml::from_str(
            r#"
            always = ["值班室"]
            fallback = ["nobody"]
            [[receiver]]
            name = "值班室"
            sinks = ["duty"]
            [[receiver]]
            name = "值班室"
            [[route]]
            name = "r"
            to = ["应急局"]
            handling = ["别的"]
            [[copy]]
            name = "c"
            to = []
            [quiet_hours]
            start = "25:00"
            end = "07:00"
            "#,
        )
        .unwrap();
        let mut p = Problems::new();
        r.validate("alert.routing", &mut p);
        let m = messages(&p);
        for want in [
            "alert.routing.receiver[1].name: duplicate receiver `值班室`",
            "alert.routing.receiver[1]: must name at least one sink or contact",
            "alert.routing.fallback[0]: unknown receiver `nobody`",
            "alert.routing.route[0].to[0]: unknown receiver `应急局`",
            "alert.routing.route[0].handling[0]: must be 询问诉求, 恶意传播炒作 or 建设性意见",
            "alert.routing.copy[0].to: must name at least one receiver",
            "alert.routing.quiet_hours.start: must be a time of day as HH:MM (UTC+8)",
        ] {
            assert!(m.iter().any(|x| x == want), "missing {want:?} in {m:#?}");
        }
        let mut s = Problems::new();
        r.check_sinks(&["other"], "alert.routing", &mut s);
        assert_eq!(
            messages(&s),
            ["alert.routing.receiver[0].sinks[0]: unknown sink `duty` (not among the pipeline's [[sinks]])"]
        );
    }
}
