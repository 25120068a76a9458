//! The trainable linear model: hashed word and character n-gram features, one-vs-rest linear SVMs
//! (L2-regularised, squared hinge loss, fitted by dual coordinate descent as in LIBLINEAR), saved in
//! a compact binary file.
//!
//! Features (see [`Features`]): character unigrams and bigrams of the body and, in their own
//! namespace, of the title; and the lexicon terms the shared automaton found (category terms,
//! sensitivity terms, sentiment terms), which act as word features. Values are sublinear term
//! frequencies times an IDF learned at training, L2-normalised per namespace.

use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::AnalyzeError;

const MAGIC: &[u8; 8] = b"YQMODEL\x01";

/// Feature namespaces.
pub(crate) const NS_BODY: u8 = 0;
pub(crate) const NS_TITLE: u8 = 1;
pub(crate) const NS_TERM: u8 = 2;
const NAMESPACES: usize = 3;

/// One raw feature before aggregation: its hash bucket and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Feat {
    /// Hash bucket.
    pub bucket: u32,
    /// Namespace.
    pub ns: u8,
    /// Byte offset of the source text (for explanations).
    pub start: u32,
    /// Byte length of the source text.
    pub len: u16,
    /// How many occurrences this feature stands for.
    pub weight: u16,
}

/// The features of one text, reused between items.
#[derive(Debug, Default, Clone)]
pub struct Features {
    /// Raw features (one per occurrence).
    pub raw: Vec<Feat>,
    /// Open-addressing table of the aggregation, reused.
    table: Vec<u64>,
}

#[inline]
fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser: fast, well distributed, identical on every platform.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A stable 64-bit hash of a string (for term features).
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

#[inline]
fn bucket(h: u64, bits: u8) -> u32 {
    (h >> (64 - bits as u32)) as u32
}

#[inline]
fn is_feature_char(c: char) -> bool {
    let u = c as u32;
    if (0x4E00..=0x9FFF).contains(&u) || c.is_ascii_alphanumeric() || c == '[' || c == ']' {
        return true;
    }
    // General punctuation (“ ” … ‰) and CJK punctuation (、 。 《 》 【 】), common in Chinese text,
    // hold no letters or digits: answered without the Unicode tables.
    if (0x2000..=0x206F).contains(&u)
        || (0x3000..=0x3004).contains(&u)
        || (0x3008..=0x3020).contains(&u)
    {
        return false;
    }
    u >= 0x80 && c.is_alphanumeric()
}

/// Sublinear term frequency `1 + ln n` (1 for n = 1).
#[inline]
fn sublinear_tf(n: u32) -> f32 {
    if n == 1 {
        1.0
    } else {
        1.0 + (n as f32).ln()
    }
}

impl Features {
    /// Clears for reuse.
    pub fn clear(&mut self) {
        self.raw.clear();
    }

    /// Adds character unigrams and bigrams of `text` (at byte offset `base` of the item text).
    pub fn add_chars(&mut self, text: &str, base: usize, ns: u8, bits: u8) {
        let mut prev: Option<(char, usize)> = None;
        for (i, c) in text.char_indices() {
            if !is_feature_char(c) {
                prev = None;
                continue;
            }
            let c = c as u64;
            let uni = mix((ns as u64) << 56 | 1 << 48 | c);
            self.raw.push(Feat {
                bucket: bucket(uni, bits),
                ns,
                start: (base + i) as u32,
                len: text[i..].chars().next().map_or(1, char::len_utf8) as u16,
                weight: 1,
            });
            if let Some((p, pi)) = prev {
                let bi = mix((ns as u64) << 56 | 2 << 48 | (p as u64) << 24 | c);
                let end = i + text[i..].chars().next().map_or(1, char::len_utf8);
                self.raw.push(Feat {
                    bucket: bucket(bi, bits),
                    ns,
                    start: (base + pi) as u32,
                    len: (end - pi) as u16,
                    weight: 1,
                });
            }
            prev = char::from_u32(c as u32).map(|ch| (ch, i));
        }
    }

