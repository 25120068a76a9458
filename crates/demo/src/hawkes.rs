//! The spread model: a marked, self-exciting (Hawkes) branching process, its simulator and its
//! maximum-likelihood fit to real repost cascades.
//!
//! A cascade starts with a root post at time 0. Every post `i` in it (the root and each repost)
//! triggers reposts of its own at rate `κ_i · φ(t − t_i)`, where `φ` is a normalised [`Kernel`]
//! (exponential or power-law). The root's weight `κ_root` is the post's reach (how many direct
//! reposts it draws); a repost's weight is drawn from a gamma distribution with mean
//! [`HawkesParams::branching`] (the branching ratio) and shape [`HawkesParams::dispersion`], so a few
//! reposters are influential and most are not (a negative-binomial number of children).
//!
//! [`fit`] estimates the kernel, the branching ratio and the dispersion by maximum likelihood from
//! cascades whose parent links are known (the DeepHawkes/CasFlow format parsed by
//! [`parse_casflow`]); the root weights are profiled out and summarised as a log-normal.
//! [`simulate_cascade`] and [`simulate_arrivals`] draw from the model.

use std::collections::HashMap;

use rand::Rng;
use rand_distr::{Distribution, Gamma, Poisson};
use serde::{Deserialize, Serialize};

/// A normalised triggering kernel: the density of the delay between a post and a repost it causes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Kernel {
    /// `φ(τ) = β·e^{−βτ}`.
    Exponential {
        /// Decay rate per second.
        beta: f64,
    },
    /// `φ(τ) = θ·c^θ / (τ + c)^{1+θ}` (Omori / power law).
    PowerLaw {
        /// Time scale in seconds.
        c: f64,
        /// Tail exponent.
        theta: f64,
    },
}

impl Kernel {
    /// The density at delay `tau` (seconds).
    pub fn pdf(&self, tau: f64) -> f64 {
        let tau = tau.max(0.0);
        match *self {
            Kernel::Exponential { beta } => beta * (-beta * tau).exp(),
            Kernel::PowerLaw { c, theta } => theta * c.powf(theta) / (tau + c).powf(1.0 + theta),
        }
    }

    /// The log-density at delay `tau`.
    pub fn ln_pdf(&self, tau: f64) -> f64 {
        let tau = tau.max(0.0);
        match *self {
            Kernel::Exponential { beta } => beta.ln() - beta * tau,
            Kernel::PowerLaw { c, theta } => {
                theta.ln() + theta * c.ln() - (1.0 + theta) * (tau + c).ln()
            }
        }
    }

    /// The probability that the delay is at most `tau`.
    pub fn cdf(&self, tau: f64) -> f64 {
        if tau <= 0.0 {
            return 0.0;
        }
        match *self {
            Kernel::Exponential { beta } => 1.0 - (-beta * tau).exp(),
            Kernel::PowerLaw { c, theta } => 1.0 - (c / (tau + c)).powf(theta),
        }
    }

    /// The delay `τ` with `cdf(τ) = p` (`p` in `[0, 1)`).
    pub fn quantile(&self, p: f64) -> f64 {
        let p = p.clamp(0.0, 1.0 - 1e-12);
        match *self {
            Kernel::Exponential { beta } => -(1.0 - p).ln() / beta,
            Kernel::PowerLaw { c, theta } => c * ((1.0 - p).powf(-1.0 / theta) - 1.0),
        }
    }

    /// Draws a delay conditioned on being at most `window` seconds.
    pub fn sample_within<R: Rng + ?Sized>(&self, window: f64, rng: &mut R) -> f64 {
        let u: f64 = rng.gen();
        self.quantile(u * self.cdf(window)).min(window)
    }

    /// True when every parameter is finite and positive.
    pub fn is_valid(&self) -> bool {
        match *self {
            Kernel::Exponential { beta } => beta.is_finite() && beta > 0.0,
            Kernel::PowerLaw { c, theta } => {
                c.is_finite() && c > 0.0 && theta.is_finite() && theta > 0.0
            }
        }
    }

    /// `exponential` or `power_law`.
    pub fn name(&self) -> &'static str {
        match self {
            Kernel::Exponential { .. } => "exponential",
            Kernel::PowerLaw { .. } => "power_law",
        }
    }
}

