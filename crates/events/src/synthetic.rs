//! A deterministic synthetic stream of judged items for load tests and benchmarks.
//!
//! Incidents start as a Poisson process; each draws a heavy-tailed size and unfolds with a
//! power-law decaying rate (`λ(s) ∝ (1 + s/c)^-(1+θ)`), so a few incidents are large and long and
//! most are small and short, as on real platforms. An incident's first item is a post; later ones
//! are reposts and comments of it (`root_id`), re-observations of it with growing counts,
//! near-duplicate reprints on other platforms, and independent reports sharing its keywords and
//! place. Background chatter (one-off posts about nothing in particular) fills the rest. Texts are
//! built from the generator's own syllable tables: no real data is embedded.
//!
//! The stream is an iterator in event-time order and holds only the incidents in progress, so it
//! can run a simulated day of a million items in little memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{DateTime, Duration, FixedOffset};
use yuqing_core::{Analysis, Item, Metrics, Platform, SCHEMA_VERSION};

use crate::hash::mix64;

const SYLLABLES: [&str; 48] = [
    "安", "宝", "滨", "长", "城", "丰", "福", "光", "广", "海", "和", "河", "红", "湖", "华", "江",
    "金", "锦", "康", "兰", "乐", "林", "龙", "鹿", "明", "南", "宁", "平", "青", "庆", "泉", "瑞",
    "山", "盛", "石", "顺", "泰", "桃", "天", "通", "文", "西", "祥", "新", "兴", "阳", "永", "云",
];
const PLACE_SUFFIX: [&str; 4] = ["市", "区", "县", "镇"];
const OBJECTS: [&str; 12] = [
    "化工厂",
    "小区",
    "中学",
    "医院",
    "商场",
    "地铁站",
    "菜市场",
    "养老院",
    "幼儿园",
    "工地",
    "高速路段",
    "水库",
];
const WHATS: [(&str, &str); 10] = [
    ("火灾", "安全事故"),
    ("爆炸", "安全事故"),
    ("坍塌", "安全事故"),
    ("拖欠工资", "欠薪"),
    ("食物中毒", "食品安全"),
    ("交通事故", "安全事故"),
    ("停水停电", "民生"),
    ("噪音扰民", "民生"),
    ("业主维权", "群体事件"),
    ("暴雨内涝", "自然灾害"),
];
const DETAILS: [&str; 12] = [
    "现场有大量群众围观",
    "相关部门已赶到现场处置",
    "目前伤亡情况不明",
    "有网友发布视频称情况严重",
    "当地已成立工作组调查",
    "周边道路实行临时交通管制",
    "多名居民反映问题已持续数日",
    "记者致电当地有关部门未获回应",
    "事件原因正在进一步调查中",
    "有关方面表示将依法依规处理",
    "不少网友呼吁尽快公开信息",
    "附近商户已暂停营业",
];
const CHATTER: [&str; 16] = [
    "今天天气不错",
    "周末去哪里玩",
    "这家店的面好吃",
    "刚看完一部电影",
    "晚上加班好累",
    "早起跑步五公里",
    "新买的书到了",
    "猫咪又在捣乱",
    "地铁上人好多",
    "准备考试中",
    "周五了开心",
    "分享一首老歌",
    "下班路上看到晚霞",
    "学做了一道新菜",
    "孩子今天上学了",
    "又到月底了",
];

/// Settings of a synthetic stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticConfig {
    /// Seed of the generator: the same seed gives the same stream.
    pub seed: u64,
    /// Expected items per simulated day.
    pub items_per_day: f64,
    /// Share (0–1) of items that are background chatter.
    pub chatter_share: f64,
    /// Event time of the first item.
    pub start: DateTime<FixedOffset>,
}

