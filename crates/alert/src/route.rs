//! Routing: who receives an alert.
//!
//! The owner department and the place choose the receivers (routes of `routing.toml`), copy
//! rules add offices (grades I–II also to 政府办 and 网信办), `always` receivers get everything
//! and `fallback` receivers get what no route matched. Overdue alerts also go to the receivers'
//! escalation sinks (the level above). Quiet hours hold alerts of the non-exempt grades for chat
//! sinks until the end of the window.
//!
//! The router decides; it does not deliver. [`Route::apply`] writes the decision into the alert
//! (`extra["route"]`, the array the sinks filter on, and `extra["routing"]`).

use std::collections::HashMap;

use chrono::{DateTime, Duration as ChronoDuration, FixedOffset, NaiveTime};
use serde::Serialize;
use serde_json::Value;
use yuqing_core::{clock::cst, Alert, AlertKind};

use crate::config::{QuietHours, RouteRule, RoutingConfig};
use crate::rules::category_matches;
use crate::AlertError;

/// The receivers of one alert.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Route {
    /// Every sink id the alert goes to (deduplicated, in routing order).
    pub sinks: Vec<String>,
    /// Duty contacts of the receivers.
    pub contacts: Vec<String>,
    /// The escalation chain, in order.
    pub escalation: Vec<String>,
    /// Quiet hours: the sinks in `deferred_sinks` receive the alert at this time instead of now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred_until: Option<DateTime<FixedOffset>>,
    /// The chat sinks held back by quiet hours (a subset of `sinks`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deferred_sinks: Vec<String>,
    /// The receivers, in order: routed (or fallback), always, copies.
    pub receivers: Vec<String>,
    /// The route and copy rules that matched, by name.
    pub rules: Vec<String>,
}

impl Route {
    /// The sinks that receive the alert now (those not deferred by quiet hours).
    pub fn immediate(&self) -> impl Iterator<Item = &str> {
        self.sinks
            .iter()
            .filter(|s| !self.deferred_sinks.contains(s))
            .map(String::as_str)
    }

    /// Writes the decision into the alert: `extra["route"]` (the sink ids, which the sinks
    /// filter on) and `extra["routing"]` (contacts, escalation, receivers, rules, deferral).
    pub fn apply(&self, alert: &mut Alert) {
        alert.extra.insert(
            "route".to_string(),
            Value::Array(self.sinks.iter().cloned().map(Value::String).collect()),
        );
        let mut routing = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut routing {
            m.remove("sinks");
        }
        alert.extra.insert("routing".to_string(), routing);
    }
}

/// The routing table, ready to route.
#[derive(Debug, Clone)]
pub struct Router {
    cfg: RoutingConfig,
    index: HashMap<String, usize>,
    window: Option<(NaiveTime, NaiveTime)>,
    sink_kinds: HashMap<String, String>,
}

impl Router {
    /// Validates and compiles a routing table.
    pub fn new(cfg: &RoutingConfig) -> Result<Router, AlertError> {
        let mut problems = yuqing_core::Problems::new();
        cfg.validate("routing", &mut problems);
        if !problems.is_empty() {
            return Err(AlertError::Invalid(problems));
        }
        Ok(Router::compile(cfg))
    }

    pub(crate) fn compile(cfg: &RoutingConfig) -> Router {
        Router {
            index: cfg
                .receivers
                .iter()
                .enumerate()
                .map(|(i, r)| (r.name.clone(), i))
                .collect(),
            window: cfg.quiet_hours.as_ref().and_then(QuietHours::window),
            cfg: cfg.clone(),
            sink_kinds: HashMap::new(),
        }
    }

    /// Tells the router each sink's kind (`wecom`, `email`, …), so that quiet hours can hold
    /// the chat sinks (`quiet_hours.defer_kinds`).
    pub fn set_sink_kinds<I, K, V>(&mut self, kinds: I)
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.sink_kinds = kinds
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
    }

    /// The routing table.
    pub fn config(&self) -> &RoutingConfig {
        &self.cfg
    }

    /// The receivers of `alert`, with quiet hours judged at `now`.
    pub fn route(&self, alert: &Alert, now: DateTime<FixedOffset>) -> Route {
        let facts = Facts::of(alert);
        let mut route = Route::default();
        let mut primary: Vec<usize> = Vec::new();
        for r in &self.cfg.routes {
            if facts.matches(r) {
                route.rules.push(r.name.clone());
                primary.extend(r.to.iter().filter_map(|n| self.index.get(n).copied()));
            }
        }
        if primary.is_empty() {
            primary.extend(
                self.cfg
                    .fallback
                    .iter()
                    .filter_map(|n| self.index.get(n).copied()),
            );
        }
        primary.extend(
            self.cfg
                .always
                .iter()
                .filter_map(|n| self.index.get(n).copied()),
        );
        let mut copies: Vec<usize> = Vec::new();
        for r in &self.cfg.copies {
            if facts.matches(r) {
                route.rules.push(r.name.clone());
                copies.extend(r.to.iter().filter_map(|n| self.index.get(n).copied()));
            }
        }
        let overdue = alert.kind == AlertKind::Overdue;
        let mut seen = vec![false; self.cfg.receivers.len()];
        for (i, is_copy) in primary
            .iter()
            .map(|i| (*i, false))
            .chain(copies.iter().map(|i| (*i, true)))
        {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let r = &self.cfg.receivers[i];
            route.receivers.push(r.name.clone());
            push_all(&mut route.sinks, &r.sinks);
            push_all(&mut route.contacts, &r.contacts);
            if !is_copy {
                push_all(&mut route.escalation, &r.escalation);
                if overdue {
                    push_all(&mut route.sinks, &r.escalation_sinks);
                }
            }
        }
        if let (Some(q), Some(window)) = (&self.cfg.quiet_hours, self.window) {
            if !q.exempt_grades.contains(&alert.grade) {
                if let Some(until) = quiet_until(window, now) {
                    route.deferred_sinks = route
                        .sinks
                        .iter()
                        .filter(|s| {
                            q.defer_sinks.contains(s)
                                || self
                                    .sink_kinds
                                    .get(s.as_str())
                                    .is_some_and(|k| q.defer_kinds.contains(k))
                        })
                        .cloned()
                        .collect();
                    if !route.deferred_sinks.is_empty() {
                        route.deferred_until = Some(until);
                    }
                }
            }
        }
        route
    }
}

