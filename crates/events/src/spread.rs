//! Spread over event time: the self-exciting intensity behind the forecast, the velocity bins and
//! the stage on the 2h/6h/24h curve.
//!
//! # The intensity
//!
//! An event's interactions (items + reposts + comments) are modelled as a self-exciting (Hawkes)
//! point process whose memory kernel is a power law with a short-time cut-off, written as a
//! mixture of [`COMPONENTS`] exponentials on a geometric grid of time scales
//! `τ_k = τ_min · r^k` with weights `w_k ∝ τ_k^-(1+θ)`, normalised so that `Σ w_k τ_k = 1`. The
//! mixture keeps the state of an event to `COMPONENTS` numbers
//! `A_k(t) = Σ_i e^{-(t - t_i)/τ_k}`, updated in O(1) per observation, and gives in closed form:
//!
//! - the integrated kernel of everything seen, `Σ_i Φ(t - t_i) = Σ_k w_k τ_k (N - A_k)`, hence the
//!   maximum-likelihood branching ratio `n̂ = (N - 1) / Σ_i Φ(t - t_i)` (the first item is the
//!   immigrant, everything after it is offspring);
//! - the expected future: `dB_k/ds = -B_k/τ_k + λ(s)`, `λ(s) = n_f Σ_k w_k B_k(s)`, integrated
//!   from now to the horizon with `n_f = min(β·n̂, n_max)`; `β` and `n_max` are calibrated.
//!
//! Increments that were only seen in aggregate (a re-observation says 340 more reposts since the
//! last look) are spread uniformly over the interval since the previous observation.

use serde::{Deserialize, Serialize};
use yuqing_core::Stage;

/// Exponential components of the power-law kernel.
pub const COMPONENTS: usize = 6;

/// Parameters of the forecaster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HawkesParams {
    /// The shortest time scale `τ_min` (seconds): the kernel is flat below it.
    pub tau_min_secs: f64,
    /// Ratio between successive time scales.
    pub tau_ratio: f64,
    /// Power-law tail exponent `θ` of the kernel `φ(s) ∝ s^-(1+θ)`.
    pub theta: f64,
    /// Multiplier `β` on the estimated branching ratio for the future.
    pub beta: f64,
    /// Cap `n_max` on the branching ratio used for the future (keeps the process subcritical).
    pub max_branching: f64,
}

impl HawkesParams {
    /// Calibrated on the 30 Weibo repost cascades of `weibo_cascades/casflow_sample_weibo_29.txt`
    /// (observations polled every 5 minutes, objective: the sum of the MSLE of the 24-hour size
    /// after 1 h and after 2 h; `max_branching` binds, so `beta` is weakly identified) by
    /// `cargo run --release -p yuqing-benches --bin eval_forecast -- --calibrate`.
    pub const CALIBRATED: HawkesParams = HawkesParams {
        tau_min_secs: 600.0,
        tau_ratio: 4.0,
        theta: 0.4,
        beta: 0.5,
        max_branching: 0.5,
    };

    /// The kernel these parameters describe.
    pub fn kernel(&self) -> Kernel {
        let mut tau = [0.0; COMPONENTS];
        let mut w = [0.0; COMPONENTS];
        let mut norm = 0.0;
        for k in 0..COMPONENTS {
            tau[k] = self.tau_min_secs * self.tau_ratio.powi(k as i32);
            w[k] = tau[k].powf(-(1.0 + self.theta));
            norm += w[k] * tau[k];
        }
        for wk in &mut w {
            *wk /= norm;
        }
        Kernel {
            tau,
            w,
            beta: self.beta,
            max_branching: self.max_branching,
        }
    }
}

impl Default for HawkesParams {
    fn default() -> Self {
        HawkesParams::CALIBRATED
    }
}

/// A kernel ready for use: time scales and normalised weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kernel {
    tau: [f64; COMPONENTS],
    w: [f64; COMPONENTS],
    beta: f64,
    max_branching: f64,
}

/// The O(1) state of a self-exciting process: size and the decayed sums `A_k`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Intensity {
    /// The time (seconds) `a` refers to.
    #[serde(with = "crate::bits::f64")]
    t: f64,
    /// Total mass added.
    #[serde(with = "crate::bits::f64")]
    n: f64,
    /// `A_k(t)`.
    #[serde(with = "crate::bits::f64_array")]
    a: [f64; COMPONENTS],
    /// Whether anything was added yet.
    started: bool,
}

