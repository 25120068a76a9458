//! What a duty officer reads: the facts of an alert in words, and digests of many alerts.
//!
//! Every channel renders the same facts — 【舆情预警·橙色】title, 等级 II 重大, 类型, 阶段 扩散, 责任单位,
//! 属地, 回应主体, the deadlines as local times (UTC+8) with the time left, the reasons in words, the
//! alert's time and id, and the link — in its own markup.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use yuqing_core::clock::cst;
use yuqing_core::{Alert, Grade, Reason};

/// How many reasons a message lists.
pub const MAX_REASONS: usize = 6;
/// How many characters of a title a digest line keeps.
pub const DIGEST_TITLE_CHARS: usize = 40;

/// One labelled line of an alert message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// The label (等级, 阶段, …).
    pub label: &'static str,
    /// The value, on one line.
    pub value: String,
    /// What the value is, for channels that colour it.
    pub role: Role,
}

/// What a fact is, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The grade.
    Grade,
    /// The owning department.
    Owner,
    /// A due time.
    Due,
    /// Anything else.
    Plain,
}

/// `【舆情预警·橙色】title`.
pub fn headline(alert: &Alert) -> String {
    format!(
        "【舆情预警·{}】{}",
        alert.grade.colour(),
        one_line(&alert.title)
    )
}

/// The most bytes of a headline used where a channel shows a title apart from the message (the
/// 飞书 card header, 钉钉's notification title, an e-mail subject).
pub const SHORT_HEADLINE_BYTES: usize = 240;

/// The headline cut to [`SHORT_HEADLINE_BYTES`] (with `…`), and whether it was cut.
pub fn short_headline(alert: &Alert) -> (String, bool) {
    let full = headline(alert);
    let short = crate::split::truncate(&full, SHORT_HEADLINE_BYTES, crate::split::utf8_cost);
    let cut = short != full;
    (short, cut)
}

/// Collapses line breaks and tabs into spaces and trims.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.trim().chars() {
        if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
            if !space {
                out.push(' ');
                space = true;
            }
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

/// Neutralises markup in text that came from the outside (titles, reasons): `<`, `>` become
/// full-width so a title cannot inject `<@all>` or `<font>`, and line breaks collapse.
pub fn plain_for_markup(s: &str) -> String {
    one_line(s).replace('<', "＜").replace('>', "＞")
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `II 重大`.
pub fn grade_words(g: Grade) -> String {
    format!("{} {}", g.as_str(), g.label())
}

/// A time in China Standard Time: `11月22日 10:02`.
pub fn local_time(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&cst()).format("%m月%d日 %H:%M").to_string()
}

