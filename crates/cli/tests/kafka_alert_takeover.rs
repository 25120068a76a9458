//! Over a real Kafka-protocol broker and PostgreSQL: an alert process alerts an incident and stops;
//! another takes the events partition over mid-incident, without having known the event when it
//! started, and continues the event from its stored alerts — no second "new" alert for the same
//! incident.
//!
//! With Apache Kafka, a waiting member of the group is given the partition when the holder
//! leaves; the test broker (tansu) does not rebalance to a waiting member, so B starts after A
//! stopped, and the incident (with the reminders that followed it) is older than the three days
//! B restores at start-up: all B knows of it comes from looking the event up when its snapshots
//! arrive.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{bin, items, jsonl, wait_for, write_jsonl, Daemon, KafkaPipeline};
use yuqing_bus::{Bus, Topic};

fn assigned(log: &str) -> bool {
    log.lines()
        .rfind(|l| l.contains("Partitions assigned."))
        .is_some_and(|l| l.contains("events/0"))
}

#[test]
fn a_second_alert_process_continues_an_event_it_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    // The input's event snapshots and alerts, from a replay.
    let start = chrono::Utc::now().fixed_offset() - chrono::Duration::days(10);
    let all = items(400, start, 1);
    let input = dir.path().join("items.jsonl");
    write_jsonl(&input, &all);
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, "name = \"replay\"\n").unwrap();
    let out = dir.path().join("replay");
    let st = std::process::Command::new(bin())
        .args(["replay", "--config"])
        .arg(&plain)
        .arg("--input")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let events = jsonl(&out.join("events.jsonl"));
    let replayed = jsonl(&out.join("alerts.jsonl"));
    let first_new = replayed
        .iter()
        .find(|a| a["kind"] == "new")
        .expect("the incident is alerted");
    let event = first_new["event_id"].as_str().unwrap().to_string();
    // Split the snapshots right after the one that raised the first alert.
    let time =
        |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let cut = events
        .iter()
        .position(|e| {
            e["event_id"] == event.as_str() && time(&e["updated_at"]) >= time(&first_new["at"])
        })
        .expect("the snapshot of the first alert")
        + 1;

    let rt = tokio::runtime::Runtime::new().unwrap();
    let kp = KafkaPipeline::start(&rt, dir.path(), "kafka-takeover", 1, "", "");
    let args = kp.args("alert");

    let bus_cfg = kp.bus_config();
    let produce = |part: &[serde_json::Value]| {
        rt.block_on(async {
            let bus = Bus::connect(&bus_cfg).await.unwrap();
            let records = part
                .iter()
                .map(|e| {
                    (
                        Topic::Events,
                        e["event_id"].as_str().unwrap().to_string(),
                        e.to_string().into_bytes(),
                    )
                })
                .collect();
            bus.producer().send_all(records).await.unwrap();
        })
    };
    let store = rt.block_on(yuqing_store::Store::open(&kp.db.url)).unwrap();
    let stored = || -> Vec<yuqing_core::Alert> {
        rt.block_on(store.alerts_after(0, 10_000))
            .unwrap()
            .into_iter()
            .map(|s| s.alert)
            .filter(|a| a.kind != yuqing_core::AlertKind::SourceHealth)
            .collect()
    };

    // A grades the first part of the incident. (Its deadlines are long past on the wall clock,
    // so A's timer also fires the reminders and missed-deadline escalations at once.)
    let a = Daemon::start(&args, dir.path(), "a");
    wait_for(Duration::from_secs(90), "A to hold the partition", || {
        assigned(&a.log_text()).then_some(())
    });
    produce(&events[..cut]);
    wait_for(Duration::from_secs(90), "A's first alert", || {
        stored().iter().any(|x| x.event_id == event).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(a.terminate().success());
    let before = stored().len();

    // B takes the partition and grades the rest.
    let b = Daemon::start(&args, dir.path(), "b");
    wait_for(Duration::from_secs(90), "B to hold the partition", || {
        assigned(&b.log_text()).then_some(())
    });
    produce(&events[cut..]);
    wait_for(Duration::from_secs(90), "B to take the event over", || {
        b.log_text()
            .contains("Took over events graded by another alert process.")
            .then_some(())
    });
    // B grades every remaining snapshot before it stops (it drains its input).
    std::thread::sleep(Duration::from_secs(3));
    let log = b.log_text();
    assert!(b.terminate().success());
    let got = stored();
    let news: Vec<&yuqing_core::Alert> = got
        .iter()
        .filter(|x| x.event_id == event && x.kind == yuqing_core::AlertKind::New)
        .collect();
    assert_eq!(
        news.len(),
        1,
        "one new alert for the incident: {news:#?}\n{log}"
    );
    // Every alert id is unique and B added nothing that restates what A said.
    let ids: HashSet<&str> = got.iter().map(|x| x.alert_id.as_str()).collect();
    assert_eq!(ids.len(), got.len());
    assert!(got.len() >= before);

    // The alert topic carries every stored alert (what `yuqing tail` and other consumers read).
    let on_topic: HashSet<String> = rt.block_on(async {
        let bus = Bus::connect(&bus_cfg).await.unwrap();
        let mut c = bus.consumer(Topic::Alerts, "checker").await.unwrap();
        let mut seen = HashSet::new();
        let mut wait = Duration::from_secs(60);
        while let Ok(Some(m)) = c.recv_timeout(wait).await {
            let v: serde_json::Value = serde_json::from_slice(m.payload()).unwrap();
            seen.insert(v["alert_id"].as_str().unwrap().to_string());
            wait = Duration::from_secs(5);
        }
        seen
    });
    let stored_ids: HashSet<String> = ids.iter().map(|s| s.to_string()).collect();
    assert!(
        stored_ids.is_subset(&on_topic),
        "missing on the alert topic: {:?}",
        stored_ids.difference(&on_topic).collect::<Vec<_>>()
    );
}
