//! The [`Dispatcher`]: owns the configured sinks and delivers alerts to them.
//!
//! Each sink has its own queue and worker task, so a slow or broken sink never holds up another.
//! A worker runs in rounds. Each round first waits for a token of the sink's rate limiter, then
//! takes everything that waits in the queue, sorts it most severe first and sends one message:
//!
//! - one alert (split into pieces at the channel's size limit) when no more alerts wait than the
//!   rate limiter would let through now;
//! - otherwise a **digest**: one message listing as many of the waiting alerts as fit, most severe
//!   first; the rest wait for the next round, where a newly arrived severe alert still goes first;
//! - batch sinks (file, Alertmanager) send every waiting alert (up to their batch size) at once.
//!
//! A message that fails is retried with exponential backoff and jitter on network errors, HTTP
//! 5xx/408/429 and the channels' error codes; "too fast" answers back off longer. What still fails
//! after the retry budget goes to the [`DeadLetter`], and every alert gets a [`Delivery`] that says
//! whether it reached that sink, so the daemon can record it (an outbox) and never send twice.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use rand::Rng;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, error, info, warn};
use yuqing_core::{Alert, Problems, SharedClock};

use crate::channel::{BuildContext, Channel, Payload, Shape};
use crate::config::{validate_sinks, RetryConfig, SinkConfig};
use crate::error::{BuildError, RetryHint, SinkError};
use crate::limit::RateLimiter;
use crate::metrics;
use crate::render::urgency_order;

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Where alerts go that still failed after the retry budget. The daemon provides one (for
/// example a table or topic it re-sends from); [`LogDeadLetter`] only logs.
pub trait DeadLetter: Send + Sync + std::fmt::Debug {
    /// Records that `alerts` could not be delivered to sink `sink_id`, and why.
    fn record(&self, sink_id: &str, alerts: &[Arc<Alert>], error: &SinkError);
}

/// A dead letter that logs each alert at error level.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogDeadLetter;

impl DeadLetter for LogDeadLetter {
    fn record(&self, sink_id: &str, alerts: &[Arc<Alert>], error: &SinkError) {
        for a in alerts {
            error!(sink = %sink_id, alert = %a.alert_id, error = %error, "Alert dead-lettered.");
        }
    }
}

/// The result of delivering one alert to one sink.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The alert.
    pub alert_id: String,
    /// The sink.
    pub sink_id: String,
    /// What happened.
    pub outcome: Outcome,
}

/// What happened to one alert at one sink.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The sink accepted it.
    Delivered {
        /// When (the dispatcher's clock).
        at: DateTime<Utc>,
        /// It went out as part of a digest or batch, not in a message of its own.
        merged: bool,
        /// Messages that carried it (more than one when split at the size limit).
        messages: u32,
        /// Attempts, retries included, of the message(s) that carried it.
        attempts: u32,
    },
    /// It was not delivered.
    Failed {
        /// The last error, in words.
        error: String,
        /// The bounded error kind ([`SinkError::kind`]).
        error_type: &'static str,
        /// It went to the dead letter (false when the dispatcher shut down first: the daemon
        /// should send it again after a restart).
        dead_lettered: bool,
    },
}

impl Outcome {
    /// True for [`Outcome::Delivered`].
    pub fn is_delivered(&self) -> bool {
        matches!(self, Outcome::Delivered { .. })
    }
}

/// The deliveries of a submission.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryReport {
    /// One per alert and sink it was routed to.
    pub deliveries: Vec<Delivery>,
}

impl DeliveryReport {
    /// The delivered ones.
    pub fn delivered(&self) -> impl Iterator<Item = &Delivery> {
        self.deliveries.iter().filter(|d| d.outcome.is_delivered())
    }

    /// The failed ones.
    pub fn failed(&self) -> impl Iterator<Item = &Delivery> {
        self.deliveries.iter().filter(|d| !d.outcome.is_delivered())
    }

    /// True when every delivery succeeded.
    pub fn all_delivered(&self) -> bool {
        self.deliveries.iter().all(|d| d.outcome.is_delivered())
    }
}

/// Alerts handed to the dispatcher; [`Submission::wait`] resolves their deliveries.
#[derive(Debug)]
pub struct Submission {
    pending: Vec<(String, String, oneshot::Receiver<Delivery>)>,
}

