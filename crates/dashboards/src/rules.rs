//! Prometheus rule files: recording and alerting rules, with the group they belong to.

use std::path::Path;

use serde_json::Value;

use crate::Error;

/// One rule of a rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The group's name.
    pub group: String,
    /// The recorded series (recording rule) or the alert's name.
    pub name: String,
    /// `true` for an alerting rule.
    pub alert: bool,
    /// The PromQL expression.
    pub expr: String,
    /// How long the condition must hold (`for:`), alerting rules only.
    pub hold: Option<String>,
    /// Labels added to the alert or the recorded series.
    pub labels: serde_json::Map<String, Value>,
    /// Annotations of an alert.
    pub annotations: serde_json::Map<String, Value>,
}

/// Every rule of a rule file, in file order.
pub fn load(path: &Path) -> Result<Vec<Rule>, Error> {
    let text = crate::read(path)?;
    parse(&text).map_err(|e| Error::Shape(format!("{}: {e}", path.display())))
}

/// Every rule of a rule file's text, in file order.
pub fn parse(text: &str) -> Result<Vec<Rule>, Error> {
    let doc = crate::yaml::document(text)?;
    let groups = doc
        .get("groups")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Shape("no `groups` list".into()))?;
    let mut out = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let group = g
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Shape(format!("groups[{gi}]: no name")))?;
        let rules = g
            .get("rules")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::Shape(format!("groups[{gi}]: no rules")))?;
        for (ri, r) in rules.iter().enumerate() {
            let at = format!("groups[{gi}].rules[{ri}]");
            let str_of = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
            let (name, alert) = match (str_of("record"), str_of("alert")) {
                (Some(n), None) => (n, false),
                (None, Some(n)) => (n, true),
                _ => {
                    return Err(Error::Shape(format!(
                        "{at}: needs exactly one of record, alert"
                    )))
                }
            };
            let expr = str_of("expr").ok_or_else(|| Error::Shape(format!("{at}: no expr")))?;
            let obj = |k: &str| {
                r.get(k)
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default()
            };
            out.push(Rule {
                group: group.to_string(),
                name,
                alert,
                expr: expr.trim().to_string(),
                hold: str_of("for"),
                labels: obj("labels"),
                annotations: obj("annotations"),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_kinds() {
        let rules = parse(
            "groups:\n- name: g\n  rules:\n  - record: a:b:rate5m\n    expr: sum(rate(x[5m]))\n  - alert: Down\n    expr: |\n      up == 0\n    for: 2m\n    labels: {severity: critical}\n    annotations: {summary: s}\n",
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert!(!rules[0].alert);
        assert_eq!(rules[0].name, "a:b:rate5m");
        assert!(rules[1].alert);
        assert_eq!(rules[1].expr, "up == 0");
        assert_eq!(rules[1].hold.as_deref(), Some("2m"));
        assert_eq!(rules[1].labels["severity"], "critical");
    }

    #[test]
    fn refuses_malformed_rules() {
        assert!(parse("groups:\n- name: g\n  rules:\n  - expr: up\n").is_err());
        assert!(parse("groups:\n- name: g\n  rules:\n  - record: a\n").is_err());
        assert!(parse("groups:\n- rules: []\n").is_err());
        assert!(parse("nothing: here\n").is_err());
    }
}
