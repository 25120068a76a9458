//! The JSON Schemas in `schema/` and the Rust types agree: what the types write validates, and
//! what breaks the contract does not.

use serde_json::{json, Value};
use yuqing_core::{
    Alert, AlertKind, Analysis, Counts, Deadline, Event, Forecast, Grade, HandlingClass, Item,
    JudgedItem, Reason, Stage,
};

fn schema(name: &str) -> jsonschema::Validator {
    let path = format!("{}/schema/{name}.schema.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&v).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn assert_valid(v: &jsonschema::Validator, instance: &Value) {
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{instance}\n{errors:#?}");
}

fn item() -> Item {
    Item::from_json(
        r#"{"id":"4988","source":"weibo-yichun","platform":"weibo","url":"https://m.weibo.cn/status/Abc","title":null,
            "text":"万载县某化工厂发生爆炸，现场浓烟","author":"某网友","published_at":"2026-11-22T10:02:33+08:00",
            "observed_at":"2026-11-22T10:30:00+08:00","root_id":"4988","metrics":{"reposts":120,"comments":45,"likes":300},
            "region":"宜春市","x_vendor":{"kept":true}}"#
            .as_bytes(),
    )
    .unwrap()
}

fn event() -> Event {
    let t = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:30:00+08:00").unwrap();
    Event {
        schema_version: 1,
        event_id: "ev-1".into(),
        title: "万载县化工厂爆炸".into(),
        keywords: vec!["化工厂".into(), "爆炸".into()],
        first_seen: t,
        first_source: "weibo-yichun".into(),
        first_url: None,
        last_seen: t,
        updated_at: t,
        stage: Stage::Emerging,
        velocity: 120.0,
        acceleration: 3.0,
        forecast_peak: Forecast {
            size: 2000.0,
            low: 900.0,
            high: 5000.0,
            peak_at: Some(t),
            method: "hawkes".into(),
        },
        grade: Some(Grade::II),
        counts: Counts {
            items: 3,
            reposts: 120,
            comments: 45,
            likes: 300,
            views: 0,
            platforms: 2,
            sources: 2,
            official: 0,
            media: 1,
        },
        sensitivity: 0.92,
        sentiment: -0.7,
        category: Some("城乡建设".into()),
        department: Some("应急管理局".into()),
        region: Some("江西省宜春市万载县".into()),
        response_subject: vec!["万载县人民政府".into()],
        handling_class: Some(HandlingClass::Hype),
        topics: vec!["安全事故".into()],
        evidence: vec!["weibo-yichun/4988".into()],
        reasons: vec![Reason::new("stage", "curve", "首次发现后 28 分钟")],
        extra: Default::default(),
    }
}

#[test]
fn items_validate() {
    let v = schema("item");
    assert_valid(&v, &serde_json::to_value(item()).unwrap());
    assert_valid(
        &v,
        &json!({"id":"1","source":"s","platform":"board","text":"t","published_at":"2026-11-22T10:00:00Z"}),
    );
    for bad in [
        json!({"source":"s","platform":"board","text":"t","published_at":"2026-11-22T10:00:00Z"}),
        json!({"id":"1","source":"s","platform":"myspace","text":"t","published_at":"2026-11-22T10:00:00Z"}),
        json!({"id":"1","source":"s","platform":"board","published_at":"2026-11-22T10:00:00Z"}),
        json!({"id":"1","source":"s","platform":"board","text":"t","published_at":"2026-11-22T10:00:00Z","metrics":{"reposts":-1}}),
    ] {
        assert!(!v.is_valid(&bad), "{bad} must not validate");
    }
}

#[test]
fn judged_items_validate() {
    let v = schema("judged_item");
    let j = JudgedItem {
        item: item(),
        analysis: Analysis {
            category: Some("城乡建设".into()),
            department: Some("应急管理局".into()),
            region: Some("江西省宜春市万载县".into()),
            region_code: Some("360922".into()),
            response_subject: vec!["万载县人民政府".into()],
            handling_class: Some(HandlingClass::Inquiry),
            sensitivity: 0.9,
            sentiment: -0.6,
            event_id: Some("ev-1".into()),
            reasons: vec![Reason::new("sensitivity", "lexicon:安全事故", "爆炸").weighted(0.6)],
            ..Analysis::default()
        },
    };
    assert_valid(&v, &serde_json::to_value(&j).unwrap());
    let mut bad = serde_json::to_value(&j).unwrap();
    bad["analysis"]["sensitivity"] = json!(1.5);
    assert!(!v.is_valid(&bad));
}

#[test]
fn events_and_alerts_validate() {
    assert_valid(&schema("event"), &serde_json::to_value(event()).unwrap());
    let e = event();
    let a = Alert {
        schema_version: 1,
        alert_id: "al-1".into(),
        event_id: e.event_id.clone(),
        kind: AlertKind::Escalated,
        grade: Grade::II,
        previous_grade: Some(Grade::III),
        stage: e.stage,
        title: e.title.clone(),
        department: e.department.clone(),
        region: e.region.clone(),
        response_subject: e.response_subject.clone(),
        deadlines: vec![Deadline {
            kind: "first_release".into(),
            label: "首次权威发布".into(),
            due: e.updated_at,
        }],
        rule: "spread_confirms".into(),
        reasons: vec![Reason::new(
            "grade",
            "spread_confirms",
            "1小时内转发 120 条",
        )],
        url: None,
        at: e.updated_at,
        extra: Default::default(),
    };
    let v = schema("alert");
    assert_valid(&v, &serde_json::to_value(&a).unwrap());
    let mut bad = serde_json::to_value(&a).unwrap();
    bad["grade"] = json!("V");
    assert!(!v.is_valid(&bad));
}