/// What [`Intensity::project`] expects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    /// Expected size at the horizon.
    pub size: f64,
    /// The branching ratio used for the future.
    pub branching: f64,
    /// The highest expected rate (per hour) between now and the horizon.
    pub peak_rate_per_hour: f64,
    /// When that rate is expected (seconds).
    pub peak_at: f64,
}

impl Intensity {
    /// An empty process.
    pub fn new() -> Intensity {
        Intensity::default()
    }

    /// Total mass added.
    pub fn size(&self) -> f64 {
        self.n
    }

    /// Adds `m` arrivals spread uniformly over `[from, to]` (seconds; a point mass at `to` when the
    /// interval is shorter than a second).
    pub fn add(&mut self, k: &Kernel, m: f64, from: f64, to: f64) {
        if !(m > 0.0 && m.is_finite() && from.is_finite() && to.is_finite()) {
            return;
        }
        let (from, to) = if from <= to { (from, to) } else { (to, from) };
        if !self.started {
            self.started = true;
            self.t = to;
        }
        let len = to - from;
        for i in 0..COMPONENTS {
            let tau = k.tau[i];
            let at_to = if len < 1.0 {
                m
            } else {
                m * tau / len * (1.0 - (-len / tau).exp())
            };
            if to >= self.t {
                self.a[i] = self.a[i] * (-(to - self.t) / tau).exp() + at_to;
            } else {
                self.a[i] += at_to * (-(self.t - to) / tau).exp();
            }
        }
        if to > self.t {
            self.t = to;
        }
        self.n += m;
    }

    fn decayed(&self, k: &Kernel, now: f64) -> [f64; COMPONENTS] {
        let mut a = self.a;
        if now > self.t {
            for (ai, tau) in a.iter_mut().zip(k.tau) {
                *ai *= (-(now - self.t) / tau).exp();
            }
        }
        a
    }

    /// The maximum-likelihood branching ratio at `now`.
    pub fn branching(&self, k: &Kernel, now: f64) -> f64 {
        let a = self.decayed(k, now);
        branching_from(k, self.n, &a)
    }

    /// The expected course from `now` to `horizon` (seconds).
    pub fn project(&self, k: &Kernel, now: f64, horizon: f64) -> Projection {
        const STEPS: usize = 48;
        let mut b = self.decayed(k, now);
        let n_hat = branching_from(k, self.n, &b);
        let nf = (k.beta * n_hat).min(k.max_branching).max(0.0);
        let lambda =
            |b: &[f64; COMPONENTS]| nf * b.iter().zip(k.w).map(|(x, w)| x * w).sum::<f64>();
        let mut best = (lambda(&b) * 3600.0, now);
        if horizon.is_nan() || horizon <= now || nf == 0.0 {
            return Projection {
                size: self.n,
                branching: nf,
                peak_rate_per_hour: best.0,
                peak_at: best.1,
            };
        }
        let dt = (horizon - now) / STEPS as f64;
        let mut half = [0.0; COMPONENTS];
        let mut full = [0.0; COMPONENTS];
        for i in 0..COMPONENTS {
            half[i] = (-dt / 2.0 / k.tau[i]).exp();
            full[i] = (-dt / k.tau[i]).exp();
        }
        let mut total = 0.0;
        let mut s = now;
        for _ in 0..STEPS {
            let l0 = lambda(&b);
            let mut mid = [0.0; COMPONENTS];
            for i in 0..COMPONENTS {
                mid[i] = b[i] * half[i] + l0 * dt / 2.0;
            }
            let lm = lambda(&mid);
            for i in 0..COMPONENTS {
                b[i] = b[i] * full[i] + lm * dt;
            }
            total += lm * dt;
            s += dt;
            if lm * 3600.0 > best.0 {
                best = (lm * 3600.0, s - dt / 2.0);
            }
        }
        Projection {
            size: self.n + total,
            branching: nf,
            peak_rate_per_hour: best.0,
            peak_at: best.1,
        }
    }
}

