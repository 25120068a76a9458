//! Text normalisation: markup to text, Traditional to Simplified, full-width to half-width, emoji to
//! their alt text, URLs and @mentions kept apart from the words, and a count of scripts for language
//! detection.
//!
//! One pass over the characters, appending to a caller-owned [`Normalized`], so the hot path
//! allocates only the output string. Every lexicon term goes through the same function when it is
//! loaded, so terms and text always meet in the same form.

use std::collections::HashMap;

/// The result of normalising a title and a text.
#[derive(Debug, Default, Clone)]
pub struct Normalized {
    /// The normalised text: the title (if any), a newline, then the body.
    pub text: String,
    /// Byte length of the title part (including its separator); 0 without a title.
    pub title_len: usize,
    /// Links found in the text, in order.
    pub urls: Vec<String>,
    /// @mentions found in the text (without the `@`).
    pub mentions: Vec<String>,
    /// `#话题#` hashtags (the words stay in the text as well).
    pub hashtags: Vec<String>,
    /// Han characters seen.
    pub han: usize,
    /// Latin, Cyrillic, Arabic, Thai, Hangul and Kana letters seen.
    pub other_letters: usize,
    /// Emoji seen (Unicode or `[alt]` from markup).
    pub emoji: usize,
}

/// The language of a text, from the scripts of its letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Mostly Chinese.
    Chinese,
    /// Chinese mixed with another script (at least a third of the letters are not Han).
    Mixed,
    /// No Chinese at all: the Chinese lexicons do not apply.
    Other,
    /// No letters (numbers, emoji, punctuation only).
    Unknown,
}

impl Language {
    /// A short code: `zh`, `mixed`, `other`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Chinese => "zh",
            Language::Mixed => "mixed",
            Language::Other => "other",
            Language::Unknown => "unknown",
        }
    }
}

impl Normalized {
    /// Clears for reuse, keeping the allocations.
    pub fn clear(&mut self) {
        self.text.clear();
        self.title_len = 0;
        self.urls.clear();
        self.mentions.clear();
        self.hashtags.clear();
        self.han = 0;
        self.other_letters = 0;
        self.emoji = 0;
    }

    /// The language, from the counts of scripts.
    pub fn language(&self) -> Language {
        let total = self.han + self.other_letters;
        if total == 0 {
            Language::Unknown
        } else if self.han == 0 {
            Language::Other
        } else if self.other_letters * 3 >= total * 2 {
            // Chinese under a third of the letters (an English post with a Chinese name).
            Language::Other
        } else if self.other_letters * 3 >= total {
            Language::Mixed
        } else {
            Language::Chinese
        }
    }

    /// The title part.
    pub fn title(&self) -> &str {
        &self.text[..self.title_len]
    }

    /// The body part.
    pub fn body(&self) -> &str {
        &self.text[self.title_len..]
    }
}

const DENSE_START: u32 = 0x3400;
const DENSE_END: u32 = 0xA000;

/// The normaliser: a Traditional→Simplified character table and an emoji table.
#[derive(Debug, Clone)]
pub struct Normalizer {
    /// Simplified form for U+3400..U+9FFF (0 = unchanged).
    dense: Vec<u32>,
    /// Simplified form for other code points.
    sparse: HashMap<char, char>,
    /// Emoji → alt text.
    emoji: HashMap<char, Box<str>>,
}

impl Default for Normalizer {
    fn default() -> Self {
        Normalizer {
            dense: vec![0; (DENSE_END - DENSE_START) as usize],
            sparse: HashMap::new(),
            emoji: HashMap::new(),
        }
    }
}

impl Normalizer {
    /// A normaliser with the given character map (traditional, simplified) and emoji map.
    pub fn new(
        t2s: impl IntoIterator<Item = (char, char)>,
        emoji: impl IntoIterator<Item = (char, String)>,
    ) -> Normalizer {
        let mut n = Normalizer::default();
        for (t, s) in t2s {
            let c = t as u32;
            if (DENSE_START..DENSE_END).contains(&c) {
                n.dense[(c - DENSE_START) as usize] = s as u32;
            } else {
                n.sparse.insert(t, s);
            }
        }
        for (e, alt) in emoji {
            n.emoji.insert(e, alt.into_boxed_str());
        }
        n
    }

    /// Number of Traditional characters known.
    pub fn t2s_len(&self) -> usize {
        self.dense.iter().filter(|&&c| c != 0).count() + self.sparse.len()
    }

