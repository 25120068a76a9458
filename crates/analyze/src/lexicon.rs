//! Parsers of the line-based resource files: sensitivity topics, negation, sentiment, taxonomy,
//! category terms, emoji, the character map and the stop words. Every error names its file and line.

use std::collections::{HashMap, HashSet};

use crate::resources::{parse_weight, section, Source};
use crate::AnalyzeError;

/// A weighted term and the line that defined it.
#[derive(Debug, Clone)]
pub struct Term {
    /// The term as written.
    pub text: String,
    /// Its weight.
    pub weight: f64,
    /// The 1-based line.
    pub line: usize,
}

/// A sensitivity topic and its terms.
#[derive(Debug, Clone)]
pub struct Topic {
    /// The topic name (安全事故).
    pub name: String,
    /// Its terms.
    pub terms: Vec<Term>,
}

/// `sensitivity.txt`.
pub fn parse_sensitivity(src: &Source) -> Result<Vec<Topic>, AnalyzeError> {
    let mut topics: Vec<Topic> = Vec::new();
    for (line, l) in src.lines() {
        if let Some(name) = section(l) {
            if name.is_empty() {
                return Err(src.error(line, "empty topic name"));
            }
            if topics.iter().any(|t| t.name == name) {
                return Err(src.error(line, format!("topic [{name}] is defined twice")));
            }
            topics.push(Topic {
                name: name.to_string(),
                terms: Vec::new(),
            });
            continue;
        }
        let topic = topics
            .last_mut()
            .ok_or_else(|| src.error(line, "a term before the first [topic] header"))?;
        let mut parts = l.split_whitespace();
        let term = parts.next().unwrap_or_default();
        let w = parts.next().ok_or_else(|| {
            src.error(
                line,
                format!("`{term}` has no weight (expected `term weight`)"),
            )
        })?;
        if parts.next().is_some() {
            return Err(src.error(line, "expected `term weight`"));
        }
        let weight = parse_weight(src, line, w, 0.0, 1.0)?;
        topic.terms.push(Term {
            text: term.to_string(),
            weight,
            line,
        });
    }
    if topics.is_empty() {
        return Err(src.error(1, "no topics defined"));
    }
    Ok(topics)
}

/// `negation.txt` and `stopwords.txt`: one word per line.
pub fn parse_word_list(src: &Source) -> Result<Vec<(String, usize)>, AnalyzeError> {
    let mut out = Vec::new();
    for (line, l) in src.lines() {
        if l.split_whitespace().count() != 1 {
            return Err(src.error(line, "expected one word per line"));
        }
        out.push((l.to_string(), line));
    }
    Ok(out)
}

/// `sentiment.txt`.
#[derive(Debug, Clone, Default)]
pub struct SentimentLexicon {
    /// Signed strengths (positive > 0, negative < 0).
    pub polar: Vec<Term>,
    /// Intensifiers and their factors.
    pub intensifiers: Vec<Term>,
}

/// Parses `sentiment.txt`.
pub fn parse_sentiment(src: &Source) -> Result<SentimentLexicon, AnalyzeError> {
    let mut lex = SentimentLexicon::default();
    let mut sect: Option<&str> = None;
    for (line, l) in src.lines() {
        if let Some(name) = section(l) {
            match name {
                "positive" | "negative" | "intensifier" => sect = Some(name),
                other => {
                    return Err(src.error(
                        line,
                        format!(
                        "unknown section [{other}] (expected positive, negative or intensifier)"
                    ),
                    ))
                }
            }
            continue;
        }
        let Some(s) = sect else {
            return Err(src.error(line, "a term before the first section header"));
        };
        let mut parts = l.split_whitespace();
        let term = parts.next().unwrap_or_default();
        let w = parts
            .next()
            .ok_or_else(|| src.error(line, format!("`{term}` has no strength")))?;
        let (lo, hi) = if s == "intensifier" {
            (0.1, 5.0)
        } else {
            (0.0, 5.0)
        };
        let w = parse_weight(src, line, w, lo, hi)?;
        let t = Term {
            text: term.to_string(),
            weight: if s == "negative" { -w } else { w },
            line,
        };
        if s == "intensifier" {
            lex.intensifiers.push(t);
        } else {
            lex.polar.push(t);
        }
    }
    Ok(lex)
}

/// A first-level category with its second and third levels.
#[derive(Debug, Clone)]
pub struct Category {
    /// First-level name.
    pub name: String,
    /// Second-level names with their third levels.
    pub subs: Vec<(String, Vec<String>)>,
}

