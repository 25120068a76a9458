//! Evaluates (and with `--calibrate`, calibrates) the 24-hour size forecast of `yuqing-events` on
//! the real Weibo repost cascades of `weibo_cascades/casflow_sample_weibo_29.txt`.
//!
//! Every cascade is fed through the real `EventTracker` the way a Weibo collector sees it: the root
//! post at publication, then a re-observation of its repost count every 5 minutes. After 1 h and
//! after 2 h of observation the tracker's forecast of the 24-hour size is compared with the true
//! size by the mean squared log error, beside a log-linear baseline (`ln S24 = a + b ln S_t`)
//! fitted leave-one-out so it never sees the cascade it predicts, and beside "no growth".
//!
//! `--calibrate` searches the forecaster's parameters on a grid (objective: MSLE after 1 h plus
//! after 2 h), reports the leave-one-out error of that search (parameters chosen on the other
//! cascades), and prints the residual table that `crates/events/src/forecast.rs` embeds.
//!
//! ```text
//! cargo run --release -p yuqing-benches --bin eval_forecast [-- --calibrate]
//! ```
//! `YUQING_SHARED_DATA` overrides `/work/shared/data`; without the data the harness says so and
//! exits 0.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use chrono::{DateTime, Duration, FixedOffset};
use yuqing_core::{Analysis, Item, Metrics, Platform, SCHEMA_VERSION};
use yuqing_events::{EventTracker, EventsConfig, HawkesParams};

const POLL_SECS: i64 = 300;
const FILE: &str = "weibo_cascades/casflow_sample_weibo_29.txt";

struct Cascade {
    id: String,
    /// Seconds after publication of every retweet (the root excluded), sorted.
    retweets: Vec<i64>,
}

impl Cascade {
    fn size_at(&self, secs: i64) -> usize {
        1 + self.retweets.partition_point(|t| *t <= secs)
    }

    fn size(&self) -> usize {
        1 + self.retweets.len()
    }
}

fn load() -> Option<Vec<Cascade>> {
    let dir = std::env::var_os("YUQING_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/data"));
    let path = dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            println!(
                "eval_forecast: {} not readable ({e}); nothing to evaluate, skipping.",
                path.display()
            );
            return None;
        }
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 {
            eprintln!("line {}: expected 5 tab-separated fields, skipped", n + 1);
            continue;
        }
        let mut retweets = Vec::new();
        for part in f[4].split_whitespace() {
            let Some((path, secs)) = part.rsplit_once(':') else {
                continue;
            };
            let Ok(secs) = secs.parse::<i64>() else {
                continue;
            };
            if path.contains('/') {
                retweets.push(secs);
            }
        }
        retweets.sort_unstable();
        out.push(Cascade {
            id: f[0].to_string(),
            retweets,
        });
    }
    Some(out)
}

fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2016-06-01T08:00:00+08:00").expect("valid")
}

/// Feeds a cascade up to `obs` seconds and returns the forecast of the 24-hour size.
fn forecast(c: &Cascade, obs: i64, params: HawkesParams) -> f64 {
    let mut t = EventTracker::with_params(&EventsConfig::default(), params);
    let mut item = Item {
        schema_version: SCHEMA_VERSION,
        id: c.id.clone(),
        source: "weibo".into(),
        platform: Platform::Weibo,
        url: None,
        title: None,
        text: format!("cascade {}", c.id),
        author: None,
        published_at: t0(),
        observed_at: t0(),
        root_id: None,
        parent_id: None,
        metrics: Metrics {
            reposts: Some(0),
            ..Metrics::default()
        },
        region: None,
        label: None,
        extra: Default::default(),
    };
    let mut last = t.observe(&item, &mut Analysis::default());
    let mut p = 0;
    while p < obs {
        p = (p + POLL_SECS).min(obs);
        item.observed_at = t0() + Duration::seconds(p);
        item.metrics.reposts = Some((c.size_at(p) - 1) as u64);
        last = t.observe(&item, &mut Analysis::default());
    }
    last.forecast_peak.size
}

fn msle(pred: &[f64], actual: &[f64]) -> f64 {
    pred.iter()
        .zip(actual)
        .map(|(p, a)| ((1.0 + p.max(0.0)).ln() - (1.0 + a).ln()).powi(2))
        .sum::<f64>()
        / pred.len() as f64
}

/// Leave-one-out predictions of `ln S24 = a + b ln S_t`.
fn loglinear_loo(x: &[f64], y: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let xs: Vec<f64> = x
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, v)| v.ln())
                .collect();
            let ys: Vec<f64> = y
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, v)| v.ln())
                .collect();
            let n = xs.len() as f64;
            let mx = xs.iter().sum::<f64>() / n;
            let my = ys.iter().sum::<f64>() / n;
            let sxy: f64 = xs.iter().zip(&ys).map(|(a, b)| (a - mx) * (b - my)).sum();
            let sxx: f64 = xs.iter().map(|a| (a - mx).powi(2)).sum();
            let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
            (my - b * mx + b * x[i].ln()).exp()
        })
        .collect()
}