impl SyntheticConfig {
    /// A stream of `items_per_day` starting at 2026-11-22 00:00 +08:00.
    pub fn per_day(seed: u64, items_per_day: f64) -> SyntheticConfig {
        SyntheticConfig {
            seed,
            items_per_day,
            chatter_share: 0.3,
            start: DateTime::parse_from_rfc3339("2026-11-22T00:00:00+08:00").expect("a valid time"),
        }
    }
}

#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn exp(&mut self) -> f64 {
        -self.unit().ln()
    }
}

#[derive(Debug, Clone)]
struct Incident {
    n: u64,
    start: f64,
    /// Offset (seconds) of the next arrival.
    s: f64,
    /// Rate scale: expected total = a·c/θ.
    a: f64,
    seq: u32,
    reposts: u32,
    comments: u32,
    place: String,
    name: String,
    what: usize,
    object: usize,
    details: [usize; 3],
    chatter: bool,
}

const C: f64 = 900.0;
const THETA: f64 = 0.8;
const MAX_LIFE: f64 = 36.0 * 3600.0;

impl Incident {
    /// Draws the next arrival offset; `None` when the incident is over.
    fn advance(&mut self, rng: &mut Rng) -> Option<f64> {
        if self.chatter {
            return None;
        }
        let rest = (1.0 + self.s / C).powf(-THETA) - rng.exp() * THETA / (self.a * C);
        if rest <= 0.0 {
            return None;
        }
        let s = C * (rest.powf(-1.0 / THETA) - 1.0);
        if s > MAX_LIFE {
            return None;
        }
        self.s = s.max(self.s);
        Some(self.start + self.s)
    }

    fn headline(&self) -> String {
        format!(
            "{}{}{}{}",
            self.place, self.name, OBJECTS[self.object], WHATS[self.what].0
        )
    }

    fn text(&self, variant: u32) -> String {
        let d = |i: usize| DETAILS[self.details[i]];
        match variant {
            0 => format!(
                "【{}】今天，{}{}{}发生{}，{}，{}。",
                self.headline(),
                self.place,
                self.name,
                OBJECTS[self.object],
                WHATS[self.what].0,
                d(0),
                d(1)
            ),
            // A reprint: the same report with a source line.
            1 => format!(
                "转载：今天，{}{}{}发生{}，{}，{}。（来源：网络）",
                self.place,
                self.name,
                OBJECTS[self.object],
                WHATS[self.what].0,
                d(0),
                d(1)
            ),
            // An independent report in other words.
            _ => format!(
                "{}消息，{}的{}{}出现{}情况。{}，{}。",
                self.place,
                self.name,
                OBJECTS[self.object],
                self.place,
                WHATS[self.what].0,
                d(2),
                DETAILS[(self.details[2] + variant as usize) % DETAILS.len()]
            ),
        }
    }
}

/// The stream: an iterator of `(item, analysis)` in event-time order.
#[derive(Debug)]
pub struct SyntheticStream {
    cfg: SyntheticConfig,
    rng: Rng,
    next_start: f64,
    incidents: Vec<Option<Incident>>,
    free: Vec<usize>,
    heap: BinaryHeap<Reverse<(u64, usize)>>,
    incident_rate: f64,
    chatter_rate: f64,
    next_chatter: f64,
    emitted: u64,
    started: u64,
}

impl SyntheticStream {
    /// A new stream.
    pub fn new(cfg: SyntheticConfig) -> SyntheticStream {
        let mut rng = Rng(cfg.seed ^ 0x5EED);
        // Mean incident size of the size law below, measured once by simulation: about 14.
        let mean_size = 14.0;
        let per_sec = cfg.items_per_day.max(1.0) / 86400.0;
        let incident_rate = per_sec * (1.0 - cfg.chatter_share) / mean_size;
        let chatter_rate = per_sec * cfg.chatter_share;
        let next_start = rng.exp() / incident_rate.max(1e-12);
        let next_chatter = rng.exp() / chatter_rate.max(1e-12);
        SyntheticStream {
            cfg,
            rng,
            next_start,
            incidents: Vec::new(),
            free: Vec::new(),
            heap: BinaryHeap::new(),
            incident_rate,
            chatter_rate,
            next_chatter,
            emitted: 0,
            started: 0,
        }
    }

