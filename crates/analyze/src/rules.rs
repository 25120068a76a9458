//! Boolean rules (`rules.toml`): must / any / exclude / near / regex, as users of TrendRadar and
//! Talkwalker write them.
//!
//! Terms of rules are matched by the shared automaton in one pass over the text; a rule is evaluated
//! only from those hits (and its regexes, which run only once every term condition holds).

use regex::Regex;
use serde::Deserialize;
use yuqing_core::HandlingClass;

use crate::resources::{line_of, Source};
use crate::AnalyzeError;

/// Marks a rule can set on an item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    /// A rumour that harms public order: 公安 and 网信办 respond as well.
    pub public_order: bool,
    /// A major event: the local government responds first.
    pub major: bool,
}

impl Marks {
    fn set(&mut self, name: &str) -> bool {
        match name {
            "public_order" => self.public_order = true,
            "major" => self.major = true,
            _ => return false,
        }
        true
    }

    /// Adds every mark of `other`.
    pub fn merge(&mut self, other: Marks) {
        self.public_order |= other.public_order;
        self.major |= other.major;
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<toml::Spanned<RuleSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    weight: Option<f64>,
    #[serde(default)]
    must: Vec<String>,
    #[serde(default)]
    any: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    near: Vec<NearSpec>,
    #[serde(default)]
    regex: Vec<toml::Spanned<String>>,
    #[serde(default)]
    handling: Option<String>,
    #[serde(default)]
    marks: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NearSpec {
    terms: Vec<String>,
    within: usize,
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its name.
    pub name: String,
    /// The sensitivity topic it feeds (index into the topics).
    pub topic: Option<usize>,
    /// Its sensitivity weight.
    pub weight: f64,
    must: Vec<u32>,
    any: Vec<u32>,
    exclude: Vec<u32>,
    near: Vec<(Vec<u32>, usize)>,
    regex: Vec<Regex>,
    /// The handling class it votes for.
    pub handling: Option<HandlingClass>,
    /// The marks it sets.
    pub marks: Marks,
    /// The line it starts at.
    pub line: usize,
}

/// The compiled rules and the distinct terms they use.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// The rules, in file order.
    pub rules: Vec<Rule>,
    /// The distinct (normalised) terms; rule conditions refer to them by index.
    pub terms: Vec<String>,
    /// Rules that have neither `must` nor `any` terms (evaluated on every item).
    always: Vec<usize>,
    /// For each term, the rules that mention it.
    by_term: Vec<Vec<usize>>,
}

/// A hit of a rule term in the text (byte offsets).
#[derive(Debug, Clone, Copy)]
pub struct TermHit {
    /// The term id.
    pub term: u32,
    /// Start byte.
    pub start: u32,
    /// End byte.
    pub end: u32,
}

/// A rule that fired and the terms that made it fire.
#[derive(Debug, Clone)]
pub struct Fired {
    /// Index of the rule.
    pub rule: usize,
    /// The matched terms and regex matches, in words.
    pub evidence: String,
}

fn parse_handling(s: &str) -> Option<HandlingClass> {
    match s {
        "询问诉求" => Some(HandlingClass::Inquiry),
        "恶意传播炒作" => Some(HandlingClass::Hype),
        "建设性意见" => Some(HandlingClass::Suggestion),
        _ => None,
    }
}

impl RuleSet {
    /// Parses and compiles `rules.toml`. `topics` are the sensitivity topic names; `norm`
    /// normalises terms the way texts are normalised.
    pub fn parse(
        src: &Source,
        topics: &[String],
        norm: &dyn Fn(&str) -> String,
    ) -> Result<RuleSet, AnalyzeError> {
        let file: RulesFile = toml::from_str(&src.text).map_err(|e| {
            let line = e.span().map(|s| line_of(&src.text, s.start)).unwrap_or(1);
            src.error(line, e.message().trim().to_string())
        })?;
        let mut set = RuleSet::default();
        let mut names = std::collections::HashSet::new();
        for spanned in file.rule {
            let line = line_of(&src.text, spanned.span().start);
            let spec = spanned.into_inner();
            let err = |m: String| src.error(line, format!("rule `{}`: {m}", spec.name));
            if spec.name.trim().is_empty() {
                return Err(src.error(line, "a rule needs a name"));
            }
            if !names.insert(spec.name.clone()) {
                return Err(err("the name is used twice".into()));
            }
            let topic = match &spec.topic {
                Some(t) => Some(topics.iter().position(|x| x == t).ok_or_else(|| {
                    err(format!("topic `{t}` is not a topic of sensitivity.txt"))
                })?),
                None => None,
            };
            let weight = spec.weight.unwrap_or(0.0);
            if !(0.0..=1.0).contains(&weight) || !weight.is_finite() {
                return Err(err(format!("weight {weight} is outside 0..=1")));
            }
            if topic.is_some() && spec.weight.is_none() {
                return Err(err("a rule with a topic needs a weight".into()));
            }
            if topic.is_none() && weight > 0.0 {
                return Err(err("a weight needs a topic".into()));
            }
            let handling = match &spec.handling {
                Some(h) => Some(parse_handling(h).ok_or_else(|| {
                    err(format!(
                        "handling `{h}` is not 询问诉求, 恶意传播炒作 or 建设性意见"
                    ))
                })?),
                None => None,
            };
            let mut marks = Marks::default();
            for m in &spec.marks {
                if !marks.set(m) {
                    return Err(err(format!(
                        "unknown mark `{m}` (expected public_order or major)"
                    )));
                }
            }
            if spec.must.is_empty()
                && spec.any.is_empty()
                && spec.regex.is_empty()
                && spec.near.is_empty()
            {
                return Err(err(
                    "a rule needs at least one of must, any, near or regex".into()
                ));
            }
            let mut ids = |list: &[String]| -> Result<Vec<u32>, AnalyzeError> {
                list.iter()
                    .map(|t| {
                        let n = norm(t);
                        if n.is_empty() {
                            return Err(err(format!("empty term `{t}`")));
                        }
                        Ok(set.term_id(n))
                    })
                    .collect()
            };
            let must = ids(&spec.must)?;
            let any = ids(&spec.any)?;
            let exclude = ids(&spec.exclude)?;
            let mut near = Vec::new();
            for n in &spec.near {
                if n.terms.is_empty() {
                    return Err(err("a near group needs terms".into()));
                }
                if n.within == 0 || n.within > 500 {
                    return Err(err(format!("near.within {} is outside 1..=500", n.within)));
                }
                if must.is_empty() && any.is_empty() && n.terms.len() < 2 {
                    return Err(err(
                        "a near group without must/any terms needs two terms to be near each other"
                            .into(),
                    ));
                }
                near.push((ids(&n.terms)?, n.within));
            }
            let mut regex = Vec::new();
            for r in &spec.regex {
                let rl = line_of(&src.text, r.span().start);
                let re = regex::RegexBuilder::new(r.get_ref())
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        src.error(
                            rl,
                            format!(
                                "rule `{}`: bad regex: {}",
                                spec.name,
                                one_line(&e.to_string())
                            ),
                        )
                    })?;
                regex.push(re);
            }
            set.rules.push(Rule {
                name: spec.name.clone(),
                topic,
                weight,
                must,
                any,
                exclude,
                near,
                regex,
                handling,
                marks,
                line,
            });
        }
        set.index();
        Ok(set)
    }

    fn term_id(&mut self, t: String) -> u32 {
        match self.terms.iter().position(|x| *x == t) {
            Some(i) => i as u32,
            None => {
                self.terms.push(t);
                (self.terms.len() - 1) as u32
            }
        }
    }

    fn index(&mut self) {
        self.by_term = vec![Vec::new(); self.terms.len()];
        self.always.clear();
        for (i, r) in self.rules.iter().enumerate() {
            if r.must.is_empty() && r.any.is_empty() {
                self.always.push(i);
            }
            for &t in r.must.iter().chain(&r.any) {
                let v = &mut self.by_term[t as usize];
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
        }
    }

    /// Evaluates the rules on `text` given the rule-term hits (in text order). `scratch` is reused
    /// between calls.
    pub fn evaluate(
        &self,
        text: &str,
        hits: &[TermHit],
        scratch: &mut Vec<u8>,
        out: &mut Vec<Fired>,
    ) {
        if self.rules.is_empty() {
            return;
        }
        scratch.clear();
        scratch.resize(self.terms.len() + self.rules.len(), 0);
        let (present, tried) = scratch.split_at_mut(self.terms.len());
        for h in hits {
            present[h.term as usize] = 1;
        }
        let mut consider = |ri: usize, out: &mut Vec<Fired>| {
            if tried[ri] != 0 {
                return;
            }
            tried[ri] = 1;
            if let Some(ev) = self.check(&self.rules[ri], text, hits, present) {
                out.push(Fired {
                    rule: ri,
                    evidence: ev,
                });
            }
        };
        for h in hits {
            for &ri in &self.by_term[h.term as usize] {
                consider(ri, out);
            }
        }
        for &ri in &self.always {
            consider(ri, out);
        }
        out.sort_by_key(|f| f.rule);
    }

    fn check(&self, r: &Rule, text: &str, hits: &[TermHit], present: &[u8]) -> Option<String> {
        if !r.must.iter().all(|&t| present[t as usize] != 0) {
            return None;
        }
        if !r.any.is_empty() && !r.any.iter().any(|&t| present[t as usize] != 0) {
            return None;
        }
        if r.exclude.iter().any(|&t| present[t as usize] != 0) {
            return None;
        }
        // Conditions first; words only for a rule that fires.
        let mut near_found: Vec<(u32, u32, usize)> = Vec::new();
        for (group, within) in &r.near {
            let found = if r.must.is_empty() && r.any.is_empty() {
                near_pair(text, hits, group, group, *within, true)
            } else {
                near_pair(text, hits, &r.must, group, *within, false)
                    .or_else(|| near_pair(text, hits, &r.any, group, *within, false))
            };
            let (a, b) = found?;
            near_found.push((a, b, *within));
        }
        let mut regex_found: Vec<&str> = Vec::new();
        for re in &r.regex {
            regex_found.push(re.find(text)?.as_str());
        }
        let mut evidence: Vec<String> = Vec::new();
        for &t in r.must.iter().chain(r.any.iter()) {
            if present[t as usize] != 0 && evidence.len() < 6 {
                evidence.push(self.terms[t as usize].clone());
            }
        }
        for (a, b, within) in near_found {
            evidence.push(format!(
                "{}…{} (≤{}字)",
                self.terms[a as usize], self.terms[b as usize], within
            ));
        }
        for m in regex_found {
            evidence.push(format!("/{m}/"));
        }
        Some(evidence.join(", "))
    }
}

