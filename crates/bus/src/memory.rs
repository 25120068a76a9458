//! The in-process backend: one bounded channel per topic.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::{BusError, Message, Position, Topic};

struct Channel {
    tx: Option<mpsc::Sender<Message>>,
    rx: Option<mpsc::Receiver<Message>>,
}

/// Bounded in-process channels; a full channel blocks the sender.
#[derive(Clone)]
pub struct MemoryBus {
    channels: Arc<Mutex<HashMap<Topic, Channel>>>,
    capacity: usize,
}

impl std::fmt::Debug for MemoryBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBus")
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl MemoryBus {
    pub(crate) fn new(capacity: usize) -> MemoryBus {
        let mut map = HashMap::new();
        for t in Topic::ALL {
            let (tx, rx) = mpsc::channel(capacity.max(1));
            map.insert(
                t,
                Channel {
                    tx: Some(tx),
                    rx: Some(rx),
                },
            );
        }
        MemoryBus {
            channels: Arc::new(Mutex::new(map)),
            capacity: capacity.max(1),
        }
    }

    fn sender(&self, topic: Topic) -> Result<mpsc::Sender<Message>, BusError> {
        self.channels
            .lock()
            .get(&topic)
            .and_then(|c| c.tx.clone())
            .ok_or(BusError::Closed(topic))
    }

    pub(crate) async fn send(
        &self,
        topic: Topic,
        key: &str,
        payload: Vec<u8>,
    ) -> Result<(), BusError> {
        let tx = self.sender(topic)?;
        tx.send(Message {
            topic,
            key: Some(key.to_string()),
            payload,
            position: Position::Memory,
        })
        .await
        .map_err(|_| BusError::Closed(topic))
    }

    pub(crate) fn consumer(&self, topic: Topic) -> Result<MemoryConsumer, BusError> {
        let rx = self
            .channels
            .lock()
            .get_mut(&topic)
            .and_then(|c| c.rx.take())
            .ok_or(BusError::AlreadyConsumed(topic))?;
        Ok(MemoryConsumer {
            rx,
            capacity: self.capacity,
        })
    }

    /// Drops the bus's own senders: once every producer clone is gone too, consumers drain
    /// what is queued and then see the end.
    pub(crate) fn close(&self) {
        for c in self.channels.lock().values_mut() {
            c.tx = None;
        }
    }
}

/// The single consumer of an in-process topic.
#[derive(Debug)]
pub struct MemoryConsumer {
    rx: mpsc::Receiver<Message>,
    capacity: usize,
}

impl MemoryConsumer {
    pub(crate) async fn recv(&mut self) -> Option<Message> {
        self.rx.recv().await
    }

    /// Records waiting.
    pub(crate) fn len(&self) -> usize {
        self.capacity - self.rx.capacity().min(self.capacity)
    }

    /// Records waiting as a share of the capacity.
    pub(crate) fn fill(&self) -> f64 {
        self.len() as f64 / self.capacity as f64
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn full_channel_blocks_instead_of_dropping() {
        let bus = MemoryBus::new(2);
        bus.send(Topic::Items, "a", vec![1]).await.unwrap();
        bus.send(Topic::Items, "a", vec![2]).await.unwrap();
        // The third send must wait for the consumer.
        let blocked = tokio::time::timeout(
            Duration::from_millis(50),
            bus.send(Topic::Items, "a", vec![3]),
        )
        .await;
        assert!(blocked.is_err(), "a full channel must apply backpressure");
        let mut c = bus.consumer(Topic::Items).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.fill(), 1.0, "a full buffer reads 1");
        let bus2 = bus.clone();
        let h = tokio::spawn(async move { bus2.send(Topic::Items, "a", vec![3]).await });
        let got: Vec<u8> = [c.recv().await, c.recv().await, c.recv().await]
            .into_iter()
            .map(|m| m.unwrap().payload[0])
            .collect();
        assert_eq!(got, vec![1, 2, 3]);
        h.await.unwrap().unwrap();
        assert!(matches!(
            bus.consumer(Topic::Items),
            Err(BusError::AlreadyConsumed(_))
        ));
    }

    #[tokio::test]
    async fn close_drains_then_ends() {
        let bus = MemoryBus::new(4);
        let mut c = bus.consumer(Topic::Alerts).unwrap();
        bus.send(Topic::Alerts, "k", vec![9]).await.unwrap();
        bus.close();
        assert_eq!(c.recv().await.unwrap().payload, vec![9]);
        assert!(c.recv().await.is_none());
        assert!(matches!(
            bus.send(Topic::Alerts, "k", vec![]).await,
            Err(BusError::Closed(_))
        ));
    }
}
