//! The daemon: wires the stages of a pipeline over the bus and runs them until shut down.
//!
//! `yuqing run` runs every stage in one process (over in-process channels by default, or over
//! Kafka); `yuqing collect|analyze|alert` run one stage each, for scale-out over Kafka, where
//! several processes of a stage share the work in one consumer group.
//!
//! Shutdown (Ctrl-C, SIGTERM, or the injected token) stops the stages front to back — collectors
//! first, then each stage drains what it holds, then the sinks flush — within the graceful limit.
//! Anything accepted but not finished is finished after the next start: in-process, the store is
//! the durable inbox and start-up recovery replays it; over Kafka, uncommitted offsets are read
//! again.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use yuqing_bus::{Bus, Producer, Topic};
use yuqing_cases::Cases;
use yuqing_collect::Collector;
use yuqing_core::{Alert, ScaledClock, SharedClock, SystemClock};
use yuqing_sinks::Dispatcher;
use yuqing_store::Store;

use crate::config::PipelineConfig;
use crate::core::{self, AlertCore, AnalyzeCore, Privacy};
use crate::http::{self, HttpState};
use crate::intake::{Intake, StoreState};
use crate::stages::{self, AlertStage, AnalyzeStage, Routes, StoreDeadLetter};

/// Which stages this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageSet {
    /// Collectors (and `/ingest`).
    pub collect: bool,
    /// Judgment and events.
    pub analyze: bool,
    /// Grading, alerting, delivery, cases.
    pub alert: bool,
}

impl StageSet {
    /// Every stage.
    pub const ALL: StageSet = StageSet {
        collect: true,
        analyze: true,
        alert: true,
    };
}

/// Runtime settings that are not pipeline semantics (CLI flags).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where the embedded store and files live.
    pub data_dir: PathBuf,
    /// HTTP listen address (`/metrics`, `/healthz`, `/readyz`, `/ingest`, the API).
    pub listen: SocketAddr,
    /// Store URL overriding the config.
    pub store: Option<String>,
    /// How long a graceful shutdown may take.
    pub graceful_limit: Duration,
    /// The stages to run.
    pub stages: StageSet,
    /// Writes the bound HTTP address here once listening (for tests and supervisors).
    pub addr_file: Option<PathBuf>,
}

/// A started daemon (tests drive it through this).
#[derive(Debug)]
pub struct Running {
    /// The HTTP address.
    pub addr: SocketAddr,
    /// The demo world's base URL, when it runs.
    pub demo: Option<String>,
    /// Resolves when the daemon has shut down.
    pub done: JoinHandle<anyhow::Result<()>>,
}

