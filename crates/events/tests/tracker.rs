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
    // What makes a shared word telling is that few other events hold it: a day's chatter first.
    chatter(&mut t, 60, -60.0);
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
    // Item keys live while their events are open, up to `reobserve_horizon` after they were last
    // seen. An open event costs a couple of KB (its state, title, evidence and a profile of up
    // to 48 words); reposts and comments are held in 9 bytes each and other keys in well under
    // 100, so memory stays within a budget per event and per key.
    let last = samples.last().unwrap();
    assert!(
        last.1 < 2_500 * last.0 + 150 * last.2,
        "memory over budget (open events, bytes, tracked keys): {last:?}"
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

/// An analysis as the analyze stage writes it: keywords, place with its code, topics, category.
fn judged(
    words: &[&str],
    place: Option<(&str, &str)>,
    topics: &[&str],
    category: Option<&str>,
) -> Analysis {
    Analysis {
        keywords: words.iter().map(|s| s.to_string()).collect(),
        region: place.map(|p| p.0.to_string()),
        region_code: place.map(|p| p.1.to_string()),
        topics: topics.iter().map(|s| s.to_string()).collect(),
        category: category.map(str::to_string),
        sensitivity: if topics.is_empty() { 0.1 } else { 0.7 },
        ..Analysis::default()
    }
}

const HOME: (&str, &str) = ("安和区", "990102");
const OTHER: (&str, &str) = ("白沙县", "990221");

/// A local feed: chatter of the home district about everyday things, each post its own matter (its
/// own words besides the district's name and "今天"), as the background a duty room's sources
/// carry all day.
fn chatter(t: &mut EventTracker, n: usize, from_min: f64) {
    for k in 0..n {
        let text: String = (0..24u32)
            .map(|j| char::from_u32(0x4E00 + (k as u32 * 211 + j * 37) % 20_000).unwrap())
            .collect();
        let own: Vec<String> = (0..3).map(|j| format!("日常{k}-{j}")).collect();
        let mut words: Vec<&str> = vec![HOME.0, "今天"];
        words.extend(own.iter().map(String::as_str));
        let (e, how) = t.observe_with(
            &item(
                "chat",
                &format!("c{k}"),
                Platform::Weibo,
                &text,
                from_min + k as f64 * 0.5,
            ),
            &mut judged(&words, Some(HOME), &[], None),
        );
        assert_eq!(
            (e.counts.items, how),
            (1, Merge::New),
            "chatter {k} stays apart"
        );
    }
}

#[test]
fn same_county_same_topic_reports_an_hour_apart_merge_across_platforms() {
    let mut t = EventTracker::new(&EventsConfig::default());
    chatter(&mut t, 120, 0.0);
    let first = "刚才安和区东郊化工厂那边一声巨响，黑烟冲天，窗户都在抖，有没有人知道什么情况？";
    let (a, how) = t.observe_with(
        &item("wb", "p1", Platform::Weibo, first, 60.0),
        &mut judged(
            &["化工厂", "巨响", "黑烟", "安和区", "窗户"],
            Some(HOME),
            &["安全事故"],
            Some("城乡建设"),
        ),
    );
    assert_eq!(how, Merge::New);
    // An hour later the district's portal reports it in its own words: no shared sentence, a few
    // shared rare words, the same district and the same sensitivity topic.
    let mut notice = item(
        "portal",
        "g1",
        Platform::Portal,
        "今日上午，安和区一化工企业发生火情，消防救援力量及时处置，明火已扑灭，无人员伤亡，周边空气监测正常。",
        120.0,
    );
    notice.title = Some("关于安和区一化工企业火情的情况通报".into());
    let mut analysis = judged(
        &["化工厂", "火情", "安和区", "通报", "监测"],
        Some(HOME),
        &["安全事故"],
        Some("城乡建设"),
    );
    let (b, how) = t.observe_with(&notice, &mut analysis);
    assert_eq!(how, Merge::Keywords, "{:?}", analysis.reasons);
    assert_eq!(b.event_id, a.event_id);
    assert_eq!(b.counts.platforms, 2);
    assert_eq!(
        b.title, "关于安和区一化工企业火情的情况通报",
        "the portal's headline wins"
    );
    let why = analysis
        .reasons
        .iter()
        .find(|r| r.about == "event")
        .unwrap();
    assert!(
        why.evidence.contains("化工厂") && why.evidence.contains("话题 安全事故"),
        "{why:?}"
    );
    // Chatter of the same district sharing its name (held by every event) and an everyday word
    // stays apart.
    let (c, how) = t.observe_with(
        &item(
            "chat",
            "x1",
            Platform::Weibo,
            "安和区今天的晚霞好美，下班路上拍了好多张",
            125.0,
        ),
        &mut judged(&[HOME.0, "晚霞", "下班", "今天"], Some(HOME), &[], None),
    );
    assert_ne!(c.event_id, a.event_id, "{how:?}");
}

#[test]
fn two_incidents_in_two_counties_never_merge() {
    let mut t = EventTracker::new(&EventsConfig::default());
    chatter(&mut t, 60, 0.0);
    let words = ["化工厂", "爆炸", "伤亡", "黑烟"];
    let (a, _) = t.observe_with(
        &item(
            "wb",
            "a1",
            Platform::Weibo,
            "安和区一化工厂发生爆炸，黑烟滚滚，伤亡不明 #化工厂爆炸#",
            40.0,
        ),
        &mut judged(&words, Some(HOME), &["安全事故"], Some("城乡建设")),
    );
    // The same words, the same generic hashtag, ten minutes later, in another county.
    let (b, how) = t.observe_with(
        &item(
            "wb",
            "b1",
            Platform::Weibo,
            "白沙县工业园化工厂爆炸了，黑烟好大，伤亡情况还不清楚 #化工厂爆炸#",
            50.0,
        ),
        &mut judged(&words, Some(OTHER), &["安全事故"], Some("城乡建设")),
    );
    assert_eq!(how, Merge::New);
    assert_ne!(a.event_id, b.event_id);
    // Even a reprint of the first text does not cross the county line.
    let (c, how) = t.observe_with(
        &item(
            "news",
            "b2",
            Platform::News,
            "安和区一化工厂发生爆炸，黑烟滚滚，伤亡不明 #化工厂爆炸#",
            55.0,
        ),
        &mut judged(&words, Some(OTHER), &["安全事故"], Some("城乡建设")),
    );
    assert_eq!(
        (c.event_id.as_str(), how),
        (b.event_id.as_str(), Merge::Keywords)
    );
    // Each county's follow-ups find their own incident; a city-level report may join the county
    // inside that city.
    let (d, _) = t.observe_with(
        &item(
            "wb",
            "a2",
            Platform::Weibo,
            "安和区化工厂那边还在冒黑烟，爆炸原因查清了吗",
            70.0,
        ),
        &mut judged(
            &["化工厂", "黑烟", "爆炸", "原因"],
            Some(HOME),
            &["安全事故"],
            None,
        ),
    );
    assert_eq!(d.event_id, a.event_id);
    let (e, how) = t.observe_with(
        &item(
            "wb",
            "a3",
            Platform::Weibo,
            "青石市化工厂爆炸黑烟，市里要重视",
            75.0,
        ),
        &mut judged(
            &["化工厂", "爆炸", "黑烟", "重视"],
            Some(("青石市", "990100")),
            &["安全事故"],
            None,
        ),
    );
    assert_eq!(
        (e.event_id.as_str(), how),
        (a.event_id.as_str(), Merge::Keywords)
    );
}

#[test]
fn a_shared_hashtag_carries_a_post_with_other_words() {
    let mut t = EventTracker::new(&EventsConfig::default());
    chatter(&mut t, 60, 0.0);
    let (a, _) = t.observe_with(
        &item(
            "wb",
            "h1",
            Platform::Weibo,
            "学校食堂的饭菜又馊了，孩子吃完拉肚子 #安和学校食堂#",
            40.0,
        ),
        &mut judged(
            &["食堂", "饭菜", "拉肚子", "孩子"],
            Some(HOME),
            &[],
            Some("教育文体"),
        ),
    );
    for k in 0..3 {
        t.observe_with(
            &item(
                "wb",
                &format!("h{}", k + 2),
                Platform::Weibo,
                &format!("家长群都在说这事{k} #安和学校食堂#"),
                41.0 + k as f64,
            ),
            &mut judged(&["家长群", "食堂"], Some(HOME), &[], None),
        );
    }
    // A forum post naming nothing but the hashtag and one word of its own.
    let mut a2 = Analysis {
        keywords: vec!["陪餐".into()],
        ..Analysis::default()
    };
    let (b, how) = t.observe_with(
        &item(
            "forum",
            "f1",
            Platform::Forum,
            "建议家长轮流陪餐 #安和学校食堂#",
            90.0,
        ),
        &mut a2,
    );
    assert_eq!(
        (b.event_id.as_str(), how),
        (a.event_id.as_str(), Merge::Keywords)
    );
    assert!(a2
        .reasons
        .iter()
        .any(|r| r.evidence.contains("#安和学校食堂#")));
}

#[test]
fn comments_from_another_source_join_their_article_by_its_page() {
    let mut t = EventTracker::new(&EventsConfig::default());
    let mut article = item("news", "3001", Platform::News, FIRE, 0.0);
    article.url = Some("https://news.example.org/a/3001.html".into());
    let a = t.observe(&article, &mut Analysis::default());
    // The comment collector is its own source: its root id names the article in another source,
    // but the page is the article's.
    let mut c = item(
        "news-comments",
        "c1",
        Platform::Comment,
        "希望尽快查明原因",
        10.0,
    );
    c.root_id = Some("3001".into());
    c.url = Some("https://news.example.org/a/3001.html#comments".into());
    let (b, how) = t.observe_with(&c, &mut Analysis::default());
    assert_eq!(
        (b.event_id.as_str(), how),
        (a.event_id.as_str(), Merge::Thread)
    );
    assert_eq!(b.counts.comments, 1);
    // And in the other order: the comments first, then the article.
    let mut c2 = item("news-comments", "c2", Platform::Comment, "关注后续", 20.0);
    c2.root_id = Some("3002".into());
    c2.url = Some("https://news.example.org/a/3002.html".into());
    let (d, _) = t.observe_with(&c2, &mut Analysis::default());
    let mut later = item("news", "3002", Platform::News, SCHOOL, 5.0);
    later.url = Some("https://news.example.org/a/3002.html/".into());
    let (e, how) = t.observe_with(&later, &mut Analysis::default());
    assert_eq!(
        (e.event_id.as_str(), how),
        (d.event_id.as_str(), Merge::Thread)
    );
    assert_eq!(t.len(), 2);
    // Two posts sharing a page (a listing URL) are not joined by it.
    let mut p = item(
        "board",
        "m1",
        Platform::Board,
        "小区门口路灯坏了很久，请尽快维修",
        30.0,
    );
    p.url = Some("https://board.example.org/list".into());
    let mut q = item(
        "board",
        "m2",
        Platform::Board,
        "孩子入学需要准备哪些材料，户口不在本地",
        31.0,
    );
    q.url = Some("https://board.example.org/list".into());
    let (pe, _) = t.observe_with(&p, &mut Analysis::default());
    let (qe, how) = t.observe_with(&q, &mut Analysis::default());
    assert_eq!(how, Merge::New);
    assert_ne!(pe.event_id, qe.event_id);
}

#[test]
fn a_long_quiet_event_needs_more_evidence() {
    let cfg = EventsConfig {
        match_decay: std::time::Duration::from_secs(3600),
        ..EventsConfig::default()
    };
    let run = |gap_min: f64| {
        let mut t = EventTracker::new(&cfg);
        chatter(&mut t, 60, 0.0);
        let (a, _) = t.observe_with(
            &item(
                "wb",
                "q1",
                Platform::Weibo,
                "安和区自来水发黄有异味，已经三天了",
                40.0,
            ),
            &mut judged(&["自来水", "发黄", "异味"], Some(HOME), &["民生"], None),
        );
        let (b, how) = t.observe_with(
            &item(
                "forum",
                "q2",
                Platform::Forum,
                "我们小区的自来水也发黄，烧开了还有味道",
                40.0 + gap_min,
            ),
            &mut judged(&["自来水", "发黄", "小区"], Some(HOME), &["民生"], None),
        );
        (a.event_id == b.event_id, how)
    };
    assert_eq!(run(30.0), (true, Merge::Keywords));
    // Twelve quiet hours (twelve times match_decay) outweigh the shared words.
    assert_eq!(run(12.0 * 60.0), (false, Merge::New));
}

#[test]
fn profile_matching_is_deterministic() {
    let stream: Vec<(Item, Analysis)> = SyntheticStream::new(SyntheticConfig::per_day(5, 80_000.0))
        .take(8000)
        .collect();
    let mut a = EventTracker::new(&EventsConfig::default());
    let mut b = EventTracker::new(&EventsConfig::default());
    let ra = run(&mut a, &stream);
    let rb = run(&mut b, &stream);
    assert_eq!(ra, rb);
    let merged = ra.iter().filter(|(e, _)| e.counts.items > 1).count();
    assert!(merged > 1000, "{merged}");
}

#[test]
fn keys_of_an_event_that_never_goes_quiet_stay_bounded() {
    // One thread busy for 60 hours: a light repost every 2 minutes, a repost with counts of its
    // own every 30 minutes, the post re-observed every hour; expire every 10 minutes.
    let cfg = EventsConfig::default();
    let horizon_h = cfg.reobserve_horizon.as_secs_f64() / 3600.0;
    assert!(
        horizon_h >= 24.0,
        "collectors re-observe up to 24 h after first sight"
    );
    let mut t = EventTracker::new(&cfg);
    let root = t.observe(
        &item("wb", "p", Platform::Weibo, FIRE, 0.0),
        &mut Analysis::default(),
    );
    let with_counts = |id: &str, min: f64| {
        let mut i = child("wb", id, "p", min);
        i.metrics = Metrics {
            reposts: Some(1),
            ..Metrics::default()
        };
        i
    };
    let mut samples = Vec::new();
    for m in (2..=60 * 60).step_by(2) {
        let min = f64::from(m);
        let (e, how) = t.observe_with(
            &child("wb", &format!("r{m}"), "p", min),
            &mut Analysis::default(),
        );
        assert_eq!(
            (e.event_id.as_str(), how),
            (root.event_id.as_str(), Merge::Thread)
        );
        if m % 30 == 0 {
            let (e, how) = t.observe_with(
                &with_counts(&format!("m{m}"), min),
                &mut Analysis::default(),
            );
            assert_eq!(
                (e.event_id.as_str(), how),
                (root.event_id.as_str(), Merge::Thread)
            );
        }
        if m % 60 == 0 {
            let e = reobserve(&mut t, min, u64::from(m), 0);
            assert_eq!(e.event_id, root.event_id);
        }
        if m % 10 == 0 {
            assert!(t.expire(at(min)).is_empty(), "the event never goes quiet");
            samples.push((m / 60, t.tracked_items(), t.memory_bytes()));
        }
        if m == 50 * 60 {
            // Re-deliveries of items first seen 25 hours ago are still recognised.
            let before = t.get(&root.event_id).unwrap().counts;
            let old = m - 25 * 60;
            let (_, how) = t.observe_with(
                &child("wb", &format!("r{old}"), "p", min),
                &mut Analysis::default(),
            );
            assert_eq!(how, Merge::Reobserved);
            let (_, how) = t.observe_with(
                &with_counts(&format!("m{old}"), min),
                &mut Analysis::default(),
            );
            assert_eq!(how, Merge::Reobserved);
            let after = t.get(&root.event_id).unwrap().counts;
            assert_eq!((after.items, after.reposts), (before.items, before.reposts));
        }
    }
    // Keys are kept for the horizon (32 an hour) and forgotten within a sixteenth of it after.
    let per_hour = 30.0 + 2.0;
    let at_hour = |h: u32| samples.iter().find(|s| s.0 == h).unwrap();
    let low = (per_hour * horizon_h) as usize - 5;
    let high = (per_hour * horizon_h * (1.0 + 1.0 / 16.0)) as usize + 10;
    for s in samples
        .iter()
        .filter(|s| f64::from(s.0) >= horizon_h * 17.0 / 16.0 + 1.0)
    {
        assert!(
            (low..=high).contains(&s.1),
            "tracked keys {} at hour {} outside {low}..={high}",
            s.1,
            s.0
        );
    }
    // And memory stays bounded from then on (a hash table may double once as it settles).
    let (_, _, mem30) = *at_hour(30);
    let peak = samples
        .iter()
        .filter(|s| s.0 >= 30)
        .map(|s| s.2)
        .max()
        .unwrap();
    assert!(peak <= 2 * mem30, "memory grew: {mem30} → {peak}");
    // Without forgetting, the 60 hours would hold every key: 1800 light reposts and 120 others.
    assert!(at_hour(60).1 < 1000, "{:?}", at_hour(60));
}

#[test]
fn checkpoints_without_key_times_import_and_keep_their_keys() {
    let cfg = EventsConfig::default();
    let mut a = EventTracker::new(&cfg);
    a.observe(
        &item("wb", "p", Platform::Weibo, FIRE, 0.0),
        &mut Analysis::default(),
    );
    for m in 1..=60 {
        a.observe(
            &child("wb", &format!("r{m}"), "p", f64::from(m)),
            &mut Analysis::default(),
        );
    }
    let mut c = child("wb", "c", "p", 61.0);
    c.metrics.comments = Some(2);
    a.observe(&c, &mut Analysis::default());
    let tracked = a.tracked_items();
    // The checkpoint format before key times were kept: no `touched`, bare child digests, no
    // `swept`.
    let mut state = a.export();
    for list in ["refs", "urls"] {
        for entry in state[list].as_array_mut().unwrap() {
            entry[1].as_object_mut().unwrap().remove("touched");
        }
    }
    for entry in state["events"].as_array_mut().unwrap() {
        let children = entry[1]["children"].as_array_mut().unwrap();
        for c in children.iter_mut() {
            *c = c[0].clone();
        }
    }
    state.as_object_mut().unwrap().remove("swept");
    let mut b = EventTracker::import(&cfg, state).unwrap();
    assert_eq!(b.tracked_items(), tracked);
    // The keys count from the event's latest activity: kept through the horizon after it…
    let h = cfg.reobserve_horizon.as_secs_f64() / 60.0;
    b.expire(at(61.0 + h - 1.0));
    assert_eq!(b.tracked_items(), tracked);
    let (_, how) = b.observe_with(
        &child("wb", "r1", "p", 61.0 + h - 1.0),
        &mut Analysis::default(),
    );
    assert_eq!(how, Merge::Reobserved);
    // …and forgotten after it (the event, never quiet here, stays open).
    let late = 61.0 + 2.0 * h;
    b.observe(
        &child("wb", "late", "p", late - 1.0),
        &mut Analysis::default(),
    );
    b.expire(at(late));
    assert_eq!(b.len(), 1);
    assert!(b.tracked_items() <= 3, "{}", b.tracked_items());
}

#[test]
fn a_hot_search_topic_names_the_event_until_an_official_headline() {
    // What the demo showed: the hot-search entry "万载工业园爆炸" named the event, and a forum
    // question "工业园那边是不是爆炸了？" then replaced it.
    let mut t = EventTracker::new(&EventsConfig::default());
    let mut hot = item(
        "wb-hot",
        "h1",
        Platform::Weibo,
        "青石市安和区化工厂爆炸",
        0.0,
    );
    hot.title = Some("青石市安和区化工厂爆炸".into());
    hot.extra.insert("hot_search".into(), true.into());
    let a = t.observe(&hot, &mut kw(&["化工厂", "爆炸", "安和区"], Some("安和区")));
    assert_eq!(a.title, "青石市安和区化工厂爆炸");
    let mut forum = item("forum", "f1", Platform::Forum, FIRE, 5.0);
    forum.title = Some("化工厂那边是不是爆炸了？".into());
    let b = t.observe(
        &forum,
        &mut kw(&["化工厂", "爆炸", "安和区"], Some("安和区")),
    );
    assert_eq!(b.event_id, a.event_id, "{b:?}");
    assert_eq!(
        b.title, "青石市安和区化工厂爆炸",
        "a forum question does not rename it"
    );
    let mut portal = item("portal", "g1", Platform::Portal, FIRE, 60.0);
    portal.title = Some("关于安和区一化工企业火情的情况通报".into());
    portal.extra.insert("author_kind".into(), "official".into());
    let c = t.observe(
        &portal,
        &mut kw(&["化工厂", "爆炸", "安和区"], Some("安和区")),
    );
    assert_eq!(c.event_id, a.event_id);
    assert_eq!(
        c.title, "关于安和区一化工企业火情的情况通报",
        "the official headline does"
    );
}
