//! Reports on a schedule: the daily log every morning, the periodic bulletin at the start of
//! each period, and the summary of each case when it closes — written into a directory
//! (`<data_dir>/reports/` by default) by [`run_schedule`], which the daemon spawns. All times
//! come from the injected clock, so a replay runs a day of schedule in seconds.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{
    DateTime, Datelike, Duration as ChronoDuration, FixedOffset, Months, NaiveDate, NaiveTime,
    TimeZone,
};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};
use yuqing_cases::Cases;
use yuqing_core::{Problems, SharedClock};
use yuqing_store::Store;

use crate::error::ReportError;
use crate::metrics;
use crate::model::{Report, ReportKind};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Markdown.
    Md,
    /// One self-contained HTML page.
    Html,
    /// The report model as JSON.
    Json,
}

impl Format {
    /// The file extension and metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Html => "html",
            Format::Json => "json",
        }
    }

    /// Renders a report in this format.
    pub fn render(self, report: &Report) -> String {
        match self {
            Format::Md => report.to_markdown(),
            Format::Html => report.to_html(),
            Format::Json => report.to_json(),
        }
    }
}

/// How often the bulletin (定期通报) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulletinEvery {
    /// Never.
    None,
    /// Every Monday, for the week before (Monday to Sunday).
    Week,
    /// On the first of each month, for the month before.
    #[default]
    Month,
    /// On 1 January and 1 July, for the half-year before (半年通报).
    HalfYear,
}

impl BulletinEvery {
    /// The first day of the period holding `d`.
    fn start_of(self, d: NaiveDate) -> NaiveDate {
        match self {
            BulletinEvery::None => d,
            BulletinEvery::Week => {
                d - ChronoDuration::days(d.weekday().num_days_from_monday() as i64)
            }
            BulletinEvery::Month => d.with_day(1).unwrap_or(d),
            BulletinEvery::HalfYear => {
                let m = if d.month() >= 7 { 7 } else { 1 };
                NaiveDate::from_ymd_opt(d.year(), m, 1).unwrap_or(d)
            }
        }
    }

    /// The first day of the period before the one starting on `start`.
    fn previous(self, start: NaiveDate) -> NaiveDate {
        match self {
            BulletinEvery::None => start,
            BulletinEvery::Week => start - ChronoDuration::days(7),
            BulletinEvery::Month => start.checked_sub_months(Months::new(1)).unwrap_or(start),
            BulletinEvery::HalfYear => start.checked_sub_months(Months::new(6)).unwrap_or(start),
        }
    }
}

/// The `[reports]` table: what is written on a schedule, when, and where.
///
/// ```
/// let cfg: yuqing_report::ReportSchedule = toml::from_str(r#"
///     dir = "reports"              # under the data directory
///     formats = ["html", "md"]
///     utc_offset = "+08:00"
///     daily_at = "08:00"           # yesterday's 舆情日志
///     bulletin = "month"           # none | week | month | half_year
///     bulletin_at = "09:00"
///     summaries = true             # 总结报告 when a case closes
///     poll = "30s"
///     catch_up = true
/// "#).unwrap();
/// let mut problems = yuqing_core::Problems::new();
/// cfg.validate("reports", &mut problems);
/// assert!(problems.is_empty());
/// let cfg = cfg.with_data_dir(std::path::Path::new("/var/lib/yuqing"));
/// assert_eq!(cfg.dir, std::path::Path::new("/var/lib/yuqing/reports"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSchedule {
    /// Whether the schedule runs (true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The directory reports are written into; a relative path is under the data directory
    /// ("reports", i.e. `<data_dir>/reports/`; see [`ReportSchedule::with_data_dir`]).
    #[serde(default = "default_dir")]
    pub dir: PathBuf,
    /// The formats each report is written in (["html", "md"]; also "json").
    #[serde(default = "default_formats")]
    pub formats: Vec<Format>,
    /// The UTC offset that days, times of day and report times are counted in ("+08:00").
    #[serde(default = "default_offset")]
    pub utc_offset: String,
    /// Write the daily log (网络舆情日志) of the day before (true).
    #[serde(default = "yes")]
    pub daily: bool,
    /// When the daily log is written, local time ("08:00").
    #[serde(default = "default_daily_at")]
    pub daily_at: String,
    /// How often the bulletin (定期通报) is written: "none", "week", "month" or "half_year"
    /// ("month").
    #[serde(default)]
    pub bulletin: BulletinEvery,
    /// When the bulletin is written on the first day of the next period, local time ("09:00").
    #[serde(default = "default_bulletin_at")]
    pub bulletin_at: String,
    /// Write the summary (总结报告) of each case when it closes (true).
    #[serde(default = "yes")]
    pub summaries: bool,
    /// How often, at most, the clock and newly closed cases are checked, in real time ("30s").
    #[serde(default = "default_poll", with = "humantime_serde")]
    pub poll: Duration,
    /// On start, write the latest daily log and bulletin that were due while the daemon was down,
    /// and the summaries of cases closed in the last 7 days, when their files are missing (true).
    #[serde(default = "yes")]
    pub catch_up: bool,
}