    /// Adds a term feature (a lexicon term found at `start..start+len`).
    pub fn add_term(&mut self, term_hash: u64, start: usize, len: usize, bits: u8) {
        self.raw.push(Feat {
            bucket: bucket(mix(term_hash ^ (NS_TERM as u64) << 56), bits),
            ns: NS_TERM,
            start: start as u32,
            len: len.min(u16::MAX as usize) as u16,
            weight: 1,
        });
    }
}

/// Aggregated sparse vector: (bucket, namespace, count, index of the first raw feature), in the
/// order of the features' first occurrences.
#[derive(Debug, Default, Clone)]
pub struct Sparse {
    /// Unique features.
    pub items: Vec<(u32, u8, u32, u32)>,
}

impl Sparse {
    /// Aggregates raw features: one item per (bucket, namespace), with the summed weights and the
    /// index of its first raw feature. A small open-addressing table (at most half full, reused
    /// between items) replaces sorting the raw features.
    pub fn from_features(feats: &mut Features, out: &mut Sparse) {
        out.items.clear();
        let Features { raw, table } = feats;
        let size = (raw.len() * 2).next_power_of_two().max(16);
        let shift = 64 - size.trailing_zeros();
        let mask = size - 1;
        table.clear();
        table.resize(size, 0);
        // Entries: namespace (8 bits) and bucket (32 bits) above 1 + the item's index (24 bits),
        // 0 when empty; the key is compared without reading the item.
        const INDEX: u64 = (1 << 24) - 1;
        if raw.len() >= INDEX as usize {
            return Sparse::aggregate_large(raw, out);
        }
        for (i, f) in raw.iter().enumerate() {
            let key = (f.ns as u64) << 32 | f.bucket as u64;
            let mut h = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> shift) as usize;
            loop {
                let e = table[h];
                if e == 0 {
                    out.items.push((f.bucket, f.ns, f.weight as u32, i as u32));
                    table[h] = key << 24 | out.items.len() as u64;
                    break;
                }
                if e >> 24 == key {
                    out.items[(e & INDEX) as usize - 1].2 += f.weight as u32;
                    break;
                }
                h = (h + 1) & mask;
            }
        }
    }

    /// The aggregation for more raw features than the table's entries can index (not met in
    /// practice): a sort, then items in first-occurrence order.
    fn aggregate_large(raw: &[Feat], out: &mut Sparse) {
        let mut keys: Vec<(u32, u8, u32)> = raw
            .iter()
            .enumerate()
            .map(|(i, f)| (f.bucket, f.ns, i as u32))
            .collect();
        keys.sort_unstable();
        for (j, &(b, ns, i)) in keys.iter().enumerate() {
            let w = raw[i as usize].weight as u32;
            match out.items.last_mut() {
                Some(last) if j > 0 && last.0 == b && last.1 == ns => last.2 += w,
                _ => out.items.push((b, ns, w, i)),
            }
        }
        out.items.sort_unstable_by_key(|it| it.3);
    }
}

/// What a model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// First-level category (labels are category names).
    Category,
    /// Sentiment (labels `negative`, `neutral`, `positive`, or `negative` / `non_negative`).
    Sentiment,
}

/// Options of [`crate::train`].
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// What to fit.
    pub kind: ModelKind,
    /// log2 of the number of hash buckets (16..=22).
    pub bits: u8,
    /// SVM cost C (larger fits the training data more closely).
    pub c: f64,
    /// Weight classes inversely to their frequency (better macro-F1 on unbalanced data).
    pub balanced: bool,
    /// Maximum passes over the data per class.
    pub max_epochs: usize,
    /// Stop when the projected-gradient spread falls below this.
    pub tolerance: f64,
    /// Weight of the title block relative to the body block.
    pub title_weight: f32,
    /// Weight of the lexicon-term block relative to the body block.
    pub term_weight: f32,

    /// Seed of the coordinate order.
    pub seed: u64,
    /// Resources (lexicons) to take term features from; the bundled ones when `None`.
    pub resources: Option<std::path::PathBuf>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            kind: ModelKind::Category,
            bits: 18,
            c: 1.0,
            balanced: true,
            max_epochs: 60,
            tolerance: 0.05,
            title_weight: 1.0,
            term_weight: 0.6,
            seed: 7,
            resources: None,
        }
    }
}

