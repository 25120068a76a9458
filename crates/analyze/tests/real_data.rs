//! Checks on the real data sets beside the repository; skipped (with a message) when they are
//! absent. The full evaluation is `cargo run --release -p yuqing-benches --bin eval_judgment`.

use std::path::PathBuf;

use yuqing_analyze::Analyzer;
use yuqing_core::{Item, Platform};

fn data_dir() -> Option<PathBuf> {
    let p = match std::env::var_os("YUQING_SHARED_DATA") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    p.is_dir().then_some(p)
}

fn item(i: usize, title: &str, text: &str) -> Item {
    let t = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap();
    Item {
        schema_version: 1,
        id: i.to_string(),
        source: "real".into(),
        platform: Platform::Board,
        url: None,
        title: (!title.is_empty()).then(|| title.to_string()),
        text: text.to_string(),
        author: None,
        published_at: t,
        observed_at: t,
        root_id: None,
        parent_id: None,
        metrics: Default::default(),
        region: None,
        label: None,
        extra: Default::default(),
    }
}

#[test]
fn untrained_classifier_on_board_messages() {
    let Some(dir) = data_dir() else {
        println!("skipped: shared data folder absent (set YUQING_SHARED_DATA)");
        return;
    };
    let path = dir.join("tipdm2020c/a2_full_sample_1842.csv");
    let Ok(mut r) = csv::Reader::from_path(&path) else {
        println!("skipped: {} not readable", path.display());
        return;
    };
    let a = Analyzer::builtin().unwrap();
    let (mut n, mut correct, mut categorised, mut with_reason) = (0usize, 0usize, 0usize, 0usize);
    for (i, rec) in r.records().enumerate().take(600) {
        let rec = rec.unwrap();
        let j = a.judge(&item(i, &rec[2], &rec[4]));
        n += 1;
        if j.category.as_deref() == Some(rec[5].trim()) {
            correct += 1;
        }
        if j.category.is_some() {
            categorised += 1;
            if j.reasons.iter().any(|r| r.about == "category") {
                with_reason += 1;
            }
        }
        assert!((0.0..=1.0).contains(&j.sensitivity));
        assert!((-1.0..=1.0).contains(&j.sentiment));
    }
    let acc = correct as f64 / n as f64;
    println!(
        "untrained category accuracy on {n} board messages: {acc:.3} ({categorised} categorised)"
    );
    assert!(acc > 0.7, "accuracy {acc}");
    assert!(categorised > n * 9 / 10, "{categorised} of {n} categorised");
    assert_eq!(
        with_reason, categorised,
        "every categorised item explains its category"
    );
}

#[test]
fn government_pages_are_normalised_to_text() {
    let Some(dir) = data_dir() else {
        println!("skipped: shared data folder absent (set YUQING_SHARED_DATA)");
        return;
    };
    let a = Analyzer::builtin().unwrap();
    let Ok(entries) = std::fs::read_dir(dir.join("gov_pages")) else {
        println!("skipped: gov_pages absent");
        return;
    };
    let mut pages = 0;
    for e in entries.flatten() {
        let html = std::fs::read_to_string(e.path()).unwrap_or_default();
        if html.is_empty() {
            continue;
        }
        let text = a.normalizer().normalize_str(&html);
        assert!(
            !text.contains("<div"),
            "markup left in {}",
            e.path().display()
        );
        assert!(
            !text.contains("function("),
            "script left in {}",
            e.path().display()
        );
        let j = a.judge(&item(pages, "", &html));
        assert!(
            j.region.is_some(),
            "no region found in {}",
            e.path().display()
        );
        pages += 1;
    }
    println!("normalised {pages} government pages");
}