fn grid() -> Vec<HawkesParams> {
    let mut out = Vec::new();
    for tau_min_secs in [120.0, 300.0, 600.0, 1200.0] {
        for theta in [0.2, 0.4, 0.6, 0.8, 1.0] {
            for beta in [0.5, 0.75, 1.0, 1.5] {
                for max_branching in [0.3, 0.4, 0.5, 0.6, 0.7, 0.8] {
                    out.push(HawkesParams {
                        tau_min_secs,
                        tau_ratio: 4.0,
                        theta,
                        beta,
                        max_branching,
                    });
                }
            }
        }
    }
    out
}

fn main() {
    let calibrate = std::env::args().any(|a| a == "--calibrate");
    let Some(cascades) = load() else { return };
    if cascades.len() < 3 {
        println!(
            "eval_forecast: only {} cascades; nothing to evaluate.",
            cascades.len()
        );
        return;
    }
    let actual: Vec<f64> = cascades.iter().map(|c| c.size() as f64).collect();
    println!(
        "{} cascades, 24-hour sizes {}..{}",
        cascades.len(),
        actual.iter().cloned().fold(f64::INFINITY, f64::min),
        actual.iter().cloned().fold(0.0, f64::max)
    );
    println!("polled every {POLL_SECS} s; MSLE = mean (ln(1+forecast) - ln(1+actual))^2\n");
    println!("| observed | no growth | log-linear (LOO) | yuqing hawkes-pl (shipped) |");
    println!("|---|---|---|---|");
    let shipped = HawkesParams::CALIBRATED;
    for obs in [1800, 3600, 7200, 4 * 3600, 6 * 3600, 12 * 3600] {
        let seen: Vec<f64> = cascades.iter().map(|c| c.size_at(obs) as f64).collect();
        let base = loglinear_loo(&seen, &actual);
        let ours: Vec<f64> = cascades.iter().map(|c| forecast(c, obs, shipped)).collect();
        println!(
            "| {:.1} h | {:.4} | {:.4} | {:.4} |",
            obs as f64 / 3600.0,
            msle(&seen, &actual),
            msle(&base, &actual),
            msle(&ours, &actual)
        );
    }
    if !calibrate {
        return;
    }
    let g = grid();
    println!("\ncalibrating on a grid of {} parameter sets …", g.len());
    // errs[k][i]: squared log error of set k on cascade i, summed over 1 h and 2 h.
    let errs: Vec<Vec<f64>> = g
        .iter()
        .map(|p| {
            cascades
                .iter()
                .zip(&actual)
                .map(|(c, a)| {
                    [3600, 7200]
                        .iter()
                        .map(|obs| ((1.0 + forecast(c, *obs, *p)).ln() - (1.0 + a).ln()).powi(2))
                        .sum()
                })
                .collect()
        })
        .collect();
    let best = |skip: Option<usize>| -> usize {
        (0..g.len())
            .min_by(|a, b| {
                let s = |k: usize| {
                    errs[k]
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| Some(*i) != skip)
                        .map(|(_, e)| e)
                        .sum::<f64>()
                };
                s(*a).total_cmp(&s(*b))
            })
            .expect("a non-empty grid")
    };
    let k = best(None);
    println!("best: {:?}", g[k]);
    for obs in [3600, 7200] {
        let loo: Vec<f64> = (0..cascades.len())
            .map(|i| forecast(&cascades[i], obs, g[best(Some(i))]))
            .collect();
        let insample: Vec<f64> = cascades.iter().map(|c| forecast(c, obs, g[k])).collect();
        println!(
            "after {} h: MSLE in-sample {:.4}, leave-one-out calibration {:.4}",
            obs / 3600,
            msle(&insample, &actual),
            msle(&loo, &actual)
        );
    }
    println!("\nresidual table for crates/events/src/forecast.rs (hours, mean, sd of ln actual - ln forecast):");
    for hours in [0.167, 0.5, 1.0, 2.0, 4.0, 6.0, 12.0] {
        let obs = (hours * 3600.0) as i64;
        let r: Vec<f64> = cascades
            .iter()
            .zip(&actual)
            .map(|(c, a)| a.ln() - forecast(c, obs, g[k]).ln())
            .collect();
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / r.len() as f64).sqrt();
        println!("    ({hours}, {mean:.2}, {sd:.2}),");
    }
}
