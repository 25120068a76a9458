//! Per-source state: the in-memory [`StateStore`] ([`MemoryState`]) and what a source keeps in it
//! between polls ([`SourceState`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::{StateError, StateStore};

/// A complete in-memory [`StateStore`]: for tests and embedded one-shot runs (state is lost when
/// the process ends; the daemon backs the trait with its database).
#[derive(Debug, Default)]
pub struct MemoryState {
    inner: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug, Default)]
struct Entry {
    state: Option<serde_json::Value>,
    seen: HashSet<String>,
}

impl MemoryState {
    /// An empty store.
    pub fn new() -> MemoryState {
        MemoryState::default()
    }

    /// Keys seen for a source.
    pub fn seen_count(&self, source: &str) -> usize {
        self.inner.lock().get(source).map_or(0, |e| e.seen.len())
    }
}

#[async_trait]
impl StateStore for MemoryState {
    async fn get_state(&self, source: &str) -> Result<Option<serde_json::Value>, StateError> {
        Ok(self.inner.lock().get(source).and_then(|e| e.state.clone()))
    }

    async fn put_state(&self, source: &str, state: &serde_json::Value) -> Result<(), StateError> {
        self.inner
            .lock()
            .entry(source.to_string())
            .or_default()
            .state = Some(state.clone());
        Ok(())
    }

    async fn seen(&self, source: &str, keys: &[String]) -> Result<Vec<bool>, StateError> {
        let map = self.inner.lock();
        Ok(match map.get(source) {
            Some(e) => keys.iter().map(|k| e.seen.contains(k)).collect(),
            None => vec![false; keys.len()],
        })
    }

    async fn mark_seen(&self, source: &str, keys: &[String]) -> Result<(), StateError> {
        let mut map = self.inner.lock();
        let e = map.entry(source.to_string()).or_default();
        e.seen.extend(keys.iter().cloned());
        Ok(())
    }
}

/// HTTP validators of a URL for conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// The `ETag` last answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The `Last-Modified` last answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// True when neither is known.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// A post tracked for re-observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracked {
    /// The item id.
    pub id: String,
    /// What to fetch again (a detail URL, or a Weibo post id).
    pub target: String,
    /// Clock time of first sight.
    pub first_seen: DateTime<Utc>,
    /// How many re-observations were made.
    pub step: usize,
    /// A fingerprint of what was last seen (counts, reply status) to tell changes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last: String,
}

/// What a source keeps between polls (stored as JSON through [`StateStore::put_state`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceState {
    /// A kind-specific cursor (for example the next cursor of a JSON API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<serde_json::Value>,
    /// Conditional-GET validators of list and feed URLs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub validators: BTreeMap<String, Validators>,
    /// Posts tracked for re-observation, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracked: Vec<Tracked>,
    /// Publication time of the newest item emitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<DateTime<FixedOffset>>,
}

/// Most validators kept per source.
const MAX_VALIDATORS: usize = 64;

impl SourceState {
    /// Reads the saved state; a state written by another version that does not parse starts
    /// afresh (the seen-set still prevents duplicates).
    pub fn from_value(v: Option<serde_json::Value>) -> SourceState {
        v.and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }

    /// The JSON to save.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Remembers the validators of a URL (bounded).
    pub fn set_validators(&mut self, url: &str, v: Validators) {
        if v.is_empty() {
            self.validators.remove(url);
            return;
        }
        if self.validators.len() >= MAX_VALIDATORS && !self.validators.contains_key(url) {
            if let Some(k) = self.validators.keys().next().cloned() {
                self.validators.remove(&k);
            }
        }
        self.validators.insert(url.to_string(), v);
    }

    /// Starts tracking a post (bounded: the oldest are dropped beyond `max`).
    pub fn track(&mut self, t: Tracked, max: usize) {
        if self.tracked.iter().any(|x| x.id == t.id) {
            return;
        }
        self.tracked.push(t);
        if self.tracked.len() > max {
            let excess = self.tracked.len() - max;
            self.tracked.drain(..excess);
        }
    }

    /// The indexes of tracked posts due at `now` on `schedule`, at most `limit`.
    pub fn due(
        &self,
        now: DateTime<Utc>,
        schedule: &[std::time::Duration],
        limit: usize,
    ) -> Vec<usize> {
        self.tracked
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                schedule.get(t.step).is_some_and(|d| {
                    chrono::Duration::from_std(*d).is_ok_and(|d| t.first_seen + d <= now)
                })
            })
            .map(|(i, _)| i)
            .take(limit)
            .collect()
    }

    /// Drops posts whose schedule is complete.
    pub fn prune(&mut self, schedule_len: usize) {
        self.tracked.retain(|t| t.step < schedule_len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn memory_state_round_trips() {
        let s = MemoryState::new();
        assert_eq!(s.get_state("a").await.unwrap(), None);
        s.put_state("a", &serde_json::json!({"cursor": 3}))
            .await
            .unwrap();
        assert_eq!(s.get_state("a").await.unwrap().unwrap()["cursor"], 3);
        let keys = vec!["x".to_string(), "y".to_string()];
        assert_eq!(s.seen("a", &keys).await.unwrap(), vec![false, false]);
        s.mark_seen("a", &keys[..1]).await.unwrap();
        assert_eq!(s.seen("a", &keys).await.unwrap(), vec![true, false]);
        assert_eq!(
            s.seen("b", &keys).await.unwrap(),
            vec![false, false],
            "per source"
        );
        assert_eq!(s.seen_count("a"), 1);
    }

    #[test]
    fn tracking_is_bounded_and_due_on_schedule() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
            .unwrap()
            .to_utc();
        let mut st = SourceState::default();
        for i in 0..5 {
            st.track(
                Tracked {
                    id: i.to_string(),
                    target: i.to_string(),
                    first_seen: t0,
                    step: 0,
                    last: String::new(),
                },
                3,
            );
        }
        assert_eq!(
            st.tracked.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
            ["2", "3", "4"]
        );
        let sched = [Duration::from_secs(600), Duration::from_secs(1800)];
        assert!(st
            .due(t0 + chrono::Duration::minutes(9), &sched, 10)
            .is_empty());
        assert_eq!(
            st.due(t0 + chrono::Duration::minutes(10), &sched, 2),
            vec![0, 1]
        );
        st.tracked[0].step = 2;
        st.prune(sched.len());
        assert_eq!(st.tracked.len(), 2);
        let back = SourceState::from_value(Some(st.to_value()));
        assert_eq!(back.tracked, st.tracked);
        assert!(SourceState::from_value(Some(serde_json::json!("garbage")))
            .tracked
            .is_empty());
    }
}
