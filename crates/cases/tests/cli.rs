//! `yuqing case …` end to end on a SQLite store.

mod common;

use clap::Parser;
use common::{alert, clock};
use yuqing_cases::{run_cli, CaseArgs, CaseError};
use yuqing_core::{AlertKind, Grade};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    case: CaseArgs,
}

async fn run(store: &yuqing_store::Store, args: &[&str]) -> Result<String, CaseError> {
    let mut argv = vec!["case"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    run_cli(cli.case, store.clone(), clock(30), &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn the_workflow_from_a_terminal() {
    let (store, _dir) = common::sqlite().await;
    let cases = common::cases(store.clone(), clock(10)).await;
    cases
        .on_alert(&alert("ev-1", AlertKind::New, Grade::II, 5, 0))
        .await
        .unwrap();

    let list = run(&store, &["list"]).await.unwrap();
    assert!(
        list.contains("待受理") && list.contains("ev-1 化工厂爆炸") && list.contains("共 1 件"),
        "{list}"
    );
    let out = run(&store, &["--actor", "赵值班", "accept", "ev-1"])
        .await
        .unwrap();
    assert!(out.contains("已受理"), "{out}");
    run(&store, &["assign", "ev-1", "应急管理局"])
        .await
        .unwrap();
    run(&store, &["feedback", "ev-1", "已核实"]).await.unwrap();
    let out = run(
        &store,
        &[
            "respond",
            "ev-1",
            "--channel",
            "新闻发布会",
            "--at",
            "2026-11-22T10:25:00+08:00",
        ],
    )
    .await
    .unwrap();
    assert!(out.contains("已回应"), "{out}");
    let err = run(&store, &["respond", "ev-1", "--channel", "fax"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("press_conference"), "{err}");
    run(&store, &["close", "ev-1"]).await.unwrap();
    let err = run(&store, &["accept", "ev-1"]).await.unwrap_err();
    assert!(matches!(err, CaseError::IllegalTransition { .. }), "{err}");

    let show = run(&store, &["show", "ev-1"]).await.unwrap();
    assert!(show.contains("回应: 新闻发布会 2026-11-22 10:25"), "{show}");
    assert!(
        show.contains("赵值班（值班员）  accept  待受理 → 已受理"),
        "{show}"
    );
    let json = run(&store, &["show", "ev-1", "--json"]).await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["state"], "closed");
    assert_eq!(v["audit"].as_array().unwrap().len(), 6);
    let open = run(&store, &["list", "--open", "--json"]).await.unwrap();
    assert!(open.is_empty(), "{open}");
}
