//! Push ingestion: items posted to the daemon's `POST /ingest` or dropped as files.

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use yuqing_core::Item;

use crate::error::IngestError;

/// What a body held: the good items, and every bad record with where it was and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestOutcome {
    /// Items that passed the contract, in body order.
    pub items: Vec<Item>,
    /// Bad records: (position, error). The position is the 1-based line number for JSON Lines and
    /// the 0-based element index for a JSON array.
    pub rejected: Vec<(usize, String)>,
}

/// Parses a pushed body as JSON Lines or as a JSON array of items.
///
/// `content_type` picks the format (`application/x-ndjson`, `application/jsonl`,
/// `application/json`, `text/plain`); without one, or for `application/json`, a body starting with
/// `[` is an array and anything else JSON Lines. Records without `source` get `source`; every record
/// must otherwise satisfy the item contract. Bad records are reported, good ones kept; a malformed
/// array keeps the elements before the damage and reports the damage at its index.
pub fn parse_ingest(
    body: &[u8],
    content_type: Option<&str>,
    source: &str,
) -> Result<IngestOutcome, IngestError> {
    let mime = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let lines_forced = matches!(
        mime.as_str(),
        "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines"
            | "application/jsonlines"
            | "application/json-lines"
    );
    let sniff = matches!(
        mime.as_str(),
        "" | "application/json" | "text/json" | "text/plain" | "application/octet-stream"
    );
    if !lines_forced && !sniff {
        return Err(IngestError::UnsupportedContentType(mime));
    }
    let body = body
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(body);
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    let Some(first) = first else {
        return Err(IngestError::Empty);
    };
    let mut out = IngestOutcome::default();
    if first == b'[' && !lines_forced {
        parse_array(body, source, &mut out);
    } else {
        for (i, line) in body.split(|b| *b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(v) => push_record(v, i + 1, source, &mut out),
                Err(e) => out.rejected.push((i + 1, format!("malformed JSON: {e}"))),
            }
        }
    }
    if out.items.is_empty() && out.rejected.is_empty() {
        return Err(IngestError::Empty);
    }
    Ok(out)
}

fn push_record(mut v: Value, pos: usize, source: &str, out: &mut IngestOutcome) {
    let Some(obj) = v.as_object_mut() else {
        out.rejected.push((pos, "not a JSON object".to_string()));
        return;
    };
    let missing = obj
        .get("source")
        .is_none_or(|s| s.as_str().is_none_or(|s| s.trim().is_empty()));
    if missing {
        obj.insert("source".to_string(), Value::String(source.to_string()));
    }
    match serde_json::from_value::<Item>(v) {
        Ok(mut item) => match item.normalize() {
            Ok(()) => out.items.push(item),
            Err(e) => out.rejected.push((pos, e.to_string())),
        },
        Err(e) => out.rejected.push((pos, format!("invalid record: {e}"))),
    }
}

struct Elements<'a>(&'a mut Vec<Value>);

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            self.0.push(v);
        }
        Ok(())
    }
}

fn parse_array(body: &[u8], source: &str, out: &mut IngestOutcome) {
    let mut values = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let result = Elements(&mut values)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    let good = values.len();
    for (i, v) in values.into_iter().enumerate() {
        push_record(v, i, source, out);
    }
    if let Err(e) = result {
        out.rejected.push((
            good,
            format!("malformed JSON array, the rest of the body is unreadable: {e}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"{"id":"1","platform":"weibo","text":"某地发生火灾","published_at":"2026-11-22T10:02:33+08:00"}"#;
    const B: &str = r#"{"id":"2","source":"vendor","platform":"news","text":"通报","published_at":"2026-11-22T11:00:00+08:00"}"#;

    #[test]
    fn json_lines_keep_good_and_report_bad_by_line() {
        let body = format!(
            "{A}\n\n{{not json\n{B}\r\n[1,2]\n{}\n",
            r#"{"id":"3","platform":"news","text":" ","published_at":"2026-11-22T11:00:00+08:00"}"#
        );
        let out = parse_ingest(body.as_bytes(), Some("application/x-ndjson"), "ingest").unwrap();
        assert_eq!(out.items.len(), 2);
        assert_eq!(out.items[0].source, "ingest");
        assert_eq!(out.items[1].source, "vendor");
        assert_eq!(out.items[0].observed_at, out.items[0].published_at);
        let lines: Vec<usize> = out.rejected.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![3, 5, 6]);
        assert!(out.rejected[2].1.contains("text"), "{:?}", out.rejected);
    }

    #[test]
    fn arrays_report_by_index_and_survive_damage() {
        let body = format!("[{A}, {{\"id\":\"x\"}}, {B}]");
        let out = parse_ingest(
            body.as_bytes(),
            Some("application/json; charset=utf-8"),
            "s",
        )
        .unwrap();
        assert_eq!(out.items.len(), 2);
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].0, 1);
        let cut = format!("[{A}, {B}, {{\"id\": ");
        let out = parse_ingest(cut.as_bytes(), None, "s").unwrap();
        assert_eq!(out.items.len(), 2);
        assert_eq!(out.rejected[0].0, 2);
        assert!(out.rejected[0].1.contains("malformed JSON array"));
    }

    #[test]
    fn whole_body_errors() {
        assert!(matches!(
            parse_ingest(b"  \n", None, "s"),
            Err(IngestError::Empty)
        ));
        assert!(matches!(
            parse_ingest(b"[]", None, "s"),
            Err(IngestError::Empty)
        ));
        assert!(matches!(
            parse_ingest(A.as_bytes(), Some("text/html"), "s"),
            Err(IngestError::UnsupportedContentType(_))
        ));
        let bom = format!("\u{feff}{A}");
        assert_eq!(
            parse_ingest(bom.as_bytes(), None, "s").unwrap().items.len(),
            1
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = parse_ingest(&body, None, "s");
            let _ = parse_ingest(&body, Some("application/x-ndjson"), "s");
        }
        #[test]
        fn every_line_is_accounted_for(n_good in 0usize..5, n_bad in 0usize..5) {
            let mut lines = vec![A.to_string(); n_good];
            lines.extend(std::iter::repeat_n("{oops".to_string(), n_bad));
            let body = lines.join("\n");
            match parse_ingest(body.as_bytes(), None, "s") {
                Ok(out) => assert_eq!(out.items.len() + out.rejected.len(), n_good + n_bad),
                Err(IngestError::Empty) => assert_eq!(n_good + n_bad, 0),
                Err(e) => panic!("{e}"),
            }
        }
    }
}