/// The parameters of the spread model (what `fixtures/demo/hawkes.toml` holds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HawkesParams {
    /// The triggering kernel shared by the root and the reposts.
    pub kernel: Kernel,
    /// Branching ratio: the mean number of reposts a repost triggers (over an infinite horizon).
    pub branching: f64,
    /// Gamma shape of a repost's weight: small means a few influential reposters.
    pub dispersion: f64,
    /// Mean of `ln κ_root` over the fitted cascades (the root's direct reposts over 24 h).
    pub root_log_mean: f64,
    /// Standard deviation of `ln κ_root` over the fitted cascades.
    pub root_log_sd: f64,
}

impl HawkesParams {
    /// Parameters used when no fitted file is available: a power law with a short time scale and a
    /// subcritical branching ratio.
    pub fn fallback() -> HawkesParams {
        HawkesParams {
            kernel: Kernel::PowerLaw {
                c: 300.0,
                theta: 0.5,
            },
            branching: 0.3,
            dispersion: 0.2,
            root_log_mean: 4.0,
            root_log_sd: 1.0,
        }
    }

    /// Problems with the values, each reported under `path`.
    pub fn validate(&self, path: &str, problems: &mut yuqing_core::Problems) {
        if !self.kernel.is_valid() {
            problems.at(path, "kernel", "parameters must be finite and positive");
        }
        if !(self.branching.is_finite() && (0.0..1.0).contains(&self.branching)) {
            problems.at(
                path,
                "branching",
                "must be in [0, 1) (a subcritical process)",
            );
        }
        if !(self.dispersion.is_finite() && self.dispersion > 0.0) {
            problems.at(path, "dispersion", "must be positive");
        }
        if !self.root_log_mean.is_finite() {
            problems.at(path, "root_log_mean", "must be finite");
        }
        if !(self.root_log_sd.is_finite() && self.root_log_sd >= 0.0) {
            problems.at(path, "root_log_sd", "must be finite and non-negative");
        }
    }
}

/// A simulated cascade: the reposts of one root, in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cascade {
    /// Seconds after the root of each repost, ascending.
    pub times: Vec<f64>,
    /// The parent of each repost: `None` for the root, else the index of an earlier repost.
    pub parents: Vec<Option<usize>>,
    /// The weight κ each repost was given (what it triggers on average over an infinite horizon).
    pub weights: Vec<f64>,
}

impl Cascade {
    /// Number of reposts.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True when nobody reposted.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }
}

/// Draws a poisson count, treating degenerate means as zero.
fn poisson<R: Rng + ?Sized>(mean: f64, rng: &mut R) -> usize {
    if !(mean.is_finite() && mean > 0.0) {
        return 0;
    }
    match Poisson::new(mean) {
        Ok(p) => {
            let x: f64 = p.sample(rng);
            x as usize
        }
        Err(_) => 0,
    }
}

/// Draws a repost's weight: gamma with mean `branching` and shape `dispersion`.
fn repost_weight<R: Rng + ?Sized>(p: &HawkesParams, rng: &mut R) -> f64 {
    if p.branching <= 0.0 {
        return 0.0;
    }
    match Gamma::new(p.dispersion, p.branching / p.dispersion) {
        Ok(g) => g.sample(rng),
        Err(_) => p.branching,
    }
}

