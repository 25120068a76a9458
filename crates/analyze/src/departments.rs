//! Departments and their mandates (`departments.toml`), and the rules that turn a judgment into the
//! owner (谁主管谁负责) and the responders (回应主体) of an item.

use serde::Deserialize;

use crate::lexicon::Category;
use crate::resources::{line_of, Source};
use crate::AnalyzeError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    department: Vec<toml::Spanned<Spec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    mandate: Vec<String>,
    #[serde(default)]
    vertical: bool,
    #[serde(default)]
    superior: Option<String>,
}

/// A department.
#[derive(Debug, Clone)]
pub struct Department {
    /// The generic name (住房和城乡建设局); the place is prefixed when routing.
    pub name: String,
    /// Names it is written as.
    pub aliases: Vec<String>,
    /// Categories it owns: (first-level index, optional second-level name).
    pub categories: Vec<(usize, Option<String>)>,
    /// Terms of its mandate.
    pub mandate: Vec<String>,
    /// Vertically managed (垂直管理).
    pub vertical: bool,
    /// Who answers for it when vertically managed.
    pub superior: Option<String>,
    /// The line it starts at.
    pub line: usize,
}

impl Department {
    /// How well the department owns `category`/`second`: 2 for the second level, 1 for the first.
    pub fn owns(&self, category: usize, second: Option<&str>) -> u8 {
        let mut best = 0;
        for (c, s) in &self.categories {
            if *c != category {
                continue;
            }
            match (s.as_deref(), second) {
                (Some(a), Some(b)) if a == b => best = best.max(2),
                (None, _) => best = best.max(1),
                _ => {}
            }
        }
        best
    }
}

/// Parses `departments.toml` against the taxonomy.
pub fn parse(src: &Source, taxonomy: &[Category]) -> Result<Vec<Department>, AnalyzeError> {
    let file: File = toml::from_str(&src.text).map_err(|e| {
        let line = e.span().map(|s| line_of(&src.text, s.start)).unwrap_or(1);
        src.error(line, e.message().trim().to_string())
    })?;
    let mut out: Vec<Department> = Vec::new();
    for s in file.department {
        let line = line_of(&src.text, s.span().start);
        let spec = s.into_inner();
        let err = |m: String| src.error(line, format!("department `{}`: {m}", spec.name));
        if spec.name.trim().is_empty() {
            return Err(src.error(line, "a department needs a name"));
        }
        if out.iter().any(|d| d.name == spec.name) {
            return Err(err("the name is used twice".into()));
        }
        if spec.vertical && spec.superior.is_none() {
            return Err(err(
                "a vertically managed department needs `superior`".into()
            ));
        }
        let mut cats = Vec::new();
        for c in &spec.categories {
            let (first, second) = match c.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (c.as_str(), None),
            };
            let ci = taxonomy
                .iter()
                .position(|t| t.name == first)
                .ok_or_else(|| err(format!("`{first}` is not a first-level category")))?;
            if let Some(sec) = second {
                if !taxonomy[ci].subs.iter().any(|(s, _)| s == sec) {
                    return Err(err(format!(
                        "`{sec}` is not a second-level category of {first}"
                    )));
                }
            }
            cats.push((ci, second.map(str::to_string)));
        }
        out.push(Department {
            name: spec.name.clone(),
            aliases: spec.aliases.clone(),
            categories: cats,
            mandate: spec.mandate.clone(),
            vertical: spec.vertical,
            superior: spec.superior.clone(),
            line,
        });
    }
    if out.is_empty() {
        return Err(src.error(1, "no departments defined"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::parse_taxonomy;
    use crate::resources::ResourceSet;

    #[test]
    fn bundled_departments_parse() {
        let set = ResourceSet::bundled();
        let tax = parse_taxonomy(set.get("taxonomy.txt")).unwrap();
        let deps = parse(set.get("departments.toml"), &tax).unwrap();
        let tax_dep = deps.iter().find(|d| d.name == "税务局").unwrap();
        assert!(tax_dep.vertical);
        let hrss = deps
            .iter()
            .find(|d| d.name == "人力资源和社会保障局")
            .unwrap();
        let labour = tax.iter().position(|c| c.name == "劳动和社会保障").unwrap();
        assert_eq!(hrss.owns(labour, Some("工资福利")), 1);
        let housing = deps.iter().find(|d| d.name == "住房和城乡建设局").unwrap();
        let urban = tax.iter().position(|c| c.name == "城乡建设").unwrap();
        assert_eq!(housing.owns(urban, Some("住房保障与房地产")), 2);
    }

    #[test]
    fn errors_name_the_line() {
        let set = ResourceSet::bundled();
        let tax = parse_taxonomy(set.get("taxonomy.txt")).unwrap();
        let src = Source {
            name: "departments.toml",
            path: "departments.toml".into(),
            text: "[[department]]\nname = \"a\"\n\n[[department]]\nname = \"b\"\ncategories = [\"不存在\"]\n"
                .into(),
        };
        let e = parse(&src, &tax).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("departments.toml:4: department `b`"),
            "{e}"
        );
    }
}
