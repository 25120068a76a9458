//! The 24-hour forecast: the self-exciting projection of [`crate::spread::Intensity`] with an
//! uncertainty band calibrated on real cascades.

use crate::spread::{Intensity, Kernel};

/// The forecast horizon: the size 24 hours after first sight.
pub const HORIZON_SECS: f64 = 24.0 * 3600.0;

/// `z` of the two-sided 80% band.
const Z80: f64 = 1.2816;

/// Residuals `ln(actual) − ln(forecast)` of the calibrated forecaster by hours observed: (hours,
/// mean, standard deviation). Written by
/// `cargo run --release -p yuqing-benches --bin eval_forecast -- --calibrate` on the 29 Weibo
/// cascades of `weibo_cascades/casflow_sample_weibo_29.txt` (30 cascades); a small sample, so the band is wide
/// on purpose early on.
pub const RESIDUALS: [(f64, f64, f64); 8] = [
    (0.167, 0.88, 1.10),
    (0.5, 0.24, 0.82),
    (1.0, -0.02, 0.48),
    (2.0, -0.09, 0.18),
    (4.0, -0.05, 0.10),
    (6.0, -0.03, 0.09),
    (12.0, 0.02, 0.07),
    (24.0, 0.0, 0.0),
];

/// Mean and standard deviation of the log residual after `hours` of observation.
pub fn residual_at(hours: f64) -> (f64, f64) {
    let first = RESIDUALS[0];
    if hours.is_nan() || hours <= first.0 {
        return (first.1, first.2);
    }
    for w in RESIDUALS.windows(2) {
        let (a, b) = (w[0], w[1]);
        if hours <= b.0 {
            let f = (hours - a.0) / (b.0 - a.0);
            return (a.1 + f * (b.1 - a.1), a.2 + f * (b.2 - a.2));
        }
    }
    (0.0, 0.0)
}

/// A forecast in seconds and counts, before it is dressed as a [`yuqing_core::Forecast`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outlook {
    /// Point forecast of the size at the horizon.
    pub size: f64,
    /// Lower end of the 80% band.
    pub low: f64,
    /// Upper end of the 80% band.
    pub high: f64,
    /// When the highest velocity was or is expected (seconds).
    pub peak_at: f64,
    /// The branching ratio used for the future.
    pub branching: f64,
    /// `hawkes-pl` or, past the horizon, `observed`.
    pub method: &'static str,
}

/// Forecasts the size at `origin + 24 h` from the state at `now` (seconds).
///
/// `observed_peak` is the highest velocity seen so far (per hour) and when. Past the horizon the
/// size observed then (`size_at_horizon`) is returned as is.
pub fn outlook(
    kernel: &Kernel,
    intensity: &Intensity,
    origin: f64,
    now: f64,
    size_at_horizon: Option<f64>,
    observed_peak: (f64, f64),
) -> Outlook {
    let horizon = origin + HORIZON_SECS;
    let current = intensity.size();
    if now >= horizon {
        let s = size_at_horizon.unwrap_or(current);
        return Outlook {
            size: s,
            low: s,
            high: s,
            peak_at: observed_peak.1,
            branching: 0.0,
            method: "observed",
        };
    }
    let p = intensity.project(kernel, now, horizon);
    let size = p.size.max(current);
    let (mu, sd) = residual_at((now - origin).max(0.0) / 3600.0);
    let sd = (sd * sd + 1.0 / (current + 1.0)).sqrt();
    let low = (size * (mu - Z80 * sd).exp()).max(current).min(size);
    let high = (size * (mu + Z80 * sd).exp()).max(size);
    let peak_at = if p.peak_rate_per_hour > observed_peak.0 {
        p.peak_at
    } else {
        observed_peak.1
    };
    Outlook {
        size,
        low,
        high,
        peak_at,
        branching: p.branching,
        method: "hawkes-pl",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spread::HawkesParams;

    #[test]
    fn band_contains_point_and_never_goes_below_the_present() {
        let k = HawkesParams::CALIBRATED.kernel();
        let mut s = Intensity::new();
        for i in 0..30 {
            s.add(&k, 1.0, i as f64 * 100.0, i as f64 * 100.0);
        }
        let o = outlook(&k, &s, 0.0, 3600.0, None, (30.0, 3000.0));
        assert!(o.low <= o.size && o.size <= o.high, "{o:?}");
        assert!(o.low >= 30.0);
        assert_eq!(o.method, "hawkes-pl");
        let done = outlook(&k, &s, 0.0, HORIZON_SECS + 1.0, Some(42.0), (30.0, 3000.0));
        assert_eq!(
            (done.size, done.low, done.high, done.method),
            (42.0, 42.0, 42.0, "observed")
        );
    }

    #[test]
    fn residuals_interpolate() {
        assert_eq!(residual_at(0.0), (RESIDUALS[0].1, RESIDUALS[0].2));
        let (_, sd) = residual_at(1.5);
        assert!(sd < RESIDUALS[2].2 && sd > RESIDUALS[3].2);
        assert_eq!(residual_at(30.0), (0.0, 0.0));
    }
}
