//! Behaviour of `Analyzer::judge` with the bundled resources.

use std::sync::{Arc, OnceLock};

use yuqing_analyze::Analyzer;
use yuqing_core::{Analysis, HandlingClass, Item};

fn analyzer() -> Arc<Analyzer> {
    static A: OnceLock<Arc<Analyzer>> = OnceLock::new();
    A.get_or_init(|| Arc::new(Analyzer::builtin().expect("bundled resources load")))
        .clone()
}

fn item(text: &str) -> Item {
    let line = serde_json::json!({
        "id": "1", "source": "test", "platform": "weibo", "text": text,
        "published_at": "2026-11-22T10:00:00+08:00"
    });
    Item::from_json(line.to_string().as_bytes()).unwrap()
}

fn judge(text: &str) -> Analysis {
    analyzer().judge(&item(text))
}

fn reasons_about<'a>(a: &'a Analysis, about: &str) -> Vec<&'a yuqing_core::Reason> {
    a.reasons.iter().filter(|r| r.about == about).collect()
}

#[test]
fn every_field_is_filled_and_explained() {
    let a = judge("广州市天河区某小区物业公司拖欠保安工资三个月，业主和保安在小区门口聚集，要求住建局尽快处理。");
    assert_eq!(a.category.as_deref(), Some("城乡建设"), "{:?}", a.reasons);
    assert!(a.subcategory.is_some());
    assert!(a.department.is_some());
    assert_eq!(a.region.as_deref(), Some("天河区"));
    assert_eq!(a.region_code.as_deref(), Some("440106"));
    assert!(!a.response_subject.is_empty());
    assert!(a.handling_class.is_some());
    assert!(a.sensitivity > 0.0 && a.sensitivity <= 1.0);
    assert!((-1.0..=1.0).contains(&a.sentiment));
    assert!(!a.topics.is_empty());
    assert!(!a.keywords.is_empty());
    for about in [
        "sensitivity",
        "category",
        "department",
        "region",
        "handling_class",
    ] {
        assert!(
            !reasons_about(&a, about).is_empty(),
            "no reason about {about}: {:#?}",
            a.reasons
        );
    }
    assert!(
        a.event_id.is_none() && a.fingerprint.is_none(),
        "set by the event tracker"
    );
    assert_eq!(a.extra["language"], "zh");
}

#[test]
fn sensitivity_rises_with_severity_and_names_its_terms() {
    let calm = judge("今天天气很好，大家去公园散步。");
    let fire = judge("工厂发生爆炸引发火灾，造成3人死亡、5人受伤。");
    assert!(calm.sensitivity < 0.2, "{}", calm.sensitivity);
    assert!(fire.sensitivity > 0.9, "{}", fire.sensitivity);
    assert!(fire.topics.iter().any(|t| t == "安全事故"));
    let lex = reasons_about(&fire, "sensitivity");
    assert!(lex
        .iter()
        .any(|r| r.rule == "lexicon:安全事故" && r.evidence.contains("爆炸")));
    assert!(lex.iter().any(|r| r.rule == "rule:多人伤亡"), "{lex:#?}");
    assert!(lex.iter().any(|r| r.rule == "combine:noisy-or"));
}

#[test]
fn negation_weakens_terms() {
    let yes = judge("该厂发生火灾");
    let no = judge("该厂没有发生火灾");
    assert!(
        no.sensitivity < yes.sensitivity,
        "{} vs {}",
        no.sensitivity,
        yes.sensitivity
    );
    let r = reasons_about(&no, "sensitivity");
    assert!(r.iter().any(|r| r.evidence.contains("否定")), "{r:#?}");
    // A negation across a clause break does not count.
    let other_clause = judge("没有人知道，工厂发生火灾");
    assert!((other_clause.sensitivity - yes.sensitivity).abs() < 1e-9);
    // 非 inside 非常 is no negation.
    let happy = judge("非常满意");
    assert!(happy.sentiment > 0.0, "{}", happy.sentiment);
    let unhappy = judge("不满意，很失望");
    assert!(unhappy.sentiment < 0.0);
}

#[test]
fn sentiment_reads_emoji_and_intensifiers() {
    let angry = judge("太气人了<img alt=\"[怒]\" src=\"x\">😡");
    assert!(angry.sentiment < -0.3, "{}", angry.sentiment);
    let thanks = judge("感谢民警及时出警，点赞！👍");
    assert!(thanks.sentiment > 0.3, "{}", thanks.sentiment);
    let weak = judge("失望");
    let strong = judge("非常失望");
    assert!(strong.sentiment < weak.sentiment);
    assert!(reasons_about(&strong, "sentiment")[0]
        .evidence
        .contains("×"));
}

#[test]
fn traditional_text_is_judged_like_simplified() {
    let t = judge("工廠發生爆炸，現場濃煙滾滾，多人受傷");
    let s = judge("工厂发生爆炸，现场浓烟滚滚，多人受伤");
    assert!((t.sensitivity - s.sensitivity).abs() < 1e-9);
    assert_eq!(t.topics, s.topics);
}