    /// Normalises one string into a new `String` (for lexicon terms and tests).
    pub fn normalize_str(&self, s: &str) -> String {
        let mut out = Normalized::default();
        self.push(s, &mut out);
        let t = out.text.trim();
        t.to_string()
    }

    /// Normalises a title and a body into `out` (which is cleared first).
    pub fn normalize(&self, title: Option<&str>, body: &str, out: &mut Normalized) {
        out.clear();
        if let Some(t) = title.filter(|t| !t.trim().is_empty()) {
            self.push(t, out);
            out.text.push('\n');
            out.title_len = out.text.len();
        }
        self.push(body, out);
    }

    /// Simplified form of one character (after full-width folding).
    #[inline]
    pub fn fold_char(&self, c: char) -> char {
        let u = c as u32;
        if (DENSE_START..DENSE_END).contains(&u) {
            let s = self.dense[(u - DENSE_START) as usize];
            if s != 0 {
                return char::from_u32(s).unwrap_or(c);
            }
            return c;
        }
        if (0xFF01..=0xFF5E).contains(&u) {
            let h = char::from_u32(u - 0xFEE0).unwrap_or(c);
            return h.to_ascii_lowercase();
        }
        if u == 0x3000 {
            return ' ';
        }
        if c.is_ascii_uppercase() {
            return c.to_ascii_lowercase();
        }
        if u < 0x80 {
            return c;
        }
        match self.sparse.get(&c) {
            Some(&s) => s,
            None => c,
        }
    }

    /// Appends the normalised form of `s`.
    fn push(&self, s: &str, out: &mut Normalized) {
        let has_markup = s.contains('<') || s.contains('&');
        let mut st = State {
            out,
            last_space: true,
        };
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < s.len() {
            let b = bytes[i];
            if b >= 0x80 {
                // Non-ASCII: only the full-width ＠ is special.
                let Some(c) = s[i..].chars().next() else {
                    break;
                };
                if c != '＠' {
                    i += c.len_utf8();
                    self.push_char(c, &mut st);
                    continue;
                }
            } else if !matches!(b, b'<' | b'&' | b'h' | b'H' | b'w' | b'W' | b'@' | b'#') {
                i += 1;
                self.push_char(b as char, &mut st);
                continue;
            }
            if has_markup && b == b'<' {
                if let Some(next) = self.markup(s, i, &mut st) {
                    i = next;
                    continue;
                }
            }
            if has_markup && b == b'&' {
                if let Some((c, next)) = entity(s, i) {
                    self.push_char(c, &mut st);
                    i = next;
                    continue;
                }
            }
            if (b == b'h' || b == b'H' || b == b'w' || b == b'W') && starts_url(&bytes[i..]) {
                let end = url_end(s, i);
                st.out.urls.push(s[i..end].to_string());
                st.space();
                i = end;
                continue;
            }
            if b == b'@' || s[i..].starts_with('＠') {
                let start = i + if b == b'@' { 1 } else { '＠'.len_utf8() };
                let end = mention_end(s, start);
                if end > start {
                    st.out.mentions.push(s[start..end].to_string());
                    st.space();
                    i = end;
                    // A `:` or `：` after a mention belongs to it (Weibo `//@name:`).
                    if s[i..].starts_with(':') {
                        i += 1;
                    } else if s[i..].starts_with('：') {
                        i += '：'.len_utf8();
                    }
                    continue;
                }
            }
            if b == b'#' {
                if let Some(end) = s[i + 1..].find('#') {
                    let tag = &s[i + 1..i + 1 + end];
                    if !tag.is_empty() && tag.chars().count() <= 40 && !tag.contains('\n') {
                        st.out.hashtags.push(self.normalize_tag(tag));
                    }
                }
                st.space();
                i += 1;
                continue;
            }
            let c = match s[i..].chars().next() {
                Some(c) => c,
                None => break,
            };
            i += c.len_utf8();
            self.push_char(c, &mut st);
        }
    }

    fn normalize_tag(&self, tag: &str) -> String {
        tag.chars().map(|c| self.fold_char(c)).collect()
    }

