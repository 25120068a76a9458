//! Time texts as sources write them: RFC 3339/2822, Weibo's `created_at`, Chinese forms
//! (`2026年11月22日 10:02`), relative forms (`刚刚`, `5分钟前`, `昨天 10:02`, `11-22`) read against
//! the injected clock in China Standard Time, and epoch numbers.

use std::sync::LazyLock;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use regex::Regex;
use yuqing_core::clock::cst;

use crate::config::TimeFormat;

static ABS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})日?(?:[T\s]+(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?",
    )
    .expect("static regex")
});
static REL_N: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d+)\s*(秒|分钟|小时|天)前$").expect("static regex"));
static DAY_HM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(今天|昨天|前天)\s*(\d{1,2})[:：](\d{2})$").expect("static regex")
});
static MD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{1,2})\s*[-月/]\s*(\d{1,2})\s*日?(?:\s+(\d{1,2})[:：](\d{2}))?$")
        .expect("static regex")
});

/// Parses a time text with a configured format; `now` anchors relative forms.
pub fn parse_with(
    text: &str,
    format: &TimeFormat,
    now: DateTime<Utc>,
) -> Option<DateTime<FixedOffset>> {
    let t = text.trim();
    match format {
        TimeFormat::Auto => parse_time(t, now),
        TimeFormat::Unix => t.parse::<f64>().ok().and_then(from_epoch_secs),
        TimeFormat::UnixMs => t
            .parse::<f64>()
            .ok()
            .and_then(|ms| from_epoch_secs(ms / 1000.0)),
        TimeFormat::Rfc3339 => DateTime::parse_from_rfc3339(t).ok(),
        TimeFormat::Pattern(p) => DateTime::parse_from_str(t, p)
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(t, p)
                    .ok()
                    .and_then(|n| cst().from_local_datetime(&n).single())
            })
            .or_else(|| {
                NaiveDate::parse_from_str(t, p).ok().and_then(|d| {
                    cst()
                        .from_local_datetime(&d.and_time(NaiveTime::MIN))
                        .single()
                })
            }),
    }
}

fn from_epoch_secs(s: f64) -> Option<DateTime<FixedOffset>> {
    if !s.is_finite() || !(0.0..=32_503_680_000.0).contains(&s) {
        return None;
    }
    DateTime::from_timestamp(s.trunc() as i64, ((s.fract()) * 1e9) as u32)
        .map(|d| d.with_timezone(&cst()))
}

/// Parses a time text in any recognised form; `None` when nothing looks like a time.
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d);
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Some(d);
    }
    // Weibo: "Sat Nov 22 10:02:33 +0800 2026" (the weekday is not checked: it is redundant).
    if let Some((wd, rest)) = t.split_once(' ') {
        if wd.len() == 3 && wd.chars().all(|c| c.is_ascii_alphabetic()) {
            if let Ok(d) = DateTime::parse_from_str(rest, "%b %d %H:%M:%S %z %Y") {
                return Some(d);
            }
        }
    }
    if let Ok(d) = DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S %z") {
        return Some(d);
    }
    if t.bytes().all(|b| b.is_ascii_digit()) && (9..=13).contains(&t.len()) {
        let n: f64 = t.parse().ok()?;
        return if t.len() >= 12 {
            from_epoch_secs(n / 1000.0)
        } else {
            from_epoch_secs(n)
        };
    }
    let now_cst = now.with_timezone(&cst());
    if t == "刚刚" {
        return Some(now_cst);
    }
    if let Some(c) = REL_N.captures(t) {
        let n: i64 = c[1].parse().ok()?;
        let d = match &c[2] {
            "秒" => Duration::try_seconds(n)?,
            "分钟" => Duration::try_minutes(n)?,
            "小时" => Duration::try_hours(n)?,
            _ => Duration::try_days(n)?,
        };
        return Some(now_cst - d);
    }
    if let Some(c) = DAY_HM.captures(t) {
        let back = match &c[1] {
            "今天" => 0,
            "昨天" => 1,
            _ => 2,
        };
        let day = now_cst.date_naive() - Duration::days(back);
        let time = NaiveTime::from_hms_opt(c[2].parse().ok()?, c[3].parse().ok()?, 0)?;
        return cst().from_local_datetime(&day.and_time(time)).single();
    }
    if let Some(c) = MD.captures(t) {
        let (m, d): (u32, u32) = (c[1].parse().ok()?, c[2].parse().ok()?);
        let time = match (c.get(3), c.get(4)) {
            (Some(h), Some(mi)) => {
                NaiveTime::from_hms_opt(h.as_str().parse().ok()?, mi.as_str().parse().ok()?, 0)?
            }
            _ => NaiveTime::MIN,
        };
        let mut year = now_cst.year();
        let mut date = NaiveDate::from_ymd_opt(year, m, d)?;
        // "11-22" read on 2027-01-02 means last year.
        if date > now_cst.date_naive() {
            year -= 1;
            date = NaiveDate::from_ymd_opt(year, m, d)?;
        }
        return cst().from_local_datetime(&date.and_time(time)).single();
    }
    find_time(t)
}

