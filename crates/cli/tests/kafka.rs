//! Over a real Kafka-protocol broker: two processes of the analyze stage share one consumer
//! group; every input item comes out judged, none twice, and both processes did part of the work.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{http, items, metric, wait_for, Daemon};
use yuqing_bus::{Bus, BusConfig, BusKind, Topic};
use yuqing_testkit::{unique, Broker, PgDatabase};

fn last_assignment(log: &str) -> Option<usize> {
    let line = log.lines().rfind(|l| l.contains("Partitions assigned."))?;
    let parts = line
        .split("partitions=")
        .nth(1)?
        .split_whitespace()
        .next()?;
    Some(
        parts
            .trim_matches('"')
            .split(',')
            .filter(|p| !p.is_empty())
            .count(),
    )
}

#[test]
fn two_analyze_processes_share_a_consumer_group() {
    let broker = Broker::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(PgDatabase::create());
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique("e2e");
    let cfg_path = dir.path().join("pipeline.toml");
    std::fs::write(
        &cfg_path,
        format!(
            "name = \"kafka-e2e\"\n[bus]\nkind = \"kafka\"\n[bus.kafka]\nbootstrap = \"{}\"\n\
             topic_prefix = \"{prefix}.\"\ngroup_prefix = \"{prefix}-\"\npartitions = 4\nsession_timeout = \"6s\"\n\
             [store]\nurl = \"{}\"\n",
            broker.bootstrap, db.url
        ),
    )
    .unwrap();
    let cfg = cfg_path.to_str().unwrap();
    let data = dir.path().join("data");
    let args = [
        "analyze",
        "--config",
        cfg,
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let a = Daemon::start(&args, dir.path(), "a");
    let b = Daemon::start(&args, dir.path(), "b");
    wait_for(
        Duration::from_secs(90),
        "both members to hold two partitions",
        || {
            (last_assignment(&a.log_text()) == Some(2) && last_assignment(&b.log_text()) == Some(2))
                .then_some(())
        },
    );

    // Produce the input and read the output with clients of our own.
    let n = 400;
    let input = items(
        n,
        chrono::DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap(),
        30,
    );
    let mut bus_cfg = BusConfig {
        kind: BusKind::Kafka,
        ..BusConfig::default()
    };
    bus_cfg.kafka.bootstrap = broker.bootstrap.clone();
    bus_cfg.kafka.topic_prefix = format!("{prefix}.");
    bus_cfg.kafka.group_prefix = format!("{prefix}-");
    bus_cfg.kafka.partitions = 4;
    bus_cfg.kafka.session_timeout = Duration::from_secs(6);
    let seen: HashMap<String, usize> = rt.block_on(async {
        let bus = Bus::connect(&bus_cfg).await.unwrap();
        let records = input
            .iter()
            .map(|v| {
                let key = v["root_id"]
                    .as_str()
                    .or(v["id"].as_str())
                    .unwrap()
                    .to_string();
                (Topic::Items, key, v.to_string().into_bytes())
            })
            .collect();
        bus.producer().send_all(records).await.unwrap();
        let mut c = bus.consumer(Topic::Scored, "checker").await.unwrap();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut total = 0;
        while total < n {
            let wait = if total == 0 {
                Duration::from_secs(90)
            } else {
                Duration::from_secs(20)
            };
            match c.recv_timeout(wait).await {
                Ok(Some(m)) => {
                    let v: serde_json::Value = serde_json::from_slice(m.payload()).unwrap();
                    assert!(v["analysis"]["sensitivity"].is_number());
                    let key = format!(
                        "{}|{}",
                        v["id"].as_str().unwrap(),
                        v["observed_at"].as_str().unwrap()
                    );
                    *seen.entry(key).or_default() += 1;
                    total += 1;
                }
                Ok(None) => break,
                Err(e) => panic!("consumer: {e:?}"),
            }
        }
        // Anything beyond n would be a duplicate: look a little longer.
        while let Ok(Some(m)) = c.recv_timeout(Duration::from_secs(3)).await {
            let v: serde_json::Value = serde_json::from_slice(m.payload()).unwrap();
            let key = format!(
                "{}|{}",
                v["id"].as_str().unwrap(),
                v["observed_at"].as_str().unwrap()
            );
            *seen.entry(key).or_default() += 1;
        }
        seen
    });
    assert_eq!(seen.len(), n, "every input item comes out");
    let twice: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "items judged twice: {twice:?}");

    let client = http();
    for d in [&a, &b] {
        let text = client
            .get(d.url("/metrics"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let got = metric(
            &text,
            "yuqing_component_received_events_total",
            &[("stage", "analyze")],
        );
        assert!(got > 0.0, "a member did no work");
    }
    // Both wrote into the shared store.
    let store = rt.block_on(yuqing_store::Store::open(&db.url)).unwrap();
    assert_eq!(rt.block_on(store.count_items()).unwrap(), n as i64);
    assert!(a.terminate().success());
    assert!(b.terminate().success());
}