fn push_all(into: &mut Vec<String>, from: &[String]) {
    for s in from {
        if !into.contains(s) {
            into.push(s.clone());
        }
    }
}

/// When `now` is inside the quiet window, the end of the window (UTC+8).
pub(crate) fn quiet_until(
    (start, end): (NaiveTime, NaiveTime),
    now: DateTime<FixedOffset>,
) -> Option<DateTime<FixedOffset>> {
    let local = now.with_timezone(&cst());
    let t = local.time();
    let inside = if start < end {
        t >= start && t < end
    } else {
        t >= start || t < end
    };
    if !inside {
        return None;
    }
    let mut day = local.date_naive();
    if t >= end {
        day = day.succ_opt()?;
    }
    let until = day.and_time(end).and_local_timezone(cst()).single()?;
    // A window ending "before" now can only mean the next day; guard against clock oddities.
    Some(if until <= local {
        until + ChronoDuration::days(1)
    } else {
        until
    })
}

/// What routing looks at, read from the alert (the grader writes topics, category and handling
/// class into `extra`).
struct Facts<'a> {
    alert: &'a Alert,
    topics: Vec<&'a str>,
    category: Option<&'a str>,
    handling: Option<&'a str>,
}

impl<'a> Facts<'a> {
    fn of(alert: &'a Alert) -> Facts<'a> {
        let topics = alert
            .extra
            .get("topics")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        Facts {
            alert,
            topics,
            category: alert.extra.get("category").and_then(Value::as_str),
            handling: alert.extra.get("handling_class").and_then(Value::as_str),
        }
    }

    fn matches(&self, r: &RouteRule) -> bool {
        let a = self.alert;
        (r.departments.is_empty()
            || a.department.as_deref().is_some_and(|d| {
                r.departments
                    .iter()
                    .any(|w| d == w || d.ends_with(w.as_str()))
            }))
            && (r.regions.is_empty()
                || a.region
                    .as_deref()
                    .is_some_and(|reg| r.regions.iter().any(|w| reg.contains(w.as_str()))))
            && (r.grades.is_empty() || r.grades.contains(&a.grade))
            && (r.kinds.is_empty() || r.kinds.contains(&a.kind))
            && (r.topics.is_empty() || self.topics.iter().any(|t| r.topics.iter().any(|w| w == t)))
            && (r.categories.is_empty()
                || self
                    .category
                    .is_some_and(|c| r.categories.iter().any(|w| category_matches(c, w))))
            && (r.handling.is_empty()
                || self
                    .handling
                    .is_some_and(|h| r.handling.iter().any(|w| w == h)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_hm;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn quiet_window_across_midnight() {
        let w = (parse_hm("22:00").unwrap(), parse_hm("07:00").unwrap());
        assert_eq!(quiet_until(w, at("2026-11-22T21:59:00+08:00")), None);
        assert_eq!(
            quiet_until(w, at("2026-11-22T22:00:00+08:00")),
            Some(at("2026-11-23T07:00:00+08:00"))
        );
        assert_eq!(
            quiet_until(w, at("2026-11-23T03:10:00+08:00")),
            Some(at("2026-11-23T07:00:00+08:00"))
        );
        // The same instant written in UTC.
        assert_eq!(
            quiet_until(w, at("2026-11-22T19:10:00Z")),
            Some(at("2026-11-23T07:00:00+08:00"))
        );
        assert_eq!(quiet_until(w, at("2026-11-23T07:00:00+08:00")), None);
    }

    #[test]
    fn quiet_window_within_a_day() {
        let w = (parse_hm("12:00").unwrap(), parse_hm("14:00").unwrap());
        assert_eq!(
            quiet_until(w, at("2026-11-22T12:30:00+08:00")),
            Some(at("2026-11-22T14:00:00+08:00"))
        );
        assert_eq!(quiet_until(w, at("2026-11-22T14:30:00+08:00")), None);
        assert_eq!(quiet_until(w, at("2026-11-22T11:59:59+08:00")), None);
    }
}
