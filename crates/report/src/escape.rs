//! Escaping of untrusted text. Posts, handles, titles, feedback and links come from outside and
//! reach reports verbatim; every renderer passes every string through these functions.

/// True for characters XML 1.0 (and so XHTML and SVG) does not allow in a document.
fn forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// Escapes text for HTML and XML text nodes and double- or single-quoted attribute values:
/// `& < > " '` (and carriage returns) become character references, and characters no XML
/// document may hold become U+FFFD.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // A reference keeps a carriage return as it is (XML parsers fold a literal one into
            // a line feed).
            '\r' => out.push_str("&#13;"),
            c if forbidden(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for inline Markdown (a paragraph, a table cell, a list item): markup characters
/// are backslash-escaped so that nothing in the text becomes a link, an image, emphasis, a
/// table border or raw HTML, and line breaks become spaces.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut last_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '!' | '(' | ')'
            | '{' | '}' | '#' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if forbidden(c) || c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a block of text for a Markdown block quote, keeping its line breaks: every line is
/// escaped like [`md`] and starts with `> `; a line that would start a list or heading is
/// escaped too.
pub fn md_quote(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let mut e = md(line.trim());
        if e.starts_with(['-', '+', '=']) {
            e.insert(0, '\\');
        } else if let Some(at) = ordered_marker(&e) {
            e.insert(at, '\\');
        }
        out.push_str("> ");
        out.push_str(&e);
        out.push_str("  \n");
    }
    if out.is_empty() {
        out.push_str(">\n");
    }
    out
}

/// Where the `.` or `)` of a line-leading ordered-list marker (`12.`) is.
fn ordered_marker(s: &str) -> Option<usize> {
    let digits = s.chars().take_while(char::is_ascii_digit).count();
    (digits > 0 && matches!(s[digits..].chars().next(), Some('.' | ')'))).then_some(digits)
}

/// The URL if it is safe to link: `http` or `https`, no whitespace, quotes, angle brackets,
/// backslashes or control characters. Anything else (`javascript:`, `data:`, relative paths) is
/// shown as text, never as a link.
pub fn safe_url(u: &str) -> Option<&str> {
    let t = u.trim();
    let lower = t.get(..8).unwrap_or(t).to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    let chars_ok = !t.chars().any(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '\\' | '`')
    });
    (scheme_ok && chars_ok && t.len() > 8 && t.len() <= 4000).then_some(t)
}

/// The first `n` characters of a text with whitespace collapsed, and `…` when cut.
pub fn gist(s: &str, n: usize) -> String {
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = collapsed.chars().take(n).collect();
    if collapsed.chars().count() > n {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html(r#"<script>alert(1)</script>"><img onerror='x'>&"#),
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img onerror=&#39;x&#39;&gt;&amp;"
        );
        assert_eq!(html("a\u{0}b\u{1b}c\td\n"), "a\u{fffd}b\u{fffd}c\td\n");
        assert_eq!(html("桐庐"), "桐庐");
    }

    #[test]
    fn markdown_escapes_links_images_html_and_tables() {
        let e = md("![x](javascript:alert(1)) <b>|a|</b> *b* _c_\n#d");
        assert!(
            !e.contains("](") && !e.replace("\\<", "").contains('<'),
            "{e}"
        );
        assert_eq!(
            e,
            r"\!\[x\]\(javascript:alert\(1\)\) \<b\>\|a\|\</b\> \*b\* \_c\_ \#d"
        );
        assert_eq!(md("a \n\n b"), "a b");
    }

    #[test]
    fn quotes_keep_lines_and_escape_list_starts() {
        assert_eq!(
            md_quote("- 一\n2. 二\n三"),
            "> \\- 一  \n> 2\\. 二  \n> 三  \n"
        );
        assert_eq!(md_quote(""), ">\n");
    }

    #[test]
    fn only_http_links_are_safe() {
        assert_eq!(
            safe_url("https://a.example/x?y=1"),
            Some("https://a.example/x?y=1")
        );
        assert_eq!(safe_url(" HTTP://a.example "), Some("HTTP://a.example"));
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,x",
            "/relative",
            "https://a.example/\"onmouseover=x",
            "https://a example",
            "http://",
        ] {
            assert_eq!(safe_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn gist_cuts_on_characters() {
        assert_eq!(gist("早上接的自来水\n是黄的", 5), "早上接的自…");
        assert_eq!(gist("短", 5), "短");
    }
}
