//! A scripted incident over 30 simulated hours: the grades, reminders, overdue escalations,
//! calm and flare it must produce, at the right event times.

mod common;

use common::{at, key, minutes, Snap};
use yuqing_alert::{AlertConfig, Grader};
use yuqing_core::{Alert, AlertKind, Event, Grade, Stage};

#[allow(clippy::large_enum_variant)] // test scripts, built once
enum Op {
    Snap(Event),
    Respond(i64, &'static str),
    Tick(i64),
}

/// A fire at a chemical plant: sensitive at first sight, recognised as an accident at 40 min,
/// spreading by 3 h, forecast to peak big at 4 h, a website statement at 5 h, a press
/// conference at 22 h, calm at 26 h, a flare at 29 h.
fn script() -> Vec<Op> {
    let base = || Snap::new("ev-fire", 0);
    let mut ops = vec![
        Op::Snap(base().at(5).sens(0.55).vel(30.0).size(3, 5, 2).build()),
        Op::Snap(
            base()
                .at(40)
                .sens(0.65)
                .vel(120.0)
                .topics(&["安全事故"])
                .size(12, 40, 20)
                .build(),
        ),
        Op::Snap(
            base()
                .at(65)
                .sens(0.65)
                .vel(200.0)
                .topics(&["安全事故"])
                .build(),
        ),
        Op::Snap(
            base()
                .at(90)
                .sens(0.65)
                .vel(400.0)
                .topics(&["安全事故"])
                .build(),
        ),
        Op::Snap(
            base()
                .at(180)
                .stage(Stage::Spreading)
                .sens(0.75)
                .vel(1500.0)
                .reach(3, 1, 0)
                .topics(&["安全事故"])
                .build(),
        ),
        Op::Snap(
            base()
                .at(240)
                .stage(Stage::Spreading)
                .sens(0.9)
                .vel(2500.0)
                .forecast(150_000.0)
                .reach(4, 2, 1)
                .topics(&["安全事故"])
                .build(),
        ),
        Op::Respond(300, "website"),
    ];
    for m in (360..=1320).step_by(120) {
        // At 8 h the inputs alone would only justify IV: the grade must not go down.
        let s = if m == 480 {
            base()
                .at(m)
                .stage(Stage::Peak)
                .sens(0.55)
                .vel(50.0)
                .forecast(500.0)
        } else {
            base()
                .at(m)
                .stage(Stage::Peak)
                .sens(0.9)
                .vel(3000.0 - m as f64)
                .forecast(150_000.0)
                .reach(4, 6, 2)
        };
        ops.push(Op::Snap(s.topics(&["安全事故"]).build()));
    }
    ops.push(Op::Respond(1320, "press_conference"));
    ops.extend([
        Op::Snap(
            base()
                .at(1560)
                .stage(Stage::Fading)
                .sens(0.9)
                .vel(20.0)
                .topics(&["安全事故"])
                .build(),
        ),
        Op::Snap(
            base()
                .at(1620)
                .stage(Stage::Fading)
                .sens(0.9)
                .vel(30.0)
                .topics(&["安全事故"])
                .build(),
        ),
        Op::Snap(
            base()
                .at(1740)
                .stage(Stage::Spreading)
                .sens(0.9)
                .vel(600.0)
                .forecast(150_000.0)
                .reach(4, 6, 2)
                .topics(&["安全事故"])
                .build(),
        ),
        Op::Tick(1800),
    ]);
    ops
}

fn run(ops: &[Op], tick_every: Option<i64>) -> Vec<Alert> {
    let mut g = Grader::builtin().unwrap();
    let mut out = Vec::new();
    let mut clock = 0;
    for op in ops {
        let t = match op {
            Op::Snap(e) => minutes_of(e),
            Op::Respond(m, _) | Op::Tick(m) => *m,
        };
        if let Some(step) = tick_every {
            while clock + step < t {
                clock += step;
                out.extend(g.tick(at(clock)));
            }
        }
        clock = clock.max(t);
        match op {
            Op::Snap(e) => out.extend(g.on_event(e)),
            Op::Respond(m, ch) => assert!(g.note_responded("ev-fire", at(*m), Some(ch))),
            Op::Tick(m) => out.extend(g.tick(at(*m))),
        }
    }
    out
}

fn minutes_of(e: &Event) -> i64 {
    (e.updated_at - common::t0()).num_minutes()
}

fn summary(alerts: &[Alert]) -> Vec<(AlertKind, Grade, i64)> {
    alerts
        .iter()
        .map(|a| (a.kind, a.grade, minutes(a)))
        .collect()
}

#[test]
fn the_incident_produces_the_expected_sequence() {
    let alerts = run(&script(), None);
    use AlertKind::*;
    assert_eq!(
        summary(&alerts),
        vec![
            (New, Grade::IV, 5),         // sensitive at first sight: 2 h online
            (Escalated, Grade::III, 40), // an accident: emergency, first release due
            (Reminder, Grade::III, 60),  // 10 min before the first release is due
            (Overdue, Grade::II, 70),    // missed: one grade up
            (Escalated, Grade::I, 240),  // forecast of a big peak: escalate before it
            (Reminder, Grade::I, 1080),  // press conference due in 6 h
            (Calmed, Grade::I, 1560),    // 消退, grade kept
            (Flared, Grade::I, 1740),    // 再次升温
            (Reminder, Grade::I, 1770),  // new wave: first release in 30 min
            (Reminder, Grade::I, 1790),  // … in 10 min
            (Overdue, Grade::I, 1800),   // missed again: to the level above
        ]
    );

    // Every alert says why, names its rule and states its due times.
    let new = &alerts[0];
    assert_eq!(new.rule, "grading:敏感内容首发");
    assert!(new
        .reasons
        .iter()
        .any(|r| r.evidence.contains("敏感度 0.55")));
    assert!(new
        .reasons
        .iter()
        .any(|r| r.about == "inputs" && r.evidence.contains("万载县")));
    assert_eq!(new.deadlines.len(), 1);
    assert_eq!(new.deadlines[0].kind, "response");
    assert_eq!(new.deadlines[0].due, at(48 * 60));

    let esc = &alerts[1];
    assert_eq!(esc.previous_grade, Some(Grade::IV));
    assert_eq!(esc.rule, "grading:突发事件首发");
    let first = esc
        .deadlines
        .iter()
        .find(|d| d.kind == "first_release")
        .unwrap();
    // 1 h after first sight would be 11:00, but the warning came at 10:40: 30 min of notice.
    assert_eq!(first.due, at(70));
    assert!(esc
        .reasons
        .iter()
        .any(|r| r.evidence == "属于突发事件（话题：安全事故）"));

    let overdue = &alerts[3];
    assert_eq!(overdue.previous_grade, Some(Grade::III));
    assert_eq!(overdue.extra["timer"]["deadline"], "first_release");
    assert!(overdue.reasons.iter().any(|r| r.evidence.contains("已过")));

    let to_i = &alerts[4];
    assert_eq!(to_i.rule, "grading:特别重大突发事件");
    assert!(to_i
        .reasons
        .iter()
        .any(|r| r.about == "forecast" && r.evidence.contains("150,000")));
    let pc = to_i
        .deadlines
        .iter()
        .find(|d| d.kind == "press_conference")
        .unwrap();
    assert_eq!(pc.due, at(24 * 60));

    assert!(alerts[6]
        .reasons
        .iter()
        .any(|r| r.evidence.contains("不作降级")));
    let flare = &alerts[7];
    assert_eq!(flare.extra["wave"], 1);
    let fr = flare
        .deadlines
        .iter()
        .find(|d| d.kind == "first_release")
        .unwrap();
    assert_eq!(fr.due, at(1800));

    // Ids are unique and every alert is stamped with its own event time.
    let mut ids: Vec<_> = alerts.iter().map(|a| a.alert_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), alerts.len());
}

