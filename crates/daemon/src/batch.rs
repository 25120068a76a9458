//! Batch mode (`--input FILE|- --output FILE|-`) and `yuqing replay`.
//!
//! Batch mode runs one stage over a JSON Lines file and exits; `replay` runs the whole pipeline
//! over a file in event-time order on a simulated clock. Both use the same cores as the daemon
//! ([`crate::core`]), so they produce the same records the daemon would have produced live.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::Context;
use tracing::warn;
use yuqing_core::{telemetry, Alert, Event, Item, JudgedItem};

use crate::config::PipelineConfig;
use crate::core::{self, AlertCore, AnalyzeCore, Privacy};

/// A JSON Lines input: a file or `-` for standard input.
pub fn open_input(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    if path == Path::new("-") {
        Ok(Box::new(BufReader::new(std::io::stdin())))
    } else {
        let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
    }
}

/// A JSON Lines output: a file (created, truncated) or `-` for standard output.
pub fn open_output(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path == Path::new("-") {
        Ok(Box::new(BufWriter::new(std::io::stdout())))
    } else {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Box::new(BufWriter::with_capacity(1 << 20, f)))
    }
}

/// What a batch run read, wrote and skipped.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Records read.
    pub read: u64,
    /// Records written.
    pub written: u64,
    /// Lines that were not valid records (each reported with its line number).
    pub rejected: u64,
}

/// Reads records of one kind from JSON Lines, reporting bad lines (with their numbers) on the log
/// and counting them, never stopping at them.
fn read_records<T>(
    input: impl Read,
    stage: &str,
    parse: impl Fn(&[u8]) -> Result<T, yuqing_core::RecordError>,
    summary: &mut Summary,
) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::new();
    let mut reader = BufReader::new(input);
    let mut line = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        let got = reader
            .read_until(b'\n', &mut line)
            .context("reading input")?;
        if got == 0 {
            break;
        }
        n += 1;
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        summary.read += 1;
        telemetry::RECEIVED.with_label_values(&[stage]).inc();
        match parse(trimmed) {
            Ok(r) => out.push(r),
            Err(e) => {
                summary.rejected += 1;
                telemetry::ERRORS
                    .with_label_values(&[stage, e.kind()])
                    .inc();
                warn!(line = n, error = %e, "Skipped a bad input line.");
            }
        }
    }
    Ok(out)
}

fn write_line(out: &mut dyn Write, bytes: &[u8]) -> anyhow::Result<()> {
    out.write_all(bytes)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// `yuqing analyze --input … --output …`: judged items, in input order; optionally the event
/// snapshots too.
pub fn analyze(
    cfg: &PipelineConfig,
    input: &Path,
    output: &Path,
    events_out: Option<&Path>,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let privacy = Privacy::from_config(cfg);
    let mut items = read_records(open_input(input)?, "analyze", Item::from_json, &mut summary)?;
    items.iter_mut().for_each(|i| privacy.apply(i));
    let mut core = AnalyzeCore::new(core::analyzer(cfg)?, &cfg.events);
    let mut out = open_output(output)?;
    let mut ev_out = events_out.map(open_output).transpose()?;
    for item in items {
        let (j, e) = core.process(item);
        write_line(&mut out, &j.to_json())?;
        if let Some(w) = ev_out.as_mut() {
            write_line(w, &e.to_json())?;
        }
        summary.written += 1;
    }
    out.flush()?;
    if let Some(mut w) = ev_out {
        w.flush()?;
    }
    telemetry::SENT
        .with_label_values(&["analyze"])
        .inc_by(summary.written);
    Ok(summary)
}

/// `yuqing alert --input events.jsonl --output alerts.jsonl`: the alerts of event snapshots.
pub fn alert(cfg: &PipelineConfig, input: &Path, output: &Path) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let events = read_records(open_input(input)?, "alert", Event::from_json, &mut summary)?;
    let mut core = AlertCore::new(core::grader(cfg)?);
    let mut out = open_output(output)?;
    for e in &events {
        for a in core.on_event(e) {
            write_line(&mut out, &a.to_json())?;
            summary.written += 1;
        }
    }
    out.flush()?;
    Ok(summary)
}

/// The records `replay` produced.
#[derive(Debug, Default)]
pub struct ReplayOutput {
    /// Judged items in processing order.
    pub scored: Vec<JudgedItem>,
    /// Event snapshots, one per item.
    pub events: Vec<Event>,
    /// Alerts in the order they fired.
    pub alerts: Vec<Alert>,
}

/// Runs the whole pipeline over items in event-time order (stable for equal times).
pub fn replay_items(cfg: &PipelineConfig, mut items: Vec<Item>) -> anyhow::Result<ReplayOutput> {
    let privacy = Privacy::from_config(cfg);
    items.iter_mut().for_each(|i| privacy.apply(i));
    items.sort_by_key(|i| i.observed_at);
    let mut analyze = AnalyzeCore::new(core::analyzer(cfg)?, &cfg.events);
    let mut alert = AlertCore::new(core::grader(cfg)?);
    let mut out = ReplayOutput::default();
    for item in items {
        let (j, e) = analyze.process(item);
        out.alerts.extend(alert.on_event(&e));
        out.scored.push(j);
        out.events.push(e);
    }
    Ok(out)
}

/// `yuqing replay --input items.jsonl --out DIR`: writes `DIR/scored.jsonl`, `DIR/events.jsonl`
/// and `DIR/alerts.jsonl`.
pub fn replay(
    cfg: &PipelineConfig,
    input: &Path,
    dir: &Path,
) -> anyhow::Result<(Summary, ReplayOutput)> {
    let mut summary = Summary::default();
    let items = read_records(open_input(input)?, "replay", Item::from_json, &mut summary)?;
    let out = replay_items(cfg, items)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut w = open_output(&dir.join("scored.jsonl"))?;
    for j in &out.scored {
        write_line(&mut w, &j.to_json())?;
    }
    w.flush()?;
    let mut w = open_output(&dir.join("events.jsonl"))?;
    for e in &out.events {
        write_line(&mut w, &e.to_json())?;
    }
    w.flush()?;
    let mut w = open_output(&dir.join("alerts.jsonl"))?;
    for a in &out.alerts {
        write_line(&mut w, &a.to_json())?;
    }
    w.flush()?;
    summary.written = out.scored.len() as u64;
    Ok((summary, out))
}

/// Reads items from a JSON Lines file (for tools and tests).
pub fn read_items(path: &Path) -> anyhow::Result<Vec<Item>> {
    let mut summary = Summary::default();
    read_records(open_input(path)?, "replay", Item::from_json, &mut summary)
}
