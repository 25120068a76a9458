//! Grading rules compiled for evaluation, and their explanation in words.

use chrono::{DateTime, FixedOffset};
use yuqing_core::{Event, Grade, Reason, Stage};

use crate::config::{GradingConfig, GradingRule};

/// What the rules concluded about one event snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The grade the most severe matching rule justifies; `None` when no rule matches.
    pub grade: Option<Grade>,
    /// The rule that decided the grade.
    pub rule: Option<String>,
    /// The rule's inputs and conditions, in words.
    pub reasons: Vec<Reason>,
    /// Whether the event counts as an emergency (突发事件).
    pub emergency: bool,
}

/// The inputs of the rules, derived from a snapshot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a> {
    pub ev: &'a Event,
    pub size: f64,
    pub age_s: i64,
    pub emergency: bool,
}

impl<'a> Input<'a> {
    pub(crate) fn new(ev: &'a Event, emergency: bool) -> Input<'a> {
        Input {
            ev,
            size: ev.size(),
            age_s: (ev.updated_at - ev.first_seen).num_seconds().max(0),
            emergency,
        }
    }
}

/// A category matches a configured one when equal or below it (`一级/二级` under `一级`).
pub(crate) fn category_matches(category: &str, wanted: &str) -> bool {
    category == wanted
        || (category.len() > wanted.len()
            && category.starts_with(wanted)
            && category[wanted.len()..].starts_with('/'))
}

/// Whether the event is an emergency under `cfg`.
pub(crate) fn is_emergency(cfg: &GradingConfig, ev: &Event) -> bool {
    ev.topics.iter().any(|t| cfg.emergency_topics.contains(t))
        || ev.category.as_deref().is_some_and(|c| {
            cfg.emergency_categories
                .iter()
                .any(|w| category_matches(c, w))
        })
}

/// One rule, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub rule: GradingRule,
    age_min_s: Option<i64>,
    age_max_s: Option<i64>,
}

impl Compiled {
    pub(crate) fn new(rule: &GradingRule) -> Compiled {
        Compiled {
            rule: rule.clone(),
            age_min_s: rule.age_min.map(|d| d.as_secs() as i64),
            age_max_s: rule.age_max.map(|d| d.as_secs() as i64),
        }
    }

    /// True when every condition holds. Cheap: no allocation.
    pub(crate) fn matches(&self, i: &Input<'_>) -> bool {
        let r = &self.rule;
        let ev = i.ev;
        let c = &ev.counts;
        r.sensitivity_min.is_none_or(|m| ev.sensitivity >= m)
            && r.sentiment_max.is_none_or(|m| ev.sentiment <= m)
            && r.velocity_min.is_none_or(|m| ev.velocity >= m)
            && r.size_min.is_none_or(|m| i.size >= m)
            && r.forecast_min.is_none_or(|m| ev.forecast_peak.size >= m)
            && r.items_min.is_none_or(|m| c.items >= m)
            && r.platforms_min.is_none_or(|m| c.platforms >= m)
            && r.media_min.is_none_or(|m| c.media >= m)
            && r.official_min.is_none_or(|m| c.official >= m)
            && (r.stages.is_empty() || r.stages.contains(&ev.stage))
            && (r.topics_any.is_empty() || ev.topics.iter().any(|t| r.topics_any.contains(t)))
            && (r.categories_any.is_empty()
                || ev
                    .category
                    .as_deref()
                    .is_some_and(|cat| r.categories_any.iter().any(|w| category_matches(cat, w))))
            && r.emergency.is_none_or(|e| e == i.emergency)
            && self.age_min_s.is_none_or(|m| i.age_s >= m)
            && self.age_max_s.is_none_or(|m| i.age_s <= m)
    }

