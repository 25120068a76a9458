//! The same store tests against SQLite (a temp file) and the local PostgreSQL (a fresh database).

use chrono::DateTime;
use yuqing_core::{
    Alert, AlertKind, Analysis, Counts, Event, Forecast, Grade, Item, JudgedItem, Stage,
};
use yuqing_store::{Backend, DeliveryStatus, Store};
use yuqing_testkit::PgDatabase;

fn item(id: &str, observed: &str, reposts: u64) -> Item {
    let line = format!(
        r#"{{"id":"{id}","source":"s1","platform":"weibo","text":"某化工厂爆炸","published_at":"2026-11-22T10:00:00+08:00","observed_at":"{observed}","metrics":{{"reposts":{reposts}}},"x_extra":"kept"}}"#
    );
    Item::from_json(line.as_bytes()).unwrap()
}

fn event(id: &str, updated: &str, items: u64) -> Event {
    let t = DateTime::parse_from_rfc3339(updated).unwrap();
    Event {
        schema_version: 1,
        event_id: id.into(),
        title: "化工厂爆炸".into(),
        keywords: vec!["爆炸".into()],
        first_seen: DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap(),
        first_source: "s1".into(),
        first_url: None,
        last_seen: t,
        updated_at: t,
        stage: Stage::Emerging,
        velocity: 3.0,
        acceleration: 0.0,
        forecast_peak: Forecast {
            size: 10.0,
            low: 5.0,
            high: 20.0,
            peak_at: None,
            method: "t".into(),
        },
        grade: None,
        counts: Counts {
            items,
            ..Counts::default()
        },
        sensitivity: 0.8,
        sentiment: -0.5,
        category: Some("城乡建设".into()),
        department: Some("应急管理局".into()),
        region: Some("万载县".into()),
        response_subject: vec![],
        handling_class: None,
        topics: vec![],
        evidence: vec![],
        reasons: vec![],
        extra: Default::default(),
    }
}

fn alert(id: &str, grade: Grade) -> Alert {
    Alert {
        schema_version: 1,
        alert_id: id.into(),
        event_id: "ev-1".into(),
        kind: AlertKind::New,
        grade,
        previous_grade: None,
        stage: Stage::Emerging,
        title: "化工厂爆炸".into(),
        department: Some("应急管理局".into()),
        region: None,
        response_subject: vec![],
        deadlines: vec![],
        rule: "r".into(),
        reasons: vec![],
        url: None,
        at: DateTime::parse_from_rfc3339("2026-11-22T10:05:00+08:00").unwrap(),
        extra: Default::default(),
    }
}