/// Facts about a model, stored in its header.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelMeta {
    /// File format version.
    pub format: u32,
    /// What it predicts.
    pub kind: ModelKind,
    /// Class labels.
    pub classes: Vec<String>,
    /// Hash bits.
    pub bits: u8,
    /// Title block weight.
    pub title_weight: f32,
    /// Term block weight.
    pub term_weight: f32,

    /// Items it was trained on.
    pub trained_items: usize,
    /// Items per class.
    pub class_counts: Vec<usize>,
    /// The C used.
    pub c: f64,
}

/// A trained linear model.
#[derive(Clone)]
pub struct Model {
    pub(crate) meta: ModelMeta,
    /// Row per bucket: `[idf, w_1 … w_K]`.
    rows: Vec<f32>,
    bias: Vec<f32>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("meta", &self.meta)
            .field("nonzero_rows", &self.nonzero_rows())
            .finish()
    }
}

/// A scored prediction with the features that contributed most.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// Index of the best class.
    pub class: usize,
    /// Decision values of every class.
    pub scores: Vec<f32>,
    /// Top contributing features to the best class: (index into `Sparse::items`, contribution).
    pub top: Vec<(usize, f32)>,
}

impl Model {
    /// The header.
    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// Class labels.
    pub fn classes(&self) -> &[String] {
        &self.meta.classes
    }

    fn width(&self) -> usize {
        self.meta.classes.len() + 1
    }

    fn nonzero_rows(&self) -> usize {
        self.rows
            .chunks(self.width())
            .filter(|r| r[0] != 0.0)
            .count()
    }

    /// Feature values (sublinear tf × idf, L2 per namespace, scaled by block weights), parallel to
    /// `x.items`; 0 for buckets unseen in training.
    pub fn values(&self, x: &Sparse, out: &mut Vec<f32>) {
        out.clear();
        let w = self.width();
        let mut norms = [0f32; NAMESPACES];
        for &(b, ns, n, _) in &x.items {
            let idf = self.rows[b as usize * w];
            let v = if idf == 0.0 {
                0.0
            } else {
                (1.0 + (n as f32).ln()) * idf
            };
            norms[ns as usize] += v * v;
            out.push(v);
        }
        let f = self.block_factors(&norms);
        for (v, &(_, ns, _, _)) in out.iter_mut().zip(&x.items) {
            *v *= f[ns as usize];
        }
    }

    /// Scores every class; `top_k` contributing features of the best class are kept. One pass over
    /// the model rows: partial sums per namespace are normalised at the end.
    pub fn predict(&self, x: &Sparse, values: &mut Vec<f32>, top_k: usize) -> Prediction {
        let k = self.meta.classes.len();
        let w = self.width();
        values.clear();
        // Per namespace: the sum of value × weight of every class, at 1..=k (0 unused).
        let mut partial = vec![0f32; NAMESPACES * w];
        // Rows of a known width have the inner loop unrolled (and vectorised).
        let norms = match w {
            3 => self.accumulate::<3>(x, values, &mut partial),
            4 => self.accumulate::<4>(x, values, &mut partial),
            8 => self.accumulate::<8>(x, values, &mut partial),
            16 => self.accumulate::<16>(x, values, &mut partial),
            _ => self.accumulate_any(x, values, &mut partial),
        };
        let f = self.block_factors(&norms);
        let mut scores = self.bias.clone();
        for (ns, fs) in f.iter().enumerate() {
            if *fs == 0.0 {
                continue;
            }
            for (c, s) in scores.iter_mut().enumerate() {
                *s += fs * partial[ns * w + 1 + c];
            }
        }
        for (v, &(_, ns, _, _)) in values.iter_mut().zip(&x.items) {
            *v *= f[ns as usize % NAMESPACES];
        }
        let class = argmax(&scores);
        let mut top: Vec<(usize, f32)> = Vec::with_capacity(top_k);
        if top_k > 0 && k > 0 {
            for (i, (&(b, _, _, _), &v)) in x.items.iter().zip(values.iter()).enumerate() {
                if v == 0.0 {
                    continue;
                }
                let c = v * self
                    .rows
                    .get(b as usize * w + 1 + class)
                    .copied()
                    .unwrap_or(0.0);
                if c > 0.0 {
                    push_top(&mut top, top_k, (i, c));
                }
            }
        }
        Prediction { class, scores, top }
    }

