//! Fits the demo world's spread model to real Weibo repost cascades.
//!
//! ```text
//! cargo run --release -p yuqing-benches --bin fit_demo_world [-- --write crates/../fixtures/demo/hawkes.toml]
//! ```
//!
//! Reads `weibo_cascades/casflow_sample_weibo_29.txt` from `$YUQING_SHARED_DATA` (default
//! `/work/shared/data`), fits the marked Hawkes model of `yuqing_demo::hawkes` by maximum
//! likelihood with an exponential and a power-law kernel, prints both fits and the 2h/6h shares of
//! the 24h size in the data and in simulations of the better model, and with `--write PATH` writes
//! the better model's parameters as TOML. Exits 0 with a message when the data is absent.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use yuqing_demo::hawkes::{self, Fit, KernelFamily, ObservedCascade};

const HORIZON: f64 = 86_400.0;
const FILE: &str = "weibo_cascades/casflow_sample_weibo_29.txt";

fn shares_data(cs: &[ObservedCascade]) -> (f64, f64, f64, f64) {
    let mut s2 = 0.0;
    let mut s6 = 0.0;
    let (mut n2, mut n6, mut n24) = (0usize, 0usize, 0usize);
    let mut k = 0.0;
    for c in cs {
        let total = c.reposts_by(HORIZON);
        if total == 0 {
            continue;
        }
        let a = c.reposts_by(7_200.0);
        let b = c.reposts_by(21_600.0);
        s2 += a as f64 / total as f64;
        s6 += b as f64 / total as f64;
        n2 += a;
        n6 += b;
        n24 += total;
        k += 1.0;
    }
    (
        s2 / k,
        s6 / k,
        n2 as f64 / n24 as f64,
        n6 as f64 / n24 as f64,
    )
}

fn shares_model(fit: &Fit, cs: &[ObservedCascade], reps: usize) -> (f64, f64, f64, f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(20_161_601);
    let (_, roots) = hawkes::log_likelihood(
        cs,
        &fit.params.kernel,
        fit.params.branching,
        fit.params.dispersion,
    );
    let (mut s2, mut s6, mut k) = (0.0, 0.0, 0.0);
    let (mut n2, mut n6, mut n24) = (0usize, 0usize, 0usize);
    let mut size = 0.0;
    for root in &roots {
        for _ in 0..reps {
            let c = hawkes::simulate_cascade(&fit.params, *root, HORIZON, 200_000, &mut rng);
            let total = c.len();
            size += total as f64;
            if total == 0 {
                continue;
            }
            let a = c.times.iter().filter(|&&t| t <= 7_200.0).count();
            let b = c.times.iter().filter(|&&t| t <= 21_600.0).count();
            s2 += a as f64 / total as f64;
            s6 += b as f64 / total as f64;
            n2 += a;
            n6 += b;
            n24 += total;
            k += 1.0;
        }
    }
    (
        s2 / k,
        s6 / k,
        n2 as f64 / n24 as f64,
        n6 as f64 / n24 as f64,
        size / (roots.len() * reps) as f64,
    )
}

fn describe(f: &Fit) -> String {
    let kernel = match f.params.kernel {
        hawkes::Kernel::Exponential { beta } => {
            format!("exponential, 1/beta = {:.0} s", 1.0 / beta)
        }
        hawkes::Kernel::PowerLaw { c, theta } => {
            format!("power law, c = {c:.1} s, theta = {theta:.3}")
        }
    };
    format!(
        "{kernel}; branching = {:.3}; dispersion = {:.3}; ln(root reach) ~ N({:.2}, {:.2}); \
         log-likelihood = {:.1}; AIC = {:.1} ({} parameters)",
        f.params.branching,
        f.params.dispersion,
        f.params.root_log_mean,
        f.params.root_log_sd,
        f.log_likelihood,
        f.aic,
        f.parameters
    )
}

fn main() -> ExitCode {
    let base = std::env::var_os("YUQING_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/data"));
    let path = base.join(FILE);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let write = args
        .iter()
        .position(|a| a == "--write")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            println!(
                "fit_demo_world: {} not readable ({e}); nothing to fit, skipping.",
                path.display()
            );
            return ExitCode::SUCCESS;
        }
    };
    let cascades = match hawkes::parse_casflow(&text, HORIZON) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fit_demo_world: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let reposts: usize = cascades.iter().map(|c| c.reposts()).sum();
    println!(
        "data: {} cascades, {reposts} reposts, horizon 24 h ({})",
        cascades.len(),
        path.display()
    );
    let fits = [
        hawkes::fit(&cascades, KernelFamily::Exponential),
        hawkes::fit(&cascades, KernelFamily::PowerLaw),
    ];
    for f in &fits {
        println!("fit: {}", describe(f));
    }
    let best = fits
        .iter()
        .min_by(|a, b| a.aic.total_cmp(&b.aic))
        .expect("two fits");
    println!("chosen by AIC: {}", best.params.kernel.name());
    let (d2, d6, p2, p6) = shares_data(&cascades);
    println!(
        "data : share of 24h size at 2h = {d2:.3} (pooled {p2:.3}), at 6h = {d6:.3} (pooled {p6:.3}), mean size = {:.1}",
        reposts as f64 / cascades.len() as f64
    );
    for f in &fits {
        let (m2, m6, q2, q6, size) = shares_model(f, &cascades, 200);
        println!(
            "model ({}): share at 2h = {m2:.3} (pooled {q2:.3}), at 6h = {m6:.3} (pooled {q6:.3}), mean size = {size:.1}",
            f.params.kernel.name()
        );
    }
    if let Some(out) = write {
        let body = match toml::to_string(&best.params) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("fit_demo_world: serialising: {e}");
                return ExitCode::FAILURE;
            }
        };
        let header = format!(
            "# Spread model of the demo world, fitted by maximum likelihood to\n\
             # weibo_cascades/casflow_sample_weibo_29.txt ({} cascades, {reposts} reposts).\n\
             # Produced by: cargo run --release -p yuqing-benches --bin fit_demo_world -- --write fixtures/demo/hawkes.toml\n\
             # {}\n\n",
            cascades.len(),
            describe(best)
        );
        if let Err(e) = std::fs::write(&out, header + &body) {
            eprintln!("fit_demo_world: writing {}: {e}", out.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", out.display());
    }
    ExitCode::SUCCESS
}
