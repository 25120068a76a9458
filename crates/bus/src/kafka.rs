//! The Kafka backend (rdkafka, bundled librdkafka).
//!
//! At-least-once, after rust-rdkafka's `at_least_once` example and Vector's Kafka source:
//! `enable.auto.commit=true` with `enable.auto.offset.store=false`, so librdkafka commits in the
//! background only offsets that [`KafkaConsumer::ack`] stored. Stages ack in receive order, so
//! a stored offset never passes an unfinished message of its partition.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::try_join_all;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer as _, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::util::Timeout;
use rdkafka::ClientContext;
use tracing::{info, warn};
use yuqing_core::telemetry;

use crate::{BusError, KafkaConfig, Message, Position, Topic};

fn kerr(context: &'static str, e: KafkaError) -> BusError {
    BusError::Kafka {
        context,
        message: e.to_string(),
    }
}

/// A connection to a Kafka cluster.
#[derive(Clone)]
pub struct KafkaBus {
    cfg: Arc<KafkaConfig>,
    producer: KafkaProducer,
}

impl std::fmt::Debug for KafkaBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBus")
            .field("bootstrap", &self.cfg.bootstrap)
            .field("topic_prefix", &self.cfg.topic_prefix)
            .finish()
    }
}

fn base_config(cfg: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.bootstrap);
    c.set("client.id", concat!("yuqing/", env!("CARGO_PKG_VERSION")));
    for (k, v) in &cfg.options {
        c.set(k, v);
    }
    c
}

impl KafkaBus {
    pub(crate) async fn connect(cfg: &KafkaConfig) -> Result<KafkaBus, BusError> {
        let cfg = Arc::new(cfg.clone());
        if cfg.create_topics {
            create_topics(&cfg).await?;
        }
        let mut pc = base_config(&cfg);
        pc.set("acks", "all")
            .set(
                "message.timeout.ms",
                cfg.message_timeout.as_millis().to_string(),
            )
            .set("retries", "2147483647")
            .set("retry.backoff.ms", "100")
            .set("retry.backoff.max.ms", "5000")
            // One in-flight request per connection keeps per-partition order through retries
            // without relying on the idempotent producer, which not every broker implements.
            .set("max.in.flight.requests.per.connection", "1")
            .set("linger.ms", "5")
            .set("queue.buffering.max.messages", "100000");
        for (k, v) in &cfg.options {
            pc.set(k, v);
        }
        let producer: FutureProducer = pc.create().map_err(|e| kerr("creating producer", e))?;
        Ok(KafkaBus {
            producer: KafkaProducer {
                inner: producer,
                cfg: cfg.clone(),
            },
            cfg,
        })
    }

    pub(crate) fn producer(&self) -> KafkaProducer {
        self.producer.clone()
    }

    pub(crate) fn consumer(&self, topic: Topic, group: &str) -> Result<KafkaConsumer, BusError> {
        let name = topic_name(&self.cfg, topic);
        let group_id = format!("{}{}", self.cfg.group_prefix, group);
        let mut cc = base_config(&self.cfg);
        cc.set("group.id", &group_id)
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set(
                "session.timeout.ms",
                self.cfg.session_timeout.as_millis().to_string(),
            )
            .set(
                "heartbeat.interval.ms",
                (self.cfg.session_timeout.as_millis() / 3)
                    .max(100)
                    .to_string(),
            )
            .set("max.poll.interval.ms", "300000");
        for (k, v) in &self.cfg.options {
            cc.set(k, v);
        }
        let consumer: StreamConsumer<LoggingContext> = cc
            .create_with_context(LoggingContext {
                group: group_id.clone(),
            })
            .map_err(|e| kerr("creating consumer", e))?;
        consumer
            .subscribe(&[&name])
            .map_err(|e| kerr("subscribing", e))?;
        let consumer = Arc::new(consumer);
        let lag = Arc::new(AtomicI64::new(-1));
        let lag_task = tokio::spawn(lag_monitor(consumer.clone(), name.clone(), lag.clone()));
        info!(topic = %name, group = %group_id, "Joined consumer group.");
        Ok(KafkaConsumer {
            consumer,
            topic,
            name,
            lag,
            lag_task,
        })
    }
}

