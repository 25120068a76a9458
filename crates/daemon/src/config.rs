//! The pipeline configuration: one TOML file in `pipelines/`.
//!
//! Loading is two-phase (ripgrep's low/high args): serde parses the TOML — unknown keys are
//! errors, reported with their key path — then [`PipelineConfig::validate`] checks every section
//! and reports *all* problems with their key paths. Environment variables
//! `YUQING__SECTION__KEY=value` override keys (`YUQING__BUS__KIND=kafka`,
//! `YUQING__BUS__KAFKA__BOOTSTRAP=10.0.0.5:9092`); values parse as TOML where they can (numbers,
//! booleans) and as strings otherwise.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;
use yuqing_alert::{AlertConfig, AlertError, GradingConfig, RoutingConfig};
use yuqing_analyze::{AnalyzeConfig, AnalyzeError, ModelKind};
use yuqing_bus::BusConfig;
use yuqing_collect::{CollectConfig, CollectSettings, SourceConfig};
use yuqing_core::Problems;
use yuqing_events::EventsConfig;
use yuqing_sinks::SinkConfig;

/// The demo pipeline bundled in the binary: what `yuqing run` runs with no arguments.
pub const DEMO_PIPELINE: &str = include_str!("../../../pipelines/demo.toml");

/// A configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Parsing or validation found problems; each names its key path.
    #[error("{file}: {} problem(s):\n{problems}", problems.list().len())]
    Invalid {
        /// The file (or `<bundled demo>`).
        file: String,
        /// Every problem found.
        problems: Problems,
    },
}

/// `[store]`: where state lives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://PATH` (default: `yuqing.db` in the data directory) or `postgres://…` (shared by
    /// several processes or machines).
    #[serde(default)]
    pub url: Option<String>,
}

/// `[clock]`: the time the pipeline lives in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClockConfig {
    /// Simulated seconds per real second. 1 is real time (production); the demo uses 60, so one
    /// simulated hour passes per real minute and the 2h/6h/24h curve plays out in 24 minutes.
    pub speed: f64,
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig { speed: 1.0 }
    }
}

/// `[demo]`: the bundled demo world.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// Serve the demo world on a loopback port and substitute `{demo}` in source URLs with its
    /// base URL (`http://127.0.0.1:PORT`).
    pub enabled: bool,
    /// Loopback port of the demo world (0 picks a free one).
    pub port: u16,
}

/// `[api]`: the daemon's HTTP endpoints.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Bearer tokens accepted by `POST /ingest`. Empty disables push ingestion.
    pub ingest_tokens: Vec<String>,
    /// Source id given to pushed items that carry none.
    pub ingest_source: Option<String>,
    /// Users of the case API and the console: tokens, roles and departments.
    pub users: Vec<yuqing_cases::UserConfig>,
}

/// `[privacy]`: ethics by design.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Replace every author id by a salted hash at ingestion (collectors and `/ingest`).
    pub hash_authors: bool,
    /// The salt of the hash; keep it secret and stable.
    pub salt: String,
}

/// A whole pipeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// A name for logs and metrics.
    #[serde(default = "default_name")]
    pub name: String,
    /// Where the embedded store, the alert log and dropped files live (default `./yuqing-data`,
    /// or `--data-dir`).
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// How stages talk: in-process channels (default) or Kafka.
    #[serde(default)]
    pub bus: BusConfig,
    /// Where state lives.
    #[serde(default)]
    pub store: StoreConfig,
    /// The clock.
    #[serde(default)]
    pub clock: ClockConfig,
    /// The demo world.
    #[serde(default)]
    pub demo: DemoConfig,
    /// Collection settings shared by every source.
    #[serde(default)]
    pub collect: CollectSettings,
    /// The watched sources.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Judgment.
    #[serde(default)]
    pub analyze: AnalyzeConfig,
    /// Events and spread.
    #[serde(default)]
    pub events: EventsConfig,
    /// Grading, deadlines and routing.
    #[serde(default)]
    pub alert: AlertConfig,
    /// Where alerts go (the alert topic and the store always get them).
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    /// The case workflow.
    #[serde(default)]
    pub cases: yuqing_cases::CasesConfig,
    /// Scheduled reports (舆情日志, 定期通报, 总结报告) written into the data directory.
    #[serde(default)]
    pub reports: yuqing_report::ReportSchedule,
    /// The web console at `/console/`.
    #[serde(default)]
    pub console: yuqing_console::ConsoleConfig,
    /// The HTTP API.
    #[serde(default)]
    pub api: ApiConfig,
    /// Author hashing.
    #[serde(default)]
    pub privacy: PrivacyConfig,
    /// The directory relative paths are resolved against (the config file's directory).
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The TOML text it was loaded from (to re-load with the demo world's address).
    #[serde(skip)]
    pub source_text: String,
    /// Where it was loaded from.
    #[serde(skip)]
    pub source_name: String,
}