/// Two hits, one from `a` and one from `b` (distinct terms when `distinct`), within `within`
/// characters of each other.
fn near_pair(
    text: &str,
    hits: &[TermHit],
    a: &[u32],
    b: &[u32],
    within: usize,
    distinct: bool,
) -> Option<(u32, u32)> {
    // Hits are in text order; a candidate pair is at most `within` characters (at most 4 bytes
    // each) apart, so only hits in that byte window are compared.
    let max_bytes = (within as u32 + 1) * 4;
    for (i, x) in hits.iter().enumerate() {
        if !a.contains(&x.term) {
            continue;
        }
        let lo = hits[..i]
            .iter()
            .rposition(|h| h.end + max_bytes < x.start)
            .map_or(0, |p| p + 1);
        for y in hits[lo..]
            .iter()
            .take_while(|h| h.start <= x.end + max_bytes)
        {
            if std::ptr::eq(x, y) || !b.contains(&y.term) || (distinct && x.term == y.term) {
                continue;
            }
            let (first, second) = if x.start <= y.start { (x, y) } else { (y, x) };
            let gap = if second.start <= first.end {
                0
            } else {
                text.get(first.end as usize..second.start as usize)
                    .map(|g| g.chars().count())
                    .unwrap_or(usize::MAX)
            };
            if gap <= within {
                return Some((x.term, y.term));
            }
        }
    }
    None
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::path::PathBuf;

    fn src(text: &str) -> Source {
        Source {
            name: "rules.toml",
            path: PathBuf::from("rules.toml"),
            text: Cow::Owned(text.to_string()),
        }
    }

    fn topics() -> Vec<String> {
        vec!["群体事件".into(), "谣言".into()]
    }

    fn id(s: &str) -> String {
        s.to_string()
    }

    /// Finds every term occurrence naïvely (the analyzer uses the automaton).
    fn hits(set: &RuleSet, text: &str) -> Vec<TermHit> {
        let mut v = Vec::new();
        for (i, t) in set.terms.iter().enumerate() {
            for (p, _) in text.match_indices(t.as_str()) {
                v.push(TermHit {
                    term: i as u32,
                    start: p as u32,
                    end: (p + t.len()) as u32,
                });
            }
        }
        v.sort_by_key(|h| h.start);
        v
    }

    fn fire(set: &RuleSet, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        set.evaluate(text, &hits(set, text), &mut Vec::new(), &mut out);
        out.iter().map(|f| set.rules[f.rule].name.clone()).collect()
    }

    const RULES: &str = r#"
[[rule]]
name = "聚集"
topic = "群体事件"
weight = 0.5
must = ["聚集"]
any = ["工人", "业主"]
exclude = ["演练"]

[[rule]]
name = "近"
topic = "群体事件"
weight = 0.3
any = ["讨薪"]
near = [{ terms = ["农民工"], within = 5 }]

[[rule]]
name = "正则"
topic = "群体事件"
weight = 0.4
regex = ['\d+名(工人|业主)']

[[rule]]
name = "谣言扰序"
topic = "谣言"
weight = 0.4
near = [{ terms = ["谣言", "恐慌"], within = 10 }]
handling = "恶意传播炒作"
marks = ["public_order"]
"#;

    #[test]
    fn must_any_exclude() {
        let set = RuleSet::parse(&src(RULES), &topics(), &id).unwrap();
        assert_eq!(fire(&set, "工人在门口聚集"), vec!["聚集"]);
        assert!(fire(&set, "门口聚集").is_empty(), "any not met");
        assert!(fire(&set, "工人聚集参加消防演练").is_empty(), "excluded");
    }

    #[test]
    fn near_counts_characters() {
        let set = RuleSet::parse(&src(RULES), &topics(), &id).unwrap();
        assert_eq!(fire(&set, "农民工今日讨薪"), vec!["近"]);
        assert!(
            fire(&set, "农民工们在年底前到项目部讨薪").is_empty(),
            "too far apart"
        );
        assert_eq!(fire(&set, "谣言引发恐慌"), vec!["谣言扰序"]);
        assert!(
            fire(&set, "谣言").is_empty(),
            "a near group alone needs two distinct terms"
        );
    }

    #[test]
    fn regex_only_rules_run_on_every_item() {
        let set = RuleSet::parse(&src(RULES), &topics(), &id).unwrap();
        assert_eq!(fire(&set, "现场有200名工人"), vec!["正则"]);
        let mut out = Vec::new();
        let text = "现场有200名工人";
        set.evaluate(text, &hits(&set, text), &mut Vec::new(), &mut out);
        assert!(out[0].evidence.contains("200名工人"), "{}", out[0].evidence);
        assert!(set.rules[3].marks.public_order);
        assert_eq!(set.rules[3].handling, Some(HandlingClass::Hype));
    }

    #[test]
    fn errors_carry_the_line() {
        let bad_regex = "[[rule]]\nname = \"x\"\ntopic = \"谣言\"\nweight = 0.2\nregex = ['(']\n";
        let e = RuleSet::parse(&src(bad_regex), &topics(), &id).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("rules.toml:5: rule `x`: bad regex"),
            "{e}"
        );
        let bad_topic = "\n[[rule]]\nname = \"x\"\ntopic = \"无\"\nweight = 0.2\nany = [\"a\"]\n";
        let e = RuleSet::parse(&src(bad_topic), &topics(), &id).unwrap_err();
        assert!(e.to_string().starts_with("rules.toml:2:"), "{e}");
        let syntax = "[[rule]]\nname = \"x\"\nany = [\"a\"\n";
        let e = RuleSet::parse(&src(syntax), &topics(), &id).unwrap_err();
        assert!(e.to_string().starts_with("rules.toml:"), "{e}");
        let unknown = "[[rule]]\nname = \"x\"\nany = [\"a\"]\nanyy = 1\n";
        let e = RuleSet::parse(&src(unknown), &topics(), &id).unwrap_err();
        assert!(e.to_string().contains("anyy"), "{e}");
        let mark = "[[rule]]\nname = \"x\"\nany = [\"a\"]\nmarks = [\"loud\"]\n";
        assert!(RuleSet::parse(&src(mark), &topics(), &id).is_err());
        let empty = "[[rule]]\nname = \"x\"\n";
        assert!(RuleSet::parse(&src(empty), &topics(), &id).is_err());
    }
}