async fn exercise(store: Store) {
    // Items: appended once; a redelivery of the same observation is recognised; a
    // re-observation (later observed_at) is a new row.
    let a = item("1", "2026-11-22T10:00:00+08:00", 1);
    let b = item("1", "2026-11-22T10:30:00+08:00", 50);
    let seqs = store.append_items(&[a.clone(), b.clone()]).await.unwrap();
    assert!(seqs.iter().all(Option::is_some));
    let again = store.append_items(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(
        again,
        vec![None],
        "same source+id+observed_at is a duplicate"
    );
    let back = store.items_after(0, 10).await.unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(
        back[0].1, a,
        "items round-trip exactly, unknown fields included"
    );
    assert_eq!(back[1].1.metrics.reposts, Some(50));
    assert_eq!(store.items_after(back[0].0, 10).await.unwrap().len(), 1);
    assert_eq!(store.last_item_seq().await.unwrap(), back[1].0);

    // Judgments attach to the stored observation.
    let j = JudgedItem {
        item: a.clone(),
        analysis: Analysis {
            sensitivity: 0.9,
            event_id: Some("ev-1".into()),
            ..Analysis::default()
        },
    };
    store.put_judged(std::slice::from_ref(&j)).await.unwrap();
    assert_eq!(store.count_items().await.unwrap(), 2);
    let of_event = store.items_of_event("ev-1", 10).await.unwrap();
    assert_eq!(of_event, vec![j.clone()]);
    // Only judged observations come back for a rebuild, in stored order.
    let judged = store.judged_after(0, 10).await.unwrap();
    assert_eq!(judged.len(), 1, "the unjudged re-observation is left out");
    assert_eq!((judged[0].0, &judged[0].1), (back[0].0, &j));
    assert!(store.judged_after(back[0].0, 10).await.unwrap().is_empty());

    // Events: newest snapshot wins, older ones don't overwrite; spread history kept.
    store
        .put_events(&[event("ev-1", "2026-11-22T10:05:00+08:00", 1)])
        .await
        .unwrap();
    store
        .put_events(&[event("ev-1", "2026-11-22T10:45:00+08:00", 9)])
        .await
        .unwrap();
    store
        .put_events(&[event("ev-1", "2026-11-22T10:20:00+08:00", 4)])
        .await
        .unwrap();
    let e = store.event("ev-1").await.unwrap().unwrap();
    assert_eq!(e.counts.items, 9);
    store.set_event_grade("ev-1", "II").await.unwrap();
    assert_eq!(
        store.event("ev-1").await.unwrap().unwrap().grade,
        Some(Grade::II)
    );
    let curve = store.spread("ev-1").await.unwrap();
    assert_eq!(
        curve.iter().map(|p| p.items).collect::<Vec<_>>(),
        vec![1, 4, 9]
    );
    assert!(store.event("nope").await.unwrap().is_none());

    // Alerts: deduplicated by id.
    assert!(store
        .insert_alert(&alert("al-1", Grade::III), &[])
        .await
        .unwrap());
    assert!(!store
        .insert_alert(&alert("al-1", Grade::III), &[])
        .await
        .unwrap());
    assert!(store
        .insert_alert(&alert("al-2", Grade::II), &["file".to_string()])
        .await
        .unwrap());
    assert_eq!(store.count_alerts().await.unwrap(), 2);
    let log = store.alerts_after(0, 10).await.unwrap();
    assert_eq!(
        log.iter()
            .map(|s| s.alert.alert_id.as_str())
            .collect::<Vec<_>>(),
        vec!["al-1", "al-2"]
    );
    assert_eq!(store.alerts_after(log[0].seq, 10).await.unwrap().len(), 1);
    assert_eq!(store.alerts_of_event("ev-1").await.unwrap().len(), 2);
    let mut other = alert("al-3", Grade::IV);
    other.event_id = "ev-2".into();
    assert!(store.insert_alert(&other, &[]).await.unwrap());
    let ids: Vec<String> = store
        .alerts_of_events(&["ev-1", "ev-2", "ev-none"])
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.alert_id)
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(["al-1", "al-2", "al-3"]
        .iter()
        .all(|a| ids.iter().any(|i| i == a)));
    assert!(store.alerts_of_events(&[]).await.unwrap().is_empty());
    assert!(store
        .alerts_of_events(&["ev-none"])
        .await
        .unwrap()
        .is_empty());

    // Outbox.
    let sinks = vec!["wecom".to_string(), "file".to_string()];
    store.enqueue_deliveries("al-1", &sinks).await.unwrap();
    store.enqueue_deliveries("al-1", &sinks).await.unwrap();
    assert_eq!(
        store.pending_deliveries("wecom", 10).await.unwrap().len(),
        1
    );
    store
        .mark_delivery("al-1", "wecom", DeliveryStatus::Delivered, None)
        .await
        .unwrap();
    assert!(store
        .pending_deliveries("wecom", 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.delivery_status("al-1", "file").await.unwrap(),
        Some(DeliveryStatus::Pending)
    );

    // Claims: each pending delivery goes to one claimer; an expired claim can be taken over;
    // released ones are pending again.
    store
        .enqueue_deliveries("al-2", &["claim".to_string()])
        .await
        .unwrap();
    store
        .enqueue_deliveries("al-1", &["claim".to_string()])
        .await
        .unwrap();
    let lease = std::time::Duration::from_secs(60);
    let a = store
        .claim_deliveries("claim", "p1", 10, lease)
        .await
        .unwrap();
    let b = store
        .claim_deliveries("claim", "p2", 10, lease)
        .await
        .unwrap();
    assert_eq!(
        a.iter().map(|x| x.alert_id.as_str()).collect::<Vec<_>>(),
        vec!["al-1", "al-2"]
    );
    assert!(b.is_empty(), "a claimed delivery is not claimed twice");
    store
        .release_deliveries("claim", "p1", &["al-2".to_string()])
        .await
        .unwrap();
    let b = store
        .claim_deliveries("claim", "p2", 10, lease)
        .await
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].alert_id, "al-2");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let taken_over = store
        .claim_deliveries("claim", "p3", 10, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(taken_over.len(), 2, "expired claims are taken over");
    store
        .mark_delivery("al-1", "claim", DeliveryStatus::Delivered, None)
        .await
        .unwrap();
    assert_eq!(
        store.delivery_status("al-1", "claim").await.unwrap(),
        Some(DeliveryStatus::Delivered)
    );

    // Collector state.
    assert!(store.source_state("src").await.unwrap().is_none());
    store
        .put_source_state("src", &serde_json::json!({"cursor": 5}))
        .await
        .unwrap();
    store
        .put_source_state("src", &serde_json::json!({"cursor": 6}))
        .await
        .unwrap();
    assert_eq!(
        store.source_state("src").await.unwrap().unwrap()["cursor"],
        6
    );
    let keys = vec!["a".to_string(), "b".to_string()];
    assert_eq!(store.seen("src", &keys).await.unwrap(), vec![false, false]);
    store.mark_seen("src", &keys[..1]).await.unwrap();
    store.mark_seen("src", &keys[..1]).await.unwrap();
    assert_eq!(store.seen("src", &keys).await.unwrap(), vec![true, false]);

    // Dead letter and kv.
    store
        .dead_letter("analyze", "malformed_json", b"{oops")
        .await
        .unwrap();
    let dl = store.dead_letters(10).await.unwrap();
    assert_eq!(
        (dl[0].stage.as_str(), dl[0].payload.as_str()),
        ("analyze", "{oops")
    );
    store.put_kv("k", "1").await.unwrap();
    store.put_kv("k", "2").await.unwrap();
    assert_eq!(store.get_kv("k").await.unwrap().as_deref(), Some("2"));
    store.ping().await.unwrap();
}

