//! Judgment throughput: `analyze/judge` on 300-character items of real-looking text.
//!
//! The items are written here (not taken from the shared data sets): government message-board and
//! Weibo style complaints, reports and rumours assembled from phrase pools, so every item is
//! different and about 300 characters long. With `../shared/data` present, a second group
//! `analyze/judge_real` runs over the first 300 characters of the real board messages.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use yuqing_analyze::Analyzer;
use yuqing_core::{Item, Platform};

const OPENINGS: &[&str] = &[
    "尊敬的领导您好：我是天河区某小区的业主，",
    "网友爆料称，今天上午番禺区一处工地",
    "#广州身边事# 刚刚路过白云区的时候看到",
    "本人系某公司员工，现向贵单位反映一个问题，",
    "据网传消息，海珠区某中学近日",
    "市民王先生来电反映，",
    "关于越秀区老旧小区改造的建议：",
    "紧急扩散！听说黄埔区",
];
const MIDDLES: &[&str] = &[
    "物业公司长期不作为，小区电梯多次故障，停车位被占用，垃圾清运不及时，业主多次向社区反映都没有得到解决，",
    "发生了燃气泄漏引发的火灾，现场浓烟滚滚，消防队赶到后扑灭明火，据目击者说有两人受伤被送往医院，",
    "老板拖欠我们三十多名农民工的工资已经半年了，包工头失联，我们多次到项目部讨薪都没有结果，",
    "食堂的饭菜出现变质情况，有多名学生出现呕吐腹泻症状，家长们非常担心孩子的身体健康，",
    "附近化工厂夜间偷排废气，刺鼻的臭味让周边居民无法开窗，晚上睡觉都受到严重影响，",
    "公交线路调整之后，很多老人出行非常不便，早晚高峰车辆班次太少，等车时间超过半小时，",
    "在医院看病时医生态度恶劣，检查费用过高，怀疑存在过度医疗，希望卫健委能够调查处理，",
    "将要封城，超市里的米面油已经被抢购一空，大家赶紧去囤货，不转不是中国人，",
];
const CLOSINGS: &[&str] = &[
    "恳请相关部门尽快调查处理，给我们一个合理的答复，谢谢！",
    "希望政府能够重视这个问题，早日解决群众的后顾之忧。",
    "现在大家都很愤怒，如果再不解决，我们准备集体去市政府上访。",
    "建议有关部门加强监管，完善相关制度，让老百姓放心。",
    "请问这种情况应该找哪个部门？什么时候能够处理？",
    "😡😡 真是太气人了！@广州日报 @平安广州 https://t.cn/A6abcdEF",
];

fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").expect("valid time")
}

fn item(id: usize, text: String) -> Item {
    Item {
        schema_version: 1,
        id: id.to_string(),
        source: "bench".into(),
        platform: Platform::Weibo,
        url: None,
        title: None,
        text,
        author: None,
        published_at: now(),
        observed_at: now(),
        root_id: None,
        parent_id: None,
        metrics: Default::default(),
        region: None,
        label: None,
        extra: Default::default(),
    }
}

/// 512 distinct items of exactly 300 characters.
fn synthetic() -> Vec<Item> {
    let mut out = Vec::new();
    let mut k = 0usize;
    while out.len() < 512 {
        let mut t = String::new();
        let mut j = k;
        while t.chars().count() < 300 {
            t.push_str(OPENINGS[j % OPENINGS.len()]);
            t.push_str(MIDDLES[(j / 3 + 1) % MIDDLES.len()]);
            t.push_str(MIDDLES[(j * 7 + 3) % MIDDLES.len()]);
            t.push_str(CLOSINGS[(j / 2) % CLOSINGS.len()]);
            j += 5;
        }
        let t: String = t.chars().take(300).collect();
        out.push(item(k, t));
        k += 1;
    }
    out
}

fn real() -> Option<Vec<Item>> {
    let dir = match std::env::var_os("YUQING_SHARED_DATA") {
        Some(p) => std::path::PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    };
    let path = dir.join("tipdm2020c/a2_full_sample_1842.csv");
    let mut r = csv::Reader::from_path(&path).ok()?;
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.ok()?;
        let t: String = rec
            .get(4)?
            .chars()
            .filter(|c| !c.is_whitespace())
            .take(300)
            .collect();
        if t.chars().count() == 300 {
            out.push(item(i, t));
        }
    }
    Some(out)
}

fn bench(c: &mut Criterion) {
    let a = Analyzer::builtin().expect("bundled resources load");
    let items = synthetic();
    // Correctness inside the bench: every synthetic item is judged with reasons and a category.
    let judged = items.iter().filter(|i| {
        let j = a.judge(i);
        j.category.is_some() && !j.reasons.is_empty()
    });
    assert_eq!(judged.count(), items.len());

    let mut g = c.benchmark_group("analyze");
    g.throughput(Throughput::Elements(items.len() as u64));
    g.bench_function("judge", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for i in &items {
                n += black_box(a.judge(black_box(i))).reasons.len();
            }
            n
        })
    });
    if let Some(real) = real() {
        g.throughput(Throughput::Elements(real.len() as u64));
        g.bench_function("judge_real", |b| {
            b.iter(|| {
                let mut n = 0usize;
                for i in &real {
                    n += black_box(a.judge(black_box(i))).reasons.len();
                }
                n
            })
        });
    } else {
        eprintln!("analyze/judge_real skipped: the shared data folder is absent.");
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
