//! The stage loops over the bus.
//!
//! Each loop takes a batch (up to `BATCH` records or a few milliseconds' worth), does its work,
//! writes its outputs and waits for them to be acknowledged, and only then acks its inputs — so a
//! crash re-delivers unfinished input (at-least-once) and the deterministic ids downstream make the
//! repetition harmless. Bad records are counted, logged and dead-lettered, never fatal.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};
use yuqing_bus::{Consumer, Message, Producer, Topic};
use yuqing_cases::Cases;
use yuqing_core::{telemetry, Alert, Event, Item, SharedClock};
use yuqing_sinks::{DeadLetter, Dispatcher, Outcome, SinkError};
use yuqing_store::{DeliveryStatus, Store};

use crate::core::{AlertCore, AnalyzeCore};

/// Records per batch.
pub const BATCH: usize = 512;

/// Collects a batch: waits for the first record (or cancellation), then takes what arrives within
/// a few milliseconds, up to `BATCH`. Returns an empty batch when the input ended or the stage was
/// cancelled and the input is drained.
async fn next_batch(
    consumer: &mut Consumer,
    token: &CancellationToken,
    stage: &str,
) -> Option<Vec<Message>> {
    let first = if token.is_cancelled() {
        // Draining: take what is already queued, do not wait for more.
        match consumer.recv_timeout(Duration::from_millis(20)).await {
            Ok(Some(m)) => m,
            _ => return None,
        }
    } else {
        tokio::select! {
            biased;
            m = consumer.recv() => match m {
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    telemetry::ERRORS.with_label_values(&[stage, e.kind()]).inc();
                    warn!(stage, error = %e, "Receiving failed; retrying.");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    return Some(Vec::new());
                }
                None => return None,
            },
            _ = token.cancelled() => return Some(Vec::new()),
        }
    };
    // The buffer as the stage finds it when work arrives (before taking a batch out).
    if let Some(b) = consumer.backlog() {
        telemetry::BUFFER.with_label_values(&[stage]).set(b);
    }
    if let Some(f) = consumer.fill() {
        telemetry::BUFFER_FILL.with_label_values(&[stage]).set(f);
    }
    let mut batch = vec![first];
    let deadline = tokio::time::Instant::now() + Duration::from_millis(5);
    while batch.len() < BATCH {
        match tokio::time::timeout_at(deadline, consumer.recv()).await {
            Ok(Some(Ok(m))) => batch.push(m),
            _ => break,
        }
    }
    Some(batch)
}

async fn dead_letter(
    store: &Store,
    producer: &Producer,
    kafka: bool,
    stage: &str,
    reason: &str,
    payload: &[u8],
) {
    telemetry::DISCARDED
        .with_label_values(&[stage, reason])
        .inc();
    if let Err(e) = store.dead_letter(stage, reason, payload).await {
        error!(stage, error = %e, "Dead letter write failed.");
    }
    if kafka {
        let mut rec = serde_json::json!({"stage": stage, "reason": reason});
        rec["payload"] = serde_json::Value::String(String::from_utf8_lossy(payload).into_owned());
        if let Err(e) = producer
            .send(Topic::DeadLetter, stage, rec.to_string().into_bytes())
            .await
        {
            error!(stage, error = %e, "Dead letter publish failed.");
        }
    }
}

