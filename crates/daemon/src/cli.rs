//! The command line (clap). `main.rs` of the `yuqing` binary only calls [`main`].
//!
//! Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};
use yuqing_core::{Alert, Grade};

use crate::batch;
use crate::config::{ConfigError, PipelineConfig};
use crate::run::{self, RunOptions, StageSet};

/// yuqing (舆情): watch public opinion online, judge it, and warn the duty room in time.
#[derive(Debug, Parser)]
#[command(name = "yuqing", version, about, long_about = None)]
pub struct Cli {
    /// Log format on standard error.
    #[arg(
        long,
        value_enum,
        default_value = "text",
        env = "YUQING_LOG_FORMAT",
        global = true
    )]
    pub log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax; RUST_LOG also works).
    #[arg(long, default_value = "info", env = "YUQING_LOG", global = true)]
    pub log: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: every stage in one process. With no arguments, the bundled demo pipeline.
    Run(RunArgs),
    /// Run the collect stage (over Kafka), or in batch mode normalise an item file.
    Collect(StageArgs),
    /// Run the analyze stage (over Kafka), or in batch mode judge an item file.
    Analyze(AnalyzeArgs),
    /// Run the alert stage (over Kafka), or in batch mode grade an event file.
    Alert(StageArgs),
    /// Run the whole pipeline over an item file in event-time order on a simulated clock.
    Replay(ReplayArgs),
    /// Follow the alerts as they fire.
    Tail(TailArgs),
    /// Check pipeline files and the rule files, resources, models and sinks they point to; every
    /// problem is reported with its file and key path (exit 2 on any).
    Validate(ValidateArgs),
    /// Fit a category or sentiment model on labelled items (items with `label`).
    Train(TrainArgs),
    /// The case workflow: list, show, accept, assign, feedback, respond, close.
    Case(CaseCli),
    /// Reports: 舆情日志 (daily), 舆情专报 (event ID), 定期通报 (bulletin), 总结报告 (summary ID).
    Report(ReportCli),
}

/// `yuqing report`.
#[derive(Debug, Args)]
pub struct ReportCli {
    /// The pipeline (to find the store and the `[cases]` settings).
    #[arg(long, short, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory of an embedded daemon.
    #[arg(
        long,
        default_value = "yuqing-data",
        env = "YUQING_DATA_DIR",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Store URL.
    #[arg(long, env = "YUQING_STORE", global = true)]
    pub store: Option<String>,
    /// The report.
    #[command(flatten)]
    pub args: yuqing_report::ReportArgs,
}

/// `yuqing case`.
#[derive(Debug, Args)]
pub struct CaseCli {
    /// The pipeline (to find the store).
    #[arg(long, short, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory of an embedded daemon.
    #[arg(
        long,
        default_value = "yuqing-data",
        env = "YUQING_DATA_DIR",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Store URL.
    #[arg(long, env = "YUQING_STORE", global = true)]
    pub store: Option<String>,
    /// The action.
    #[command(flatten)]
    pub args: yuqing_cases::CaseArgs,
}

/// Flags of the daemon.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Data directory (embedded store, alert file).
    #[arg(long, default_value = "yuqing-data", env = "YUQING_DATA_DIR")]
    pub data_dir: PathBuf,
    /// HTTP listen address for /metrics, /healthz, /readyz, /ingest and the API.
    #[arg(long, default_value = "127.0.0.1:9464", env = "YUQING_LISTEN")]
    pub listen: SocketAddr,
    /// Store URL, overriding the pipeline's (`sqlite://PATH` or `postgres://…`).
    #[arg(long, env = "YUQING_STORE")]
    pub store: Option<String>,
    /// How long a graceful shutdown may take before the rest is abandoned (finished on the next
    /// start).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub graceful_shutdown_limit: Duration,
    /// Write the bound HTTP address to this file once listening.
    #[arg(long, hide = true)]
    pub addr_file: Option<PathBuf>,
}

/// `yuqing run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline; the bundled demo when absent.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Daemon flags.
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

