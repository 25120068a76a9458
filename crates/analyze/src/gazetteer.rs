//! The gazetteer of China's administrative divisions (province, city, county, with their codes) and
//! the resolution of place mentions to the most specific division (属地管理).

use std::collections::HashMap;

use crate::resources::Source;
use crate::AnalyzeError;

/// The level of a division.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// 省级: provinces, autonomous regions, municipalities, SARs.
    Province,
    /// 地级: prefecture-level cities, prefectures, leagues, autonomous prefectures.
    City,
    /// 县级: districts, counties, county-level cities, banners.
    County,
}

impl Level {
    /// `province`, `city`, `county`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
        }
    }
}

/// One administrative division.
#[derive(Debug, Clone)]
pub struct Division {
    /// The six-digit national code (GB/T 2260).
    pub code: String,
    /// The full name (天河区).
    pub name: String,
    /// Its level.
    pub level: Level,
    /// Index of the parent division.
    pub parent: Option<usize>,
}

/// The divisions and the names they are mentioned by.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    divisions: Vec<Division>,
    by_code: HashMap<String, usize>,
    by_alias: HashMap<String, Vec<usize>>,
}

/// The 56 ethnic groups' names, stripped from autonomous divisions' names to get their short forms.
const ETHNIC: &[&str] = &[
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
    "各",
];

/// The short form of a division's name (广东省 → 广东, 恩施土家族苗族自治州 → 恩施), if it differs.
pub fn short_name(name: &str, level: Level) -> Option<String> {
    let mut s = name.to_string();
    let autonomous = ["自治区", "自治州", "自治县", "自治旗"];
    let mut stripped_autonomous = false;
    for a in autonomous {
        if let Some(rest) = s.strip_suffix(a) {
            s = rest.to_string();
            stripped_autonomous = true;
            break;
        }
    }
    if stripped_autonomous {
        // Strip trailing ethnic names: 土家族苗族 → "", 维吾尔 → "".
        loop {
            let base = s.strip_suffix('族').unwrap_or(&s);
            let best = ETHNIC
                .iter()
                .filter(|e| base.ends_with(*e) && base[..base.len() - e.len()].chars().count() >= 2)
                .max_by_key(|e| e.len());
            match best {
                Some(e) => s = base[..base.len() - e.len()].to_string(),
                None => break,
            }
        }
    } else {
        let suffixes: &[&str] = match level {
            Level::Province => &["特别行政区", "省", "市"],
            Level::City => &["地区", "市", "盟"],
            Level::County => &["林区", "特区", "新区", "区", "县", "市", "旗"],
        };
        for suf in suffixes {
            if let Some(rest) = s.strip_suffix(suf) {
                s = rest.to_string();
                break;
            }
        }
    }
    (s != name && s.chars().count() >= 2).then_some(s)
}

