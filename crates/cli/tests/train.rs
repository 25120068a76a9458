//! `yuqing train` end to end: a category model and a sentiment model trained by the binary on a
//! labelled file decide `analysis.category` and `analysis.sentiment` of `yuqing analyze` (with
//! `--model` and with the `[analyze]` keys); files that cannot train a model are usage errors.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{bin, jsonl, write_jsonl};
use serde_json::{json, Value};

/// Runs `yuqing ARGS`, returning its output.
fn yuqing(args: &[&str], paths: &[&Path]) -> Output {
    let mut c = Command::new(bin());
    c.args(args);
    for p in paths {
        c.arg(p);
    }
    c.output().unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn item(id: &str, text: &str, label: Option<&str>) -> Value {
    let mut v = json!({"id": id, "source": "train-test", "platform": "board", "text": text,
                       "published_at": "2026-11-22T10:00:00+08:00"});
    if let Some(l) = label {
        v["label"] = json!(l);
    }
    v
}

/// Two made-up programmes the lexicons know nothing about: only a trained model can tell which
/// category each belongs to.
fn category_items() -> Vec<Value> {
    let mut v = Vec::new();
    for i in 0..12 {
        v.push(item(
            &format!("a{i}"),
            &format!("关于蓝莓计划第{i}期的情况说明，蓝莓计划进展如何"),
            Some("纪检监察"),
        ));
        v.push(item(
            &format!("b{i}"),
            &format!("橙子行动第{i}批名单公布，橙子行动什么时候开始"),
            Some("科技与信息产业"),
        ));
    }
    // Unlabelled items are skipped.
    v.push(item("u", "没有标签的一条", None));
    v
}

fn reason<'a>(judged: &'a Value, about: &str) -> Vec<&'a Value> {
    judged["analysis"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["about"] == about)
        .collect()
}

#[test]
fn a_trained_category_model_decides_the_category() {
    let dir = tempfile::tempdir().unwrap();
    let labelled = dir.path().join("labelled.jsonl");
    write_jsonl(&labelled, &category_items());
    let model = dir.path().join("category.model");
    ok(&yuqing(
        &["train", "--input"],
        &[&labelled, Path::new("--out"), &model],
    ));
    assert!(model.is_file());

    let input = dir.path().join("items.jsonl");
    write_jsonl(
        &input,
        &[
            item("q1", "请问蓝莓计划的结果什么时候公布", None),
            item("q2", "橙子行动报名入口在哪里", None),
        ],
    );
    let with = dir.path().join("with.jsonl");
    ok(&yuqing(
        &["analyze", "--model"],
        &[
            &model,
            Path::new("--input"),
            &input,
            Path::new("--output"),
            &with,
        ],
    ));
    let judged = jsonl(&with);
    assert_eq!(judged.len(), 2);
    for (j, expect) in judged.iter().zip(["纪检监察", "科技与信息产业"]) {
        assert_eq!(j["analysis"]["category"], expect, "{j}");
        let r = reason(j, "category");
        assert!(
            r.iter().any(|r| r["rule"] == "model:linear-svm"
                && r["evidence"].as_str().unwrap().starts_with(expect)),
            "the category reason names the model: {r:?}"
        );
    }

    // Without the model, the lexicon classifier decides: not these categories, and no model
    // reason.
    let without = dir.path().join("without.jsonl");
    ok(&yuqing(
        &["analyze", "--input"],
        &[&input, Path::new("--output"), &without],
    ));
    for (j, not) in jsonl(&without).iter().zip(["纪检监察", "科技与信息产业"]) {
        assert_ne!(j["analysis"]["category"], not, "{j}");
        assert!(reason(j, "category")
            .iter()
            .all(|r| r["rule"] != "model:linear-svm"));
    }

    // The same model through the pipeline key `[analyze] model`.
    let cfg = dir.path().join("pipeline.toml");
    std::fs::write(&cfg, "[analyze]\nmodel = \"category.model\"\n").unwrap();
    let keyed = dir.path().join("keyed.jsonl");
    ok(&yuqing(
        &["analyze", "--config"],
        &[
            &cfg,
            Path::new("--input"),
            &input,
            Path::new("--output"),
            &keyed,
        ],
    ));
    assert_eq!(
        std::fs::read_to_string(&keyed).unwrap(),
        std::fs::read_to_string(&with).unwrap()
    );
}

fn sentiment_items() -> Vec<Value> {
    let mut v = Vec::new();
    for i in 0..12 {
        v.push(item(
            &format!("n{i}"),
            &format!("第{i}次去办事，窗口的人都在玩手机，排了一上午，气死了，太差劲"),
            Some("negative"),
        ));
        v.push(item(
            &format!("p{i}"),
            &format!("第{i}次去办事，窗口工作人员耐心热情，十分钟办完，点赞，谢谢"),
            Some("positive"),
        ));
        v.push(item(
            &format!("m{i}"),
            &format!("第{i}号公告：办事大厅周六上午开放，地址在市民中心二楼"),
            Some("neutral"),
        ));
    }
    v
}

