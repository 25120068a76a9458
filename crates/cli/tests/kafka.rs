//! Over a real Kafka-protocol broker: two processes of the analyze stage share one consumer
//! group; every input item comes out judged, none twice, and both processes did part of the work.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{
    analyze_received, http, item_record, items, last_assignment, wait_for, Daemon, KafkaPipeline,
};
use yuqing_bus::{Bus, Topic};

/// Waits until the two analyze processes hold two of the four partitions each.
fn both_hold_two_partitions(a: &Daemon, b: &Daemon) {
    wait_for(
        Duration::from_secs(90),
        "both members to hold two partitions",
        || {
            (last_assignment(&a.log_text()) == Some(2) && last_assignment(&b.log_text()) == Some(2))
                .then_some(())
        },
    );
}

#[test]
fn two_analyze_processes_share_a_consumer_group() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kp = KafkaPipeline::start(&rt, dir.path(), "kafka-e2e", 4, "", "");
    let args = kp.args("analyze");
    let a = Daemon::start(&args, dir.path(), "a");
    let b = Daemon::start(&args, dir.path(), "b");
    both_hold_two_partitions(&a, &b);

    // Produce the input and read the output with clients of our own.
    let n = 400;
    let input = items(
        n,
        chrono::DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap(),
        30,
    );
    let bus_cfg = kp.bus_config();
    let seen: HashMap<String, usize> = rt.block_on(async {
        let bus = Bus::connect(&bus_cfg).await.unwrap();
        let records = input.iter().map(item_record).collect();
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

    for d in [&a, &b] {
        assert!(analyze_received(d) > 0.0, "a member did no work");
    }
    // Both wrote into the shared store.
    let store = rt.block_on(yuqing_store::Store::open(&kp.db.url)).unwrap();
    assert_eq!(rt.block_on(store.count_items()).unwrap(), n as i64);
    assert!(a.terminate().success());
    assert!(b.terminate().success());
}

// Ids as the sites give them. (Not `w{i}` and `f{i}`: keys that differ only in one same-placed
// byte have CRC32s that differ by a constant, so librdkafka would put every pair on one partition
// and the thread-keyed control would merge by luck.)
fn weibo_id(i: usize) -> String {
    format!("{}", 4_990_000_000u64 + i as u64 * 7919)
}

fn forum_id(i: usize) -> String {
    format!("thread-{i}")
}

/// Starts two analyze processes and a collect process (for `POST /ingest`) on `item_key`, pushes
/// cross-platform reports of `counties.len()` incidents, one county each (a Weibo post and a
/// forum post that copies it, from two sources with the county as region hint), and returns how
/// many distinct events each incident's items ended in.
fn incidents_across_two_processes(item_key: &str, counties: &[&str]) -> Vec<usize> {
    const TOKEN: &str = "kafka-region-token-0123456789";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kp = KafkaPipeline::start(
        &rt,
        dir.path(),
        "kafka-region",
        4,
        &format!("item_key = \"{item_key}\"\n"),
        &format!("[api]\ningest_tokens = [\"{TOKEN}\"]\n"),
    );
    let start = |stage: &str, name: &str| Daemon::start(&kp.args(stage), dir.path(), name);
    let a = start("analyze", "a");
    let b = start("analyze", "b");
    let c = start("collect", "c");
    both_hold_two_partitions(&a, &b);
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap();
    let mut lines = String::new();
    for (i, county) in counties.iter().enumerate() {
        let text = format!(
            "今天上午十时许，{county}工业园一化工厂发生爆炸，现场浓烟滚滚，附近居民称听到巨响，\
             消防救援人员已赶到现场处置，周边道路实行临时交通管制，伤亡情况不明，事故原因正在调查。"
        );
        let at = t0 + chrono::Duration::minutes(i as i64);
        let later = at + chrono::Duration::minutes(20);
        let weibo = serde_json::json!({
            "id": weibo_id(i), "source": "weibo-local", "platform": "weibo",
            "text": text, "published_at": at.to_rfc3339(), "region": county,
        });
        let forum = serde_json::json!({
            "id": forum_id(i), "source": "forum-local", "platform": "forum",
            "title": format!("{county}化工厂爆炸"), "text": format!("转：{text}"),
            "published_at": later.to_rfc3339(), "region": county,
        });
        lines.push_str(&format!("{weibo}\n{forum}\n"));
    }
    let r = http()
        .post(c.url("/ingest"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/x-ndjson")
        .body(lines)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "ingest: {}", r.status());
    let store = rt.block_on(yuqing_store::Store::open(&kp.db.url)).unwrap();
    let n = 2 * counties.len() as i64;
    wait_for(
        Duration::from_secs(90),
        "every item judged and stored",
        || (rt.block_on(store.count_items()).unwrap() == n).then_some(()),
    );
    let judged = rt.block_on(store.judged_after(0, 10_000)).unwrap();
    let event_of: HashMap<String, String> = judged
        .into_iter()
        .map(|(_, j)| {
            let ev = j
                .analysis
                .event_id
                .clone()
                .expect("an item without an event");
            (j.item.id.clone(), ev)
        })
        .collect();
    let events: Vec<usize> = (0..counties.len())
        .map(|i| {
            let w = &event_of[&weibo_id(i)];
            let f = &event_of[&forum_id(i)];
            if w == f {
                1
            } else {
                2
            }
        })
        .collect();
    for d in [&a, &b] {
        assert!(
            analyze_received(d) > 0.0,
            "an analyze process got no items: the test would prove nothing"
        );
    }
    for d in [c, a, b] {
        assert!(d.terminate().success());
    }
    events
}

const COUNTIES: [&str; 8] = [
    "万载县",
    "祁东县",
    "博白县",
    "郸城县",
    "宁都县",
    "桐梓县",
    "岳西县",
    "会理市",
];

#[test]
fn region_keying_merges_a_place_s_cross_platform_reports_across_processes() {
    let events = incidents_across_two_processes("region", &COUNTIES);
    assert_eq!(events, vec![1; COUNTIES.len()], "one event per incident");
    // The control: keyed by thread, the two posts of an incident are two roots and land on the
    // two processes as their keys fall (five of the eight pairs here), each process opening an
    // event of its own — the limit `item_key = "region"` removes.
    let events = incidents_across_two_processes("thread", &COUNTIES);
    assert!(
        events.contains(&2),
        "the control split no incident, so the test proves nothing: {events:?}"
    );
}
