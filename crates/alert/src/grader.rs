//! The grader: event snapshots in, graded alerts out, on event time.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Duration as ChronoDuration, FixedOffset};
use serde_json::{json, Map, Value};
use tracing::{debug, warn};
use yuqing_core::clock::cst;
use yuqing_core::{
    id, telemetry, Alert, AlertKind, Deadline, Event, Grade, Problems, Reason, Stage,
    SCHEMA_VERSION,
};

use crate::config::{AlertConfig, DeadlineFrom, GradingConfig, RoutingConfig};
use crate::metrics;
use crate::route::{Route, Router};
use crate::rules::{self, age_words, hm, input_reasons, Assessment, Input, RuleSet};
use crate::AlertError;

const BUNDLED_GRADING: &str = include_str!("../../../pipelines/alert/grading.toml");
const BUNDLED_ROUTING: &str = include_str!("../../../pipelines/alert/routing.toml");

/// One per alert stage: grades event snapshots, keeps each alerted event's grade, curve wave,
/// deadlines and timers, and decides who receives each alert.
///
/// Everything runs on event time: [`on_event`](Grader::on_event) reads `ev.updated_at`,
/// [`tick`](Grader::tick) the time it is given. Alert ids are deterministic, so the same input
/// gives the same alerts whatever the batching, after a restart ([`restore`](Grader::restore))
/// and in `yuqing replay`.
#[derive(Debug)]
pub struct Grader {
    grading: GradingConfig,
    rules: RuleSet,
    router: Router,
    min_notice: ChronoDuration,
    forget_after: ChronoDuration,
    quiet_after: ChronoDuration,
    events: HashMap<String, Tracked>,
    timers: BinaryHeap<Reverse<Timer>>,
    watermark: Option<DateTime<FixedOffset>>,
}

/// The state of a deadline of an alerted event.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadlineStatus {
    /// The deadline as alerts state it.
    pub deadline: Deadline,
    /// When a response met it (possibly after the due time).
    pub met: Option<DateTime<FixedOffset>>,
    /// Whether the overdue escalation fired.
    pub overdue: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum What {
    Reminder { deadline: usize, lead: usize },
    Overdue { deadline: usize },
    Quiet,
    Forget,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    at: i64,
    event: String,
    what: What,
}

#[derive(Debug, Clone)]
struct Info {
    title: String,
    department: Option<String>,
    region: Option<String>,
    response_subject: Vec<String>,
    url: Option<String>,
    stage: Stage,
    topics: Vec<String>,
    category: Option<String>,
    handling_class: Option<String>,
}

#[derive(Debug, Clone)]
struct DeadlineState {
    kind: String,
    label: String,
    due: DateTime<FixedOffset>,
    /// The start of the wave it belongs to: responses from then on meet it.
    start: DateTime<FixedOffset>,
    /// The alert that first stated it.
    introduced: DateTime<FixedOffset>,
    leads: Vec<ChronoDuration>,
    channels: Vec<String>,
    reminded: Vec<bool>,
    overdue: bool,
    met: Option<DateTime<FixedOffset>>,
    /// Its timers are in the heap.
    scheduled: bool,
}

impl DeadlineState {
    fn key(&self) -> String {
        format!("{}@{}", self.kind, self.due.timestamp_millis())
    }

    fn open(&self) -> bool {
        self.met.is_none() && !self.overdue
    }

    fn accepts(&self, channel: Option<&str>) -> bool {
        self.channels.is_empty() || channel.is_some_and(|c| self.channels.iter().any(|w| w == c))
    }
}

#[derive(Debug, Clone)]
struct Response {
    at: DateTime<FixedOffset>,
    channel: Option<String>,
}

#[derive(Debug, Clone)]
struct Tracked {
    grade: Grade,
    emergency: bool,
    wave: u32,
    wave_start: DateTime<FixedOffset>,
    first_seen: DateTime<FixedOffset>,
    calm_at: Option<DateTime<FixedOffset>>,
    info: Info,
    inputs: Option<Value>,
    last_update: Option<DateTime<FixedOffset>>,
    last_activity: DateTime<FixedOffset>,
    /// The stage of the latest snapshot.
    stage: Stage,
    /// The stage of the snapshot before it (transitions: calm, flare).
    prev_stage: Stage,
    deadlines: Vec<DeadlineState>,
    responses: Vec<Response>,
    quiet_at: Option<i64>,
    forget_at: Option<i64>,
}

fn to_cst(t: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    t.with_timezone(&cst())
}

fn from_ms(ms: i64) -> DateTime<FixedOffset> {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&cst())
}

fn chrono_dur(d: std::time::Duration) -> ChronoDuration {
    ChronoDuration::from_std(d).unwrap_or(ChronoDuration::MAX)
}

fn info_of(ev: &Event) -> Info {
    Info {
        title: ev.title.clone(),
        department: ev.department.clone(),
        region: ev.region.clone(),
        response_subject: ev.response_subject.clone(),
        url: ev.first_url.clone(),
        stage: ev.stage,
        topics: ev.topics.clone(),
        category: ev.category.clone(),
        handling_class: ev.handling_class.map(|h| h.as_str().to_string()),
    }
}

