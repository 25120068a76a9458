//! # yuqing-analyze
//!
//! The judgment stage: turns an [`Item`] into an [`Analysis`]. Pure and synchronous, no I/O after
//! loading, so it runs on a blocking pool and is benchmarked in isolation.
//!
//! What [`Analyzer::judge`] does, in one pass over the text where it can:
//!
//! 1. **Normalise** ([`normalize`]): markup to text, Traditional → Simplified (a character table
//!    from OpenCC), full-width → half-width, emoji to their alt text (`<img alt="[doge]">`, 😡 →
//!    `[怒]`), URLs and @mentions set apart, the language detected.
//! 2. **Match** every lexicon term, rule term, place name and department name at once with a
//!    double-array Aho–Corasick automaton (daachorse), overlapping matches included.
//! 3. **Score**: sensitivity in 0..1 from the topic lexicons (noisy-OR of weighted terms, negation
//!    aware) and the Boolean rules (must / any / exclude / near / regex); sentiment in -1..1 from a
//!    lexicon with intensifiers and negation, or from a trained model.
//! 4. **Classify** into the 15 first-level categories of the government message taxonomy, with
//!    the second and third levels: from category lexicons without training, or from a trained
//!    linear model ([`train`], [`Model`]).
//! 5. **Route**: the place from a gazetteer of every province, city and county with their codes
//!    (属地管理), the owning department (谁主管谁负责), the responders (回应主体) and the handling
//!    class.
//! 6. **Keywords**: TF-IDF over jieba-rs tokens of the head of the item (title or first sentence)
//!    merged with the domain terms found in the whole text.
//!
//! Every number comes with [`Reason`]s: the terms, rules and features that produced it.
//!
//! ```
//! use yuqing_analyze::Analyzer;
//! use yuqing_core::Item;
//! let analyzer = Analyzer::builtin().unwrap();
//! let line = r#"{"id":"1","source":"demo","platform":"weibo","text":"广州市天河区某工地发生坍塌事故，造成3人死亡","published_at":"2026-11-22T10:02:33+08:00"}"#;
//! let a = analyzer.judge(&Item::from_json(line.as_bytes()).unwrap());
//! assert!(a.sensitivity > 0.8);
//! assert_eq!(a.region.as_deref(), Some("天河区"));
//! assert_eq!(a.region_code.as_deref(), Some("440106"));
//! assert!(a.topics.iter().any(|t| t == "安全事故"));
//! assert!(a.reasons.iter().any(|r| r.about == "sensitivity"));
//! ```
#![warn(missing_docs)]

pub mod departments;
pub mod gazetteer;
mod judge;
pub mod lexicon;
mod metrics;
pub mod model;
pub mod normalize;
pub mod resources;
pub mod rules;
mod shared;
mod train;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};
use serde::Deserialize;
use yuqing_core::Problems;

pub use model::{Model, ModelKind, ModelMeta, TrainOptions};
pub use normalize::{Language, Normalized, Normalizer};
pub use shared::SharedAnalyzer;
pub use train::{train, Dataset};
pub use yuqing_core::{Analysis, Item, Reason};

use crate::departments::Department;
use crate::gazetteer::{Division, Gazetteer, Level};
use crate::lexicon::Category;
use crate::resources::ResourceSet;
use crate::rules::RuleSet;

/// Errors while loading the judgment resources or training a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyzeError {
    /// A resource file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A resource file is malformed.
    #[error("{path}: {message}")]
    Resource {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A resource file has an error at a line.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A model file is damaged or of another version.
    #[error("model {}: {message}", path.display())]
    Model {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Training could not run on the given items.
    #[error("training: {0}")]
    Training(String),
    /// The configuration is invalid.
    #[error("invalid [analyze] configuration:\n{0}")]
    Config(Problems),
}

impl AnalyzeError {
    /// A bounded code for the `error_type` label of metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            AnalyzeError::Io { .. } => "io",
            AnalyzeError::Resource { .. } | AnalyzeError::Syntax { .. } => "resource",
            AnalyzeError::Model { .. } => "model",
            AnalyzeError::Training(_) => "training",
            AnalyzeError::Config(_) => "config",
        }
    }
}