fn branching_from(k: &Kernel, n: f64, a: &[f64; COMPONENTS]) -> f64 {
    if n <= 1.0 {
        return 0.0;
    }
    let den: f64 = (0..COMPONENTS)
        .map(|i| k.w[i] * k.tau[i] * (n - a[i]).max(0.0))
        .sum();
    if den <= 1e-9 {
        // Everything arrived at this instant: no evidence about the rate of offspring yet.
        return 0.0;
    }
    (n - 1.0) / den
}

/// Width of a velocity bin (seconds).
pub(crate) const BIN_SECS: i64 = 600;
/// Bins kept: two hours and one partial bin.
pub(crate) const NBINS: usize = 13;
/// Kinds of interaction counted in the bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Items = 0,
    Reposts = 1,
    Comments = 2,
}

/// Interactions per 10-minute bin over the last two hours, by kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Bins {
    /// Index (time / BIN_SECS) of the newest bin.
    head: i64,
    /// The latest time (seconds) anything was added at: the newest bin is filled only up to it.
    #[serde(with = "crate::bits::f64")]
    latest: f64,
    #[serde(with = "crate::bits::f32_grid")]
    v: [[f32; NBINS]; 3],
}

impl Bins {
    fn slot(b: i64) -> usize {
        b.rem_euclid(NBINS as i64) as usize
    }

    fn advance(&mut self, bin: i64) {
        if bin <= self.head {
            return;
        }
        if bin - self.head >= NBINS as i64 {
            self.v = Default::default();
        } else {
            for b in self.head + 1..=bin {
                for k in &mut self.v {
                    k[Self::slot(b)] = 0.0;
                }
            }
        }
        self.head = bin;
    }

    /// Adds `m` of `kind` spread over `[from, to]` (seconds).
    pub(crate) fn add(&mut self, kind: Kind, m: f64, from: f64, to: f64) {
        if !(m > 0.0 && m.is_finite() && from.is_finite() && to.is_finite()) {
            return;
        }
        let (from, to) = if from <= to { (from, to) } else { (to, from) };
        let to_bin = (to / BIN_SECS as f64).floor() as i64;
        if self.v.iter().all(|k| k.iter().all(|x| *x == 0.0)) && to_bin > self.head {
            self.head = to_bin;
        }
        self.advance(to_bin);
        if to_bin == self.head {
            self.latest = self.latest.max(to);
        }
        if self.latest < (self.head * BIN_SECS) as f64 {
            self.latest = to;
        }
        let oldest = self.head - (NBINS as i64 - 1);
        let kv = &mut self.v[kind as usize];
        if to - from < 1.0 {
            if to_bin >= oldest {
                kv[Self::slot(to_bin)] += m as f32;
            }
            return;
        }
        let from_bin = ((from / BIN_SECS as f64).floor() as i64).max(oldest);
        for b in from_bin..=to_bin {
            let lo = (b * BIN_SECS) as f64;
            let hi = lo + BIN_SECS as f64;
            let overlap = (hi.min(to) - lo.max(from)).max(0.0);
            kv[Self::slot(b)] += (m * overlap / (to - from)) as f32;
        }
    }

    /// Interactions of `kinds` in `(from, to]` (seconds), assuming uniform arrivals within a bin.
    fn sum(&self, kinds: &[Kind], from: f64, to: f64) -> f64 {
        let oldest = self.head - (NBINS as i64 - 1);
        let mut total = 0.0;
        for b in oldest..=self.head {
            let lo = (b * BIN_SECS) as f64;
            // The newest bin is filled only up to the latest arrival.
            let hi = if b == self.head {
                self.latest.clamp(lo + 1.0, lo + BIN_SECS as f64)
            } else {
                lo + BIN_SECS as f64
            };
            let overlap = (hi.min(to) - lo.max(from)).max(0.0);
            if overlap > 0.0 {
                for &k in kinds {
                    total += f64::from(self.v[k as usize][Self::slot(b)]) * overlap / (hi - lo);
                }
            }
        }
        total
    }

    /// Interactions of `kinds` in the hour before `now`.
    pub(crate) fn last_hour(&self, kinds: &[Kind], now: f64) -> f64 {
        self.sum(kinds, now - 3600.0, now)
    }

