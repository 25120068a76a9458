//! The local sinks: JSON Lines file and stdout.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use parking_lot::Mutex;
use yuqing_core::Alert;
use yuqing_sinks::{Dispatcher, Outcome};

#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_file_sink_appends_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.jsonl");
    std::fs::write(&path, "{\"earlier\":true}\n").unwrap();
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"file\"\nid = \"log\"\nall = true\npath = \"{}\"\nbatch = 3",
        path.display()
    )))
    .clock(clock())
    .build()
    .unwrap();
    let alerts: Vec<Alert> = (0..7).map(flood_alert).collect();
    let report = d.deliver(alerts.clone()).await;
    assert!(report.all_delivered(), "{report:?}");
    d.shutdown(Duration::from_secs(1)).await;
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("{\"earlier\":true}"),
        "appended, not truncated"
    );
    let back: Vec<Alert> = lines
        .map(|l| Alert::from_json(l.as_bytes()).unwrap())
        .collect();
    assert_eq!(back, alerts, "every alert once, in arrival order");
    assert!(text.ends_with('\n'));
}

#[tokio::test]
async fn settled_reports_every_delivery_once_as_it_settles() {
    use futures::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.jsonl");
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"file\"\nid = \"log\"\nall = true\npath = \"{}\"\nbatch = 2",
        path.display()
    )))
    .clock(clock())
    .build()
    .unwrap();
    let alerts: Vec<Alert> = (0..5).map(flood_alert).collect();
    let sub = d.submit_to("log", alerts.clone()).await.unwrap();
    assert_eq!(sub.len(), 5);
    let got: Vec<_> = sub.settled().collect().await;
    let mut ids: Vec<&str> = got.iter().map(|x| x.alert_id.as_str()).collect();
    ids.sort_unstable();
    let mut want: Vec<&str> = alerts.iter().map(|a| a.alert_id.as_str()).collect();
    want.sort_unstable();
    assert_eq!(ids, want, "each delivery once");
    assert!(got
        .iter()
        .all(|x| matches!(x.outcome, Outcome::Delivered { .. }) && x.sink_id == "log"));
    d.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn a_file_that_cannot_be_written_is_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("alerts.jsonl");
    let dead = Arc::new(Collect::default());
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"file\"\nid = \"log\"\nall = true\npath = \"{}\"\nretry = {{ attempts = 2 }}",
        path.display()
    )))
    .clock(clock())
    .dead_letter(dead.clone())
    .build()
    .unwrap();
    let report = d.deliver([sample()]).await;
    match &report.deliveries[0].outcome {
        Outcome::Failed {
            error_type,
            dead_lettered,
            error,
        } => {
            assert_eq!(*error_type, "io");
            assert!(dead_lettered);
            assert!(error.contains("missing-dir"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(dead.got.lock().len(), 1);
}

#[tokio::test]
async fn stdout_writes_one_line_per_alert_coloured_by_grade() {
    for (color, prefix, suffix) in [
        ("never", "", ""),
        ("always", "\u{1b}[38;5;208m", "\u{1b}[0m"),
    ] {
        let buf = SharedBuf::default();
        let d = Dispatcher::builder(sinks(&format!(
            "[[sinks]]\nkind = \"stdout\"\nid = \"console\"\nall = true\ncolor = \"{color}\""
        )))
        .clock(clock())
        .stdout_writer(Box::new(buf.clone()))
        .build()
        .unwrap();
        let alert = sample();
        let mut red = flood_alert(0);
        red.deadlines.clear();
        red.url = None;
        assert!(d
            .deliver([alert.clone(), red.clone()])
            .await
            .all_delivered());
        let out = String::from_utf8(buf.0.lock().clone()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out:?}");
        let line_of = |id: &str| *lines.iter().find(|l| l.contains(id)).unwrap();
        assert_eq!(
            line_of(&alert.alert_id),
            format!(
                "{prefix}11月22日 10:02 [II 重大·橙色] 升级 · 扩散 · 某区化工厂火灾 <@all> 浓烟 · \
                 区应急管理局 · 某市某区 · 首次权威发布 11月22日 11:02 · {} · https://weibo.com/1/abc{suffix}",
                alert.alert_id
            )
        );
        if color == "always" {
            let l = line_of(&red.alert_id);
            assert!(l.starts_with("\u{1b}[1;31m"), "grade I is red: {l:?}");
        } else {
            assert_eq!(
                line_of(&red.alert_id),
                format!(
                    "11月22日 10:02 [I 特别重大·红色] 新预警 · 扩散 · 第0号 某街道居民反映噪音扰民问题持续未解决 · \
                     区应急管理局 · 某市某区 · {}",
                    red.alert_id
                )
            );
        }
        d.shutdown(Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn an_escalation_prints_after_the_alert_it_escalates() {
    // What the demo showed: an event's new alert (IV) and its escalation (III) a moment later,
    // submitted together, with another event's IV between them. Most severe first would print
    // the escalation before the new alert; the event's alerts stay in firing order instead.
    let buf = SharedBuf::default();
    let d = Dispatcher::builder(sinks(
        "[[sinks]]\nkind = \"stdout\"\nid = \"console\"\nall = true\ncolor = \"never\"",
    ))
    .clock(clock())
    .stdout_writer(Box::new(buf.clone()))
    .build()
    .unwrap();
    let mut new = sample();
    new.kind = yuqing_core::AlertKind::New;
    new.grade = yuqing_core::Grade::IV;
    new.previous_grade = None;
    new.alert_id = "al-new".into();
    let mut other = flood_alert(10);
    other.event_id = "ev-other".into();
    other.alert_id = "al-other".into();
    let mut up = sample();
    up.grade = yuqing_core::Grade::III;
    up.previous_grade = Some(yuqing_core::Grade::IV);
    up.at += chrono::Duration::milliseconds(3);
    up.alert_id = "al-up".into();
    assert!(d.deliver([new, other, up]).await.all_delivered());
    let out = String::from_utf8(buf.0.lock().clone()).unwrap();
    let ids: Vec<&str> = out
        .lines()
        .map(|l| l.split(" · ").find(|p| p.starts_with("al-")).unwrap())
        .collect();
    assert_eq!(ids, ["al-new", "al-up", "al-other"], "{out}");
    d.shutdown(Duration::from_secs(1)).await;
}