/// The `[analyze]` section of a pipeline.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeConfig {
    /// A directory that overrides the bundled resources (dictionaries, lexicons, rules) file by
    /// file, relative to the config file. Edits to it are picked up by
    /// [`SharedAnalyzer::reload_if_changed`].
    #[serde(default)]
    pub resources: Option<PathBuf>,
    /// A category model written by `yuqing train`; without one the lexicon classifier is used.
    #[serde(default)]
    pub model: Option<PathBuf>,
    /// A sentiment model written by `yuqing train --kind sentiment`; without one the sentiment
    /// lexicon is used.
    #[serde(default)]
    pub sentiment_model: Option<PathBuf>,
    /// How many keywords to keep per item.
    #[serde(default = "defaults::keywords")]
    pub keywords: usize,
    /// How many characters of the text (when the item has no title) the tokenizer reads for
    /// keywords; domain terms are found in the whole text regardless.
    #[serde(default = "defaults::keyword_head_chars")]
    pub keyword_head_chars: usize,
    /// Sensitivity at or above which an item counts as a major event: the local government
    /// responds first.
    #[serde(default = "defaults::major_sensitivity")]
    pub major_sensitivity: f64,
    /// Sensitivity of the 谣言 topic at or above which a rumour is taken to harm public order
    /// (公安 and 网信办 respond as well); a rule's `public_order` mark does the same.
    #[serde(default = "defaults::rumour_public_order")]
    pub rumour_public_order: f64,
    /// Characters before a term in which a negation word negates it.
    #[serde(default = "defaults::negation_window")]
    pub negation_window: usize,
    /// Fraction of its weight a negated sensitivity term keeps.
    #[serde(default = "defaults::negated_factor")]
    pub negated_factor: f64,
    /// How much more a category term counts in the title than in the body.
    #[serde(default = "defaults::title_boost")]
    pub title_boost: f64,
    /// The lexicon classifier's minimum score for a category to be given.
    #[serde(default = "defaults::category_min_score")]
    pub category_min_score: f64,
    /// Weight of the names of the taxonomy's second and third levels as category terms.
    #[serde(default = "defaults::taxonomy_term_weight")]
    pub taxonomy_term_weight: f64,
}

mod defaults {
    pub fn keywords() -> usize {
        8
    }
    pub fn keyword_head_chars() -> usize {
        40
    }
    pub fn major_sensitivity() -> f64 {
        0.9
    }
    pub fn rumour_public_order() -> f64 {
        0.6
    }
    pub fn negation_window() -> usize {
        4
    }
    pub fn negated_factor() -> f64 {
        0.2
    }
    pub fn title_boost() -> f64 {
        2.0
    }
    pub fn category_min_score() -> f64 {
        1.5
    }
    pub fn taxonomy_term_weight() -> f64 {
        1.2
    }
}

impl Default for AnalyzeConfig {
    fn default() -> Self {
        AnalyzeConfig {
            resources: None,
            model: None,
            sentiment_model: None,
            keywords: defaults::keywords(),
            keyword_head_chars: defaults::keyword_head_chars(),
            major_sensitivity: defaults::major_sensitivity(),
            rumour_public_order: defaults::rumour_public_order(),
            negation_window: defaults::negation_window(),
            negated_factor: defaults::negated_factor(),
            title_boost: defaults::title_boost(),
            category_min_score: defaults::category_min_score(),
            taxonomy_term_weight: defaults::taxonomy_term_weight(),
        }
    }
}

impl AnalyzeConfig {
    /// Checks the section, recording every problem under `path`.
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        for (key, p) in [
            ("resources", &self.resources),
            ("model", &self.model),
            ("sentiment_model", &self.sentiment_model),
        ] {
            if p.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                problems.at(
                    path,
                    key,
                    "must not be empty (leave it out to use the default)",
                );
            }
        }
        if self.keywords > 50 {
            problems.at(path, "keywords", "must be at most 50");
        }
        if !(8..=2000).contains(&self.keyword_head_chars) {
            problems.at(path, "keyword_head_chars", "must be between 8 and 2000");
        }
        for (key, v) in [
            ("major_sensitivity", self.major_sensitivity),
            ("rumour_public_order", self.rumour_public_order),
            ("negated_factor", self.negated_factor),
        ] {
            if !(0.0..=1.0).contains(&v) || v.is_nan() {
                problems.at(path, key, "must be between 0 and 1");
            }
        }
        if !(1..=20).contains(&self.negation_window) {
            problems.at(
                path,
                "negation_window",
                "must be between 1 and 20 characters",
            );
        }
        if !(self.title_boost.is_finite() && (1.0..=10.0).contains(&self.title_boost)) {
            problems.at(path, "title_boost", "must be between 1 and 10");
        }
        if !(self.category_min_score.is_finite() && self.category_min_score >= 0.0) {
            problems.at(path, "category_min_score", "must be a number >= 0");
        }
        if !(self.taxonomy_term_weight.is_finite()
            && (0.0..=10.0).contains(&self.taxonomy_term_weight))
        {
            problems.at(path, "taxonomy_term_weight", "must be between 0 and 10");
        }
    }

    fn check(&self) -> Result<(), AnalyzeError> {
        let mut p = Problems::new();
        self.validate("analyze", &mut p);
        if p.is_empty() {
            Ok(())
        } else {
            Err(AnalyzeError::Config(p))
        }
    }
}