/// A single stage: as a daemon over Kafka, or in batch mode with `--input`.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// The pipeline.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Batch mode: read JSON Lines from this file (`-` for standard input) and exit when done.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Batch mode: write JSON Lines here (`-` for standard output).
    #[arg(long, default_value = "-")]
    pub output: PathBuf,
    /// Collect stage only: poll every enabled source once, write what was found to `--output`,
    /// exit (1 when a source failed; what the others found is still written).
    #[arg(long)]
    pub once: bool,
    /// Daemon flags.
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

/// `yuqing analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The stage.
    #[command(flatten)]
    pub stage: StageArgs,
    /// Batch mode: also write the event snapshots here.
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// A model written by `yuqing train`: a category model takes the place of `[analyze] model`,
    /// a sentiment model that of `[analyze] sentiment_model`.
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// `yuqing replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Items (JSON Lines).
    #[arg(long)]
    pub input: PathBuf,
    /// Output directory for scored.jsonl, events.jsonl and alerts.jsonl.
    #[arg(long)]
    pub out: PathBuf,
    /// The pipeline (judgment, events and grading settings); the bundled defaults when absent.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

/// `yuqing tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// Only this grade (I, II, III, IV) and above.
    #[arg(long)]
    pub grade: Option<String>,
    /// Only alerts of this department (substring).
    #[arg(long)]
    pub department: Option<String>,
    /// Only alerts of this place (substring).
    #[arg(long)]
    pub region: Option<String>,
    /// Print alerts as JSON Lines.
    #[arg(long)]
    pub json: bool,
    /// Colour the grade tag (I red, II orange, III yellow, IV blue): `auto` on a terminal unless
    /// `NO_COLOR` is set.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Print the alerts already stored before following.
    #[arg(long)]
    pub from_start: bool,
    /// Stop after this many alerts (0: follow for ever).
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
    /// The pipeline (to find the store or the Kafka bus).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Data directory of an embedded daemon.
    #[arg(long, default_value = "yuqing-data", env = "YUQING_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Store URL.
    #[arg(long, env = "YUQING_STORE")]
    pub store: Option<String>,
}

/// `yuqing validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Pipeline files or directories of them.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// `yuqing train`.
#[derive(Debug, Args)]
#[command(
    after_help = "Labels: for --kind category, the first-level names of the taxonomy \
(城乡建设, 环境保护, …); for --kind sentiment, negative / neutral / positive, or negative / \
non_negative.\nUse a category model with `analyze --model MODEL` or `[analyze] model`, a sentiment \
model with `analyze --model MODEL` or `[analyze] sentiment_model`."
)]
pub struct TrainArgs {
    /// Labelled items (JSON Lines with `label`).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the model.
    #[arg(long)]
    pub out: PathBuf,
    /// What the model predicts: `category` (labels are first-level category names) or
    /// `sentiment` (labels `negative`, `neutral`, `positive`, or `negative` / `non_negative`).
    #[arg(long, value_enum, default_value = "category")]
    pub kind: TrainKind,
    /// The pipeline whose `[analyze]` resources (lexicons, taxonomy) give the features and the
    /// category names; the bundled ones when absent.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

/// What `yuqing train` fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrainKind {
    /// The first-level category of the government message taxonomy.
    Category,
    /// Sentiment.
    Sentiment,
}

/// When `yuqing tail` colours alerts by grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always (ANSI escapes even into a pipe).
    Always,
    /// Never.
    Never,
}

/// A failure that maps to exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn init_logs(cli: &Cli) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match cli.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Parses the command line and runs; the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(&cli);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("yuqing: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            let usage = e
                .chain()
                .any(|c| c.is::<ConfigError>() || c.is::<UsageError>());
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("yuqing: {e:#}");
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