    #[inline]
    fn push_char(&self, c: char, st: &mut State<'_>) {
        let u = c as u32;
        if (0x4E00..=0x9FFF).contains(&u) {
            // The common case: a CJK ideograph, folded through the dense table.
            let f = self.dense[(u - DENSE_START) as usize];
            let f = if f == 0 {
                c
            } else {
                char::from_u32(f).unwrap_or(c)
            };
            st.out.han += 1;
            st.out.text.push(f);
            st.last_space = false;
            return;
        }
        if c.is_whitespace() || c.is_control() {
            st.space();
            return;
        }
        if u == 0xFE0F || u == 0x200D || u == 0xFE0E || (0x1F3FB..=0x1F3FF).contains(&u) {
            // Variation selectors, zero-width joiners, skin tones: parts of an emoji already written.
            return;
        }
        if is_emoji(u) {
            st.out.emoji += 1;
            match self.emoji.get(&c) {
                Some(alt) => st.out.text.push_str(alt),
                None => st.out.text.push_str("[表情]"),
            }
            st.last_space = false;
            return;
        }
        let f = self.fold_char(c);
        if is_han(f) {
            st.out.han += 1;
        } else if f.is_alphabetic() {
            st.out.other_letters += 1;
        }
        st.out.text.push(f);
        st.last_space = false;
    }

    /// Handles a tag starting at `i`; returns the index after it, or None when `<` is literal.
    fn markup(&self, s: &str, i: usize, st: &mut State<'_>) -> Option<usize> {
        let rest = &s[i + 1..];
        let first = rest.chars().next()?;
        if !(first.is_ascii_alphabetic() || first == '/' || first == '!') {
            return None;
        }
        let close = rest.find('>')?;
        let tag = &rest[..close];
        let next = i + 1 + close + 1;
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match name.as_str() {
            "img" => {
                if let Some(alt) = attr(tag, "alt") {
                    let alt = decode_entities(alt);
                    if !alt.is_empty() {
                        if alt.starts_with('[') {
                            st.out.emoji += 1;
                        }
                        for c in alt.chars() {
                            self.push_char(c, st);
                        }
                    }
                }
                Some(next)
            }
            "script" | "style" if !tag.starts_with('/') => {
                let lower = s[next..].to_ascii_lowercase();
                let end_tag = format!("</{name}");
                match lower.find(&end_tag) {
                    Some(p) => {
                        let after = next + p;
                        let gt = s[after..]
                            .find('>')
                            .map(|g| after + g + 1)
                            .unwrap_or(s.len());
                        st.space();
                        Some(gt)
                    }
                    None => Some(s.len()),
                }
            }
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "blockquote" => {
                st.space();
                Some(next)
            }
            _ => Some(next),
        }
    }
}

struct State<'a> {
    out: &'a mut Normalized,
    last_space: bool,
}

impl State<'_> {
    #[inline]
    fn space(&mut self) {
        if !self.last_space {
            self.out.text.push(' ');
            self.last_space = true;
        }
    }
}

/// True for CJK ideographs (the Han script).
#[inline]
pub fn is_han(c: char) -> bool {
    let u = c as u32;
    (0x4E00..=0x9FFF).contains(&u)
        || (0x3400..=0x4DBF).contains(&u)
        || (0x20000..=0x2FA1F).contains(&u)
        || (0xF900..=0xFAFF).contains(&u)
}

#[inline]
fn is_emoji(u: u32) -> bool {
    (0x1F300..=0x1FAFF).contains(&u)
        || (0x2600..=0x27BF).contains(&u)
        || (0x1F000..=0x1F2FF).contains(&u)
        || u == 0x2B50
        || u == 0x2B55
}

fn starts_url(b: &[u8]) -> bool {
    let lower = |n: usize| -> Option<Vec<u8>> {
        b.get(..n)
            .map(|s| s.iter().map(|c| c.to_ascii_lowercase()).collect())
    };
    matches!(lower(7).as_deref(), Some(b"http://"))
        || matches!(lower(8).as_deref(), Some(b"https://"))
        || matches!(lower(4).as_deref(), Some(b"www."))
}

fn url_end(s: &str, start: usize) -> usize {
    for (off, c) in s[start..].char_indices() {
        if c.is_whitespace() || !c.is_ascii() || c == '"' || c == '<' || c == '>' {
            return start + off;
        }
    }
    s.len()
}

fn mention_end(s: &str, start: usize) -> usize {
    for (n, (off, c)) in s[start..].char_indices().enumerate() {
        let ok = c.is_alphanumeric() || c == '_' || c == '-' || c == '·';
        if !ok || n >= 30 {
            return start + off;
        }
    }
    s.len()
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(p) = lower[from..].find(name) {
        let at = from + p;
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[at + name.len()..].trim_start();
        if before_ok && rest.starts_with('=') {
            let eq = at + name.len() + (lower[at + name.len()..].len() - rest.len());
            let val = tag[eq + 1..].trim_start();
            let (quote, body) = match val.chars().next() {
                Some(q @ ('"' | '\'')) => (Some(q), &val[1..]),
                _ => (None, val),
            };
            let end = match quote {
                Some(q) => body.find(q).unwrap_or(body.len()),
                None => body
                    .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
                    .unwrap_or(body.len()),
            };
            return Some(&body[..end]);
        }
        from = at + name.len();
    }
    None
}

