//! Behaviour of the event tracker through its public API.

use chrono::{DateTime, Duration, FixedOffset};
use proptest::prelude::*;
use yuqing_core::{Analysis, Event, Item, Metrics, Platform, Stage, SCHEMA_VERSION};
use yuqing_events::synthetic::{SyntheticConfig, SyntheticStream};
use yuqing_events::{EventTracker, EventsConfig, Merge};

fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T08:00:00+08:00").unwrap()
}

fn at(min: f64) -> DateTime<FixedOffset> {
    t0() + Duration::milliseconds((min * 60_000.0) as i64)
}

fn item(source: &str, id: &str, platform: Platform, text: &str, min: f64) -> Item {
    Item {
        schema_version: SCHEMA_VERSION,
        id: id.into(),
        source: source.into(),
        platform,
        url: Some(format!("https://example.org/{source}/{id}")),
        title: None,
        text: text.into(),
        author: Some(format!("author-{id}")),
        published_at: at(min),
        observed_at: at(min),
        root_id: None,
        parent_id: None,
        metrics: Metrics::default(),
        region: None,
        label: None,
        extra: Default::default(),
    }
}

fn child(source: &str, id: &str, root: &str, min: f64) -> Item {
    let mut i = item(source, id, Platform::Weibo, "转发微博", min);
    i.root_id = Some(root.into());
    i.parent_id = Some(root.into());
    i
}

fn kw(words: &[&str], region: Option<&str>) -> Analysis {
    Analysis {
        keywords: words.iter().map(|s| s.to_string()).collect(),
        region: region.map(str::to_string),
        ..Analysis::default()
    }
}

const FIRE: &str = "今天上午十时许，青石市安和区一化工厂发生爆炸，现场浓烟滚滚，附近居民称听到巨响，\
                    消防救援人员已赶到现场处置，周边道路实行临时交通管制，伤亡情况不明，事故原因正在调查。";
const SCHOOL: &str =
    "市教育局发布通知，今年秋季学期中小学开学时间调整为九月一日，请各位家长提前做好准备，\
                      各校将于八月底前完成校舍安全检查。";

#[test]
fn reposts_and_comments_join_the_post_in_either_order() {
    let mut t = EventTracker::new(&EventsConfig::default());
    // A comment arrives before its post.
    let mut c = item("wb", "c1", Platform::Comment, "希望尽快查明原因", 5.0);
    c.root_id = Some("p1".into());
    let (e1, how1) = t.observe_with(&c, &mut Analysis::default());
    assert_eq!(how1, Merge::New);
    assert_eq!(
        e1.event_id,
        yuqing_core::id::event_id("wb", "c1"),
        "the first item names the event"
    );
    let (e2, how2) = t.observe_with(
        &item("wb", "p1", Platform::Weibo, FIRE, 0.0),
        &mut Analysis::default(),
    );
    assert_eq!(how2, Merge::Thread);
    assert_eq!(e2.event_id, e1.event_id);
    let mut a = Analysis::default();
    let (e3, how3) = t.observe_with(&child("wb", "r1", "p1", 6.0), &mut a);
    assert_eq!(how3, Merge::Thread);
    assert_eq!(a.event_id.as_deref(), Some(e1.event_id.as_str()));
    assert!(a.fingerprint.as_deref().is_some_and(|f| f.len() == 16));
    assert!(a.reasons.iter().any(|r| r.rule == "event:thread"));
    assert_eq!(t.len(), 1);
    assert_eq!(
        (e3.counts.items, e3.counts.reposts, e3.counts.comments),
        (3, 1, 1)
    );
    assert_eq!(
        e3.first_seen,
        at(0.0),
        "first seen moves back to the post's publication"
    );
    assert!(
        e3.title
            .starts_with("今天上午十时许，青石市安和区一化工厂发生爆炸")
            && e3.title.ends_with('…'),
        "{}",
        e3.title
    );
}