    /// The unnormalised values of `x` into `values`, and per namespace the sums of value × row
    /// into `partial` (`NAMESPACES` blocks of `W`); returns the squared norms per namespace.
    #[inline(always)]
    fn accumulate<const W: usize>(
        &self,
        x: &Sparse,
        values: &mut Vec<f32>,
        partial: &mut [f32],
    ) -> [f32; NAMESPACES] {
        let mut norms = [0f32; NAMESPACES];
        let mut acc = [[0f32; W]; NAMESPACES];
        for &(b, ns, n, _) in &x.items {
            let at = b as usize * W;
            let Some(Ok(row)) = self.rows.get(at..at + W).map(<&[f32; W]>::try_from) else {
                values.push(0.0);
                continue;
            };
            let idf = row[0];
            if idf == 0.0 {
                values.push(0.0);
                continue;
            }
            let v = sublinear_tf(n) * idf;
            values.push(v);
            let ns = ns as usize % NAMESPACES;
            norms[ns] += v * v;
            // Features come in runs of one namespace (title, body, terms): the branch predicts.
            let a = &mut acc[ns];
            for j in 0..W {
                a[j] += v * row[j];
            }
        }
        for (p, a) in partial.chunks_exact_mut(W).zip(&acc) {
            p.copy_from_slice(a);
        }
        norms
    }

    /// [`Model::accumulate`] for any row width.
    fn accumulate_any(
        &self,
        x: &Sparse,
        values: &mut Vec<f32>,
        partial: &mut [f32],
    ) -> [f32; NAMESPACES] {
        let w = self.width();
        let mut norms = [0f32; NAMESPACES];
        for &(b, ns, n, _) in &x.items {
            let Some(row) = self.rows.get(b as usize * w..(b as usize + 1) * w) else {
                values.push(0.0);
                continue;
            };
            let idf = row[0];
            if idf == 0.0 {
                values.push(0.0);
                continue;
            }
            let v = sublinear_tf(n) * idf;
            values.push(v);
            let ns = ns as usize % NAMESPACES;
            norms[ns] += v * v;
            for (s, wt) in partial[ns * w..(ns + 1) * w].iter_mut().zip(row) {
                *s += v * wt;
            }
        }
        norms
    }

    fn block_factors(&self, norms: &[f32; NAMESPACES]) -> [f32; NAMESPACES] {
        let scale: [f32; NAMESPACES] = [1.0, self.meta.title_weight, self.meta.term_weight];
        let mut f = [0f32; NAMESPACES];
        for k in 0..NAMESPACES {
            f[k] = if norms[k] > 0.0 {
                scale[k] / norms[k].sqrt()
            } else {
                0.0
            };
        }
        f
    }