/// Starts the daemon; returns once it is listening. `shutdown` stops it.
pub async fn start(
    mut cfg: PipelineConfig,
    opts: RunOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<Running> {
    let clock: SharedClock = if (cfg.clock.speed - 1.0).abs() > f64::EPSILON {
        Arc::new(ScaledClock::new(chrono::Utc::now(), cfg.clock.speed))
    } else {
        Arc::new(SystemClock)
    };
    let data_dir = cfg
        .data_dir
        .clone()
        .map(|d| cfg.resolve(&d))
        .unwrap_or(opts.data_dir.clone());
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let store_url = opts
        .store
        .clone()
        .or(cfg.store.url.clone())
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("yuqing.db").display()));
    let store = Store::open(&store_url)
        .await
        .with_context(|| format!("opening store {store_url}"))?;
    info!(store = %redact(&store_url), data_dir = %data_dir.display(), "Store open.");
    let bus = Bus::connect(&cfg.bus).await.context("connecting the bus")?;
    let kafka = !bus.is_memory();
    if !kafka && opts.stages != StageSet::ALL {
        anyhow::bail!("running single stages needs the Kafka bus ([bus] kind = \"kafka\"); in-process, use `yuqing run`");
    }

    // Layers of cancellation, cancelled front to back at shutdown.
    let collect_token = CancellationToken::new();
    let analyze_token = CancellationToken::new();
    let alert_token = CancellationToken::new();
    let deliver_token = CancellationToken::new();
    let http_token = CancellationToken::new();

    let mut demo_url = None;
    let mut demo_handle = None;
    if cfg.demo.enabled && opts.stages.collect {
        let world = yuqing_demo::DemoWorld::bundled().context("loading the demo world")?;
        let (addr, h) = world
            .serve(
                SocketAddr::from(([127, 0, 0, 1], cfg.demo.port)),
                clock.clone(),
                http_token.clone(),
            )
            .await
            .context("starting the demo world")?;
        let base = format!("http://{addr}");
        info!(url = %base, "Demo world serving.");
        let data_dir_cfg = cfg.data_dir.clone();
        cfg = cfg
            .with_demo(&base)
            .context("re-loading the pipeline with the demo address")?;
        cfg.data_dir = data_dir_cfg;
        demo_url = Some(base);
        demo_handle = Some(h);
    }

    // Relative file sink paths live in the data directory.
    for s in cfg.sinks.iter_mut() {
        if let yuqing_sinks::SinkConfig::File(f) = s {
            if f.path.is_relative() {
                f.path = data_dir.join(&f.path);
            }
        }
    }

    let producer = bus.producer();
    let privacy = Privacy::from_config(&cfg);
    let intake = if kafka {
        Intake::kafka(producer.clone(), privacy.clone(), cfg.bus.kafka.item_key)
    } else {
        Intake::embedded(store.clone(), producer.clone(), privacy.clone())
    };

    let cases = Cases::with_clock(store.clone(), clock.clone())
        .await
        .context("opening the case workflow")?
        .configure(&cfg.cases, &cfg.api.users);
    // Subscribe before recovery so that no response recorded meanwhile is missed.
    let responses_rx = cases.subscribe();
    let wake = Arc::new(Notify::new());
    let mut tasks: Vec<(&'static str, JoinHandle<()>)> = Vec::new();

    let sinks = cfg.sinks.clone();
    let routes: Routes = Arc::new(move |a: &Alert| {
        sinks
            .iter()
            .filter(|s| s.accepts(a))
            .map(|s| s.id().to_string())
            .collect()
    });
    let mut alert_core = AlertCore::new(core::grader(&cfg)?);
    let mut recovered = None;
    if !kafka {
        // In-process: rebuild state by replaying the recent inbox; this also finishes whatever
        // was accepted but not processed before a crash.
        recovered = Some(
            recover(
                &cfg,
                &store,
                &cases,
                &producer,
                &routes,
                &mut alert_core,
                clock.clone(),
            )
            .await?,
        );
    } else {
        if opts.stages.alert {
            let since = clock.now_cst() - chrono::Duration::days(3);
            let recent = store
                .alerts_between(since, clock.now_cst() + chrono::Duration::days(1))
                .await?;
            alert_core.restore(&recent);
        }
        if opts.stages.analyze {
            // Over Kafka the items are not in an inbox of ours, but their judgments are in the
            // shared store: rebuild the open events from them, so that an incident goes on in its
            // event after a restart instead of starting a new one (and a new alert).
            recovered = Some(rebuild_events(&cfg, &store, clock.clone()).await?);
        }
    }

    // Alert stage, delivery and its dispatcher.
    let mut dispatcher = None;
    if opts.stages.alert {
        let d = Arc::new(
            Dispatcher::builder(cfg.sinks.clone())
                .clock(clock.clone())
                .dead_letter(Arc::new(StoreDeadLetter(store.clone())))
                .build()
                .context("building the sinks")?,
        );
        if !kafka {
            // One process owns this store: claims left by a crashed run need not wait for their
            // lease.
            let n = store.release_all_claims().await?;
            if n > 0 {
                info!(deliveries = n, "Released the claims of the previous run.");
            }
        }
        reconcile_file_sinks(&cfg, &store).await;
        let consumer = bus.consumer(Topic::Events, "alert").await?;
        let stage = AlertStage {
            consumer,
            producer: producer.clone(),
            store: store.clone(),
            core: alert_core,
            cases: cases.clone(),
            routes,
            kafka,
            clock: clock.clone(),
            tick: Duration::from_secs(1),
            wake: wake.clone(),
            responses: responses_rx,
            token: alert_token.clone(),
            looked_up: Default::default(),
        };
        tasks.push(("alert", tokio::spawn(stage.run())));
        // Who claims deliveries: unique per process, readable in the store.
        let owner = format!(
            "{}-{}-{:08x}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "yuqing".into()),
            std::process::id(),
            rand_suffix()
        );
        for sink in d.sink_ids().map(str::to_string).collect::<Vec<_>>() {
            tasks.push((
                "deliver",
                tokio::spawn(stages::deliver_outbox(
                    store.clone(),
                    d.clone(),
                    sink,
                    owner.clone(),
                    wake.clone(),
                    clock.clone(),
                    deliver_token.clone(),
                )),
            ));
        }
        dispatcher = Some(d);
    }

    // Analyze stage.
    if opts.stages.analyze {
        let core = match recovered.take() {
            Some(core) => core,
            None => AnalyzeCore::new(core::analyzer(&cfg)?, &cfg.events),
        };
        // Reload the analyzer the stage actually judges with (recovery built its own).
        let reload = core.shared().clone();
        let consumer = bus.consumer(Topic::Items, "analyze").await?;
        let stage = AnalyzeStage {
            consumer,
            producer: producer.clone(),
            store: store.clone(),
            core,
            kafka,
            token: analyze_token.clone(),
            clock: clock.clone(),
        };
        tasks.push(("analyze", tokio::spawn(stage.run())));
        let token = analyze_token.clone();
        tasks.push((
            "reload",
            tokio::spawn(async move {
                let mut t = tokio::time::interval(Duration::from_secs(2));
                loop {
                    tokio::select! {
                        _ = t.tick() => match reload.reload_if_changed() {
                            Ok(true) => info!("Judgment rules reloaded."),
                            Ok(false) => {}
                            Err(e) => warn!(error = %e, "Rules not reloaded; keeping the previous ones."),
                        },
                        _ = token.cancelled() => break,
                    }
                }
            }),
        ));
    }

    // Collectors.
    let mut surge = None;
    let mut health = None;
    if opts.stages.collect && !cfg.sources.is_empty() {
        let collector = Collector::new(
            cfg.collect_config(),
            Arc::new(StoreState(store.clone())),
            Arc::new(intake.clone()),
            clock.clone(),
        );
        surge = Some(collector.surge_handle());
        health = Some(collector.health_handle().subscribe());
        tasks.push((
            "collect",
            tokio::spawn(collector.run(collect_token.clone())),
        ));
    }
    if let (Some(mut rx), true) = (health, opts.stages.alert) {
        // Source health becomes alerts of their own.
        let store = store.clone();
        let cases = cases.clone();
        let producer = producer.clone();
        let wake = wake.clone();
        let sinks = cfg.sinks.clone();
        let clock = clock.clone();
        tasks.push((
            "health",
            tokio::spawn(async move {
                loop {
                    let ev = match rx.recv().await {
                        Ok(ev) => ev,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                            warn!(missed = n, "Health events were dropped (too many at once).");
                            continue;
                        }
                        Err(_) => break,
                    };
                    let alert = crate::health::alert_of(&ev, clock.now_cst());
                    let routes = |a: &Alert| {
                        sinks
                            .iter()
                            .filter(|s| s.accepts(a))
                            .map(|s| s.id().to_string())
                            .collect()
                    };
                    if let Ok(n) = stages::record_alerts(
                        &store,
                        &cases,
                        &producer,
                        kafka,
                        &routes,
                        vec![alert],
                    )
                    .await
                    {
                        if n > 0 {
                            wake.notify_waiters();
                        }
                    }
                }
            }),
        ));
    }

    // The duty-room gauges of open cases: time to the next deadline and overdue cases per grade.
    if opts.stages.alert {
        let (cases, clock, token) = (cases.clone(), clock.clone(), alert_token.clone());
        tasks.push((
            "case-gauges",
            tokio::spawn(async move {
                let mut t = tokio::time::interval(Duration::from_secs(10));
                loop {
                    tokio::select! {
                        _ = t.tick() => crate::health::report_case_deadlines(&cases, clock.now_cst()).await,
                        _ = token.cancelled() => break,
                    }
                }
            }),
        ));
    }

    // Accountability (迟报、漏报) per department over the last 30 days, as gauges (named like the
    // task above so that shutdown stops it with the alert stage).
    if opts.stages.alert {
        let (cases, token) = (cases.clone(), alert_token.clone());
        tasks.push((
            "case-gauges",
            tokio::spawn(async move {
                use yuqing_cases::metrics::{ACCOUNTABILITY_REFRESH, ACCOUNTABILITY_WINDOW};
                cases
                    .run_accountability_metrics(
                        ACCOUNTABILITY_REFRESH,
                        ACCOUNTABILITY_WINDOW,
                        token.cancelled(),
                    )
                    .await;
            }),
        ));
    }

    // Scheduled reports (by the process that runs the alert stage, which owns the cases).
    if opts.stages.alert {
        let schedule = cfg.reports.clone().with_data_dir(&data_dir);
        let (store, cases, clock, token) = (
            store.clone(),
            cases.clone(),
            clock.clone(),
            alert_token.clone(),
        );
        tasks.push((
            "reports",
            tokio::spawn(async move {
                if let Err(e) =
                    yuqing_report::run_schedule_with(schedule, store, cases, clock, token).await
                {
                    warn!(error = %e, "Report schedule stopped.");
                }
            }),
        ));
    }

    // HTTP.
    let ready = Arc::new(AtomicBool::new(false));
    let state = HttpState {
        store: store.clone(),
        intake: opts.stages.collect.then(|| intake.clone()),
        ingest_tokens: Arc::new(cfg.api.ingest_tokens.clone()),
        ingest_source: cfg
            .api
            .ingest_source
            .clone()
            .unwrap_or_else(|| "ingest".into()),
        ready: ready.clone(),
        surge,
    };
    let auth = yuqing_cases::Auth::new(&cfg.api.users);
    let console = yuqing_console::router(
        yuqing_console::ConsoleContext::new(
            store.clone(),
            cases.clone(),
            auth.clone(),
            clock.clone(),
        )
        .with_config(cfg.console.clone()),
    );
    let api = yuqing_cases::router(cases.clone(), auth).merge(console);
    let (addr, http_handle) =
        http::serve(opts.listen, http::router(state, api), http_token.clone()).await?;
    if let Some(f) = &opts.addr_file {
        std::fs::write(f, addr.to_string()).with_context(|| format!("writing {}", f.display()))?;
    }
    ready.store(true, Ordering::Relaxed);
    info!(addr = %addr, kafka, "Daemon running.");

    let limit = opts.graceful_limit;
    let done = tokio::spawn(async move {
        shutdown.cancelled().await;
        info!(limit = ?limit, "Shutting down.");
        ready.store(false, Ordering::Relaxed);
        let deadline = tokio::time::Instant::now() + limit;
        let layers: [(&CancellationToken, &[&str]); 4] = [
            (&collect_token, &["collect", "health"]),
            (&analyze_token, &["analyze", "reload"]),
            (&alert_token, &["alert", "reports", "case-gauges"]),
            (&deliver_token, &["deliver"]),
        ];
        let mut tasks = tasks;
        for (token, names) in layers {
            token.cancel();
            if names.contains(&"collect") || names.contains(&"analyze") {
                // The in-process topics end once their producers are gone.
                bus.close();
            }
            let (mine, rest): (Vec<_>, Vec<_>) =
                tasks.into_iter().partition(|(n, _)| names.contains(n));
            tasks = rest;
            for (name, mut h) in mine {
                if tokio::time::timeout_at(deadline, &mut h).await.is_err() {
                    warn!(
                        task = name,
                        "Did not stop within the graceful limit; aborting."
                    );
                    h.abort();
                }
            }
        }
        if let Some(d) = dispatcher {
            if let Ok(d) = Arc::try_unwrap(d) {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                d.shutdown(left).await;
            }
        }
        let _ = producer.flush(Duration::from_secs(5)).await;
        http_token.cancel();
        let _ = http_handle.await;
        if let Some(h) = demo_handle {
            let _ = h.await;
        }
        store.close().await;
        info!("Stopped.");
        Ok(())
    });
    Ok(Running {
        addr,
        demo: demo_url,
        done,
    })
}

