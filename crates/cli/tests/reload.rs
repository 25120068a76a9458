//! Judgment rules that users edit in their resources directory reload in the running daemon,
//! without a restart; a broken edit is reported and the previous rules stay in force.

mod common;

use std::time::Duration;

use common::{http, wait_for, Daemon};

const TOKEN: &str = "reload-test-token-0123456789";
const RULE: &str =
    "\n[[rule]]\nname = \"蓝莓蛋糕测试\"\ntopic = \"谣言\"\nweight = 0.5\nany = [\"蓝莓蛋糕\"]\n";

fn push(d: &Daemon, id: &str) {
    let item = serde_json::json!({
        "id": id, "source": "reload-test", "platform": "forum",
        "text": "听说城南那家店的蓝莓蛋糕吃出了问题，大家都在群里转",
        "published_at": chrono::Utc::now().fixed_offset().to_rfc3339(),
    });
    let r = http()
        .post(d.url("/ingest"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/x-ndjson")
        .body(format!("{item}\n"))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap_or_default());
}

/// The rules that fired on the stored judgment of `id`, once it is judged.
fn rules_of(store: &yuqing_store::Store, rt: &tokio::runtime::Runtime, id: &str) -> Vec<String> {
    wait_for(Duration::from_secs(30), "the item judged", || {
        let judged = rt.block_on(store.judged_after(0, 1000)).unwrap();
        judged
            .into_iter()
            .find(|(_, j)| j.item.id == id)
            .map(|(_, j)| j.analysis.reasons.into_iter().map(|r| r.rule).collect())
    })
}

#[test]
fn edited_rules_apply_without_a_restart_and_a_broken_edit_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let resources = dir.path().join("resources");
    std::fs::create_dir_all(&resources).unwrap();
    let bundled = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../pipelines/analyze/rules.toml"
    ))
    .unwrap();
    let rules = resources.join("rules.toml");
    std::fs::write(&rules, &bundled).unwrap();
    let cfg = dir.path().join("pipeline.toml");
    std::fs::write(
        &cfg,
        format!(
            "name = \"reload\"\n[api]\ningest_tokens = [\"{TOKEN}\"]\n[analyze]\nresources = \"resources\"\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let d = Daemon::start(
        &[
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        dir.path(),
        "reload",
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt
        .block_on(yuqing_store::Store::open(&format!(
            "sqlite://{}",
            data.join("yuqing.db").display()
        )))
        .unwrap();
    let fired = |id: &str| {
        rules_of(&store, &rt, id)
            .iter()
            .any(|r| r.contains("蓝莓蛋糕测试"))
    };

    push(&d, "before");
    assert!(!fired("before"), "no such rule yet");

    // The duty room adds a rule; the running daemon picks it up.
    std::fs::write(&rules, format!("{bundled}{RULE}")).unwrap();
    wait_for(Duration::from_secs(30), "the rules to reload", || {
        d.log_text()
            .contains("Judgment resources reloaded.")
            .then_some(())
    });
    push(&d, "after");
    assert!(fired("after"), "the new rule applies");

    // A broken edit: reported, and the rules in force stay.
    std::fs::write(&rules, format!("{bundled}{RULE}\n[[rule]]\nname = ")).unwrap();
    wait_for(
        Duration::from_secs(30),
        "the failed reload to be reported",
        || {
            d.log_text()
                .contains("the previous ones stay in force")
                .then_some(())
        },
    );
    push(&d, "broken");
    assert!(fired("broken"), "the last good rules stay in force");
    assert!(d.terminate().success());
}
