//! Where collected and pushed items enter the pipeline.
//!
//! - Embedded: an item is *accepted* when it is committed to the store (the durable inbox); only
//!   then is it handed to the analyze stage over the bounded in-process channel, in the order of
//!   its sequence number (a lock keeps append and hand-over in one order, so a restart's recovery
//!   replays exactly the live order). A full channel blocks the collectors: backpressure.
//! - Kafka: an item is accepted when the brokers acknowledged it on `yuqing.items`.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Mutex;
use yuqing_bus::{Producer, Topic};
use yuqing_collect::{ItemSink, SinkError, StateError, StateStore};
use yuqing_core::{telemetry, Item, ItemKeying};
use yuqing_store::Store;

use crate::core::Privacy;

/// What happened to a batch handed to the intake.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// New observations accepted.
    pub new: usize,
    /// Observations already accepted before (same source, id and observed_at).
    pub duplicates: usize,
}

/// The pipeline's entrance.
#[derive(Debug, Clone)]
pub struct Intake {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Option<Store>,
    producer: Producer,
    keying: ItemKeying,
    privacy: Privacy,
    order: Mutex<()>,
}

impl Intake {
    /// Embedded: store first, then the in-process channel.
    pub fn embedded(store: Store, producer: Producer, privacy: Privacy) -> Intake {
        Intake {
            inner: Arc::new(Inner {
                store: Some(store),
                producer,
                keying: ItemKeying::Thread,
                privacy,
                order: Mutex::new(()),
            }),
        }
    }

    /// Kafka: the items topic is the durable log; items are keyed by `keying`.
    pub fn kafka(producer: Producer, privacy: Privacy, keying: ItemKeying) -> Intake {
        Intake {
            inner: Arc::new(Inner {
                store: None,
                producer,
                keying,
                privacy,
                order: Mutex::new(()),
            }),
        }
    }

    /// Accepts items; returns once they are durable.
    pub async fn accept(&self, mut items: Vec<Item>) -> Result<Accepted, String> {
        for i in &mut items {
            self.inner.privacy.apply(i);
        }
        let n = items.len();
        telemetry::RECEIVED
            .with_label_values(&["intake"])
            .inc_by(n as u64);
        match &self.inner.store {
            Some(store) => {
                let _order = self.inner.order.lock().await;
                let seqs = store
                    .append_items(&items)
                    .await
                    .map_err(|e| e.to_string())?;
                let mut accepted = Accepted::default();
                for (item, seq) in items.into_iter().zip(seqs) {
                    match seq {
                        Some(_) => {
                            accepted.new += 1;
                            let key = item.partition_key_by(self.inner.keying).to_string();
                            self.inner
                                .producer
                                .send(Topic::Items, &key, item.to_json())
                                .await
                                .map_err(|e| e.to_string())?;
                        }
                        None => accepted.duplicates += 1,
                    }
                }
                record(accepted);
                Ok(accepted)
            }
            None => {
                let records = items
                    .into_iter()
                    .map(|i| {
                        let key = i.partition_key_by(self.inner.keying).to_string();
                        (Topic::Items, key, i.to_json())
                    })
                    .collect();
                self.inner
                    .producer
                    .send_all(records)
                    .await
                    .map_err(|e| e.to_string())?;
                let accepted = Accepted {
                    new: n,
                    duplicates: 0,
                };
                record(accepted);
                Ok(accepted)
            }
        }
    }
}

fn record(a: Accepted) {
    telemetry::SENT
        .with_label_values(&["intake"])
        .inc_by(a.new as u64);
    if a.duplicates > 0 {
        telemetry::DISCARDED
            .with_label_values(&["intake", "duplicate"])
            .inc_by(a.duplicates as u64);
    }
}

#[async_trait]
impl ItemSink for Intake {
    async fn emit(&self, items: Vec<Item>) -> Result<(), SinkError> {
        self.accept(items).await.map(|_| ()).map_err(SinkError)
    }
}

/// The collectors' cursors and seen-sets, kept in the store.
#[derive(Debug, Clone)]
pub struct StoreState(pub Store);

#[async_trait]
impl StateStore for StoreState {
    async fn get_state(&self, source: &str) -> Result<Option<serde_json::Value>, StateError> {
        self.0
            .source_state(source)
            .await
            .map_err(|e| StateError(e.to_string()))
    }

    async fn put_state(&self, source: &str, state: &serde_json::Value) -> Result<(), StateError> {
        self.0
            .put_source_state(source, state)
            .await
            .map_err(|e| StateError(e.to_string()))
    }

    async fn seen(&self, source: &str, keys: &[String]) -> Result<Vec<bool>, StateError> {
        self.0
            .seen(source, keys)
            .await
            .map_err(|e| StateError(e.to_string()))
    }

    async fn mark_seen(&self, source: &str, keys: &[String]) -> Result<(), StateError> {
        self.0
            .mark_seen(source, keys)
            .await
            .map_err(|e| StateError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use parking_lot::Mutex;
    use yuqing_collect::{CollectConfig, Collector, ItemSink, SinkError};
    use yuqing_core::{Item, ManualClock};
    use yuqing_store::Store;

    use super::StoreState;

    #[derive(Default)]
    struct Kept(Mutex<Vec<Item>>);

    #[async_trait]
    impl ItemSink for Kept {
        async fn emit(&self, items: Vec<Item>) -> Result<(), SinkError> {
            self.0.lock().extend(items);
            Ok(())
        }
    }

    /// Serves the bundled portal RSS fixture on loopback.
    async fn feed() -> String {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/collect/feeds/portal_rss.xml"
        ))
        .expect("fixture");
        let app = axum::Router::new().fallback(move || {
            let body = body.clone();
            async move {
                (
                    [("content-type", "application/rss+xml; charset=utf-8")],
                    body,
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        format!("http://{addr}/rss.xml")
    }

    fn collector(url: &str, store: &Store, sink: Arc<Kept>) -> Collector {
        let cfg: CollectConfig = toml::from_str(&format!(
            "[collect]\nper_host_rate = 1000.0\nretries = 0\n\
             [[sources]]\nid = \"portal-rss\"\nkind = \"feed\"\nurl = \"{url}\"\nrobots = false\n"
        ))
        .unwrap();
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        Collector::new(cfg, Arc::new(StoreState(store.clone())), sink, clock)
    }

    #[tokio::test]
    async fn cursors_and_seen_sets_in_the_store_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("state.db").display());
        let site = feed().await;

        let store = Store::open(&url).await.unwrap();
        let first = Arc::new(Kept::default());
        let r = collector(&site, &store, first.clone())
            .poll_once("portal-rss")
            .await
            .unwrap();
        assert!(r.new_items > 0, "{r:?}");
        assert_eq!(first.0.lock().len() as u64, r.new_items);
        assert!(store.source_state("portal-rss").await.unwrap().is_some());
        store.close().await;

        // A new process: a new collector over the same store file sees nothing new.
        let store = Store::open(&url).await.unwrap();
        let second = Arc::new(Kept::default());
        let r = collector(&site, &store, second.clone())
            .poll_once("portal-rss")
            .await
            .unwrap();
        assert_eq!(r.new_items, 0, "{r:?}");
        assert!(second.0.lock().is_empty(), "items emitted twice");
    }
}