/// Start-up recovery of the in-process pipeline: replays the recent inbox through the same cores,
/// in the same order as it was processed live, re-storing judgments and events (idempotent) and
/// recording alerts (deduplicated by id, so those already sent are not sent again, and those lost
/// to a crash are sent now).
async fn recover(
    cfg: &PipelineConfig,
    store: &Store,
    cases: &Cases,
    producer: &Producer,
    routes: &Routes,
    alert_core: &mut AlertCore,
    clock: SharedClock,
) -> anyhow::Result<AnalyzeCore> {
    let mut analyze = AnalyzeCore::new(core::analyzer(cfg)?, &cfg.events);
    if store.last_item_seq().await? == 0 {
        return Ok(analyze);
    }
    let window = chrono::Duration::from_std(cfg.events.quiet_after)
        .unwrap_or(chrono::Duration::days(2))
        + chrono::Duration::days(1);
    let from = store.first_seq_since(clock.now_cst() - window).await?;
    // Public responses recorded before the restart meet deadlines; apply each at its time.
    let mut responses = cases.responses().await?;
    responses.sort_by_key(|r| r.at);
    let mut responses = responses.into_iter().peekable();
    let mut seq = from.saturating_sub(1).max(0);
    let started = std::time::Instant::now();
    let mut n = 0usize;
    let mut new_alerts = 0usize;
    loop {
        let batch = store.items_after(seq, 2000).await?;
        let Some((last_seq, _)) = batch.last() else {
            break;
        };
        seq = *last_seq;
        let items: Vec<_> = batch.into_iter().map(|(_, i)| i).collect();
        n += items.len();
        let analyzer = analyze.analyzer();
        let mut judged =
            tokio::task::spawn_blocking(move || AnalyzeCore::judge_all(&analyzer, items)).await?;
        let events = analyze.track(&mut judged);
        store.put_judged(&judged).await?;
        store.put_events(&events).await?;
        let mut alerts = Vec::new();
        for e in &events {
            while let Some(r) = responses.next_if(|r| r.at <= e.updated_at) {
                alert_core
                    .grader_mut()
                    .note_responded(&r.event_id, r.at, Some(r.channel.as_str()));
            }
            alerts.extend(alert_core.on_event(e));
        }
        new_alerts += stages::record_alerts(store, cases, producer, false, routes.as_ref(), alerts)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    for r in responses {
        alert_core
            .grader_mut()
            .note_responded(&r.event_id, r.at, Some(r.channel.as_str()));
    }
    let due = alert_core.tick(clock.now_cst());
    new_alerts += stages::record_alerts(store, cases, producer, false, routes.as_ref(), due)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    info!(
        items = n,
        new_alerts,
        seconds = started.elapsed().as_secs_f64(),
        "Recovered state from the store."
    );
    Ok(analyze)
}

/// Start-up of an analyze process over Kafka: re-tracks the judged observations of the recent
/// window from the shared store, in the order they were stored, without publishing anything (the
/// alert stage has seen those snapshots), so the event tracker holds the open events again. With
/// one analyze process this restores its state exactly (the same events, with the same ids, as a
/// replay of the input); with several, each rebuilds every process's recent events, which still
/// lets an incident continue in its event when its partition moves to another process.
async fn rebuild_events(
    cfg: &PipelineConfig,
    store: &Store,
    clock: SharedClock,
) -> anyhow::Result<AnalyzeCore> {
    let mut analyze = AnalyzeCore::new(core::analyzer(cfg)?, &cfg.events);
    let window = chrono::Duration::from_std(cfg.events.quiet_after)
        .unwrap_or(chrono::Duration::days(2))
        + chrono::Duration::days(1);
    let from = store.first_seq_since(clock.now_cst() - window).await?;
    if from == i64::MAX {
        return Ok(analyze);
    }
    let started = std::time::Instant::now();
    let mut seq = from.saturating_sub(1);
    let mut n = 0usize;
    loop {
        let batch = store
            .judged_after(seq, 5000)
            .await
            .context("reading judgments to rebuild the open events")?;
        let Some((last, _)) = batch.last() else {
            break;
        };
        seq = *last;
        let mut judged: Vec<_> = batch.into_iter().map(|(_, j)| j).collect();
        n += judged.len();
        analyze.track(&mut judged);
    }
    analyze.report_phases();
    info!(
        items = n,
        open_events = analyze.open_events(),
        seconds = started.elapsed().as_secs_f64(),
        "Rebuilt the open events from the store."
    );
    Ok(analyze)
}

/// A file sink that was written before a crash may hold alerts the outbox still lists as
/// pending; mark those delivered so a restart does not write them twice.
async fn reconcile_file_sinks(cfg: &PipelineConfig, store: &Store) {
    for s in &cfg.sinks {
        let yuqing_sinks::SinkConfig::File(f) = s else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&f.path) else {
            continue;
        };
        let mut n = 0;
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let Some(id) = v.get("alert_id").and_then(|v| v.as_str()) else {
                continue;
            };
            if let Ok(Some(yuqing_store::DeliveryStatus::Pending)) =
                store.delivery_status(id, s.id()).await
            {
                let _ = store
                    .mark_delivery(id, s.id(), yuqing_store::DeliveryStatus::Delivered, None)
                    .await;
                n += 1;
            }
        }
        if n > 0 {
            info!(
                sink = s.id(),
                alerts = n,
                "Reconciled alerts already in the file."
            );
        }
    }
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((head, tail)) if head.contains("://") => {
            let scheme = head.split("://").next().unwrap_or("");
            format!("{scheme}://…@{tail}")
        }
        _ => url.to_string(),
    }
}

/// A random 32-bit number (from the std hasher's random keys; no RNG dependency needed).
fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish() as u32
}
