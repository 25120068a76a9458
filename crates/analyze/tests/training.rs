//! Training round trip: a model trained here predicts the same after save and load, and
//! `Analyzer::load` uses it (category from the model, its top features as reasons).

use yuqing_analyze::{AnalyzeConfig, Analyzer, Model, ModelKind, TrainOptions};
use yuqing_core::Item;

fn item(i: usize, text: &str, label: Option<&str>) -> Item {
    let mut v = serde_json::json!({
        "id": i.to_string(), "source": "train", "platform": "board", "text": text,
        "published_at": "2026-11-22T10:00:00+08:00"
    });
    if let Some(l) = label {
        v["label"] = serde_json::Value::String(l.into());
    }
    Item::from_json(v.to_string().as_bytes()).unwrap()
}

/// A small labelled set written for this test (not taken from any data set).
fn labelled() -> Vec<Item> {
    let rows: &[(&str, &str)] = &[
        ("公司拖欠工资三个月不发，老板失联", "劳动和社会保障"),
        ("单位不给缴纳社保和养老保险", "劳动和社会保障"),
        ("辞退员工不给经济补偿，劳动合同到期", "劳动和社会保障"),
        ("退休金发放标准怎么计算", "劳动和社会保障"),
        ("工伤认定需要哪些材料", "劳动和社会保障"),
        ("小区物业不作为，电梯经常坏", "城乡建设"),
        ("开发商延期交房，房产证迟迟办不下来", "城乡建设"),
        ("路灯坏了很久没人修，下水道堵塞", "城乡建设"),
        ("违章建筑占用消防通道", "城乡建设"),
        ("老旧小区改造什么时候开始", "城乡建设"),
        ("学校乱收费，补课费用太高", "教育文体"),
        ("孩子入学学位不够，划片不合理", "教育文体"),
        ("幼儿园老师体罚学生", "教育文体"),
        ("中考招生政策咨询", "教育文体"),
        ("教师工资待遇偏低", "教育文体"),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (t, l))| item(i, t, Some(l)))
        .collect()
}

#[test]
fn train_save_load_predicts_the_same() {
    let items = labelled();
    let opts = TrainOptions {
        bits: 16,
        ..TrainOptions::default()
    };
    let model = yuqing_analyze::train(&items, &opts).unwrap();
    assert_eq!(model.meta().classes.len(), 3);
    assert_eq!(model.meta().trained_items, items.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("category.model");
    model.save(&path).unwrap();
    let back = Model::load(&path).unwrap();
    let a = Analyzer::builtin().unwrap();
    let probes = [
        "老板拖欠农民工工资",
        "物业公司乱收停车费",
        "学校要求家长买指定校服",
        "这条消息和任何类别都无关",
    ];
    for p in probes {
        let x = a.predict(&model, &item(0, p, None));
        let y = a.predict(&back, &item(0, p, None));
        assert_eq!(x, y, "{p}");
    }
    // The training items are fitted.
    let correct = items
        .iter()
        .filter(|i| a.predict(&back, i).0 == *i.label.as_ref().unwrap())
        .count();
    assert_eq!(correct, items.len());

    // Analyzer::load with `model` uses it, with its features as reasons.
    let cfg = AnalyzeConfig {
        model: Some("category.model".into()),
        ..AnalyzeConfig::default()
    };
    let loaded = Analyzer::load(&cfg, dir.path()).unwrap();
    assert!(loaded.inventory().category_model);
    let j = loaded.judge(&item(0, "老板拖欠农民工工资半年", None));
    assert_eq!(j.category.as_deref(), Some("劳动和社会保障"));
    let r = j.reasons.iter().find(|r| r.about == "category").unwrap();
    assert_eq!(r.rule, "model:linear-svm");
    assert!(r.evidence.contains("主要特征"), "{}", r.evidence);

    // A sentiment model is refused as a category model.
    let senti = yuqing_analyze::train(
        &[
            item(0, "太气人了", Some("negative")),
            item(1, "非常满意", Some("non_negative")),
        ],
        &TrainOptions {
            kind: ModelKind::Sentiment,
            bits: 16,
            ..TrainOptions::default()
        },
    )
    .unwrap();
    senti.save(&dir.path().join("s.model")).unwrap();
    let bad = AnalyzeConfig {
        model: Some("s.model".into()),
        ..AnalyzeConfig::default()
    };
    assert!(Analyzer::load(&bad, dir.path()).is_err());
    let good = AnalyzeConfig {
        sentiment_model: Some("s.model".into()),
        ..AnalyzeConfig::default()
    };
    let with_senti = Analyzer::load(&good, dir.path()).unwrap();
    let j = with_senti.judge(&item(0, "太气人了", None));
    assert!(j.sentiment < 0.0);
    assert!(j.reasons.iter().any(|r| r.rule == "model:sentiment"));
}

#[test]
fn training_needs_two_labels_and_skips_unlabelled_items() {
    let one = vec![item(0, "a", Some("x")), item(1, "b", None)];
    let e = yuqing_analyze::train(&one, &TrainOptions::default()).unwrap_err();
    assert!(e.to_string().contains("at least two labels"), "{e}");
    let bad_bits = TrainOptions {
        bits: 40,
        ..TrainOptions::default()
    };
    assert!(yuqing_analyze::train(&labelled(), &bad_bits).is_err());
}

#[test]
fn damaged_model_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("junk.model");
    std::fs::write(&p, b"not a model at all").unwrap();
    let e = Model::load(&p).unwrap_err();
    assert!(e.to_string().contains("junk.model"), "{e}");
    assert_eq!(e.kind(), "model");
}