/// Runs `op` until it succeeds, waiting 0.5 s, 1 s, 2 s … (at most 30 s) between attempts, so
/// that a store or broker outage pauses the stage — and, through the bounded buffers, everything
/// upstream — instead of stopping it or dropping data. Returns `None` when `token` fires first;
/// the caller then stops without acking, and the input comes again after the restart.
pub async fn retry<T, E, F, Fut>(
    stage: &str,
    what: &str,
    token: &CancellationToken,
    mut op: F,
) -> Option<T>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut wait = Duration::from_millis(500);
    let mut attempt = 0u32;
    loop {
        match op().await {
            Ok(v) => {
                if attempt > 0 {
                    info!(
                        stage,
                        what,
                        attempts = attempt + 1,
                        "Recovered after an outage."
                    );
                }
                return Some(v);
            }
            Err(e) => {
                attempt += 1;
                telemetry::ERRORS.with_label_values(&[stage, what]).inc();
                if attempt == 1 || attempt.is_power_of_two() {
                    error!(stage, what, attempt, error = %e, "Failed; retrying (the stage waits, nothing is dropped).");
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = token.cancelled() => return None,
        }
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

/// The analyze stage: items → judged items (store, `scored`) and event snapshots (store, `events`).
pub struct AnalyzeStage {
    /// Input.
    pub consumer: Consumer,
    /// Output.
    pub producer: Producer,
    /// State.
    pub store: Store,
    /// The core.
    pub core: AnalyzeCore,
    /// Publish `scored` (nobody reads it in-process, so only over Kafka).
    pub kafka: bool,
    /// Stops the stage (it drains first).
    pub token: CancellationToken,
    /// Event time of the newest item processed, for expiring quiet events.
    pub clock: SharedClock,
}

impl std::fmt::Debug for AnalyzeStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalyzeStage").finish_non_exhaustive()
    }
}

impl AnalyzeStage {
    /// Runs until the input ends or the stage is cancelled and drained.
    pub async fn run(mut self) {
        const STAGE: &str = "analyze";
        telemetry::init_stage(STAGE);
        let mut last_expire = Instant::now();
        while let Some(batch) = next_batch(&mut self.consumer, &self.token, STAGE).await {
            if batch.is_empty() {
                continue;
            }
            let started = Instant::now();
            let n = batch.len();
            telemetry::RECEIVED
                .with_label_values(&[STAGE])
                .inc_by(n as u64);
            let mut items: Vec<Item> = Vec::with_capacity(n);
            for m in &batch {
                match Item::from_json(m.payload()) {
                    Ok(i) => items.push(i),
                    Err(e) => {
                        warn!(error = %e, "Dead-lettered a bad item.");
                        dead_letter(
                            &self.store,
                            &self.producer,
                            self.kafka,
                            STAGE,
                            e.kind(),
                            m.payload(),
                        )
                        .await;
                    }
                }
            }
            let analyzer = self.core.analyzer();
            let mut judged =
                match tokio::task::spawn_blocking(move || AnalyzeCore::judge_all(&analyzer, items))
                    .await
                {
                    Ok(j) => j,
                    Err(e) => {
                        error!(error = %e, "Judging panicked; the batch will be redelivered.");
                        continue;
                    }
                };
            // Every snapshot goes to the alert stage, in order, as in `replay` and recovery: the
            // grades an event passes through must not depend on where batches happen to split.
            // The store keeps only each event's latest state.
            let events = self.core.track(&mut judged);
            let mut latest: HashMap<&str, &Event> = HashMap::new();
            for e in &events {
                latest.insert(e.event_id.as_str(), e);
            }
            let snapshots: Vec<Event> = events
                .iter()
                .filter(|e| {
                    latest
                        .get(e.event_id.as_str())
                        .is_some_and(|l| std::ptr::eq(*l, *e))
                })
                .cloned()
                .collect();
            let stored = retry(STAGE, "store", &self.token, || {
                self.persist(&judged, &snapshots)
            })
            .await;
            if stored.is_none() {
                // Shut down mid-outage: the input was not acked and comes again.
                return;
            }
            let mut records = Vec::with_capacity(judged.len() + events.len());
            if self.kafka {
                for j in &judged {
                    let key = j
                        .analysis
                        .event_id
                        .clone()
                        .unwrap_or_else(|| j.item.id.clone());
                    records.push((Topic::Scored, key, j.to_json()));
                }
            }
            for e in &events {
                records.push((Topic::Events, e.event_id.clone(), e.to_json()));
            }
            let producer = &self.producer;
            let published = retry(STAGE, "publish", &self.token, || {
                producer.send_all(records.clone())
            })
            .await;
            if published.is_none() {
                return;
            }
            for m in &batch {
                if let Err(e) = self.consumer.ack(m) {
                    warn!(error = %e, "Ack failed.");
                }
            }
            telemetry::SENT
                .with_label_values(&[STAGE])
                .inc_by(judged.len() as u64);
            let now = self.clock.now_cst();
            let fresh = telemetry::END_TO_END.with_label_values(&[STAGE]);
            for j in &judged {
                telemetry::SENTIMENT.observe(j.analysis.sentiment);
                fresh.observe(
                    ((now - j.item.observed_at).num_milliseconds().max(0)) as f64 / 1000.0,
                );
            }
            self.core.report_phases();
            telemetry::LATENCY
                .with_label_values(&[STAGE])
                .observe(started.elapsed().as_secs_f64() / n as f64);
            if last_expire.elapsed() > Duration::from_secs(10) {
                last_expire = Instant::now();
                let gone = self.core.expire(self.clock.now_cst());
                if !gone.is_empty() {
                    debug!(
                        closed = gone.len(),
                        open = self.core.open_events(),
                        "Closed quiet events."
                    );
                    let recs = gone
                        .iter()
                        .map(|e| (Topic::Events, e.event_id.clone(), e.to_json()))
                        .collect();
                    let _ = self.store.put_events(&gone).await;
                    let _ = self.producer.send_all(recs).await;
                }
            }
        }
        let _ = self.consumer.commit();
        info!("Analyze stage stopped.");
    }

    async fn persist(
        &self,
        judged: &[yuqing_core::JudgedItem],
        events: &[Event],
    ) -> Result<(), yuqing_store::StoreError> {
        self.store.put_judged(judged).await?;
        self.store.put_events(events).await
    }
}

/// Which sinks an alert goes to: the ids of the configured sinks that accept it.
pub type Routes = Arc<dyn Fn(&Alert) -> Vec<String> + Send + Sync>;

/// Shared wake-up for delivery workers.
pub type Wake = Arc<Notify>;

/// The alert stage: event snapshots → graded, routed alerts (store + outbox, `alerts`, cases).
pub struct AlertStage {
    /// Input.
    pub consumer: Consumer,
    /// Output.
    pub producer: Producer,
    /// State.
    pub store: Store,
    /// The core.
    pub core: AlertCore,
    /// The case workflow.
    pub cases: Cases,
    /// Sink ids and which alerts they accept.
    pub routes: Routes,
    /// Publish `alerts` (over Kafka; in-process the store's alert log is the topic).
    pub kafka: bool,
    /// The clock for reminders when no event arrives.
    pub clock: SharedClock,
    /// How often to evaluate deadlines on the clock (real time).
    pub tick: Duration,
    /// Wakes the delivery workers.
    pub wake: Wake,
    /// Public responses recorded in the case workflow: they meet deadlines.
    pub responses: tokio::sync::broadcast::Receiver<yuqing_cases::Responded>,
    /// Stops the stage.
    pub token: CancellationToken,
    /// Events already looked up in the store for adoption (see `adopt`).
    pub looked_up: std::collections::HashSet<String>,
}

impl std::fmt::Debug for AlertStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertStage").finish_non_exhaustive()
    }
}