fn load(config: Option<&Path>) -> anyhow::Result<PipelineConfig> {
    Ok(PipelineConfig::load(config)?)
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(a) => {
            let cfg = load(a.config.as_deref())?;
            let keep = cfg.clone();
            daemon(cfg, &a.daemon, StageSet::ALL)
                .await
                .map_err(|e| explain(&keep, e))
        }
        Command::Collect(a) => {
            let cfg = load(a.config.as_deref())?;
            if let Some(input) = &a.input {
                let n = crate::collect_batch::normalise(&cfg, input, &a.output)?;
                info!(
                    read = n.read,
                    written = n.written,
                    rejected = n.rejected,
                    "Collect batch done."
                );
                Ok(ExitCode::SUCCESS)
            } else if a.once {
                let n = crate::collect_batch::poll_once(&cfg, &a.output).await?;
                info!(written = n.written, "Polled every source once.");
                Ok(ExitCode::SUCCESS)
            } else {
                let keep = cfg.clone();
                daemon(
                    cfg,
                    &a.daemon,
                    StageSet {
                        collect: true,
                        analyze: false,
                        alert: false,
                    },
                )
                .await
                .map_err(|e| explain(&keep, e))
            }
        }
        Command::Analyze(a) => {
            let mut cfg = load(a.stage.config.as_deref())?;
            if let Some(m) = &a.model {
                let path = std::path::absolute(m)?;
                let model = yuqing_analyze::Model::load(&path)
                    .map_err(|e| UsageError(format!("--model: {e}")))?;
                match model.meta().kind {
                    yuqing_analyze::ModelKind::Category => cfg.analyze.model = Some(path),
                    yuqing_analyze::ModelKind::Sentiment => {
                        cfg.analyze.sentiment_model = Some(path);
                    }
                }
            }
            if let Some(input) = &a.stage.input {
                let s = batch::analyze(&cfg, input, &a.stage.output, a.events.as_deref())
                    .map_err(|e| explain(&cfg, e))?;
                info!(
                    read = s.read,
                    written = s.written,
                    rejected = s.rejected,
                    "Analyze batch done."
                );
                Ok(ExitCode::SUCCESS)
            } else {
                let keep = cfg.clone();
                daemon(
                    cfg,
                    &a.stage.daemon,
                    StageSet {
                        collect: false,
                        analyze: true,
                        alert: false,
                    },
                )
                .await
                .map_err(|e| explain(&keep, e))
            }
        }
        Command::Alert(a) => {
            let cfg = load(a.config.as_deref())?;
            if let Some(input) = &a.input {
                let s = batch::alert(&cfg, input, &a.output).map_err(|e| explain(&cfg, e))?;
                info!(
                    read = s.read,
                    written = s.written,
                    rejected = s.rejected,
                    "Alert batch done."
                );
                Ok(ExitCode::SUCCESS)
            } else {
                let keep = cfg.clone();
                daemon(
                    cfg,
                    &a.daemon,
                    StageSet {
                        collect: false,
                        analyze: false,
                        alert: true,
                    },
                )
                .await
                .map_err(|e| explain(&keep, e))
            }
        }
        Command::Replay(a) => {
            let cfg = load(a.config.as_deref())?;
            let (s, out) = batch::replay(&cfg, &a.input, &a.out).map_err(|e| explain(&cfg, e))?;
            info!(
                read = s.read, rejected = s.rejected, scored = out.scored.len(), alerts = out.alerts.len(),
                out = %a.out.display(), "Replay done."
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Tail(a) => tail(a).await,
        Command::Report(r) => {
            let cfg = match &r.config {
                Some(p) => Some(load(Some(p))?),
                None => None,
            };
            let url = store_url(r.store.clone(), cfg.as_ref(), &r.data_dir);
            let store = yuqing_store::Store::open(&url)
                .await
                .with_context(|| format!("opening {url}"))?;
            let clock: yuqing_core::SharedClock = std::sync::Arc::new(yuqing_core::SystemClock);
            let cases = yuqing_cases::Cases::with_clock(store.clone(), clock)
                .await?
                .configure(
                    &cfg.as_ref().map(|c| c.cases.clone()).unwrap_or_default(),
                    &[],
                );
            let mut out = std::io::stdout().lock();
            match yuqing_report::run_cli_with(r.args, &store, &cases, &mut out).await {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) if e.is_usage() => Err(UsageError(e.to_string()).into()),
                Err(e) => Err(e.into()),
            }
        }
        Command::Case(c) => {
            let cfg = match &c.config {
                Some(p) => Some(load(Some(p))?),
                None => None,
            };
            let url = store_url(c.store.clone(), cfg.as_ref(), &c.data_dir);
            let store = yuqing_store::Store::open(&url)
                .await
                .with_context(|| format!("opening {url}"))?;
            let mut out = std::io::stdout().lock();
            match yuqing_cases::run_cli(
                c.args,
                store,
                std::sync::Arc::new(yuqing_core::SystemClock),
                &mut out,
            )
            .await
            {
                Ok(()) => Ok(ExitCode::SUCCESS),
                // A request the workflow refuses (unknown case, illegal step, bad value) is a
                // usage error; a failing database is a runtime failure.
                Err(e)
                    if matches!(
                        e.kind(),
                        "not_found" | "illegal_transition" | "forbidden" | "invalid" | "conflict"
                    ) =>
                {
                    Err(UsageError(e.to_string()).into())
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Validate(a) => validate(&a.files),
        Command::Train(a) => train(&a),
    }
}

/// `yuqing train`: labels are checked against what the model kind allows before fitting; a file
/// that cannot train a model is a usage error (exit 2), failing to write the model a runtime one.
fn train(a: &TrainArgs) -> anyhow::Result<ExitCode> {
    let cfg = load(a.config.as_deref())?;
    // The analyzer that judges with the model supplies the features; its own models are not
    // needed to train a new one (and may not exist yet).
    let analyze = yuqing_analyze::AnalyzeConfig {
        model: None,
        sentiment_model: None,
        ..cfg.analyze.clone()
    };
    let analyzer = yuqing_analyze::Analyzer::load(&analyze, &cfg.base_dir).map_err(|e| {
        ConfigError::Invalid {
            file: cfg.source_name.clone(),
            problems: cfg.analyze_problems(&e),
        }
    })?;
    let items = batch::read_items(&a.input)?;
    let labelled: Vec<_> = items
        .into_iter()
        .filter(|i| i.label.as_deref().is_some_and(|l| !l.trim().is_empty()))
        .collect();
    if labelled.is_empty() {
        return Err(UsageError(format!(
            "{}: no item carries a `label` (train needs labelled items)",
            a.input.display()
        ))
        .into());
    }
    let (kind, allowed): (_, Vec<&str>) = match a.kind {
        TrainKind::Category => (
            yuqing_analyze::ModelKind::Category,
            analyzer.categories().collect(),
        ),
        TrainKind::Sentiment => (
            yuqing_analyze::ModelKind::Sentiment,
            vec!["negative", "neutral", "positive", "non_negative"],
        ),
    };
    let mut unknown: Vec<(&str, usize)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for item in &labelled {
        let label = item.label.as_deref().unwrap_or_default().trim();
        if !allowed.contains(&label) {
            match unknown.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => unknown.push((label, 1)),
            }
        } else if !seen.contains(&label) {
            seen.push(label);
        }
    }
    if !unknown.is_empty() {
        let list: Vec<String> = unknown
            .iter()
            .map(|(l, n)| format!("`{l}` ({n} item{})", if *n == 1 { "" } else { "s" }))
            .collect();
        return Err(UsageError(format!(
            "{}: unknown {} label(s) {}; the labels are: {}",
            a.input.display(),
            match a.kind {
                TrainKind::Category => "category",
                TrainKind::Sentiment => "sentiment",
            },
            list.join(", "),
            allowed.join(", ")
        ))
        .into());
    }
    if seen.contains(&"non_negative") && seen.iter().any(|l| *l == "neutral" || *l == "positive") {
        return Err(UsageError(format!(
            "{}: use either negative / neutral / positive or negative / non_negative, not both",
            a.input.display()
        ))
        .into());
    }
    let opts = yuqing_analyze::TrainOptions {
        kind,
        ..yuqing_analyze::TrainOptions::default()
    };
    let model = match analyzer.train(&labelled, &opts) {
        Ok(m) => m,
        Err(e @ yuqing_analyze::AnalyzeError::Training(_)) => {
            return Err(UsageError(format!("{}: {e}", a.input.display())).into())
        }
        Err(e) => return Err(e.into()),
    };
    model
        .save(&a.out)
        .with_context(|| format!("writing the model to {}", a.out.display()))?;
    info!(
        items = labelled.len(), kind = ?kind, classes = ?model.classes(), out = %a.out.display(),
        "Model written."
    );
    Ok(ExitCode::SUCCESS)
}

/// Errors of building the analyzer or the grader are configuration errors (exit 2): reported
/// with the pipeline key, the file and the key path inside it, as `yuqing validate` does.
fn explain(cfg: &PipelineConfig, e: anyhow::Error) -> anyhow::Error {
    for c in e.chain() {
        let problems = if let Some(a) = c.downcast_ref::<yuqing_analyze::AnalyzeError>() {
            cfg.analyze_problems(a)
        } else if let Some(a) = c.downcast_ref::<yuqing_alert::AlertError>() {
            cfg.alert_problems(a)
        } else {
            continue;
        };
        return ConfigError::Invalid {
            file: cfg.source_name.clone(),
            problems,
        }
        .into();
    }
    e
}

async fn daemon(cfg: PipelineConfig, d: &DaemonArgs, stages: StageSet) -> anyhow::Result<ExitCode> {
    let opts = RunOptions {
        data_dir: d.data_dir.clone(),
        listen: d.listen,
        store: d.store.clone(),
        graceful_limit: d.graceful_shutdown_limit,
        stages,
        addr_file: d.addr_file.clone(),
    };
    let shutdown = CancellationToken::new();
    let running = run::start(cfg, opts, shutdown.clone()).await?;
    if let Some(demo) = &running.demo {
        eprintln!(
            "yuqing: demo world at {demo}/ · metrics at http://{}/metrics · Ctrl-C stops",
            running.addr
        );
    }
    let signals = tokio::spawn(async move {
        wait_for_signal().await;
        shutdown.cancel();
        wait_for_signal().await;
        error!("Second signal: exiting immediately.");
        std::process::exit(1);
    });
    let r = running.done.await.context("daemon task")?;
    signals.abort();
    r?;
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn validate(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut paths = Vec::new();
    for f in files {
        if f.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(f)
                .with_context(|| format!("reading {}", f.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            entries.sort();
            paths.extend(entries);
        } else {
            paths.push(f.clone());
        }
    }
    let mut bad = 0;
    let mut out = std::io::stdout().lock();
    for p in &paths {
        // The pipeline file, then what its rule files, resources, models and sinks build into.
        match PipelineConfig::load(Some(p)).and_then(|cfg| cfg.check_components()) {
            Ok(warnings) => {
                for w in warnings.list() {
                    writeln!(out, "warning: {}: {w}", p.display())?;
                }
                writeln!(out, "ok: {}", p.display())?;
            }
            Err(e) => {
                bad += 1;
                writeln!(out, "error: {e}")?;
            }
        }
    }
    Ok(if bad > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The store a command reads: `--store`, else the pipeline's, else the data directory's SQLite.
fn store_url(flag: Option<String>, cfg: Option<&PipelineConfig>, data_dir: &Path) -> String {
    flag.or(cfg.and_then(|c| c.store.url.clone()))
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("yuqing.db").display()))
}

/// ANSI colour of a grade: I red, II orange, III yellow, IV blue.
fn colour(g: Grade) -> &'static str {
    match g {
        Grade::I => "\x1b[1;97;41m",
        Grade::II => "\x1b[1;30;48;5;208m",
        Grade::III => "\x1b[1;30;43m",
        Grade::IV => "\x1b[1;97;44m",
    }
}

/// One alert as a duty officer reads it on a terminal.
pub fn format_alert(a: &Alert, colours: bool) -> String {
    let at =
        a.at.with_timezone(&yuqing_core::clock::cst())
            .format("%m-%d %H:%M");
    let tag = format!(
        " {} {} {} ",
        a.grade.as_str(),
        a.grade.colour(),
        a.kind.label()
    );
    let tag = if colours {
        format!("{}{tag}\x1b[0m", colour(a.grade))
    } else {
        format!("[{}]", tag.trim())
    };
    let mut line = format!("{at} {tag} {} ·{}", a.title, a.stage.label());
    if let Some(d) = &a.department {
        line.push_str(&format!(" · 责任单位 {d}"));
    }
    if let Some(r) = &a.region {
        line.push_str(&format!(" · 属地 {r}"));
    }
    if let Some(d) = a.deadlines.first() {
        let due = d
            .due
            .with_timezone(&yuqing_core::clock::cst())
            .format("%m-%d %H:%M");
        line.push_str(&format!(" · {}截止 {due}", d.label));
    }
    line
}

struct TailFilter {
    grade: Option<Grade>,
    department: Option<String>,
    region: Option<String>,
}

impl TailFilter {
    fn keep(&self, a: &Alert) -> bool {
        self.grade.is_none_or(|g| a.grade >= g)
            && self
                .department
                .as_deref()
                .is_none_or(|d| a.department.as_deref().is_some_and(|x| x.contains(d)))
            && self
                .region
                .as_deref()
                .is_none_or(|r| a.region.as_deref().is_some_and(|x| x.contains(r)))
    }
}

async fn tail(a: TailArgs) -> anyhow::Result<ExitCode> {
    let grade = match &a.grade {
        Some(g) => Some(
            Grade::parse(&g.trim().to_ascii_uppercase())
                .ok_or_else(|| UsageError(format!("--grade {g}: use I, II, III or IV")))?,
        ),
        None => None,
    };
    let filter = TailFilter {
        grade,
        department: a.department.clone(),
        region: a.region.clone(),
    };
    let cfg = match &a.config {
        Some(c) => Some(load(Some(c))?),
        None => None,
    };
    let colours = !a.json
        && match a.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::IsTerminal::is_terminal(&std::io::stdout())
            }
        };
    let mut printed = 0usize;
    let mut emit = |alert: &Alert| -> anyhow::Result<bool> {
        if !filter.keep(alert) {
            return Ok(false);
        }
        let mut out = std::io::stdout().lock();
        if a.json {
            out.write_all(&alert.to_json())?;
            out.write_all(b"\n")?;
        } else {
            writeln!(out, "{}", format_alert(alert, colours))?;
        }
        out.flush()?;
        printed += 1;
        Ok(a.limit > 0 && printed >= a.limit)
    };
    if let Some(cfg) = cfg
        .as_ref()
        .filter(|c| c.bus.kind == yuqing_bus::BusKind::Kafka)
    {
        let mut bus_cfg = cfg.bus.clone();
        bus_cfg.kafka.create_topics = false;
        bus_cfg.kafka.options.insert(
            "auto.offset.reset".into(),
            if a.from_start { "earliest" } else { "latest" }.into(),
        );
        let bus = yuqing_bus::Bus::connect(&bus_cfg).await?;
        let group = format!("tail-{}", std::process::id());
        let mut c = bus.consumer(yuqing_bus::Topic::Alerts, &group).await?;
        while let Some(m) = c.recv().await {
            let m = m?;
            match Alert::from_json(m.payload()) {
                Ok(alert) => {
                    if emit(&alert)? {
                        break;
                    }
                }
                Err(e) => warn!(error = %e, "Skipped a bad alert record."),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let url = store_url(a.store.clone(), cfg.as_ref(), &a.data_dir);
    let store = yuqing_store::Store::open(&url)
        .await
        .with_context(|| format!("opening {url}"))?;
    let mut seq = if a.from_start {
        0
    } else {
        store.last_alert_seq().await?
    };
    loop {
        let batch = store.alerts_after(seq, 500).await?;
        for s in &batch {
            seq = s.seq;
            if emit(&s.alert)? {
                return Ok(ExitCode::SUCCESS);
            }
        }
        if batch.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
            }
        }
    }
}
