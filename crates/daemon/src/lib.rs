//! # yuqing-daemon
//!
//! The outer ring: loads a pipeline ([`config`]), wires the stages over the bus ([`run`],
//! [`stages`]), runs them in batch mode or as a replay ([`batch`]), serves HTTP ([`http`]) and
//! parses the command line ([`cli`]). The `yuqing` binary's `main` only calls [`cli::main`].
#![warn(missing_docs)]

pub mod batch;
pub mod cli;
pub mod collect_batch;
pub mod config;
pub mod core;
pub mod health;
pub mod http;
pub mod intake;
pub mod run;
pub mod stages;

pub use config::PipelineConfig;
