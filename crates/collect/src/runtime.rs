//! The collector: per-source schedules, surge mode, one poll of a source, emission with dedupe and
//! the seen-set, re-observation, and health bookkeeping.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use encoding_rs::Encoding;
use rand::Rng;
use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};
use yuqing_core::{id::stable_id, Item, SharedClock};

use crate::config::{CollectConfig, SourceConfig};
use crate::error::{CollectError, FetchError};
use crate::fetch::{Fetcher, Request, Response};
use crate::health::{HealthHandle, HealthRegistry, HealthStatus, PollResult};
use crate::sources::{self, Plan};
use crate::state::{SourceState, Tracked};
use crate::text::{decode, Decoded};
use crate::urlnorm::host_key;
use crate::{metrics, ItemSink, StateStore};

/// What one poll of a source did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PollReport {
    /// The source id.
    pub source: String,
    /// Pages and API responses fetched.
    pub pages: u64,
    /// New items emitted.
    pub new_items: u64,
    /// Re-observations emitted.
    pub reobserved: u64,
    /// Pages or records skipped (bad input, robots), each counted and logged.
    pub skipped: u64,
    /// Items not emitted because they were already seen (by id or by content).
    pub duplicates: u64,
    /// The main page answered 304 Not Modified.
    pub not_modified: bool,
}

/// Switches surge mode at run time.
#[derive(Debug, Clone)]
pub struct SurgeHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl SurgeHandle {
    /// Turns surge mode on (every source polls at its `surge_interval`, starting now) or off.
    pub fn set(&self, on: bool) {
        self.tx.send_if_modified(|cur| {
            let changed = *cur != on;
            *cur = on;
            changed
        });
        metrics::SURGE.set(i64::from(on));
        info!(surge = on, "Surge mode switched.");
    }

    /// Whether surge mode is on.
    pub fn get(&self) -> bool {
        *self.tx.borrow()
    }
}

pub(crate) struct Source {
    pub cfg: SourceConfig,
    pub plan: Result<Plan, String>,
    lock: tokio::sync::Mutex<()>,
}

pub(crate) struct Inner {
    pub cfg: CollectConfig,
    state: Arc<dyn StateStore>,
    sink: Arc<dyn ItemSink>,
    pub clock: SharedClock,
    fetcher: Result<Fetcher, String>,
    health: Arc<HealthRegistry>,
    surge: Arc<watch::Sender<bool>>,
    sources: Vec<Arc<Source>>,
    by_id: HashMap<String, usize>,
    fallback: &'static Encoding,
}