fn topic_name(cfg: &KafkaConfig, topic: Topic) -> String {
    format!("{}{}", cfg.topic_prefix, topic.suffix())
}

async fn create_topics(cfg: &KafkaConfig) -> Result<(), BusError> {
    let admin: AdminClient<DefaultClientContext> = base_config(cfg)
        .create()
        .map_err(|e| kerr("creating admin client", e))?;
    let names: Vec<String> = Topic::ALL.iter().map(|t| topic_name(cfg, *t)).collect();
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| NewTopic::new(n, cfg.partitions, TopicReplication::Fixed(cfg.replication)))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(topics.iter(), &opts)
        .await
        .map_err(|e| kerr("creating topics", e))?;
    for r in results {
        match r {
            Ok(name) => info!(topic = %name, partitions = cfg.partitions, "Created topic."),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(BusError::Kafka {
                    context: "creating topics",
                    message: format!("{name}: {code}"),
                })
            }
        }
    }
    Ok(())
}

/// Sends to Kafka and waits for the brokers' acknowledgement.
#[derive(Clone)]
pub struct KafkaProducer {
    inner: FutureProducer,
    cfg: Arc<KafkaConfig>,
}

impl std::fmt::Debug for KafkaProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProducer").finish_non_exhaustive()
    }
}

impl KafkaProducer {
    pub(crate) async fn send(
        &self,
        topic: Topic,
        key: &str,
        payload: Vec<u8>,
    ) -> Result<(), BusError> {
        let name = topic_name(&self.cfg, topic);
        loop {
            let record = FutureRecord::to(&name).key(key).payload(&payload);
            // Timeout::Never: while librdkafka's queue is full, wait (backpressure), never drop.
            match self.inner.send(record, Timeout::Never).await {
                Ok(_) => return Ok(()),
                Err((KafkaError::MessageProduction(code), _)) if retriable(code) => {
                    warn!(topic = %name, error = %code, "Delivery failed; retrying.");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err((e, _)) => return Err(kerr("producing", e)),
            }
        }
    }

    pub(crate) async fn send_all(
        &self,
        records: Vec<(Topic, String, Vec<u8>)>,
    ) -> Result<(), BusError> {
        // Futures are created in order, so librdkafka enqueues them in order; with one
        // in-flight request per connection, per-partition order is kept.
        try_join_all(
            records
                .into_iter()
                .map(|(t, k, p)| async move { self.send(t, &k, p).await }),
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn flush(&self, timeout: Duration) -> Result<(), BusError> {
        let p = self.inner.clone();
        tokio::task::spawn_blocking(move || p.flush(Timeout::After(timeout)))
            .await
            .map_err(|e| BusError::Kafka {
                context: "flushing",
                message: e.to_string(),
            })?
            .map_err(|e| kerr("flushing", e))
    }
}

fn retriable(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::MessageTimedOut
            | RDKafkaErrorCode::RequestTimedOut
            | RDKafkaErrorCode::NotEnoughReplicas
            | RDKafkaErrorCode::NotEnoughReplicasAfterAppend
            | RDKafkaErrorCode::LeaderNotAvailable
            | RDKafkaErrorCode::NotLeaderForPartition
            | RDKafkaErrorCode::BrokerTransportFailure
            | RDKafkaErrorCode::AllBrokersDown
            | RDKafkaErrorCode::QueueFull
    )
}

/// Logs rebalances (lifecycle, INFO).
pub struct LoggingContext {
    group: String,
}

impl ClientContext for LoggingContext {}

impl ConsumerContext for LoggingContext {
    fn post_rebalance(
        &self,
        _base: &rdkafka::consumer::BaseConsumer<Self>,
        rebalance: &Rebalance<'_>,
    ) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let parts: Vec<String> = tpl
                    .elements()
                    .iter()
                    .map(|e| format!("{}/{}", e.topic(), e.partition()))
                    .collect();
                info!(group = %self.group, partitions = %parts.join(","), "Partitions assigned.");
            }
            Rebalance::Revoke(tpl) => {
                // The partitions moved to another member: their lag is that member's to report.
                for e in tpl.elements() {
                    let _ = telemetry::CONSUMER_LAG
                        .remove_label_values(&[e.topic(), &e.partition().to_string()]);
                }
                info!(group = %self.group, "Partitions revoked.");
            }
            Rebalance::Error(e) => warn!(group = %self.group, error = %e, "Rebalance failed."),
        }
    }
}