impl Gazetteer {
    /// Parses `gazetteer.tsv`. `keep_short(short, division)` decides whether a county's short name
    /// (番禺 for 番禺区) is specific enough to be matched alone.
    pub fn parse(
        src: &Source,
        keep_short: &dyn Fn(&str, &Division) -> bool,
    ) -> Result<Gazetteer, AnalyzeError> {
        let mut g = Gazetteer::default();
        let mut parents: Vec<(usize, String, usize)> = Vec::new();
        for (line, l) in src.lines() {
            let cols: Vec<&str> = l.split('\t').collect();
            if cols.len() < 3 || cols.len() > 4 {
                return Err(src.error(line, "expected `code<TAB>name<TAB>level<TAB>parent`"));
            }
            let code = cols[0].trim();
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(src.error(line, format!("`{code}` is not a six-digit division code")));
            }
            let level = match cols[2].trim() {
                "province" => Level::Province,
                "city" => Level::City,
                "county" => Level::County,
                other => return Err(src.error(line, format!("unknown level `{other}`"))),
            };
            let name = cols[1].trim();
            if name.is_empty() {
                return Err(src.error(line, "empty name"));
            }
            if g.by_code.contains_key(code) {
                return Err(src.error(line, format!("code {code} is listed twice")));
            }
            let idx = g.divisions.len();
            g.divisions.push(Division {
                code: code.to_string(),
                name: name.to_string(),
                level,
                parent: None,
            });
            g.by_code.insert(code.to_string(), idx);
            let parent = cols.get(3).map(|p| p.trim()).unwrap_or("");
            if !parent.is_empty() {
                parents.push((idx, parent.to_string(), line));
            } else if level != Level::Province {
                return Err(src.error(line, "only provinces may lack a parent"));
            }
        }
        for (idx, p, line) in parents {
            let pi = *g
                .by_code
                .get(&p)
                .ok_or_else(|| src.error(line, format!("parent {p} is not listed")))?;
            g.divisions[idx].parent = Some(pi);
        }
        for (i, d) in g.divisions.iter().enumerate() {
            g.by_alias.entry(d.name.clone()).or_default().push(i);
        }
        for i in 0..g.divisions.len() {
            let d = &g.divisions[i];
            if let Some(short) = short_name(&d.name, d.level) {
                let keep = d.level != Level::County || keep_short(&short, d);
                if keep && !g.by_alias.get(&short).is_some_and(|v| v.contains(&i)) {
                    g.by_alias.entry(short).or_default().push(i);
                }
            }
        }
        Ok(g)
    }

    /// Every division.
    pub fn divisions(&self) -> &[Division] {
        &self.divisions
    }

    /// Number of divisions at `level`.
    pub fn count(&self, level: Level) -> usize {
        self.divisions.iter().filter(|d| d.level == level).count()
    }

    /// The names a division can be mentioned by, with the divisions each may mean.
    pub fn aliases(&self) -> impl Iterator<Item = (&str, &[usize])> {
        self.by_alias
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The divisions a name (full or short) may mean.
    pub fn by_alias(&self, name: &str) -> &[usize] {
        self.by_alias.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The division with this code (six digits, or twelve with trailing zeros).
    pub fn by_code(&self, code: &str) -> Option<usize> {
        let c = code.trim();
        if !c.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let six = if c.len() == 12 && c[6..].bytes().all(|b| b == b'0') {
            &c[..6]
        } else {
            c
        };
        self.by_code.get(six).copied()
    }

    /// Division `i`.
    pub fn get(&self, i: usize) -> &Division {
        &self.divisions[i]
    }

    /// Resolves an item's region hint: a code, or a full or short name that means one division.
    pub fn resolve_hint(&self, hint: &str) -> Option<usize> {
        let h = hint.trim();
        if let Some(i) = self.by_code(h) {
            return Some(i);
        }
        match self.by_alias(h) {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// `i` and its ancestors, most specific first.
    pub fn path(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let mut cur = Some(i);
        std::iter::from_fn(move || {
            let c = cur?;
            cur = self.divisions[c].parent;
            Some(c)
        })
    }

    /// `广东省/广州市/天河区`.
    pub fn path_name(&self, i: usize) -> String {
        let mut parts: Vec<&str> = self
            .path(i)
            .map(|d| self.divisions[d].name.as_str())
            .collect();
        parts.reverse();
        parts.join("/")
    }

    /// True when `a` is `b` or one of its ancestors.
    pub fn contains(&self, a: usize, b: usize) -> bool {
        self.path(b).any(|x| x == a)
    }

    /// Picks the most specific division supported by the mentions (each a list of the divisions a
    /// mentioned name may mean) and the hint; every mention counts as a full name.
    pub fn resolve(&self, mentions: &[&[usize]], hint: Option<usize>) -> Resolution {
        let full: Vec<Mention<'_>> = mentions
            .iter()
            .map(|m| Mention {
                divisions: m,
                full_name: true,
            })
            .collect();
        self.resolve_mentions(&full, hint)
    }

    /// Like [`Gazetteer::resolve`], but a mention by a short name (治多 for 治多县, 广东 for 广东省)
    /// counts half as much as one by a full name: short names also occur inside ordinary words
    /// (医院已经收**治多**人), so a full name in the same text outweighs them instead of tying.
    pub fn resolve_mentions(&self, mentions: &[Mention<'_>], hint: Option<usize>) -> Resolution {
        let mut cands: Vec<usize> = Vec::new();
        for m in mentions {
            for &d in m.divisions {
                if !cands.contains(&d) {
                    cands.push(d);
                }
            }
        }
        if let Some(h) = hint {
            if !cands.contains(&h) {
                cands.push(h);
            }
        }
        if cands.is_empty() {
            return Resolution::default();
        }
        // Support of a candidate: mentions of it or of its ancestors (unambiguous ones count more),
        // plus the hint when the hint lies on its path (or below it).
        let support = |d: usize| -> f64 {
            let mut s = 0.0;
            for m in mentions {
                if m.divisions.iter().any(|&x| self.contains(x, d)) {
                    let w = if m.divisions.len() == 1 { 2.0 } else { 1.0 };
                    s += if m.full_name { w } else { w / 2.0 };
                }
            }
            if let Some(h) = hint {
                if self.contains(h, d) || self.contains(d, h) {
                    s += 3.0;
                }
            }
            s
        };
        let mut scored: Vec<(usize, f64)> = cands.iter().map(|&d| (d, support(d))).collect();
        scored.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(self.divisions[b.0].level.cmp(&self.divisions[a.0].level))
                .then(a.0.cmp(&b.0))
        });
        let (best, best_s) = scored[0];
        let tied: Vec<usize> = scored
            .iter()
            .filter(|(d, s)| {
                *s == best_s && self.divisions[*d].level == self.divisions[best].level && *d != best
            })
            .map(|(d, _)| *d)
            .collect();
        if tied.is_empty() {
            return Resolution {
                division: Some(best),
                ambiguous: Vec::new(),
            };
        }
        // Equal support for several places of one level: keep their common ancestor, if any.
        let mut all = vec![best];
        all.extend(&tied);
        let common = self
            .path(best)
            .find(|&a| all.iter().all(|&d| self.contains(a, d)));
        Resolution {
            division: common,
            ambiguous: all,
        }
    }
}

/// A place name found in a text: the divisions it may mean, and whether it was a full name.
#[derive(Debug, Clone, Copy)]
pub struct Mention<'a> {
    /// The divisions the name may mean.
    pub divisions: &'a [usize],
    /// A full name (上栗县), not a short one (上栗).
    pub full_name: bool,
}

/// The outcome of [`Gazetteer::resolve`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// The division chosen.
    pub division: Option<usize>,
    /// The equally supported candidates, when the mentions were ambiguous.
    pub ambiguous: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::ResourceSet;

    fn gaz() -> Gazetteer {
        let set = ResourceSet::bundled();
        Gazetteer::parse(set.get("gazetteer.tsv"), &|s, _| {
            !matches!(s, "朝阳" | "和平" | "白云")
        })
        .unwrap()
    }

    #[test]
    fn ships_every_county() {
        let g = gaz();
        assert_eq!(g.count(Level::Province), 34);
        assert!(g.count(Level::City) >= 330, "{}", g.count(Level::City));
        assert!(g.count(Level::County) >= 2800, "{}", g.count(Level::County));
    }

    #[test]
    fn looks_up_codes_and_names() {
        let g = gaz();
        let t = g.by_code("440106").unwrap();
        assert_eq!(g.get(t).name, "天河区");
        assert_eq!(g.path_name(t), "广东省/广州市/天河区");
        assert_eq!(g.by_code("440106000000"), Some(t));
        assert_eq!(g.resolve_hint("天河区"), Some(t));
        assert_eq!(g.resolve_hint("440106"), Some(t));
        // A county directly under a province.
        let x = g.by_code("429004").unwrap();
        assert_eq!(g.path_name(x), "湖北省/仙桃市");
        // Short names.
        assert_eq!(g.by_alias("广东").len(), 1);
        assert_eq!(g.by_alias("番禺").len(), 1);
        assert!(
            g.by_alias("和平").is_empty(),
            "a common word is not a short name"
        );
        // 朝阳 is also a prefecture-level city (whose short names are always kept).
        assert_eq!(g.by_alias("朝阳").len(), 1);
        assert_eq!(g.get(g.by_alias("朝阳")[0]).level, Level::City);
        assert!(
            g.by_alias("朝阳区").len() >= 2,
            "朝阳区 exists in Beijing and Changchun"
        );
    }

    #[test]
    fn short_names() {
        assert_eq!(
            short_name("广东省", Level::Province).as_deref(),
            Some("广东")
        );
        assert_eq!(
            short_name("内蒙古自治区", Level::Province).as_deref(),
            Some("内蒙古")
        );
        assert_eq!(
            short_name("新疆维吾尔自治区", Level::Province).as_deref(),
            Some("新疆")
        );
        assert_eq!(
            short_name("恩施土家族苗族自治州", Level::City).as_deref(),
            Some("恩施")
        );
        assert_eq!(short_name("天河区", Level::County).as_deref(), Some("天河"));
        assert_eq!(short_name("城区", Level::County), None);
    }

    #[test]
    fn resolves_ambiguous_names_by_context() {
        let g = gaz();
        let chaoyang = g.by_alias("朝阳区");
        let beijing = g.by_alias("北京市");
        let r = g.resolve(&[chaoyang, beijing], None);
        assert_eq!(g.get(r.division.unwrap()).code, "110105");
        let changchun = g.by_alias("长春");
        let r = g.resolve(&[chaoyang, changchun], None);
        assert_eq!(g.get(r.division.unwrap()).code, "220104");
        // Alone, it stays ambiguous.
        let r = g.resolve(&[chaoyang], None);
        assert!(r.division.is_none());
        assert!(r.ambiguous.len() >= 2);
        // The item's hint decides.
        let r = g.resolve(&[chaoyang], g.resolve_hint("北京"));
        assert_eq!(g.get(r.division.unwrap()).code, "110105");
        // Only a hint.
        let r = g.resolve(&[], g.resolve_hint("440106"));
        assert_eq!(g.get(r.division.unwrap()).name, "天河区");
    }

    #[test]
    fn a_full_name_outweighs_a_short_name_found_inside_a_word() {
        let g = gaz();
        // "上栗县暴雨 … 医院已经收治多人": 上栗县 by its full name, 治多(县) by a short name that is
        // really part of 收治多人.
        let shangli = Mention {
            divisions: g.by_alias("上栗县"),
            full_name: true,
        };
        let zhiduo = Mention {
            divisions: g.by_alias("治多"),
            full_name: false,
        };
        assert!(!zhiduo.divisions.is_empty(), "治多 is a short name");
        let r = g.resolve_mentions(&[shangli, zhiduo], None);
        assert_eq!(g.get(r.division.unwrap()).name, "上栗县");
        assert!(r.ambiguous.is_empty());
        // Counted as full names, the two tie and the place stays open.
        let r = g.resolve(&[shangli.divisions, zhiduo.divisions], None);
        assert!(r.division.is_none_or(|d| g.get(d).level != Level::County));
        // A short name alone still resolves.
        let r = g.resolve_mentions(&[zhiduo], None);
        assert_eq!(g.get(r.division.unwrap()).name, "治多县");
    }
}