#[test]
fn rumours_harming_order_go_to_police_and_cyberspace_office() {
    let a = judge("网传海珠区明天封城，大家赶紧去超市抢购，转发扩散！");
    assert_eq!(a.handling_class, Some(HandlingClass::Hype));
    assert!(a.topics.iter().any(|t| t == "谣言"), "{:?}", a.topics);
    assert!(
        a.response_subject.contains(&"海珠区公安局".to_string()),
        "{:?}",
        a.response_subject
    );
    assert!(
        a.response_subject.contains(&"海珠区网信办".to_string()),
        "{:?}",
        a.response_subject
    );
    let r = reasons_about(&a, "response_subject");
    assert!(r.iter().any(|r| r.rule.contains("公安和网信")), "{r:#?}");
}

#[test]
fn major_events_go_to_the_local_government_first() {
    let a = judge("番禺区一化工厂发生爆炸，已造成12人死亡、30多人受伤，周边居民紧急转移。");
    assert_eq!(a.region.as_deref(), Some("番禺区"));
    assert_eq!(
        a.response_subject.first().map(String::as_str),
        Some("番禺区人民政府"),
        "{:?}",
        a.response_subject
    );
}

#[test]
fn vertically_managed_departments_answer_through_their_superior() {
    let a = judge("天河区税务局办理发票时工作人员态度恶劣，纳税人排队三个小时。");
    assert_eq!(a.department.as_deref(), Some("税务局"), "{:#?}", a.reasons);
    assert!(
        a.response_subject.contains(&"广州市税务局".to_string()),
        "{:?}",
        a.response_subject
    );
}

#[test]
fn several_departments_get_a_lead() {
    let a = judge("住建局和城管局互相推诿，环保局也不管，小区旁的工地夜间施工噪音扰民。");
    assert!(a.response_subject.len() >= 2, "{:?}", a.response_subject);
    let r = reasons_about(&a, "response_subject");
    assert!(r.iter().any(|r| r.rule.contains("牵头")), "{r:#?}");
}

#[test]
fn cross_county_issues_go_to_the_city_department() {
    let a = judge("天河区、海珠区、越秀区多家网约车平台司机反映平台乱扣费，交通运输局不作为。");
    assert!(
        a.response_subject.iter().any(|s| s.starts_with("广州市")),
        "{:?}",
        a.response_subject
    );
}

#[test]
fn handling_classes() {
    assert_eq!(
        judge("建议在我们小区门口增设一个公交站点，方便老人出行。").handling_class,
        Some(HandlingClass::Suggestion)
    );
    assert_eq!(
        judge("请问孩子上学的社保缴纳年限怎么计算？").handling_class,
        Some(HandlingClass::Inquiry)
    );
    assert_eq!(
        judge("恶意炒作！这个视频是造谣，大家不要再传谣了").handling_class,
        Some(HandlingClass::Hype)
    );
}

#[test]
fn region_from_the_hint_and_by_context() {
    let mut it = item("我们村的道路坑洼不平，多年没人修。");
    it.region = Some("440113".into());
    let a = analyzer().judge(&it);
    assert_eq!(a.region.as_deref(), Some("番禺区"));
    assert_eq!(a.region_code.as_deref(), Some("440113"));
    let a = judge("长春市朝阳区一小区停水三天");
    assert_eq!(a.region_code.as_deref(), Some("220104"));
    let a = judge("北京朝阳区一小区停水三天");
    assert_eq!(a.region_code.as_deref(), Some("110105"));
    let a = judge("朝阳区一小区停水三天");
    assert!(a.region_code.is_none());
    assert!(a.reasons.iter().any(|r| r.rule == "gazetteer:ambiguous"));
}

#[test]
fn a_county_named_in_full_beats_a_short_name_inside_a_word() {
    // 收治多人 holds 治多, the short name of 治多县 (青海): the county named in full wins.
    let a =
        judge("网友发帖称，上栗县暴雨引发山洪，多处道路被冲毁，有人受伤送医，医院已经收治多人。");
    assert_eq!(a.region_code.as_deref(), Some("360322"), "{:?}", a.reasons);
    assert!(!a.reasons.iter().any(|r| r.rule == "gazetteer:ambiguous"));
}

#[test]
fn non_chinese_text_is_detected() {
    let a = judge("The factory exploded this morning, many people hurt.");
    assert_eq!(a.extra["language"], "other");
    assert!(a.reasons.iter().any(|r| r.about == "language"));
    assert!(a.category.is_none());
}

#[test]
fn keywords_are_domain_terms_and_head_tokens() {
    let a = judge("海珠区某小区燃气泄漏引发火灾，消防员紧急疏散居民");
    assert!(
        a.keywords.iter().any(|k| k == "火灾" || k == "燃气泄漏"),
        "{:?}",
        a.keywords
    );
    assert!(a.keywords.len() <= analyzer().config().keywords);
    assert!(a.keywords.iter().all(|k| k.chars().count() >= 2));
}

#[test]
fn judged_items_serialise() {
    let it = item("工厂发生爆炸");
    let a = analyzer().judge(&it);
    let j = yuqing_core::JudgedItem {
        item: it,
        analysis: a,
    };
    let back = yuqing_core::JudgedItem::from_json(&j.to_json()).unwrap();
    assert_eq!(back.analysis.topics, j.analysis.topics);
}
