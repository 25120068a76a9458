//! [`Analyzer::judge`]: one item in, one [`Analysis`] with its reasons out.

use std::cell::RefCell;

use serde_json::Value;
use yuqing_core::{Analysis, HandlingClass, Item, Reason};

use crate::gazetteer::{Level, Mention};
use crate::model::{Features, Model, Prediction, Sparse, NS_BODY, NS_TITLE};
use crate::normalize::{Language, Normalized};
use crate::rules::{Fired, Marks, TermHit};
use crate::{Analyzer, Payload};

/// A topic's score below this does not list the topic in `analysis.topics`.
const TOPIC_MIN: f64 = 0.25;
/// Sentiment lexicon squashing: S / (|S| + K).
const SENTIMENT_K: f64 = 3.0;
/// Reasons of one kind listed at most (the rest are summarised).
const MAX_TERMS_IN_REASON: usize = 6;

/// A sensitivity term found: (topic, pattern, effective weight, the negation that weakened it).
type SensTerm = (usize, u32, f64, Option<(u32, u32)>);

/// The category terms found — (category, pattern, weight, count, seen in the title) — and the
/// subcategory scores.
#[derive(Debug, Default)]
pub(crate) struct CategoryEvidence {
    pub terms: Vec<(u16, u32, f64, u32, bool)>,
    pub subs: Vec<(u32, f64)>,
}

/// A sentiment term found: (signed value, pattern, intensifier factor, negation).
type PolarHit = (f64, u32, f64, Option<(u32, u32)>);

/// A match of the automaton (byte offsets into the normalised text).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub start: u32,
    pub end: u32,
    pub pat: u32,
}

/// Buffers reused between items on one thread.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub norm: Normalized,
    pub hits: Vec<Hit>,
    pub negs: Vec<(u32, u32)>,
    pub rule_hits: Vec<TermHit>,
    pub rule_scratch: Vec<u8>,
    pub fired: Vec<Fired>,
    pub feats: Features,
    pub sparse: Sparse,
    pub values: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn is_clause_break(c: char) -> bool {
    matches!(c, '。' | '!' | '?' | ';' | ',' | '.' | '\n' | '、' | '…')
}

