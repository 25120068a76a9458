//! Restarts: restoring from the alerts so far (and the latest snapshots, as the daemon does)
//! and continuing gives exactly the alerts of the uninterrupted run — none missing, none twice.

mod common;

use std::collections::{BTreeMap, HashSet};

use common::{at, key, Snap};
use proptest::prelude::*;
use yuqing_alert::Grader;
use yuqing_core::{Alert, Event, Stage};

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // test scripts, built once
enum Op {
    Snap(Event),
    Respond(String, i64, Option<&'static str>),
    Tick(i64),
}

impl Op {
    fn minute(&self) -> i64 {
        match self {
            Op::Snap(e) => (e.updated_at - common::t0()).num_minutes(),
            Op::Respond(_, m, _) | Op::Tick(m) => *m,
        }
    }
}

const SENS: [f64; 6] = [0.1, 0.4, 0.55, 0.65, 0.8, 0.9];
const VEL: [f64; 6] = [10.0, 50.0, 150.0, 400.0, 1200.0, 3000.0];
const FORECAST: [f64; 3] = [100.0, 30_000.0, 150_000.0];
const STAGES: [Stage; 4] = [
    Stage::Emerging,
    Stage::Spreading,
    Stage::Peak,
    Stage::Fading,
];
const CHANNELS: [Option<&str>; 3] = [None, Some("website"), Some("press_conference")];

type SnapSpec = (i64, usize, usize, usize, usize, bool, u32);

fn snap_spec() -> impl Strategy<Value = SnapSpec> {
    (
        5i64..300,
        0..SENS.len(),
        0..VEL.len(),
        0..STAGES.len(),
        0..FORECAST.len(),
        any::<bool>(),
        1u32..5,
    )
}

fn stream() -> impl Strategy<Value = Vec<Op>> {
    let event = (0i64..400, prop::collection::vec(snap_spec(), 1..12));
    (
        prop::collection::vec(event, 1..4),
        prop::collection::vec((0usize..3, 0i64..1800, 0..CHANNELS.len()), 0..4),
        prop::collection::vec(0i64..1900, 0..4),
    )
        .prop_map(|(events, responses, ticks)| {
            let mut ops = Vec::new();
            for (i, (first, snaps)) in events.iter().enumerate() {
                let id = format!("ev-{i}");
                let mut m = *first;
                for (dt, s, v, st, f, topic, platforms) in snaps {
                    m += dt;
                    if m > 1800 {
                        break;
                    }
                    let mut b = Snap::new(&id, *first)
                        .at(m)
                        .sens(SENS[*s])
                        .vel(VEL[*v])
                        .stage(STAGES[*st])
                        .forecast(FORECAST[*f])
                        .reach(*platforms, *platforms, 0);
                    if *topic {
                        b = b.topics(&["安全事故"]);
                    }
                    ops.push(Op::Snap(b.build()));
                }
            }
            for (e, m, c) in responses {
                ops.push(Op::Respond(format!("ev-{e}"), m, CHANNELS[c]));
            }
            for m in ticks {
                ops.push(Op::Tick(m));
            }
            ops.sort_by_key(|o| o.minute());
            ops
        })
}

type Taken = Vec<(String, i64, Option<&'static str>)>;

/// Runs `ops`; returns the alerts and the responses the grader took (the case workflow only
/// records responses for alerted events).
fn run(g: &mut Grader, ops: &[Op]) -> (Vec<Alert>, Taken) {
    let mut alerts = Vec::new();
    let mut taken = Vec::new();
    for op in ops {
        match op {
            Op::Snap(e) => alerts.extend(g.on_event(e)),
            Op::Respond(id, m, c) => {
                if g.note_responded(id, at(*m), *c) {
                    taken.push((id.clone(), *m, *c));
                }
            }
            Op::Tick(m) => alerts.extend(g.tick(at(*m))),
        }
    }
    (alerts, taken)
}

fn restart_at(ops: &[Op], split: usize) -> (Vec<Alert>, Vec<Alert>) {
    let mut before = Grader::builtin().unwrap();
    let (first, taken) = run(&mut before, &ops[..split]);
    drop(before);
    // What the daemon finds in the store after the restart.
    let mut latest: BTreeMap<String, Event> = BTreeMap::new();
    for op in &ops[..split] {
        if let Op::Snap(e) = op {
            latest.insert(e.event_id.clone(), e.clone());
        }
    }
    let mut after = Grader::builtin().unwrap();
    after.restore(&first);
    for (id, m, c) in &taken {
        after.note_responded(id, at(*m), *c);
    }
    let latest: Vec<Event> = latest.into_values().collect();
    after.resume(&latest);
    let (second, _) = run(&mut after, &ops[split..]);
    let mut all = first;
    all.extend(second);
    let whole = run(&mut Grader::builtin().unwrap(), ops).0;
    (all, whole)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_restart_anywhere_neither_loses_nor_repeats(ops in stream(), cut in 0.0f64..=1.0) {
        let split = ((ops.len() as f64) * cut).round() as usize;
        let (restarted, whole) = restart_at(&ops, split.min(ops.len()));
        let ids: Vec<&str> = restarted.iter().map(|a| a.alert_id.as_str()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        prop_assert_eq!(unique.len(), ids.len(), "an alert fired twice");
        let a: Vec<_> = restarted.iter().map(key).collect();
        let b: Vec<_> = whole.iter().map(key).collect();
        prop_assert_eq!(a, b);
    }
}

#[test]
fn restore_alone_keeps_grades_deadlines_and_fired_timers() {
    let mut g = Grader::builtin().unwrap();
    let s = || Snap::new("ev-r", 0).sens(0.7).topics(&["安全事故"]);
    let mut alerts = g.on_event(&s().at(1).build());
    alerts.extend(g.tick(at(35))); // the 30-min reminder of the first release
    assert_eq!(alerts.len(), 2);
    let mut h = Grader::builtin().unwrap();
    h.restore(&alerts);
    assert_eq!(h.grade_of("ev-r"), g.grade_of("ev-r"));
    assert_eq!(h.deadlines_of("ev-r"), g.deadlines_of("ev-r"));
    // The 10-min reminder and the overdue escalation still come, once.
    let next: Vec<_> = h
        .tick(at(61))
        .iter()
        .map(|a| (a.kind, common::minutes(a)))
        .collect();
    assert_eq!(
        next,
        [
            (yuqing_core::AlertKind::Reminder, 50),
            (yuqing_core::AlertKind::Overdue, 60)
        ]
    );
    // Restoring twice is harmless.
    h.restore(&alerts);
    assert!(h.tick(at(62)).is_empty());
}

#[test]
fn an_event_graded_elsewhere_is_adopted_not_alerted_as_new() {
    // Process A graded the event (new, then escalated) until its partition moved to process B,
    // which knows another event of its own.
    let s = || Snap::new("ev-moved", 0).sens(0.6);
    let mut a = Grader::builtin().unwrap();
    let mut stored = a.on_event(&s().at(5).build());
    stored.extend(a.on_event(&s().at(40).sens(0.7).topics(&["安全事故"]).build()));
    assert_eq!(stored.len(), 2);
    let mut b = Grader::builtin().unwrap();
    let own = b.on_event(&Snap::new("ev-own", 0).sens(0.7).at(30).build());
    assert!(!own.is_empty());
    assert!(!b.knows("ev-moved"));
    assert_eq!(b.adopt(&stored), 1);
    assert_eq!(b.grade_of("ev-moved"), a.grade_of("ev-moved"));
    // Adopting again, or alerts of an event already tracked, changes nothing.
    assert_eq!(b.adopt(&stored), 0);
    assert_eq!(b.adopt(&own), 0);
    // The next snapshot continues the event in B exactly as A would have.
    let next = s().at(50).sens(0.7).topics(&["安全事故"]).build();
    let from_a: Vec<_> = a.on_event(&next).iter().map(key).collect();
    let from_b: Vec<_> = b.on_event(&next).iter().map(key).collect();
    assert_eq!(from_b, from_a);
    assert!(
        from_b.iter().all(|k| k.1 != "new"),
        "no second new alert: {from_b:?}"
    );
    // Without adopting, B would have opened the event again.
    let mut c = Grader::builtin().unwrap();
    assert!(c.on_event(&next).iter().any(|x| x.kind.as_str() == "new"));
}

#[test]
fn alerts_lost_in_flight_come_back_with_the_same_ids() {
    let s = || Snap::new("ev-l", 0).sens(0.6);
    let accident = |m| s().at(m).sens(0.7).topics(&["安全事故"]).build();
    let mut g = Grader::builtin().unwrap();
    let stored = g.on_event(&s().at(5).build());
    // In flight when the process dies: the 40-min snapshot's escalation and, before it, nothing;
    // then the 65-min snapshot's batch (a reminder at 60) is lost too.
    let lost_a = g.on_event(&accident(40));
    let lost_b = g.on_event(&accident(65));
    assert_eq!(lost_a.len(), 1);
    assert_eq!(lost_b.len(), 1);
    let mut h = Grader::builtin().unwrap();
    h.restore(&stored);
    h.resume(&[s().at(5).build()]);
    // The input was not acknowledged, so both snapshots come again.
    let again_a = h.on_event(&accident(40));
    let again_b = h.on_event(&accident(65));
    assert_eq!(
        again_a.iter().map(key).collect::<Vec<_>>(),
        lost_a.iter().map(key).collect::<Vec<_>>()
    );
    assert_eq!(
        again_b.iter().map(key).collect::<Vec<_>>(),
        lost_b.iter().map(key).collect::<Vec<_>>()
    );
}