/// Simulates the reposts of a root with weight `root_weight` over `horizon` seconds, stopping at
/// `max_size` reposts.
pub fn simulate_cascade<R: Rng + ?Sized>(
    p: &HawkesParams,
    root_weight: f64,
    horizon: f64,
    max_size: usize,
    rng: &mut R,
) -> Cascade {
    // Generation by generation: (time, parent, weight) of reposts still to expand.
    let mut nodes: Vec<(f64, Option<usize>, f64)> = Vec::new();
    let n_root = poisson(root_weight * p.kernel.cdf(horizon), rng);
    for _ in 0..n_root.min(max_size) {
        let t = p.kernel.sample_within(horizon, rng);
        nodes.push((t, None, repost_weight(p, rng)));
    }
    let mut next = 0;
    while next < nodes.len() && nodes.len() < max_size {
        let (t, _, w) = nodes[next];
        let window = horizon - t;
        let n = poisson(w * p.kernel.cdf(window), rng);
        for _ in 0..n {
            if nodes.len() >= max_size {
                break;
            }
            let d = p.kernel.sample_within(window, rng);
            nodes.push((t + d, Some(next), repost_weight(p, rng)));
        }
        next += 1;
    }
    // Sort by time and remap parent indices.
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by(|&a, &b| nodes[a].0.total_cmp(&nodes[b].0).then(a.cmp(&b)));
    let mut rank = vec![0usize; nodes.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    let mut c = Cascade::default();
    for &i in &order {
        let (t, parent, w) = nodes[i];
        c.times.push(t);
        c.parents.push(parent.map(|q| rank[q]));
        c.weights.push(w);
    }
    c
}

/// Simulates a self-exciting point process with a constant baseline `rate` (events per second)
/// over `[0, window]`, each event triggering a Poisson number of further events with mean
/// `branching` through `kernel`, all within `horizon`; at most `max_events`. Returns sorted times.
pub fn simulate_arrivals<R: Rng + ?Sized>(
    rate: f64,
    window: f64,
    branching: f64,
    kernel: &Kernel,
    horizon: f64,
    max_events: usize,
    rng: &mut R,
) -> Vec<f64> {
    let window = window.min(horizon).max(0.0);
    let mut times: Vec<f64> = Vec::new();
    let n0 = poisson(rate * window, rng);
    for _ in 0..n0.min(max_events) {
        times.push(rng.gen::<f64>() * window);
    }
    let mut next = 0;
    while next < times.len() && times.len() < max_events {
        let t = times[next];
        let n = poisson(branching * kernel.cdf(horizon - t), rng);
        for _ in 0..n {
            if times.len() >= max_events {
                break;
            }
            times.push(t + kernel.sample_within(horizon - t, rng));
        }
        next += 1;
    }
    times.sort_by(f64::total_cmp);
    times
}

// ---------------------------------------------------------------------------------------------
// Fitting
// ---------------------------------------------------------------------------------------------

/// A real cascade: the root at index 0 (time 0) and its reposts with known parents.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedCascade {
    /// Seconds since the root, ascending; `times[0] == 0`.
    pub times: Vec<f64>,
    /// Parent of each node (`None` only for the root at index 0).
    pub parents: Vec<Option<usize>>,
    /// The observation window in seconds.
    pub horizon: f64,
}

impl ObservedCascade {
    /// Reposts (nodes other than the root).
    pub fn reposts(&self) -> usize {
        self.times.len().saturating_sub(1)
    }

    /// Reposts at most `t` seconds after the root.
    pub fn reposts_by(&self, t: f64) -> usize {
        self.times.iter().skip(1).filter(|&&x| x <= t).count()
    }
}

/// A malformed line of a cascade file.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CascadeParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses the DeepHawkes/CasFlow cascade format:
/// `id \t root_user \t publish_unix_time \t n \t path:seconds path:seconds …`, where a path is the
/// chain of user ids from the root to the reposter (`1/850430/77:481`). Blank lines are skipped;
/// a malformed line is an error naming it. Nodes whose parent path is missing attach to their
/// nearest listed ancestor (or the root).
pub fn parse_casflow(text: &str, horizon: f64) -> Result<Vec<ObservedCascade>, CascadeParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let err = |m: &str| CascadeParseError {
            line: line_no,
            message: m.to_string(),
        };
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() < 5 {
            return Err(err("expected 5 tab-separated fields"));
        }
        let mut nodes: Vec<(String, f64)> = Vec::new();
        for tok in fields[4].split_whitespace() {
            let (path, t) = tok
                .rsplit_once(':')
                .ok_or_else(|| err(&format!("`{tok}` is not path:seconds")))?;
            let t: f64 = t
                .parse()
                .map_err(|_| err(&format!("`{tok}` has a non-numeric time")))?;
            if !t.is_finite() || t < 0.0 || path.is_empty() {
                return Err(err(&format!(
                    "`{tok}` has a negative time or an empty path"
                )));
            }
            nodes.push((path.to_string(), t));
        }
        if nodes.is_empty() {
            return Err(err("no nodes"));
        }
        // The root is the node with a single-element path (or the earliest).
        let root_pos = nodes
            .iter()
            .position(|(p, _)| !p.contains('/'))
            .unwrap_or(0);
        nodes.swap(0, root_pos);
        let root_time = nodes[0].1;
        let mut order: Vec<usize> = (1..nodes.len()).collect();
        order.sort_by(|&a, &b| nodes[a].1.total_cmp(&nodes[b].1));
        order.insert(0, 0);
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (new, &old) in order.iter().enumerate() {
            index.entry(nodes[old].0.as_str()).or_insert(new);
        }
        let mut times = Vec::with_capacity(nodes.len());
        let mut parents = Vec::with_capacity(nodes.len());
        for (new, &old) in order.iter().enumerate() {
            let (path, t) = (&nodes[old].0, nodes[old].1);
            times.push((t - root_time).max(0.0));
            if new == 0 {
                parents.push(None);
                continue;
            }
            let mut parent = 0usize;
            let mut prefix = path.as_str();
            while let Some((head, _)) = prefix.rsplit_once('/') {
                if let Some(&p) = index.get(head) {
                    if p < new {
                        parent = p;
                        break;
                    }
                }
                prefix = head;
            }
            parents.push(Some(parent));
        }
        out.push(ObservedCascade {
            times,
            parents,
            horizon,
        });
    }
    Ok(out)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The kernel families [`fit`] can estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelFamily {
    /// [`Kernel::Exponential`].
    Exponential,
    /// [`Kernel::PowerLaw`].
    PowerLaw,
}

