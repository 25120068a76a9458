//! `yuqing report …` as the daemon wires it: to a file and to standard output, with usage
//! errors for what the duty room asked wrongly.

mod common;

use clap::Parser;
use common::{load, WAGES};
use yuqing_report::{run_cli, ReportArgs};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: ReportArgs,
}

fn args(v: &[&str]) -> ReportArgs {
    let mut all = vec!["yuqing"];
    all.extend_from_slice(v);
    Cli::parse_from(all).args
}

#[tokio::test]
async fn report_commands_write_files_and_standard_output() {
    let (store, _db) = common::sqlite().await;
    let l = load(&store, "2026-11-22T12:00:00+08:00").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out/日志.html");
    let mut out = Vec::new();
    run_cli(
        args(&[
            "daily",
            "--date",
            "2026-11-20",
            "--format",
            "html",
            "--out",
            file.to_str().unwrap(),
        ]),
        store.clone(),
        l.clock.clone(),
        &mut out,
    )
    .await
    .unwrap();
    let said = String::from_utf8(out).unwrap();
    assert!(said.starts_with("网络舆情日志："), "{said}");
    let html = std::fs::read_to_string(&file).unwrap();
    common::check_html(&html);

    let mut out = Vec::new();
    run_cli(
        args(&["bulletin", "--from", "2026-11-20", "--to", "2026-11-22"]),
        store.clone(),
        l.clock.clone(),
        &mut out,
    )
    .await
    .unwrap();
    let md = String::from_utf8(out).unwrap();
    assert!(
        md.starts_with("# 舆情处置情况通报（2026年11月20日 至 2026年11月22日）"),
        "{md}"
    );
    common::check_md(&md);

    let mut out = Vec::new();
    run_cli(
        args(&["event", common::WATER, "--format", "json"]),
        store.clone(),
        l.clock.clone(),
        &mut out,
    )
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["kind"], "event");
    assert!(v["appendix"].as_array().unwrap().len() > 5);

    for (argv, kind) in [
        (vec!["summary", WAGES], "not_closed"),
        (vec!["event", "ev-nope"], "not_found"),
        (vec!["daily", "--date", "20.11.2026"], "invalid"),
        (
            vec!["bulletin", "--from", "2026-11-22", "--to", "2026-11-20"],
            "invalid",
        ),
    ] {
        let mut out = Vec::new();
        let err = run_cli(args(&argv), store.clone(), l.clock.clone(), &mut out)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{argv:?}: {err}");
        assert!(err.is_usage());
        assert!(out.is_empty(), "nothing written on error");
    }
}