/// Stores, publishes and opens cases for alerts; returns how many were new. Shared by the alert
/// stage and restart recovery.
pub async fn record_alerts(
    store: &Store,
    cases: &Cases,
    producer: &Producer,
    kafka: bool,
    routes: &(dyn Fn(&Alert) -> Vec<String> + Send + Sync),
    alerts: Vec<Alert>,
) -> Result<usize, String> {
    let mut new = 0;
    let mut records = Vec::new();
    for a in alerts {
        let sinks = routes(&a);
        let fresh = store
            .insert_alert(&a, &sinks)
            .await
            .map_err(|e| e.to_string())?;
        if !fresh {
            telemetry::DISCARDED
                .with_label_values(&["alert", "duplicate"])
                .inc();
            continue;
        }
        new += 1;
        let _ = store.set_event_grade(&a.event_id, a.grade.as_str()).await;
        if let Err(e) = cases.on_alert(&a).await {
            warn!(alert = %a.alert_id, error = %e, "Case update failed.");
        }
        info!(
            alert = %a.alert_id, grade = %a.grade, kind = a.kind.as_str(), title = %a.title,
            "Alert fired."
        );
        if kafka {
            records.push((Topic::Alerts, a.event_id.clone(), a.to_json()));
        }
    }
    if !records.is_empty() {
        producer
            .send_all(records)
            .await
            .map_err(|e| e.to_string())?;
    }
    telemetry::SENT
        .with_label_values(&["alert"])
        .inc_by(new as u64);
    Ok(new)
}