impl Submission {
    /// How many (alert, sink) deliveries are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when no alert was routed to any sink.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The deliveries as they settle, in the order they settle, so that each can be recorded as
    /// soon as it is known (a crash then repeats at most the messages in flight, not the whole
    /// submission).
    pub fn settled(self) -> impl futures::Stream<Item = Delivery> + Send {
        self.pending
            .into_iter()
            .map(|(alert_id, sink_id, rx)| async move {
                rx.await
                    .unwrap_or_else(|_| shutdown_delivery(alert_id, sink_id))
            })
            .collect::<futures::stream::FuturesUnordered<_>>()
    }

    /// Waits until every delivery is settled.
    pub async fn wait(self) -> DeliveryReport {
        let mut deliveries = Vec::with_capacity(self.pending.len());
        for (alert_id, sink_id, rx) in self.pending {
            deliveries.push(
                rx.await
                    .unwrap_or_else(|_| shutdown_delivery(alert_id, sink_id)),
            );
        }
        DeliveryReport { deliveries }
    }
}

fn shutdown_delivery(alert_id: String, sink_id: String) -> Delivery {
    Delivery {
        alert_id,
        sink_id,
        outcome: Outcome::Failed {
            error: SinkError::Shutdown.to_string(),
            error_type: SinkError::Shutdown.kind(),
            dead_lettered: false,
        },
    }
}

/// An unknown sink id was named.
#[derive(Debug, thiserror::Error)]
#[error("no sink with id `{0}`")]
pub struct UnknownSink(pub String);

struct Job {
    alert: Arc<Alert>,
    reply: oneshot::Sender<Delivery>,
}

struct SinkHandle {
    config: SinkConfig,
    tx: mpsc::Sender<Job>,
}

/// Builds a [`Dispatcher`].
pub struct DispatcherBuilder {
    sinks: Vec<SinkConfig>,
    clock: SharedClock,
    dead_letter: Arc<dyn DeadLetter>,
    stdout: Option<Arc<Mutex<Box<dyn Write + Send>>>>,
    http: Option<reqwest::Client>,
    queue_capacity: usize,
    max_pending: usize,
}

impl std::fmt::Debug for DispatcherBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DispatcherBuilder")
            .field("sinks", &self.sinks)
            .field("queue_capacity", &self.queue_capacity)
            .field("max_pending", &self.max_pending)
            .finish_non_exhaustive()
    }
}

impl DispatcherBuilder {
    /// The clock for signatures' timestamps, deadlines' time left and delivery times
    /// (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Where alerts go that still fail after the retry budget (default: [`LogDeadLetter`]).
    pub fn dead_letter(mut self, dead_letter: Arc<dyn DeadLetter>) -> Self {
        self.dead_letter = dead_letter;
        self
    }

    /// Where the stdout sinks write (default: the process's stdout).
    pub fn stdout_writer(mut self, w: Box<dyn Write + Send>) -> Self {
        self.stdout = Some(Arc::new(Mutex::new(w)));
        self
    }

    /// The HTTP client to share (default: a client of its own).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Alerts a sink's queue holds before [`Dispatcher::submit`] waits (default 10,000).
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n.max(1);
        self
    }

    /// Alerts a sink's worker takes from its queue to sort and merge (default 10,000).
    pub fn max_pending(mut self, n: usize) -> Self {
        self.max_pending = n.max(1);
        self
    }

    /// Validates the sinks and starts a worker per sink (needs a Tokio runtime).
    pub fn build(self) -> Result<Dispatcher, BuildError> {
        let mut problems = Problems::new();
        validate_sinks(&self.sinks, "sinks", &mut problems);
        if !problems.is_empty() {
            return Err(BuildError::Config(problems));
        }
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .user_agent(concat!("yuqing-sinks/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(BuildError::Http)?,
        };
        let cx = BuildContext {
            http,
            clock: self.clock.clone(),
            stdout: self.stdout,
        };
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let mut channels = Vec::with_capacity(self.sinks.len());
        for config in &self.sinks {
            channels.push(Channel::build(config, &cx)?);
        }
        let mut sinks = Vec::with_capacity(self.sinks.len());
        let mut workers = Vec::with_capacity(self.sinks.len());
        for (config, channel) in self.sinks.into_iter().zip(channels) {
            let (tx, rx) = mpsc::channel(self.queue_capacity);
            let id = config.id().to_string();
            metrics::init_sink(&id);
            let worker = Worker {
                id,
                shape: channel.shape(),
                channel,
                limiter: RateLimiter::new(&config.rate_windows()),
                retry: config.retry(),
                rate_limited_backoff: config.rate_limited_backoff(),
                clock: self.clock.clone(),
                dead_letter: self.dead_letter.clone(),
                rx,
                pending: Vec::new(),
                max_pending: self.max_pending,
                cancel: cancel_rx.clone(),
            };
            workers.push(tokio::spawn(worker.run()));
            sinks.push(SinkHandle { config, tx });
        }
        Ok(Dispatcher {
            sinks,
            cancel: cancel_tx,
            workers,
        })
    }
}