/// What `{demo}` stands for until the demo world has a port.
pub const DEMO_PLACEHOLDER: &str = "http://demo.invalid";

fn default_name() -> String {
    "yuqing".into()
}

impl PipelineConfig {
    /// Loads and validates a file (`None`: the bundled demo pipeline).
    pub fn load(path: Option<&Path>) -> Result<PipelineConfig, ConfigError> {
        let (text, file, base) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Io {
                    path: p.to_path_buf(),
                    source,
                })?;
                let base = p.parent().map(Path::to_path_buf).unwrap_or_default();
                (text, p.display().to_string(), base)
            }
            None => (
                DEMO_PIPELINE.to_string(),
                "<bundled demo pipeline>".into(),
                PathBuf::from("."),
            ),
        };
        Self::from_toml(&text, &file, base, std::env::vars())
    }

    /// Parses and validates TOML text with the given environment overrides.
    pub fn from_toml(
        text: &str,
        file: &str,
        base_dir: PathBuf,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<PipelineConfig, ConfigError> {
        let invalid = |problems: Problems| ConfigError::Invalid {
            file: file.to_string(),
            problems,
        };
        let source_text = text.to_string();
        let substituted = text.replace("{demo}", DEMO_PLACEHOLDER);
        let text = substituted.as_str();
        let mut value: toml::Value = toml::from_str(text).map_err(|e| {
            let mut p = Problems::new();
            p.push("", syntax_message(text, &e));
            invalid(p)
        })?;
        let mut problems = Problems::new();
        apply_env(&mut value, env, &mut problems);
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        let mut cfg: PipelineConfig = serde_path_to_error::deserialize(value).map_err(|e| {
            let mut p = Problems::new();
            p.push(tidy_path(&e.path().to_string()), e.inner().to_string());
            invalid(p)
        })?;
        cfg.base_dir = base_dir;
        cfg.source_text = source_text;
        cfg.source_name = file.to_string();
        let problems = cfg.validate();
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        Ok(cfg)
    }

    /// Every semantic problem, with its key path.
    pub fn validate(&self) -> Problems {
        let mut p = Problems::new();
        if self.name.trim().is_empty() {
            p.push("name", "must not be empty");
        }
        self.bus.validate("bus", &mut p);
        if let Some(url) = &self.store.url {
            if !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
            {
                p.push("store.url", "must start with sqlite: or postgres://");
            }
        }
        if !(self.clock.speed.is_finite() && self.clock.speed > 0.0 && self.clock.speed <= 10_000.0)
        {
            p.push("clock.speed", "must be a number in (0, 10000]");
        }
        self.collect_config().validate("", &mut p);
        self.analyze.validate("analyze", &mut p);
        self.events.validate("events", &mut p);
        self.alert.validate("alert", &mut p);
        yuqing_sinks::validate_sinks(&self.sinks, "sinks", &mut p);
        for (i, t) in self.api.ingest_tokens.iter().enumerate() {
            if t.len() < 16 {
                p.push(
                    format!("api.ingest_tokens[{i}]"),
                    "must be at least 16 characters",
                );
            }
        }
        yuqing_cases::validate_users(&self.api.users, "api.users", &mut p);
        self.cases.validate("cases", &mut p);
        self.reports.validate("reports", &mut p);
        self.console.validate("console", &mut p);
        if self.privacy.hash_authors && self.privacy.salt.len() < 8 {
            p.push(
                "privacy.salt",
                "must be at least 8 characters when hash_authors is on",
            );
        }
        p
    }

    /// The collection part as the collect crate takes it.
    pub fn collect_config(&self) -> CollectConfig {
        CollectConfig {
            collect: self.collect.clone(),
            sources: self.sources.clone(),
        }
    }

    /// The same pipeline with `{demo}` standing for `base` (the demo world's address).
    pub fn with_demo(&self, base: &str) -> Result<PipelineConfig, ConfigError> {
        let text = self.source_text.replace("{demo}", base);
        let mut cfg = Self::from_toml(
            &text,
            &self.source_name,
            self.base_dir.clone(),
            std::env::vars(),
        )?;
        cfg.source_text = self.source_text.clone();
        Ok(cfg)
    }

    /// Resolves a path from the config against its directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }
}