/// Finds the first absolute date (and time) inside a longer text such as
/// `发布时间：2026-11-22 10:02 来源：区应急局`, read in China Standard Time.
pub fn find_time(text: &str) -> Option<DateTime<FixedOffset>> {
    let c = ABS.captures(text)?;
    let y: i32 = c[1].parse().ok()?;
    let mo: u32 = c[2].parse().ok()?;
    let d: u32 = c[3].parse().ok()?;
    let date = NaiveDate::from_ymd_opt(y, mo, d)?;
    let h: u32 = c.get(4).map_or(Some(0), |m| m.as_str().parse().ok())?;
    let mi: u32 = c.get(5).map_or(Some(0), |m| m.as_str().parse().ok())?;
    let s: u32 = c.get(6).map_or(Some(0), |m| m.as_str().parse().ok())?;
    let time = NaiveTime::from_hms_opt(h, mi, s)?;
    cst().from_local_datetime(&date.and_time(time)).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        // 2026-11-22 10:30:00 +08:00
        DateTime::parse_from_rfc3339("2026-11-22T02:30:00Z")
            .unwrap()
            .to_utc()
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn absolute_forms() {
        let n = now();
        assert_eq!(
            parse_time("Sat Nov 22 10:02:33 +0800 2026", n).unwrap(),
            at("2026-11-22T10:02:33+08:00")
        );
        assert_eq!(
            parse_time("2026-11-22 10:02:33", n).unwrap(),
            at("2026-11-22T10:02:33+08:00")
        );
        assert_eq!(
            parse_time("2026年11月22日 10:02", n).unwrap(),
            at("2026-11-22T10:02:00+08:00")
        );
        assert_eq!(
            parse_time("2026/11/22", n).unwrap(),
            at("2026-11-22T00:00:00+08:00")
        );
        assert_eq!(
            parse_time("Sun, 22 Nov 2026 02:02:33 GMT", n).unwrap(),
            at("2026-11-22T02:02:33+00:00")
        );
        assert_eq!(
            parse_time("1763776953", n).unwrap(),
            at("2025-11-22T10:02:33+08:00")
        );
        assert_eq!(
            parse_time("1763776953000", n).unwrap(),
            at("2025-11-22T10:02:33+08:00")
        );
        assert_eq!(
            find_time("发布时间：2026-11-22 10:02 来源：区应急局").unwrap(),
            at("2026-11-22T10:02:00+08:00")
        );
    }

    #[test]
    fn relative_forms_use_the_clock_in_cst() {
        let n = now();
        assert_eq!(
            parse_time("刚刚", n).unwrap(),
            at("2026-11-22T10:30:00+08:00")
        );
        assert_eq!(
            parse_time("5分钟前", n).unwrap(),
            at("2026-11-22T10:25:00+08:00")
        );
        assert_eq!(
            parse_time("3小时前", n).unwrap(),
            at("2026-11-22T07:30:00+08:00")
        );
        assert_eq!(
            parse_time("昨天 23:15", n).unwrap(),
            at("2026-11-21T23:15:00+08:00")
        );
        assert_eq!(
            parse_time("11-20", n).unwrap(),
            at("2026-11-20T00:00:00+08:00")
        );
        // A month-day after today belongs to last year.
        assert_eq!(
            parse_time("12-31", n).unwrap(),
            at("2025-12-31T00:00:00+08:00")
        );
        // 01:00 CST on the 23rd is still the 22nd in UTC: "昨天" is read in CST.
        let early = DateTime::parse_from_rfc3339("2026-11-22T17:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            parse_time("昨天 08:00", early).unwrap(),
            at("2026-11-22T08:00:00+08:00")
        );
    }

    #[test]
    fn formats() {
        let n = now();
        assert_eq!(
            parse_with("1763776953", &TimeFormat::Unix, n).unwrap(),
            at("2025-11-22T10:02:33+08:00")
        );
        assert_eq!(
            parse_with("1763776953500", &TimeFormat::UnixMs, n)
                .unwrap()
                .timestamp_millis(),
            1763776953500
        );
        assert_eq!(
            parse_with(
                "22/11/2026 10h02",
                &TimeFormat::Pattern("%d/%m/%Y %Hh%M".into()),
                n
            )
            .unwrap(),
            at("2026-11-22T10:02:00+08:00")
        );
        assert!(parse_with("garbage", &TimeFormat::Unix, n).is_none());
        assert!(parse_time("no time here", n).is_none());
        assert!(parse_time("2026-13-45", n).is_none());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_time(&s, now());
            let _ = parse_with(&s, &TimeFormat::UnixMs, now());
        }
        #[test]
        fn relative_minutes_round_trip(n in 0i64..100000) {
            let t = parse_time(&format!("{n}分钟前"), now()).unwrap();
            assert_eq!((now() - t.to_utc()).num_minutes(), n);
        }
    }
}
