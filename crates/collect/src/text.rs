//! Bytes to text: charset detection (HTTP header, BOM, `<meta>` or XML declaration, then UTF-8,
//! then the configured default such as GB18030), markup to plain text, and count strings.

use std::sync::LazyLock;

use encoding_rs::{Encoding, GB18030, UTF_8};
use regex::bytes::Regex as BytesRegex;
use regex::Regex;
use scraper::{ElementRef, Html, Node};

static META_CHARSET: LazyLock<BytesRegex> = LazyLock::new(|| {
    BytesRegex::new(r#"(?i)<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_\-:.]+)"#)
        .expect("static regex")
});
static XML_ENCODING: LazyLock<BytesRegex> = LazyLock::new(|| {
    BytesRegex::new(r#"(?i)^\s*<\?xml[^>]*?encoding\s*=\s*["']([a-z0-9_\-:.]+)["']"#)
        .expect("static regex")
});
static XML_DECL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*<\?xml[^>]*\?>"#).expect("static regex"));

/// The text of a body and how it was decoded.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// The encoding used.
    pub encoding: &'static Encoding,
    /// True when the declared charset did not fit the bytes and another was used.
    pub repaired: bool,
}

/// The charset named in a `Content-Type` header value.
pub fn header_charset(content_type: Option<&str>) -> Option<&'static Encoding> {
    let ct = content_type?;
    ct.split(';').skip(1).find_map(|part| {
        let (k, v) = part.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("charset") {
            Encoding::for_label(v.trim().trim_matches(|c| c == '"' || c == '\'').as_bytes())
        } else {
            None
        }
    })
}

/// The charset declared inside the document (`<meta charset>`, `<meta http-equiv>`, or the XML
/// declaration), looking at the first 4 KB.
pub fn declared_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(4096)];
    let label = XML_ENCODING
        .captures(head)
        .or_else(|| META_CHARSET.captures(head))
        .map(|c| c[1].to_vec())?;
    Encoding::for_label(&label)
}

/// Decodes a body: BOM, then the header's charset, then the document's own declaration, then
/// UTF-8 when the bytes are valid UTF-8, then `fallback`. A declared charset the bytes do not fit
/// (a UTF-8 page served as GBK or the reverse) is replaced by one that fits, and `repaired` is set.
pub fn decode(body: &[u8], content_type: Option<&str>, fallback: &'static Encoding) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(body) {
        let (text, _) = enc.decode_without_bom_handling(&body[bom_len..]);
        return Decoded {
            text: text.into_owned(),
            encoding: enc,
            repaired: false,
        };
    }
    let declared = header_charset(content_type).or_else(|| declared_charset(body));
    // GBK and GB2312 labels decode as GB18030 (a superset, same decoder in encoding_rs).
    let declared = declared.map(|e| if e.name() == "GBK" { GB18030 } else { e });
    let mut candidates: Vec<&'static Encoding> = Vec::with_capacity(4);
    if let Some(d) = declared {
        candidates.push(d);
    }
    for e in [
        UTF_8,
        if fallback.name() == "GBK" {
            GB18030
        } else {
            fallback
        },
    ] {
        if !candidates.contains(&e) {
            candidates.push(e);
        }
    }
    for (i, enc) in candidates.iter().enumerate() {
        if let Some(text) = enc.decode_without_bom_handling_and_without_replacement(body) {
            return Decoded {
                text: text.into_owned(),
                encoding: enc,
                repaired: i > 0 && declared.is_some(),
            };
        }
    }
    let enc = declared.unwrap_or(fallback);
    let (text, _) = enc.decode_without_bom_handling(body);
    Decoded {
        text: text.into_owned(),
        encoding: enc,
        repaired: declared.is_some(),
    }
}

/// Replaces the encoding of an XML declaration by UTF-8 (after [`decode`] the text is UTF-8).
pub fn xml_as_utf8(text: &str) -> std::borrow::Cow<'_, str> {
    XML_DECL.replace(text, r#"<?xml version="1.0" encoding="UTF-8"?>"#)
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "tr"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "section"
            | "article"
            | "blockquote"
            | "table"
            | "ul"
            | "ol"
            | "dd"
            | "dt"
            | "pre"
            | "hr"
    )
}

fn is_skipped(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "iframe"
            | "svg"
            | "select"
            | "button"
            | "head"
    )
}

/// The visible text of an element: scripts and styles skipped, block elements on their own lines,
/// images replaced by their `alt` text (Weibo emoji), whitespace collapsed.
pub fn element_text(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    walk(el, &mut out);
    tidy(&out)
}