impl Analyzer {
    /// Judges one item.
    pub fn judge(&self, item: &Item) -> Analysis {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => self.judge_with(item, &mut s),
            Err(_) => self.judge_with(item, &mut Scratch::default()),
        })
    }

    /// Normalises the item and finds every pattern in it.
    pub(crate) fn scan(&self, item: &Item, s: &mut Scratch) {
        self.normalizer
            .normalize(item.title.as_deref(), &item.text, &mut s.norm);
        s.hits.clear();
        s.negs.clear();
        for m in self.pma.find_overlapping_iter(&s.norm.text) {
            s.hits.push(Hit {
                start: m.start() as u32,
                end: m.end() as u32,
                pat: m.value(),
            });
        }
        s.hits.sort_unstable_by_key(|h| (h.start, h.end));
        // Negation words: drop those inside a longer match (非 in 非常, 无 in 无锡) or a blocker.
        let back = self.max_pattern_len;
        for (i, h) in s.hits.iter().enumerate() {
            let p = &self.patterns[h.pat as usize];
            if !p.payloads.iter().any(|x| matches!(x, Payload::Negation)) {
                continue;
            }
            let covered = near_hits(&s.hits, i, back).any(|o| {
                o.start <= h.start && o.end >= h.end && (o.end - o.start) > (h.end - h.start)
            });
            if !covered {
                s.negs.push((h.start, h.end));
            }
        }
    }

    /// The negation word that negates a term starting at `start`, if any.
    fn negation(&self, text: &str, negs: &[(u32, u32)], start: u32) -> Option<(u32, u32)> {
        let window = self.cfg.negation_window;
        for &(ns, ne) in negs.iter().rev() {
            if ne > start {
                continue;
            }
            let gap = &text[ne as usize..start as usize];
            if gap.len() > window * 4 {
                continue;
            }
            if gap.chars().count() <= window && !gap.chars().any(is_clause_break) {
                return Some((ns, ne));
            }
        }
        None
    }

    /// Builds the model features of the scanned item into `s.sparse`.
    pub(crate) fn features(&self, s: &mut Scratch, bits: u8) {
        s.feats.clear();
        let tl = s.norm.title_len;
        if tl > 0 {
            s.feats.add_chars(&s.norm.text[..tl], 0, NS_TITLE, bits);
        }
        s.feats.add_chars(&s.norm.text[tl..], tl, NS_BODY, bits);
        for h in &s.hits {
            let f = self.patterns[h.pat as usize].feature;
            if f != 0 {
                s.feats
                    .add_term(f, h.start as usize, (h.end - h.start) as usize, bits);
            }
        }
        Sparse::from_features(&mut s.feats, &mut s.sparse);
    }

    fn explain_features(&self, s: &Scratch, p: &Prediction) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for &(i, c) in &p.top {
            let (_, _, _, first) = s.sparse.items[i];
            let f = s.feats.raw[first as usize];
            let text = s
                .norm
                .text
                .get(f.start as usize..f.start as usize + f.len as usize)
                .unwrap_or("?");
            let label = if f.ns == NS_TITLE {
                format!("标题:{text}")
            } else if f.ns == crate::model::NS_TERM {
                format!("词:{text}")
            } else {
                text.to_string()
            };
            if !seen.contains(&label) {
                parts.push(format!("{label}({})", F2(c as f64)));
                seen.push(label);
            }
        }
        parts.join(", ")
    }

    pub(crate) fn judge_with(&self, item: &Item, s: &mut Scratch) -> Analysis {
        self.scan(item, s);
        let mut a = Analysis::default();
        let lang = s.norm.language();
        a.extra
            .insert("language".into(), Value::String(lang.as_str().into()));
        if lang == Language::Other {
            a.reasons.push(Reason::new(
                "language",
                "detect:script",
                "非中文文本：中文词表与分类只在其中的中文部分起作用",
            ));
        }
        let text = s.norm.text.as_str();
        let title_len = s.norm.title_len as u32;

        // ---- Rules ----
        s.rule_hits.clear();
        for h in &s.hits {
            for p in &self.patterns[h.pat as usize].payloads {
                if let Payload::RuleTerm { term } = p {
                    s.rule_hits.push(TermHit {
                        term: *term,
                        start: h.start,
                        end: h.end,
                    });
                }
            }
        }
        s.fired.clear();
        self.rules
            .evaluate(text, &s.rule_hits, &mut s.rule_scratch, &mut s.fired);
        let mut marks = Marks::default();
        for f in &s.fired {
            marks.merge(self.rules.rules[f.rule].marks);
        }

        // ---- Sensitivity ----
        let nt = self.topics.len();
        // Per topic: (pattern, effective weight, negated by) — strongest occurrence of each term.
        let mut terms: Vec<SensTerm> = Vec::new();
        for h in &s.hits {
            for p in &self.patterns[h.pat as usize].payloads {
                if let Payload::Sensitivity { topic, weight } = *p {
                    let neg = self.negation(text, &s.negs, h.start);
                    let w = if neg.is_some() {
                        weight as f64 * self.cfg.negated_factor
                    } else {
                        weight as f64
                    };
                    match terms
                        .iter_mut()
                        .find(|t| t.0 == topic as usize && t.1 == h.pat)
                    {
                        Some(t) if t.2 >= w => {}
                        Some(t) => {
                            t.2 = w;
                            t.3 = neg;
                        }
                        None => terms.push((topic as usize, h.pat, w, neg)),
                    }
                }
            }
        }
        let mut topic_score = vec![0.0f64; nt];
        let mut keep = vec![1.0f64; nt];
        for t in &terms {
            keep[t.0] *= 1.0 - t.2;
        }
        for f in &s.fired {
            let r = &self.rules.rules[f.rule];
            if let Some(t) = r.topic {
                keep[t] *= 1.0 - r.weight;
            }
        }
        for i in 0..nt {
            topic_score[i] = 1.0 - keep[i];
        }
        let mut order: Vec<usize> = (0..nt).filter(|&i| topic_score[i] > 0.0).collect();
        order.sort_by(|x, y| topic_score[*y].total_cmp(&topic_score[*x]));
        let mut total_keep = 1.0;
        for &ti in &order {
            total_keep *= 1.0 - topic_score[ti];
            if topic_score[ti] >= TOPIC_MIN {
                a.topics.push(self.topics[ti].clone());
            }
            let mut mine: Vec<&SensTerm> = terms.iter().filter(|t| t.0 == ti).collect();
            mine.sort_by(|x, y| y.2.total_cmp(&x.2));
            let mut ev = String::with_capacity(96);
            for t in mine.iter().take(MAX_TERMS_IN_REASON) {
                if !ev.is_empty() {
                    ev.push_str(", ");
                }
                ev.push_str(&self.patterns[t.1 as usize].text);
                ev.push('(');
                push_f2(&mut ev, t.2);
                if let Some((ns, ne)) = t.3 {
                    ev.push_str(", 被“");
                    ev.push_str(&text[ns as usize..ne as usize]);
                    ev.push_str("”否定");
                }
                ev.push(')');
            }
            if mine.len() > MAX_TERMS_IN_REASON {
                ev.push_str(", 另");
                push_uint(&mut ev, (mine.len() - MAX_TERMS_IN_REASON) as u64);
                ev.push('项');
            }
            if !ev.is_empty() {
                let mut rule = String::with_capacity(8 + self.topics[ti].len());
                rule.push_str("lexicon:");
                rule.push_str(&self.topics[ti]);
                a.reasons.push(
                    Reason::new("sensitivity", rule, ev)
                        .weighted(round3(1.0 - mine.iter().fold(1.0, |k, t| k * (1.0 - t.2)))),
                );
            }
        }
        for f in &s.fired {
            let r = &self.rules.rules[f.rule];
            if let Some(t) = r.topic {
                let mut rule = String::with_capacity(5 + r.name.len());
                rule.push_str("rule:");
                rule.push_str(&r.name);
                let mut ev = String::with_capacity(f.evidence.len() + 16);
                ev.push_str(&f.evidence);
                ev.push_str(" → ");
                ev.push_str(&self.topics[t]);
                a.reasons
                    .push(Reason::new("sensitivity", rule, ev).weighted(r.weight));
            }
        }
        a.sensitivity = clamp01(1.0 - total_keep);
        if !order.is_empty() {
            let mut ev = String::with_capacity(96);
            ev.push_str("1−Π(1−话题分) over ");
            for (i, &t) in order.iter().take(MAX_TERMS_IN_REASON).enumerate() {
                if i > 0 {
                    ev.push_str(", ");
                }
                ev.push_str(&self.topics[t]);
                ev.push(' ');
                push_f2(&mut ev, topic_score[t]);
            }
            a.reasons.push(
                Reason::new("sensitivity", "combine:noisy-or", ev).weighted(round3(a.sensitivity)),
            );
        }

        // ---- Sentiment (lexicon) ----
        let (lex_sent, lex_reasons) = self.lexicon_sentiment(text, &s.hits, &s.negs);
        let need_features = self.model.is_some() || self.sentiment_model.is_some();
        if need_features {
            let bits = self
                .model
                .as_ref()
                .or(self.sentiment_model.as_ref())
                .map(|m| m.meta().bits)
                .unwrap_or(18);
            self.features(s, bits);
        }
        a.reasons.extend(lex_reasons);
        a.sentiment = match &self.sentiment_model {
            Some(m)
                if m.meta().bits
                    == self.model.as_ref().map_or(m.meta().bits, |c| c.meta().bits) =>
            {
                let p = m.predict(&s.sparse, &mut s.values, 4);
                let (value, evidence) = model_sentiment(m, &p, lex_sent);
                let feats = self.explain_features(s, &p);
                a.reasons.push(
                    Reason::new(
                        "sentiment",
                        "model:sentiment",
                        format!("{evidence}; {feats}"),
                    )
                    .weighted(round3(value)),
                );
                value
            }
            Some(m) => {
                // A sentiment model hashed with other bits than the category model: own features.
                let mut tmp = Scratch::default();
                std::mem::swap(&mut tmp.norm, &mut s.norm);
                tmp.hits = std::mem::take(&mut s.hits);
                self.features(&mut tmp, m.meta().bits);
                let p = m.predict(&tmp.sparse, &mut tmp.values, 4);
                let (value, evidence) = model_sentiment(m, &p, lex_sent);
                let feats = self.explain_features(&tmp, &p);
                std::mem::swap(&mut tmp.norm, &mut s.norm);
                s.hits = std::mem::take(&mut tmp.hits);
                a.reasons.push(
                    Reason::new(
                        "sentiment",
                        "model:sentiment",
                        format!("{evidence}; {feats}"),
                    )
                    .weighted(round3(value)),
                );
                value
            }
            None => lex_sent,
        };
        a.sentiment = a.sentiment.clamp(-1.0, 1.0);
        if a.sentiment.is_nan() {
            a.sentiment = 0.0;
        }

        // ---- Category ----
        let text = s.norm.text.as_str();
        let (
            cat_score,
            CategoryEvidence {
                terms: cat_terms,
                subs: sub_score,
            },
        ) = self.category_scores(s);
        let chosen: Option<usize> = match &self.model {
            Some(m) => {
                let p = m.predict(&s.sparse, &mut s.values, 5);
                let label = &m.classes()[p.class];
                let feats = self.explain_features(s, &p);
                let second = second_best(&p.scores)
                    .map(|i| format!(", 次选 {} {}", m.classes()[i], F2(p.scores[i] as f64)))
                    .unwrap_or_default();
                a.reasons.push(
                    Reason::new(
                        "category",
                        "model:linear-svm",
                        format!(
                            "{label} 判别值 {}{second}; 主要特征: {feats}",
                            F2(p.scores[p.class] as f64)
                        ),
                    )
                    .weighted(round3(p.scores[p.class] as f64)),
                );
                match self.taxonomy.iter().position(|c| &c.name == label) {
                    Some(i) => Some(i),
                    None => {
                        a.category = Some(label.clone());
                        None
                    }
                }
            }
            None => {
                let best = (0..cat_score.len())
                    .max_by(|x, y| cat_score[*x].total_cmp(&cat_score[*y]).then(y.cmp(x)));
                match best {
                    Some(b) if cat_score[b] >= self.cfg.category_min_score => {
                        let mut mine: Vec<&(u16, u32, f64, u32, bool)> =
                            cat_terms.iter().filter(|t| t.0 as usize == b).collect();
                        mine.sort_by(|x, y| (y.2 * y.3 as f64).total_cmp(&(x.2 * x.3 as f64)));
                        let mut ev = String::with_capacity(128);
                        for t in mine.iter().take(MAX_TERMS_IN_REASON) {
                            if !ev.is_empty() {
                                ev.push_str(", ");
                            }
                            ev.push_str(&self.patterns[t.1 as usize].text);
                            ev.push('(');
                            push_f2(&mut ev, t.2);
                            if t.3 > 1 {
                                ev.push('×');
                                push_uint(&mut ev, t.3 as u64);
                            }
                            if t.4 {
                                ev.push_str(", 标题");
                            }
                            ev.push(')');
                        }
                        if let Some(i) = (0..cat_score.len())
                            .filter(|&i| i != b && cat_score[i] > 0.0)
                            .max_by(|x, y| cat_score[*x].total_cmp(&cat_score[*y]))
                        {
                            ev.push_str("; 次选 ");
                            ev.push_str(&self.taxonomy[i].name);
                            ev.push(' ');
                            push_f2(&mut ev, cat_score[i]);
                        }
                        let mut rule = String::with_capacity(40);
                        rule.push_str("lexicon:");
                        rule.push_str(&self.taxonomy[b].name);
                        a.reasons
                            .push(Reason::new("category", rule, ev).weighted(round3(cat_score[b])));
                        Some(b)
                    }
                    _ => None,
                }
            }
        };
        let mut second_level: Option<String> = None;
        if let Some(c) = chosen {
            a.category = Some(self.taxonomy[c].name.clone());
            let best_sub = sub_score
                .iter()
                .filter(|(sub, _)| self.subs[*sub as usize].0 == c)
                .max_by(|x, y| {
                    x.1.total_cmp(&y.1).then(
                        // Prefer the more specific path on ties.
                        self.subs[x.0 as usize]
                            .1
                            .len()
                            .cmp(&self.subs[y.0 as usize].1.len()),
                    )
                });
            if let Some(&(sub, _)) = best_sub {
                let path = &self.subs[sub as usize].1;
                second_level = path.split('/').next().map(str::to_string);
                a.subcategory = Some(path.clone());
            }
        }

        // ---- Region ----
        let mut place_hits: Vec<(u32, u32, u32)> = Vec::new();
        for h in &s.hits {
            for p in &self.patterns[h.pat as usize].payloads {
                if let Payload::Place { alias } = *p {
                    place_hits.push((h.start, h.end, alias));
                }
            }
        }
        // Longest match wins: 西安区 over 西安.
        let kept: Vec<(u32, u32, u32)> = place_hits
            .iter()
            .filter(|x| {
                !place_hits
                    .iter()
                    .any(|o| o.0 <= x.0 && o.1 >= x.1 && (o.1 - o.0) > (x.1 - x.0))
            })
            .copied()
            .collect();
        let mentions: Vec<Mention<'_>> = kept
            .iter()
            .map(|x| {
                let divisions = self.place_aliases[x.2 as usize].as_slice();
                let said = &text[x.0 as usize..x.1 as usize];
                Mention {
                    divisions,
                    full_name: divisions
                        .iter()
                        .any(|&d| self.gazetteer.get(d).name == said),
                }
            })
            .collect();
        let hint = item.region.as_deref().and_then(|h| {
            self.gazetteer
                .resolve_hint(&self.normalizer.normalize_str(h))
        });
        let res = self.gazetteer.resolve_mentions(&mentions, hint);
        let division = res.division;
        if let Some(d) = division {
            let div = self.gazetteer.get(d);
            a.region = Some(div.name.clone());
            a.region_code = Some(div.code.clone());
            let mut names: Vec<&str> = kept
                .iter()
                .map(|x| &text[x.0 as usize..x.1 as usize])
                .collect();
            names.dedup();
            let mut ev = format!("{} ({})", self.gazetteer.path_name(d), div.code);
            if !names.is_empty() {
                ev.push_str(&format!("; 文中提及: {}", names.join("、")));
            }
            if let (Some(h), Some(hd)) = (item.region.as_deref(), hint) {
                if self.gazetteer.contains(hd, d) || self.gazetteer.contains(d, hd) {
                    ev.push_str(&format!("; 来源地域: {h}"));
                }
            }
            a.reasons.push(Reason::new("region", "gazetteer", ev));
        }
        if !res.ambiguous.is_empty() {
            let alts: Vec<String> = res
                .ambiguous
                .iter()
                .take(4)
                .map(|&d| self.gazetteer.path_name(d))
                .collect();
            a.reasons.push(Reason::new(
                "region",
                "gazetteer:ambiguous",
                format!("同名地区无法区分: {}", alts.join(" | ")),
            ));
        }

        // ---- Department ----
        let mut dscore = vec![0.0f64; self.departments.len()];
        let mut named = vec![false; self.departments.len()];
        // Evidence per department: (department, pattern, named?) — words only for the lead.
        let mut dev: Vec<(u16, u32, bool)> = Vec::new();
        for h in &s.hits {
            for p in &self.patterns[h.pat as usize].payloads {
                match *p {
                    Payload::DeptAlias { dept } => {
                        let d = dept as usize;
                        if !dev.iter().any(|e| e.0 == dept && e.1 == h.pat) {
                            dscore[d] += if h.start < title_len { 4.5 } else { 3.0 };
                            dev.push((dept, h.pat, true));
                        }
                        named[d] = true;
                    }
                    Payload::DeptMandate { dept }
                        if !dev.iter().any(|e| e.0 == dept && e.1 == h.pat) =>
                    {
                        dscore[dept as usize] += 1.0;
                        dev.push((dept, h.pat, false));
                    }
                    _ => {}
                }
            }
        }
        let mut owns = vec![0u8; self.departments.len()];
        if let Some(c) = chosen {
            for (i, d) in self.departments.iter().enumerate() {
                owns[i] = d.owns(c, second_level.as_deref());
                dscore[i] += match owns[i] {
                    2 => 2.5,
                    1 => 1.5,
                    _ => 0.0,
                };
            }
        }
        let lead = (0..dscore.len())
            .filter(|&i| dscore[i] >= 1.5)
            .max_by(|x, y| dscore[*x].total_cmp(&dscore[*y]).then(y.cmp(x)));
        let mut others: Vec<usize> = Vec::new();
        if let Some(l) = lead {
            a.department = Some(self.departments[l].name.clone());
            a.reasons.push(
                Reason::new(
                    "department",
                    format!("mandate:{}", self.departments[l].name),
                    {
                        let mut ev = String::new();
                        for &(d, pat, named) in &dev {
                            if d as usize != l {
                                continue;
                            }
                            if !ev.is_empty() {
                                ev.push_str(", ");
                            }
                            ev.push_str(&self.patterns[pat as usize].text);
                            ev.push_str(if named { "(点名)" } else { "(职责)" });
                        }
                        match (owns[l], chosen) {
                            (2, _) => {
                                if !ev.is_empty() {
                                    ev.push_str(", ");
                                }
                                ev.push_str("主管 ");
                                ev.push_str(a.subcategory.as_deref().unwrap_or(""));
                            }
                            (1, Some(c)) => {
                                if !ev.is_empty() {
                                    ev.push_str(", ");
                                }
                                ev.push_str("主管 ");
                                ev.push_str(&self.taxonomy[c].name);
                            }
                            _ => {}
                        }
                        ev
                    },
                )
                .weighted(round3(dscore[l])),
            );
            others = (0..dscore.len())
                .filter(|&i| {
                    i != l && (named[i] || dscore[i] >= 0.75 * dscore[l]) && dscore[i] >= 3.0
                })
                .collect();
            others.sort_by(|x, y| dscore[*y].total_cmp(&dscore[*x]));
            others.truncate(3);
        }

        // ---- Response subject (回应主体) ----
        let local = division.map(|d| self.gazetteer.get(d));
        let loc = |name: &str| -> String {
            match local {
                Some(d) => format!("{}{}", d.name, name),
                None => name.to_string(),
            }
        };
        let mut subj: Vec<String> = Vec::new();
        let rumour_idx = self.topics.iter().position(|t| t == "谣言");
        let rumour_score = rumour_idx.map_or(0.0, |i| topic_score[i]);
        let major =
            a.sensitivity >= self.cfg.major_sensitivity || (marks.major && a.sensitivity >= 0.7);
        if major {
            subj.push(loc("人民政府"));
            a.reasons.push(Reason::new(
                "response_subject",
                "rule:重大事件由属地政府回应",
                format!(
                    "敏感度 {}{}",
                    F2(a.sensitivity),
                    if marks.major {
                        "，规则标记重大"
                    } else {
                        ""
                    }
                ),
            ));
        }
        if let Some(l) = lead {
            let d = &self.departments[l];
            // Counties mentioned under one city: an industry issue across counties goes to the
            // city's department.
            let mut counties: Vec<usize> = kept
                .iter()
                .filter_map(|x| match self.place_aliases[x.2 as usize].as_slice() {
                    [one] if self.gazetteer.get(*one).level == Level::County => Some(*one),
                    _ => None,
                })
                .collect();
            counties.sort_unstable();
            counties.dedup();
            let common_city = if counties.len() >= 2 {
                let p = self.gazetteer.get(counties[0]).parent;
                p.filter(|&p| {
                    counties
                        .iter()
                        .all(|&c| self.gazetteer.get(c).parent == Some(p))
                })
            } else {
                None
            };
            if d.vertical {
                let sup = match local.and_then(|x| x.parent) {
                    Some(p) => format!("{}{}", self.gazetteer.get(p).name, d.name),
                    None => d.superior.clone().unwrap_or_else(|| d.name.clone()),
                };
                subj.push(sup.clone());
                a.reasons.push(Reason::new(
                    "response_subject",
                    "rule:垂直管理部门由上级部门回应",
                    format!("{} 为垂直管理 → {sup}", d.name),
                ));
            } else if let Some(city) = common_city {
                let name = format!("{}{}", self.gazetteer.get(city).name, d.name);
                subj.push(name.clone());
                let cs: Vec<&str> = counties
                    .iter()
                    .map(|&c| self.gazetteer.get(c).name.as_str())
                    .collect();
                a.reasons.push(Reason::new(
                    "response_subject",
                    "rule:跨县区问题由上级政府部门回应",
                    format!("{} → {name}", cs.join("、")),
                ));
            } else {
                subj.push(loc(&d.name));
            }
            if !others.is_empty() {
                let names: Vec<String> = others
                    .iter()
                    .map(|&o| loc(&self.departments[o].name))
                    .collect();
                a.reasons.push(Reason::new(
                    "response_subject",
                    "rule:多部门由牵头部门回应",
                    format!("牵头 {}，协同 {}", loc(&d.name), names.join("、")),
                ));
                subj.extend(names);
            }
        }
        if marks.public_order || rumour_score >= self.cfg.rumour_public_order {
            for who in ["公安局", "网信办"] {
                subj.push(loc(who));
            }
            a.reasons.push(Reason::new(
                "response_subject",
                "rule:谣言扰乱秩序移交公安和网信",
                format!(
                    "谣言话题 {}{}",
                    F2(rumour_score),
                    if marks.public_order {
                        "，规则标记扰乱秩序"
                    } else {
                        ""
                    }
                ),
            ));
        }
        if subj.is_empty() {
            if let Some(d) = local {
                subj.push(format!("{}人民政府", d.name));
                a.reasons.push(Reason::new(
                    "response_subject",
                    "rule:属地管理",
                    "无主管部门线索，由属地政府转办",
                ));
            }
        }
        let mut unique: Vec<String> = Vec::with_capacity(subj.len());
        for x in subj {
            if !unique.contains(&x) {
                unique.push(x);
            }
        }
        a.response_subject = unique;

        // ---- Handling class ----
        let mut votes = [0usize; 3];
        let mut hev: [Vec<&str>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for f in &s.fired {
            let r = &self.rules.rules[f.rule];
            if let Some(h) = r.handling {
                let i = match h {
                    HandlingClass::Inquiry => 0,
                    HandlingClass::Hype => 1,
                    HandlingClass::Suggestion => 2,
                };
                votes[i] += 1;
                hev[i].push(&r.name);
            }
        }
        if rumour_score >= 0.3 {
            votes[1] += 1;
            hev[1].push("谣言话题");
        }
        let (class, idx) = if votes[1] > 0 {
            (HandlingClass::Hype, 1)
        } else if votes[2] > 0 {
            (HandlingClass::Suggestion, 2)
        } else {
            (HandlingClass::Inquiry, 0)
        };
        a.handling_class = Some(class);
        a.reasons.push(Reason::new(
            "handling_class",
            if hev[idx].is_empty() {
                "default:询问诉求".to_string()
            } else {
                format!("rule:{}", hev[idx].join("+"))
            },
            format!(
                "询问诉求 {} 票, 恶意传播炒作 {} 票, 建设性意见 {} 票",
                votes[0], votes[1], votes[2]
            ),
        ));

        // ---- Keywords ----
        a.keywords = self.keywords(s);
        a
    }

    /// The lexicon classifier's score of every category, with the terms and subcategory scores
    /// behind them.
    pub(crate) fn category_scores(&self, s: &Scratch) -> (Vec<f64>, CategoryEvidence) {
        let title_len = s.norm.title_len as u32;
        let mut cat_score = vec![0.0f64; self.taxonomy.len()];
        let mut ev = CategoryEvidence::default();
        for h in &s.hits {
            for p in &self.patterns[h.pat as usize].payloads {
                if let Payload::Category {
                    category,
                    sub,
                    weight,
                } = *p
                {
                    let in_title = h.start < title_len;
                    match ev
                        .terms
                        .iter_mut()
                        .find(|t| t.0 == category && t.1 == h.pat)
                    {
                        Some(t) => {
                            t.3 += 1;
                            t.4 |= in_title;
                        }
                        None => ev.terms.push((category, h.pat, weight as f64, 1, in_title)),
                    }
                    if sub != u32::MAX {
                        let boost = if in_title { self.cfg.title_boost } else { 1.0 };
                        match ev.subs.iter_mut().find(|x| x.0 == sub) {
                            Some(x) => x.1 += weight as f64 * boost,
                            None => ev.subs.push((sub, weight as f64 * boost)),
                        }
                    }
                }
            }
        }
        for t in &ev.terms {
            let boost = if t.4 { self.cfg.title_boost } else { 1.0 };
            cat_score[t.0 as usize] += t.2 * (1.0 + (t.3 as f64).ln()) * boost;
        }
        (cat_score, ev)
    }

    fn lexicon_sentiment(
        &self,
        text: &str,
        hits: &[Hit],
        negs: &[(u32, u32)],
    ) -> (f64, Vec<Reason>) {
        let mut total = 0.0f64;
        let mut parts: Vec<PolarHit> = Vec::new();
        let polar = |h: &Hit| -> Option<f32> {
            self.patterns[h.pat as usize]
                .payloads
                .iter()
                .find_map(|p| match p {
                    Payload::Polar { strength } => Some(*strength),
                    _ => None,
                })
        };
        for (i, h) in hits.iter().enumerate() {
            let Some(strength) = polar(h) else { continue };
            // Inside a longer polar term: the longer one counts.
            let back = self.max_pattern_len;
            let inside = near_hits(hits, i, back).any(|o| {
                o.start <= h.start
                    && o.end >= h.end
                    && (o.end - o.start) > (h.end - h.start)
                    && polar(o).is_some()
            });
            if inside {
                continue;
            }
            let mut v = strength as f64;
            // An intensifier just before.
            let mut factor = 1.0f64;
            for o in near_hits(hits, i, back + 6) {
                if o.end > h.start || h.start - o.end > 6 {
                    continue;
                }
                for p in &self.patterns[o.pat as usize].payloads {
                    if let Payload::Intensifier { factor: f } = p {
                        if (*f as f64 - 1.0).abs() > (factor - 1.0).abs() {
                            factor = *f as f64;
                        }
                    }
                }
            }
            v *= factor;
            let neg = self.negation(text, negs, h.start);
            if neg.is_some() {
                v *= -0.5;
            }
            total += v;
            parts.push((v, h.pat, factor, neg));
        }
        let value = if total == 0.0 {
            0.0
        } else {
            total / (total.abs() + SENTIMENT_K)
        };
        let mut reasons = Vec::new();
        if !parts.is_empty() {
            parts.sort_by(|x, y| y.0.abs().total_cmp(&x.0.abs()));
            let n = parts.len();
            let mut ev: Vec<String> = parts
                .into_iter()
                .take(MAX_TERMS_IN_REASON)
                .map(|(v, pat, factor, neg)| {
                    let mut e = String::with_capacity(32);
                    e.push_str(&self.patterns[pat as usize].text);
                    e.push('(');
                    if v >= 0.0 {
                        e.push('+');
                    }
                    push_f2(&mut e, v);
                    if factor != 1.0 {
                        e.push_str(" ×");
                        push_f2(&mut e, factor);
                    }
                    if let Some((ns, ne)) = neg {
                        e.push_str(" 被“");
                        e.push_str(&text[ns as usize..ne as usize]);
                        e.push_str("”否定");
                    }
                    e.push(')');
                    e
                })
                .collect();
            if n > MAX_TERMS_IN_REASON {
                ev.push(format!("另{}项", n - MAX_TERMS_IN_REASON));
            }
            reasons.push(
                Reason::new(
                    "sentiment",
                    "lexicon:sentiment",
                    format!("S={} → S/(|S|+{SENTIMENT_K}); {}", F2(total), ev.join(", ")),
                )
                .weighted(round3(value)),
            );
        }
        (value, reasons)
    }

    fn keywords(&self, s: &Scratch) -> Vec<String> {
        let n = self.cfg.keywords;
        if n == 0 {
            return Vec::new();
        }
        let text = s.norm.text.as_str();
        // Domain terms found anywhere in the text.
        let mut domain: Vec<(u32, f64)> = Vec::new();
        for h in &s.hits {
            let p = &self.patterns[h.pat as usize];
            if p.text.chars().nth(1).is_none()
                || p.payloads.iter().any(|x| matches!(x, Payload::Stopword))
            {
                continue;
            }
            let mut w = 0.0f64;
            for pl in &p.payloads {
                w = w.max(match *pl {
                    Payload::Sensitivity { weight, .. } => weight as f64 * 6.0,
                    Payload::Category { weight, .. } => weight as f64,
                    Payload::Place { .. } | Payload::DeptAlias { .. } => 2.5,
                    _ => 0.0,
                });
            }
            if w <= 0.0 {
                continue;
            }
            match domain.iter_mut().find(|d| d.0 == h.pat) {
                Some(d) => d.1 += w * 0.5,
                None => domain.push((h.pat, w)),
            }
        }
        domain.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        // TF-IDF over the tokens of the head.
        let head: &str = if s.norm.title_len > 0 {
            s.norm.title()
        } else {
            let body = s.norm.body();
            let mut end = body.len();
            for (count, (i, c)) in body.char_indices().enumerate() {
                if count >= self.cfg.keyword_head_chars
                    || (count >= 16 && matches!(c, '。' | '!' | '?'))
                {
                    end = i;
                    break;
                }
            }
            &body[..end]
        };
        use jieba_rs::KeywordExtract;
        let tf = self
            .tfidf
            .extract_keywords(&self.jieba, head, n, Vec::new());
        let mut out: Vec<String> = Vec::with_capacity(n);
        let push = |w: &str, out: &mut Vec<String>| {
            if out.len() >= n || self.stopwords.contains(w) || w.chars().all(|c| c.is_ascii_digit())
            {
                return;
            }
            if out.iter().any(|o| o.contains(w)) {
                return;
            }
            out.retain(|o| !w.contains(o.as_str()));
            out.push(w.to_string());
        };
        let mut di = domain.iter();
        let mut ti = tf.iter();
        // Interleave: two domain terms, then one head keyword.
        loop {
            let mut progressed = false;
            for _ in 0..2 {
                if let Some(d) = di.next() {
                    push(&self.patterns[d.0 as usize].text, &mut out);
                    progressed = true;
                }
            }
            if let Some(k) = ti.next() {
                if !k.keyword.trim().is_empty() && !k.keyword.contains(char::is_whitespace) {
                    push(&k.keyword, &mut out);
                }
                progressed = true;
            }
            if !progressed || out.len() >= n {
                break;
            }
        }
        let _ = text;
        out
    }
}