/// Runs every configured source until shut down.
pub struct Collector {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field(
                "sources",
                &self
                    .inner
                    .sources
                    .iter()
                    .map(|s| s.cfg.id())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Collector {
    /// Builds the collectors of a pipeline. Sources that cannot run (a selector that does not
    /// compile, which `validate` would have reported) are kept, logged and reported `Disabled`.
    pub fn new(
        mut cfg: CollectConfig,
        state: Arc<dyn StateStore>,
        sink: Arc<dyn ItemSink>,
        clock: SharedClock,
    ) -> Collector {
        yuqing_core::telemetry::init_stage("collect");
        if let Some(shard) = cfg.collect.shard {
            let total = cfg.sources.len();
            cfg.sources.retain(|s| shard.owns(s));
            info!(
                shard = %shard,
                sources = cfg.sources.len(),
                of = total,
                "Polling this shard's share of the sources."
            );
        }
        let mut host_rates: HashMap<String, f64> = HashMap::new();
        for s in &cfg.sources {
            if let Some(rate) = s.common.rate_limit {
                for u in s.kind.start_urls() {
                    if let Ok(u) = url::Url::parse(u) {
                        let e = host_rates.entry(host_key(&u)).or_insert(rate);
                        *e = e.min(rate);
                    }
                }
            }
        }
        let fetcher = Fetcher::new(&cfg.collect, host_rates);
        if let Err(e) = &fetcher {
            error!(error = %e, "HTTP client unavailable; network sources are disabled.");
        }
        let health = HealthRegistry::new();
        let mut sources = Vec::new();
        let mut by_id = HashMap::new();
        for s in &cfg.sources {
            let plan = Plan::build(s);
            health.register(s.id(), s.kind.name(), s.common.enabled);
            if let Err(e) = &plan {
                error!(source = s.id(), error = %e, "Source cannot run; disabled.");
                health.disable(s.id(), e.clone());
            }
            by_id.insert(s.id().to_string(), sources.len());
            sources.push(Arc::new(Source {
                cfg: s.clone(),
                plan,
                lock: tokio::sync::Mutex::new(()),
            }));
        }
        let (tx, _) = watch::channel(cfg.collect.surge);
        metrics::SURGE.set(i64::from(cfg.collect.surge));
        let fallback = Encoding::for_label(cfg.collect.default_charset.as_bytes())
            .unwrap_or(encoding_rs::GB18030);
        Collector {
            inner: Arc::new(Inner {
                cfg,
                state,
                sink,
                clock,
                fetcher,
                health,
                surge: Arc::new(tx),
                sources,
                by_id,
                fallback,
            }),
        }
    }

    /// The handle that switches surge mode.
    pub fn surge_handle(&self) -> SurgeHandle {
        SurgeHandle {
            tx: self.inner.surge.clone(),
        }
    }

    /// The handle on source health (snapshot and event stream).
    pub fn health_handle(&self) -> HealthHandle {
        HealthHandle {
            inner: self.inner.health.clone(),
        }
    }

    /// The configured source ids, in configuration order.
    pub fn source_ids(&self) -> Vec<String> {
        self.inner
            .sources
            .iter()
            .map(|s| s.cfg.id().to_string())
            .collect()
    }

    /// Polls one source once, now (for tests, `yuqing collect --once` and manual refreshes). Health
    /// and metrics are updated as for a scheduled poll.
    pub async fn poll_once(&self, source_id: &str) -> Result<PollReport, CollectError> {
        self.inner.poll(source_id).await
    }

    /// Runs every enabled source on its schedule until `shutdown` fires; returns once every worker
    /// has stopped (a poll in progress is abandoned at its next await point; nothing it emitted is
    /// lost, and what it had not emitted is fetched again next time).
    pub async fn run(self, shutdown: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        for s in &self.inner.sources {
            if !s.cfg.common.enabled || s.plan.is_err() {
                continue;
            }
            let inner = self.inner.clone();
            let id = s.cfg.id().to_string();
            let token = shutdown.clone();
            tasks.spawn(async move { inner.source_loop(id, token).await });
        }
        info!(sources = tasks.len(), "Collectors started.");
        while let Some(r) = tasks.join_next().await {
            if let Err(e) = r {
                error!(error = %e, "A collector task ended abnormally.");
            }
        }
        info!("Collectors stopped.");
    }
}

impl Inner {
    fn source(&self, id: &str) -> Option<&Arc<Source>> {
        self.by_id.get(id).map(|i| &self.sources[*i])
    }

    async fn source_loop(self: Arc<Self>, id: String, shutdown: CancellationToken) {
        let Some(src) = self.source(&id).cloned() else {
            return;
        };
        let mut surge_rx = self.surge.subscribe();
        // Spread the first polls of many sources a little.
        let first = random_upto(src.cfg.jitter().min(Duration::from_secs(5)));
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(self.clock.real(first)) => {}
        }
        loop {
            let polled_at = self.clock.now();
            let res = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = self.poll(&id) => r,
            };
            if let Err(e) = &res {
                debug!(source = %id, error = %e, "Poll failed.");
            }
            let jitter = random_upto(src.cfg.jitter());
            loop {
                let wait = self.next_wait(&src.cfg, *surge_rx.borrow(), jitter);
                let due = polled_at
                    + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero());
                let now = self.clock.now();
                if due <= now {
                    break;
                }
                let remaining = (due - now).to_std().unwrap_or_default();
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(self.clock.real(remaining)) => break,
                    changed = surge_rx.changed() => {
                        if changed.is_err() {
                            // The sender lives as long as `self`; nothing to wait for.
                            tokio::select! {
                                _ = shutdown.cancelled() => return,
                                _ = tokio::time::sleep(self.clock.real(remaining)) => break,
                            }
                        }
                    }
                }
            }
        }
    }

    /// Clock time from one poll's start to the next.
    fn next_wait(&self, cfg: &SourceConfig, surge: bool, jitter: Duration) -> Duration {
        let base = if surge {
            cfg.surge_interval()
        } else {
            cfg.common.interval
        };
        let jitter = if surge { jitter.min(base / 4) } else { jitter };
        let mut wait = base + jitter;
        if let Some(h) = self.health.get(cfg.id()) {
            if let Some(until) = h.blocked_until {
                if let Ok(d) = (until - self.clock.now()).to_std() {
                    wait = wait.max(d);
                }
            } else if h.consecutive_failures > 0 && h.status == HealthStatus::Failing {
                let backoff = base.saturating_mul(1 << h.consecutive_failures.min(6));
                wait = wait.max(backoff.min(self.cfg.collect.max_backoff));
            }
        }
        wait
    }

    async fn poll(&self, id: &str) -> Result<PollReport, CollectError> {
        let src = self
            .source(id)
            .cloned()
            .ok_or_else(|| CollectError::UnknownSource(id.to_string()))?;
        let plan = src.plan.as_ref().map_err(|m| CollectError::Config {
            source_id: id.to_string(),
            message: m.clone(),
        })?;
        let _one_at_a_time = src.lock.lock().await;
        let started = self.clock.now();
        let result = self.poll_inner(&src, plan).await;
        let interval = if *self.surge.borrow() {
            src.cfg.surge_interval()
        } else {
            src.cfg.common.interval
        };
        let c = &self.cfg.collect;
        let now = self.clock.now();
        match &result {
            Ok((report, newest)) => self.health.record(
                id,
                now,
                interval,
                c.silent_after_intervals,
                c.failure_threshold,
                PollResult::Success {
                    new_items: report.new_items,
                    reobserved: report.reobserved,
                    newest: *newest,
                },
            ),
            Err(e) if e.is_blocked() => {
                let streak = self.health.get(id).map_or(0, |h| {
                    if h.status == HealthStatus::Blocked {
                        h.consecutive_failures
                    } else {
                        0
                    }
                });
                let backoff = c
                    .blocked_backoff
                    .saturating_mul(1 << streak.min(10))
                    .min(c.max_backoff);
                let until =
                    now + chrono::Duration::from_std(backoff).unwrap_or(chrono::Duration::hours(1));
                self.health.record(
                    id,
                    now,
                    interval,
                    c.silent_after_intervals,
                    c.failure_threshold,
                    PollResult::Blocked {
                        reason: e.to_string(),
                        until,
                    },
                );
            }
            Err(e) => {
                warn!(source = id, error = %e, error_type = e.kind(), "Poll failed.");
                self.health.record(
                    id,
                    now,
                    interval,
                    c.silent_after_intervals,
                    c.failure_threshold,
                    PollResult::Failure {
                        kind: e.kind(),
                        error: e.to_string(),
                    },
                );
            }
        }
        if let Ok((r, _)) = &result {
            debug!(
                source = id,
                new = r.new_items,
                reobserved = r.reobserved,
                pages = r.pages,
                skipped = r.skipped,
                secs = (now - started).num_milliseconds() as f64 / 1e3,
                "Poll done."
            );
        }
        result.map(|(r, _)| r)
    }

    async fn poll_inner(
        &self,
        src: &Source,
        plan: &Plan,
    ) -> Result<(PollReport, Option<DateTime<FixedOffset>>), CollectError> {
        let id = src.cfg.id();
        let saved = self.state.get_state(id).await?;
        let mut poll = Poll {
            inner: self,
            src,
            state: SourceState::from_value(saved),
            report: PollReport {
                source: id.to_string(),
                ..PollReport::default()
            },
            newest: None,
        };
        let before = poll.state.validators.clone();
        let mut result = sources::poll(&mut poll, plan).await;
        if result.is_ok() && src.cfg.common.reobserve && plan.can_reobserve() {
            result = reobserve(&mut poll, plan).await;
        }
        if result.is_err() || poll.report.skipped > 0 {
            // Something on these pages was not delivered: the next poll must not get a 304 for them.
            poll.state.validators = before;
        }
        // Saved even after a failure: the tracks of what was emitted stay.
        let saved = self.state.put_state(id, &poll.state.to_value()).await;
        result?;
        saved?;
        Ok((poll.report, poll.newest))
    }
}

