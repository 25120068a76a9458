//! Text from templates and slot fillers.
//!
//! A template is plain text with two kinds of holes:
//!
//! - `{slot}` takes a filler of the slot (fillers may hold slots, up to four levels deep): first from the variables the caller passes (`county`,
//!   `time` …), then from the incident's own slots, then from the lexicon. One slot name keeps one
//!   value within a text (so `{company}` said twice names the same company). `{n:3-40}` is a number
//!   in the range.
//! - `[a|b|c]` takes one of the alternatives (which may hold slots).
//!
//! A hole that cannot be filled is left as written, so a missing filler shows in the output (and
//! the bundled-templates test fails) instead of vanishing.
//!
//! Templates for sites with titles are written `标题||正文`; [`split_title`] separates them.

use std::collections::BTreeMap;

use rand::Rng;

/// Where slot fillers come from.
#[derive(Debug, Clone, Copy)]
pub struct Fillers<'a> {
    /// Per-text variables (highest priority).
    pub vars: &'a [(&'a str, &'a str)],
    /// The incident's slots.
    pub local: Option<&'a BTreeMap<String, Vec<String>>>,
    /// The lexicon.
    pub lexicon: &'a BTreeMap<String, Vec<String>>,
}

impl Fillers<'_> {
    fn pick<R: Rng + ?Sized>(&self, name: &str, rng: &mut R) -> Option<String> {
        if let Some((_, v)) = self.vars.iter().find(|(k, _)| *k == name) {
            return Some((*v).to_string());
        }
        if let Some((lo, hi)) = name.strip_prefix("n:").and_then(|r| r.split_once('-')) {
            let lo: i64 = lo.trim().parse().ok()?;
            let hi: i64 = hi.trim().parse().ok()?;
            if lo > hi {
                return None;
            }
            return Some(rng.gen_range(lo..=hi).to_string());
        }
        let list = self.list(name)?;
        if list.is_empty() {
            return None;
        }
        Some(list[rng.gen_range(0..list.len())].clone())
    }

    /// The fillers of `name`; `food2` falls back to `food` (a second, independent draw).
    fn list(&self, name: &str) -> Option<&Vec<String>> {
        let find = |n: &str| {
            self.local
                .and_then(|l| l.get(n))
                .or_else(|| self.lexicon.get(n))
        };
        find(name).or_else(|| {
            let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
            (base.len() < name.len() && !base.is_empty())
                .then(|| find(base))
                .flatten()
        })
    }

    /// True when `name` can be filled.
    pub fn knows(&self, name: &str) -> bool {
        self.vars.iter().any(|(k, _)| *k == name)
            || name.starts_with("n:")
            || self.list(name).is_some()
    }
}

/// Renders `template` with `fillers`, drawing choices from `rng`.
pub fn render<R: Rng + ?Sized>(template: &str, fillers: &Fillers<'_>, rng: &mut R) -> String {
    let mut chosen: Vec<(String, String)> = Vec::new();
    let first = expand_alternatives(template, rng);
    // Fillers may themselves contain slots: fill until nothing changes (at most 4 levels).
    let mut out = fill_slots(&first, fillers, rng, &mut chosen);
    for _ in 0..3 {
        if !out.contains('{') {
            break;
        }
        let next = fill_slots(&out, fillers, rng, &mut chosen);
        if next == out {
            break;
        }
        out = next;
    }
    out
}

fn expand_alternatives<R: Rng + ?Sized>(s: &str, rng: &mut R) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let Some(close_rel) = rest[open..].find(']') else {
            break;
        };
        let inner = &rest[open + 1..open + close_rel];
        out.push_str(&rest[..open]);
        if inner.contains('|') {
            let opts: Vec<&str> = inner.split('|').collect();
            out.push_str(opts[rng.gen_range(0..opts.len())]);
        } else {
            // A plain bracket (for example a Weibo emoji `[怒]`) is kept.
            out.push('[');
            out.push_str(inner);
            out.push(']');
        }
        rest = &rest[open + close_rel + 1..];
    }
    out.push_str(rest);
    out
}

fn fill_slots<R: Rng + ?Sized>(
    s: &str,
    fillers: &Fillers<'_>,
    rng: &mut R,
    chosen: &mut Vec<(String, String)>,
) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let Some(close_rel) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close_rel];
        out.push_str(&rest[..open]);
        let sticky = !name.starts_with("n:");
        let known = if sticky {
            chosen
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        } else {
            None
        };
        match known.or_else(|| fillers.pick(name, rng)) {
            Some(v) => {
                let v = expand_alternatives(&v, rng);
                if sticky && !chosen.iter().any(|(k, _)| k == name) {
                    chosen.push((name.to_string(), v.clone()));
                }
                out.push_str(&v);
            }
            None => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &rest[open + close_rel + 1..];
    }
    out.push_str(rest);
    out
}

/// Splits `标题||正文` into its title and body; a template without `||` has no title.
pub fn split_title(s: &str) -> (Option<&str>, &str) {
    match s.split_once("||") {
        Some((t, b)) => (Some(t.trim()), b.trim()),
        None => (None, s.trim()),
    }
}

/// The slot names a template refers to (for validation).
pub fn slots_of(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close_rel) = rest[open..].find('}') else {
            break;
        };
        out.push(&rest[open + 1..open + close_rel]);
        rest = &rest[open + close_rel + 1..];
    }
    out
}

/// Escapes text for HTML and XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A short plain-text summary: the first `n` characters.
pub fn truncate_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn lex() -> BTreeMap<String, Vec<String>> {
        let mut m = BTreeMap::new();
        m.insert(
            "food".to_string(),
            vec!["米粉".to_string(), "腊肉".to_string()],
        );
        m.insert("dish".to_string(), vec!["{food}炒饭".to_string()]);
        m
    }

    #[test]
    fn fills_slots_alternatives_and_numbers() {
        let lex = lex();
        let vars = [("county", "万载县")];
        let f = Fillers {
            vars: &vars,
            local: None,
            lexicon: &lex,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..20 {
            let s = render(
                "{county}[的|里的]{food}，又是{food}，{n:3-5}块[怒]",
                &f,
                &mut rng,
            );
            assert!(s.starts_with("万载县"), "{s}");
            assert!(
                s.contains("米粉，又是米粉") || s.contains("腊肉，又是腊肉"),
                "{s}"
            );
            assert!(s.ends_with("块[怒]"), "{s}");
            assert!(!s.contains('{') && !s.contains('|'), "{s}");
        }
        let two = render("{food}/{food2}", &f, &mut rng);
        assert!(!two.contains('{'), "{two}");
        let nested = render("{dish}", &f, &mut rng);
        assert!(
            nested.ends_with("炒饭") && !nested.contains('{'),
            "{nested}"
        );
        assert_eq!(render("{nope}", &f, &mut rng), "{nope}");
        assert!(f.knows("food") && f.knows("county") && !f.knows("nope"));
    }

    #[test]
    fn splits_titles_and_escapes() {
        assert_eq!(split_title("题目||正文"), (Some("题目"), "正文"));
        assert_eq!(split_title("只有正文"), (None, "只有正文"));
        assert_eq!(
            escape("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(slots_of("{a}x{n:1-2}"), vec!["a", "n:1-2"]);
    }

    proptest::proptest! {
        #[test]
        fn rendering_never_panics(s in ".{0,80}") {
            let lex = lex();
            let f = Fillers { vars: &[], local: None, lexicon: &lex };
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let _ = render(&s, &f, &mut rng);
            let _ = split_title(&s);
        }
    }
}