#[test]
fn the_grade_never_goes_down_silently() {
    let alerts = run(&script(), None);
    let mut grade = Grade::IV;
    for a in &alerts {
        assert!(
            a.grade >= grade,
            "{:?} went from {grade} to {}",
            a.kind,
            a.grade
        );
        grade = a.grade;
    }
}

#[test]
fn batching_and_timer_cadence_do_not_change_the_alerts() {
    let plain: Vec<_> = run(&script(), None).iter().map(key).collect();
    for step in [1, 7, 10, 60] {
        let ticked: Vec<_> = run(&script(), Some(step)).iter().map(key).collect();
        assert_eq!(plain, ticked, "tick every {step} min");
    }
}

#[test]
fn a_response_in_time_prevents_reminders_and_escalation() {
    let mut g = Grader::builtin().unwrap();
    let e = |m| {
        Snap::new("ev-2", 0)
            .at(m)
            .sens(0.7)
            .vel(50.0)
            .topics(&["自然灾害"])
            .build()
    };
    let first = g.on_event(&e(1));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].grade, Grade::III);
    assert!(g.note_responded("ev-2", at(20), None));
    let later = g.tick(at(49 * 60));
    assert!(later
        .iter()
        .all(|a| a.kind != AlertKind::Reminder && a.kind != AlertKind::Overdue));
    let status = g.deadlines_of("ev-2");
    assert!(
        status.iter().all(|d| d.met == Some(at(20)) && !d.overdue),
        "{status:?}"
    );
    assert!(!g.note_responded("ev-unknown", at(20), None));
}