/// `剩余 1小时5分` / `已超时 20分` relative to `now`.
pub fn time_left(due: DateTime<FixedOffset>, now: DateTime<Utc>) -> String {
    let secs = due
        .with_timezone(&Utc)
        .signed_duration_since(now)
        .num_seconds();
    let (word, secs) = if secs >= 0 {
        ("剩余", secs)
    } else {
        ("已超时", -secs)
    };
    let mins = (secs + 59) / 60;
    let (d, h, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    let span = match (d, h) {
        (0, 0) => format!("{m}分"),
        (0, _) => format!("{h}小时{m}分"),
        _ => format!("{d}天{h}小时"),
    };
    format!("{word} {span}")
}

fn about_label(about: &str) -> &str {
    match about {
        "sensitivity" => "敏感度",
        "sentiment" => "情感倾向",
        "category" => "类别",
        "department" => "责任单位",
        "region" => "属地",
        "response_subject" => "回应主体",
        "handling_class" => "处置类别",
        "event" => "事件",
        "grade" => "定级",
        "stage" => "阶段",
        "spread" | "velocity" => "传播",
        "deadline" => "时限",
        other => other,
    }
}

/// A reason in words: `定级：转发 1.2 万，增速 800/小时（rule:II）`.
pub fn reason_words(r: &Reason) -> String {
    let about = about_label(&r.about);
    let evidence = one_line(&r.evidence);
    let rule = one_line(&r.rule);
    if evidence.is_empty() {
        format!("{about}：{rule}")
    } else if rule.is_empty() {
        format!("{about}：{evidence}")
    } else {
        format!("{about}：{evidence}（{rule}）")
    }
}

/// The facts of an alert, in the order a duty officer reads them.
pub fn facts(alert: &Alert, now: DateTime<Utc>) -> Vec<Fact> {
    let mut out = Vec::with_capacity(10);
    let mut grade = grade_words(alert.grade);
    if let Some(prev) = alert.previous_grade.filter(|p| *p != alert.grade) {
        grade.push_str(&format!("（原 {}）", grade_words(prev)));
    }
    let mut push = |label, value: String, role| out.push(Fact { label, value, role });
    push("等级", grade, Role::Grade);
    push("类型", alert.kind.label().to_string(), Role::Plain);
    push("阶段", alert.stage.label().to_string(), Role::Plain);
    push(
        "责任单位",
        or_unset(alert.department.as_deref()),
        Role::Owner,
    );
    push("属地", or_unset(alert.region.as_deref()), Role::Plain);
    let subjects: Vec<String> = alert.response_subject.iter().map(|s| one_line(s)).collect();
    push(
        "回应主体",
        if subjects.is_empty() {
            "待定".to_string()
        } else {
            subjects.join("、")
        },
        Role::Plain,
    );
    for d in &alert.deadlines {
        push(
            "时限",
            format!(
                "{} {}（{}）",
                one_line(&d.label),
                local_time(d.due),
                time_left(d.due, now)
            ),
            Role::Due,
        );
    }
    let reasons: Vec<String> = alert
        .reasons
        .iter()
        .take(MAX_REASONS)
        .map(reason_words)
        .collect();
    if !reasons.is_empty() {
        let mut v = reasons.join("；");
        if alert.reasons.len() > MAX_REASONS {
            v.push_str(&format!("；等 {} 条", alert.reasons.len()));
        }
        push("依据", v, Role::Plain);
    }
    push("预警时间", local_time(alert.at), Role::Plain);
    push("预警编号", alert.alert_id.clone(), Role::Plain);
    out
}

fn or_unset(v: Option<&str>) -> String {
    match v.map(one_line) {
        Some(s) if !s.is_empty() => s,
        _ => "待定".to_string(),
    }
}

/// Plain text: the headline, `标签：值` lines and `链接：url`.
pub fn plain_text(alert: &Alert, now: DateTime<Utc>) -> String {
    let mut s = headline(alert);
    for f in facts(alert, now) {
        s.push('\n');
        s.push_str(f.label);
        s.push('：');
        s.push_str(&f.value);
    }
    if let Some(url) = &alert.url {
        s.push_str("\n链接：");
        s.push_str(&one_line(url));
    }
    s
}

/// Sorts alerts most severe first: grade, then the earlier alert, then the id (deterministic).
pub fn sort_by_severity(alerts: &mut [Arc<Alert>]) {
    alerts.sort_by(|a, b| severity_order(a, b));
}

/// The order to send alerts in: most severe first ([`severity_order`]), but the alerts of one
/// event stay together and in the order they fired (by `at`, then as given), at the place of
/// the event's most severe alert — so an escalation is never read before the alert it
/// escalates. Returns a permutation of `0..alerts.len()`.
pub fn urgency_order<A: AsRef<Alert>>(alerts: &[A]) -> Vec<usize> {
    let mut lead: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, a) in alerts.iter().enumerate() {
        let a = a.as_ref();
        lead.entry(a.event_id.as_str())
            .and_modify(|l| {
                if severity_order(a, alerts[*l].as_ref()).is_lt() {
                    *l = i;
                }
            })
            .or_insert(i);
    }
    let leads: Vec<usize> = alerts
        .iter()
        .map(|a| lead[a.as_ref().event_id.as_str()])
        .collect();
    let mut order: Vec<usize> = (0..alerts.len()).collect();
    order.sort_by(|&x, &y| {
        let (lx, ly) = (leads[x], leads[y]);
        severity_order(alerts[lx].as_ref(), alerts[ly].as_ref())
            .then(lx.cmp(&ly))
            .then_with(|| alerts[x].as_ref().at.cmp(&alerts[y].as_ref().at))
            .then(x.cmp(&y))
    });
    order
}

/// The digest order: the more severe grade first, then the earlier alert, then by id.
pub fn severity_order(a: &Alert, b: &Alert) -> std::cmp::Ordering {
    b.grade
        .cmp(&a.grade)
        .then_with(|| a.at.cmp(&b.at))
        .then_with(|| a.alert_id.cmp(&b.alert_id))
}

/// One line of a digest: `【橙色】II 标题 · 区卫健委 · 某区 · 新预警 · al-…`.
pub fn digest_line(alert: &Alert) -> String {
    format!("【{}】{}", alert.grade.colour(), digest_rest(alert))
}