/// Parses `taxonomy.txt`.
pub fn parse_taxonomy(src: &Source) -> Result<Vec<Category>, AnalyzeError> {
    let mut cats: Vec<Category> = Vec::new();
    for (line, l) in src.lines() {
        if let Some(name) = section(l) {
            if name.is_empty() || cats.iter().any(|c| c.name == name) {
                return Err(src.error(line, format!("category [{name}] is empty or defined twice")));
            }
            cats.push(Category {
                name: name.to_string(),
                subs: Vec::new(),
            });
            continue;
        }
        let cat = cats
            .last_mut()
            .ok_or_else(|| src.error(line, "a line before the first [category] header"))?;
        let (second, thirds) = l
            .split_once([':', '：'])
            .ok_or_else(|| src.error(line, "expected `二级: 三级 | 三级 | …`"))?;
        let second = second.trim();
        if second.is_empty() {
            return Err(src.error(line, "empty second-level name"));
        }
        let thirds: Vec<String> = thirds
            .split('|')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        cat.subs.push((second.to_string(), thirds));
    }
    if cats.is_empty() {
        return Err(src.error(1, "no categories defined"));
    }
    Ok(cats)
}

/// A category term: `term weight [二级/三级]`.
#[derive(Debug, Clone)]
pub struct CategoryTerm {
    /// Index of the first-level category in the taxonomy.
    pub category: usize,
    /// The term.
    pub term: Term,
    /// `二级` or `二级/三级`, checked against the taxonomy.
    pub sub: Option<String>,
}

/// Parses `category_terms.txt` against the taxonomy.
pub fn parse_category_terms(
    src: &Source,
    taxonomy: &[Category],
) -> Result<Vec<CategoryTerm>, AnalyzeError> {
    let mut out = Vec::new();
    let mut current: Option<usize> = None;
    for (line, l) in src.lines() {
        if let Some(name) = section(l) {
            let idx = taxonomy
                .iter()
                .position(|c| c.name == name)
                .ok_or_else(|| {
                    src.error(
                        line,
                        format!("[{name}] is not a first-level category of taxonomy.txt"),
                    )
                })?;
            current = Some(idx);
            continue;
        }
        let cat =
            current.ok_or_else(|| src.error(line, "a term before the first [category] header"))?;
        let parts: Vec<&str> = l.split_whitespace().collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(src.error(line, "expected `term weight [二级/三级]`"));
        }
        let weight = parse_weight(src, line, parts[1], 0.0, 10.0)?;
        let sub = parts.get(2).map(|s| s.to_string());
        if let Some(s) = &sub {
            let (second, third) = match s.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (s.as_str(), None),
            };
            let ok = taxonomy[cat].subs.iter().any(|(sec, thirds)| {
                sec == second && third.is_none_or(|t| thirds.iter().any(|x| x == t))
            });
            if !ok {
                return Err(src.error(
                    line,
                    format!(
                        "`{s}` is not a subcategory of {} in taxonomy.txt",
                        taxonomy[cat].name
                    ),
                ));
            }
        }
        out.push(CategoryTerm {
            category: cat,
            term: Term {
                text: parts[0].to_string(),
                weight,
                line,
            },
            sub,
        });
    }
    Ok(out)
}

/// Parses `emoji.tsv`: emoji, alt text (multi-codepoint emoji are keyed by their first code point).
pub fn parse_emoji(src: &Source) -> Result<Vec<(char, String)>, AnalyzeError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (line, l) in src.lines() {
        let (e, alt) = l
            .split_once('\t')
            .ok_or_else(|| src.error(line, "expected `emoji<TAB>alt text`"))?;
        let c = e
            .trim()
            .chars()
            .next()
            .ok_or_else(|| src.error(line, "empty emoji"))?;
        if seen.insert(c) {
            out.push((c, alt.trim().to_string()));
        }
    }
    Ok(out)
}

/// Parses `t2s.tsv`: traditional, simplified (single characters).
pub fn parse_t2s(src: &Source) -> Result<Vec<(char, char)>, AnalyzeError> {
    let mut out = Vec::with_capacity(4200);
    for (line, l) in src.lines() {
        let mut parts = l.split('\t');
        let (Some(t), Some(s), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(src.error(line, "expected `traditional<TAB>simplified`"));
        };
        let mut tc = t.chars();
        let mut sc = s.chars();
        match (tc.next(), tc.next(), sc.next(), sc.next()) {
            (Some(t), None, Some(s), None) => out.push((t, s)),
            _ => return Err(src.error(line, "each side must be one character")),
        }
    }
    Ok(out)
}

