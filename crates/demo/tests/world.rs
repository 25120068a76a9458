//! The generated world: determinism, the spread model, the text, the item contract, the scale knob.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use yuqing_core::{Item, Platform};
use yuqing_demo::hawkes::{self, HawkesParams, Kernel};
use yuqing_demo::{default_start, DemoWorld, Script};

fn jsonl(items: &[Item]) -> Vec<u8> {
    let mut out = Vec::new();
    for i in items {
        out.extend(i.to_json());
        out.push(b'\n');
    }
    out
}

#[test]
fn same_seed_same_world_other_seed_other_world() {
    let t = default_start() + chrono::Duration::hours(5);
    let a = DemoWorld::bundled().unwrap().items_at(t);
    let b = DemoWorld::bundled().unwrap().items_at(t);
    assert!(a.len() > 1000);
    assert_eq!(jsonl(&a), jsonl(&b));
    let c = DemoWorld::bundled().unwrap().with_seed(7).items_at(t);
    assert_ne!(jsonl(&a), jsonl(&c));
}

#[test]
fn the_simulators_branching_ratio_matches_its_parameter() {
    // A fixed seed and a generous bound: the estimate Σ children / Σ exposure of 3 000 cascades.
    for params in [
        HawkesParams {
            kernel: Kernel::PowerLaw {
                c: 600.0,
                theta: 0.9,
            },
            branching: 0.4,
            dispersion: 0.5,
            root_log_mean: 3.0,
            root_log_sd: 0.0,
        },
        HawkesParams {
            kernel: Kernel::Exponential { beta: 1.0 / 3600.0 },
            branching: 0.7,
            dispersion: 2.0,
            root_log_mean: 3.0,
            root_log_sd: 0.0,
        },
        Script::bundled().unwrap().hawkes,
    ] {
        let mut rng = ChaCha8Rng::seed_from_u64(2026);
        let horizon = 86_400.0;
        let cascades: Vec<_> = (0..3_000)
            .map(|_| hawkes::simulate_cascade(&params, 20.0, horizon, 1_000_000, &mut rng))
            .collect();
        let est = hawkes::empirical_branching(&cascades, &params.kernel, horizon);
        let rel = (est - params.branching).abs() / params.branching;
        assert!(
            rel < 0.1,
            "{:?}: estimated {est}, parameter {}",
            params.kernel,
            params.branching
        );
        // The root's direct reposts average its weight times the kernel mass in the horizon.
        let direct: usize = cascades
            .iter()
            .map(|c| c.parents.iter().filter(|p| p.is_none()).count())
            .sum();
        let mean = direct as f64 / cascades.len() as f64;
        let expect = 20.0 * params.kernel.cdf(horizon);
        assert!(
            (mean - expect).abs() / expect < 0.05,
            "root reach {mean} vs {expect}"
        );
    }
}

#[test]
fn every_template_is_fully_rendered() {
    let w = DemoWorld::bundled().unwrap();
    let items = w.items_at(default_start() + chrono::Duration::hours(48));
    for i in &items {
        for s in [Some(&i.text), i.title.as_ref()].into_iter().flatten() {
            assert!(
                !s.contains('{') && !s.contains('}'),
                "unfilled slot in {}: {s}",
                i.id
            );
            assert!(
                !s.contains("||") && !s.contains('\u{1}'),
                "template syntax left in {s}"
            );
            assert!(!s.trim().is_empty());
        }
    }
    // Varied wording: the incident's spontaneous posts are mostly distinct.
    let posts: Vec<&str> = items
        .iter()
        .filter(|i| {
            i.extra
                .get("demo_incident")
                .is_some_and(|v| v == "wanzai-chemical")
        })
        .filter(|i| i.root_id.is_none())
        .map(|i| i.text.as_str())
        .collect();
    let distinct: std::collections::HashSet<&&str> = posts.iter().collect();
    assert!(posts.len() > 50, "{}", posts.len());
    assert!(
        distinct.len() * 10 >= posts.len() * 7,
        "{} distinct of {}",
        distinct.len(),
        posts.len()
    );
}