/// A member of a consumer group on one topic.
pub struct KafkaConsumer {
    consumer: Arc<StreamConsumer<LoggingContext>>,
    topic: Topic,
    name: String,
    lag: Arc<AtomicI64>,
    lag_task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for KafkaConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConsumer")
            .field("topic", &self.name)
            .finish()
    }
}

impl Drop for KafkaConsumer {
    fn drop(&mut self) {
        self.lag_task.abort();
    }
}

impl KafkaConsumer {
    pub(crate) async fn recv(&mut self) -> Result<Message, BusError> {
        let m = self
            .consumer
            .recv()
            .await
            .map_err(|e| kerr("consuming", e))?;
        Ok(Message {
            topic: self.topic,
            key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            position: Position::Kafka {
                partition: m.partition(),
                offset: m.offset(),
            },
        })
    }

    pub(crate) fn ack(&mut self, msg: &Message) -> Result<(), BusError> {
        if let Position::Kafka { partition, offset } = msg.position {
            match self.consumer.store_offset(&self.name, partition, offset) {
                Ok(()) => {}
                // The partition moved to another member during a rebalance: that member will
                // re-read from the last commit, which is at-least-once, not a failure.
                Err(KafkaError::StoreOffset(RDKafkaErrorCode::State)) => {}
                Err(KafkaError::StoreOffset(RDKafkaErrorCode::UnknownPartition)) => {}
                Err(e) => return Err(kerr("storing offset", e)),
            }
        }
        Ok(())
    }

    pub(crate) fn commit(&mut self) -> Result<(), BusError> {
        match self.consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) => Ok(()),
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
            Err(e) => Err(kerr("committing", e)),
        }
    }

    pub(crate) fn lag(&self) -> Option<i64> {
        match self.lag.load(Ordering::Relaxed) {
            -1 => None,
            n => Some(n),
        }
    }
}

async fn lag_monitor(
    consumer: Arc<StreamConsumer<LoggingContext>>,
    topic: String,
    lag: Arc<AtomicI64>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let c = consumer.clone();
        let t = topic.clone();
        let per_partition = tokio::task::spawn_blocking(move || -> Vec<(i32, i64)> {
            let Ok(pos) = c.position() else { return vec![] };
            let mut out = Vec::new();
            for e in pos.elements_for_topic(&t) {
                let Ok((_, high)) = c.fetch_watermarks(&t, e.partition(), Duration::from_secs(5))
                else {
                    continue;
                };
                let at = e.offset().to_raw().filter(|o| *o >= 0).unwrap_or(0);
                out.push((e.partition(), (high - at).max(0)));
            }
            out
        })
        .await
        .unwrap_or_default();
        let mut total = 0;
        for (p, l) in &per_partition {
            telemetry::CONSUMER_LAG
                .with_label_values(&[&topic, &p.to_string()])
                .set(*l);
            total += l;
        }
        if !per_partition.is_empty() {
            lag.store(total, Ordering::Relaxed);
        }
    }
}
