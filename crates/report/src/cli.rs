//! `yuqing report daily|event ID|bulletin --from DATE --to DATE|summary ID`.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use chrono::{Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone};
use yuqing_cases::Cases;
use yuqing_core::SharedClock;
use yuqing_store::Store;

use crate::error::ReportError;
use crate::metrics;
use crate::model::{Report, ReportKind};
use crate::schedule::{parse_offset, write_atomic, Format};

/// `yuqing report`: write a report on demand.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "md")]
    pub format: Format,
    /// Where to write it: a file, or `-` for standard output.
    #[arg(long, global = true, default_value = "-")]
    pub out: String,
    /// The UTC offset days and times are counted and written in.
    #[arg(long, global = true, default_value = "+08:00", value_parser = parse_offset, allow_hyphen_values = true)]
    pub utc_offset: FixedOffset,
    /// Which report.
    #[command(subcommand)]
    pub command: ReportCommand,
}

/// The reports of `yuqing report`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ReportCommand {
    /// 网络舆情日志: one day's events with grades, owners and status.
    Daily {
        /// The day: YYYY-MM-DD, `today` or `yesterday`.
        #[arg(long, default_value = "today")]
        date: String,
    },
    /// 舆情专报: one event in depth.
    Event {
        /// The event id.
        id: String,
    },
    /// 定期通报: handling per department and place, for the cases first alerted from `--from`
    /// to `--to` (both days included).
    Bulletin {
        /// The first day (YYYY-MM-DD).
        #[arg(long)]
        from: NaiveDate,
        /// The last day, included (YYYY-MM-DD).
        #[arg(long)]
        to: NaiveDate,
    },
    /// 总结报告: the review of a closed case (办结).
    Summary {
        /// Case id or event id.
        id: String,
    },
}

impl ReportCommand {
    /// Which report it asks for.
    pub fn kind(&self) -> ReportKind {
        match self {
            ReportCommand::Daily { .. } => ReportKind::Daily,
            ReportCommand::Event { .. } => ReportKind::Event,
            ReportCommand::Bulletin { .. } => ReportKind::Bulletin,
            ReportCommand::Summary { .. } => ReportKind::Summary,
        }
    }
}

/// Parses `YYYY-MM-DD`, `today` or `yesterday` relative to `today`.
pub fn parse_day(s: &str, today: NaiveDate) -> Result<NaiveDate, ReportError> {
    match s.trim() {
        "today" | "今天" => Ok(today),
        "yesterday" | "昨天" => today
            .pred_opt()
            .ok_or_else(|| ReportError::invalid("date", "no day before today")),
        d => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ReportError::invalid(
                "date",
                format!("`{s}` is not YYYY-MM-DD, today or yesterday"),
            )
        }),
    }
}

/// Builds the report a command asks for.
pub async fn build(
    store: &Store,
    cases: &Cases,
    command: &ReportCommand,
    tz: FixedOffset,
) -> Result<Report, ReportError> {
    match command {
        ReportCommand::Daily { date } => {
            let today = cases.now_cst().with_timezone(&tz).date_naive();
            crate::daily::daily(store, cases, parse_day(date, today)?, tz).await
        }
        ReportCommand::Event { id } => crate::event::event(store, cases, id, tz).await,
        ReportCommand::Bulletin { from, to } => {
            if to < from {
                return Err(ReportError::invalid("to", "must not be before --from"));
            }
            let midnight = |d: NaiveDate| {
                tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
                    .single()
                    .ok_or_else(|| ReportError::invalid("from", format!("{d} has no midnight")))
            };
            let start = midnight(*from)?;
            let end = midnight(*to)?
                .checked_add_signed(Duration::days(1))
                .ok_or_else(|| ReportError::invalid("to", format!("{to} is out of range")))?;
            crate::bulletin::bulletin(store, cases, start, end, tz).await
        }
        ReportCommand::Summary { id } => crate::summary::summary(store, cases, id, tz).await,
    }
}

/// Runs `yuqing report …` against `store` with the default case settings, writing the report to
/// `--out` (or to `out` for `-`).
pub async fn run_cli(
    args: ReportArgs,
    store: Store,
    clock: SharedClock,
    out: &mut impl Write,
) -> Result<(), ReportError> {
    let cases = Cases::with_clock(store.clone(), clock).await?;
    run_cli_with(args, &store, &cases, out).await
}

/// Runs `yuqing report …` with a configured case workflow (its `accept_within` decides 迟报 and
/// 漏报 in bulletins).
pub async fn run_cli_with(
    args: ReportArgs,
    store: &Store,
    cases: &Cases,
    out: &mut impl Write,
) -> Result<(), ReportError> {
    metrics::init();
    let kind = args.command.kind();
    let started = Instant::now();
    let report = match build(store, cases, &args.command, args.utc_offset).await {
        Ok(r) => r,
        Err(e) => {
            metrics::FAILED
                .with_label_values(&[kind.as_str(), e.kind()])
                .inc();
            return Err(e);
        }
    };
    metrics::BUILD_SECONDS
        .with_label_values(&[kind.as_str()])
        .observe(started.elapsed().as_secs_f64());
    let text = args.format.render(&report);
    if args.out == "-" {
        out.write_all(text.as_bytes())?;
    } else {
        let path = Path::new(&args.out);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| ReportError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        write_atomic(path, text.as_bytes())?;
        writeln!(
            out,
            "{}：{}（{} 节，依据 {} 项）",
            report.kind.label(),
            path.display(),
            report.sections.len(),
            report.appendix.len()
        )?;
    }
    metrics::WRITTEN
        .with_label_values(&[kind.as_str(), args.format.as_str(), "cli"])
        .inc();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: ReportArgs,
    }

    #[test]
    fn the_command_line_parses() {
        let c = Cli::parse_from([
            "yuqing",
            "bulletin",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "html",
            "--out",
            "x.html",
        ]);
        assert_eq!(c.args.format, Format::Html);
        assert_eq!(c.args.out, "x.html");
        assert!(matches!(c.args.command, ReportCommand::Bulletin { .. }));
        let c = Cli::parse_from(["yuqing", "event", "ev-1", "--utc-offset", "-05:00"]);
        assert_eq!(c.args.utc_offset.local_minus_utc(), -5 * 3600);
        assert_eq!(c.args.command.kind(), ReportKind::Event);
        let c = Cli::parse_from(["yuqing", "daily"]);
        assert!(matches!(&c.args.command, ReportCommand::Daily { date } if date == "today"));
        assert!(Cli::try_parse_from([
            "yuqing",
            "bulletin",
            "--from",
            "2026-13-01",
            "--to",
            "2026-11-30"
        ])
        .is_err());
    }

    #[test]
    fn days_parse() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(parse_day("today", today).unwrap(), today);
        assert_eq!(
            parse_day("yesterday", today).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
        );
        assert_eq!(
            parse_day("2026-11-01", today).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
        assert!(parse_day("11/01", today).unwrap_err().is_usage());
        // The last day chrono knows has no day after it: an error, not a panic.
        let last = NaiveDate::MAX.format("%Y-%m-%d").to_string();
        let d = parse_day(&last, today).unwrap();
        let west = FixedOffset::west_opt(8 * 3600).unwrap();
        assert!(crate::daily::day_bounds(d, west).unwrap_err().is_usage());
    }
}
