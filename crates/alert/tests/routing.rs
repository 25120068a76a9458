//! Routing: department and place choose receivers, copy rules add offices, overdue alerts go
//! up the chain, quiet hours hold III/IV chat alerts; configuration errors name their key path.

mod common;

use chrono::DateTime;
use common::{at, Snap};
use yuqing_alert::{AlertConfig, AlertError, Grader};
use yuqing_core::{Alert, AlertKind, Grade};

fn alert_for(dept: &str, sens: f64, topics: &[&str]) -> (Grader, Alert) {
    let mut g = Grader::builtin().unwrap();
    let a = g
        .on_event(
            &Snap::new("ev-r", 0)
                .at(5)
                .sens(sens)
                .topics(topics)
                .dept(dept)
                .build(),
        )
        .remove(0);
    (g, a)
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn the_owner_department_chooses_the_receivers() {
    let (g, a) = alert_for("天河区住房和城乡建设局", 0.55, &[]);
    assert_eq!(a.grade, Grade::IV);
    let r = g.route(&a, at(5));
    assert_eq!(r.receivers, s(&["住房和城乡建设局", "值班室"]));
    assert_eq!(r.sinks, s(&["dept-housing", "duty"]));
    assert_eq!(
        r.contacts,
        s(&["住建局值班室", "总值班室（24 小时值班电话）"])
    );
    assert_eq!(r.escalation[0], "住建局局长");
    assert!(r.escalation.contains(&"值班室主任".to_string()));
    assert_eq!(r.rules, s(&["住房城乡建设"]));
    assert_eq!(r.deferred_until, None);
}

#[test]
fn unmatched_alerts_reach_the_duty_room() {
    let (g, a) = alert_for("某某协会", 0.55, &[]);
    let r = g.route(&a, at(5));
    assert_eq!(r.receivers, s(&["值班室"]));
    assert!(r.rules.is_empty());
}

#[test]
fn grades_one_and_two_are_copied_to_the_government_office_and_cac() {
    let mut g = Grader::builtin().unwrap();
    let a = g
        .on_event(
            &Snap::new("ev-c", 0)
                .at(5)
                .sens(0.8)
                .vel(1500.0)
                .reach(3, 0, 0)
                .topics(&["安全事故"])
                .build(),
        )
        .remove(0);
    assert_eq!(a.grade, Grade::II);
    let r = g.route(&a, at(5));
    assert_eq!(
        r.receivers,
        s(&["应急管理局", "值班室", "政府办", "网信办"])
    );
    assert!(r.rules.contains(&"重大以上抄送政府办、网信办".to_string()));
    // Copies are informed, not on the escalation chain.
    assert!(!r.escalation.contains(&"政府办主任".to_string()));
    let (g4, a4) = alert_for("万载县应急管理局", 0.55, &[]);
    assert!(!g4
        .route(&a4, at(5))
        .receivers
        .contains(&"政府办".to_string()));
}

#[test]
fn harmful_rumours_are_handed_to_police_and_cac() {
    let mut g = Grader::builtin().unwrap();
    let mut ev = Snap::new("ev-rumour", 0)
        .at(5)
        .sens(0.6)
        .topics(&["谣言"])
        .dept("万载县教育局")
        .build();
    ev.handling_class = Some(yuqing_core::HandlingClass::Hype);
    let a = g.on_event(&ev).remove(0);
    let r = g.route(&a, at(5));
    assert_eq!(r.receivers, s(&["教育局", "值班室", "公安局", "网信办"]));
}

#[test]
fn overdue_alerts_go_up_the_chain() {
    let mut g = Grader::builtin().unwrap();
    g.on_event(
        &Snap::new("ev-o", 0)
            .at(1)
            .sens(0.7)
            .topics(&["自然灾害"])
            .build(),
    );
    let overdue: Vec<Alert> = g
        .tick(at(120))
        .into_iter()
        .filter(|a| a.kind == AlertKind::Overdue)
        .collect();
    assert_eq!(overdue.len(), 1);
    let r = g.route(&overdue[0], at(120));
    assert!(r.sinks.contains(&"leaders".to_string()), "{:?}", r.sinks);
    assert_eq!(
        r.escalation.first().map(String::as_str),
        Some("应急管理局局长")
    );
}

#[test]
fn quiet_hours_defer_three_and_four_on_chat_sinks_only() {
    let (mut g, a) = alert_for("万载县应急管理局", 0.55, &[]);
    g.router_mut()
        .set_sink_kinds([("duty", "wecom"), ("dept-emergency", "email")]);
    let night = DateTime::parse_from_rfc3339("2026-11-22T23:30:00+08:00").unwrap();
    let r = g.route(&a, night);
    assert_eq!(r.deferred_sinks, s(&["duty"]));
    assert_eq!(
        r.deferred_until,
        Some(DateTime::parse_from_rfc3339("2026-11-23T07:00:00+08:00").unwrap())
    );
    assert_eq!(r.immediate().collect::<Vec<_>>(), ["dept-emergency"]);
    // Daytime: nothing deferred.
    assert_eq!(g.route(&a, at(5)).deferred_until, None);
    // Grades I and II ignore quiet hours.
    let mut severe = a.clone();
    severe.grade = Grade::II;
    let r2 = g.route(&severe, night);
    assert!(r2.deferred_sinks.is_empty() && r2.deferred_until.is_none());

    let mut routed = a.clone();
    r.apply(&mut routed);
    assert_eq!(
        routed.extra["route"],
        serde_json::json!(["dept-emergency", "duty"])
    );
    assert_eq!(
        routed.extra["routing"]["deferred_sinks"],
        serde_json::json!(["duty"])
    );
    assert_eq!(
        routed.extra["routing"]["deferred_until"],
        "2026-11-23T07:00:00+08:00"
    );
}

#[test]
fn places_choose_receivers_from_a_pipeline_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("routing.toml"),
        r#"
        fallback = ["市值班室"]
        [[receiver]]
        name = "市值班室"
        sinks = ["city"]
        [[receiver]]
        name = "万载县值班室"
        sinks = ["wanzai"]
        contacts = ["万载县值班室"]
        [[route]]
        name = "万载属地"
        regions = ["万载"]
        to = ["万载县值班室"]
        "#,
    )
    .unwrap();
    let cfg: AlertConfig = toml::from_str(r#"routing = "routing.toml""#).unwrap();
    let mut g = Grader::new(&cfg, dir.path()).unwrap();
    let a = g
        .on_event(&Snap::new("ev-p", 0).at(5).sens(0.6).build())
        .remove(0);
    assert_eq!(g.route(&a, at(5)).receivers, s(&["万载县值班室"]));
    let mut elsewhere = Snap::new("ev-q", 0).at(5).sens(0.6).build();
    elsewhere.region = Some("宜春市袁州区".into());
    let b = g.on_event(&elsewhere).remove(0);
    assert_eq!(g.route(&b, at(5)).receivers, s(&["市值班室"]));
}

