//! The schedule on a manual clock: the daily log appears at its time (not before), a summary
//! when a case closes, and missed reports are caught up on start.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{load, t, WATER};
use tokio_util::sync::CancellationToken;
use yuqing_cases::Actor;
use yuqing_report::{run_schedule_with, BulletinEvery, Format, ReportSchedule};

/// Waits (bounded) until `path` exists.
async fn wait_for(path: &Path) -> bool {
    for _ in 0..1000 {
        if path.exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn the_daily_log_is_written_at_its_time_and_summaries_on_closing() {
    let (store, _db) = common::sqlite().await;
    // 07:00 on the 21st: yesterday's log is due at 08:00.
    let l = load(&store, "2026-11-21T07:00:00+08:00").await;
    let out = tempfile::tempdir().unwrap();
    let cfg = ReportSchedule {
        dir: out.path().join("reports"),
        formats: vec![Format::Html, Format::Md],
        bulletin: BulletinEvery::None,
        poll: Duration::from_millis(20),
        catch_up: false,
        ..ReportSchedule::default()
    };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(run_schedule_with(
        cfg,
        store.clone(),
        l.cases.clone(),
        l.clock.clone(),
        shutdown.clone(),
    ));
    let dir = out.path().join("reports");
    let daily = dir.join("daily-2026-11-20.html");
    // Several polls go by at 07:59: nothing is due yet.
    l.clock.set(t("2026-11-21T07:59:00+08:00").to_utc());
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!daily.exists());
    assert!(files(&dir).is_empty(), "{:?}", files(&dir));

    l.clock.set(t("2026-11-21T08:00:30+08:00").to_utc());
    assert!(wait_for(&daily).await, "the daily log was not written");
    assert!(wait_for(&dir.join("daily-2026-11-20.md")).await);
    let html = std::fs::read_to_string(&daily).unwrap();
    assert!(html.contains("网络舆情日志（2026年11月20日）"));
    assert!(
        html.contains("生成时间：2026-11-21 08:00"),
        "written at the scheduled time"
    );
    common::check_html(&html);

    // The duty room closes the water case at 10:00: its summary follows.
    l.clock.set(t("2026-11-21T10:00:00+08:00").to_utc());
    let case = l
        .cases
        .close(WATER, None, &Actor::duty("王值班"))
        .await
        .unwrap();
    let summary = dir.join(format!("summary-{}.html", case.case_id));
    assert!(wait_for(&summary).await, "the summary was not written");
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.contains("舆情处置总结报告"));
    common::check_html(&text);

    shutdown.cancel();
    task.await.unwrap().unwrap();
    // Only what was due: yesterday's log and the summary, in both formats; no temp files.
    assert_eq!(
        files(&dir),
        [
            "daily-2026-11-20.html".to_string(),
            "daily-2026-11-20.md".to_string(),
            format!("summary-{}.html", case.case_id),
            format!("summary-{}.md", case.case_id),
        ]
    );
}

#[tokio::test]
async fn missed_reports_are_caught_up_on_start() {
    let (store, _db) = common::sqlite().await;
    // Monday the 23rd, 09:30: the daemon was down at 08:00 and 09:00.
    let l = load(&store, "2026-11-23T09:30:00+08:00").await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = ReportSchedule {
        dir: dir.path().to_path_buf(),
        formats: vec![Format::Html],
        bulletin: BulletinEvery::Week,
        poll: Duration::from_millis(20),
        ..ReportSchedule::default()
    };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(run_schedule_with(
        cfg.clone(),
        store.clone(),
        l.cases.clone(),
        l.clock.clone(),
        shutdown.clone(),
    ));
    let case = l.cases.show(WATER).await.unwrap();
    for f in [
        "daily-2026-11-22.html".to_string(),
        "bulletin-2026-11-16_2026-11-22.html".to_string(),
        format!("summary-{}.html", case.case_id),
    ] {
        assert!(
            wait_for(&dir.path().join(&f)).await,
            "{f} was not caught up"
        );
    }
    let bulletin =
        std::fs::read_to_string(dir.path().join("bulletin-2026-11-16_2026-11-22.html")).unwrap();
    assert!(bulletin.contains("人力资源和社会保障局") && bulletin.contains("县水务局"));
    shutdown.cancel();
    task.await.unwrap().unwrap();

    // Invalid settings are refused at start, with their key paths.
    let bad = ReportSchedule {
        daily_at: "8 点".into(),
        ..cfg
    };
    let err = run_schedule_with(
        bad,
        store.clone(),
        l.cases.clone(),
        l.clock.clone(),
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("reports.daily_at"), "{err}");
}
