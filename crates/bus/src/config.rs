//! The `[bus]` section of a pipeline.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use yuqing_core::Problems;

/// Which backend carries records between stages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusKind {
    /// Bounded in-process channels (one process runs every stage).
    #[default]
    Memory,
    /// Kafka topics (stages may run as separate processes on several machines).
    Kafka,
}

/// `[bus]`: how stages talk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// `memory` (default) or `kafka`.
    pub kind: BusKind,
    /// Capacity of each in-process channel, in records; a full channel blocks its producer.
    pub capacity: usize,
    /// Kafka settings, used when `kind = "kafka"`.
    pub kafka: KafkaConfig,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            kind: BusKind::Memory,
            capacity: 1024,
            kafka: KafkaConfig::default(),
        }
    }
}

/// `[bus.kafka]`: the Kafka connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap servers, `host:port[,host:port…]`.
    pub bootstrap: String,
    /// Prefix of every topic name (`yuqing.` gives `yuqing.items`, …).
    pub topic_prefix: String,
    /// Prefix of consumer group names (`yuqing-` gives `yuqing-analyze`, …).
    pub group_prefix: String,
    /// Partitions of topics yuqing creates (existing topics are left as they are).
    pub partitions: i32,
    /// Replication factor of topics yuqing creates.
    pub replication: i32,
    /// Create missing topics at start-up.
    pub create_topics: bool,
    /// Consumer group session timeout: how soon a dead member's partitions move to the others.
    #[serde(with = "humantime_serde")]
    pub session_timeout: Duration,
    /// How long a producer waits for a broker acknowledgement before the send fails.
    #[serde(with = "humantime_serde")]
    pub message_timeout: Duration,
    /// What items are partitioned by on the items topic: `thread` (the root post; default) or
    /// `region` (the item's region hint, else the root post), which brings the reports of one
    /// place's sources to one analyze process so they merge into one event.
    pub item_key: yuqing_core::ItemKeying,
    /// Extra librdkafka properties (for example `security.protocol`), passed through as they are.
    pub options: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            bootstrap: "127.0.0.1:9092".into(),
            topic_prefix: "yuqing.".into(),
            group_prefix: "yuqing-".into(),
            partitions: 4,
            replication: 1,
            create_topics: true,
            session_timeout: Duration::from_secs(10),
            message_timeout: Duration::from_secs(300),
            item_key: yuqing_core::ItemKeying::Thread,
            options: BTreeMap::new(),
        }
    }
}

impl BusConfig {
    /// Checks the section, recording problems under `path`.
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        if self.capacity == 0 {
            problems.at(path, "capacity", "must be at least 1");
        }
        if self.kind == BusKind::Kafka {
            let k = &self.kafka;
            let kp = yuqing_core::problem::join(path, "kafka");
            if k.bootstrap.trim().is_empty() {
                problems.at(
                    &kp,
                    "bootstrap",
                    "must name at least one broker (host:port)",
                );
            }
            for (i, b) in k.bootstrap.split(',').enumerate() {
                let b = b.trim();
                if !b.is_empty()
                    && b.rsplit_once(':')
                        .is_none_or(|(_, p)| p.parse::<u16>().is_err())
                {
                    problems.at(
                        &kp,
                        "bootstrap",
                        format!("broker {} `{b}` is not host:port", i + 1),
                    );
                }
            }
            if k.partitions < 1 {
                problems.at(&kp, "partitions", "must be at least 1");
            }
            if k.replication < 1 {
                problems.at(&kp, "replication", "must be at least 1");
            }
            if k.session_timeout < Duration::from_secs(1) {
                problems.at(&kp, "session_timeout", "must be at least 1s");
            }
            if k.topic_prefix
                .chars()
                .any(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-'))
            {
                problems.at(
                    &kp,
                    "topic_prefix",
                    "may contain only ASCII letters, digits, '.', '_' and '-'",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_key_paths() {
        let mut c = BusConfig {
            kind: BusKind::Kafka,
            capacity: 0,
            ..BusConfig::default()
        };
        c.kafka.bootstrap = "localhost".into();
        c.kafka.partitions = 0;
        let mut p = Problems::new();
        c.validate("bus", &mut p);
        let text = p.to_string();
        assert!(text.contains("bus.capacity: must be at least 1"), "{text}");
        assert!(
            text.contains("bus.kafka.bootstrap: broker 1 `localhost` is not host:port"),
            "{text}"
        );
        assert!(text.contains("bus.kafka.partitions"), "{text}");
    }
}