impl AlertStage {
    /// Runs until the input ends or the stage is cancelled and drained.
    pub async fn run(mut self) {
        const STAGE: &str = "alert";
        telemetry::init_stage(STAGE);
        let mut ticker = tokio::time::interval(self.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let batch = tokio::select! {
                biased;
                b = next_batch(&mut self.consumer, &self.token, STAGE) => b,
                _ = ticker.tick(), if !self.token.is_cancelled() => {
                    let alerts = self.core.tick(self.clock.now_cst());
                    self.handle(alerts).await;
                    continue;
                }
                r = self.responses.recv(), if !self.token.is_cancelled() => {
                    match r {
                        Ok(r) => {
                            let met = self.core.grader_mut().note_responded(&r.event_id, r.at, Some(r.channel.as_str()));
                            info!(event = %r.event_id, met, "Public response recorded.");
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                            warn!(missed = n, "Missed response notifications; they apply after a restart.");
                        }
                        Err(_) => {}
                    }
                    continue;
                }
            };
            let Some(batch) = batch else { break };
            if batch.is_empty() {
                continue;
            }
            let started = Instant::now();
            telemetry::RECEIVED
                .with_label_values(&[STAGE])
                .inc_by(batch.len() as u64);
            let mut alerts = Vec::new();
            let now = self.clock.now_cst();
            let fresh = telemetry::END_TO_END.with_label_values(&[STAGE]);
            let mut events = Vec::with_capacity(batch.len());
            for m in &batch {
                match Event::from_json(m.payload()) {
                    Ok(e) => events.push(e),
                    Err(e) => {
                        warn!(error = %e, "Dead-lettered a bad event.");
                        dead_letter(
                            &self.store,
                            &self.producer,
                            self.kafka,
                            STAGE,
                            e.kind(),
                            m.payload(),
                        )
                        .await;
                    }
                }
            }
            if self.kafka && !self.adopt(&events).await {
                return;
            }
            for e in &events {
                alerts.extend(self.core.on_event(e));
                fresh.observe(((now - e.updated_at).num_milliseconds().max(0)) as f64 / 1000.0);
            }
            if !self.handle(alerts).await {
                return;
            }
            for m in &batch {
                if let Err(e) = self.consumer.ack(m) {
                    warn!(error = %e, "Ack failed.");
                }
            }
            telemetry::LATENCY
                .with_label_values(&[STAGE])
                .observe(started.elapsed().as_secs_f64() / batch.len() as f64);
        }
        let _ = self.consumer.commit();
        info!("Alert stage stopped.");
    }

    /// Over Kafka, events this process has not graded may have been graded by another alert
    /// process before their partition moved here: take their state over from their stored
    /// alerts (and the public responses recorded for them) before grading, so the move raises
    /// no second "new" alert. Each event is looked up once per process (one query per batch for
    /// all of its unknown events). False when shut down during a store outage.
    async fn adopt(&mut self, events: &[Event]) -> bool {
        let mut unknown: Vec<&str> = events
            .iter()
            .map(|e| e.event_id.as_str())
            .filter(|id| !self.looked_up.contains(*id) && !self.core.grader_mut().knows(id))
            .collect();
        if unknown.is_empty() {
            return true;
        }
        unknown.sort_unstable();
        unknown.dedup();
        let store = &self.store;
        let ids = &unknown;
        let Some(stored) = retry("alert", "store", &self.token, || {
            store.alerts_of_events(ids)
        })
        .await
        else {
            return false;
        };
        if self.looked_up.len() > 200_000 {
            self.looked_up.clear();
        }
        self.looked_up.extend(unknown.iter().map(|s| s.to_string()));
        let adopted = self.core.grader_mut().adopt(&stored);
        if adopted > 0 {
            let ids: std::collections::HashSet<&str> =
                stored.iter().map(|a| a.event_id.as_str()).collect();
            match self.cases.responses().await {
                Ok(mut rs) => {
                    rs.retain(|r| ids.contains(r.event_id.as_str()));
                    rs.sort_by_key(|r| r.at);
                    for r in rs {
                        self.core.grader_mut().note_responded(
                            &r.event_id,
                            r.at,
                            Some(r.channel.as_str()),
                        );
                    }
                }
                Err(e) => warn!(error = %e, "Reading responses of adopted events failed."),
            }
            info!(
                events = adopted,
                alerts = stored.len(),
                "Took over events graded by another alert process."
            );
        }
        true
    }

