//! Training: labelled items in, a [`Model`] out (what `yuqing train` calls).

use std::io::BufRead;
use std::path::Path;

use tracing::warn;
use yuqing_core::Item;

use crate::judge::Scratch;
use crate::model::{fit, Model, Sparse, TrainOptions};
use crate::resources::ResourceSet;
use crate::{AnalyzeConfig, AnalyzeError, Analyzer};

/// Fits a linear model on items that carry a `label` (category names for
/// [`crate::ModelKind::Category`]; `negative` / `neutral` / `positive` or `negative` /
/// `non_negative` for [`crate::ModelKind::Sentiment`]). Items without a label are skipped and
/// counted in a warning. Term features come from the bundled lexicons, or from
/// `opts.resources`.
pub fn train(items: &[Item], opts: &TrainOptions) -> Result<Model, AnalyzeError> {
    let analyzer = match &opts.resources {
        Some(dir) => Analyzer::from_parts(
            AnalyzeConfig::default(),
            ResourceSet::with_overrides(dir)?,
            None,
            None,
            Vec::new(),
        )?,
        None => Analyzer::builtin()?,
    };
    analyzer.train(items, opts)
}

impl Analyzer {
    /// Fits a model with this analyzer's lexicons as term features (see [`train`]).
    pub fn train(&self, items: &[Item], opts: &TrainOptions) -> Result<Model, AnalyzeError> {
        if !(16..=22).contains(&opts.bits) {
            return Err(AnalyzeError::Training(format!(
                "bits must be between 16 and 22, not {}",
                opts.bits
            )));
        }
        if !(opts.c.is_finite() && opts.c > 0.0) {
            return Err(AnalyzeError::Training("c must be a positive number".into()));
        }
        let mut classes: Vec<String> = Vec::new();
        let mut xs: Vec<Sparse> = Vec::with_capacity(items.len());
        let mut ys: Vec<usize> = Vec::with_capacity(items.len());
        let mut skipped = 0usize;
        let mut s = Scratch::default();
        for item in items {
            let Some(label) = item
                .label
                .as_deref()
                .map(str::trim)
                .filter(|l| !l.is_empty())
            else {
                skipped += 1;
                continue;
            };
            let y = match classes.iter().position(|c| c == label) {
                Some(i) => i,
                None => {
                    classes.push(label.to_string());
                    classes.len() - 1
                }
            };
            self.scan(item, &mut s);
            self.features(&mut s, opts.bits);
            xs.push(std::mem::take(&mut s.sparse));
            ys.push(y);
        }
        if skipped > 0 {
            warn!(skipped, "Training items without a label were skipped.");
        }
        if classes.len() < 2 {
            return Err(AnalyzeError::Training(format!(
                "need at least two labels, found {} in {} labelled items",
                classes.len(),
                xs.len()
            )));
        }
        // A stable class order: sorted by name.
        let mut order: Vec<usize> = (0..classes.len()).collect();
        order.sort_by(|a, b| classes[*a].cmp(&classes[*b]));
        let mut remap = vec![0usize; classes.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old] = new;
        }
        let sorted: Vec<String> = order.iter().map(|&i| classes[i].clone()).collect();
        let ys: Vec<usize> = ys.into_iter().map(|y| remap[y]).collect();
        fit(&xs, &ys, sorted, opts)
    }

    /// The label `model` gives `item` (with this analyzer's features), and its decision values.
    pub fn predict(&self, model: &Model, item: &Item) -> (String, Vec<f32>) {
        let mut s = Scratch::default();
        self.scan(item, &mut s);
        self.features(&mut s, model.meta().bits);
        let p = model.predict(&s.sparse, &mut s.values, 0);
        (model.classes()[p.class].clone(), p.scores)
    }
}

/// Labelled items read from a JSON Lines file, with the lines that could not be used.
#[derive(Debug, Default)]
pub struct Dataset {
    /// The items.
    pub items: Vec<Item>,
    /// Lines skipped, with their numbers and why.
    pub skipped: Vec<(usize, String)>,
}

impl Dataset {
    /// Reads items (one JSON object per line); bad lines are skipped and listed.
    pub fn from_jsonl(path: &Path) -> Result<Dataset, AnalyzeError> {
        let f = std::fs::File::open(path).map_err(|source| AnalyzeError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut d = Dataset::default();
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|source| AnalyzeError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            match Item::from_json(line.as_bytes()) {
                Ok(item) => d.items.push(item),
                Err(e) => d.skipped.push((i + 1, e.to_string())),
            }
        }
        Ok(d)
    }
}