/// A digest line after its `【橙色】`: `II 标题 · 区卫健委 · 某区 · 新预警 · al-…`.
pub fn digest_rest(alert: &Alert) -> String {
    let full = one_line(&alert.title);
    let mut title: String = full.chars().take(DIGEST_TITLE_CHARS).collect();
    if full.chars().count() > DIGEST_TITLE_CHARS {
        title.push('…');
    }
    let mut s = format!("{} {}", alert.grade.as_str(), title);
    for part in [alert.department.as_deref(), alert.region.as_deref()]
        .into_iter()
        .flatten()
    {
        s.push_str(" · ");
        s.push_str(&one_line(part));
    }
    s.push_str(" · ");
    s.push_str(alert.kind.label());
    s.push_str(" · ");
    s.push_str(&alert.alert_id);
    s
}

/// The headline of a digest: `【舆情预警汇总】12 条：红色 1 · 橙色 3 · 蓝色 8`.
pub fn digest_headline(alerts: &[Arc<Alert>]) -> String {
    let mut counts = [0usize; 4];
    for a in alerts {
        counts[4 - a.grade.severity() as usize] += 1;
    }
    let parts: Vec<String> = Grade::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(g, n)| format!("{} {n}", g.colour()))
        .collect();
    format!("【舆情预警汇总】{} 条：{}", alerts.len(), parts.join(" · "))
}

/// The note under a digest when more alerts wait.
pub fn digest_more(remaining: usize) -> String {
    format!("另有 {remaining} 条预警待发送，将在随后的汇总中列出。")
}

/// The note that explains a digest.
pub const DIGEST_NOTE: &str = "预警较多，已合并发送（最严重的在前）。";

/// How many of the first alerts fit in `budget` when alert `i` costs `cost(i, alert)`: at least
/// one (a single alert that does not fit is listed anyway, its message cut by the channel).
pub fn take_fitting(
    alerts: &[Arc<Alert>],
    budget: usize,
    mut cost: impl FnMut(usize, &Alert) -> usize,
) -> usize {
    let mut used = 0;
    for (i, a) in alerts.iter().enumerate() {
        used += cost(i, a);
        if used > budget {
            return i.max(1);
        }
    }
    alerts.len()
}