    /// Incidents in progress (the generator's memory).
    pub fn in_progress(&self) -> usize {
        self.heap.len()
    }

    fn word(&mut self) -> String {
        let a = SYLLABLES[self.rng.below(SYLLABLES.len())];
        let b = SYLLABLES[self.rng.below(SYLLABLES.len())];
        format!("{a}{b}")
    }

    fn spawn(&mut self, at: f64, chatter: bool) {
        // Sizes: a Pareto law (α = 1.3, minimum 3) capped at 20 000.
        let size = (3.0 * self.rng.unit().powf(-1.0 / 1.3)).min(20_000.0);
        let place = format!(
            "{}{}",
            self.word(),
            PLACE_SUFFIX[self.rng.below(PLACE_SUFFIX.len())]
        );
        let name = self.word();
        let inc = Incident {
            n: self.started,
            start: at,
            s: 0.0,
            a: size * THETA / C,
            seq: 0,
            reposts: 0,
            comments: 0,
            place,
            name,
            what: self.rng.below(WHATS.len()),
            object: self.rng.below(OBJECTS.len()),
            details: [
                self.rng.below(DETAILS.len()),
                self.rng.below(DETAILS.len()),
                self.rng.below(DETAILS.len()),
            ],
            chatter,
        };
        self.started += 1;
        let idx = match self.free.pop() {
            Some(i) => {
                self.incidents[i] = Some(inc);
                i
            }
            None => {
                self.incidents.push(Some(inc));
                self.incidents.len() - 1
            }
        };
        self.heap.push(Reverse(((at * 1000.0) as u64, idx)));
    }

    fn emit(&mut self, idx: usize, t: f64) -> (Item, Analysis) {
        let start = self.cfg.start;
        let when = |s: f64| start + Duration::milliseconds((s * 1000.0) as i64);
        let roll = self.rng.unit();
        let sens = self.rng.unit();
        let inc = self.incidents[idx].as_mut().expect("live incident");
        let seq = inc.seq;
        inc.seq += 1;
        let root = format!("i{}-0", inc.n);
        let mut item = Item {
            schema_version: SCHEMA_VERSION,
            id: format!("i{}-{}", inc.n, seq),
            source: "syn-weibo".into(),
            platform: Platform::Weibo,
            url: None,
            title: None,
            text: String::new(),
            author: Some(format!("u{}", mix64(inc.n ^ u64::from(seq)) % 100_000)),
            published_at: when(t),
            observed_at: when(t),
            root_id: None,
            parent_id: None,
            metrics: Metrics::default(),
            region: None,
            label: None,
            extra: Default::default(),
        };
        let mut analysis = Analysis {
            sensitivity: sens,
            ..Analysis::default()
        };
        if inc.chatter {
            let a = CHATTER[(mix64(inc.n) % CHATTER.len() as u64) as usize];
            let mut h = mix64(inc.n ^ 0xC4A7);
            let mut words = String::new();
            for _ in 0..6 {
                h = mix64(h);
                words.push_str(SYLLABLES[(h % SYLLABLES.len() as u64) as usize]);
                words.push_str(SYLLABLES[((h >> 20) % SYLLABLES.len() as u64) as usize]);
            }
            item.text = format!("{a}，{words}。{}", inc.n);
            analysis.keywords = vec![inc.name.clone()];
            analysis.sensitivity = 0.0;
            return (item, analysis);
        }
        let keywords = vec![
            format!("{}{}", inc.name, OBJECTS[inc.object]),
            inc.place.clone(),
            WHATS[inc.what].0.to_string(),
        ];
        analysis.region = Some(inc.place.clone());
        analysis.topics = vec![WHATS[inc.what].1.to_string()];
        if seq == 0 {
            item.id = root;
            item.text = inc.text(0);
            analysis.keywords = keywords;
        } else if roll < 0.55 {
            inc.reposts += 1;
            item.root_id = Some(root.clone());
            item.parent_id = Some(root);
            item.text = "转发微博".into();
        } else if roll < 0.75 {
            inc.comments += 1;
            item.root_id = Some(root.clone());
            item.parent_id = Some(root);
            item.extra.insert("kind".into(), "comment".into());
            item.text = format!(
                "希望{}尽快处理，{}",
                inc.place,
                DETAILS[(seq as usize) % DETAILS.len()]
            );
        } else if roll < 0.83 {
            // A re-observation of the root post: published at the start, counts grown.
            item.id = root;
            item.published_at = when(inc.start);
            item.text = inc.text(0);
            item.metrics = Metrics {
                reposts: Some(u64::from(inc.reposts) * 2),
                comments: Some(u64::from(inc.comments) * 2),
                likes: Some(u64::from(inc.reposts) * 5),
                views: Some(u64::from(inc.reposts) * 100),
            };
            analysis.keywords = keywords;
        } else if roll < 0.90 {
            item.source = "syn-news".into();
            item.platform = Platform::News;
            item.title = Some(inc.headline());
            item.text = inc.text(1);
            item.extra.insert("author_kind".into(), "media".into());
            analysis.keywords = keywords;
        } else {
            item.source = if roll < 0.95 {
                "syn-forum"
            } else {
                "syn-portal"
            }
            .into();
            item.platform = if roll < 0.95 {
                Platform::Forum
            } else {
                Platform::Portal
            };
            item.text = inc.text(2 + seq % 5);
            analysis.keywords = keywords;
        }
        (item, analysis)
    }
}

