//! The case metrics (a test binary of its own: the gauges are process-wide).

mod common;

use common::{alert, clock, overdue};
use yuqing_cases::{metrics, Actor};
use yuqing_core::{AlertKind, Grade};

#[tokio::test]
async fn open_cases_and_missed_deadlines_are_counted() {
    let (store, _dir) = common::sqlite().await;
    let cases = common::cases(store, clock(5)).await;
    cases
        .on_alert(&alert("ev-1", AlertKind::New, Grade::III, 5, 0))
        .await
        .unwrap();
    cases
        .on_alert(&alert("ev-2", AlertKind::New, Grade::III, 6, 0))
        .await
        .unwrap();
    cases
        .on_alert(&alert("ev-3", AlertKind::New, Grade::IV, 7, 0))
        .await
        .unwrap();
    let open = |g: &str| metrics::OPEN.with_label_values(&[g]).get();
    assert_eq!((open("I"), open("III"), open("IV")), (0, 2, 1));
    cases
        .close("ev-1", Some("经核实无需回应"), &Actor::duty("王值班"))
        .await
        .unwrap();
    assert_eq!(open("III"), 1);
    // The department label follows the case's responsible department, not the alert's.
    let mut o = overdue("ev-3", 60);
    o.department = Some("某个未配置的部门".into());
    let before = metrics::DEADLINE_MISSED
        .with_label_values(&["应急管理局", "first_release"])
        .get();
    cases.on_alert(&o).await.unwrap();
    assert_eq!(
        metrics::DEADLINE_MISSED
            .with_label_values(&["应急管理局", "first_release"])
            .get(),
        before + 1
    );
    let text = yuqing_core::telemetry::render();
    assert!(
        text.contains("yuqing_cases_open{grade=\"III\"} 1"),
        "{text}"
    );
    assert!(text.contains("yuqing_cases_deadline_missed_total{deadline=\"first_release\",department=\"应急管理局\"} 1"), "{text}");
    for line in text
        .lines()
        .filter(|l| l.starts_with("# TYPE yuqing_cases"))
    {
        let name = line.split_whitespace().nth(2).unwrap();
        if line.ends_with("counter") {
            assert!(name.ends_with("_total"), "{name}");
        }
    }
    // The grade rose with the overdue alert: ev-3 is now counted under II.
    assert_eq!((open("II"), open("IV")), (1, 0));
}