#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/sub/yuqing.db", dir.path().display());
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    exercise(store.clone()).await;
    store.close().await;
    // Reopening runs no migration twice and keeps the data.
    let again = Store::open(&url).await.unwrap();
    assert_eq!(again.count_alerts().await.unwrap(), 3);
}

#[tokio::test]
async fn sqlite_in_memory_store() {
    exercise(Store::open("sqlite::memory:").await.unwrap()).await;
}

#[tokio::test]
async fn postgres_store() {
    let db = PgDatabase::create().await;
    let store = Store::open(&db.url).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    exercise(store.clone()).await;
    store.close().await;
    let again = Store::open(&db.url).await.unwrap();
    assert_eq!(again.count_alerts().await.unwrap(), 3);
    again.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn bad_urls_are_rejected_clearly() {
    let err = Store::open("mysql://x").await.unwrap_err();
    assert!(err.to_string().contains("unsupported store URL"), "{err}");
}

/// Several processes claiming one sink's outbox at once each get disjoint deliveries.
async fn concurrent_claims(store: Store) {
    for i in 0..120 {
        let mut a = alert(&format!("al-c{i:03}"), Grade::IV);
        a.event_id = format!("ev-c{i}");
        assert!(store
            .insert_alert(&a, &["shared".to_string()])
            .await
            .unwrap());
    }
    let lease = std::time::Duration::from_secs(600);
    let mut tasks = Vec::new();
    for p in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_deliveries("shared", &format!("p{p}"), 7, lease)
                    .await
                    .unwrap();
                if got.is_empty() {
                    break;
                }
                mine.extend(got.into_iter().map(|a| a.alert_id));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: std::collections::HashSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), 120, "every delivery claimed once");
    assert_eq!(unique.len(), 120, "no delivery claimed twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_claims_are_exclusive() {
    let db = PgDatabase::create().await;
    let store = Store::open(&db.url).await.unwrap();
    concurrent_claims(store.clone()).await;
    store.close().await;
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_claims_are_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}/c.db", dir.path().display()))
        .await
        .unwrap();
    concurrent_claims(store).await;
}