fn yes() -> bool {
    true
}
fn default_dir() -> PathBuf {
    PathBuf::from("reports")
}
fn default_formats() -> Vec<Format> {
    vec![Format::Html, Format::Md]
}
fn default_offset() -> String {
    "+08:00".to_string()
}
fn default_daily_at() -> String {
    "08:00".to_string()
}
fn default_bulletin_at() -> String {
    "09:00".to_string()
}
fn default_poll() -> Duration {
    Duration::from_secs(30)
}

impl Default for ReportSchedule {
    fn default() -> ReportSchedule {
        ReportSchedule {
            enabled: true,
            dir: default_dir(),
            formats: default_formats(),
            utc_offset: default_offset(),
            daily: true,
            daily_at: default_daily_at(),
            bulletin: BulletinEvery::default(),
            bulletin_at: default_bulletin_at(),
            summaries: true,
            poll: default_poll(),
            catch_up: true,
        }
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

/// Parses a UTC offset such as `+08:00`, `-05:00` or `Z`.
pub fn parse_offset(s: &str) -> Result<FixedOffset, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Ok(FixedOffset::east_opt(0).expect("zero offset"));
    }
    FixedOffset::from_str(t).map_err(|_| format!("`{s}` is not a UTC offset such as +08:00"))
}

impl ReportSchedule {
    /// Reports every semantic problem with its key path (`path` is the table's, e.g. `reports`).
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        if self.dir.as_os_str().is_empty() {
            problems.at(path, "dir", "must not be empty");
        }
        if self.formats.is_empty() {
            problems.at(
                path,
                "formats",
                "must name at least one format (md, html, json)",
            );
        }
        for (i, f) in self.formats.iter().enumerate() {
            if self.formats[..i].contains(f) {
                problems.push(
                    format!("{}[{i}]", yuqing_core::problem::join(path, "formats")),
                    format!("`{}` is listed twice", f.as_str()),
                );
            }
        }
        if let Err(e) = parse_offset(&self.utc_offset) {
            problems.at(path, "utc_offset", e);
        }
        if parse_time(&self.daily_at).is_none() {
            problems.at(
                path,
                "daily_at",
                format!("`{}` is not a time of day HH:MM", self.daily_at),
            );
        }
        if parse_time(&self.bulletin_at).is_none() {
            problems.at(
                path,
                "bulletin_at",
                format!("`{}` is not a time of day HH:MM", self.bulletin_at),
            );
        }
        if self.poll < Duration::from_millis(10) {
            problems.at(path, "poll", "must be at least 10ms");
        }
        if self.poll > Duration::from_secs(3600) {
            problems.at(
                path,
                "poll",
                "must be at most 1h (a later poll writes reports late)",
            );
        }
    }

    /// The schedule with a relative `dir` resolved under `data_dir`.
    pub fn with_data_dir(mut self, data_dir: &Path) -> ReportSchedule {
        if self.dir.is_relative() {
            self.dir = data_dir.join(&self.dir);
        }
        self
    }

    fn checked(&self) -> Result<(FixedOffset, NaiveTime, NaiveTime), ReportError> {
        let mut p = Problems::new();
        self.validate("reports", &mut p);
        if !p.is_empty() {
            return Err(ReportError::invalid("reports", p.to_string()));
        }
        Ok((
            parse_offset(&self.utc_offset).map_err(|e| ReportError::invalid("utc_offset", e))?,
            parse_time(&self.daily_at).unwrap_or_default(),
            parse_time(&self.bulletin_at).unwrap_or_default(),
        ))
    }
}

/// Writes a report into `dir` as `<stem>.<format>` for each format, atomically (a temporary
/// file renamed into place); returns the paths written.
pub fn write_report(
    dir: &Path,
    report: &Report,
    formats: &[Format],
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let stem = report.file_stem();
    let mut out = Vec::with_capacity(formats.len());
    for f in formats {
        let path = dir.join(format!("{stem}.{}", f.as_str()));
        write_atomic(&path, f.render(report).as_bytes())?;
        out.push(path);
    }
    Ok(out)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees half a report.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let err = |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })
}

