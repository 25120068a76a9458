//! Source health as alerts of their own: a collector that silently stops is itself an alarm.

use chrono::{DateTime, FixedOffset};
use yuqing_collect::{HealthEvent, HealthEventKind};
use yuqing_core::{id, Alert, AlertKind, Grade, Reason, Stage, SCHEMA_VERSION};

/// The alert of a health change. Blocked and failing sources are grade III (a gap in monitoring
/// is a 漏报 risk); silence and recovery are grade IV. The id is stable per source, kind and
/// minute, so a repeated report is not a second alert.
pub fn alert_of(ev: &HealthEvent, now: DateTime<FixedOffset>) -> Alert {
    let (kind, grade) = match &ev.kind {
        HealthEventKind::Blocked { .. } => ("blocked", Grade::III),
        HealthEventKind::Failing { .. } => ("failing", Grade::III),
        HealthEventKind::Silent { .. } => ("silent", Grade::IV),
        HealthEventKind::Recovered { .. } => ("recovered", Grade::IV),
    };
    let at = ev.at.with_timezone(&yuqing_core::clock::cst());
    let minute = (at.timestamp() / 60).to_string();
    let event_id = format!("source:{}", ev.source);
    let mut extra = serde_json::Map::new();
    extra.insert(
        "source".into(),
        serde_json::Value::String(ev.source.clone()),
    );
    extra.insert(
        "health".into(),
        serde_json::to_value(&ev.kind).unwrap_or(serde_json::Value::Null),
    );
    Alert {
        schema_version: SCHEMA_VERSION,
        alert_id: id::stable_id("al-", &[&event_id, kind, &minute]),
        event_id,
        kind: AlertKind::SourceHealth,
        grade,
        previous_grade: None,
        stage: Stage::Emerging,
        title: ev.message(),
        department: None,
        region: None,
        response_subject: vec![],
        deadlines: vec![],
        rule: format!("source_health:{kind}"),
        reasons: vec![Reason::new(
            "grade",
            format!("source_health:{kind}"),
            ev.message(),
        )],
        url: None,
        at: if at > now { now } else { at },
        extra,
    }
}

/// Sets `yuqing_cases_next_deadline_seconds{grade}` and `yuqing_cases_overdue{grade}` from the
/// open cases that have no public response yet.
pub async fn report_case_deadlines(cases: &yuqing_cases::Cases, now: DateTime<FixedOffset>) {
    use yuqing_core::telemetry::{NEXT_DEADLINE, OVERDUE};
    let filter = yuqing_cases::CaseFilter {
        open: Some(true),
        limit: Some(1000),
        ..Default::default()
    };
    let Ok(open) = cases.list(&filter).await else {
        return;
    };
    for g in Grade::ALL {
        let unanswered = open.iter().filter(|c| c.grade == g && c.response.is_none());
        let mut next: Option<i64> = None;
        let mut overdue = 0;
        for c in unanswered {
            let Some(due) = c.deadlines.iter().map(|d| d.due).min() else {
                continue;
            };
            let left = (due - now).num_seconds();
            if left < 0 {
                overdue += 1;
            }
            next = Some(next.map_or(left, |n| n.min(left)));
        }
        match next {
            Some(n) => NEXT_DEADLINE.with_label_values(&[g.as_str()]).set(n as f64),
            None => {
                let _ = NEXT_DEADLINE.remove_label_values(&[g.as_str()]);
            }
        }
        OVERDUE.with_label_values(&[g.as_str()]).set(overdue);
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use yuqing_collect::{HealthEvent, HealthEventKind, HealthStatus};
    use yuqing_core::{AlertKind, Grade};

    use super::alert_of;

    fn event(kind: HealthEventKind, secs: i64) -> HealthEvent {
        HealthEvent {
            source: "demo-weibo".into(),
            at: Utc.with_ymd_and_hms(2026, 11, 22, 2, 30, 0).unwrap()
                + chrono::Duration::seconds(secs),
            kind,
        }
    }

    fn now() -> chrono::DateTime<chrono::FixedOffset> {
        Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0)
            .unwrap()
            .with_timezone(&yuqing_core::clock::cst())
    }

    #[test]
    fn a_gap_in_monitoring_is_grade_iii_and_silence_or_recovery_grade_iv() {
        let until = Utc.with_ymd_and_hms(2026, 11, 22, 2, 40, 0).unwrap();
        let blocked = alert_of(
            &event(
                HealthEventKind::Blocked {
                    reason: "http 432".into(),
                    until,
                },
                0,
            ),
            now(),
        );
        assert_eq!(blocked.grade, Grade::III);
        assert_eq!(blocked.kind, AlertKind::SourceHealth);
        assert_eq!(blocked.event_id, "source:demo-weibo");
        assert_eq!(blocked.rule, "source_health:blocked");
        assert!(blocked.title.contains("demo-weibo") && blocked.title.contains("http 432"));
        assert_eq!(blocked.extra["source"], "demo-weibo");
        let failing = alert_of(
            &event(
                HealthEventKind::Failing {
                    consecutive: 5,
                    error_kind: "timeout".into(),
                    error: "timed out".into(),
                },
                0,
            ),
            now(),
        );
        assert_eq!(failing.grade, Grade::III);
        let silent = alert_of(
            &event(
                HealthEventKind::Silent {
                    since: until,
                    intervals: 6,
                },
                0,
            ),
            now(),
        );
        assert_eq!(silent.grade, Grade::IV);
        let back = alert_of(
            &event(
                HealthEventKind::Recovered {
                    from: HealthStatus::Blocked,
                },
                0,
            ),
            now(),
        );
        assert_eq!(back.grade, Grade::IV);
        assert_eq!(back.rule, "source_health:recovered");
        let ids = [&blocked, &failing, &silent, &back].map(|a| a.alert_id.clone());
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), 4, "each kind its own alert");
    }

    #[test]
    fn a_repeated_report_within_the_minute_is_the_same_alert_and_never_in_the_future() {
        let kind = || HealthEventKind::Silent {
            since: Utc.with_ymd_and_hms(2026, 11, 22, 1, 0, 0).unwrap(),
            intervals: 6,
        };
        let a = alert_of(&event(kind(), 0), now());
        let b = alert_of(&event(kind(), 30), now());
        let c = alert_of(&event(kind(), 90), now());
        assert_eq!(a.alert_id, b.alert_id, "same source, kind and minute");
        assert_ne!(a.alert_id, c.alert_id, "a later minute is a new report");
        // A clock ahead of the pipeline's: the alert is dated no later than now.
        let late = alert_of(&event(kind(), 3600), now());
        assert_eq!(late.at, now());
    }
}