async fn reobserve(poll: &mut Poll<'_>, plan: &Plan) -> Result<(), CollectError> {
    let c = &poll.inner.cfg.collect;
    let schedule = c.reobserve.clone();
    let due = poll.state.due(poll.now(), &schedule, c.reobserve_per_poll);
    for idx in due {
        let Some(t) = poll.state.tracked.get(idx).cloned() else {
            continue;
        };
        match sources::refetch(poll, plan, &t).await {
            Ok(Some((item, fingerprint))) => {
                let changed = fingerprint != t.last;
                if changed || !item.metrics.is_empty() {
                    poll.emit_reobserved(vec![item]).await?;
                }
                if let Some(e) = poll.state.tracked.get_mut(idx) {
                    e.step += 1;
                    e.last = fingerprint;
                }
            }
            Ok(None) => {
                // Gone (deleted, moved): stop tracking.
                if let Some(e) = poll.state.tracked.get_mut(idx) {
                    e.step = usize::MAX;
                }
            }
            Err(e) if e.is_blocked() => return Err(e),
            Err(CollectError::Sink(e)) => return Err(CollectError::Sink(e)),
            Err(e) => {
                poll.skip("reobserve_failed", &e);
                if let Some(e) = poll.state.tracked.get_mut(idx) {
                    e.step += 1;
                }
            }
        }
    }
    poll.state.prune(schedule.len());
    Ok(())
}