/// Decodes the HTML character reference at `i` (`&amp;`, `&#20013;`, `&#x4e2d;`).
fn entity(s: &str, i: usize) -> Option<(char, usize)> {
    let rest = &s[i + 1..];
    let semi = rest.as_bytes()[..rest.len().min(12)]
        .iter()
        .position(|&b| b == b';')?;
    let name = &rest[..semi];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" | "#39" => '\'',
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "ldquo" => '“',
        "rdquo" => '”',
        "lsquo" => '‘',
        "rsquo" => '’',
        "hellip" => '…',
        "mdash" => '—',
        "middot" => '·',
        _ => {
            let num = name.strip_prefix('#')?;
            let v = if let Some(h) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(h, 16).ok()?
            } else {
                num.parse::<u32>().ok()?
            };
            char::from_u32(v)?
        }
    };
    Some((c, i + 1 + semi + 1))
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s.as_bytes()[i] == b'&' {
            if let Some((c, next)) = entity(s, i) {
                out.push(c);
                i = next;
                continue;
            }
        }
        let c = s[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm() -> Normalizer {
        Normalizer::new(
            [('國', '国'), ('發', '发'), ('電', '电'), ('災', '灾')],
            [('😡', "[怒]".to_string()), ('❤', "[心]".to_string())],
        )
    }

    #[test]
    fn strips_html_and_keeps_emoji_alt_text() {
        let n = norm();
        let mut out = Normalized::default();
        n.normalize(
            None,
            r#"太气人了<span class="url-icon"><img alt="[怒]" src="x.png"></span><br/>第二行&amp;完"#,
            &mut out,
        );
        assert_eq!(out.text, "太气人了[怒] 第二行&完");
        assert_eq!(out.emoji, 1);
    }

    #[test]
    fn skips_scripts_and_styles() {
        let n = norm();
        let t = n.normalize_str("<p>正文</p><script>var a = '<b>';</script><style>p{}</style>尾");
        assert_eq!(t, "正文 尾");
    }

    #[test]
    fn folds_traditional_and_full_width() {
        let n = norm();
        assert_eq!(n.normalize_str("國家發電"), "国家发电");
        assert_eq!(n.normalize_str("ＡＢＣ１２３，　ＯＫ"), "abc123, ok");
    }

    #[test]
    fn unicode_emoji_become_alt_text() {
        let n = norm();
        let mut out = Normalized::default();
        n.normalize(None, "气死了😡😡 爱❤️ 🦄", &mut out);
        assert_eq!(out.text, "气死了[怒][怒] 爱[心] [表情]");
        assert_eq!(out.emoji, 4);
    }

    #[test]
    fn urls_and_mentions_are_kept_apart() {
        let n = norm();
        let mut out = Normalized::default();
        n.normalize(
            None,
            "转发//@人民日报:火灾现场 https://t.cn/abc123 详见www.example.com/x 完 #某地火灾#",
            &mut out,
        );
        assert_eq!(out.mentions, vec!["人民日报"]);
        assert_eq!(out.urls, vec!["https://t.cn/abc123", "www.example.com/x"]);
        assert_eq!(out.hashtags, vec!["某地火灾"]);
        assert!(!out.text.contains("t.cn"));
        assert!(out.text.contains("火灾现场"));
        assert!(out.text.contains("某地火灾"));
    }

    #[test]
    fn title_is_separated() {
        let n = norm();
        let mut out = Normalized::default();
        n.normalize(Some("國電"), "正文", &mut out);
        assert_eq!(out.title(), "国电\n");
        assert_eq!(out.body(), "正文");
    }

    #[test]
    fn detects_language() {
        let n = norm();
        let mut out = Normalized::default();
        n.normalize(
            None,
            "The river is polluted again near the plant.",
            &mut out,
        );
        assert_eq!(out.language(), Language::Other);
        n.normalize(None, "工厂又在偷排污水了", &mut out);
        assert_eq!(out.language(), Language::Chinese);
        n.normalize(None, "12345 !!!", &mut out);
        assert_eq!(out.language(), Language::Unknown);
    }

    #[test]
    fn literal_angle_brackets_survive() {
        let n = norm();
        assert_eq!(n.normalize_str("3 < 5 且 a&b"), "3 < 5 且 a&b");
        assert_eq!(n.normalize_str("&#20013;&#x56FD;"), "中国");
    }
}