    /// The rule's verdict and each of its conditions with the value that met it, in words.
    pub(crate) fn explain(&self, i: &Input<'_>) -> Vec<Reason> {
        let r = &self.rule;
        let ev = i.ev;
        let c = &ev.counts;
        let rule = format!("grading:{}", r.name);
        let mut out = vec![Reason::new(
            "grade",
            rule.clone(),
            format!(
                "规则「{}」判定为 {} 级（{}，{}预警）：{}",
                r.name,
                r.grade.as_str(),
                r.grade.label(),
                r.grade.colour(),
                r.description
            ),
        )];
        let mut push = |about: &str, evidence: String, weight: Option<f64>| {
            let mut reason = Reason::new(about, rule.clone(), evidence);
            reason.weight = weight;
            out.push(reason);
        };
        if let Some(m) = r.sensitivity_min {
            push(
                "sensitivity",
                format!("敏感度 {:.2}（规则要求 ≥ {m:.2}）", ev.sensitivity),
                Some(ev.sensitivity),
            );
        }
        if let Some(m) = r.sentiment_max {
            push(
                "sentiment",
                format!(
                    "情感倾向 {:.2}（规则要求 ≤ {m:.2}，负面为负）",
                    ev.sentiment
                ),
                Some(ev.sentiment),
            );
        }
        if let Some(m) = r.velocity_min {
            push(
                "velocity",
                format!(
                    "传播速度 {} 次/小时（规则要求 ≥ {}）",
                    num(ev.velocity),
                    num(m)
                ),
                Some(ev.velocity),
            );
        }
        if let Some(m) = r.size_min {
            push(
                "size",
                format!(
                    "累计传播量 {}（帖文 {}、转发 {}、评论 {}；规则要求 ≥ {}）",
                    num(i.size),
                    c.items,
                    c.reposts,
                    c.comments,
                    num(m)
                ),
                Some(i.size),
            );
        }
        if let Some(m) = r.forecast_min {
            let f = &ev.forecast_peak;
            push(
                "forecast",
                format!(
                    "预测 24 小时规模约 {}（区间 {}–{}，{}；规则要求 ≥ {}）",
                    num(f.size),
                    num(f.low),
                    num(f.high),
                    f.peak_at
                        .map(|p| format!("预计 {} 达到高峰", hm(p)))
                        .unwrap_or_else(|| format!("模型 {}", f.method)),
                    num(m)
                ),
                Some(f.size),
            );
        }
        if let Some(m) = r.items_min {
            push(
                "items",
                format!("相关帖文 {} 条（规则要求 ≥ {m}）", c.items),
                Some(c.items as f64),
            );
        }
        if let Some(m) = r.platforms_min {
            push(
                "reach",
                format!("涉及 {} 个平台（规则要求 ≥ {m}）", c.platforms),
                Some(c.platforms as f64),
            );
        }
        if let Some(m) = r.media_min {
            push(
                "reach",
                format!("媒体介入 {} 家（规则要求 ≥ {m}）", c.media),
                Some(c.media as f64),
            );
        }
        if let Some(m) = r.official_min {
            push(
                "reach",
                format!("政务账号参与 {} 个（规则要求 ≥ {m}）", c.official),
                Some(c.official as f64),
            );
        }
        if !r.stages.is_empty() {
            push(
                "stage",
                format!("处于{}阶段（{}）", ev.stage.label(), stage_words(ev.stage)),
                None,
            );
        }
        if !r.topics_any.is_empty() {
            let hit: Vec<&str> = ev
                .topics
                .iter()
                .filter(|t| r.topics_any.contains(t))
                .map(String::as_str)
                .collect();
            push("topics", format!("敏感话题：{}", hit.join("、")), None);
        }
        if !r.categories_any.is_empty() {
            push(
                "category",
                format!("类别：{}", ev.category.as_deref().unwrap_or("")),
                None,
            );
        }
        if let Some(e) = r.emergency {
            let basis = match (ev.topics.is_empty(), ev.category.as_deref()) {
                (false, _) => format!("（话题：{}）", ev.topics.join("、")),
                (true, Some(c)) => format!("（类别：{c}）"),
                (true, None) => String::new(),
            };
            push(
                "emergency",
                if e {
                    format!("属于突发事件{basis}")
                } else {
                    format!("不属于突发事件{basis}")
                },
                None,
            );
        }
        if r.age_min.is_some() || r.age_max.is_some() {
            push("age", format!("距首次发现 {}", age_words(i.age_s)), None);
        }
        out
    }
}

/// The compiled rule set.
#[derive(Debug, Clone)]
pub(crate) struct RuleSet {
    pub rules: Vec<Compiled>,
}