#[test]
fn items_follow_the_contract() {
    let w = DemoWorld::bundled().unwrap();
    let t = default_start() + chrono::Duration::hours(10);
    let items = w.items_at(t);
    let mut platforms = std::collections::HashSet::new();
    let ids: std::collections::HashSet<(&str, &str)> = items
        .iter()
        .map(|i| (i.source.as_str(), i.id.as_str()))
        .collect();
    let any_ids: std::collections::HashSet<&str> = items.iter().map(|i| i.id.as_str()).collect();
    for i in &items {
        let back = Item::from_json(&i.to_json()).unwrap();
        assert_eq!(&back, i);
        assert!(i.published_at <= i.observed_at && i.published_at.to_utc() <= t);
        if let Some(root) = &i.root_id {
            // The root is served too: on the same source, or (news comments) as the article.
            assert!(
                ids.contains(&(i.source.as_str(), root.as_str()))
                    || any_ids.contains(root.as_str())
            );
        }
        platforms.insert(i.platform);
    }
    for p in [
        Platform::Portal,
        Platform::Forum,
        Platform::Weibo,
        Platform::News,
        Platform::Board,
        Platform::Comment,
    ] {
        assert!(platforms.contains(&p), "no {p} items");
    }
    // Officials and media are marked.
    assert!(items
        .iter()
        .any(|i| i.extra.get("author_kind").is_some_and(|k| k == "official")));
    // Board messages carry the reply status.
    assert!(items
        .iter()
        .any(|i| i.extra.get("reply_status").is_some_and(|k| k == "已答复")));
}

#[test]
fn incidents_start_early_and_officials_answer_later() {
    let w = DemoWorld::bundled().unwrap();
    let items = w.items_at(default_start() + chrono::Duration::hours(48));
    let chem: Vec<&Item> = items
        .iter()
        .filter(|i| {
            i.extra
                .get("demo_incident")
                .is_some_and(|v| v == "wanzai-chemical")
        })
        .collect();
    let first = chem.iter().map(|i| i.published_at).min().unwrap().to_utc();
    let minutes = (first - default_start()).num_minutes();
    assert!(
        (10..=20).contains(&minutes),
        "first sensitive post at {minutes} min"
    );
    let official = chem
        .iter()
        .filter(|i| i.extra.get("author_kind").is_some_and(|k| k == "official"))
        .map(|i| i.published_at)
        .min()
        .unwrap();
    assert!(official.to_utc() - first > chrono::Duration::minutes(60));
    // The spread follows the curve: a sizeable share in the first hours, growth until the peak.
    let at = |h: i64| {
        chem.iter()
            .filter(|i| i.published_at.to_utc() <= first + chrono::Duration::hours(h))
            .count() as f64
    };
    let total = at(24);
    assert!(
        at(2) / total > 0.1 && at(6) / total > 0.4 && at(6) < total,
        "{} {} {total}",
        at(2),
        at(6)
    );
    // Each of the scripted incidents shows up.
    for id in w.script().incidents.iter().map(|i| i.id.as_str()) {
        assert!(
            items
                .iter()
                .any(|i| i.extra.get("demo_incident").is_some_and(|v| v == id)),
            "{id}"
        );
    }
}

#[test]
fn the_scale_knob_generates_load() {
    let mut scale = Script::bundled().unwrap().world.scale;
    scale.portal_archive = 10_000;
    scale.background_per_minute = 0.0;
    scale.incidents = 0.2;
    let w = DemoWorld::bundled().unwrap().with_scale(scale).unwrap();
    let stats = w.stats();
    let portal = stats
        .docs
        .iter()
        .find(|(p, _)| *p == Platform::Portal)
        .unwrap()
        .1;
    assert!(portal >= 10_000, "{portal}");
    let mut bad = Script::bundled().unwrap().world.scale;
    bad.users = 0;
    assert!(DemoWorld::bundled().unwrap().with_scale(bad).is_err());
}