#[test]
fn near_duplicate_texts_on_two_platforms_merge_and_unrelated_texts_do_not() {
    let mut t = EventTracker::new(&EventsConfig::default());
    let a = t.observe(
        &item("wb", "1", Platform::Weibo, FIRE, 0.0),
        &mut Analysis::default(),
    );
    let mut news = item(
        "news",
        "n1",
        Platform::News,
        &format!("转发：{FIRE}@青石日报"),
        30.0,
    );
    news.title = Some("青石市安和区化工厂爆炸".into());
    news.extra.insert("author_kind".into(), "media".into());
    let (b, how) = t.observe_with(&news, &mut Analysis::default());
    assert_eq!(how, Merge::NearDuplicate);
    assert_eq!(a.event_id, b.event_id);
    assert_eq!(
        b.title, "青石市安和区化工厂爆炸",
        "a news headline beats the post's gist"
    );
    assert_eq!(
        (b.counts.platforms, b.counts.sources, b.counts.media),
        (2, 2, 1)
    );
    let (c, how) = t.observe_with(
        &item("wb", "2", Platform::Weibo, SCHOOL, 31.0),
        &mut Analysis::default(),
    );
    assert_eq!(how, Merge::New);
    assert_ne!(c.event_id, a.event_id);
    // Low-information texts never merge by fingerprint.
    let (d, _) = t.observe_with(
        &item("wb", "3", Platform::Weibo, "哈哈哈哈哈哈哈哈哈哈", 32.0),
        &mut Analysis::default(),
    );
    let (e, how) = t.observe_with(
        &item("wb", "4", Platform::Weibo, "哈哈哈哈哈哈哈哈哈哈哈", 33.0),
        &mut Analysis::default(),
    );
    assert_eq!(how, Merge::New);
    assert_ne!(d.event_id, e.event_id);
    assert_eq!(t.len(), 4);
}

#[test]
fn cross_platform_reports_merge_by_keywords_and_place() {
    let mut t = EventTracker::new(&EventsConfig::default());
    let words = ["安和区", "化工厂", "爆炸", "伤亡"];
    let a = t.observe(
        &item("wb", "1", Platform::Weibo, FIRE, 0.0),
        &mut kw(&words, Some("青石市安和区")),
    );
    let report =
        "安和区应急管理局通报：化工厂爆炸已造成三人受伤，伤亡人员正在救治，事故原因调查中。";
    let (b, how) = t.observe_with(
        &item("portal", "g1", Platform::Portal, report, 90.0),
        &mut kw(&["安和区", "化工厂", "爆炸", "通报"], Some("安和区")),
    );
    assert_eq!(how, Merge::Keywords, "{b:?}");
    assert_eq!(b.event_id, a.event_id);
    assert_eq!(b.counts.official, 1, "portals are official");
    // The same words in another place are another incident.
    let (c, how) = t.observe_with(
        &item(
            "news",
            "x",
            Platform::News,
            "白沙县一化工厂发生爆炸，伤亡情况正在核实。",
            95.0,
        ),
        &mut kw(&["白沙县", "化工厂", "爆炸", "伤亡"], Some("白沙县")),
    );
    assert_eq!(how, Merge::New);
    assert_ne!(c.event_id, a.event_id);
    // One shared word is not enough.
    let (_, how) = t.observe_with(
        &item(
            "news",
            "y",
            Platform::News,
            "爆炸物品管理条例修订征求意见。",
            96.0,
        ),
        &mut kw(&["爆炸", "条例", "修订"], None),
    );
    assert_eq!(how, Merge::New);
    // Outside the merge window nothing joins by keywords.
    let (_, how) = t.observe_with(
        &item("portal", "g2", Platform::Portal, report, 60.0 * 30.0),
        &mut kw(&["安和区", "化工厂", "爆炸", "通报"], Some("安和区")),
    );
    assert_eq!(how, Merge::New);
    assert!(b.keywords.iter().any(|k| k == "化工厂"));
    assert_eq!(b.region.as_deref(), Some("青石市安和区"));
}

fn reobserve(t: &mut EventTracker, min: f64, reposts: u64, comments: u64) -> Event {
    let mut i = item("wb", "p", Platform::Weibo, FIRE, 0.0);
    i.observed_at = at(min);
    i.metrics = Metrics {
        reposts: Some(reposts),
        comments: Some(comments),
        likes: Some(reposts * 3),
        views: None,
    };
    t.observe(&i, &mut Analysis::default())
}

#[test]
fn re_observation_replaces_counts_without_double_counting() {
    let mut t = EventTracker::new(&EventsConfig::default());
    let e = reobserve(&mut t, 0.0, 10, 2);
    assert_eq!(
        (
            e.counts.items,
            e.counts.reposts,
            e.counts.comments,
            e.counts.likes
        ),
        (1, 10, 2, 30)
    );
    let e = reobserve(&mut t, 10.0, 50, 5);
    assert_eq!(
        (
            e.counts.items,
            e.counts.reposts,
            e.counts.comments,
            e.counts.likes
        ),
        (1, 50, 5, 150)
    );
    // A redelivery of the same reading changes nothing.
    let again = reobserve(&mut t, 10.0, 50, 5);
    assert_eq!(again.counts, e.counts);
    // A lower reading (a rounded "10万+", a deletion) never takes counts back.
    let lower = reobserve(&mut t, 20.0, 40, 1);
    assert_eq!(lower.counts, e.counts);
    // Repost items already covered by the post's own count add items, not reposts.
    for k in 0..5 {
        t.observe(
            &child("wb", &format!("r{k}"), "p", 21.0 + k as f64),
            &mut Analysis::default(),
        );
    }
    let e = reobserve(&mut t, 30.0, 50, 5);
    assert_eq!((e.counts.items, e.counts.reposts), (6, 50));
    assert_eq!(t.len(), 1);
    assert_eq!(t.tracked_items(), 6);
}

