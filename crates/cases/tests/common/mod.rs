//! Shared helpers: stores on both backends, alerts as the grader writes them, a manual clock.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset};
use serde_json::json;
use yuqing_cases::{Cases, CasesConfig};
use yuqing_core::{Alert, AlertKind, Deadline, Grade, ManualClock, Stage};
use yuqing_store::Store;
use yuqing_testkit::PgDatabase;

pub fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap()
}

pub fn at(minutes: i64) -> DateTime<FixedOffset> {
    t0() + Duration::minutes(minutes)
}

/// A store on a fresh SQLite file (the tempdir must outlive it).
pub async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("y.db").display());
    (Store::open(&url).await.unwrap(), dir)
}

/// A store on a fresh PostgreSQL database.
pub async fn postgres() -> (Store, PgDatabase) {
    let db = PgDatabase::create().await;
    (Store::open(&db.url).await.unwrap(), db)
}

/// A manual clock standing at `t0` plus `minutes`.
pub fn clock(minutes: i64) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(at(minutes).to_utc()))
}

pub async fn cases(store: Store, clock: Arc<ManualClock>) -> Cases {
    let cfg = CasesConfig {
        departments: vec!["应急管理局".into()],
        ..CasesConfig::default()
    };
    Cases::with_clock(store, clock)
        .await
        .unwrap()
        .configure(&cfg, &[])
}

/// An alert shaped like the grader's.
pub fn alert(event: &str, kind: AlertKind, grade: Grade, minute: i64, seq: u32) -> Alert {
    Alert {
        schema_version: 1,
        alert_id: yuqing_core::id::alert_id(event, kind.as_str(), grade.as_str(), seq),
        event_id: event.to_string(),
        kind,
        grade,
        previous_grade: None,
        stage: Stage::Emerging,
        title: format!("{event} 化工厂爆炸"),
        department: Some("应急管理局".into()),
        region: Some("万载县".into()),
        response_subject: vec![],
        deadlines: vec![Deadline {
            kind: "first_release".into(),
            label: "首次权威发布".into(),
            due: at(60),
        }],
        rule: "grading:突发事件首发".into(),
        reasons: vec![yuqing_core::Reason::new(
            "grade",
            "grading:x",
            "敏感度 0.80",
        )],
        url: Some("https://example.org/1".into()),
        at: at(minute),
        extra: json!({ "first_seen": at(0).to_rfc3339(), "wave": 0 })
            .as_object()
            .unwrap()
            .clone(),
    }
}

/// The overdue alert of the first release.
pub fn overdue(event: &str, minute: i64) -> Alert {
    let mut a = alert(event, AlertKind::Overdue, Grade::II, minute, 0);
    a.alert_id = yuqing_core::id::alert_id(event, "overdue", "first_release@x", 0);
    a.previous_grade = Some(Grade::III);
    a.extra.insert(
        "timer".into(),
        json!({ "deadline": "first_release", "due": at(60).to_rfc3339() }),
    );
    a
}
