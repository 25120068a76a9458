//! Serves the bundled demo world on a loopback port with an accelerated clock.
//!
//! ```text
//! cargo run -p yuqing-demo --example serve -- [PORT] [SPEED]
//! ```
//! PORT defaults to 0 (any free port), SPEED to 60 (one simulated hour per real minute).
//! Stops on Ctrl-C.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use yuqing_core::{ScaledClock, SharedClock};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args.first().map_or(Ok(0), |p| p.parse())?;
    let speed: f64 = args.get(1).map_or(Ok(60.0), |s| s.parse())?;
    let clock: SharedClock = Arc::new(ScaledClock::new(chrono::Utc::now(), speed));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let world = yuqing_demo::DemoWorld::bundled()?;
    let (addr, task) = world
        .serve(([127, 0, 0, 1], port).into(), clock, shutdown.clone())
        .await?;
    println!("demo world on http://{addr}/ (speed {speed}); Ctrl-C stops it");
    tokio::signal::ctrl_c().await?;
    shutdown.cancel();
    task.await?;
    Ok(())
}