#[test]
fn stages_follow_event_time_and_velocity() {
    let cfg = EventsConfig::default();
    let mut t = EventTracker::new(&cfg);
    let mut last = None;
    // A steady trickle: the stage follows the 2h/6h/24h clock.
    for (min, want) in [
        (0.0, Stage::Emerging),
        (119.0, Stage::Emerging),
        (121.0, Stage::Spreading),
        (359.0, Stage::Spreading),
        (361.0, Stage::Peak),
        (1439.0, Stage::Peak),
        (1441.0, Stage::Fading),
    ] {
        let e = reobserve(&mut t, min, (min as u64) / 10, 0);
        assert_eq!(e.stage, want, "at {min} min");
        assert!(e.reasons.iter().any(|r| r.about == "stage"));
        last = Some(e);
    }
    assert!(last
        .unwrap()
        .reasons
        .iter()
        .any(|r| r.evidence.contains("超过 24 小时")));

    // A burst that dies: Fading by velocity, then a flare brings it back.
    let mut t = EventTracker::new(&cfg);
    reobserve(&mut t, 0.0, 0, 0);
    let mut n = 0;
    for m in 1..=30 {
        n += 40;
        reobserve(&mut t, m as f64 * 2.0, n, 0);
    }
    let hot = reobserve(&mut t, 61.0, n, 0);
    assert_eq!(hot.stage, Stage::Emerging);
    assert!(hot.velocity > 500.0, "{}", hot.velocity);
    assert!(hot
        .reasons
        .iter()
        .any(|r| r.about == "velocity" && r.evidence.contains("1小时内新增转发")));
    // Quiet for two hours: advance() reports the change without any new item.
    let changed = t.advance(at(190.0));
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].stage, Stage::Fading);
    assert!(changed[0].reasons.iter().any(|r| r.rule == "curve:cooled"));
    assert!(t.advance(at(200.0)).is_empty(), "no change, no snapshot");
    // It grows again.
    let mut e = None;
    for m in 0..20 {
        n += 60;
        e = Some(reobserve(&mut t, 200.0 + m as f64 * 2.0, n, 0));
    }
    let e = e.unwrap();
    assert_eq!(
        e.stage,
        Stage::Spreading,
        "a flare returns the event to a live stage"
    );
    assert_eq!(e.extra.get("flares").and_then(|v| v.as_u64()), Some(1));
    assert!(e.reasons.iter().any(|r| r.rule == "curve:flare"));
}

#[test]
fn forecast_is_sane_and_monotone_in_early_counts() {
    let cfg = EventsConfig::default();
    let mut sizes = Vec::new();
    for scale in [1u64, 2, 4, 8] {
        let mut t = EventTracker::new(&cfg);
        let mut e = None;
        for m in 0..=12 {
            e = Some(reobserve(
                &mut t,
                m as f64 * 5.0,
                scale * 10 * m as u64,
                scale * m as u64,
            ));
        }
        let e = e.unwrap();
        let f = &e.forecast_peak;
        assert!(f.low <= f.size && f.size <= f.high, "{f:?}");
        assert!(
            f.low >= e.size(),
            "the band never goes below what is already there"
        );
        assert_eq!(f.method, "hawkes-pl");
        assert!(f.peak_at.is_some());
        assert!(e
            .reasons
            .iter()
            .any(|r| r.about == "forecast" && r.evidence.starts_with("预计24小时规模")));
        sizes.push(f.size);
    }
    for w in sizes.windows(2) {
        assert!(
            w[1] > w[0],
            "more early interactions, larger forecast: {sizes:?}"
        );
    }
    // Past 24 hours the forecast is what was observed.
    let mut t = EventTracker::new(&cfg);
    reobserve(&mut t, 0.0, 10, 0);
    let e = reobserve(&mut t, 25.0 * 60.0, 20, 0);
    assert_eq!(e.forecast_peak.method, "observed");
    assert_eq!(e.forecast_peak.low, e.forecast_peak.high);
}