/// Owns the configured sinks and delivers alerts to them.
#[derive(Debug)]
pub struct Dispatcher {
    sinks: Vec<SinkHandle>,
    cancel: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SinkHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkHandle")
            .field("id", &self.config.id())
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A builder for these sinks.
    pub fn builder(sinks: Vec<SinkConfig>) -> DispatcherBuilder {
        DispatcherBuilder {
            sinks,
            clock: Arc::new(yuqing_core::SystemClock),
            dead_letter: Arc::new(LogDeadLetter),
            stdout: None,
            http: None,
            queue_capacity: 10_000,
            max_pending: 10_000,
        }
    }

    /// The ids of the sinks, in configuration order.
    pub fn sink_ids(&self) -> impl Iterator<Item = &str> {
        self.sinks.iter().map(|s| s.config.id())
    }

    /// The ids of the sinks that accept `alert` ([`SinkConfig::accepts`]).
    pub fn routes(&self, alert: &Alert) -> Vec<&str> {
        self.sinks
            .iter()
            .filter(|s| s.config.accepts(alert))
            .map(|s| s.config.id())
            .collect()
    }

    /// Queues each alert for every sink that accepts it. Waits while a sink's queue is full.
    pub async fn submit(&self, alerts: impl IntoIterator<Item = Alert>) -> Submission {
        let mut pending = Vec::new();
        for alert in alerts {
            let alert = Arc::new(alert);
            for sink in self.sinks.iter().filter(|s| s.config.accepts(&alert)) {
                pending.push(Self::enqueue(sink, alert.clone()).await);
            }
        }
        Submission { pending }
    }

    /// Queues alerts for one sink, whatever their routes (for re-sending from an outbox).
    pub async fn submit_to(
        &self,
        sink_id: &str,
        alerts: impl IntoIterator<Item = Alert>,
    ) -> Result<Submission, UnknownSink> {
        let sink = self
            .sinks
            .iter()
            .find(|s| s.config.id() == sink_id)
            .ok_or_else(|| UnknownSink(sink_id.to_string()))?;
        let mut pending = Vec::new();
        for alert in alerts {
            pending.push(Self::enqueue(sink, Arc::new(alert)).await);
        }
        Ok(Submission { pending })
    }

    /// Submits and waits for every delivery.
    pub async fn deliver(&self, alerts: impl IntoIterator<Item = Alert>) -> DeliveryReport {
        self.submit(alerts).await.wait().await
    }

    async fn enqueue(
        sink: &SinkHandle,
        alert: Arc<Alert>,
    ) -> (String, String, oneshot::Receiver<Delivery>) {
        let (reply, rx) = oneshot::channel();
        let alert_id = alert.alert_id.clone();
        let sink_id = sink.config.id().to_string();
        let gauge = metrics::QUEUED.with_label_values(&[&sink_id]);
        gauge.inc();
        if let Err(mpsc::error::SendError(job)) = sink.tx.send(Job { alert, reply }).await {
            // The worker is gone: the dispatcher is shutting down.
            gauge.dec();
            let _ = job
                .reply
                .send(shutdown_delivery(alert_id.clone(), sink_id.clone()));
        }
        (alert_id, sink_id, rx)
    }

    /// Stops taking alerts, lets the workers deliver what they hold for up to `grace`, then
    /// cancels them; undelivered alerts are reported as failed without being dead-lettered.
    pub async fn shutdown(self, grace: Duration) {
        let Dispatcher {
            sinks,
            cancel,
            workers,
        } = self;
        drop(sinks);
        let mut all = futures_join(workers);
        if tokio::time::timeout(grace, &mut all).await.is_err() {
            warn!(grace = ?grace, "Sinks still busy at the end of the grace period; cancelling.");
            let _ = cancel.send(true);
            let _ = all.await;
        }
    }
}

/// Awaits every handle (a tiny join_all, to keep dependencies down).
fn futures_join(handles: Vec<JoinHandle<()>>) -> JoinAll {
    JoinAll { handles }
}