    /// Interactions of `kinds` in the hour before that.
    pub(crate) fn hour_before(&self, kinds: &[Kind], now: f64) -> f64 {
        self.sum(kinds, now - 7200.0, now - 3600.0)
    }
}

/// All kinds.
pub(crate) const ALL_KINDS: [Kind; 3] = [Kind::Items, Kind::Reposts, Kind::Comments];

/// Why an event is fading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FadeCause {
    /// 24 hours after first sight (or after a flare).
    Age,
    /// Velocity far below its peak.
    Cooled,
}

/// The rules the stage machine follows (from [`crate::EventsConfig`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CurveRules {
    pub fade_ratio: f64,
    pub flare_ratio: f64,
    pub min_peak_velocity: f64,
}

/// The stage machine of one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Curve {
    pub stage: Stage,
    /// First sight, or the last flare (seconds).
    #[serde(with = "crate::bits::f64")]
    pub wave_origin: f64,
    #[serde(with = "crate::bits::f64")]
    pub wave_peak_v: f64,
    #[serde(with = "crate::bits::f64")]
    pub wave_peak_at: f64,
    #[serde(with = "crate::bits::f64")]
    pub trough_v: f64,
    pub flares: u32,
    pub fade: Option<FadeCause>,
    /// The latest time the machine saw (seconds).
    #[serde(with = "crate::bits::f64")]
    pub t: f64,
}

impl Curve {
    pub(crate) fn new(origin: f64) -> Curve {
        Curve {
            stage: Stage::Emerging,
            wave_origin: origin,
            wave_peak_v: 0.0,
            wave_peak_at: origin,
            trough_v: 0.0,
            flares: 0,
            fade: None,
            t: origin,
        }
    }

