//! Byte-aware splitting of message text at a channel's size limit.
//!
//! Limits are in bytes, and what counts depends on the channel: 企业微信 limits the UTF-8 bytes of
//! the content ([`utf8_cost`]); 钉钉 and 飞书 limit the request body, where the text appears
//! JSON-escaped ([`json_cost`]). Pieces end after a line break where one fits, else before the
//! character that would overflow: a piece never ends inside a UTF-8 character.

/// The UTF-8 length of a character.
pub fn utf8_cost(c: char) -> usize {
    c.len_utf8()
}

/// The length of a character inside a JSON string as `serde_json` writes it (compact, UTF-8,
/// with `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f` and `\u00XX` escapes).
pub fn json_cost(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{08}' | '\u{0c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The cost of a whole string.
pub fn cost_of(s: &str, cost: fn(char) -> usize) -> usize {
    s.chars().map(cost).sum()
}

/// Cuts `s` to at most `budget` (by `cost`) at a character boundary, adding `…` when it cut.
pub fn truncate(s: &str, budget: usize, cost: fn(char) -> usize) -> String {
    if cost_of(s, cost) <= budget {
        return s.to_string();
    }
    let ell = cost('…');
    let mut used = 0;
    let mut out = String::new();
    for c in s.chars() {
        let n = cost(c);
        if used + n + ell > budget {
            break;
        }
        used += n;
        out.push(c);
    }
    if used + ell <= budget {
        out.push('…');
    }
    out
}

/// Splits `text` into pieces of at most `budget` each (by `cost`). The pieces concatenate back to
/// `text`. A budget smaller than one character still makes progress (one character per piece).
pub fn split(text: &str, budget: usize, cost: fn(char) -> usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut used = 0;
    // The end (byte offset) of the last line break inside the current piece.
    let mut last_break: Option<usize> = None;
    let mut iter = text.char_indices().peekable();
    while let Some(&(i, c)) = iter.peek() {
        let n = cost(c);
        if used + n > budget && i > start {
            let cut = match last_break {
                Some(b) if b > start => b,
                _ => i,
            };
            pieces.push(&text[start..cut]);
            // Re-count what is carried over into the next piece.
            used = cost_of(&text[cut..i], cost);
            start = cut;
            last_break = None;
            continue;
        }
        used += n;
        iter.next();
        if c == '\n' {
            last_break = Some(i + 1);
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn prefers_line_breaks() {
        let text = "第一行\n第二行\n第三行";
        let p = split(text, 20, utf8_cost);
        assert_eq!(p, ["第一行\n第二行\n", "第三行"]);
    }

    #[test]
    fn cuts_long_lines_at_char_boundaries() {
        let text = "舆情".repeat(10); // 60 bytes
        let p = split(&text, 10, utf8_cost);
        assert!(p.iter().all(|s| s.len() <= 10 && s.len() % 3 == 0), "{p:?}");
        assert_eq!(p.concat(), text);
    }

    #[test]
    fn json_cost_matches_serde_json() {
        let s = "引号\"反斜杠\\换行\n制表\t响铃\u{7}😀";
        let encoded = serde_json::to_string(s).unwrap();
        assert_eq!(cost_of(s, json_cost), encoded.len() - 2);
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("短", 10, utf8_cost), "短");
        let t = truncate("一二三四五六", 10, utf8_cost);
        assert_eq!(t, "一二…");
        assert!(t.len() <= 10);
    }

    proptest! {
        #[test]
        fn pieces_fit_and_concatenate(text in "(\\PC|\n|\"){0,300}", budget in 4usize..200) {
            let pieces = split(&text, budget, utf8_cost);
            prop_assert_eq!(pieces.concat(), text.clone());
            for p in &pieces {
                prop_assert!(p.len() <= budget, "{} > {}", p.len(), budget);
                prop_assert!(!p.is_empty());
            }
            let pieces = split(&text, budget.max(6), json_cost);
            prop_assert_eq!(pieces.concat(), text.clone());
            for p in &pieces {
                prop_assert!(cost_of(p, json_cost) <= budget.max(6));
            }
        }
    }
}