fn inputs_of(ev: &Event) -> Value {
    let c = &ev.counts;
    json!({
        "sensitivity": ev.sensitivity,
        "sentiment": ev.sentiment,
        "velocity": ev.velocity,
        "size": ev.size(),
        "forecast": ev.forecast_peak.size,
        "stage": ev.stage.as_str(),
        "items": c.items,
        "platforms": c.platforms,
        "sources": c.sources,
        "media": c.media,
        "official": c.official,
    })
}

fn load<T: serde::de::DeserializeOwned>(
    file: Option<&Path>,
    base_dir: &Path,
    bundled: &str,
    bundled_name: &str,
) -> Result<T, AlertError> {
    let (text, name) = match file {
        Some(f) => {
            let path = base_dir.join(f);
            let text = std::fs::read_to_string(&path).map_err(|source| AlertError::Io {
                path: path.clone(),
                source,
            })?;
            (text, path.display().to_string())
        }
        None => (bundled.to_string(), format!("bundled:{bundled_name}")),
    };
    toml::from_str(&text).map_err(|e| AlertError::Parse {
        path: name,
        message: e.to_string(),
    })
}

impl Grader {
    /// The grader of the bundled rules (`pipelines/alert/grading.toml` and `routing.toml`) with
    /// the default `[alert]` settings.
    pub fn builtin() -> Result<Grader, AlertError> {
        Grader::new(&AlertConfig::default(), Path::new("."))
    }

    /// The grader of a pipeline's `[alert]` table; rules files resolve against `base_dir` (the
    /// pipeline file's directory). Every problem of the table and of both files is reported
    /// together, with its key path.
    pub fn new(cfg: &AlertConfig, base_dir: &Path) -> Result<Grader, AlertError> {
        let mut problems = Problems::new();
        cfg.validate("alert", &mut problems);
        if !problems.is_empty() {
            return Err(AlertError::Invalid(problems));
        }
        let mut grading: GradingConfig = load(
            cfg.grading.as_deref(),
            base_dir,
            BUNDLED_GRADING,
            "pipelines/alert/grading.toml",
        )?;
        let routing: RoutingConfig = load(
            cfg.routing.as_deref(),
            base_dir,
            BUNDLED_ROUTING,
            "pipelines/alert/routing.toml",
        )?;
        grading.validate("alert.grading", &mut problems);
        routing.validate("alert.routing", &mut problems);
        if cfg.national_five_hour_rule {
            if grading
                .deadlines
                .iter()
                .any(|d| d.kind == crate::config::NATIONAL_KIND)
            {
                problems.push(
                    "alert.national_five_hour_rule",
                    format!(
                        "the grading file already defines deadline `{}`",
                        crate::config::NATIONAL_KIND
                    ),
                );
            } else {
                grading.deadlines.push(GradingConfig::national_rule());
            }
        }
        if !problems.is_empty() {
            return Err(AlertError::Invalid(problems));
        }
        metrics::init();
        Ok(Grader {
            rules: RuleSet::new(&grading),
            quiet_after: chrono_dur(grading.calm.quiet_after),
            grading,
            router: Router::compile(&routing),
            min_notice: chrono_dur(cfg.min_notice),
            forget_after: chrono_dur(cfg.forget_after),
            events: HashMap::new(),
            timers: BinaryHeap::new(),
            watermark: None,
        })
    }

    /// The grading rules in force.
    pub fn grading(&self) -> &GradingConfig {
        &self.grading
    }

    /// The router.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The router, to tell it the sinks' kinds ([`Router::set_sink_kinds`]).
    pub fn router_mut(&mut self) -> &mut Router {
        &mut self.router
    }

    /// The receivers of `alert`, with quiet hours judged at `now`.
    pub fn route(&self, alert: &Alert, now: DateTime<FixedOffset>) -> Route {
        self.router.route(alert, now)
    }

    /// What the rules say about a snapshot, without changing any state.
    pub fn assess(&self, ev: &Event) -> Assessment {
        let emergency = rules::is_emergency(&self.grading, ev);
        let input = Input::new(ev, emergency);
        match self.rules.best(&input) {
            Some(r) => {
                let mut reasons = r.explain(&input);
                reasons.extend(input_reasons(ev, emergency));
                Assessment {
                    grade: Some(r.rule.grade),
                    rule: Some(r.rule.name.clone()),
                    reasons,
                    emergency,
                }
            }
            None => Assessment {
                grade: None,
                rule: None,
                reasons: input_reasons(ev, emergency),
                emergency,
            },
        }
    }

    /// The grade of an alerted event (it never goes down).
    pub fn grade_of(&self, event_id: &str) -> Option<Grade> {
        self.events.get(event_id).map(|t| t.grade)
    }