/// A user dictionary entry: word, frequency, part-of-speech tag.
pub type UserWord = (String, Option<usize>, Option<String>);

/// Parses `userdict.txt`: `word [freq] [tag]`.
pub fn parse_userdict(src: &Source) -> Result<Vec<UserWord>, AnalyzeError> {
    let mut out = Vec::new();
    for (line, l) in src.lines() {
        let parts: Vec<&str> = l.split_whitespace().collect();
        if parts.len() > 3 {
            return Err(src.error(line, "expected `word [frequency] [tag]`"));
        }
        let freq = match parts.get(1) {
            Some(f) => Some(
                f.parse::<usize>()
                    .map_err(|_| src.error(line, format!("`{f}` is not a frequency")))?,
            ),
            None => None,
        };
        out.push((
            parts[0].to_string(),
            freq,
            parts.get(2).map(|s| s.to_string()),
        ));
    }
    Ok(out)
}

/// Term texts that occur twice in one list, for warnings.
pub fn duplicates<'a>(terms: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for t in terms {
        *seen.entry(t).or_default() += 1;
    }
    let mut d: Vec<&str> = seen
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(t, _)| t)
        .collect();
    d.sort_unstable();
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::path::PathBuf;

    fn src(name: &'static str, text: &'static str) -> Source {
        Source {
            name,
            path: PathBuf::from(name),
            text: Cow::Borrowed(text),
        }
    }

    #[test]
    fn sensitivity_errors_name_the_line() {
        let e =
            parse_sensitivity(&src("s.txt", "# c\n[安全事故]\n爆炸 0.5\n火灾 x\n")).unwrap_err();
        assert_eq!(e.to_string(), "s.txt:4: `x` is not a number");
        let e = parse_sensitivity(&src("s.txt", "爆炸 0.5\n")).unwrap_err();
        assert!(e.to_string().starts_with("s.txt:1:"), "{e}");
        let e = parse_sensitivity(&src("s.txt", "[a]\n爆炸 1.5\n")).unwrap_err();
        assert!(e.to_string().contains("outside"), "{e}");
        let ok = parse_sensitivity(&src("s.txt", "[a]\n爆炸 0.5\n[b]\n洪水 0.4\n")).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].terms[0].weight, 0.4);
    }

    #[test]
    fn sentiment_signs() {
        let lex = parse_sentiment(&src(
            "x",
            "[positive]\n满意 1.5\n[negative]\n愤怒 2\n[intensifier]\n非常 1.8\n",
        ))
        .unwrap();
        assert_eq!(lex.polar.len(), 2);
        assert!(lex.polar[1].weight < 0.0);
        assert_eq!(lex.intensifiers[0].weight, 1.8);
        assert!(parse_sentiment(&src("x", "[neutral]\n")).is_err());
    }

    #[test]
    fn category_terms_are_checked_against_the_taxonomy() {
        let tax = parse_taxonomy(&src("t", "[城乡建设]\n安全生产: 事故处理 | 安全隐患\n")).unwrap();
        assert_eq!(tax[0].subs[0].1, vec!["事故处理", "安全隐患"]);
        let ok = parse_category_terms(&src("c", "[城乡建设]\n爆炸 2 安全生产/事故处理\n"), &tax)
            .unwrap();
        assert_eq!(ok[0].sub.as_deref(), Some("安全生产/事故处理"));
        let e = parse_category_terms(&src("c", "[城乡建设]\n爆炸 2 安全生产/不存在\n"), &tax)
            .unwrap_err();
        assert!(e.to_string().starts_with("c:2:"), "{e}");
        let e = parse_category_terms(&src("c", "[教育]\n学校 2\n"), &tax).unwrap_err();
        assert!(e.to_string().contains("not a first-level"), "{e}");
    }

    #[test]
    fn t2s_and_emoji() {
        assert_eq!(
            parse_t2s(&src("t", "國\t国\n")).unwrap(),
            vec![('國', '国')]
        );
        assert!(parse_t2s(&src("t", "國國\t国\n")).is_err());
        assert_eq!(parse_emoji(&src("e", "😡\t[怒]\n")).unwrap()[0].1, "[怒]");
        assert_eq!(duplicates(["a", "b", "a"]), vec!["a"]);
    }
}