#[test]
fn a_trained_sentiment_model_decides_the_sentiment() {
    let dir = tempfile::tempdir().unwrap();
    let labelled = dir.path().join("labelled.jsonl");
    write_jsonl(&labelled, &sentiment_items());
    let model = dir.path().join("sentiment.model");
    ok(&yuqing(
        &["train", "--kind", "sentiment", "--input"],
        &[&labelled, Path::new("--out"), &model],
    ));

    let input = dir.path().join("items.jsonl");
    write_jsonl(
        &input,
        &[
            item("q1", "窗口的人都在玩手机，排了一上午，气死了", None),
            item("q2", "工作人员耐心热情，十分钟办完，点赞", None),
        ],
    );
    // Through the pipeline key `[analyze] sentiment_model`.
    let cfg = dir.path().join("pipeline.toml");
    std::fs::write(&cfg, "[analyze]\nsentiment_model = \"sentiment.model\"\n").unwrap();
    let keyed = dir.path().join("keyed.jsonl");
    ok(&yuqing(
        &["analyze", "--config"],
        &[
            &cfg,
            Path::new("--input"),
            &input,
            Path::new("--output"),
            &keyed,
        ],
    ));
    let judged = jsonl(&keyed);
    assert_eq!(judged.len(), 2);
    let sentiment = |j: &Value| j["analysis"]["sentiment"].as_f64().unwrap();
    assert!(sentiment(&judged[0]) < 0.0, "{}", judged[0]);
    assert!(sentiment(&judged[1]) > 0.0, "{}", judged[1]);
    for j in &judged {
        let r = reason(j, "sentiment");
        assert!(
            r.iter().any(|r| r["rule"] == "model:sentiment"
                && r["evidence"].as_str().unwrap().contains("P(positive)")),
            "the sentiment reason names the model: {r:?}"
        );
        // The category is still the lexicon's: a sentiment model is not a category model.
        assert!(reason(j, "category")
            .iter()
            .all(|r| r["rule"] != "model:linear-svm"));
    }

    // `analyze --model` takes a sentiment model as the sentiment model, by its kind.
    let flagged = dir.path().join("flagged.jsonl");
    ok(&yuqing(
        &["analyze", "--model"],
        &[
            &model,
            Path::new("--input"),
            &input,
            Path::new("--output"),
            &flagged,
        ],
    ));
    assert_eq!(
        std::fs::read_to_string(&flagged).unwrap(),
        std::fs::read_to_string(&keyed).unwrap()
    );

    // A sentiment model under `[analyze] model` is a configuration error naming the key.
    std::fs::write(&cfg, "[analyze]\nmodel = \"sentiment.model\"\n").unwrap();
    let out = yuqing(
        &["analyze", "--config"],
        &[
            &cfg,
            Path::new("--input"),
            &input,
            Path::new("--output"),
            &dir.path().join("x.jsonl"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("analyze.model") && stderr.contains("sentiment.model"),
        "{stderr}"
    );
}

#[test]
fn files_that_cannot_train_a_model_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.model");
    let train = |name: &str, items: &[Value], kind: &str| {
        let input = dir.path().join(name);
        write_jsonl(&input, items);
        let out = yuqing(
            &["train", "--kind", kind, "--input"],
            &[&input, Path::new("--out"), &model],
        );
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };

    let (code, err) = train(
        "none.jsonl",
        &[item("1", "没有标签", None), item("2", "也没有", None)],
        "category",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no item carries a `label`"), "{err}");

    let mut items = category_items();
    items.push(item("x1", "一条标错的", Some("天气")));
    items.push(item("x2", "又一条标错的", Some("天气")));
    let (code, err) = train("unknown.jsonl", &items, "category");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`天气` (2 items)"), "{err}");
    assert!(
        err.contains("城乡建设"),
        "the known labels are listed: {err}"
    );

    // Category names are not sentiment labels.
    let (code, err) = train("cat-as-sent.jsonl", &category_items(), "sentiment");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("unknown sentiment label") && err.contains("negative"),
        "{err}"
    );

    // One label is not enough to tell anything apart.
    let one: Vec<Value> = category_items()
        .into_iter()
        .filter(|v| v["label"] == "纪检监察")
        .collect();
    let (code, err) = train("one.jsonl", &one, "category");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("at least two labels"), "{err}");

    let (code, err) = train("bad-kind.jsonl", &category_items(), "topic");
    assert_eq!(code, Some(2), "an unknown --kind is a usage error: {err}");
    assert!(!model.exists(), "no model was written");

    // A model that cannot be written (its directory is a file) is a runtime failure.
    let input = dir.path().join("good.jsonl");
    write_jsonl(&input, &category_items());
    let out = yuqing(
        &["train", "--input"],
        &[&input, Path::new("--out"), &input.join("m.model")],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn train_help_documents_the_kind() {
    let out = Command::new(bin())
        .args(["train", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--kind") && help.contains("sentiment"),
        "{help}"
    );
}