    /// Records alerts, retrying through a store or broker outage; false when shut down first.
    async fn handle(&mut self, alerts: Vec<Alert>) -> bool {
        if alerts.is_empty() {
            return true;
        }
        let (store, cases, producer, routes) = (
            &self.store,
            &self.cases,
            &self.producer,
            self.routes.as_ref(),
        );
        let kafka = self.kafka;
        let recorded = retry("alert", "store", &self.token, || {
            record_alerts(store, cases, producer, kafka, routes, alerts.clone())
        })
        .await;
        match recorded {
            Some(new) => {
                if new > 0 {
                    self.wake.notify_waiters();
                }
                true
            }
            None => false,
        }
    }
}

/// A dead letter that keeps what the sinks gave up on in the store.
#[derive(Debug, Clone)]
pub struct StoreDeadLetter(pub Store);

impl DeadLetter for StoreDeadLetter {
    fn record(&self, sink_id: &str, alerts: &[Arc<Alert>], error: &SinkError) {
        let store = self.0.clone();
        let stage = format!("deliver:{sink_id}");
        let reason = error.kind().to_string();
        let payloads: Vec<Vec<u8>> = alerts.iter().map(|a| a.to_json()).collect();
        tokio::spawn(async move {
            for p in payloads {
                if let Err(e) = store.dead_letter(&stage, &reason, &p).await {
                    error!(error = %e, "Dead letter write failed.");
                }
            }
        });
    }
}

/// How long a process may hold a delivery it claimed before another may take it over.
pub const DELIVERY_LEASE: Duration = Duration::from_secs(120);

