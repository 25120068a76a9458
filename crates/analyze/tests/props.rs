//! Property tests: judging never panics on arbitrary input and keeps its numbers in range.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use yuqing_analyze::Analyzer;
use yuqing_core::{Item, Platform};

fn analyzer() -> Arc<Analyzer> {
    static A: OnceLock<Arc<Analyzer>> = OnceLock::new();
    A.get_or_init(|| Arc::new(Analyzer::builtin().expect("bundled resources load")))
        .clone()
}

fn item(title: Option<String>, text: String, region: Option<String>) -> Item {
    let t = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap();
    Item {
        schema_version: 1,
        id: "p".into(),
        source: "prop".into(),
        platform: Platform::Weibo,
        url: None,
        title,
        text,
        author: None,
        published_at: t,
        observed_at: t,
        root_id: None,
        parent_id: None,
        metrics: Default::default(),
        region,
        label: None,
        extra: Default::default(),
    }
}

/// Text mixing lexicon terms, markup, emoji, negations and noise.
fn texty() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "爆炸",
        "火灾",
        "没有",
        "不",
        "非常",
        "满意",
        "失望",
        "<img alt=\"[怒]\">",
        "<br/>",
        "&amp;",
        "&#x4e2d;",
        "😡",
        "❤️",
        "@某人:",
        "https://t.cn/x",
        "#话题#",
        "天河区",
        "朝阳区",
        "谣言",
        "封城",
        "抢购",
        "聚集",
        "农民工",
        "讨薪",
        "3人死亡",
        "。",
        "，",
        "<",
        ">",
        "&",
        "#",
        "@",
        "國",
        "ＡＢＣ",
        "\u{200d}",
        "\u{fe0f}",
        "税务局",
        "建议",
        "请问",
    ]);
    prop::collection::vec(prop_oneof![atoms.prop_map(String::from), ".{0,8}"], 0..40)
        .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn judge_never_panics_on_arbitrary_utf8(text in ".{0,300}", title in proptest::option::of(".{0,40}"), region in proptest::option::of(".{0,12}")) {
        let a = analyzer().judge(&item(title, text, region));
        prop_assert!((0.0..=1.0).contains(&a.sensitivity), "sensitivity {}", a.sensitivity);
        prop_assert!((-1.0..=1.0).contains(&a.sentiment), "sentiment {}", a.sentiment);
    }

    #[test]
    fn judge_keeps_ranges_on_term_soup(text in texty(), title in proptest::option::of(texty())) {
        let a = analyzer().judge(&item(title, text, None));
        prop_assert!((0.0..=1.0).contains(&a.sensitivity), "sensitivity {}", a.sensitivity);
        prop_assert!((-1.0..=1.0).contains(&a.sentiment), "sentiment {}", a.sentiment);
        prop_assert!(a.keywords.len() <= analyzer().config().keywords);
        for r in &a.reasons {
            prop_assert!(r.weight.is_none_or(f64::is_finite));
        }
    }

    #[test]
    fn normaliser_output_is_valid_and_idempotent(text in ".{0,200}") {
        let n = analyzer();
        let once = n.normalizer().normalize_str(&text);
        let twice = n.normalizer().normalize_str(&once);
        // Markup and entities may decode to new markup once; plain text is a fixed point.
        if !text.contains(['<', '&', '@', '#']) && !text.contains("http") && !text.contains("www.") {
            prop_assert_eq!(once, twice);
        }
    }
}