/// What a matched pattern means. One pattern can mean several things (火灾 is a sensitivity term
/// and a department mandate term).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Payload {
    Sensitivity {
        topic: u16,
        weight: f32,
    },
    Polar {
        strength: f32,
    },
    Intensifier {
        factor: f32,
    },
    Negation,
    Category {
        category: u16,
        sub: u32,
        weight: f32,
    },
    Place {
        alias: u32,
    },
    DeptAlias {
        dept: u16,
    },
    DeptMandate {
        dept: u16,
    },
    RuleTerm {
        term: u32,
    },
    Stopword,
}

/// A pattern of the automaton.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub text: Box<str>,
    pub payloads: Vec<Payload>,
    /// Hash for term features of the model (0 when the pattern is not a model feature).
    pub feature: u64,
}

/// The judgment: loaded once, shared by reference between threads.
pub struct Analyzer {
    pub(crate) cfg: AnalyzeConfig,
    pub(crate) normalizer: Normalizer,
    pub(crate) pma: CharwiseDoubleArrayAhoCorasick<u32>,
    pub(crate) patterns: Vec<Pattern>,
    pub(crate) topics: Vec<String>,
    pub(crate) taxonomy: Vec<Category>,
    /// Subcategory table: (category, `二级` or `二级/三级`).
    pub(crate) subs: Vec<(usize, String)>,
    pub(crate) gazetteer: Gazetteer,
    /// Place aliases: the divisions each may mean.
    pub(crate) place_aliases: Vec<Vec<usize>>,
    pub(crate) departments: Vec<Department>,
    pub(crate) rules: RuleSet,
    pub(crate) jieba: jieba_rs::Jieba,
    pub(crate) tfidf: jieba_rs::TfIdf,
    pub(crate) stopwords: HashSet<String>,
    pub(crate) model: Option<Model>,
    pub(crate) sentiment_model: Option<Model>,
    /// Files read at load (overrides and models), for reload checks.
    pub(crate) watched: Vec<PathBuf>,
    /// Byte length of the longest pattern.
    pub(crate) max_pattern_len: u32,
}

// The daemon shares one analyzer between worker threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Analyzer>();
    assert_send_sync::<SharedAnalyzer>();
};

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("patterns", &self.patterns.len())
            .field("topics", &self.topics)
            .field("categories", &self.taxonomy.len())
            .field("divisions", &self.gazetteer.divisions().len())
            .field("departments", &self.departments.len())
            .field("rules", &self.rules.rules.len())
            .field("model", &self.model.as_ref().map(|m| m.meta().kind))
            .field(
                "sentiment_model",
                &self.sentiment_model.as_ref().map(|m| m.meta().kind),
            )
            .finish()
    }
}

/// Counts of what an analyzer has loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// Distinct patterns in the automaton.
    pub patterns: usize,
    /// Sensitivity topics.
    pub topics: usize,
    /// First-level categories.
    pub categories: usize,
    /// Provinces, cities and counties.
    pub divisions: (usize, usize, usize),
    /// Departments.
    pub departments: usize,
    /// Boolean rules.
    pub rules: usize,
    /// Whether a trained category model is in use.
    pub category_model: bool,
    /// Whether a trained sentiment model is in use.
    pub sentiment_model: bool,
}

impl Analyzer {
    /// The analyzer with the resources bundled in the binary.
    pub fn builtin() -> Result<Analyzer, AnalyzeError> {
        Analyzer::from_parts(
            AnalyzeConfig::default(),
            ResourceSet::bundled(),
            None,
            None,
            Vec::new(),
        )
    }