    /// Moves the machine to time `t` with velocity `v` (interactions per hour); returns the stage.
    pub(crate) fn update(&mut self, rules: &CurveRules, t: f64, v: f64) -> Stage {
        let t = t.max(self.t);
        self.t = t;
        if v > self.wave_peak_v {
            self.wave_peak_v = v;
            self.wave_peak_at = t;
        }
        if self.stage == Stage::Fading {
            self.trough_v = self.trough_v.min(v);
            let flare = v > 0.0
                && v >= rules
                    .min_peak_velocity
                    .max(rules.flare_ratio * self.wave_peak_v)
                && v >= 2.0 * self.trough_v;
            if flare {
                self.flares += 1;
                self.wave_origin = t;
                self.wave_peak_v = v;
                self.wave_peak_at = t;
                self.fade = None;
                self.stage = Stage::Spreading;
            }
            return self.stage;
        }
        let age = t - self.wave_origin;
        let base = if self.flares == 0 && age < 2.0 * 3600.0 {
            Stage::Emerging
        } else if age < 6.0 * 3600.0 {
            Stage::Spreading
        } else if age < 24.0 * 3600.0 {
            Stage::Peak
        } else {
            Stage::Fading
        };
        let cooled = self.wave_peak_v >= rules.min_peak_velocity.max(f64::MIN_POSITIVE)
            && v <= rules.fade_ratio * self.wave_peak_v
            && t - self.wave_peak_at >= 3600.0;
        if base == Stage::Fading {
            self.fade = Some(FadeCause::Age);
        } else if cooled {
            self.fade = Some(FadeCause::Cooled);
        }
        self.stage = if base == Stage::Fading || cooled {
            self.trough_v = v;
            Stage::Fading
        } else {
            base
        };
        self.stage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intensity_matches_direct_sums() {
        let k = HawkesParams::CALIBRATED.kernel();
        let mut s = Intensity::new();
        let times = [0.0, 30.0, 100.0, 1000.0, 2000.0];
        for t in times {
            s.add(&k, 1.0, t, t);
        }
        // Out of order: an arrival before the latest.
        s.add(&k, 1.0, 500.0, 500.0);
        let now = 3600.0;
        let mut all = times.to_vec();
        all.push(500.0);
        let den: f64 = all
            .iter()
            .map(|ti| {
                (0..COMPONENTS)
                    .map(|i| k.w[i] * k.tau[i] * (1.0 - (-(now - ti) / k.tau[i]).exp()))
                    .sum::<f64>()
            })
            .sum();
        let direct = 5.0 / den;
        assert!((s.branching(&k, now) - direct).abs() < 1e-9 * direct.max(1.0));
        assert_eq!(s.size(), 6.0);
    }

    #[test]
    fn projection_grows_with_recent_activity_and_is_bounded() {
        let k = HawkesParams::CALIBRATED.kernel();
        let mut slow = Intensity::new();
        let mut fast = Intensity::new();
        for i in 0..60 {
            slow.add(&k, 1.0, i as f64 * 60.0, i as f64 * 60.0);
            fast.add(&k, 2.0, i as f64 * 60.0, i as f64 * 60.0);
        }
        let ps = slow.project(&k, 3600.0, 86400.0);
        let pf = fast.project(&k, 3600.0, 86400.0);
        assert!(ps.size > 60.0 && pf.size > ps.size);
        assert!(ps.branching <= HawkesParams::CALIBRATED.max_branching);
        // A burst long ago predicts less than the same burst just now.
        let mut old = Intensity::new();
        for i in 0..60 {
            old.add(&k, 1.0, i as f64, i as f64);
        }
        assert!(old.project(&k, 7200.0, 86400.0).size < old.project(&k, 120.0, 86400.0).size);
        assert_eq!(Intensity::new().project(&k, 0.0, 86400.0).size, 0.0);
    }

    #[test]
    fn bins_measure_the_last_hour() {
        let mut b = Bins::default();
        let t0 = 1_700_000_000.0;
        for i in 0..120 {
            b.add(
                Kind::Reposts,
                1.0,
                t0 + i as f64 * 60.0,
                t0 + i as f64 * 60.0,
            );
        }
        let now = t0 + 119.0 * 60.0 + 1.0;
        let v = b.last_hour(&[Kind::Reposts], now);
        assert!((v - 60.0).abs() <= 10.0, "{v}");
        assert!((b.hour_before(&[Kind::Reposts], now) - 60.0).abs() <= 10.0);
        assert_eq!(b.last_hour(&[Kind::Items], now), 0.0);
        // Spread over three hours: a third lands in the last hour.
        let mut c = Bins::default();
        c.add(Kind::Comments, 300.0, t0, t0 + 3.0 * 3600.0);
        let v = c.last_hour(&[Kind::Comments], t0 + 3.0 * 3600.0);
        assert!((v - 100.0).abs() < 1.0, "{v}");
        // Quiet for a long time: nothing left.
        assert_eq!(c.last_hour(&ALL_KINDS, t0 + 10.0 * 3600.0), 0.0);
    }

    #[test]
    fn curve_follows_the_clock_and_velocity() {
        let rules = CurveRules {
            fade_ratio: 0.2,
            flare_ratio: 0.5,
            min_peak_velocity: 20.0,
        };
        let mut c = Curve::new(0.0);
        assert_eq!(c.update(&rules, 3600.0, 5.0), Stage::Emerging);
        assert_eq!(c.update(&rules, 3.0 * 3600.0, 5.0), Stage::Spreading);
        assert_eq!(c.update(&rules, 7.0 * 3600.0, 5.0), Stage::Peak);
        assert_eq!(c.update(&rules, 25.0 * 3600.0, 5.0), Stage::Fading);
        assert_eq!(c.fade, Some(FadeCause::Age));
        // A slow event past 24 h does not "flare" just by carrying on.
        assert_eq!(c.update(&rules, 26.0 * 3600.0, 6.0), Stage::Fading);
        // It flares when it surges.
        assert_eq!(c.update(&rules, 27.0 * 3600.0, 100.0), Stage::Spreading);
        assert_eq!(c.flares, 1);
        // Cooling by velocity.
        let mut c = Curve::new(0.0);
        c.update(&rules, 1800.0, 500.0);
        assert_eq!(
            c.update(&rules, 3000.0, 50.0),
            Stage::Emerging,
            "too soon after the peak"
        );
        assert_eq!(c.update(&rules, 5600.0, 50.0), Stage::Fading);
        assert_eq!(c.fade, Some(FadeCause::Cooled));
        assert_eq!(
            c.update(&rules, 6000.0, 120.0),
            Stage::Fading,
            "sticky below the flare ratio"
        );
        assert_eq!(c.update(&rules, 6600.0, 300.0), Stage::Spreading);
    }
}
