//! The live check of `tests/live.rs` with the daemon's stages talking over a real
//! Kafka-protocol broker (the tansu broker of `.ci/install-tools`, or `YUQING_KAFKA_BOOTSTRAP`)
//! as they do when deployed with `deploy/k8s/`: the same panels, variables and rules must
//! evaluate, and the consumer-lag panels and rules, empty on the in-process bus, must now
//! return the lag of the items and events topics.
#![allow(clippy::print_stdout)] // The test lists what every query returned (`--nocapture` shows it).

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_and_rule_query_runs_against_the_demo_over_kafka() {
    support::run(support::Bus::Kafka).await;
}