fn run(t: &mut EventTracker, items: &[(Item, Analysis)]) -> Vec<(Event, Option<String>)> {
    items
        .iter()
        .map(|(i, a)| {
            let mut a = a.clone();
            let e = t.observe(i, &mut a);
            (e, a.event_id)
        })
        .collect()
}

#[test]
fn export_import_round_trip_gives_identical_behaviour() {
    let cfg = EventsConfig {
        quiet_after: std::time::Duration::from_secs(3 * 3600),
        ..EventsConfig::default()
    };
    let stream: Vec<(Item, Analysis)> =
        SyntheticStream::new(SyntheticConfig::per_day(11, 50_000.0))
            .take(6000)
            .collect();
    let (head, tail) = stream.split_at(3000);
    let mut a = EventTracker::new(&cfg);
    run(&mut a, head);
    a.expire(head.last().unwrap().0.observed_at);
    let state = a.export();
    let text = serde_json::to_string(&state).unwrap();
    let mut b = EventTracker::import(&cfg, serde_json::from_str(&text).unwrap()).unwrap();
    assert_eq!(a.len(), b.len());
    assert_eq!(
        b.export(),
        state,
        "export of an import is the same checkpoint"
    );
    let ra = run(&mut a, tail);
    let rb = run(&mut b, tail);
    assert_eq!(ra, rb);
    let end = tail.last().unwrap().0.observed_at + Duration::hours(4);
    assert_eq!(a.expire(end), b.expire(end));
    // Damaged checkpoints are refused with an error, not a panic.
    let mut bad = state.clone();
    bad["format"] = 99.into();
    assert!(matches!(
        EventTracker::import(&cfg, bad),
        Err(yuqing_events::EventsError::Version { found: 99, .. })
    ));
    let mut bad = state.clone();
    bad["refs"][0][1]["slot"] = 9_999_999.into();
    assert!(matches!(
        EventTracker::import(&cfg, bad),
        Err(yuqing_events::EventsError::Inconsistent(_))
    ));
    assert!(EventTracker::import(&cfg, serde_json::json!({"format": 1})).is_err());
}

#[test]
fn a_day_of_items_keeps_open_events_and_memory_bounded() {
    // 100 000 items over a simulated day, expiring every 10 minutes of event time.
    let cfg = EventsConfig {
        quiet_after: std::time::Duration::from_secs(2 * 3600),
        ..EventsConfig::default()
    };
    let mut t = EventTracker::new(&cfg);
    let mut next_expire = None;
    let mut samples = Vec::new();
    let mut closed = 0usize;
    let mut n = 0usize;
    for (item, mut analysis) in SyntheticStream::new(SyntheticConfig::per_day(3, 100_000.0)) {
        let now = item.observed_at;
        if now - SyntheticConfig::per_day(3, 1.0).start > Duration::hours(24) {
            break;
        }
        t.observe(&item, &mut analysis);
        n += 1;
        let due = *next_expire.get_or_insert(now + Duration::minutes(10));
        if now >= due {
            closed += t.expire(now).len();
            next_expire = Some(now + Duration::minutes(10));
            samples.push((t.len(), t.memory_bytes(), t.tracked_items()));
        }
    }
    assert!(n > 80_000, "{n}");
    assert!(closed > 10_000, "quiet events close: {closed}");
    // After a warm-up of twice quiet_after, the open events and memory stay flat: the second half
    // of the day holds no more than 1.5 times the peak of the hours 4–12.
    let warm = &samples[24..72];
    let late = &samples[72..];
    let peak = |s: &[(usize, usize, usize)], f: fn(&(usize, usize, usize)) -> usize| {
        s.iter().map(f).max().unwrap()
    };
    assert!(
        peak(late, |s| s.0) as f64 <= 1.5 * peak(warm, |s| s.0) as f64,
        "open events grew: {samples:?}"
    );
    assert!(
        peak(late, |s| s.1) as f64 <= 1.5 * peak(warm, |s| s.1) as f64,
        "memory grew"
    );
    // Item keys live as long as their events, and the long tails of the largest incidents (up to
    // 36 h in the generator) keep theirs past the day; reposts and comments are held in 5 bytes
    // each, so memory per tracked key stays small.
    let last = samples.last().unwrap();
    assert!(
        last.1 / last.2.max(1) < 400,
        "bytes per tracked key: {last:?}"
    );
    // And in absolute terms: far fewer open events than items seen.
    assert!(peak(late, |s| s.0) < n / 5);
}

