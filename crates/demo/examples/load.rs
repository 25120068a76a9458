//! The demo world as a load generator: builds a scaled world, then serves it and measures how
//! fast it answers a bounded number of loopback requests.
//!
//! ```text
//! cargo run --release -p yuqing-demo --example load -- [PORTAL_PAGES] [WEIBO_POSTS] [REQUESTS]
//! ```
//! Defaults: 10 000 portal articles, 100 000 Weibo posts, 20 000 requests over 8 connections.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use yuqing_core::{Clock, ManualClock, Platform, SharedClock};
use yuqing_demo::{default_start, DemoWorld};

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let portal = args.first().copied().unwrap_or(10_000);
    let weibo = args.get(1).copied().unwrap_or(100_000);
    let requests = args.get(2).copied().unwrap_or(20_000);
    let mut script = yuqing_demo::Script::bundled()?;
    script.world.scale.portal_archive = portal;
    script.world.scale.weibo_archive = weibo;
    script.world.faults = Default::default();
    let world = DemoWorld::from_script(script)?.with_start(default_start());
    let t = Instant::now();
    let stats = world.stats();
    println!(
        "built {:?}, {} reposts, {} comments in {:.2?}; VmHWM {} MiB",
        stats.docs,
        stats.reposts,
        stats.comments,
        t.elapsed(),
        vm_hwm_kib() / 1024
    );
    let clock = Arc::new(ManualClock::new(
        default_start() + chrono::Duration::hours(24),
    ));
    let shared: SharedClock = clock.clone();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (addr, task) = world
        .clone()
        .serve(([127, 0, 0, 1], 0).into(), shared, shutdown.clone())
        .await?;
    let w = world.world();
    let now = w.offset(clock.now());
    let weibo_docs: Vec<u32> = w.visible(Platform::Weibo, now).collect();
    let http = reqwest::Client::builder().no_proxy().build()?;
    let base = format!("http://{addr}");
    let mut ok = 0usize;
    let t = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let per = requests / 8;
    for worker in 0..8 {
        let http = http.clone();
        let base = base.clone();
        let weibo_ids: Vec<u64> = weibo_docs
            .iter()
            .skip(worker)
            .step_by(8)
            .take(per)
            .map(|&i| w.docs[i as usize].id)
            .collect();
        // A mix of page kinds: portal list pages, Weibo statuses/show and hotflow.
        set.spawn(async move {
            let mut ok = 0usize;
            for k in 0..per {
                let path = match k % 3 {
                    0 => format!("/portal/xwdt/index_{}.html", k % 40 + 1),
                    1 => format!(
                        "/statuses/show?id={}",
                        weibo_ids[k % weibo_ids.len().max(1)]
                    ),
                    _ => format!(
                        "/comments/hotflow?id={0}&mid={0}",
                        weibo_ids[(k * 7) % weibo_ids.len().max(1)]
                    ),
                };
                if let Ok(r) = http.get(format!("{base}{path}")).send().await {
                    if r.bytes().await.is_ok() {
                        ok += 1;
                    }
                }
            }
            ok
        });
    }
    while let Some(r) = set.join_next().await {
        ok += r?;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{ok} of {} requests answered in {secs:.2} s: {:.0} req/s over 8 connections; VmHWM {} MiB",
        per * 8,
        ok as f64 / secs,
        vm_hwm_kib() / 1024
    );
    shutdown.cancel();
    task.await?;
    Ok(())
}