    /// The analyzer for a pipeline's `[analyze]` section; paths are relative to `base`.
    pub fn load(cfg: &AnalyzeConfig, base: &Path) -> Result<Analyzer, AnalyzeError> {
        cfg.check()?;
        let mut watched = Vec::new();
        let set = match &cfg.resources {
            Some(dir) => {
                let dir = base.join(dir);
                let set = ResourceSet::with_overrides(&dir)?;
                watched.extend(resources::names().map(|n| dir.join(n)));
                set
            }
            None => ResourceSet::bundled(),
        };
        let model = match &cfg.model {
            Some(p) => {
                let p = base.join(p);
                watched.push(p.clone());
                let m = Model::load(&p)?;
                if m.meta().kind != ModelKind::Category {
                    return Err(AnalyzeError::Model {
                        path: p,
                        message: "`model` must be a category model".into(),
                    });
                }
                Some(m)
            }
            None => None,
        };
        let sentiment_model = match &cfg.sentiment_model {
            Some(p) => {
                let p = base.join(p);
                watched.push(p.clone());
                let m = Model::load(&p)?;
                if m.meta().kind != ModelKind::Sentiment {
                    return Err(AnalyzeError::Model {
                        path: p,
                        message: "`sentiment_model` must be a sentiment model".into(),
                    });
                }
                Some(m)
            }
            None => None,
        };
        Analyzer::from_parts(cfg.clone(), set, model, sentiment_model, watched)
    }

    /// This analyzer with a category model in place of the lexicon classifier.
    pub fn with_model(mut self, model: Model) -> Result<Analyzer, AnalyzeError> {
        match model.meta().kind {
            ModelKind::Category => self.model = Some(model),
            ModelKind::Sentiment => self.sentiment_model = Some(model),
        }
        Ok(self)
    }

    /// The configuration in force.
    pub fn config(&self) -> &AnalyzeConfig {
        &self.cfg
    }

    /// What is loaded.
    pub fn inventory(&self) -> Inventory {
        Inventory {
            patterns: self.patterns.len(),
            topics: self.topics.len(),
            categories: self.taxonomy.len(),
            divisions: (
                self.gazetteer.count(Level::Province),
                self.gazetteer.count(Level::City),
                self.gazetteer.count(Level::County),
            ),
            departments: self.departments.len(),
            rules: self.rules.rules.len(),
            category_model: self.model.is_some(),
            sentiment_model: self.sentiment_model.is_some(),
        }
    }