/// Where the bundled grading and routing rules are said to come from (as the alert crate names
/// them).
const BUNDLED_GRADING: &str = "bundled:pipelines/alert/grading.toml";
const BUNDLED_ROUTING: &str = "bundled:pipelines/alert/routing.toml";

impl PipelineConfig {
    /// Builds what the files the pipeline points to make — the analyzer (`[analyze]` resources and
    /// models), the grader (`[alert]` grading and routing rules) and the sinks' channels — without
    /// starting anything, and reports every problem with the pipeline key, the file and the key
    /// path (or line) inside it. `Ok` carries warnings: routing receivers whose sinks are not in
    /// `[[sinks]]`.
    pub fn check_components(&self) -> Result<Problems, ConfigError> {
        let mut problems = Problems::new();
        let mut warnings = Problems::new();
        // The resources, then each model on its own, so that one problem does not hide another.
        let resources = AnalyzeConfig {
            model: None,
            sentiment_model: None,
            ..self.analyze.clone()
        };
        if let Err(e) = yuqing_analyze::Analyzer::load(&resources, &self.base_dir) {
            problems.extend(self.analyze_problems(&e));
        }
        for (key, file, kind) in [
            ("model", &self.analyze.model, ModelKind::Category),
            (
                "sentiment_model",
                &self.analyze.sentiment_model,
                ModelKind::Sentiment,
            ),
        ] {
            let Some(file) = file else { continue };
            let path = self.resolve(file);
            match yuqing_analyze::Model::load(&path) {
                Ok(m) if m.meta().kind != kind => problems.push(
                    format!("analyze.{key} ({})", path.display()),
                    format!(
                        "is a {} model; `{key}` takes a {} model",
                        kind_name(m.meta().kind),
                        kind_name(kind)
                    ),
                ),
                Ok(_) => {}
                Err(e) => problems.extend(self.analyze_problems(&e)),
            }
        }
        // Each rules file on its own first, so that a broken grading file does not hide the
        // problems of the routing table; then the grader, which checks them together.
        let mut rules = Problems::new();
        let mut invalid = Problems::new();
        self.check_rule_file::<GradingConfig>("grading", &mut rules, &mut invalid, |c, p| {
            c.validate("alert.grading", p)
        });
        self.check_rule_file::<RoutingConfig>("routing", &mut rules, &mut invalid, |c, p| {
            c.validate("alert.routing", p)
        });
        if !invalid.is_empty() {
            rules.extend(self.alert_problems(&AlertError::Invalid(invalid)));
        }
        if rules.is_empty() {
            match yuqing_alert::Grader::new(&self.alert, &self.base_dir) {
                Ok(g) => self.unconfigured_sinks(g.router().config(), &mut warnings),
                Err(e) => problems.extend(self.alert_problems(&e)),
            }
        } else {
            problems.extend(rules);
        }
        let clock: yuqing_core::SharedClock = std::sync::Arc::new(yuqing_core::SystemClock);
        match yuqing_sinks::channel::BuildContext::new(clock) {
            Ok(cx) => {
                for (i, s) in self.sinks.iter().enumerate() {
                    match yuqing_sinks::channel::Channel::build(s, &cx) {
                        Ok(_) => {}
                        Err(yuqing_sinks::BuildError::Config(p)) => {
                            for q in p.into_vec() {
                                problems.push(
                                    yuqing_core::problem::join(&format!("sinks[{i}]"), &q.path),
                                    q.message,
                                );
                            }
                        }
                        Err(e) => problems.push(format!("sinks[{i}]"), e.to_string()),
                    }
                }
            }
            Err(e) => problems.push("sinks", e.to_string()),
        }
        if problems.is_empty() {
            Ok(warnings)
        } else {
            Err(ConfigError::Invalid {
                file: self.source_name.clone(),
                problems,
            })
        }
    }