/// The hits that may overlap or closely precede hit `i` (hits are sorted by start): those starting at
/// most `back` bytes before it, and those starting at the same place after it.
fn near_hits(hits: &[Hit], i: usize, back: u32) -> impl Iterator<Item = &Hit> {
    let h = hits[i];
    let before = hits[..i]
        .iter()
        .rev()
        .take_while(move |o| o.start + back >= h.start);
    let after = hits[i + 1..].iter().take_while(move |o| o.start == h.start);
    before.chain(after)
}

fn second_best(v: &[f32]) -> Option<usize> {
    if v.len() < 2 {
        return None;
    }
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|a, b| v[*b].total_cmp(&v[*a]));
    Some(idx[1])
}

/// Sentiment from a model: P(positive) − P(negative), with P a softmax of the decision values; for
/// a model that only knows negative vs non-negative, the lexicon says how positive the rest is.
fn model_sentiment(m: &Model, p: &Prediction, lexicon: f64) -> (f64, String) {
    let mx = p.scores.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = p
        .scores
        .iter()
        .map(|s| ((s - mx) as f64 * 2.0).exp())
        .collect();
    let z: f64 = exps.iter().sum();
    let prob = |name: &str| -> Option<f64> {
        m.classes()
            .iter()
            .position(|c| c == name)
            .map(|i| exps[i] / z)
    };
    let neg = prob("negative").unwrap_or(0.0);
    match prob("positive") {
        Some(pos) => (
            pos - neg,
            format!("P(negative)={}, P(positive)={}", F2(neg), F2(pos)),
        ),
        None => {
            let v = -neg + (1.0 - neg) * lexicon.max(0.0);
            (v, format!("P(negative)={}", F2(neg)))
        }
    }
}

/// Appends an unsigned integer.
fn push_uint(buf: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for d in digits[..n].iter().rev() {
        buf.push(*d as char);
    }
}

/// Appends `x` with two decimals, without the formatting machinery.
fn push_f2(buf: &mut String, x: f64) {
    if !x.is_finite() || x.abs() > 1e15 {
        buf.push_str(&x.to_string());
        return;
    }
    let v = (x * 100.0).round() as i64;
    if v < 0 {
        buf.push('-');
    }
    let a = v.unsigned_abs();
    push_uint(buf, a / 100);
    buf.push('.');
    let c = a % 100;
    buf.push((b'0' + (c / 10) as u8) as char);
    buf.push((b'0' + (c % 10) as u8) as char);
}

/// Two decimals without the cost of float formatting (integer formatting is much cheaper).
struct F2(f64);

impl std::fmt::Display for F2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.0.is_finite() {
            return write!(f, "{}", self.0);
        }
        let v = (self.0 * 100.0).round() as i64;
        let sign = if v < 0 { "-" } else { "" };
        let a = v.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

fn clamp01(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(0.0, 1.0)
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
