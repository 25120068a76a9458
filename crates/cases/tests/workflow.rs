//! The workflow on both backends: SQLite (a temp file) and PostgreSQL (a fresh database).

mod common;

use std::time::Duration;

use common::{alert, at, clock, overdue};
use yuqing_cases::{Actor, CaseError, CaseFilter, CaseState, Channel, Response};
use yuqing_core::{AlertKind, Grade};
use yuqing_store::Store;

async fn full_workflow(store: Store) {
    let clk = clock(5);
    let cases = common::cases(store.clone(), clk.clone()).await;
    let duty = Actor::duty("王值班");
    let dept = Actor::department("应急局张科长", "应急管理局");
    let other = Actor::department("住建局李科长", "住房和城乡建设局");
    let viewer = Actor::viewer("领导");

    // New opens a case; redelivery changes nothing.
    let new = alert("ev-1", AlertKind::New, Grade::III, 5, 0);
    cases.on_alert(&new).await.unwrap();
    cases.on_alert(&new).await.unwrap();
    let c = cases.show("ev-1").await.unwrap();
    assert_eq!(c.state, CaseState::Pending);
    assert_eq!(c.grade, Grade::III);
    assert_eq!(c.first_seen, at(0));
    assert_eq!(c.first_alert, at(5));
    assert_eq!(c.deadlines.len(), 1);
    assert_eq!(cases.audit(&c.case_id).await.unwrap().len(), 1);
    assert_eq!(cases.show(&c.case_id).await.unwrap(), c);

    // Illegal transitions are typed errors.
    let e = cases.assign("ev-1", "应急管理局", &duty).await.unwrap_err();
    assert!(
        matches!(
            e,
            CaseError::IllegalTransition {
                from: CaseState::Pending,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("accept it first"), "{e}");
    let e = cases.feedback("ev-1", "事实", &duty).await.unwrap_err();
    assert!(matches!(e, CaseError::IllegalTransition { .. }));
    // Roles.
    let e = cases.accept("ev-1", &viewer).await.unwrap_err();
    assert!(matches!(e, CaseError::Forbidden { .. }), "{e}");
    let e = cases.accept("ev-1", &dept).await.unwrap_err();
    assert!(matches!(e, CaseError::Forbidden { .. }), "{e}");
    let e = cases.accept("ev-nope", &duty).await.unwrap_err();
    assert!(matches!(e, CaseError::NotFound(_)), "{e}");

    clk.advance(Duration::from_secs(10 * 60));
    let c = cases.accept("ev-1", &duty).await.unwrap();
    assert_eq!(c.state, CaseState::Accepted);
    assert_eq!(c.accepted, Some(at(15)));
    let e = cases.accept("ev-1", &duty).await.unwrap_err();
    assert!(matches!(
        e,
        CaseError::IllegalTransition {
            from: CaseState::Accepted,
            ..
        }
    ));

    let e = cases.assign("ev-1", "  ", &duty).await.unwrap_err();
    assert!(matches!(
        e,
        CaseError::Invalid {
            field: "department",
            ..
        }
    ));
    let c = cases.assign("ev-1", "应急管理局", &duty).await.unwrap();
    assert_eq!(c.state, CaseState::Assigned);
    assert_eq!(c.assigned_to.as_deref(), Some("应急管理局"));
    let e = cases.assign("ev-1", "公安局", &duty).await.unwrap_err();
    assert!(e.to_string().contains("use reassign"), "{e}");

    // Only the assigned department gives feedback.
    let e = cases
        .feedback("ev-1", "现场已处置", &other)
        .await
        .unwrap_err();
    assert!(matches!(e, CaseError::Forbidden { .. }), "{e}");
    let early = Response {
        channel: Channel::Website,
        link: None,
        at: at(20),
    };
    let e = cases.respond("ev-1", &early, &dept).await.unwrap_err();
    assert!(
        matches!(
            e,
            CaseError::IllegalTransition {
                from: CaseState::Assigned,
                ..
            }
        ),
        "{e}"
    );
    clk.advance(Duration::from_secs(15 * 60));
    let c = cases
        .feedback("ev-1", "起火原因为管道泄漏，无人员伤亡", &dept)
        .await
        .unwrap();
    assert_eq!(c.state, CaseState::Feedback);

    // The response: bad inputs first.
    let future = Response {
        channel: Channel::Weibo,
        link: None,
        at: at(200),
    };
    assert!(matches!(
        cases.respond("ev-1", &future, &dept).await.unwrap_err(),
        CaseError::Invalid { field: "at", .. }
    ));
    let bad_link = Response {
        channel: Channel::Weibo,
        link: Some("javascript:alert(1)".into()),
        at: at(30),
    };
    assert!(matches!(
        cases.respond("ev-1", &bad_link, &dept).await.unwrap_err(),
        CaseError::Invalid { field: "link", .. }
    ));
    let before = Response {
        channel: Channel::Weibo,
        link: None,
        at: at(-10),
    };
    assert!(matches!(
        cases.respond("ev-1", &before, &dept).await.unwrap_err(),
        CaseError::Invalid { field: "at", .. }
    ));
    let mut rx = cases.subscribe();
    let resp = Response {
        channel: Channel::Weibo,
        link: Some("https://weibo.com/gov/1".into()),
        at: at(28),
    };
    let c = cases.respond("ev-1", &resp, &dept).await.unwrap();
    assert_eq!(c.state, CaseState::Responded);
    assert_eq!(c.response.as_ref().unwrap().at, at(28));
    let note = rx.try_recv().unwrap();
    assert_eq!(
        (note.event_id.as_str(), note.channel, note.at),
        ("ev-1", Channel::Weibo, at(28))
    );
    // A later update keeps the first response as the case's response.
    let update = Response {
        channel: Channel::PressConference,
        link: None,
        at: at(29),
    };
    let c = cases.respond("ev-1", &update, &duty).await.unwrap();
    assert_eq!(c.response.as_ref().unwrap().channel, Channel::Weibo);
    let all = cases.responses().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].channel, Channel::PressConference);

    cases.note("ev-1", "已报分管领导", &dept).await.unwrap();
    assert!(matches!(
        cases.note("ev-1", "x", &viewer).await.unwrap_err(),
        CaseError::Forbidden { .. }
    ));
    let c = cases.close("ev-1", None, &duty).await.unwrap();
    assert_eq!(c.state, CaseState::Closed);
    assert!(matches!(
        cases.close("ev-1", Some("再次"), &duty).await.unwrap_err(),
        CaseError::IllegalTransition {
            from: CaseState::Closed,
            ..
        }
    ));

    // The audit log tells the story, in order, with who and when.
    let log = cases.audit("ev-1").await.unwrap();
    let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["opened", "accept", "assign", "feedback", "respond", "respond", "note", "close"]
    );
    assert_eq!(log[1].actor, "王值班");
    assert_eq!(log[1].at, at(15));
    assert_eq!(log[3].actor, "应急局张科长");
    assert_eq!(log[3].from_state, Some(CaseState::Assigned));
    assert_eq!(log[3].to_state, Some(CaseState::Feedback));

    // A flare reopens a closed case; other alerts join its timeline and raise the grade.
    let mut esc = alert("ev-1", AlertKind::Escalated, Grade::II, 40, 0);
    esc.previous_grade = Some(Grade::III);
    cases.on_alert(&esc).await.unwrap();
    assert_eq!(cases.show("ev-1").await.unwrap().state, CaseState::Closed);
    assert_eq!(cases.show("ev-1").await.unwrap().grade, Grade::II);
    let flare = alert("ev-1", AlertKind::Flared, Grade::II, 600, 1);
    cases.on_alert(&flare).await.unwrap();
    cases.on_alert(&flare).await.unwrap();
    let c = cases.show("ev-1").await.unwrap();
    assert_eq!(c.state, CaseState::Pending);
    assert_eq!(c.reopened, 1);
    assert_eq!(c.closed, None);
    let log = cases.audit("ev-1").await.unwrap();
    assert_eq!(
        log.iter()
            .rev()
            .take(3)
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["reopened", "alert", "alert"]
    );

    // Close without a response needs a note.
    cases
        .on_alert(&alert("ev-2", AlertKind::New, Grade::IV, 50, 0))
        .await
        .unwrap();
    let e = cases.close("ev-2", None, &duty).await.unwrap_err();
    assert!(e.to_string().contains("note"), "{e}");
    let c = cases
        .close("ev-2", Some("经核实为旧闻，无需回应"), &duty)
        .await
        .unwrap();
    assert_eq!(c.state, CaseState::Closed);

    // Lists.
    let open = cases
        .list(&CaseFilter {
            open: Some(true),
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        open.iter().map(|c| c.event_id.as_str()).collect::<Vec<_>>(),
        ["ev-1"]
    );
    let closed = cases
        .list(&CaseFilter {
            state: Some("办结".into()),
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(closed.len(), 1);
    let by_dept = cases
        .list(&CaseFilter {
            department: Some("应急".into()),
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_dept.len(), 2);
    assert!(matches!(
        cases
            .list(&CaseFilter {
                grade: Some("V".into()),
                ..CaseFilter::default()
            })
            .await,
        Err(CaseError::Invalid { field: "grade", .. })
    ));
    assert!(matches!(
        cases
            .list(&CaseFilter {
                limit: Some(0),
                ..CaseFilter::default()
            })
            .await,
        Err(CaseError::Invalid { field: "limit", .. })
    ));
    // Source-health alerts open no case.
    cases
        .on_alert(&alert("", AlertKind::SourceHealth, Grade::IV, 5, 0))
        .await
        .unwrap();
    assert_eq!(cases.list(&CaseFilter::default()).await.unwrap().len(), 2);
}

async fn audit_is_append_only(store: Store) {
    let cases = common::cases(store.clone(), clock(5)).await;
    cases
        .on_alert(&alert("ev-a", AlertKind::New, Grade::IV, 5, 0))
        .await
        .unwrap();
    let upd = sqlx::query("UPDATE case_audit SET actor = 'someone else'")
        .execute(store.pool())
        .await;
    assert!(upd.is_err(), "UPDATE of the audit log must fail");
    assert!(upd.unwrap_err().to_string().contains("append-only"));
    let del = sqlx::query("DELETE FROM case_audit")
        .execute(store.pool())
        .await;
    assert!(del.is_err(), "DELETE of the audit log must fail");
    assert_eq!(cases.audit("ev-a").await.unwrap()[0].actor, "系统");
}

async fn accountability(store: Store) {
    let clk = clock(5);
    let cases = common::cases(store.clone(), clk.clone()).await;
    let duty = Actor::duty("王值班");
    let dept = Actor::department("应急局张科长", "应急管理局");
    let missed_before = yuqing_cases::metrics::DEADLINE_MISSED
        .with_label_values(&["应急管理局", "first_release"])
        .get();
    // Case 1: accepted late (45 min after its alert), answered before the first-release due.
    cases
        .on_alert(&alert("ev-1", AlertKind::New, Grade::III, 5, 0))
        .await
        .unwrap();
    // Case 2: alerted, never acted on; its deadline went overdue.
    cases
        .on_alert(&alert("ev-2", AlertKind::New, Grade::III, 6, 0))
        .await
        .unwrap();
    clk.advance(Duration::from_secs(45 * 60));
    cases.accept("ev-1", &duty).await.unwrap();
    cases.assign("ev-1", "应急管理局", &duty).await.unwrap();
    cases.feedback("ev-1", "已核实", &dept).await.unwrap();
    let r = Response {
        channel: Channel::Website,
        link: None,
        at: at(50),
    };
    cases.respond("ev-1", &r, &dept).await.unwrap();
    clk.advance(Duration::from_secs(30 * 60));
    cases.on_alert(&overdue("ev-2", 60)).await.unwrap();
    cases.on_alert(&overdue("ev-2", 60)).await.unwrap();
    assert_eq!(
        yuqing_cases::metrics::DEADLINE_MISSED
            .with_label_values(&["应急管理局", "first_release"])
            .get(),
        missed_before + 1,
        "one overdue alert, counted once"
    );
    // Case 3: another department, not yet due.
    let mut c3 = alert("ev-3", AlertKind::New, Grade::IV, 70, 0);
    c3.department = Some("住房和城乡建设局".into());
    c3.deadlines[0].due = at(24 * 60);
    cases.on_alert(&c3).await.unwrap();

    let stats = cases.accountability(at(0), at(120)).await.unwrap();
    let names: Vec<_> = stats.iter().map(|s| s.department.as_str()).collect();
    assert_eq!(names, ["住房和城乡建设局", "应急管理局"]);
    let s = &stats[1];
    assert_eq!(s.cases, 2);
    // The overdue alert raised case 2 to II.
    assert_eq!(s.by_grade.get("III"), Some(&1));
    assert_eq!(s.by_grade.get("II"), Some(&1));
    assert_eq!(s.accepted, 1);
    assert_eq!(
        s.late_accepted, 1,
        "accepted 45 min after the alert (limit 30 min)"
    );
    assert_eq!(s.not_acted_on, 1);
    assert_eq!(s.responded, 1);
    assert_eq!(s.to_accept.count, 1);
    assert_eq!(s.to_accept.mean, Some(45.0));
    assert_eq!(s.to_response.mean, Some(45.0));
    assert_eq!(s.to_alert.count, 2);
    assert_eq!(s.deadlines_met, 1);
    assert_eq!(s.deadlines_missed, 1);
    let h = &stats[0];
    // Alerted 10 minutes ago: not yet late.
    assert_eq!((h.cases, h.deadlines_pending, h.not_acted_on), (1, 1, 0));
    clk.advance(Duration::from_secs(30 * 60));
    let later = cases.accountability(at(0), at(120)).await.unwrap();
    assert_eq!(later[0].not_acted_on, 1, "40 minutes without acceptance");
    // Outside the period: nothing.
    assert!(cases
        .accountability(at(200), at(300))
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        cases.accountability(at(300), at(200)).await,
        Err(CaseError::Invalid { .. })
    ));
}

async fn concurrent_accepts_one_wins(store: Store) {
    let cases = common::cases(store.clone(), clock(5)).await;
    cases
        .on_alert(&alert("ev-c", AlertKind::New, Grade::IV, 5, 0))
        .await
        .unwrap();
    let a = Actor::duty("甲");
    let b = Actor::duty("乙");
    let (x, y) = tokio::join!(cases.accept("ev-c", &a), cases.accept("ev-c", &b));
    assert_eq!(x.is_ok() as u8 + y.is_ok() as u8, 1, "{x:?} {y:?}");
    let loser = if x.is_ok() { y } else { x };
    assert!(
        matches!(
            loser,
            Err(CaseError::IllegalTransition { .. })
                | Err(CaseError::Conflict(_))
                | Err(CaseError::Db(_))
        ),
        "{loser:?}"
    );
    let accepts = cases
        .audit("ev-c")
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "accept")
        .count();
    assert_eq!(accepts, 1);
}

#[tokio::test]
async fn sqlite_workflow() {
    let (s, _d) = common::sqlite().await;
    full_workflow(s).await;
}

#[tokio::test]
async fn postgres_workflow() {
    let (s, db) = common::postgres().await;
    full_workflow(s.clone()).await;
    s.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn sqlite_audit_is_append_only() {
    let (s, _d) = common::sqlite().await;
    audit_is_append_only(s).await;
}

#[tokio::test]
async fn postgres_audit_is_append_only() {
    let (s, db) = common::postgres().await;
    audit_is_append_only(s.clone()).await;
    let trunc = sqlx::query("TRUNCATE case_audit").execute(s.pool()).await;
    assert!(trunc.is_err(), "TRUNCATE of the audit log must fail");
    s.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn sqlite_accountability() {
    let (s, _d) = common::sqlite().await;
    accountability(s).await;
}

#[tokio::test]
async fn postgres_accountability() {
    let (s, db) = common::postgres().await;
    accountability(s.clone()).await;
    s.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn sqlite_concurrent_accepts() {
    let (s, _d) = common::sqlite().await;
    concurrent_accepts_one_wins(s).await;
}

#[tokio::test]
async fn postgres_concurrent_accepts() {
    let (s, db) = common::postgres().await;
    concurrent_accepts_one_wins(s.clone()).await;
    s.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn a_store_without_the_migration_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("plain.db").display());
    let store = Store::open(&url).await.unwrap();
    sqlx::query("DROP TABLE case_audit")
        .execute(store.pool())
        .await
        .unwrap();
    let e = yuqing_cases::Cases::new(store).await.unwrap_err();
    assert!(matches!(e, CaseError::Schema(_)), "{e}");
    assert!(e.to_string().contains("0002_cases"), "{e}");
}
