//! Words and numbers as the duty room reads them: times in UTC+8, countdowns, deadlines, reasons
//! and audit actions in words. Excerpts, links (only `http`/`https` become links), platform and
//! grade names are the report crate's (`yuqing_report::escape`, `yuqing_report::data`), so that
//! the console and the reports say the same.

use chrono::{DateTime, FixedOffset, TimeZone};
use yuqing_cases::{Case, CaseState};
use yuqing_core::clock::cst;
use yuqing_core::{Deadline, Reason};

/// A time in UTC+8 as `2026-11-22 10:02`.
pub fn datetime<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&cst()).format("%Y-%m-%d %H:%M").to_string()
}

/// A time in UTC+8 as `11-22 10:02` (compact, for tables and cards).
pub fn short_datetime<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&cst()).format("%m-%d %H:%M").to_string()
}

/// A time in UTC+8 with seconds, as `2026-11-22 10:02:33`.
pub fn full_datetime<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&cst())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The magnitude of a span as `1天 02:03:04` or `02:03:04`.
///
/// `static/console.js` formats the same way; keep them in step.
pub fn span(ms: i64) -> String {
    let secs = ms.unsigned_abs() / 1000;
    let days = secs / 86_400;
    let h = secs % 86_400 / 3600;
    let m = secs % 3600 / 60;
    let s = secs % 60;
    if days > 0 {
        format!("{days}天 {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// The text of a countdown `ms` before its due time: `剩余 02:03:04`, or `超时 00:05:00` once
/// past it. `static/console.js` writes the same text as it ticks.
pub fn countdown(ms_left: i64) -> String {
    if ms_left >= 0 {
        format!("剩余 {}", span(ms_left))
    } else {
        format!("超时 {}", span(ms_left))
    }
}

/// Where a deadline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineState {
    /// A public response came in time.
    Met,
    /// A public response came, but after the due time.
    MetLate,
    /// Not due yet: milliseconds left.
    Pending(i64),
    /// Past due without a response: milliseconds over.
    Overdue(i64),
}

/// Where `d` stands for `case` at `now`: a recorded public response stops its clock (as the
/// grader and the accountability statistics count it).
pub fn deadline_state(
    case: Option<&Case>,
    d: &Deadline,
    now: DateTime<FixedOffset>,
) -> DeadlineState {
    if let Some(r) = case.and_then(|c| c.response.as_ref()) {
        return if r.at <= d.due {
            DeadlineState::Met
        } else {
            DeadlineState::MetLate
        };
    }
    let left = d.due.timestamp_millis() - now.timestamp_millis();
    if left >= 0 {
        DeadlineState::Pending(left)
    } else {
        DeadlineState::Overdue(-left)
    }
}

/// The CSS class of a grade's colour (`grade-i` red … `grade-iv` blue).
pub fn grade_class(g: yuqing_core::Grade) -> &'static str {
    match g {
        yuqing_core::Grade::I => "grade-i",
        yuqing_core::Grade::II => "grade-ii",
        yuqing_core::Grade::III => "grade-iii",
        yuqing_core::Grade::IV => "grade-iv",
    }
}

/// The CSS class of a case state.
pub fn state_class(s: CaseState) -> &'static str {
    match s {
        CaseState::Pending => "state-pending",
        CaseState::Accepted => "state-accepted",
        CaseState::Assigned => "state-assigned",
        CaseState::Feedback => "state-feedback",
        CaseState::Responded => "state-responded",
        CaseState::Closed => "state-closed",
    }
}

/// What a field a reason explains is called.
pub fn about_label(about: &str) -> &str {
    match about {
        "sensitivity" => "敏感度",
        "sentiment" => "情感倾向",
        "category" => "分类",
        "subcategory" => "细分类",
        "department" => "主管部门",
        "region" => "属地",
        "response_subject" => "回应主体",
        "handling_class" => "处置类别",
        "topics" | "topic" => "敏感话题",
        "event" => "事件",
        "grade" => "等级",
        "stage" => "阶段",
        "velocity" => "传播速度",
        "forecast" => "趋势预测",
        "deadline" => "时限",
        "route" => "报送",
        other => other,
    }
}

/// The rule of a reason in words: `lexicon:安全事故` → `词表「安全事故」`.
pub fn rule_words(rule: &str) -> String {
    let Some((kind, name)) = rule.split_once(':') else {
        return rule.to_string();
    };
    let kind = match kind {
        "lexicon" => "词表",
        "rule" => "规则",
        "model" => "模型",
        "gazetteer" => "地名库",
        "department" | "departments" => "部门表",
        "threshold" => "阈值",
        "grade" => "定级规则",
        "spread" => "传播",
        _ => return rule.to_string(),
    };
    format!("{kind}「{name}」")
}

/// A reason in words: `敏感度：词表「安全事故」 爆炸、伤亡（+0.35）`.
pub fn reason_words(r: &Reason) -> String {
    let mut s = format!("{}：{}", about_label(&r.about), rule_words(&r.rule));
    if !r.evidence.trim().is_empty() {
        s.push(' ');
        s.push_str(r.evidence.trim());
    }
    if let Some(w) = r.weight.filter(|w| w.is_finite()) {
        s.push_str(&format!("（{w:+.2}）"));
    }
    s
}

/// What an audit action is called.
pub fn action_label(action: &str) -> &str {
    match action {
        "opened" => "立案",
        "alert" => "预警",
        "accept" => "受理",
        "assign" => "转办",
        "reassign" => "改派",
        "feedback" => "反馈",
        "respond" => "回应",
        "close" => "办结",
        "note" => "备注",
        "reopened" => "重新受理",
        other => other,
    }
}

/// A number with at most one decimal, no trailing `.0`; `—` when not finite.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "—".to_string();
    }
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdowns_read_like_a_clock() {
        assert_eq!(countdown(3_723_000), "剩余 01:02:03");
        assert_eq!(countdown(0), "剩余 00:00:00");
        assert_eq!(countdown(-300_000), "超时 00:05:00");
        assert_eq!(countdown(90_061_000), "剩余 1天 01:01:01");
        assert_eq!(countdown(999), "剩余 00:00:00");
    }

    #[test]
    fn reasons_read_in_words() {
        let r = Reason::new("sensitivity", "lexicon:安全事故", "爆炸、伤亡").weighted(0.35);
        assert_eq!(
            reason_words(&r),
            "敏感度：词表「安全事故」 爆炸、伤亡（+0.35）"
        );
        let r = Reason::new("grade", "II: size ≥ 500", "");
        assert_eq!(reason_words(&r), "等级：II: size ≥ 500");
        let r = Reason::new("x", "rule:y", "").weighted(f64::NAN);
        assert_eq!(reason_words(&r), "x：规则「y」");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(f64::INFINITY), "—");
    }
}
