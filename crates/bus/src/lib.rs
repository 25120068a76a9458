//! # yuqing-bus
//!
//! One interface, two backends, for the records that flow between yuqing's stages:
//!
//! - **memory** (the default): one bounded in-process channel per topic. A full channel blocks the
//!   producer (backpressure), nothing is dropped.
//! - **kafka**: `rdkafka` with its bundled librdkafka. At-least-once: a consumer stores an offset
//!   only when the stage [`Consumer::ack`]s the message, which it does after its own output was
//!   acknowledged downstream; stages process messages of a partition in order, so stored offsets
//!   never pass a message that was not finished. The producer retries and, when librdkafka's queue
//!   is full, waits (backpressure) instead of dropping.
//!
//! Topics are `<prefix>items`, `<prefix>scored`, `<prefix>events`, `<prefix>alerts` and
//! `<prefix>deadletter` (prefix `yuqing.` by default). Keys keep related records on one partition:
//! an item's root post id, an event's id.
//!
//! ```
//! use yuqing_bus::{Bus, BusConfig, Topic};
//! let rt = tokio::runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let bus = Bus::connect(&BusConfig::default()).await.unwrap();
//!     let mut consumer = bus.consumer(Topic::Items, "analyze").await.unwrap();
//!     bus.producer().send(Topic::Items, "k", b"{}".to_vec()).await.unwrap();
//!     let msg = consumer.recv().await.unwrap().unwrap();
//!     assert_eq!(msg.payload(), b"{}");
//!     consumer.ack(&msg).unwrap();
//! });
//! ```
#![warn(missing_docs)]

mod config;
#[cfg(feature = "kafka")]
mod kafka;
mod memory;

use std::fmt;
use std::time::Duration;

pub use config::{BusConfig, BusKind, KafkaConfig};

/// The topics of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Collected items (`Item`).
    Items,
    /// Judged items (`JudgedItem`).
    Scored,
    /// Event snapshots (`Event`).
    Events,
    /// Graded alerts (`Alert`).
    Alerts,
    /// Records a stage could not process, with the reason.
    DeadLetter,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 5] = [
        Topic::Items,
        Topic::Scored,
        Topic::Events,
        Topic::Alerts,
        Topic::DeadLetter,
    ];

    /// The topic's name without prefix.
    pub fn suffix(self) -> &'static str {
        match self {
            Topic::Items => "items",
            Topic::Scored => "scored",
            Topic::Events => "events",
            Topic::Alerts => "alerts",
            Topic::DeadLetter => "deadletter",
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.suffix())
    }
}

/// Errors of the bus.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// The other side of an in-process channel is gone (shutdown).
    #[error("topic {0} is closed")]
    Closed(Topic),
    /// An in-process topic has one consumer, and it was already taken.
    #[error("topic {0} already has a consumer in this process")]
    AlreadyConsumed(Topic),
    /// The Kafka client reported an error.
    #[error("kafka {context}: {message}")]
    Kafka {
        /// What was being done.
        context: &'static str,
        /// librdkafka's message.
        message: String,
    },
    /// The bus was configured for a backend this build lacks.
    #[error("this build of yuqing has no kafka support (built without the `kafka` feature)")]
    NoKafka,
}

impl BusError {
    /// A bounded code for the `error_type` label of metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            BusError::Closed(_) => "closed",
            BusError::AlreadyConsumed(_) => "already_consumed",
            BusError::Kafka { .. } => "kafka",
            BusError::NoKafka => "no_kafka",
        }
    }
}

/// Where a consumed message came from, so that its offset can be stored once it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Position {
    /// In-process: nothing to store.
    Memory,
    /// A Kafka partition and offset.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    Kafka { partition: i32, offset: i64 },
}

/// A consumed record.
#[derive(Debug, Clone)]
pub struct Message {
    pub(crate) topic: Topic,
    pub(crate) key: Option<String>,
    pub(crate) payload: Vec<u8>,
    pub(crate) position: Position,
}

impl Message {
    /// The topic it came from.
    pub fn topic(&self) -> Topic {
        self.topic
    }

    /// Its key.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Its payload (one JSON record).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Takes the payload out.
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }

    /// The Kafka partition, when it came from Kafka.
    pub fn partition(&self) -> Option<i32> {
        match self.position {
            Position::Kafka { partition, .. } => Some(partition),
            Position::Memory => None,
        }
    }
}

/// A connected bus.
#[derive(Debug, Clone)]
pub enum Bus {
    /// In-process channels.
    Memory(memory::MemoryBus),
    /// Kafka.
    #[cfg(feature = "kafka")]
    Kafka(kafka::KafkaBus),
}

impl Bus {
    /// Connects the configured backend (for Kafka: creates missing topics).
    pub async fn connect(cfg: &BusConfig) -> Result<Bus, BusError> {
        match cfg.kind {
            BusKind::Memory => Ok(Bus::Memory(memory::MemoryBus::new(cfg.capacity))),
            #[cfg(feature = "kafka")]
            BusKind::Kafka => Ok(Bus::Kafka(kafka::KafkaBus::connect(&cfg.kafka).await?)),
            #[cfg(not(feature = "kafka"))]
            BusKind::Kafka => Err(BusError::NoKafka),
        }
    }