fn random_upto(d: Duration) -> Duration {
    if d.is_zero() {
        return d;
    }
    Duration::from_secs_f64(rand::thread_rng().gen_range(0.0..=d.as_secs_f64()))
}

/// A new item and what to fetch again to re-observe it.
#[derive(Debug, Clone)]
pub(crate) struct NewItem {
    pub item: Item,
    pub track: Option<String>,
}

impl NewItem {
    pub(crate) fn new(item: Item) -> NewItem {
        NewItem { item, track: None }
    }
    pub(crate) fn tracked(item: Item, target: impl Into<String>) -> NewItem {
        NewItem {
            item,
            track: Some(target.into()),
        }
    }
}

/// One poll of one source in progress.
pub(crate) struct Poll<'a> {
    pub inner: &'a Inner,
    pub src: &'a Source,
    pub state: SourceState,
    pub report: PollReport,
    newest: Option<DateTime<FixedOffset>>,
}

/// Most items handed to the sink at once.
const EMIT_CHUNK: usize = 500;

impl Poll<'_> {
    pub fn id(&self) -> &str {
        self.src.cfg.id()
    }

    pub fn cfg(&self) -> &SourceConfig {
        &self.src.cfg
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub fn now_cst(&self) -> DateTime<FixedOffset> {
        self.inner.clock.now_cst()
    }

    fn robots(&self) -> bool {
        self.src
            .cfg
            .common
            .robots
            .unwrap_or(self.inner.cfg.collect.robots)
    }

    /// Fetches a page; with `conditional`, sends and keeps the URL's validators.
    pub async fn get(
        &mut self,
        url: &str,
        extra_headers: &[(&'static str, &str)],
        conditional: bool,
    ) -> Result<Response, FetchError> {
        let resp = self.fetch_shared(url, extra_headers, conditional).await?;
        self.report.pages += 1;
        if conditional && !resp.not_modified {
            self.state.set_validators(url, resp.validators.clone());
        }
        Ok(resp)
    }

    /// Fetches without touching the poll's bookkeeping (for concurrent detail fetches).
    pub async fn fetch_shared(
        &self,
        url: &str,
        extra_headers: &[(&'static str, &str)],
        conditional: bool,
    ) -> Result<Response, FetchError> {
        let fetcher = self
            .inner
            .fetcher
            .as_ref()
            .map_err(|e| FetchError::Transport {
                url: url.to_string(),
                message: e.clone(),
            })?;
        let validators = if conditional {
            self.state.validators.get(url)
        } else {
            None
        };
        fetcher
            .fetch(Request {
                url,
                source: self.id(),
                headers: &self.src.cfg.common.headers,
                extra_headers,
                validators,
                robots: self.robots(),
            })
            .await
    }

    pub fn decode(&self, resp: &Response) -> Decoded {
        let d = decode(
            &resp.body,
            resp.content_type.as_deref(),
            self.inner.fallback,
        );
        if d.repaired {
            metrics::SKIPPED
                .with_label_values(&[self.id(), "charset_repaired"])
                .inc();
            debug!(source = self.id(), url = %resp.url, encoding = d.encoding.name(), "Declared charset did not fit; decoded with another.");
        }
        d
    }

    /// Counts and logs a skipped page or record.
    pub fn skip(&mut self, reason: &'static str, detail: &dyn Display) {
        self.report.skipped += 1;
        metrics::SKIPPED
            .with_label_values(&[self.id(), reason])
            .inc();
        yuqing_core::telemetry::DISCARDED
            .with_label_values(&["collect", reason])
            .inc();
        warn!(source = self.id(), reason, detail = %detail, "Skipped.");
    }

    /// Which of `keys` were seen already.
    pub async fn seen(&self, keys: &[String]) -> Result<Vec<bool>, CollectError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.inner.state.seen(self.id(), keys).await?)
    }

    /// A fresh item of this source observed now, published now unless set later.
    pub fn item(&self, id: impl Into<String>, text: impl Into<String>) -> Item {
        let now = self.now_cst();
        Item {
            schema_version: yuqing_core::SCHEMA_VERSION,
            id: id.into(),
            source: self.id().to_string(),
            platform: self.src.cfg.platform(),
            url: None,
            title: None,
            text: text.into(),
            author: None,
            published_at: now,
            observed_at: now,
            root_id: None,
            parent_id: None,
            metrics: Default::default(),
            region: None,
            label: None,
            extra: Default::default(),
        }
    }

    /// The seen-set key of an item.
    fn key_of(&self, item: &Item) -> String {
        if item.source == self.id() {
            item.id.clone()
        } else {
            item.key()
        }
    }

    /// Applies the source's settings (region hint, author kind, author hashing) and the contract.
    fn finish(&mut self, mut item: Item) -> Option<Item> {
        let common = &self.src.cfg.common;
        if item.region.is_none() {
            item.region = common.region.clone();
        }
        if let Some(k) = common.author_kind {
            item.extra
                .entry("author_kind".to_string())
                .or_insert_with(|| serde_json::Value::String(k.as_str().to_string()));
        }
        if common
            .hash_authors
            .unwrap_or(self.inner.cfg.collect.hash_authors)
        {
            let salt = self.inner.cfg.collect.author_salt.as_deref().unwrap_or("");
            if let Some(a) = item.author.take() {
                item.author = Some(yuqing_core::id::hash_author(salt, &a));
            }
            if let Some(serde_json::Value::String(a)) = item.extra.get("author_id") {
                let h = yuqing_core::id::hash_author(salt, a);
                item.extra
                    .insert("author_id".to_string(), serde_json::Value::String(h));
            }
        }
        match item.normalize() {
            Ok(()) => Some(item),
            Err(e) => {
                let detail = format!("{}: {e}", item.id);
                self.skip("invalid_item", &detail);
                None
            }
        }
    }

    /// Emits new items: drops those seen (by id, or by content where content dedupe is on), hands
    /// the rest to the sink, then marks them seen and tracks them for re-observation. Returns how
    /// many were emitted.
    pub async fn emit_new(&mut self, batch: Vec<NewItem>) -> Result<usize, CollectError> {
        let mut emitted = 0;
        let mut it = batch.into_iter().peekable();
        while it.peek().is_some() {
            let chunk: Vec<NewItem> = it.by_ref().take(EMIT_CHUNK).collect();
            emitted += self.emit_chunk(chunk).await?;
        }
        Ok(emitted)
    }

    async fn emit_chunk(&mut self, batch: Vec<NewItem>) -> Result<usize, CollectError> {
        let dedupe = self.src.cfg.content_dedupe();
        let mut ready: Vec<(NewItem, String, Option<String>)> = Vec::with_capacity(batch.len());
        for mut n in batch {
            let Some(item) = self.finish(n.item) else {
                continue;
            };
            n.item = item;
            let key = self.key_of(&n.item);
            let hash = dedupe.then(|| {
                stable_id(
                    "h:",
                    &[n.item.title.as_deref().unwrap_or(""), n.item.text.trim()],
                )
            });
            ready.push((n, key, hash));
        }
        let mut keys: Vec<String> = ready.iter().map(|(_, k, _)| k.clone()).collect();
        keys.extend(ready.iter().filter_map(|(_, _, h)| h.clone()));
        let seen = self.seen(&keys).await?;
        let seen: HashMap<&str, bool> = keys.iter().map(String::as_str).zip(seen).collect();
        let mut in_batch = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut mark = Vec::new();
        for (n, key, hash) in ready {
            let dup_id =
                seen.get(key.as_str()).copied().unwrap_or(false) || !in_batch.insert(key.clone());
            let dup_hash = hash.as_ref().is_some_and(|h| {
                seen.get(h.as_str()).copied().unwrap_or(false) || !in_batch.insert(h.clone())
            });
            if dup_id || dup_hash {
                self.report.duplicates += 1;
                if dup_hash && !dup_id {
                    // Same content under a new id: remember the id so it is not fetched again.
                    metrics::SKIPPED
                        .with_label_values(&[self.id(), "duplicate_content"])
                        .inc();
                    mark.push(key);
                }
                continue;
            }
            mark.push(key);
            if let Some(h) = hash {
                mark.push(h);
            }
            out.push(n);
        }
        if out.is_empty() {
            if !mark.is_empty() {
                self.inner.state.mark_seen(self.id(), &mark).await?;
            }
            return Ok(0);
        }
        let items: Vec<Item> = out.iter().map(|n| n.item.clone()).collect();
        let n = items.len();
        self.inner.sink.emit(items).await?;
        self.inner.state.mark_seen(self.id(), &mark).await?;
        let now = self.now();
        let max = self.inner.cfg.collect.reobserve_max_tracked;
        let reobserve =
            self.src.cfg.common.reobserve && !self.inner.cfg.collect.reobserve.is_empty();
        for NewItem { item, track } in out {
            if self.newest.is_none_or(|t| item.published_at > t) {
                self.newest = Some(item.published_at);
            }
            if self.state.newest.is_none_or(|t| item.published_at > t) {
                self.state.newest = Some(item.published_at);
            }
            if let (Some(target), true) = (track, reobserve) {
                self.state.track(
                    Tracked {
                        id: item.id.clone(),
                        target,
                        first_seen: now,
                        step: 0,
                        last: fingerprint(&item),
                    },
                    max,
                );
            }
        }
        self.report.new_items += n as u64;
        metrics::ITEMS
            .with_label_values(&[self.id(), "new"])
            .inc_by(n as u64);
        yuqing_core::telemetry::SENT
            .with_label_values(&["collect"])
            .inc_by(n as u64);
        Ok(n)
    }

    /// Emits re-observations (same source and id, later `observed_at`, new metrics).
    pub async fn emit_reobserved(&mut self, items: Vec<Item>) -> Result<(), CollectError> {
        let items: Vec<Item> = items.into_iter().filter_map(|i| self.finish(i)).collect();
        if items.is_empty() {
            return Ok(());
        }
        let n = items.len() as u64;
        self.inner.sink.emit(items).await?;
        self.report.reobserved += n;
        metrics::ITEMS
            .with_label_values(&[self.id(), "reobservation"])
            .inc_by(n);
        yuqing_core::telemetry::SENT
            .with_label_values(&["collect"])
            .inc_by(n);
        Ok(())
    }
}

/// What tells one observation of an item from the next (counts, reply status).
pub(crate) fn fingerprint(item: &Item) -> String {
    let m = &item.metrics;
    format!(
        "{:?}/{:?}/{:?}/{:?}/{}",
        m.reposts,
        m.comments,
        m.likes,
        m.views,
        item.extra
            .get("reply_status")
            .and_then(|v| v.as_str())
            .unwrap_or("")
    )
}