#[test]
fn quiet_events_calm_on_their_own_and_flare_on_speed() {
    let mut g = Grader::builtin().unwrap();
    let s = || Snap::new("ev-q", 0).sens(0.6);
    assert_eq!(g.on_event(&s().at(10).build())[0].kind, AlertKind::New);
    g.on_event(&s().at(120).vel(80.0).build());
    // Nothing new for 12 h after 12:00 → calm at 00:00, whenever the timer runs.
    let calm = g.tick(at(20 * 60));
    let calm: Vec<_> = calm
        .iter()
        .filter(|a| a.kind == AlertKind::Calmed)
        .collect();
    assert_eq!(calm.len(), 1);
    assert_eq!(calm[0].at, at(120 + 12 * 60));
    assert_eq!(calm[0].rule, "curve:quiet");
    // A trickle is no flare…
    assert!(g.on_event(&s().at(21 * 60).vel(20.0).build()).is_empty());
    // … a burst is.
    let flare = g.on_event(&s().at(22 * 60).vel(150.0).build());
    assert_eq!(flare.len(), 1);
    assert_eq!(flare[0].kind, AlertKind::Flared);
    assert!(flare[0].reasons[0].evidence.contains("150"));
}

#[test]
fn stale_and_repeated_snapshots_change_nothing() {
    let mut g = Grader::builtin().unwrap();
    let s = || Snap::new("ev-s", 0).sens(0.6);
    assert_eq!(g.on_event(&s().at(60).build()).len(), 1);
    assert!(g.on_event(&s().at(60).build()).is_empty(), "redelivery");
    assert!(
        g.on_event(&s().at(30).sens(0.95).topics(&["安全事故"]).build())
            .is_empty(),
        "stale"
    );
    assert_eq!(g.grade_of("ev-s"), Some(Grade::IV));
}

#[test]
fn unremarkable_events_are_not_tracked() {
    let mut g = Grader::builtin().unwrap();
    assert!(g
        .on_event(&Snap::new("ev-calm", 0).at(5).sens(0.1).build())
        .is_empty());
    assert_eq!(g.tracked(), 0);
    let mut bad = Snap::new("", 0).at(5).sens(0.9).build();
    bad.velocity = f64::NAN;
    bad.sensitivity = f64::NAN;
    assert!(
        g.on_event(&bad).is_empty(),
        "bad input is skipped, never a panic"
    );
}

#[test]
fn the_national_five_hour_rule_is_an_option() {
    let cfg = AlertConfig {
        national_five_hour_rule: true,
        ..AlertConfig::default()
    };
    let mut g = Grader::new(&cfg, std::path::Path::new(".")).unwrap();
    let a = g.on_event(
        &Snap::new("ev-5", 0)
            .at(10)
            .sens(0.8)
            .vel(1200.0)
            .reach(2, 0, 0)
            .topics(&["安全事故"])
            .build(),
    );
    assert_eq!(a[0].grade, Grade::II);
    let d = a[0]
        .deadlines
        .iter()
        .find(|d| d.kind == "authoritative_release")
        .unwrap();
    assert_eq!(d.due, at(5 * 60));
    let mut plain = Grader::builtin().unwrap();
    let b = plain.on_event(
        &Snap::new("ev-5", 0)
            .at(10)
            .sens(0.8)
            .vel(1200.0)
            .reach(2, 0, 0)
            .topics(&["安全事故"])
            .build(),
    );
    assert!(b[0]
        .deadlines
        .iter()
        .all(|d| d.kind != "authoritative_release"));
}

#[test]
fn metrics_count_alerts_by_grade_and_kind() {
    let before = yuqing_alert::metrics::FIRED
        .with_label_values(&["III", "reminder"])
        .get();
    run(&script(), None);
    let after = yuqing_alert::metrics::FIRED
        .with_label_values(&["III", "reminder"])
        .get();
    assert!(after > before);
    let text = yuqing_core::telemetry::render();
    assert!(
        text.contains("yuqing_alert_fired_total{grade=\"I\",kind=\"overdue\"}"),
        "{text}"
    );
    assert!(text.contains("yuqing_alert_evaluation_duration_seconds_count"));
    assert!(text.contains("yuqing_alert_open_events"));
    for line in text
        .lines()
        .filter(|l| l.starts_with("# TYPE yuqing_alert"))
    {
        let name = line.split_whitespace().nth(2).unwrap();
        if line.ends_with("counter") {
            assert!(name.ends_with("_total"), "{name}");
        }
    }
}