struct JoinAll {
    handles: Vec<JoinHandle<()>>,
}

impl std::future::Future for JoinAll {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let handles = &mut self.handles;
        handles.retain_mut(|h| std::pin::Pin::new(h).poll(cx).is_pending());
        if handles.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

/// How a message went.
struct Sent {
    attempts: u32,
}

struct Worker {
    id: String,
    channel: Channel,
    shape: Shape,
    limiter: RateLimiter,
    retry: RetryConfig,
    rate_limited_backoff: Duration,
    clock: SharedClock,
    dead_letter: Arc<dyn DeadLetter>,
    rx: mpsc::Receiver<Job>,
    pending: Vec<Job>,
    max_pending: usize,
    cancel: watch::Receiver<bool>,
}

/// Resolves when the cancel flag is (or becomes) true; never when the sender is gone.
async fn cancelled(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Worker {
    fn label(&self) -> [&str; 1] {
        [self.id.as_str()]
    }

    async fn run(mut self) {
        debug!(sink = %self.id, "Sink worker started.");
        loop {
            if self.pending.is_empty() {
                let job = tokio::select! {
                    biased;
                    _ = cancelled(&mut self.cancel) => break,
                    job = self.rx.recv() => job,
                };
                match job {
                    Some(j) => self.pending.push(j),
                    None => break,
                }
            }
            let mut cancel = self.cancel.clone();
            let round = async {
                match self.shape {
                    Shape::Batch { max } => self.batch_round(max).await,
                    Shape::Chat { digest } => self.chat_round(digest).await,
                }
            };
            let cancelled_now = tokio::select! {
                biased;
                _ = cancelled(&mut cancel) => true,
                _ = round => false,
            };
            if cancelled_now {
                break;
            }
        }
        // Whatever is left was not delivered: report it (not dead-lettered; the daemon re-sends).
        self.rx.close();
        while let Ok(job) = self.rx.try_recv() {
            self.pending.push(job);
        }
        let gauge = metrics::QUEUED.with_label_values(&self.label());
        for job in self.pending.drain(..) {
            gauge.dec();
            let _ = job.reply.send(shutdown_delivery(
                job.alert.alert_id.clone(),
                self.id.clone(),
            ));
        }
        debug!(sink = %self.id, "Sink worker stopped.");
    }

    /// Moves queued jobs into `pending`, up to `max_pending`.
    fn drain(&mut self) {
        while self.pending.len() < self.max_pending {
            match self.rx.try_recv() {
                Ok(job) => self.pending.push(job),
                Err(_) => break,
            }
        }
    }

    async fn acquire(&mut self) {
        let waited = self.limiter.acquire().await;
        if !waited.is_zero() {
            metrics::RATE_LIMITED_WAITS
                .with_label_values(&self.label())
                .inc();
            metrics::RATE_LIMITED_SECONDS
                .with_label_values(&self.label())
                .inc_by(waited.as_secs_f64());
            debug!(sink = %self.id, waited = ?waited, "Waited for the rate limit.");
        }
    }

    async fn chat_round(&mut self, digest: bool) {
        // Wait for a token first, so that what arrives meanwhile is merged into this round; and
        // let a submitter that is still enqueueing a batch finish it.
        self.acquire().await;
        tokio::task::yield_now().await;
        self.drain();
        self.sort_pending();
        let can_send_now = self.limiter.available().saturating_add(1);
        let now = self.clock.now();
        if !digest || self.pending.len() <= can_send_now || self.pending.len() == 1 {
            // Jobs stay in `pending` until settled, so a shutdown mid-send still reports them.
            let alert = self.pending[0].alert.clone();
            match self.channel.render_alert(&alert, now) {
                Ok(pieces) => {
                    let total = pieces.len() as u32;
                    let mut attempts = 0;
                    let mut have_token = true;
                    for (i, piece) in pieces.iter().enumerate() {
                        match self.send(piece, have_token).await {
                            Ok(sent) => attempts += sent.attempts,
                            Err(err) => {
                                let err = if i > 0 {
                                    SinkError::Partial {
                                        failed: i + 1,
                                        total: pieces.len(),
                                        source: Box::new(err),
                                    }
                                } else {
                                    err
                                };
                                let job = self.pending.remove(0);
                                self.fail(vec![job], err);
                                return;
                            }
                        }
                        have_token = false;
                    }
                    metrics::MESSAGES
                        .with_label_values(&[self.id.as_str(), "single"])
                        .inc_by(u64::from(total));
                    let job = self.pending.remove(0);
                    self.succeed(vec![job], false, total, attempts);
                }
                Err(err) => {
                    self.limiter.release();
                    let job = self.pending.remove(0);
                    self.fail(vec![job], err);
                }
            }
        } else {
            let alerts: Vec<Arc<Alert>> = self.pending.iter().map(|j| j.alert.clone()).collect();
            match self.channel.render_digest(&alerts, now) {
                Ok((payload, n)) => {
                    let n = n.clamp(1, alerts.len());
                    info!(
                        sink = %self.id,
                        alerts = n,
                        waiting = alerts.len() - n,
                        bytes = payload.wire_len(),
                        "Sending a digest."
                    );
                    let result = self.send(&payload, true).await;
                    let jobs: Vec<Job> = self.pending.drain(..n).collect();
                    match result {
                        Ok(sent) => {
                            metrics::MESSAGES
                                .with_label_values(&[self.id.as_str(), "digest"])
                                .inc();
                            metrics::DIGEST_MERGED
                                .with_label_values(&self.label())
                                .inc_by(jobs.len() as u64);
                            self.succeed(jobs, true, 1, sent.attempts);
                        }
                        Err(err) => self.fail(jobs, err),
                    }
                }
                Err(err) => {
                    // Cannot happen for a non-empty list; settle the most severe alert so the
                    // worker makes progress rather than spinning.
                    self.limiter.release();
                    let job = self.pending.remove(0);
                    self.fail(vec![job], err);
                }
            }
        }
    }

    async fn batch_round(&mut self, max: usize) {
        self.acquire().await;
        tokio::task::yield_now().await;
        self.drain();
        let n = self.pending.len().min(max);
        let alerts: Vec<Arc<Alert>> = self.pending[..n].iter().map(|j| j.alert.clone()).collect();
        let result = match self.channel.render_batch(&alerts) {
            Ok(payload) => self.send(&payload, true).await,
            Err(err) => {
                self.limiter.release();
                Err(err)
            }
        };
        let jobs: Vec<Job> = self.pending.drain(..n).collect();
        match result {
            Ok(sent) => {
                metrics::MESSAGES
                    .with_label_values(&[self.id.as_str(), "batch"])
                    .inc();
                self.succeed(jobs, n > 1, 1, sent.attempts);
            }
            Err(err) => self.fail(jobs, err),
        }
    }

    /// Most urgent first, an event's alerts together in firing order ([`urgency_order`]).
    fn sort_pending(&mut self) {
        let alerts: Vec<Arc<Alert>> = self.pending.iter().map(|j| j.alert.clone()).collect();
        let order = urgency_order(&alerts);
        let mut jobs: Vec<Option<Job>> = self.pending.drain(..).map(Some).collect();
        self.pending
            .extend(order.into_iter().filter_map(|i| jobs[i].take()));
    }

    /// Sends one message with retries. `have_token`: a rate-limit token is already held for the
    /// first attempt.
    async fn send(&mut self, payload: &Payload, mut have_token: bool) -> Result<Sent, SinkError> {
        let start = Instant::now();
        let mut attempt = 0u32;
        let result = loop {
            attempt += 1;
            if !have_token {
                self.acquire().await;
            }
            have_token = false;
            let r = self.channel.send(payload).await;
            self.limiter.complete();
            let err = match r {
                Ok(()) => break Ok(Sent { attempts: attempt }),
                Err(e) => e,
            };
            let hint = err.retry();
            if hint == RetryHint::Never || attempt >= self.retry.attempts {
                break Err(err);
            }
            metrics::RETRIES
                .with_label_values(&[self.id.as_str(), err.kind()])
                .inc();
            let delay = self.backoff(attempt, hint);
            warn!(
                sink = %self.id,
                attempt,
                error_type = err.kind(),
                error = %err,
                retry_in = ?delay,
                "Delivery failed; retrying."
            );
            tokio::time::sleep(delay).await;
        };
        metrics::DURATION
            .with_label_values(&self.label())
            .observe(start.elapsed().as_secs_f64());
        result
    }

    /// The wait before attempt `attempt + 1`: exponential with "equal jitter" (half fixed, half
    /// random), or the longer rate-limited wait.
    fn backoff(&self, attempt: u32, hint: RetryHint) -> Duration {
        let mut rng = rand::thread_rng();
        match hint {
            RetryHint::RateLimited(after) => {
                // A server's Retry-After counts when longer than ours, up to an hour.
                let after = after.unwrap_or_default().min(MAX_RETRY_AFTER);
                let base = after.max(self.rate_limited_backoff);
                base + base.mul_f64(rng.gen_range(0.0..0.1))
            }
            _ => {
                let exp = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
                let base = self
                    .retry
                    .initial_backoff
                    .saturating_mul(exp)
                    .min(self.retry.max_backoff);
                base / 2 + base.mul_f64(rng.gen_range(0.0..0.5))
            }
        }
    }

    fn succeed(&mut self, jobs: Vec<Job>, merged: bool, messages: u32, attempts: u32) {
        let at = self.clock.now();
        let n = jobs.len() as u64;
        metrics::DELIVERIES
            .with_label_values(&[self.id.as_str(), "delivered"])
            .inc_by(n);
        metrics::QUEUED
            .with_label_values(&self.label())
            .sub(n as i64);
        for job in jobs {
            debug!(sink = %self.id, alert = %job.alert.alert_id, merged, "Alert delivered.");
            let _ = job.reply.send(Delivery {
                alert_id: job.alert.alert_id.clone(),
                sink_id: self.id.clone(),
                outcome: Outcome::Delivered {
                    at,
                    merged,
                    messages,
                    attempts,
                },
            });
        }
    }

    fn fail(&mut self, jobs: Vec<Job>, err: SinkError) {
        let n = jobs.len() as u64;
        metrics::DELIVERIES
            .with_label_values(&[self.id.as_str(), "failed"])
            .inc_by(n);
        metrics::DEADLETTER
            .with_label_values(&self.label())
            .inc_by(n);
        metrics::QUEUED
            .with_label_values(&self.label())
            .sub(n as i64);
        error!(
            sink = %self.id,
            alerts = n,
            error_type = err.kind(),
            error = %err,
            "Delivery failed after the retry budget; dead-lettering."
        );
        let alerts: Vec<Arc<Alert>> = jobs.iter().map(|j| j.alert.clone()).collect();
        self.dead_letter.record(&self.id, &alerts, &err);
        let (error, error_type) = (err.to_string(), err.kind());
        for job in jobs {
            let _ = job.reply.send(Delivery {
                alert_id: job.alert.alert_id.clone(),
                sink_id: self.id.clone(),
                outcome: Outcome::Failed {
                    error: error.clone(),
                    error_type,
                    dead_lettered: true,
                },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatcher_and_results_can_be_shared_between_tasks() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Dispatcher>();
        shareable::<Submission>();
        shareable::<DeliveryReport>();
        fn sendable<T: Send + 'static>() {}
        sendable::<DispatcherBuilder>();
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_grows_with_jitter_and_rate_limits_wait_longer() {
        let (_tx, rx) = mpsc::channel(1);
        let (_c, cancel) = watch::channel(false);
        let config: SinkConfig = serde_json::from_value(serde_json::json!({
            "kind": "dingtalk", "id": "dd", "access_token": "t",
            "retry": {"attempts": 5, "initial_backoff": "1s", "max_backoff": "4s"}
        }))
        .unwrap();
        let cx = BuildContext::new(Arc::new(yuqing_core::SystemClock)).unwrap();
        let w = Worker {
            id: "dd".into(),
            shape: Shape::Chat { digest: true },
            channel: Channel::build(&config, &cx).unwrap(),
            limiter: RateLimiter::new(&config.rate_windows()),
            retry: config.retry(),
            rate_limited_backoff: config.rate_limited_backoff(),
            clock: cx.clock.clone(),
            dead_letter: Arc::new(LogDeadLetter),
            rx,
            pending: Vec::new(),
            max_pending: 10,
            cancel,
        };
        for _ in 0..50 {
            let secs = |a| w.backoff(a, RetryHint::Backoff).as_secs_f64();
            assert!((0.5..1.0).contains(&secs(1)));
            assert!((1.0..2.0).contains(&secs(2)));
            assert!((2.0..4.0).contains(&secs(3)));
            assert!((2.0..4.0).contains(&secs(9)), "capped at max_backoff");
            let limited = w.backoff(1, RetryHint::RateLimited(None)).as_secs_f64();
            assert!((600.0..660.0).contains(&limited), "钉钉: 10 minutes");
            let after = w
                .backoff(1, RetryHint::RateLimited(Some(Duration::from_secs(900))))
                .as_secs_f64();
            assert!(
                (900.0..990.0).contains(&after),
                "Retry-After wins when longer"
            );
        }
    }
}