    /// The deadlines of an alerted event, met or not.
    pub fn deadlines_of(&self, event_id: &str) -> Vec<DeadlineStatus> {
        self.events
            .get(event_id)
            .map(|t| {
                t.deadlines
                    .iter()
                    .map(|d| DeadlineStatus {
                        deadline: Deadline {
                            kind: d.kind.clone(),
                            label: d.label.clone(),
                            due: d.due,
                        },
                        met: d.met,
                        overdue: d.overdue,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Events tracked (alerted and not yet forgotten).
    pub fn tracked(&self) -> usize {
        self.events.len()
    }

    /// The latest event time the grader has seen (snapshots, ticks, restored alerts).
    pub fn watermark(&self) -> Option<DateTime<FixedOffset>> {
        self.watermark
    }

    /// When the next timer (reminder, deadline, calm, forget) is due: the daemon need not
    /// [`tick`](Grader::tick) before then.
    pub fn next_due(&self) -> Option<DateTime<FixedOffset>> {
        self.timers.peek().map(|Reverse(t)| from_ms(t.at))
    }

    /// Grades one event snapshot at its event time (`ev.updated_at`): first fires what became
    /// due by then ([`tick`](Grader::tick)), then what the snapshot itself causes — the first
    /// warning, an escalation, calm or flare. A snapshot older than the last one of its event is
    /// skipped (counted in `yuqing_component_discarded_events_total{reason="stale_snapshot"}`).
    pub fn on_event(&mut self, ev: &Event) -> Vec<Alert> {
        let started = Instant::now();
        telemetry::RECEIVED
            .with_label_values(&[metrics::STAGE])
            .inc();
        let now = to_cst(ev.updated_at);
        let mut out = self.tick(now);
        if ev.event_id.trim().is_empty() {
            telemetry::DISCARDED
                .with_label_values(&[metrics::STAGE, "invalid_event"])
                .inc();
            warn!(error = "empty event_id", "Event snapshot skipped.");
        } else {
            self.evaluate(ev, now, &mut out);
        }
        self.bump_watermark(now);
        self.count(&out);
        metrics::EVALUATION.observe(started.elapsed().as_secs_f64());
        out
    }

    /// Fires what became due by `now`: reminders before deadlines, missed deadlines (which
    /// escalate the grade one level), calm after quiet. Each fires once, at its own scheduled
    /// event time (`alert.at`), whenever `tick` happens to run. Time never runs backwards: a
    /// `now` before the watermark fires nothing new.
    pub fn tick(&mut self, now: DateTime<FixedOffset>) -> Vec<Alert> {
        let now_ms = now.timestamp_millis();
        let mut out = Vec::new();
        while self.timers.peek().is_some_and(|Reverse(t)| t.at <= now_ms) {
            let Some(Reverse(timer)) = self.timers.pop() else {
                break;
            };
            self.fire(timer, &mut out);
        }
        self.bump_watermark(to_cst(now));
        self.count(&out);
        out
    }

    /// Records a public response (from the case workflow) to an event at `at`, through
    /// `channel` (`press_conference`, `website`, …; `None` when unknown): it meets the open
    /// deadlines of the event that accept the channel. Returns false when the event is not
    /// tracked. After a restart, call it again for every responded case (after
    /// [`restore`](Grader::restore)).
    pub fn note_responded(
        &mut self,
        event_id: &str,
        at: DateTime<FixedOffset>,
        channel: Option<&str>,
    ) -> bool {
        let Some(t) = self.events.get_mut(event_id) else {
            return false;
        };
        let at = to_cst(at);
        if !t
            .responses
            .iter()
            .any(|r| r.at == at && r.channel.as_deref() == channel)
        {
            t.responses.push(Response {
                at,
                channel: channel.map(str::to_string),
            });
        }
        for d in &mut t.deadlines {
            if d.met.is_none() && at >= d.start && d.accepts(channel) {
                d.met = Some(at);
            }
        }
        true
    }

    /// Rebuilds the state from stored alerts after a restart: grades, curve waves, calm,
    /// deadlines and which reminders and escalations already fired. Then feed the latest
    /// snapshot of each open event to [`resume`](Grader::resume) and the recorded responses to
    /// [`note_responded`](Grader::note_responded); timers continue from there, so a restart
    /// neither repeats nor loses an alert.
    pub fn restore(&mut self, alerts: &[Alert]) {
        let mut sorted: Vec<&Alert> = alerts
            .iter()
            .filter(|a| a.kind != AlertKind::SourceHealth && !a.event_id.is_empty())
            .collect();
        sorted.sort_by(|a, b| {
            (a.at, kind_rank(a.kind), &a.alert_id).cmp(&(b.at, kind_rank(b.kind), &b.alert_id))
        });
        let mut wave_starts: HashMap<(String, u32), DateTime<FixedOffset>> = HashMap::new();
        let mut latest_calm: HashMap<String, (u32, DateTime<FixedOffset>)> = HashMap::new();
        for a in sorted {
            let at = to_cst(a.at);
            let wave = a.extra.get("wave").and_then(Value::as_u64).unwrap_or(0) as u32;
            let first_seen = a
                .extra
                .get("first_seen")
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(to_cst)
                .unwrap_or(at);
            let t = self
                .events
                .entry(a.event_id.clone())
                .or_insert_with(|| Tracked {
                    grade: a.grade,
                    emergency: false,
                    wave: 0,
                    wave_start: first_seen,
                    first_seen,
                    calm_at: None,
                    info: Info {
                        title: a.title.clone(),
                        department: a.department.clone(),
                        region: a.region.clone(),
                        response_subject: a.response_subject.clone(),
                        url: a.url.clone(),
                        stage: a.stage,
                        topics: Vec::new(),
                        category: None,
                        handling_class: None,
                    },
                    inputs: None,
                    last_update: None,
                    last_activity: at,
                    stage: a.stage,
                    prev_stage: a.stage,
                    deadlines: Vec::new(),
                    responses: Vec::new(),
                    quiet_at: None,
                    forget_at: None,
                });
            t.grade = t.grade.max(a.grade);
            // The latest alert carries the emergency judgement of the latest snapshot.
            t.emergency = a
                .extra
                .get("emergency")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if a.kind == AlertKind::Flared {
                wave_starts.insert((a.event_id.clone(), wave), at);
            }
            if wave >= t.wave {
                t.wave = wave;
                t.wave_start = wave_starts
                    .get(&(a.event_id.clone(), wave))
                    .copied()
                    .unwrap_or(t.first_seen);
            }
            if matches!(
                a.kind,
                AlertKind::New | AlertKind::Escalated | AlertKind::Flared
            ) {
                t.last_activity = t.last_activity.max(at);
            }
            // Every alert carries the stage of the latest snapshot before it.
            t.stage = a.stage;
            t.prev_stage = a.stage;
            if let Some(i) = a.extra.get("inputs") {
                t.inputs = Some(i.clone());
            }
            if a.kind == AlertKind::Calmed {
                let e = latest_calm.entry(a.event_id.clone()).or_insert((wave, at));
                if wave >= e.0 {
                    *e = (wave, at);
                }
            }
            // The latest alert describes the event best.
            t.info.title.clone_from(&a.title);
            t.info.department.clone_from(&a.department);
            t.info.region.clone_from(&a.region);
            t.info.response_subject.clone_from(&a.response_subject);
            t.info.url.clone_from(&a.url);
            t.info.stage = a.stage;
            if let Some(topics) = a.extra.get("topics").and_then(Value::as_array) {
                t.info.topics = topics
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
            }
            if let Some(c) = a.extra.get("category").and_then(Value::as_str) {
                t.info.category = Some(c.to_string());
            }
            if let Some(h) = a.extra.get("handling_class").and_then(Value::as_str) {
                t.info.handling_class = Some(h.to_string());
            }
            let start = t.wave_start;
            for d in &a.deadlines {
                restore_deadline(
                    &self.grading,
                    t,
                    &d.kind,
                    &d.label,
                    to_cst(d.due),
                    start,
                    at,
                );
            }
            if let Some(timer) = a.extra.get("timer") {
                let kind = timer.get("deadline").and_then(Value::as_str).unwrap_or("");
                let due = timer
                    .get("due")
                    .and_then(Value::as_str)
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(to_cst);
                if let Some(due) = due {
                    let label = kind.to_string();
                    let i = restore_deadline(&self.grading, t, kind, &label, due, start, at);
                    let d = &mut t.deadlines[i];
                    match a.kind {
                        AlertKind::Overdue => d.overdue = true,
                        AlertKind::Reminder => {
                            let lead = timer.get("lead_s").and_then(Value::as_i64).unwrap_or(-1);
                            if let Some(j) = d.leads.iter().position(|l| l.num_seconds() == lead) {
                                d.reminded[j] = true;
                            }
                        }
                        _ => {}
                    }
                }
            }
            self.watermark = Some(self.watermark.map_or(at, |w| w.max(at)));
        }
        for (event_id, (wave, at)) in latest_calm {
            if let Some(t) = self.events.get_mut(&event_id) {
                if wave == t.wave {
                    t.calm_at = Some(at);
                }
            }
        }
        // Schedule every timer that has not fired.
        let ids: Vec<String> = self.events.keys().cloned().collect();
        for id in ids {
            self.schedule_all(&id);
        }
        metrics::OPEN_EVENTS.set(self.events.len() as i64);
    }

    /// Takes over events this grader does not know yet from their stored alerts — over Kafka,
    /// another alert process graded them until a rebalance moved their partition here. Like
    /// [`restore`](Grader::restore), but alerts of events already tracked are ignored (their
    /// state here is newer). Returns how many events were adopted.
    pub fn adopt(&mut self, alerts: &[Alert]) -> usize {
        let unknown: Vec<Alert> = alerts
            .iter()
            .filter(|a| {
                a.kind != AlertKind::SourceHealth
                    && !a.event_id.is_empty()
                    && !self.events.contains_key(&a.event_id)
            })
            .cloned()
            .collect();
        let ids: std::collections::HashSet<&str> =
            unknown.iter().map(|a| a.event_id.as_str()).collect();
        let n = ids.len();
        if n > 0 {
            self.restore(&unknown);
        }
        n
    }

    /// Whether the grader tracks `event_id` (it has graded or adopted it and not forgotten it).
    pub fn knows(&self, event_id: &str) -> bool {
        self.events.contains_key(event_id)
    }

    /// After [`restore`](Grader::restore): the latest stored snapshot of each open event. Sets
    /// what alerts do not record — last activity, stage, inputs — without grading anything or
    /// running timers, so that the grader continues exactly where it stopped.
    ///
    /// Alerts lost in flight (graded but not stored before a crash) come back on their own:
    /// timer alerts fire again at their scheduled event time on the next
    /// [`tick`](Grader::tick), and the snapshot whose alerts were lost is redelivered (the
    /// daemon acknowledges input only after storing its alerts) — grading the same snapshot
    /// again is allowed and fires what is missing, under the same deterministic ids.
    pub fn resume(&mut self, latest: &[Event]) {
        for ev in latest {
            let Some(t) = self.events.get_mut(&ev.event_id) else {
                continue;
            };
            let now = to_cst(ev.updated_at);
            if t.last_update.is_some_and(|lu| now <= lu) {
                continue;
            }
            t.last_update = Some(now);
            t.prev_stage = t.stage;
            t.stage = ev.stage;
            t.info = info_of(ev);
            t.inputs = Some(inputs_of(ev));
            t.emergency = rules::is_emergency(&self.grading, ev);
            let activity = to_cst(ev.last_seen.min(ev.updated_at));
            if activity > t.last_activity {
                t.last_activity = activity;
            }
            self.watermark = Some(self.watermark.map_or(now, |w| w.max(now)));
        }
    }

    fn bump_watermark(&mut self, now: DateTime<FixedOffset>) {
        self.watermark = Some(self.watermark.map_or(now, |w| w.max(now)));
    }

    fn count(&self, out: &[Alert]) {
        for a in out {
            metrics::FIRED
                .with_label_values(&[a.grade.as_str(), a.kind.as_str()])
                .inc();
        }
        if !out.is_empty() {
            telemetry::SENT
                .with_label_values(&[metrics::STAGE])
                .inc_by(out.len() as u64);
        }
        metrics::OPEN_EVENTS.set(self.events.len() as i64);
    }

    fn evaluate(&mut self, ev: &Event, now: DateTime<FixedOffset>, out: &mut Vec<Alert>) {
        let emergency = rules::is_emergency(&self.grading, ev);
        let input = Input::new(ev, emergency);
        let best = self.rules.best(&input);
        let Some(t) = self.events.get_mut(&ev.event_id) else {
            let Some(rule) = best else {
                return;
            };
            let first_seen = to_cst(ev.first_seen.min(ev.updated_at));
            let mut t = Tracked {
                grade: rule.rule.grade,
                emergency,
                wave: 0,
                wave_start: first_seen,
                first_seen,
                calm_at: None,
                info: info_of(ev),
                inputs: Some(inputs_of(ev)),
                last_update: Some(now),
                last_activity: to_cst(ev.last_seen.min(ev.updated_at)).max(first_seen),
                stage: ev.stage,
                prev_stage: ev.stage,
                deadlines: Vec::new(),
                responses: Vec::new(),
                quiet_at: None,
                forget_at: None,
            };
            attach_deadlines(&self.grading, self.min_notice, &mut t, now);
            let mut reasons = rule.explain(&input);
            reasons.extend(input_reasons(ev, emergency));
            reasons.extend(deadline_reasons(&t));
            let alert = build(
                &ev.event_id,
                &t,
                id::alert_id(&ev.event_id, "new", t.grade.as_str(), 0),
                AlertKind::New,
                t.grade,
                None,
                now,
                format!("grading:{}", rule.rule.name),
                reasons,
                None,
            );
            debug!(event = %ev.event_id, grade = %t.grade, rule = %rule.rule.name, "Event alerted.");
            out.push(alert);
            let id = ev.event_id.clone();
            self.events.insert(id.clone(), t);
            self.schedule_all(&id);
            return;
        };
        if t.last_update.is_some_and(|lu| now < lu) {
            telemetry::DISCARDED
                .with_label_values(&[metrics::STAGE, "stale_snapshot"])
                .inc();
            debug!(event = %ev.event_id, "Stale event snapshot skipped.");
            return;
        }
        // A snapshot at the same event time as the last one is graded again (a redelivery, or a
        // correction): the stage transition is judged against the same predecessor.
        if t.last_update != Some(now) {
            t.prev_stage = t.stage;
        }
        let prev_stage = t.prev_stage;
        t.stage = ev.stage;
        t.last_update = Some(now);
        t.info = info_of(ev);
        t.inputs = Some(inputs_of(ev));
        t.emergency = emergency;
        let activity = to_cst(ev.last_seen.min(ev.updated_at));
        if activity > t.last_activity {
            t.last_activity = activity;
        }
        let proposed = best.map(|r| r.rule.grade);
        let id = ev.event_id.clone();
        if let Some(calm_at) = t.calm_at {
            let flare_cfg = &self.grading.flare;
            let by_velocity = ev.velocity >= flare_cfg.velocity_min;
            let by_stage = flare_cfg.on_stage_change
                && prev_stage == Stage::Fading
                && ev.stage != Stage::Fading;
            let by_grade = proposed.is_some_and(|g| g > t.grade);
            if now > calm_at && (by_velocity || by_stage || by_grade) {
                let previous = t.grade;
                let grade = proposed.map_or(previous, |g| g.max(previous));
                t.grade = grade;
                t.wave += 1;
                t.wave_start = now;
                t.calm_at = None;
                attach_deadlines(&self.grading, self.min_notice, t, now);
                let mut reasons = vec![Reason::new(
                    "curve",
                    "curve:flared",
                    format!(
                        "消退后再次升温（第 {} 次）：{}",
                        t.wave,
                        flare_words(by_velocity, by_stage, by_grade, ev, flare_cfg.velocity_min)
                    ),
                )];
                if let Some(r) = best {
                    reasons.extend(r.explain(&input));
                }
                reasons.extend(input_reasons(ev, emergency));
                reasons.extend(deadline_reasons(t));
                let rule = best.map_or_else(
                    || "curve:flared".to_string(),
                    |r| format!("grading:{}", r.rule.name),
                );
                out.push(build(
                    &id,
                    t,
                    id::alert_id(&id, "flared", "", t.wave),
                    AlertKind::Flared,
                    grade,
                    (grade != previous).then_some(previous),
                    now,
                    rule,
                    reasons,
                    None,
                ));
                self.schedule_all(&id);
            }
            return;
        }
        if let (Some(rule), Some(g)) = (best, proposed) {
            if g > t.grade {
                let previous = t.grade;
                t.grade = g;
                attach_deadlines(&self.grading, self.min_notice, t, now);
                let mut reasons = rule.explain(&input);
                reasons.push(Reason::new(
                    "grade",
                    "curve:escalated",
                    format!(
                        "由 {} 级（{}）升为 {} 级（{}）",
                        previous.as_str(),
                        previous.label(),
                        g.as_str(),
                        g.label()
                    ),
                ));
                reasons.extend(input_reasons(ev, t.emergency));
                reasons.extend(deadline_reasons(t));
                out.push(build(
                    &id,
                    t,
                    id::alert_id(&id, "escalated", g.as_str(), 0),
                    AlertKind::Escalated,
                    g,
                    Some(previous),
                    now,
                    format!("grading:{}", rule.rule.name),
                    reasons,
                    None,
                ));
            }
        }
        if self.grading.calm.on_fading_stage
            && ev.stage == Stage::Fading
            && prev_stage != Stage::Fading
        {
            t.calm_at = Some(now);
            let reasons = vec![
                Reason::new(
                    "curve",
                    "curve:calmed",
                    format!(
                        "进入消退期：传播速度降至 {} 次/小时，距首次发现 {}；仍保持跟踪，如再次升温将再次预警",
                        rules::num(ev.velocity),
                        age_words((now - t.first_seen).num_seconds().max(0))
                    ),
                ),
                Reason::new(
                    "grade",
                    "curve:calmed",
                    format!("等级保持 {} 级（{}），不作降级", t.grade.as_str(), t.grade.label()),
                ),
            ];
            let wave = t.wave;
            out.push(build(
                &id,
                t,
                id::alert_id(&id, "calmed", "", wave),
                AlertKind::Calmed,
                t.grade,
                None,
                now,
                "curve:calmed".to_string(),
                reasons,
                None,
            ));
        }
        self.schedule_all(&id);
    }

    /// Schedules the timers an event needs and that are not in the heap yet.
    fn schedule_all(&mut self, event_id: &str) {
        let Some(t) = self.events.get_mut(event_id) else {
            return;
        };
        for (i, d) in t.deadlines.iter_mut().enumerate() {
            if !d.open() || d.scheduled {
                continue;
            }
            d.scheduled = true;
            // Reminders fall due only when still ahead of the alert that stated the deadline
            // (that alert states the due time itself).
            for (j, lead) in d.leads.iter().enumerate() {
                let at = d.due - *lead;
                if !d.reminded[j] && at > d.introduced {
                    self.timers.push(Reverse(Timer {
                        at: at.timestamp_millis(),
                        event: event_id.to_string(),
                        what: What::Reminder {
                            deadline: i,
                            lead: j,
                        },
                    }));
                }
            }
            self.timers.push(Reverse(Timer {
                at: d.due.timestamp_millis(),
                event: event_id.to_string(),
                what: What::Overdue { deadline: i },
            }));
        }
        if t.calm_at.is_none() && t.quiet_at.is_none() {
            let at = (t.last_activity + self.quiet_after).timestamp_millis();
            t.quiet_at = Some(at);
            self.timers.push(Reverse(Timer {
                at,
                event: event_id.to_string(),
                what: What::Quiet,
            }));
        }
        if t.forget_at.is_none() {
            let at = (t.last_activity + self.forget_after).timestamp_millis();
            t.forget_at = Some(at);
            self.timers.push(Reverse(Timer {
                at,
                event: event_id.to_string(),
                what: What::Forget,
            }));
        }
    }

    fn fire(&mut self, timer: Timer, out: &mut Vec<Alert>) {
        let at = from_ms(timer.at);
        let Some(t) = self.events.get_mut(&timer.event) else {
            return;
        };
        let id = timer.event.clone();
        match timer.what {
            What::Reminder { deadline, lead } => {
                let Some(d) = t.deadlines.get_mut(deadline) else {
                    return;
                };
                if !d.open() || d.reminded.get(lead).copied().unwrap_or(true) {
                    return;
                }
                let Some(l) = d.leads.get(lead).copied() else {
                    return;
                };
                if (d.due - l).timestamp_millis() != timer.at {
                    return;
                }
                d.reminded[lead] = true;
                let d = d.clone();
                let reasons = vec![Reason::new(
                    "deadline",
                    format!("deadline:{}", d.kind),
                    format!(
                        "{}时限还剩 {}（截止 {}），尚未记录回应",
                        d.label,
                        age_words(l.num_seconds()),
                        hm(d.due)
                    ),
                )];
                let timer_info = json!({
                    "deadline": d.kind,
                    "due": d.due.to_rfc3339(),
                    "lead_s": l.num_seconds(),
                });
                out.push(build(
                    &id,
                    t,
                    id::alert_id(
                        &id,
                        "reminder",
                        &format!("{}/{}", d.key(), l.num_seconds()),
                        0,
                    ),
                    AlertKind::Reminder,
                    t.grade,
                    None,
                    at,
                    format!("deadline:{}", d.kind),
                    reasons,
                    Some(timer_info),
                ));
            }
            What::Overdue { deadline } => {
                let Some(d) = t.deadlines.get_mut(deadline) else {
                    return;
                };
                if !d.open() || d.due.timestamp_millis() != timer.at {
                    return;
                }
                d.overdue = true;
                let d = d.clone();
                let previous = t.grade;
                t.grade = previous.up();
                attach_deadlines(&self.grading, self.min_notice, t, at);
                let mut reasons = vec![
                    Reason::new(
                        "deadline",
                        format!("deadline:{}", d.kind),
                        format!("{}时限已过（截止 {}），未记录回应", d.label, hm(d.due)),
                    ),
                    Reason::new(
                        "grade",
                        "deadline:overdue",
                        if t.grade == previous {
                            format!(
                                "已是最高等级 {} 级（{}），报上一级督办",
                                t.grade.as_str(),
                                t.grade.label()
                            )
                        } else {
                            format!(
                                "按规定升级：{} 级（{}）→ {} 级（{}），报上一级督办",
                                previous.as_str(),
                                previous.label(),
                                t.grade.as_str(),
                                t.grade.label()
                            )
                        },
                    ),
                ];
                reasons.extend(deadline_reasons(t));
                let timer_info = json!({ "deadline": d.kind, "due": d.due.to_rfc3339() });
                let grade = t.grade;
                out.push(build(
                    &id,
                    t,
                    id::alert_id(&id, "overdue", &d.key(), 0),
                    AlertKind::Overdue,
                    grade,
                    Some(previous),
                    at,
                    format!("deadline:{}", d.kind),
                    reasons,
                    Some(timer_info),
                ));
                self.schedule_all(&id);
            }
            What::Quiet => {
                if t.quiet_at != Some(timer.at) {
                    return;
                }
                t.quiet_at = None;
                if t.calm_at.is_some() {
                    return;
                }
                let due = t.last_activity + self.quiet_after;
                if due.timestamp_millis() > timer.at {
                    t.quiet_at = Some(due.timestamp_millis());
                    self.timers.push(Reverse(Timer {
                        at: due.timestamp_millis(),
                        event: id,
                        what: What::Quiet,
                    }));
                    return;
                }
                t.calm_at = Some(at);
                let reasons = vec![
                    Reason::new(
                        "curve",
                        "curve:quiet",
                        format!(
                            "已连续 {} 无新增传播（最后一次 {}），判定消退；仍保持跟踪，如再次升温将再次预警",
                            age_words(self.quiet_after.num_seconds()),
                            hm(t.last_activity)
                        ),
                    ),
                    Reason::new(
                        "grade",
                        "curve:quiet",
                        format!("等级保持 {} 级（{}），不作降级", t.grade.as_str(), t.grade.label()),
                    ),
                ];
                let wave = t.wave;
                let grade = t.grade;
                out.push(build(
                    &id,
                    t,
                    id::alert_id(&id, "calmed", "", wave),
                    AlertKind::Calmed,
                    grade,
                    None,
                    at,
                    "curve:quiet".to_string(),
                    reasons,
                    None,
                ));
            }
            What::Forget => {
                if t.forget_at != Some(timer.at) {
                    return;
                }
                t.forget_at = None;
                let mut due = t.last_activity + self.forget_after;
                if let Some(open) = t.deadlines.iter().filter(|d| d.open()).map(|d| d.due).max() {
                    due = due.max(open + ChronoDuration::seconds(1));
                }
                if due.timestamp_millis() > timer.at {
                    t.forget_at = Some(due.timestamp_millis());
                    self.timers.push(Reverse(Timer {
                        at: due.timestamp_millis(),
                        event: id,
                        what: What::Forget,
                    }));
                    return;
                }
                debug!(event = %id, "Quiet event forgotten.");
                self.events.remove(&id);
            }
        }
    }
}

fn kind_rank(k: AlertKind) -> u8 {
    match k {
        AlertKind::New => 0,
        AlertKind::Flared => 1,
        AlertKind::Escalated => 2,
        AlertKind::Overdue => 3,
        AlertKind::Reminder => 4,
        AlertKind::Calmed => 5,
        AlertKind::SourceHealth => 6,
    }
}

/// Adds the deadlines that apply to the event's grade and are not yet running in its wave.
fn attach_deadlines(
    grading: &GradingConfig,
    min_notice: ChronoDuration,
    t: &mut Tracked,
    now: DateTime<FixedOffset>,
) {
    for rule in &grading.deadlines {
        if !rule.applies(t.grade, t.emergency) {
            continue;
        }
        let running = t
            .deadlines
            .iter()
            .any(|d| d.kind == rule.kind && (d.open() || d.start == t.wave_start));
        if running {
            continue;
        }
        let anchor = match rule.from {
            DeadlineFrom::FirstSeen => t.wave_start,
            DeadlineFrom::Alert => now,
        };
        let due = (anchor + chrono_dur(rule.within)).max(now + min_notice);
        let mut d = DeadlineState {
            kind: rule.kind.clone(),
            label: rule.label.clone(),
            due,
            start: t.wave_start,
            introduced: now,
            leads: rule.remind_before.iter().map(|l| chrono_dur(*l)).collect(),
            channels: rule.channels.clone(),
            reminded: vec![false; rule.remind_before.len()],
            overdue: false,
            met: None,
            scheduled: false,
        };
        d.met = t
            .responses
            .iter()
            .filter(|r| r.at >= d.start && d.accepts(r.channel.as_deref()))
            .map(|r| r.at)
            .min();
        t.deadlines.push(d);
    }
}

/// Finds or recreates a deadline from a stored alert; returns its index.
fn restore_deadline(
    grading: &GradingConfig,
    t: &mut Tracked,
    kind: &str,
    label: &str,
    due: DateTime<FixedOffset>,
    start: DateTime<FixedOffset>,
    introduced: DateTime<FixedOffset>,
) -> usize {
    if let Some(i) = t
        .deadlines
        .iter()
        .position(|d| d.kind == kind && d.due == due)
    {
        return i;
    }
    let rule = grading.deadlines.iter().find(|r| r.kind == kind);
    let leads: Vec<ChronoDuration> = rule
        .map(|r| r.remind_before.iter().map(|l| chrono_dur(*l)).collect())
        .unwrap_or_default();
    t.deadlines.push(DeadlineState {
        kind: kind.to_string(),
        label: rule.map_or_else(|| label.to_string(), |r| r.label.clone()),
        due,
        start,
        introduced,
        reminded: vec![false; leads.len()],
        leads,
        channels: rule.map(|r| r.channels.clone()).unwrap_or_default(),
        overdue: false,
        met: None,
        scheduled: false,
    });
    t.deadlines.len() - 1
}

fn current_deadlines(t: &Tracked) -> Vec<Deadline> {
    t.deadlines
        .iter()
        .filter(|d| d.start == t.wave_start || d.open())
        .map(|d| Deadline {
            kind: d.kind.clone(),
            label: d.label.clone(),
            due: d.due,
        })
        .collect()
}

fn deadline_reasons(t: &Tracked) -> Vec<Reason> {
    t.deadlines
        .iter()
        .filter(|d| d.start == t.wave_start || d.open())
        .map(|d| {
            let evidence = match d.met {
                Some(m) => format!("{}：截止 {}，已于 {} 回应", d.label, hm(d.due), hm(m)),
                None if d.overdue => format!("{}：截止 {}，已超时", d.label, hm(d.due)),
                None => format!("{}：截止 {}", d.label, hm(d.due)),
            };
            Reason::new("deadline", format!("deadline:{}", d.kind), evidence)
        })
        .collect()
}

fn flare_words(by_velocity: bool, by_stage: bool, by_grade: bool, ev: &Event, min: f64) -> String {
    let mut parts = Vec::new();
    if by_velocity {
        parts.push(format!(
            "传播速度回升至 {} 次/小时（≥ {}）",
            rules::num(ev.velocity),
            rules::num(min)
        ));
    }
    if by_stage {
        parts.push(format!("传播阶段由消退转为{}", ev.stage.label()));
    }
    if by_grade {
        parts.push("规则判定等级高于此前".to_string());
    }
    parts.join("；")
}

#[allow(clippy::too_many_arguments)]
fn build(
    event_id: &str,
    t: &Tracked,
    alert_id: String,
    kind: AlertKind,
    grade: Grade,
    previous_grade: Option<Grade>,
    at: DateTime<FixedOffset>,
    rule: String,
    reasons: Vec<Reason>,
    timer: Option<Value>,
) -> Alert {
    let mut extra = Map::new();
    extra.insert(
        "first_seen".into(),
        Value::String(t.first_seen.to_rfc3339()),
    );
    extra.insert("wave".into(), Value::from(t.wave));
    extra.insert("emergency".into(), Value::Bool(t.emergency));
    if !t.info.topics.is_empty() {
        extra.insert("topics".into(), json!(t.info.topics));
    }
    if let Some(c) = &t.info.category {
        extra.insert("category".into(), Value::String(c.clone()));
    }
    if let Some(h) = &t.info.handling_class {
        extra.insert("handling_class".into(), Value::String(h.clone()));
    }
    if let Some(i) = &t.inputs {
        extra.insert("inputs".into(), i.clone());
    }
    if let Some(timer) = timer {
        extra.insert("timer".into(), timer);
    }
    Alert {
        schema_version: SCHEMA_VERSION,
        alert_id,
        event_id: event_id.to_string(),
        kind,
        grade,
        previous_grade,
        stage: t.info.stage,
        title: t.info.title.clone(),
        department: t.info.department.clone(),
        region: t.info.region.clone(),
        response_subject: t.info.response_subject.clone(),
        deadlines: current_deadlines(t),
        rule,
        reasons,
        url: t.info.url.clone(),
        at,
        extra,
    }
}