/// The outcome of a maximum-likelihood fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// The fitted parameters.
    pub params: HawkesParams,
    /// The maximised log-likelihood (root weights profiled out).
    pub log_likelihood: f64,
    /// Number of free parameters (kernel + branching + dispersion + one weight per root).
    pub parameters: usize,
    /// Akaike information criterion, `2k − 2 ln L`.
    pub aic: f64,
    /// Cascades used.
    pub cascades: usize,
    /// Reposts used.
    pub reposts: usize,
}

/// The log-likelihood of `cascades` under `kernel`, `branching` and `dispersion`, each root's
/// weight set to its maximum-likelihood value. Returns the value and the root weights.
pub fn log_likelihood(
    cascades: &[ObservedCascade],
    kernel: &Kernel,
    branching: f64,
    dispersion: f64,
) -> (f64, Vec<f64>) {
    let mut ll = 0.0;
    let mut roots = Vec::with_capacity(cascades.len());
    let k = dispersion;
    let m = branching;
    for c in cascades {
        let n = c.times.len();
        let mut children = vec![0usize; n];
        for (i, p) in c.parents.iter().enumerate() {
            if let Some(p) = *p {
                children[p] += 1;
                ll += kernel.ln_pdf(c.times[i] - c.times[p]);
            }
        }
        // Root: Poisson process with weight κ̂ = children / exposure.
        let e0 = kernel.cdf(c.horizon - c.times[0]).max(1e-300);
        let c0 = children[0] as f64;
        let kappa = c0 / e0;
        roots.push(kappa);
        if c0 > 0.0 {
            ll += c0 * kappa.ln() - kappa * e0;
        }
        // Reposts: gamma-mixed Poisson process.
        for (t, &ci) in c.times.iter().zip(&children).skip(1) {
            let e = kernel.cdf(c.horizon - t);
            let ci = ci as f64;
            ll += k * (k / m).ln() - ln_gamma(k) + ln_gamma(k + ci) - (k + ci) * (e + k / m).ln();
        }
    }
    (ll, roots)
}