    /// Writes the model to `path`.
    pub fn save(&self, path: &Path) -> Result<(), AnalyzeError> {
        let io = |source| AnalyzeError::Io {
            path: path.to_path_buf(),
            source,
        };
        let header = serde_json::to_vec(&self.meta).map_err(|e| AnalyzeError::Model {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let w = self.width();
        let mut buf: Vec<u8> = Vec::with_capacity(16 + header.len() + self.rows.len());
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&(header.len() as u32).to_le_bytes());
        buf.extend_from_slice(&header);
        for b in &self.bias {
            buf.extend_from_slice(&b.to_le_bytes());
        }
        let nz: Vec<usize> = (0..self.rows.len() / w)
            .filter(|&i| self.rows[i * w] != 0.0)
            .collect();
        buf.extend_from_slice(&(nz.len() as u32).to_le_bytes());
        for i in nz {
            buf.extend_from_slice(&(i as u32).to_le_bytes());
            for v in &self.rows[i * w..(i + 1) * w] {
                buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&buf).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a model written by [`Model::save`].
    pub fn load(path: &Path) -> Result<Model, AnalyzeError> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| AnalyzeError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Model::from_bytes(&bytes).map_err(|message| AnalyzeError::Model {
            path: path.to_path_buf(),
            message,
        })
    }

    fn from_bytes(bytes: &[u8]) -> Result<Model, String> {
        let mut r = Reader { b: bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err("not a yuqing model (bad magic)".into());
        }
        let hl = r.u32()? as usize;
        let meta: ModelMeta =
            serde_json::from_slice(r.take(hl)?).map_err(|e| format!("bad header: {e}"))?;
        if meta.format != 1 {
            return Err(format!("unsupported model format {}", meta.format));
        }
        if !(10..=24).contains(&meta.bits) || meta.classes.len() < 2 {
            return Err("bad header: bits or classes out of range".into());
        }
        let k = meta.classes.len();
        let w = k + 1;
        let mut bias = Vec::with_capacity(k);
        for _ in 0..k {
            bias.push(r.f32()?);
        }
        let dims = 1usize << meta.bits;
        let mut rows = vec![0f32; dims * w];
        let n = r.u32()? as usize;
        for _ in 0..n {
            let i = r.u32()? as usize;
            if i >= dims {
                return Err(format!("bucket {i} out of range"));
            }
            for j in 0..w {
                rows[i * w + j] = r.f32()?;
            }
        }
        if r.at != bytes.len() {
            return Err("trailing bytes".into());
        }
        if rows.iter().chain(&bias).any(|v| !v.is_finite()) {
            return Err("non-finite weights".into());
        }
        Ok(Model { meta, rows, bias })
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).ok_or("truncated")?;
        let s = self.b.get(self.at..end).ok_or("truncated file")?;
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_bits(self.u32()?))
    }
}