impl Iterator for SyntheticStream {
    type Item = (Item, Analysis);

    fn next(&mut self) -> Option<(Item, Analysis)> {
        loop {
            let top = self.heap.peek().map(|Reverse((t, _))| *t as f64 / 1000.0);
            let birth = self.next_start.min(self.next_chatter);
            if top.is_none_or(|t| birth < t) {
                if self.next_start <= self.next_chatter {
                    let at = self.next_start;
                    self.next_start += self.rng.exp() / self.incident_rate.max(1e-12);
                    self.spawn(at, false);
                } else {
                    let at = self.next_chatter;
                    self.next_chatter += self.rng.exp() / self.chatter_rate.max(1e-12);
                    self.spawn(at, true);
                }
                continue;
            }
            let Reverse((tm, idx)) = self.heap.pop()?;
            let t = tm as f64 / 1000.0;
            let out = self.emit(idx, t);
            let mut rng = self.rng.clone();
            let next = self.incidents[idx]
                .as_mut()
                .and_then(|inc| inc.advance(&mut rng));
            self.rng = rng;
            match next {
                Some(nt) => self.heap.push(Reverse(((nt * 1000.0) as u64, idx))),
                None => {
                    self.incidents[idx] = None;
                    self.free.push(idx);
                }
            }
            self.emitted += 1;
            return Some(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_ordered_deterministic_and_near_its_rate() {
        let cfg = SyntheticConfig::per_day(7, 20_000.0);
        let a: Vec<(Item, Analysis)> = SyntheticStream::new(cfg.clone()).take(3000).collect();
        let b: Vec<(Item, Analysis)> = SyntheticStream::new(cfg.clone()).take(3000).collect();
        assert_eq!(a, b);
        for w in a.windows(2) {
            assert!(w[0].0.observed_at <= w[1].0.observed_at);
        }
        let span = (a[2999].0.observed_at - a[0].0.observed_at).num_seconds() as f64;
        let per_day = 3000.0 / span * 86400.0;
        assert!(per_day > 10_000.0 && per_day < 40_000.0, "{per_day}");
        assert!(a.iter().any(|(i, _)| i.root_id.is_some()));
        assert!(a.iter().any(|(i, _)| i.platform == Platform::News));
    }
}