    /// Reads, parses and validates one rules file of `[alert]` (`key`: `grading` or `routing`);
    /// the bundled files are known to be good. Read and parse errors go to `problems` (naming the
    /// file), semantic ones to `invalid` (with the alert crate's key paths).
    fn check_rule_file<T: DeserializeOwned>(
        &self,
        key: &str,
        problems: &mut Problems,
        invalid: &mut Problems,
        validate: impl FnOnce(&T, &mut Problems),
    ) {
        let file = match key {
            "grading" => &self.alert.grading,
            _ => &self.alert.routing,
        };
        let Some(file) = file else { return };
        let path = self.resolve(file);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(source) => {
                problems.extend(self.alert_problems(&AlertError::Io { path, source }));
                return;
            }
        };
        match parse_rules::<T>(&text) {
            Ok(cfg) => validate(&cfg, invalid),
            Err((inner, msg)) => problems.push(
                rule_path(&format!("alert.{key}"), &path.display().to_string(), &inner),
                msg,
            ),
        }
    }

    /// The file a rules key of `[alert]` stands for (`grading` or `routing`).
    fn alert_file(&self, key: &str) -> String {
        let (file, bundled) = match key {
            "grading" => (&self.alert.grading, BUNDLED_GRADING),
            _ => (&self.alert.routing, BUNDLED_ROUTING),
        };
        match file {
            Some(f) => self.resolve(f).display().to_string(),
            None => bundled.to_string(),
        }
    }

    /// An error of building the grader, as problems naming the pipeline key, the rules file and
    /// the key path inside it: `alert.routing (/etc/yuqing/routing.toml) receiver[0].name`.
    pub fn alert_problems(&self, e: &AlertError) -> Problems {
        let mut out = Problems::new();
        let key_of = |path: &str| {
            if path == self.alert_file("grading") {
                "grading"
            } else {
                "routing"
            }
        };
        match e {
            AlertError::Io { path, source } => {
                let p = path.display().to_string();
                out.push(
                    format!("alert.{} ({p})", key_of(&p)),
                    format!("cannot read: {source}"),
                );
            }
            AlertError::Parse { path, message } => {
                let key = key_of(path);
                // The alert crate's message gives the line; parse again to get the key path.
                let (inner, msg) = std::fs::read_to_string(path)
                    .ok()
                    .and_then(|text| match key {
                        "grading" => parse_rules::<GradingConfig>(&text).err(),
                        _ => parse_rules::<RoutingConfig>(&text).err(),
                    })
                    .unwrap_or_else(|| (String::new(), message.trim().to_string()));
                out.push(rule_path(&format!("alert.{key}"), path, &inner), msg);
            }
            AlertError::Invalid(problems) => {
                for p in problems.list() {
                    let mut mapped = None;
                    for key in ["grading", "routing"] {
                        let prefix = format!("alert.{key}");
                        if let Some(rest) = p.path.strip_prefix(&prefix) {
                            if rest.is_empty() || rest.starts_with(['.', '[']) {
                                let rest = rest.strip_prefix('.').unwrap_or(rest);
                                mapped = Some(rule_path(&prefix, &self.alert_file(key), rest));
                            }
                        }
                    }
                    out.push(mapped.unwrap_or_else(|| p.path.clone()), p.message.clone());
                }
            }
            other => out.push("alert", other.to_string()),
        }
        out
    }

    /// An error of building the analyzer, as problems naming the pipeline key and the file (with
    /// the line, where the error has one).
    pub fn analyze_problems(&self, e: &AnalyzeError) -> Problems {
        let mut out = Problems::new();
        let key_of = |path: &Path| {
            let is = |p: &Option<PathBuf>| p.as_ref().is_some_and(|p| self.resolve(p) == path);
            if is(&self.analyze.model) {
                "analyze.model"
            } else if is(&self.analyze.sentiment_model) {
                "analyze.sentiment_model"
            } else {
                "analyze.resources"
            }
        };
        match e {
            AnalyzeError::Io { path, source } => out.push(
                format!("{} ({})", key_of(path), path.display()),
                format!("cannot read: {source}"),
            ),
            AnalyzeError::Resource { path, message } | AnalyzeError::Model { path, message } => out
                .push(
                    format!("{} ({})", key_of(path), path.display()),
                    message.clone(),
                ),
            AnalyzeError::Syntax {
                path,
                line,
                message,
            } => out.push(
                format!("{} ({}) line {line}", key_of(path), path.display()),
                message.clone(),
            ),
            AnalyzeError::Config(p) => out.extend(p.clone()),
            other => out.push("analyze", other.to_string()),
        }
        out
    }

    /// Warns about routing receivers whose sinks are not among `[[sinks]]`: what is routed to them
    /// reaches no sink (their duty contacts only).
    fn unconfigured_sinks(&self, routing: &RoutingConfig, warnings: &mut Problems) {
        let configured: std::collections::HashSet<&str> =
            self.sinks.iter().map(|s| s.id()).collect();
        let file = self.alert_file("routing");
        let mut missing = Vec::new();
        for (i, r) in routing.receivers.iter().enumerate() {
            for (key, list) in [
                ("sinks", &r.sinks),
                ("escalation_sinks", &r.escalation_sinks),
            ] {
                for (j, id) in list.iter().enumerate() {
                    if !configured.contains(id.as_str()) {
                        missing.push((format!("receiver[{i}].{key}[{j}]"), r.name.clone(), id));
                    }
                }
            }
        }
        if missing.is_empty() {
            return;
        }
        if self.alert.routing.is_none() {
            // The bundled table's sink ids are placeholders: one line, not one per receiver.
            let mut ids: Vec<&str> = Vec::new();
            for (_, _, id) in &missing {
                if !ids.contains(&id.as_str()) {
                    ids.push(id);
                }
            }
            warnings.push(
                rule_path("alert.routing", &file, ""),
                format!(
                    "the bundled routing table's sinks ({}) are not in [[sinks]]; set `[alert] \
                     routing` to a table of your own",
                    ids.join(", ")
                ),
            );
            return;
        }
        for (at, receiver, id) in missing {
            warnings.push(
                rule_path("alert.routing", &file, &at),
                format!("sink `{id}` of receiver {receiver} is not in [[sinks]]"),
            );
        }
    }
}