#[test]
fn bad_rules_files_are_reported_with_key_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("grading.toml"),
        r#"
        [[rule]]
        name = "r"
        grade = "II"
        description = "x"
        sensitivity_min = 2.0
        [[deadline]]
        kind = "response"
        label = "回应"
        within = "1h"
        grades = ["II"]
        remind_before = ["2h"]
        "#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("routing.toml"),
        r#"
        fallback = ["nobody"]
        "#,
    )
    .unwrap();
    let cfg: AlertConfig =
        toml::from_str("grading = \"grading.toml\"\nrouting = \"routing.toml\"").unwrap();
    let err = Grader::new(&cfg, dir.path()).unwrap_err();
    let AlertError::Invalid(p) = &err else {
        panic!("{err}");
    };
    let text = p.to_string();
    for want in [
        "alert.grading.rule[0].sensitivity_min: must be between 0 and 1",
        "alert.grading.deadline[0].remind_before[0]: must be shorter than within (1h)",
        "alert.routing.fallback[0]: unknown receiver `nobody`",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert_eq!(err.kind(), "invalid");

    std::fs::write(dir.path().join("grading.toml"), "[[rule]]\nname = 1\n").unwrap();
    let err = Grader::new(&cfg, dir.path()).unwrap_err();
    assert!(matches!(err, AlertError::Parse { .. }), "{err}");
    assert!(err.to_string().contains("grading.toml"), "{err}");

    let missing: AlertConfig = toml::from_str("grading = \"nope.toml\"").unwrap();
    let err = Grader::new(&missing, dir.path()).unwrap_err();
    assert!(matches!(err, AlertError::Io { .. }), "{err}");

    let mut problems = yuqing_core::Problems::new();
    Grader::builtin().unwrap().router().config().check_sinks(
        &["duty"],
        "alert.routing",
        &mut problems,
    );
    assert!(problems
        .list()
        .iter()
        .any(|p| p.path == "alert.routing.receiver[1].sinks[0]"));
}

#[test]
fn the_bundled_rules_are_valid() {
    let g = Grader::builtin().unwrap();
    assert!(g.grading().rules.len() >= 8);
    for grade in Grade::ALL {
        assert!(
            g.grading().rules.iter().any(|r| r.grade == grade),
            "no rule for {grade}"
        );
    }
    let kinds: Vec<_> = g
        .grading()
        .deadlines
        .iter()
        .map(|d| d.kind.as_str())
        .collect();
    assert_eq!(kinds, ["first_release", "press_conference", "response"]);
}
