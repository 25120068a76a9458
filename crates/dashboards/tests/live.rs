//! Every query of every panel, variable and rule, run for real against a running yuqing.
//!
//! The daemon starts in-process on the bundled demo world with its store in a fresh PostgreSQL
//! database; a duty officer works some of the cases it opens through the case API (accept,
//! assign, feedback, public response, close). A real Prometheus (the Debian package) scrapes
//! the daemon every second with the shipped recording and alerting rules loaded. After about a
//! minute of demo (an hour of simulated time):
//!
//! - every PromQL expression of every dashboard panel (with "All" and with one value of each
//!   variable), every `label_values` variable and every rule must parse and evaluate; those
//!   reading metrics the demo produces must return series; Prometheus must report every rule
//!   healthy and the target up;
//! - every SQL query of every panel and variable, expanded as Grafana expands it, must run as
//!   the read-only role of `deploy/grafana/postgres-readonly.sql` against the tables the demo
//!   filled, return rows (except where noted), and time-series queries must have a `time`
//!   column.
//!
//! The same check over Kafka: `tests/live_kafka.rs`. The harness: `tests/support/mod.rs`.
//!
//! Needs `prometheus`/`promtool` (apt package prometheus, installed by `.ci/install-tools`) and
//! PostgreSQL at `YUQING_PG_URL` (default 127.0.0.1:5432). Touches only loopback; every wait is
//! bounded.
#![allow(clippy::print_stdout)] // The test lists what every query returned (`--nocapture` shows it).

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_and_rule_query_runs_against_the_demo() {
    support::run(support::Bus::Memory).await;
}