fn walk(el: ElementRef<'_>, out: &mut String) {
    for child in el.children() {
        match child.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if is_skipped(name) {
                    continue;
                }
                if name == "img" {
                    if let Some(alt) = e.attr("alt") {
                        out.push_str(alt);
                    }
                    continue;
                }
                let block = is_block(name);
                if block {
                    out.push('\n');
                }
                if let Some(c) = ElementRef::wrap(child) {
                    walk(c, out);
                }
                if block {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
}

/// Collapses runs of spaces within lines and drops empty lines.
pub fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let mut first = true;
        for word in line.split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{3000}') {
            if word.is_empty() {
                continue;
            }
            if !first {
                out.push(' ');
            } else if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(word);
            first = false;
        }
    }
    out
}

/// Plain text of an HTML fragment (a Weibo `text`, an RSS description).
pub fn html_to_text(fragment: &str) -> String {
    if !fragment.contains('<') && !fragment.contains('&') {
        return tidy(fragment);
    }
    let html = Html::parse_fragment(fragment);
    element_text(html.root_element())
}

/// Reads a count as sources write it: `12`, `"1,234"`, `"1.2万"`, `"100万+"`, `"3亿"`, `"10w+"`.
pub fn parse_count(s: &str) -> Option<u64> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '+' | ' ' | '，'))
        .collect();
    if t.is_empty() {
        return None;
    }
    let (num, mult) = if let Some(n) = t.strip_suffix('万').or_else(|| t.strip_suffix(['w', 'W']))
    {
        (n, 10_000.0)
    } else if let Some(n) = t.strip_suffix('亿') {
        (n, 100_000_000.0)
    } else if let Some(n) = t.strip_suffix(['k', 'K', '千']) {
        (n, 1_000.0)
    } else {
        (t.as_str(), 1.0)
    };
    let v: f64 = num.parse().ok()?;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    Some((v * mult).round() as u64)
}

/// A count from a JSON value (number or string).
pub fn json_count(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        serde_json::Value::String(s) => parse_count(s),
        _ => None,
    }
}

/// The first number in a text such as `阅读 1.2万` or `浏览次数：356`.
pub fn count_in_text(s: &str) -> Option<u64> {
    static NUM: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\d[\d,]*(?:\.\d+)?\s*[万亿wWkK]?").expect("static regex"));
    NUM.find(s).and_then(|m| parse_count(m.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_gbk_from_header_meta_and_sniffing() {
        let (gbk, _, _) = GB18030.encode("突发：某地发生火灾");
        let d = decode(&gbk, Some("text/html; charset=GBK"), UTF_8);
        assert_eq!(d.text, "突发：某地发生火灾");
        let mut page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"></head><body>".to_vec();
        page.extend_from_slice(&gbk);
        let d = decode(&page, Some("text/html"), UTF_8);
        assert!(d.text.contains("突发：某地发生火灾"));
        assert!(!d.repaired);
        // Declared UTF-8 but really GBK: repaired with the fallback.
        let d = decode(&gbk, Some("text/html; charset=utf-8"), GB18030);
        assert_eq!(d.text, "突发：某地发生火灾");
        assert!(d.repaired);
        // Nothing declared, not UTF-8: the fallback.
        assert_eq!(decode(&gbk, None, GB18030).text, "突发：某地发生火灾");
        // BOM wins.
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("火灾".as_bytes());
        assert_eq!(
            decode(&bom, Some("text/html; charset=gbk"), GB18030).text,
            "火灾"
        );
        let xml = [
            b"<?xml version=\"1.0\" encoding=\"GB2312\"?><rss>".as_slice(),
            &gbk,
            b"</rss>",
        ]
        .concat();
        let d = decode(&xml, None, UTF_8);
        assert!(
            xml_as_utf8(&d.text).starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss>突发")
        );
    }

    #[test]
    fn html_text_keeps_emoji_alt_and_blocks() {
        let t = html_to_text(
            r#"转发<a href="/n/某人">@某人</a>：<span class="url-icon"><img alt="[doge]" src="x"></span>好<br />下一行<script>var x=1;</script>"#,
        );
        assert_eq!(t, "转发@某人：[doge]好\n下一行");
        assert_eq!(html_to_text("a &amp; b"), "a & b");
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("100万+"), Some(1_000_000));
        assert_eq!(parse_count("1.2万"), Some(12_000));
        assert_eq!(parse_count("3亿"), Some(300_000_000));
        assert_eq!(parse_count("1,234"), Some(1234));
        assert_eq!(parse_count("10w+"), Some(100_000));
        assert_eq!(parse_count("转发"), None);
        assert_eq!(json_count(&serde_json::json!(42)), Some(42));
        assert_eq!(json_count(&serde_json::json!("100万+")), Some(1_000_000));
        assert_eq!(json_count(&serde_json::json!(null)), None);
        assert_eq!(count_in_text("阅读 1.2万"), Some(12_000));
        assert_eq!(count_in_text("浏览次数：356次"), Some(356));
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300), ct in "[a-z/;= -]{0,30}") {
            let _ = decode(&bytes, Some(&ct), GB18030);
        }
        #[test]
        fn count_never_panics(s in "\\PC{0,20}") {
            let _ = parse_count(&s);
        }
    }
}