fn kind_name(k: ModelKind) -> &'static str {
    match k {
        ModelKind::Category => "category",
        ModelKind::Sentiment => "sentiment",
    }
}

/// `alert.routing (FILE) receiver[0].name`: the pipeline key, the file, the key path inside it.
fn rule_path(key: &str, file: &str, inner: &str) -> String {
    if inner.is_empty() {
        format!("{key} ({file})")
    } else {
        format!("{key} ({file}) {inner}")
    }
}

/// A TOML syntax error with its line.
fn syntax_message(text: &str, e: &toml::de::Error) -> String {
    let msg = format!("not valid TOML: {}", e.message().trim());
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {msg}")
        }
        None => msg,
    }
}

/// Parses a rules file keeping the key path of the first error: `Err((path, message))`, the path
/// empty for a syntax error (whose message then names the line).
fn parse_rules<T: DeserializeOwned>(text: &str) -> Result<T, (String, String)> {
    let value: toml::Value =
        toml::from_str(text).map_err(|e| (String::new(), syntax_message(text, &e)))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        (
            tidy_path(&e.path().to_string()),
            e.inner().message().trim().to_string(),
        )
    })
}

/// `serde_path_to_error` writes `sources[2].interval` as `sources[2].interval` already, except the
/// root, which it writes as `.`.
fn tidy_path(p: &str) -> String {
    if p == "." {
        String::new()
    } else {
        p.to_string()
    }
}