impl RuleSet {
    pub(crate) fn new(cfg: &GradingConfig) -> RuleSet {
        RuleSet {
            rules: cfg.rules.iter().map(Compiled::new).collect(),
        }
    }

    /// The most severe matching rule (the first listed wins a tie).
    pub(crate) fn best(&self, i: &Input<'_>) -> Option<&Compiled> {
        let mut best: Option<&Compiled> = None;
        for r in &self.rules {
            if best.is_some_and(|b| b.rule.grade >= r.rule.grade) {
                continue;
            }
            if r.matches(i) {
                best = Some(r);
                if r.rule.grade == Grade::I {
                    break;
                }
            }
        }
        best
    }
}

/// The inputs of a snapshot in words (attached to every grading alert).
pub(crate) fn input_reasons(ev: &Event, emergency: bool) -> Vec<Reason> {
    let c = &ev.counts;
    let mut out = vec![
        Reason::new(
            "inputs",
            "inputs:spread",
            format!(
                "{}阶段，距首次发现 {}；传播速度 {} 次/小时；累计 {}（帖文 {}、转发 {}、评论 {}）；预测 24 小时约 {}",
                ev.stage.label(),
                age_words((ev.updated_at - ev.first_seen).num_seconds().max(0)),
                num(ev.velocity),
                num(ev.size()),
                c.items,
                c.reposts,
                c.comments,
                num(ev.forecast_peak.size)
            ),
        ),
        Reason::new(
            "inputs",
            "inputs:reach",
            format!(
                "涉及 {} 个平台、{} 个来源，媒体 {} 家、政务账号 {} 个",
                c.platforms, c.sources, c.media, c.official
            ),
        ),
        Reason::new(
            "inputs",
            "inputs:content",
            format!(
                "敏感度 {:.2}，情感倾向 {:.2}{}{}{}",
                ev.sensitivity,
                ev.sentiment,
                ev.category
                    .as_deref()
                    .map(|c| format!("，类别 {c}"))
                    .unwrap_or_default(),
                if ev.topics.is_empty() {
                    String::new()
                } else {
                    format!("，话题 {}", ev.topics.join("、"))
                },
                if emergency { "，属于突发事件" } else { "" }
            ),
        ),
    ];
    if let Some(d) = &ev.department {
        out.push(Reason::new(
            "inputs",
            "inputs:owner",
            format!(
                "责任单位 {d}{}",
                ev.region
                    .as_deref()
                    .map(|r| format!("，属地 {r}"))
                    .unwrap_or_default()
            ),
        ));
    }
    out
}

pub(crate) fn stage_words(s: Stage) -> &'static str {
    match s {
        Stage::Emerging => "2 小时上网发布期",
        Stage::Spreading => "6 小时转播期",
        Stage::Peak => "24 小时高潮期",
        Stage::Fading => "高潮已过",
    }
}

/// Whole numbers with thousands separators; one decimal below 10.
pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        return "—".to_string();
    }
    if v.abs() < 10.0 && v.fract() != 0.0 {
        return format!("{v:.1}");
    }
    let n = v.round() as i64;
    let s = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// "3 小时 20 分钟".
pub(crate) fn age_words(secs: i64) -> String {
    let h = secs / 3600;
    let m = (secs % 3600) / 60;
    match (h, m) {
        (0, m) => format!("{m} 分钟"),
        (h, 0) => format!("{h} 小时"),
        (h, m) => format!("{h} 小时 {m} 分钟"),
    }
}

/// "11-22 10:02" in UTC+8.
pub(crate) fn hm(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&yuqing_core::clock::cst())
        .format("%m-%d %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(1234567.0), "1,234,567");
        assert_eq!(num(999.4), "999");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(-1200.0), "-1,200");
        assert_eq!(num(f64::NAN), "—");
        assert_eq!(age_words(3 * 3600 + 20 * 60), "3 小时 20 分钟");
        assert_eq!(age_words(600), "10 分钟");
        assert_eq!(age_words(7200), "2 小时");
    }

    #[test]
    fn categories_match_by_prefix() {
        assert!(category_matches("城乡建设", "城乡建设"));
        assert!(category_matches("城乡建设/工程质量", "城乡建设"));
        assert!(!category_matches("城乡建设规划", "城乡建设"));
        assert!(!category_matches("城乡", "城乡建设"));
    }
}