/// The instant `date` at `at` in `tz`.
fn instant(date: NaiveDate, at: NaiveTime, tz: FixedOffset) -> Option<DateTime<FixedOffset>> {
    tz.from_local_datetime(&date.and_time(at)).single()
}

/// Runs the schedule until `shutdown`, on the default case settings (see [`run_schedule_with`]
/// to pass the pipeline's `[cases]` settings, which the bulletin's 迟报/漏报 counts use).
pub async fn run_schedule(
    cfg: ReportSchedule,
    store: Store,
    clock: SharedClock,
    shutdown: CancellationToken,
) -> Result<(), ReportError> {
    let cases = Cases::with_clock(store.clone(), clock.clone()).await?;
    run_schedule_with(cfg, store, cases, clock, shutdown).await
}

struct Due {
    daily: Option<NaiveDate>,
    bulletin: Option<NaiveDate>,
}

/// Runs the schedule until `shutdown` with a configured case workflow. Invalid settings are an
/// error at start; a report that fails later is logged and counted
/// (`yuqing_report_failures_total`) and tried again at the next poll.
pub async fn run_schedule_with(
    cfg: ReportSchedule,
    store: Store,
    cases: Cases,
    clock: SharedClock,
    shutdown: CancellationToken,
) -> Result<(), ReportError> {
    let (tz, daily_at, bulletin_at) = cfg.checked()?;
    metrics::init();
    if !cfg.enabled {
        info!("Report schedule disabled.");
        return Ok(());
    }
    std::fs::create_dir_all(&cfg.dir).map_err(|source| ReportError::Write {
        path: cfg.dir.clone(),
        source,
    })?;
    let s = Scheduler {
        cfg: &cfg,
        store: &store,
        cases: &cases,
        tz,
        daily_at,
        bulletin_at,
    };
    let now = clock.now().with_timezone(&tz);
    // What was last due before start: written now only when catching up and missing.
    let mut done = Due {
        daily: s.latest_daily(now),
        bulletin: s.latest_bulletin(now),
    };
    let mut summaries_since = now;
    if cfg.catch_up {
        if let Some(d) = done.daily.filter(|_| cfg.daily) {
            if !s.exists(&format!("daily-{}", d.format("%Y-%m-%d"))) && !s.daily(d).await {
                done.daily = d.pred_opt();
            }
        }
        if let Some(start) = done.bulletin {
            let end = next_start(s.cfg.bulletin, start);
            let stem = format!(
                "bulletin-{}_{}",
                start.format("%Y-%m-%d"),
                (end - ChronoDuration::days(1)).format("%Y-%m-%d")
            );
            if !s.exists(&stem) && !s.bulletin(start).await {
                done.bulletin = Some(s.cfg.bulletin.previous(start));
            }
        }
        if cfg.summaries {
            s.summaries(now - ChronoDuration::days(7), now, true).await;
        }
    }
    info!(dir = %cfg.dir.display(), daily_at = %cfg.daily_at, bulletin = ?cfg.bulletin, "Report schedule started.");
    loop {
        let now = clock.now().with_timezone(&tz);
        if cfg.daily {
            if let Some(d) = s.latest_daily(now) {
                if done.daily.is_none_or(|p| d > p) && s.daily(d).await {
                    done.daily = Some(d);
                }
            }
        }
        if let Some(start) = s.latest_bulletin(now) {
            if done.bulletin.is_none_or(|p| start > p) && s.bulletin(start).await {
                done.bulletin = Some(start);
            }
        }
        if cfg.summaries {
            // Entries are stamped with the workflow's clock; look back a little for stragglers.
            let from = summaries_since - ChronoDuration::minutes(1);
            if s.summaries(from, now + ChronoDuration::seconds(1), false)
                .await
            {
                summaries_since = now;
            }
        }
        // Sleep until the next due time or the next poll, whichever is first.
        let next = s.next_due(now);
        let wait = next
            .map(|t| (t - now).to_std().unwrap_or_default())
            .map(|d| clock.real(d) + Duration::from_millis(5))
            .unwrap_or(cfg.poll)
            .min(cfg.poll);
        let started = Instant::now();
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
        }
        tracing::trace!(
            slept_ms = started.elapsed().as_millis() as u64,
            "Report schedule woke."
        );
    }
    info!("Report schedule stopped.");
    Ok(())
}