/// Minimises `f` with the Nelder–Mead simplex from `x0` with initial step `step`.
fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], step: f64, iters: usize) -> (Vec<f64>, f64) {
    let n = x0.len();
    let mut simplex: Vec<Vec<f64>> = vec![x0.to_vec()];
    for i in 0..n {
        let mut x = x0.to_vec();
        x[i] += step;
        simplex.push(x);
    }
    let mut values: Vec<f64> = simplex.iter().map(|x| f(x)).collect();
    for _ in 0..iters {
        let mut idx: Vec<usize> = (0..=n).collect();
        idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        simplex = idx.iter().map(|&i| simplex[i].clone()).collect();
        values = idx.iter().map(|&i| values[i]).collect();
        if (values[n] - values[0]).abs() < 1e-9 * (1.0 + values[0].abs()) {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|x| x[j]).sum::<f64>() / n as f64)
            .collect();
        let at = |s: f64| -> Vec<f64> {
            (0..n)
                .map(|j| centroid[j] + s * (simplex[n][j] - centroid[j]))
                .collect()
        };
        let xr = at(-1.0);
        let fr = f(&xr);
        if fr < values[0] {
            let xe = at(-2.0);
            let fe = f(&xe);
            if fe < fr {
                simplex[n] = xe;
                values[n] = fe;
            } else {
                simplex[n] = xr;
                values[n] = fr;
            }
        } else if fr < values[n - 1] {
            simplex[n] = xr;
            values[n] = fr;
        } else {
            let xc = if fr < values[n] { at(-0.5) } else { at(0.5) };
            let fc = f(&xc);
            if fc < values[n].min(fr) {
                simplex[n] = xc;
                values[n] = fc;
            } else {
                for i in 1..=n {
                    simplex[i] = (0..n)
                        .map(|j| simplex[0][j] + 0.5 * (simplex[i][j] - simplex[0][j]))
                        .collect();
                    values[i] = f(&simplex[i]);
                }
            }
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    (simplex[best].clone(), values[best])
}

/// Fits the model to `cascades` by maximum likelihood with a kernel of `family`.
///
/// Parameters are optimised in log space with Nelder–Mead from several starts; the branching
/// ratio is capped just below 1.
pub fn fit(cascades: &[ObservedCascade], family: KernelFamily) -> Fit {
    let build = |x: &[f64]| -> (Kernel, f64, f64) {
        match family {
            KernelFamily::Exponential => (
                Kernel::Exponential { beta: x[0].exp() },
                x[1].exp().min(0.999),
                x[2].exp(),
            ),
            KernelFamily::PowerLaw => (
                Kernel::PowerLaw {
                    c: x[0].exp(),
                    theta: x[1].exp(),
                },
                x[2].exp().min(0.999),
                x[3].exp(),
            ),
        }
    };
    let objective = |x: &[f64]| -> f64 {
        if x.iter().any(|v| !v.is_finite() || v.abs() > 30.0) {
            return f64::INFINITY;
        }
        let (k, m, d) = build(x);
        let (ll, _) = log_likelihood(cascades, &k, m, d);
        if ll.is_finite() {
            -ll
        } else {
            f64::INFINITY
        }
    };
    let starts: Vec<Vec<f64>> = match family {
        KernelFamily::Exponential => [600.0f64, 3600.0, 14400.0]
            .iter()
            .map(|s| vec![(1.0 / s).ln(), 0.3f64.ln(), 0.3f64.ln()])
            .collect(),
        KernelFamily::PowerLaw => [(60.0f64, 0.5f64), (600.0, 1.0), (3600.0, 0.3)]
            .iter()
            .map(|(c, t)| vec![c.ln(), t.ln(), 0.3f64.ln(), 0.3f64.ln()])
            .collect(),
    };
    let mut best: Option<(Vec<f64>, f64)> = None;
    for s in starts {
        let (mut x, mut v) = nelder_mead(&objective, &s, 0.5, 2000);
        // Restart once from the optimum to escape a collapsed simplex.
        let (x2, v2) = nelder_mead(&objective, &x, 0.2, 2000);
        if v2 < v {
            x = x2;
            v = v2;
        }
        if best.as_ref().is_none_or(|(_, bv)| v < *bv) {
            best = Some((x, v));
        }
    }
    let (x, _) = best.unwrap_or_else(|| (vec![0.0; 4], f64::INFINITY));
    let (kernel, branching, dispersion) = build(&x);
    let (ll, roots) = log_likelihood(cascades, &kernel, branching, dispersion);
    let logs: Vec<f64> = roots.iter().filter(|k| **k > 0.0).map(|k| k.ln()).collect();
    let mean = if logs.is_empty() {
        0.0
    } else {
        logs.iter().sum::<f64>() / logs.len() as f64
    };
    let sd = if logs.len() > 1 {
        (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (logs.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    let parameters = x.len() + cascades.len();
    Fit {
        params: HawkesParams {
            kernel,
            branching,
            dispersion,
            root_log_mean: mean,
            root_log_sd: sd,
        },
        log_likelihood: ll,
        parameters,
        aic: 2.0 * parameters as f64 - 2.0 * ll,
        cascades: cascades.len(),
        reposts: cascades.iter().map(|c| c.reposts()).sum(),
    }
}

/// The empirical branching ratio of simulated cascades: reposts triggered by reposts divided by
/// the expected exposure `Σ Φ(horizon − t_i)` of those reposts. Estimates
/// [`HawkesParams::branching`].
pub fn empirical_branching(cascades: &[Cascade], kernel: &Kernel, horizon: f64) -> f64 {
    let mut children = 0.0;
    let mut exposure = 0.0;
    for c in cascades {
        for (i, p) in c.parents.iter().enumerate() {
            if p.is_some() {
                children += 1.0;
            }
            exposure += kernel.cdf(horizon - c.times[i]);
        }
    }
    if exposure > 0.0 {
        children / exposure
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn kernels_are_normalised_and_invertible() {
        for k in [
            Kernel::Exponential { beta: 1.0 / 900.0 },
            Kernel::PowerLaw {
                c: 120.0,
                theta: 0.7,
            },
        ] {
            // Trapezoid integral of the pdf matches the cdf.
            let mut acc = 0.0;
            let h = 1.0;
            for i in 0..20_000 {
                let a = i as f64 * h;
                acc += 0.5 * h * (k.pdf(a) + k.pdf(a + h));
            }
            assert!((acc - k.cdf(20_000.0)).abs() < 1e-3, "{k:?}: {acc}");
            for p in [0.1, 0.5, 0.9] {
                assert!((k.cdf(k.quantile(p)) - p).abs() < 1e-9);
            }
            assert!((k.ln_pdf(37.0) - k.pdf(37.0).ln()).abs() < 1e-9);
        }
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        let mut f = 1.0f64;
        for n in 1..20 {
            assert!((ln_gamma(n as f64) - f.ln()).abs() < 1e-9, "n={n}");
            f *= n as f64;
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-9);
    }

    #[test]
    fn parses_casflow_lines_and_links_parents() {
        let text = "7\t1\t1464739201\t4\t1:0 1/5:30 1/5/9:90 1/8:60\n\n";
        let c = parse_casflow(text, 86_400.0).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].times, vec![0.0, 30.0, 60.0, 90.0]);
        assert_eq!(c[0].parents, vec![None, Some(0), Some(0), Some(1)]);
        assert_eq!(c[0].reposts_by(60.0), 2);
        let bad = parse_casflow("1\t2\t3\t4\t1:x", 1.0).unwrap_err();
        assert_eq!(bad.line, 1);
        assert!(parse_casflow("only\tthree\tfields", 1.0).is_err());
    }

    proptest::proptest! {
        #[test]
        fn cascade_parser_never_panics(s in "[0-9a-z\t:/ .\n-]{0,120}") {
            let _ = parse_casflow(&s, 86_400.0);
        }

        #[test]
        fn parsed_cascades_are_well_formed(times in proptest::collection::vec(0u32..90_000, 1..20)) {
            let paths: Vec<String> = times.iter().enumerate().map(|(i, t)| format!("1/{}:{t}", i + 2)).collect();
            let line = format!("1\t1\t0\t{}\t1:0 {}", times.len() + 1, paths.join(" "));
            let c = &parse_casflow(&line, 86_400.0).unwrap()[0];
            proptest::prop_assert_eq!(c.times.len(), times.len() + 1);
            proptest::prop_assert!(c.times.windows(2).all(|w| w[0] <= w[1]));
            proptest::prop_assert!(c.parents.iter().skip(1).enumerate().all(|(i, p)| p.is_some_and(|p| p <= i)));
        }
    }

    #[test]
    fn fit_recovers_simulated_parameters() {
        let truth = HawkesParams {
            kernel: Kernel::Exponential { beta: 1.0 / 1800.0 },
            branching: 0.5,
            dispersion: 1.0,
            root_log_mean: 4.0,
            root_log_sd: 0.0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let horizon = 86_400.0;
        let cascades: Vec<ObservedCascade> = (0..60)
            .map(|_| {
                let c = simulate_cascade(&truth, 50.0, horizon, 100_000, &mut rng);
                let mut times = vec![0.0];
                times.extend(&c.times);
                let mut parents = vec![None];
                parents.extend(c.parents.iter().map(|p| Some(p.map_or(0, |q| q + 1))));
                ObservedCascade {
                    times,
                    parents,
                    horizon,
                }
            })
            .collect();
        let f = fit(&cascades, KernelFamily::Exponential);
        let Kernel::Exponential { beta } = f.params.kernel else {
            panic!("wrong family");
        };
        assert!((1.0 / beta - 1800.0).abs() < 300.0, "scale {}", 1.0 / beta);
        assert!(
            (f.params.branching - 0.5).abs() < 0.1,
            "{}",
            f.params.branching
        );
        assert!((f.params.root_log_mean - 50f64.ln()).abs() < 0.2);
    }

    #[test]
    fn arrivals_respect_window_and_horizon() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let k = Kernel::PowerLaw {
            c: 60.0,
            theta: 0.8,
        };
        let t = simulate_arrivals(0.01, 3600.0, 0.5, &k, 7200.0, 10_000, &mut rng);
        assert!(!t.is_empty());
        assert!(t.windows(2).all(|w| w[0] <= w[1]));
        assert!(t.iter().all(|&x| (0.0..=7200.0).contains(&x)));
    }
}