#[test]
fn hard_caps_close_the_quietest_events_early_and_report_them() {
    let cfg = EventsConfig {
        max_open_events: 100,
        ..EventsConfig::default()
    };
    let mut t = EventTracker::new(&cfg);
    for k in 0..150 {
        // Texts with no bigram in common.
        let text: String = (0..20u32)
            .map(|j| char::from_u32(0x4E00 + k as u32 * 130 + j * 6).unwrap())
            .collect();
        t.observe(
            &item("wb", &format!("x{k}"), Platform::Weibo, &text, k as f64),
            &mut Analysis::default(),
        );
        assert!(t.len() <= 100);
    }
    let closed = t.expire(at(151.0));
    assert!(closed.len() >= 50, "{}", closed.len());
    assert!(closed.iter().all(|e| e.stage == Stage::Fading));
    assert_eq!(
        closed[0].event_id,
        yuqing_core::id::event_id("wb", "x0"),
        "the quietest went first"
    );
}

#[test]
fn quiet_events_expire_with_a_final_snapshot() {
    let mut t = EventTracker::new(&EventsConfig::default());
    let e = t.observe(
        &item("wb", "1", Platform::Weibo, FIRE, 0.0),
        &mut Analysis::default(),
    );
    assert!(t.expire(at(47.0 * 60.0)).is_empty());
    assert_eq!(
        t.get(&e.event_id).map(|g| g.event_id),
        Some(e.event_id.clone())
    );
    let gone = t.expire(at(49.0 * 60.0));
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].stage, Stage::Fading);
    assert!(t.is_empty() && t.tracked_items() == 0);
    assert!(t.get(&e.event_id).is_none());
    // The same post seen again later opens the event anew, under the same id.
    let again = t.observe(
        &item("wb", "1", Platform::Weibo, FIRE, 50.0 * 60.0),
        &mut Analysis::default(),
    );
    assert_eq!(again.event_id, e.event_id);
}

fn arb_item() -> impl Strategy<Value = (Item, Analysis)> {
    let platform = prop::sample::select(Platform::ALL.to_vec());
    (
        0u8..6,
        0u8..30,
        platform,
        ".{0,80}",
        -1_000_000i64..1_000_000_000,
        0i64..100_000,
        prop::option::of(0u8..30),
        prop::option::of(any::<u64>()),
        prop::option::of(0u64..1_000_000),
        prop::collection::vec("[a-c]{1,3}", 0..6),
        any::<f64>(),
        prop::option::of("[甲乙丙]{1,2}"),
    )
        .prop_map(
            |(src, id, platform, text, t, lag, root, reposts, comments, keywords, sens, region)| {
                let published = DateTime::from_timestamp(1_700_000_000 + t, 0)
                    .unwrap()
                    .fixed_offset();
                let item = Item {
                    schema_version: SCHEMA_VERSION,
                    id: format!("{id}"),
                    source: format!("s{src}"),
                    platform,
                    url: None,
                    title: None,
                    text,
                    author: None,
                    published_at: published,
                    observed_at: published + Duration::seconds(lag),
                    root_id: root.map(|r| format!("{r}")),
                    parent_id: None,
                    metrics: Metrics {
                        reposts,
                        comments,
                        likes: None,
                        views: reposts,
                    },
                    region: None,
                    label: None,
                    extra: Default::default(),
                };
                let analysis = Analysis {
                    keywords,
                    sensitivity: sens,
                    sentiment: sens,
                    region,
                    ..Analysis::default()
                };
                (item, analysis)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn observe_never_panics_and_counts_never_decrease(items in prop::collection::vec(arb_item(), 1..60)) {
        let mut t = EventTracker::new(&EventsConfig::default());
        let mut seen: std::collections::HashMap<String, yuqing_core::Counts> = Default::default();
        for (item, mut analysis) in items {
            let e = t.observe(&item, &mut analysis);
            prop_assert_eq!(analysis.event_id.as_deref(), Some(e.event_id.as_str()));
            prop_assert!(e.forecast_peak.low <= e.forecast_peak.size && e.forecast_peak.size <= e.forecast_peak.high);
            prop_assert!(e.velocity.is_finite() && e.acceleration.is_finite());
            prop_assert!(e.sensitivity.is_finite() && e.sentiment.is_finite());
            if let Some(prev) = seen.get(&e.event_id) {
                prop_assert!(e.counts.items >= prev.items);
                prop_assert!(e.counts.reposts >= prev.reposts);
                prop_assert!(e.counts.comments >= prev.comments);
                prop_assert!(e.counts.likes >= prev.likes);
                prop_assert!(e.counts.views >= prev.views);
                prop_assert!(e.counts.sources >= prev.sources);
            }
            seen.insert(e.event_id.clone(), e.counts.clone());
        }
        let state = t.export();
        prop_assert!(EventTracker::import(&EventsConfig::default(), state).is_ok());
    }
}