    /// A producer (cheap to clone).
    pub fn producer(&self) -> Producer {
        match self {
            Bus::Memory(m) => Producer::Memory(m.clone()),
            #[cfg(feature = "kafka")]
            Bus::Kafka(k) => Producer::Kafka(k.producer()),
        }
    }

    /// A consumer of `topic` in consumer group `group` (several processes with one group share the
    /// partitions; in-process topics have exactly one consumer).
    pub async fn consumer(&self, topic: Topic, group: &str) -> Result<Consumer, BusError> {
        match self {
            Bus::Memory(m) => Ok(Consumer::Memory(m.consumer(topic)?)),
            #[cfg(feature = "kafka")]
            Bus::Kafka(k) => Ok(Consumer::Kafka(Box::new(k.consumer(topic, group)?))),
        }
    }

    /// True for the in-process backend.
    pub fn is_memory(&self) -> bool {
        matches!(self, Bus::Memory(_))
    }

    /// Closes every in-process topic so consumers drain and end; a no-op for Kafka.
    pub fn close(&self) {
        if let Bus::Memory(m) = self {
            m.close();
        }
    }
}

/// Sends records to topics.
#[derive(Debug, Clone)]
pub enum Producer {
    /// In-process.
    Memory(memory::MemoryBus),
    /// Kafka.
    #[cfg(feature = "kafka")]
    Kafka(kafka::KafkaProducer),
}

impl Producer {
    /// Sends one record and returns when it is accepted: queued in-process (waiting while the
    /// channel is full), or acknowledged by the Kafka brokers (retrying while librdkafka's queue
    /// is full).
    pub async fn send(&self, topic: Topic, key: &str, payload: Vec<u8>) -> Result<(), BusError> {
        match self {
            Producer::Memory(m) => m.send(topic, key, payload).await,
            #[cfg(feature = "kafka")]
            Producer::Kafka(k) => k.send(topic, key, payload).await,
        }
    }

    /// Sends several records, concurrently where the backend allows, and returns when all are
    /// accepted. Order per key is kept.
    pub async fn send_all(&self, records: Vec<(Topic, String, Vec<u8>)>) -> Result<(), BusError> {
        match self {
            Producer::Memory(m) => {
                for (t, k, p) in records {
                    m.send(t, &k, p).await?;
                }
                Ok(())
            }
            #[cfg(feature = "kafka")]
            Producer::Kafka(k) => k.send_all(records).await,
        }
    }

    /// Waits up to `timeout` for everything in flight to be delivered.
    pub async fn flush(&self, timeout: Duration) -> Result<(), BusError> {
        match self {
            Producer::Memory(_) => Ok(()),
            #[cfg(feature = "kafka")]
            Producer::Kafka(k) => k.flush(timeout).await,
        }
    }
}

/// Receives records of one topic.
#[derive(Debug)]
pub enum Consumer {
    /// In-process.
    Memory(memory::MemoryConsumer),
    /// Kafka.
    #[cfg(feature = "kafka")]
    Kafka(Box<kafka::KafkaConsumer>),
}

impl Consumer {
    /// The next record; `None` when the topic is closed (in-process shutdown).
    pub async fn recv(&mut self) -> Option<Result<Message, BusError>> {
        match self {
            Consumer::Memory(m) => m.recv().await.map(Ok),
            #[cfg(feature = "kafka")]
            Consumer::Kafka(k) => Some(k.recv().await),
        }
    }

    /// Like [`Consumer::recv`], but gives up after `timeout` and returns `Ok(None)`.
    pub async fn recv_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<Message>, Option<BusError>> {
        match tokio::time::timeout(timeout, self.recv()).await {
            Err(_) => Ok(None),
            Ok(None) => Err(None),
            Ok(Some(Ok(m))) => Ok(Some(m)),
            Ok(Some(Err(e))) => Err(Some(e)),
        }
    }

    /// Marks a message as done: its offset (and everything before it on its partition) will be
    /// committed. Call in the order messages were received.
    pub fn ack(&mut self, msg: &Message) -> Result<(), BusError> {
        match self {
            Consumer::Memory(_) => Ok(()),
            #[cfg(feature = "kafka")]
            Consumer::Kafka(k) => k.ack(msg),
        }
    }

    /// Commits stored offsets now (at shutdown).
    pub fn commit(&mut self) -> Result<(), BusError> {
        match self {
            Consumer::Memory(_) => Ok(()),
            #[cfg(feature = "kafka")]
            Consumer::Kafka(k) => k.commit(),
        }
    }

    /// How full this consumer's in-process buffer is (0..1; 1 means producers are blocked);
    /// `None` for Kafka, where lag is the measure.
    pub fn fill(&self) -> Option<f64> {
        match self {
            Consumer::Memory(m) => Some(m.fill()),
            #[cfg(feature = "kafka")]
            Consumer::Kafka(_) => None,
        }
    }

    /// Records waiting in this consumer's buffer (in-process) or its lag (Kafka), where known.
    pub fn backlog(&self) -> Option<i64> {
        match self {
            Consumer::Memory(m) => Some(m.len() as i64),
            #[cfg(feature = "kafka")]
            Consumer::Kafka(k) => k.lag(),
        }
    }
}