/// Delivers the outbox of one sink: deliveries are claimed (so that several alert-stage
/// processes never send the same row), handed to the dispatcher (which rate-limits and merges
/// floods into digests), and each outcome is recorded, so nothing is sent twice and nothing is
/// forgotten across restarts. Deliveries held by quiet hours, and those not sent because of a
/// shutdown, are given back.
pub async fn deliver_outbox(
    store: Store,
    dispatcher: Arc<Dispatcher>,
    sink: String,
    owner: String,
    wake: Wake,
    clock: SharedClock,
    token: CancellationToken,
) {
    let mut waiters = tokio::task::JoinSet::new();
    loop {
        let notified = wake.notified();
        let claimed = match store
            .claim_deliveries(&sink, &owner, 1000, DELIVERY_LEASE)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                warn!(sink = %sink, error = %e, "Reading the outbox failed.");
                Vec::new()
            }
        };
        let now = clock.now_cst();
        let (held, fresh): (Vec<Alert>, Vec<Alert>) = claimed
            .into_iter()
            .partition(|a| held_by_quiet_hours(a, &sink, now));
        if !held.is_empty() {
            let ids: Vec<String> = held.iter().map(|a| a.alert_id.clone()).collect();
            if let Err(e) = store.release_deliveries(&sink, &owner, &ids).await {
                warn!(sink = %sink, error = %e, "Releasing held deliveries failed.");
            }
        }
        if !fresh.is_empty() {
            match dispatcher.submit_to(&sink, fresh).await {
                Ok(sub) => {
                    let (store, owner) = (store.clone(), owner.clone());
                    waiters.spawn(async move {
                        use futures::StreamExt;
                        // Record each delivery as soon as it settles: a crash can then repeat
                        // only the message in flight, not everything submitted with it.
                        let mut settled = std::pin::pin!(sub.settled());
                        let mut retry_later = Vec::new();
                        while let Some(d) = settled.next().await {
                            let (status, err) = match &d.outcome {
                                Outcome::Delivered { .. } => (DeliveryStatus::Delivered, None),
                                Outcome::Failed {
                                    dead_lettered: true,
                                    error,
                                    ..
                                } => (DeliveryStatus::Dead, Some(error.clone())),
                                Outcome::Failed { .. } => {
                                    retry_later.push(d.alert_id.clone());
                                    continue;
                                }
                            };
                            if let Err(e) = store
                                .mark_delivery(&d.alert_id, &d.sink_id, status, err.as_deref())
                                .await
                            {
                                error!(error = %e, "Recording a delivery failed.");
                            }
                        }
                        (owner, retry_later)
                    });
                }
                Err(e) => {
                    error!(sink = %sink, error = %e, "Unknown sink.");
                    return;
                }
            }
        }
        while let Some(done) = waiters.try_join_next() {
            if let Ok((owner, again)) = done {
                if !again.is_empty() {
                    let _ = store.release_deliveries(&sink, &owner, &again).await;
                }
            }
        }
        // Held deliveries come back when quiet hours end; look again soon, not at once.
        let idle = if held.is_empty() {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(5)
        };
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(idle) => {}
            _ = token.cancelled() => break,
        }
    }
    // Let what is in flight finish (the dispatcher's own grace period bounds it); give back what
    // was not sent.
    while let Some(done) = waiters.join_next().await {
        if let Ok((owner, again)) = done {
            if !again.is_empty() {
                let _ = store.release_deliveries(&sink, &owner, &again).await;
            }
        }
    }
}

/// Quiet hours: the router deferred this sink's copy of the alert until a later time.
pub fn held_by_quiet_hours(
    a: &Alert,
    sink: &str,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> bool {
    let Some(routing) = a.extra.get("routing") else {
        return false;
    };
    let deferred = routing
        .get("deferred_sinks")
        .and_then(|v| v.as_array())
        .is_some_and(|v| v.iter().any(|s| s.as_str() == Some(sink)));
    let until = routing
        .get("deferred_until")
        .and_then(|v| v.as_str())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    deferred && until.is_some_and(|u| u > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn retry_waits_out_an_outage_and_stops_on_shutdown() {
        let token = CancellationToken::new();
        let mut calls = 0;
        let got = retry("test", "store", &token, || {
            calls += 1;
            let n = calls;
            async move {
                if n < 4 {
                    Err("down")
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(got, Some(4), "succeeds on the fourth attempt");
        token.cancel();
        let never: Option<()> =
            retry("test", "store", &token, || async { Err::<(), _>("down") }).await;
        assert_eq!(never, None, "gives up only when shut down");
    }

    #[test]
    fn quiet_hours_hold_only_deferred_sinks_until_their_time() {
        let mut a: Alert = serde_json::from_value(serde_json::json!({
            "alert_id": "al-1", "event_id": "ev-1", "kind": "new", "grade": "IV", "stage": "emerging",
            "title": "t", "deadlines": [], "rule": "r", "reasons": [], "at": "2026-11-22T23:30:00+08:00"
        }))
        .unwrap();
        a.extra.insert(
            "routing".into(),
            serde_json::json!({"deferred_until": "2026-11-23T07:00:00+08:00", "deferred_sinks": ["wecom"]}),
        );
        let night = chrono::DateTime::parse_from_rfc3339("2026-11-23T01:00:00+08:00").unwrap();
        let morning = chrono::DateTime::parse_from_rfc3339("2026-11-23T07:00:01+08:00").unwrap();
        assert!(held_by_quiet_hours(&a, "wecom", night));
        assert!(!held_by_quiet_hours(&a, "file", night));
        assert!(!held_by_quiet_hours(&a, "wecom", morning));
    }
}