    /// The first-level category names, in taxonomy order.
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.taxonomy.iter().map(|c| c.name.as_str())
    }

    /// The sensitivity topics.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// The gazetteer.
    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gazetteer
    }

    /// The normaliser.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Tokenizes `text` (normalised first) with jieba-rs and the project's dictionaries.
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        let n = self.normalizer.normalize_str(text);
        self.jieba
            .cut(&n, false)
            .into_iter()
            .map(|t| t.word.trim())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn from_parts(
        cfg: AnalyzeConfig,
        set: ResourceSet,
        model: Option<Model>,
        sentiment_model: Option<Model>,
        watched: Vec<PathBuf>,
    ) -> Result<Analyzer, AnalyzeError> {
        let t2s = lexicon::parse_t2s(set.get("t2s.tsv"))?;
        let emoji = lexicon::parse_emoji(set.get("emoji.tsv"))?;
        let normalizer = Normalizer::new(t2s, emoji);
        let norm = |s: &str| normalizer.normalize_str(s);

        let topics_src = lexicon::parse_sensitivity(set.get("sensitivity.txt"))?;
        let negation = lexicon::parse_word_list(set.get("negation.txt"))?;
        let sentiment = lexicon::parse_sentiment(set.get("sentiment.txt"))?;
        let taxonomy = lexicon::parse_taxonomy(set.get("taxonomy.txt"))?;
        let cat_terms = lexicon::parse_category_terms(set.get("category_terms.txt"), &taxonomy)?;
        let departments = departments::parse(set.get("departments.toml"), &taxonomy)?;
        let topics: Vec<String> = topics_src.iter().map(|t| t.name.clone()).collect();
        let rules = RuleSet::parse(set.get("rules.toml"), &topics, &norm)?;
        let userdict = lexicon::parse_userdict(set.get("userdict.txt"))?;
        let stop = lexicon::parse_word_list(set.get("stopwords.txt"))?;

        // The tokenizer: jieba's dictionary plus the project's.
        let mut jieba = jieba_rs::Jieba::new();
        let keep_short = |short: &str, _d: &Division| -> bool {
            // A short county name is matched alone only when it is not an everyday word: either
            // unknown to the general dictionary, or known there as a place name (ns).
            if !jieba.has_word(short) {
                return true;
            }
            jieba
                .tag(short, false)
                .first()
                .is_some_and(|t| t.word == short && t.tag.starts_with("ns"))
        };
        let gazetteer = Gazetteer::parse(set.get("gazetteer.tsv"), &keep_short)?;
        for (w, f, t) in &userdict {
            jieba.add_word(&norm(w), *f, t.as_deref());
        }
        for d in gazetteer.divisions() {
            if !jieba.has_word(&d.name) {
                jieba.add_word(&d.name, Some(300), Some("ns"));
            }
        }
        for d in &departments {
            for a in d.aliases.iter().chain(std::iter::once(&d.name)) {
                let a = norm(a);
                if !jieba.has_word(&a) {
                    jieba.add_word(&a, Some(300), Some("nt"));
                }
            }
        }
        let stopwords: HashSet<String> = stop.iter().map(|(w, _)| norm(w)).collect();
        let mut kcfg = jieba_rs::KeywordExtractConfig::builder().min_keyword_length(2);
        for w in &stopwords {
            kcfg = kcfg.add_stop_word(w.clone());
        }
        // TF-IDF with the default IDF table of jieba (bundled with jieba-rs) and our stop words.
        let mut tfidf = jieba_rs::TfIdf::default();
        *tfidf.config_mut() = kcfg.build();

        // The automaton.
        let mut table: HashMap<String, Pattern> = HashMap::new();
        let mut add = |text: String, p: Payload, feature: bool| {
            if text.is_empty() {
                return;
            }
            let e = table.entry(text.clone()).or_insert_with(|| Pattern {
                text: text.clone().into_boxed_str(),
                payloads: Vec::new(),
                feature: 0,
            });
            e.payloads.push(p);
            if feature {
                e.feature = model::hash_str(&text);
            }
        };
        for (ti, t) in topics_src.iter().enumerate() {
            for term in &t.terms {
                add(
                    norm(&term.text),
                    Payload::Sensitivity {
                        topic: ti as u16,
                        weight: term.weight as f32,
                    },
                    true,
                );
            }
        }
        for (w, _) in &negation {
            add(norm(w), Payload::Negation, false);
        }
        for t in &sentiment.polar {
            add(
                norm(&t.text),
                Payload::Polar {
                    strength: t.weight as f32,
                },
                true,
            );
        }
        for t in &sentiment.intensifiers {
            add(
                norm(&t.text),
                Payload::Intensifier {
                    factor: t.weight as f32,
                },
                false,
            );
        }
        let mut subs: Vec<(usize, String)> = Vec::new();
        let mut sub_id = |cat: usize, path: &str| -> u32 {
            match subs.iter().position(|(c, p)| *c == cat && p == path) {
                Some(i) => i as u32,
                None => {
                    subs.push((cat, path.to_string()));
                    (subs.len() - 1) as u32
                }
            }
        };
        for ct in &cat_terms {
            let sub = ct
                .sub
                .as_deref()
                .map_or(u32::MAX, |s| sub_id(ct.category, s));
            add(
                norm(&ct.term.text),
                Payload::Category {
                    category: ct.category as u16,
                    sub,
                    weight: ct.term.weight as f32,
                },
                true,
            );
        }
        if cfg.taxonomy_term_weight > 0.0 {
            for (ci, c) in taxonomy.iter().enumerate() {
                for (second, thirds) in &c.subs {
                    let mut names: Vec<(String, String)> = vec![(second.clone(), second.clone())];
                    for t in thirds {
                        names.push((t.clone(), format!("{second}/{t}")));
                    }
                    for (name, path) in names {
                        if name == "其他" || name.chars().count() < 2 {
                            continue;
                        }
                        let sub = sub_id(ci, &path);
                        // Names such as 房产证登记、办理 are matched by their parts.
                        for part in name.split(['、', '和', '与', '及']) {
                            if part.chars().count() >= 2 {
                                add(
                                    norm(part),
                                    Payload::Category {
                                        category: ci as u16,
                                        sub,
                                        weight: cfg.taxonomy_term_weight as f32,
                                    },
                                    true,
                                );
                            }
                        }
                    }
                }
            }
        }
        let mut place_aliases: Vec<Vec<usize>> = Vec::new();
        let mut aliases: Vec<(&str, &[usize])> = gazetteer.aliases().collect();
        aliases.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (alias, divs) in aliases {
            place_aliases.push(divs.to_vec());
            add(
                norm(alias),
                Payload::Place {
                    alias: (place_aliases.len() - 1) as u32,
                },
                false,
            );
        }
        for (di, d) in departments.iter().enumerate() {
            let mut names: Vec<&String> = d.aliases.iter().collect();
            names.push(&d.name);
            names.sort();
            names.dedup();
            for a in names {
                add(norm(a), Payload::DeptAlias { dept: di as u16 }, false);
            }
            for m in &d.mandate {
                add(norm(m), Payload::DeptMandate { dept: di as u16 }, false);
            }
        }
        for (ti, t) in rules.terms.iter().enumerate() {
            add(t.clone(), Payload::RuleTerm { term: ti as u32 }, false);
        }
        for w in &stopwords {
            add(w.clone(), Payload::Stopword, false);
        }
        let mut patterns: Vec<Pattern> = table.into_values().collect();
        patterns.sort_unstable_by(|a, b| a.text.cmp(&b.text));
        let pma = CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build_with_values(
                patterns
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.text.as_ref(), i as u32)),
            )
            .map_err(|e| AnalyzeError::Resource {
                path: PathBuf::from("<automaton>"),
                message: e.to_string(),
            })?;
        let max_pattern_len = patterns.iter().map(|p| p.text.len()).max().unwrap_or(0) as u32;
        let analyzer = Analyzer {
            max_pattern_len,
            cfg,
            normalizer,
            pma,
            patterns,
            topics,
            taxonomy,
            subs,
            gazetteer,
            place_aliases,
            departments,
            rules,
            jieba,
            tfidf,
            stopwords,
            model,
            sentiment_model,
            watched,
        };
        metrics::loaded(&analyzer);
        Ok(analyzer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_validation() {
        let cfg: AnalyzeConfig = toml::from_str("").unwrap();
        assert_eq!(cfg, AnalyzeConfig::default());
        let mut p = Problems::new();
        cfg.validate("analyze", &mut p);
        assert!(p.is_empty(), "{p}");
        let bad: AnalyzeConfig = toml::from_str(
            "keywords = 99\nnegated_factor = 2.0\nmodel = \"\"\nnegation_window = 0",
        )
        .unwrap();
        let mut p = Problems::new();
        bad.validate("pipelines[0].analyze", &mut p);
        let text = p.to_string();
        assert!(
            text.contains("pipelines[0].analyze.keywords: must be at most 50"),
            "{text}"
        );
        assert!(
            text.contains("pipelines[0].analyze.negated_factor"),
            "{text}"
        );
        assert!(text.contains("pipelines[0].analyze.model"), "{text}");
        assert!(
            text.contains("pipelines[0].analyze.negation_window"),
            "{text}"
        );
        assert!(toml::from_str::<AnalyzeConfig>("unknown = 1").is_err());
    }

    #[test]
    fn builtin_loads_everything() {
        let a = shared::tests_support::builtin();
        let inv = a.inventory();
        assert_eq!(inv.categories, 15);
        assert!(inv.topics >= 13);
        assert_eq!(inv.divisions.0, 34);
        assert!(inv.divisions.2 >= 2800);
        assert!(inv.rules >= 10);
        assert!(!inv.category_model);
        let cats: Vec<&str> = a.categories().collect();
        assert_eq!(cats[0], "城乡建设");
        assert_eq!(cats[14], "科技与信息产业");
    }

    #[test]
    fn tokenizer_knows_the_project_dictionaries() {
        let a = shared::tests_support::builtin();
        let toks = a.tokenize("番禺区人社局拖欠工资");
        assert!(toks.contains(&"番禺区".to_string()), "{toks:?}");
        assert!(toks.contains(&"人社局".to_string()), "{toks:?}");
        assert!(toks.contains(&"拖欠工资".to_string()), "{toks:?}");
    }
}