/// Keeps the `k` largest contributions seen so far, largest first; among equal ones the earlier
/// stays ahead (what a stable sort of all of them, truncated to `k`, gives).
fn push_top(top: &mut Vec<(usize, f32)>, k: usize, x: (usize, f32)) {
    if top.len() == k && top.last().is_some_and(|l| l.1.total_cmp(&x.1).is_ge()) {
        return;
    }
    let at = top.partition_point(|t| t.1.total_cmp(&x.1).is_ge());
    if top.len() == k {
        top.pop();
    }
    top.insert(at, x);
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Fits a model on aggregated examples (`xs[i]` with label index `ys[i]`).
pub(crate) fn fit(
    xs: &[Sparse],
    ys: &[usize],
    classes: Vec<String>,
    opts: &TrainOptions,
) -> Result<Model, AnalyzeError> {
    let k = classes.len();
    let n = xs.len();
    let dims = 1usize << opts.bits;
    let w = k + 1;
    // IDF per bucket.
    let mut df = vec![0u32; dims];
    for x in xs {
        for &(b, _, _, _) in &x.items {
            df[b as usize] += 1;
        }
    }
    let mut rows = vec![0f32; dims * w];
    for (b, &d) in df.iter().enumerate() {
        if d > 0 {
            rows[b * w] = ((1.0 + n as f64) / (1.0 + d as f64)).ln() as f32 + 1.0;
        }
    }
    drop(df);
    let mut class_counts = vec![0usize; k];
    for &y in ys {
        class_counts[y] += 1;
    }
    let mut model = Model {
        meta: ModelMeta {
            format: 1,
            kind: opts.kind,
            classes,
            bits: opts.bits,
            title_weight: opts.title_weight,
            term_weight: opts.term_weight,
            trained_items: n,
            class_counts: class_counts.clone(),
            c: opts.c,
        },
        rows,
        bias: vec![0.0; k],
    };
    // Feature values once.
    let mut vals: Vec<Vec<(u32, f32)>> = Vec::with_capacity(n);
    let mut buf = Vec::new();
    for x in xs {
        model.values(x, &mut buf);
        vals.push(
            x.items
                .iter()
                .zip(&buf)
                .filter(|(_, v)| **v != 0.0)
                .map(|(it, v)| (it.0, *v))
                .collect(),
        );
    }
    const BIAS: f32 = 1.0;
    let qii: Vec<f32> = vals
        .iter()
        .map(|v| v.iter().map(|(_, x)| x * x).sum::<f32>() + BIAS * BIAS)
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = opts.seed.max(1);
    let classes_to_fit: Vec<usize> = if k == 2 { vec![0, 1] } else { (0..k).collect() };
    for c in classes_to_fit {
        let pos = class_counts[c].max(1) as f64;
        let neg = (n - class_counts[c]).max(1) as f64;
        let (cp, cn) = if opts.balanced {
            (
                opts.c * n as f64 / (2.0 * pos),
                opts.c * n as f64 / (2.0 * neg),
            )
        } else {
            (opts.c, opts.c)
        };
        let mut wv = vec![0f32; dims];
        let mut b = 0f32;
        let mut alpha = vec![0f32; n];
        for _epoch in 0..opts.max_epochs {
            // Fisher–Yates with xorshift.
            for i in (1..n).rev() {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let j = (rng % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            let mut pg_max = f32::NEG_INFINITY;
            let mut pg_min = f32::INFINITY;
            for &i in &order {
                let y: f32 = if ys[i] == c { 1.0 } else { -1.0 };
                let ci = if y > 0.0 { cp } else { cn };
                let d = (0.5 / ci) as f32;
                let mut dot = b * BIAS;
                for &(j, x) in &vals[i] {
                    dot += wv[j as usize] * x;
                }
                let g = y * dot - 1.0 + d * alpha[i];
                let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
                pg_max = pg_max.max(pg);
                pg_min = pg_min.min(pg);
                if pg.abs() > 1e-12 {
                    let old = alpha[i];
                    alpha[i] = (alpha[i] - g / (qii[i] + d)).max(0.0);
                    let delta = (alpha[i] - old) * y;
                    if delta != 0.0 {
                        for &(j, x) in &vals[i] {
                            wv[j as usize] += delta * x;
                        }
                        b += delta * BIAS;
                    }
                }
            }
            if pg_max - pg_min < opts.tolerance as f32 {
                break;
            }
        }
        for (j, v) in wv.iter().enumerate() {
            if *v != 0.0 {
                model.rows[j * w + 1 + c] = *v;
            }
        }
        model.bias[c] = b;
    }
    if model.rows.iter().any(|v| !v.is_finite()) {
        return Err(AnalyzeError::Training(
            "the fit diverged (non-finite weights)".into(),
        ));
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sparse(text: &str, bits: u8) -> Sparse {
        let mut f = Features::default();
        f.add_chars(text, 0, NS_BODY, bits);
        let mut s = Sparse::default();
        Sparse::from_features(&mut f, &mut s);
        s
    }

    #[test]
    fn features_are_unigrams_and_bigrams_within_runs() {
        let mut f = Features::default();
        f.add_chars("工资，拖欠", 0, NS_BODY, 16);
        // 工 资 工资 | 拖 欠 拖欠
        assert_eq!(f.raw.len(), 6);
        let b = f.raw.iter().find(|x| x.len == 6).unwrap();
        assert_eq!(
            &"工资，拖欠"[b.start as usize..b.start as usize + b.len as usize],
            "工资"
        );
    }

    #[test]
    fn fits_a_separable_problem_and_round_trips() {
        let texts = [
            ("拖欠工资三个月", 0),
            ("公司不发工资", 0),
            ("工资被克扣", 0),
            ("小区物业乱收费", 1),
            ("物业不作为", 1),
            ("小区停车难物业", 1),
        ];
        let xs: Vec<Sparse> = texts.iter().map(|(t, _)| sparse(t, 16)).collect();
        let ys: Vec<usize> = texts.iter().map(|(_, y)| *y).collect();
        let opts = TrainOptions {
            bits: 16,
            ..TrainOptions::default()
        };
        let m = fit(&xs, &ys, vec!["劳动".into(), "城建".into()], &opts).unwrap();
        let mut v = Vec::new();
        assert_eq!(m.predict(&sparse("老板拖欠工资", 16), &mut v, 3).class, 0);
        let p = m.predict(&sparse("物业公司", 16), &mut v, 3);
        assert_eq!(p.class, 1);
        assert!(!p.top.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bin");
        m.save(&path).unwrap();
        let back = Model::load(&path).unwrap();
        assert_eq!(back.meta, m.meta);
        for (t, _) in texts {
            let a = m.predict(&sparse(t, 16), &mut v, 0).scores;
            let b = back.predict(&sparse(t, 16), &mut v, 0).scores;
            assert_eq!(a, b);
        }
    }

    /// The aggregation by sorting that `from_features` replaced.
    fn aggregate_by_sorting(raw: &[Feat]) -> Vec<(u32, u8, u32, u32)> {
        let mut keys: Vec<u64> = raw
            .iter()
            .enumerate()
            .map(|(i, f)| (f.bucket as u64) << 34 | (f.ns as u64) << 32 | i as u64)
            .collect();
        keys.sort_unstable();
        let mut out = Vec::new();
        let mut i = 0;
        while i < keys.len() {
            let group = keys[i] >> 32;
            let first = (keys[i] & 0xffff_ffff) as usize;
            let mut n = 0u32;
            let mut j = i;
            while j < keys.len() && keys[j] >> 32 == group {
                n += raw[(keys[j] & 0xffff_ffff) as usize].weight as u32;
                j += 1;
            }
            let f = raw[first];
            out.push((f.bucket, f.ns, n, first as u32));
            i = j;
        }
        out
    }

    #[test]
    fn aggregation_equals_sorting_the_raw_features() {
        let texts = [
            "",
            "工资",
            "拖欠工资拖欠工资，拖欠工资！工资工资工资",
            "A市B区物业乱收费，业主多次投诉无果。物业公司称收费合规；业主：不合规！2024年3月起每月多收50元。",
            "aaaa bbbb aaaa 1234 1234 ①② Ｘ市",
        ];
        let mut f = Features::default();
        let mut s = Sparse::default();
        for bits in [10u8, 16, 18] {
            for (n, t) in texts.iter().enumerate() {
                // Reuse the buffers across items, as judging does.
                f.clear();
                f.add_chars(texts[(n + 1) % texts.len()], 0, NS_TITLE, bits);
                f.add_chars(t, 0, NS_BODY, bits);
                for (i, w) in ["工资", "物业", "投诉", "工资"].iter().enumerate() {
                    if t.contains(w) {
                        f.add_term(hash_str(w), i, w.len(), bits);
                    }
                }
                Sparse::from_features(&mut f, &mut s);
                let mut got = s.items.clone();
                got.sort_unstable();
                let want = aggregate_by_sorting(&f.raw);
                assert_eq!(got, want, "bits={bits} text={t}");
                // First occurrences come in order.
                assert!(s.items.windows(2).all(|w| w[0].3 < w[1].3));
            }
        }
        // Small tables collide a lot: every raw feature in one of few buckets.
        f.clear();
        for i in 0..1000u32 {
            f.raw.push(Feat {
                bucket: i % 37,
                ns: (i % 3) as u8,
                start: i,
                len: 1,
                weight: 1 + (i % 2) as u16,
            });
        }
        Sparse::from_features(&mut f, &mut s);
        let mut got = s.items.clone();
        got.sort_unstable();
        assert_eq!(got, aggregate_by_sorting(&f.raw));
    }

    #[test]
    fn large_inputs_aggregate_alike() {
        let raw: Vec<Feat> = (0..5000u32)
            .map(|i| Feat {
                bucket: (i * 7919) % 613,
                ns: (i % 3) as u8,
                start: i,
                len: 1,
                weight: 1 + (i % 4) as u16,
            })
            .collect();
        let mut small = Sparse::default();
        Sparse::from_features(
            &mut Features {
                raw: raw.clone(),
                table: Vec::new(),
            },
            &mut small,
        );
        let mut large = Sparse::default();
        Sparse::aggregate_large(&raw, &mut large);
        assert_eq!(small.items, large.items);
    }

    #[test]
    fn the_feature_character_shortcut_agrees_with_unicode() {
        for u in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(u) else { continue };
            let want = (0x4E00..=0x9FFF).contains(&u)
                || c.is_ascii_alphanumeric()
                || c == '['
                || c == ']'
                || (u >= 0x80 && c.is_alphanumeric());
            assert_eq!(is_feature_char(c), want, "U+{u:04X}");
        }
        for n in 1..200u32 {
            assert_eq!(sublinear_tf(n), 1.0 + (n as f32).ln());
        }
    }

    #[test]
    fn top_k_equals_a_stable_sort_truncated() {
        let mut rng = 12345u64;
        for round in 0..200 {
            let n = round % 40;
            let k = round % 7;
            let xs: Vec<(usize, f32)> = (0..n)
                .map(|i| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    // Few distinct values, so ties are common.
                    (i, (rng % 5) as f32 * 0.25)
                })
                .collect();
            let mut want = xs.clone();
            want.sort_by(|a, b| b.1.total_cmp(&a.1));
            want.truncate(k);
            let mut got = Vec::new();
            if k > 0 {
                for &x in &xs {
                    push_top(&mut got, k, x);
                }
            }
            assert_eq!(got, want, "n={n} k={k}");
        }
    }

    #[test]
    fn unrolled_rows_sum_like_the_generic_loop() {
        let texts = [
            "拖欠工资三个月",
            "公司不发工资",
            "小区物业乱收费",
            "物业不作为",
            "学校食堂卫生差",
            "老师乱收补课费",
            "道路坑洼积水",
            "公交线路取消",
            "医院排队挂号难",
            "药价太贵",
            "河道污染发臭",
            "工厂排放废气",
            "低保办理难",
            "社保断缴",
        ];
        for k in [2usize, 3, 7] {
            let xs: Vec<Sparse> = texts.iter().map(|t| sparse(t, 16)).collect();
            let ys: Vec<usize> = (0..texts.len()).map(|i| i % k).collect();
            let opts = TrainOptions {
                bits: 16,
                ..TrainOptions::default()
            };
            let classes = (0..k).map(|c| format!("c{c}")).collect();
            let m = fit(&xs, &ys, classes, &opts).unwrap();
            for t in ["工资物业学校", "拖欠工资拖欠工资，物业乱收费", "无关的话"]
            {
                let x = sparse(t, 16);
                let w = k + 1;
                let (mut va, mut vb) = (Vec::new(), Vec::new());
                let (mut pa, mut pb) = (vec![0f32; NAMESPACES * w], vec![0f32; NAMESPACES * w]);
                let na = match w {
                    3 => m.accumulate::<3>(&x, &mut va, &mut pa),
                    4 => m.accumulate::<4>(&x, &mut va, &mut pa),
                    _ => m.accumulate::<8>(&x, &mut va, &mut pa),
                };
                let nb = m.accumulate_any(&x, &mut vb, &mut pb);
                assert_eq!(na, nb);
                assert_eq!(va, vb);
                for ns in 0..NAMESPACES {
                    assert_eq!(pa[ns * w + 1..(ns + 1) * w], pb[ns * w + 1..(ns + 1) * w]);
                }
            }
        }
    }

    #[test]
    fn rejects_damaged_files() {
        assert!(Model::from_bytes(b"nonsense").is_err());
        let mut m = MAGIC.to_vec();
        m.extend_from_slice(&100u32.to_le_bytes());
        assert!(Model::from_bytes(&m).unwrap_err().contains("truncated"));
    }
}
