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