/// Applies `YUQING__A__B=value` overrides to the TOML tree.
fn apply_env(
    root: &mut toml::Value,
    env: impl Iterator<Item = (String, String)>,
    problems: &mut Problems,
) {
    for (k, v) in env {
        let Some(rest) = k.strip_prefix("YUQING__") else {
            continue;
        };
        let keys: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
        if keys.iter().any(String::is_empty) {
            problems.push(k.clone(), "malformed override (use YUQING__SECTION__KEY)");
            continue;
        }
        let parsed = toml::from_str::<toml::Table>(&format!("v = {v}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(toml::Value::String(v.clone()));
        if let Err(at) = set_path(root, &keys, parsed) {
            problems.push(at, format!("{k} overrides a key that is not in a table"));
        }
    }
}

/// Sets `keys` (a path of table keys) to `value`, creating tables on the way. Fails, with the
/// path walked so far, when a key on the way is not a table.
fn set_path(node: &mut toml::Value, keys: &[String], value: toml::Value) -> Result<(), String> {
    let toml::Value::Table(table) = node else {
        return Err(String::new());
    };
    let (first, rest) = keys.split_first().ok_or_else(String::new)?;
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return Ok(());
    }
    let child = table
        .entry(first.clone())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    set_path(child, rest, value).map_err(|at| {
        if at.is_empty() {
            first.clone()
        } else {
            format!("{first}.{at}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<PipelineConfig, ConfigError> {
        PipelineConfig::from_toml(
            text,
            "test.toml",
            PathBuf::from("."),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn bundled_demo_is_valid() {
        let cfg = PipelineConfig::load(None).expect("bundled demo pipeline must validate");
        assert!(cfg.demo.enabled);
    }

    #[test]
    fn empty_config_gets_working_defaults() {
        let cfg = load("", &[]).unwrap();
        assert_eq!(cfg.name, "yuqing");
        assert!(cfg.sources.is_empty());
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_path() {
        let err = load("[bus]\nkind = \"memory\"\ncapacityy = 3\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("bus"), "{err}");
        assert!(err.contains("capacityy"), "{err}");
    }

    #[test]
    fn every_semantic_problem_is_reported() {
        let err = load("[bus]\ncapacity = 0\n[clock]\nspeed = -1.0\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("bus.capacity"), "{err}");
        assert!(err.contains("clock.speed"), "{err}");
        assert!(err.contains("2 problem(s)"), "{err}");
    }

    #[test]
    fn environment_overrides_keys() {
        let cfg = load(
            "[bus]\nkind = \"memory\"\n",
            &[
                ("YUQING__BUS__KIND", "kafka"),
                ("YUQING__BUS__KAFKA__BOOTSTRAP", "10.0.0.5:9092"),
                ("YUQING__BUS__CAPACITY", "77"),
                ("UNRELATED", "x"),
            ],
        )
        .unwrap();
        assert_eq!(cfg.bus.kind, yuqing_bus::BusKind::Kafka);
        assert_eq!(cfg.bus.kafka.bootstrap, "10.0.0.5:9092");
        assert_eq!(cfg.bus.capacity, 77);
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = load("[bus]\nkind = \n", &[]).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