fn next_start(every: BulletinEvery, start: NaiveDate) -> NaiveDate {
    match every {
        BulletinEvery::None => start,
        BulletinEvery::Week => start + ChronoDuration::days(7),
        BulletinEvery::Month => start.checked_add_months(Months::new(1)).unwrap_or(start),
        BulletinEvery::HalfYear => start.checked_add_months(Months::new(6)).unwrap_or(start),
    }
}

struct Scheduler<'a> {
    cfg: &'a ReportSchedule,
    store: &'a Store,
    cases: &'a Cases,
    tz: FixedOffset,
    daily_at: NaiveTime,
    bulletin_at: NaiveTime,
}

impl Scheduler<'_> {
    /// The date whose daily log was last due at or before `now`.
    fn latest_daily(&self, now: DateTime<FixedOffset>) -> Option<NaiveDate> {
        let today = now.date_naive();
        let run_today = instant(today, self.daily_at, self.tz)?;
        let run_date = if now >= run_today {
            today
        } else {
            today.pred_opt()?
        };
        run_date.pred_opt()
    }

    /// The first day of the period whose bulletin was last due at or before `now`.
    fn latest_bulletin(&self, now: DateTime<FixedOffset>) -> Option<NaiveDate> {
        let every = self.cfg.bulletin;
        if every == BulletinEvery::None {
            return None;
        }
        let current = every.start_of(now.date_naive());
        let run = instant(current, self.bulletin_at, self.tz)?;
        let run_start = if now >= run {
            current
        } else {
            every.previous(current)
        };
        Some(every.previous(run_start))
    }

    /// The next instant after `now` at which a daily log or bulletin falls due.
    fn next_due(&self, now: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
        let today = now.date_naive();
        let mut next = Vec::new();
        if self.cfg.daily {
            for d in [today, today.succ_opt()?] {
                if let Some(t) = instant(d, self.daily_at, self.tz).filter(|t| *t > now) {
                    next.push(t);
                    break;
                }
            }
        }
        if self.cfg.bulletin != BulletinEvery::None {
            let start = self.cfg.bulletin.start_of(today);
            for d in [start, next_start(self.cfg.bulletin, start)] {
                if let Some(t) = instant(d, self.bulletin_at, self.tz).filter(|t| *t > now) {
                    next.push(t);
                    break;
                }
            }
        }
        next.into_iter().min()
    }

    fn exists(&self, stem: &str) -> bool {
        self.cfg
            .formats
            .iter()
            .all(|f| self.cfg.dir.join(format!("{stem}.{}", f.as_str())).exists())
    }

    /// Builds, writes and counts one report; false when it failed in a way worth retrying.
    async fn write(&self, kind: ReportKind, built: Result<Report, ReportError>) -> bool {
        match built.and_then(|r| write_report(&self.cfg.dir, &r, &self.cfg.formats).map(|p| (r, p)))
        {
            Ok((r, paths)) => {
                for f in &self.cfg.formats {
                    metrics::WRITTEN
                        .with_label_values(&[kind.as_str(), f.as_str(), "schedule"])
                        .inc();
                }
                metrics::LAST_WRITTEN
                    .with_label_values(&[kind.as_str()])
                    .set(r.generated_at.timestamp() as f64);
                info!(kind = kind.as_str(), file = %paths.first().map(|p| p.display().to_string()).unwrap_or_default(), evidence = r.appendix.len(), "Report written.");
                true
            }
            Err(e) => {
                metrics::FAILED
                    .with_label_values(&[kind.as_str(), e.kind()])
                    .inc();
                if e.is_usage() {
                    warn!(kind = kind.as_str(), error = %e, "Scheduled report skipped.");
                    true
                } else {
                    error!(kind = kind.as_str(), error = %e, "Scheduled report failed; retrying at the next poll.");
                    false
                }
            }
        }
    }

    async fn daily(&self, date: NaiveDate) -> bool {
        let t = Instant::now();
        let built = crate::daily::daily(self.store, self.cases, date, self.tz).await;
        metrics::BUILD_SECONDS
            .with_label_values(&["daily"])
            .observe(t.elapsed().as_secs_f64());
        self.write(ReportKind::Daily, built).await
    }

    async fn bulletin(&self, start: NaiveDate) -> bool {
        let end = next_start(self.cfg.bulletin, start);
        let (Some(from), Some(to)) = (
            instant(start, NaiveTime::MIN, self.tz),
            instant(end, NaiveTime::MIN, self.tz),
        ) else {
            return true;
        };
        let t = Instant::now();
        let built = crate::bulletin::bulletin(self.store, self.cases, from, to, self.tz).await;
        metrics::BUILD_SECONDS
            .with_label_values(&["bulletin"])
            .observe(t.elapsed().as_secs_f64());
        self.write(ReportKind::Bulletin, built).await
    }

    /// Writes the summaries of cases closed in `[from, to)`; with `missing_only`, only those
    /// without a file. False when one failed and should be tried again.
    async fn summaries(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
        missing_only: bool,
    ) -> bool {
        let ids = match crate::data::cases_active_between(self.store, from, to).await {
            Ok(ids) => ids,
            Err(e) => {
                metrics::FAILED
                    .with_label_values(&["summary", e.kind()])
                    .inc();
                error!(error = %e, "Looking for closed cases failed; retrying at the next poll.");
                return false;
            }
        };
        let mut ok = true;
        for id in ids {
            let closed_now = match self.cases.audit(&id).await {
                Ok(log) => log
                    .iter()
                    .any(|e| e.action == "close" && e.at >= from && e.at < to),
                Err(e) => {
                    warn!(case = %id, error = %e, "Reading a case's audit log failed.");
                    ok = false;
                    continue;
                }
            };
            if !closed_now {
                continue;
            }
            let stem: String = format!("summary-{id}")
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if missing_only && self.exists(&stem) {
                continue;
            }
            let t = Instant::now();
            let built = crate::summary::summary(self.store, self.cases, &id, self.tz).await;
            metrics::BUILD_SECONDS
                .with_label_values(&["summary"])
                .observe(t.elapsed().as_secs_f64());
            ok &= self.write(ReportKind::Summary, built).await;
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_start_where_expected() {
        assert_eq!(
            BulletinEvery::Week.start_of(date("2026-11-22")),
            date("2026-11-16")
        );
        assert_eq!(
            BulletinEvery::Week.previous(date("2026-11-16")),
            date("2026-11-09")
        );
        assert_eq!(
            BulletinEvery::Month.start_of(date("2026-11-22")),
            date("2026-11-01")
        );
        assert_eq!(
            BulletinEvery::Month.previous(date("2026-01-01")),
            date("2025-12-01")
        );
        assert_eq!(
            BulletinEvery::HalfYear.start_of(date("2026-11-22")),
            date("2026-07-01")
        );
        assert_eq!(
            BulletinEvery::HalfYear.previous(date("2026-07-01")),
            date("2026-01-01")
        );
        assert_eq!(
            next_start(BulletinEvery::Month, date("2026-12-01")),
            date("2027-01-01")
        );
    }

    #[test]
    fn defaults_validate_and_bad_values_report_their_paths() {
        let mut p = Problems::new();
        ReportSchedule::default().validate("reports", &mut p);
        assert!(p.is_empty(), "{p}");
        let bad = ReportSchedule {
            formats: vec![Format::Md, Format::Md],
            utc_offset: "CST".into(),
            daily_at: "25:00".into(),
            bulletin_at: "9".into(),
            poll: Duration::from_millis(1),
            dir: PathBuf::new(),
            ..ReportSchedule::default()
        };
        let mut p = Problems::new();
        bad.validate("reports", &mut p);
        let paths: Vec<&str> = p.list().iter().map(|x| x.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "reports.dir",
                "reports.formats[1]",
                "reports.utc_offset",
                "reports.daily_at",
                "reports.bulletin_at",
                "reports.poll"
            ]
        );
    }

    #[test]
    fn config_parses_from_toml_and_rejects_unknown_keys() {
        let cfg: ReportSchedule = toml::from_str(
            "daily_at = \"07:30\"\nbulletin = \"week\"\nformats = [\"html\"]\npoll = \"5s\"\n",
        )
        .unwrap();
        assert_eq!(cfg.daily_at, "07:30");
        assert_eq!(cfg.bulletin, BulletinEvery::Week);
        assert_eq!(cfg.poll, Duration::from_secs(5));
        assert!(toml::from_str::<ReportSchedule>("dayly_at = \"07:30\"").is_err());
        let resolved = cfg.with_data_dir(Path::new("/var/lib/yuqing"));
        assert_eq!(resolved.dir, PathBuf::from("/var/lib/yuqing/reports"));
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("+08:00").unwrap().local_minus_utc(), 8 * 3600);
        assert_eq!(parse_offset("Z").unwrap().local_minus_utc(), 0);
        assert!(parse_offset("Asia/Shanghai").is_err());
    }
}
