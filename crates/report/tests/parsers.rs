//! Property tests of the small parsers: evidence ids, UTC offsets and days never panic, and
//! evidence ids round-trip through their text form.

use chrono::NaiveDate;
use proptest::prelude::*;
use yuqing_report::{parse_day, parse_offset, Evidence};

fn evidence() -> impl Strategy<Value = Evidence> {
    let id = "[^\\u{0}]{1,30}";
    prop_oneof![
        ("[a-z0-9-]{1,20}", id).prop_map(|(s, i)| Evidence::item(s, i)),
        id.prop_map(Evidence::event),
        id.prop_map(Evidence::alert),
        id.prop_map(Evidence::case),
        ("[^#\\u{0}]{1,30}", any::<i64>()).prop_map(|(c, n)| Evidence::audit(c, n)),
    ]
}

proptest! {
    #[test]
    fn evidence_ids_round_trip(e in evidence()) {
        let text = e.to_string();
        prop_assert_eq!(Evidence::parse(&text), Some(e.clone()));
        let a = e.anchor();
        prop_assert!(a.len() == 18 && a.starts_with("x-") && a[2..].chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn parsers_never_panic(s in ".{0,40}") {
        let _ = Evidence::parse(&s);
        let _ = parse_offset(&s);
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        if let Err(e) = parse_day(&s, today) {
            prop_assert!(e.is_usage());
        }
    }
}