/// Renders with `n` alerts, then fewer until the message fits `limit` (or only one is left).
/// `render(n)` returns the message and its size.
pub fn shrink_to_fit<T>(
    mut n: usize,
    limit: usize,
    mut render: impl FnMut(usize) -> (T, usize),
) -> (T, usize) {
    loop {
        let (message, size) = render(n);
        if size <= limit || n <= 1 {
            return (message, n);
        }
        n -= 1;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use yuqing_core::{AlertKind, Deadline, Stage};

    pub(crate) fn sample(id: &str, grade: Grade) -> Alert {
        Alert {
            schema_version: 1,
            alert_id: id.to_string(),
            event_id: "ev-0123456789abcdef".into(),
            kind: AlertKind::Escalated,
            grade,
            previous_grade: Some(Grade::III),
            stage: Stage::Spreading,
            title: "某区化工厂火灾 <@all>\n浓烟".into(),
            department: Some("区应急管理局".into()),
            region: Some("某市某区".into()),
            response_subject: vec!["区人民政府".into(), "区应急管理局".into()],
            deadlines: vec![Deadline {
                kind: "first_release".into(),
                label: "首次权威发布".into(),
                due: DateTime::parse_from_rfc3339("2026-11-22T11:02:00+08:00").unwrap(),
            }],
            rule: "grade:II".into(),
            reasons: vec![
                Reason::new("grade", "rule:II", "转发 1.2 万，增速 800/小时"),
                Reason::new("category", "lexicon:安全事故", "火灾、爆炸"),
            ],
            url: Some("https://weibo.com/1/abc".into()),
            at: DateTime::parse_from_rfc3339("2026-11-22T10:02:00+08:00").unwrap(),
            extra: Default::default(),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T02:10:00Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn plain_text_reads_like_a_duty_message() {
        let a = sample("al-1", Grade::II);
        let t = plain_text(&a, now());
        let expected = "【舆情预警·橙色】某区化工厂火灾 <@all> 浓烟\n\
            等级：II 重大（原 III 较大）\n\
            类型：升级\n\
            阶段：扩散\n\
            责任单位：区应急管理局\n\
            属地：某市某区\n\
            回应主体：区人民政府、区应急管理局\n\
            时限：首次权威发布 11月22日 11:02（剩余 52分）\n\
            依据：定级：转发 1.2 万，增速 800/小时（rule:II）；类别：火灾、爆炸（lexicon:安全事故）\n\
            预警时间：11月22日 10:02\n\
            预警编号：al-1\n\
            链接：https://weibo.com/1/abc";
        assert_eq!(t, expected);
    }

    #[test]
    fn time_left_counts_both_ways() {
        let due = DateTime::parse_from_rfc3339("2026-11-22T12:00:00+08:00").unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        assert_eq!(time_left(due, at("2026-11-22T02:30:00Z")), "剩余 1小时30分");
        assert_eq!(time_left(due, at("2026-11-22T04:20:00Z")), "已超时 20分");
        assert_eq!(time_left(due, at("2026-11-20T08:00:00Z")), "剩余 1天20小时");
    }

    #[test]
    fn markup_is_neutralised() {
        assert_eq!(plain_for_markup("a<@all>\nb"), "a＜@all＞ b");
        assert_eq!(html_escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn digests_sort_most_severe_first() {
        let mut v: Vec<Arc<Alert>> = [Grade::IV, Grade::I, Grade::III, Grade::I]
            .iter()
            .enumerate()
            .map(|(i, g)| Arc::new(sample(&format!("al-{i}"), *g)))
            .collect();
        sort_by_severity(&mut v);
        let ids: Vec<_> = v.iter().map(|a| a.alert_id.as_str()).collect();
        assert_eq!(ids, ["al-1", "al-3", "al-2", "al-0"]);
        assert_eq!(
            digest_headline(&v),
            "【舆情预警汇总】4 条：红色 2 · 黄色 1 · 蓝色 1"
        );
        assert_eq!(
            digest_line(&v[0]),
            "【红色】I 某区化工厂火灾 <@all> 浓烟 · 区应急管理局 · 某市某区 · 升级 · al-1"
        );
    }

    #[test]
    fn an_event_s_alerts_stay_together_in_firing_order() {
        let mk = |id: &str, ev: &str, g: Grade, min: i64| {
            let mut a = sample(id, g);
            a.event_id = ev.into();
            a.at += chrono::Duration::minutes(min);
            Arc::new(a)
        };
        // The new alert (IV) and its escalation (III) of one event, fired a moment apart, with
        // another event's III between them and an unrelated IV.
        let v = vec![
            mk("al-new", "ev-a", Grade::IV, 0),
            mk("al-other", "ev-b", Grade::III, 0),
            mk("al-up", "ev-a", Grade::III, 1),
            mk("al-blue", "ev-c", Grade::IV, 0),
        ];
        let ids: Vec<&str> = urgency_order(&v)
            .into_iter()
            .map(|i| v[i].alert_id.as_str())
            .collect();
        // ev-b's III fired before ev-a's III, so it leads; ev-a follows as new, then escalation.
        assert_eq!(ids, ["al-other", "al-new", "al-up", "al-blue"]);
        // Severity first still holds across events.
        let w = vec![
            mk("al-1", "ev-1", Grade::IV, 0),
            mk("al-2", "ev-2", Grade::I, 5),
        ];
        assert_eq!(urgency_order(&w), [1, 0]);
    }

    #[test]
    fn fitting_takes_a_prefix() {
        let v: Vec<Arc<Alert>> = (0..10)
            .map(|i| Arc::new(sample(&format!("al-{i}"), Grade::IV)))
            .collect();
        assert_eq!(take_fitting(&v, 100, |_, _| 10), 10);
        assert_eq!(take_fitting(&v, 35, |_, _| 10), 3);
        assert_eq!(take_fitting(&v, 5, |_, _| 10), 1);
        assert_eq!(take_fitting(&v[..0], 5, |_, _| 10), 0);
        let (msg, n) = shrink_to_fit(8, 50, |n| (n * 10, n * 10));
        assert_eq!((msg, n), (50, 5));
        assert_eq!(shrink_to_fit(3, 1, |n| (n, 100)).1, 1);
    }

    proptest::proptest! {
        #[test]
        fn outside_text_cannot_inject_markup(title in "\\PC{0,80}", dept in "(\\PC|\n|<|>){0,20}") {
            let mut a = sample("al-1", Grade::II);
            a.title = title;
            a.department = Some(dept);
            for text in [plain_for_markup(&headline(&a)), plain_for_markup(&digest_line(&a))] {
                proptest::prop_assert!(!text.contains('<') && !text.contains('>'));
                proptest::prop_assert!(!text.contains('\n'));
            }
            let t = plain_text(&a, now());
            proptest::prop_assert!(t.starts_with("【舆情预警·橙色】"));
        }
    }
}
