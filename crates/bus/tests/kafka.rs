//! The Kafka backend against a real Kafka-protocol broker (tansu, started by the testkit).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use yuqing_bus::{Bus, BusConfig, BusKind, Consumer, Topic};
use yuqing_testkit::{unique, Broker};

fn config(broker: &Broker, prefix: &str) -> BusConfig {
    let mut cfg = BusConfig {
        kind: BusKind::Kafka,
        ..BusConfig::default()
    };
    cfg.kafka.bootstrap = broker.bootstrap.clone();
    cfg.kafka.topic_prefix = format!("{prefix}.");
    cfg.kafka.group_prefix = format!("{prefix}-");
    cfg.kafka.partitions = 4;
    cfg.kafka.session_timeout = Duration::from_secs(6);
    cfg
}

/// Receives until `idle` passes with nothing new (waiting up to 60 s for the first record, while
/// the group forms), acking the first `ack_upto` records received.
async fn drain(c: &mut Consumer, idle: Duration, ack_upto: usize, out: &mut Vec<String>) {
    let start = out.len();
    loop {
        let wait = if out.len() == start {
            Duration::from_secs(60)
        } else {
            idle
        };
        match c.recv_timeout(wait).await {
            Ok(Some(m)) => {
                out.push(String::from_utf8(m.payload().to_vec()).unwrap());
                if out.len() <= ack_upto {
                    c.ack(&m).unwrap();
                }
            }
            Ok(None) => return,
            Err(e) => panic!("consumer failed: {e:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_once_resumes_after_the_last_acked_offset() {
    let broker = Broker::start();
    let prefix = unique("t");
    let cfg = config(&broker, &prefix);
    let bus = Bus::connect(&cfg).await.expect("connect");
    let producer = bus.producer();
    let records: Vec<_> = (0..200)
        .map(|i| {
            (
                Topic::Items,
                format!("k{}", i % 7),
                format!("m{i}").into_bytes(),
            )
        })
        .collect();
    producer.send_all(records).await.expect("produce");

    // First member acks only the first 120 it sees, then leaves after committing.
    let mut c1 = bus.consumer(Topic::Items, "g").await.unwrap();
    let mut first = Vec::new();
    drain(&mut c1, Duration::from_secs(5), 120, &mut first).await;
    assert_eq!(first.len(), 200, "the first member sees everything");
    c1.commit().unwrap();
    drop(c1);

    // A new member of the same group gets everything not acked — and possibly a little more
    // (at-least-once), but never loses a record.
    let mut c2 = bus.consumer(Topic::Items, "g").await.unwrap();
    let mut second = Vec::new();
    drain(&mut c2, Duration::from_secs(5), usize::MAX, &mut second).await;
    let acked: HashSet<_> = first[..120].iter().cloned().collect();
    let unacked: HashSet<_> = first[120..].iter().cloned().collect();
    let redelivered: HashSet<_> = second.iter().cloned().collect();
    assert!(
        unacked.is_subset(&redelivered),
        "every unacked record comes again"
    );
    // Stored offsets are per partition and in order, so at most the acked tail of each
    // partition can be skipped; the acked set mostly stays away.
    assert!(redelivered.len() < 200, "acked offsets were committed");
    let all: HashSet<_> = acked.union(&redelivered).cloned().collect();
    assert_eq!(all.len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_key_order_is_kept() {
    let broker = Broker::start();
    let prefix = unique("o");
    let bus = Bus::connect(&config(&broker, &prefix)).await.unwrap();
    let records: Vec<_> = (0..300)
        .map(|i| {
            (
                Topic::Events,
                format!("ev{}", i % 5),
                format!("{}:{i}", i % 5).into_bytes(),
            )
        })
        .collect();
    bus.producer().send_all(records).await.unwrap();
    let mut c = bus.consumer(Topic::Events, "order").await.unwrap();
    let mut got = Vec::new();
    drain(&mut c, Duration::from_secs(5), usize::MAX, &mut got).await;
    assert_eq!(got.len(), 300);
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for g in got {
        let (k, i) = g.split_once(':').unwrap();
        let i: i64 = i.parse().unwrap();
        let prev = last.insert(k.to_string(), i).unwrap_or(-1);
        assert!(i > prev, "key {k}: {i} after {prev}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_producer_queue_waits_instead_of_dropping() {
    let broker = Broker::start();
    let prefix = unique("q");
    let mut cfg = config(&broker, &prefix);
    // A producer queue of ten messages: sending 3,000 at once must wait for room, not fail or
    // drop (librdkafka answers QueueFull at once with a finite enqueue timeout).
    cfg.kafka
        .options
        .insert("queue.buffering.max.messages".into(), "10".into());
    let bus = Bus::connect(&cfg).await.unwrap();
    let n = 3000;
    let records: Vec<_> = (0..n)
        .map(|i| {
            (
                Topic::Scored,
                format!("k{}", i % 11),
                format!("m{i}").into_bytes(),
            )
        })
        .collect();
    bus.producer()
        .send_all(records)
        .await
        .expect("every record is accepted");
    let mut c = bus.consumer(Topic::Scored, "full").await.unwrap();
    let mut got = Vec::new();
    drain(&mut c, Duration::from_secs(5), usize::MAX, &mut got).await;
    let unique: HashSet<_> = got.iter().cloned().collect();
    assert_eq!(unique.len(), n, "nothing dropped");
}
