//! Grafana dashboards as the tests see them: the panels (rows included), the queries of every
//! panel, the template variables, and the expansion of a query into what Grafana finally sends.
//!
//! Expansion follows Grafana (v10/v11):
//!
//! - Dashboard variables (`$var`, `${var}`, `${var:format}`) are formatted for the data source:
//!   for Prometheus, a multi-value or include-all variable becomes a regex (`(a|b)`, specials
//!   escaped twice since they sit in a PromQL string); for SQL data sources, a quoted list
//!   (`'a','b'`). A custom "All" value is inserted as it is, unformatted.
//! - Prometheus's `$__rate_interval`, `$__interval`, `$__range` … come from the [`Context`].
//! - SQL: after the variables, the SQL data sources' global substitutions (`$__interval_ms`,
//!   `$__interval`, `$__unixEpochFrom()`, `$__unixEpochTo()`), then the PostgreSQL macros
//!   (`$__timeFilter(col)`, `$__timeGroup(col, 1h)`, `$__unixEpochGroupAlias(col, 1h)` …) as
//!   Grafana's PostgreSQL data source writes them. An unknown macro is an error, as in Grafana.
//!
//! A query that names a variable the dashboard does not define is an error: the tests use this
//! to catch typos that Grafana would silently send to the database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::Error;

/// A data source from Grafana's provisioning files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    /// The uid dashboards refer to.
    pub uid: String,
    /// The plugin type (`prometheus`, `grafana-postgresql-datasource`).
    pub kind: String,
    /// The display name.
    pub name: String,
}

/// The data sources of a provisioning file (`apiVersion: 1`, `datasources:`).
pub fn provisioned_datasources(path: &Path) -> Result<Vec<DataSource>, Error> {
    let doc = crate::yaml::document(&crate::read(path)?)?;
    let list = doc
        .get("datasources")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Shape(format!("{}: no datasources list", path.display())))?;
    list.iter()
        .enumerate()
        .map(|(i, d)| {
            let s = |k: &str| {
                d.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| {
                        Error::Shape(format!("{}: datasources[{i}] has no {k}", path.display()))
                    })
            };
            Ok(DataSource {
                uid: s("uid")?,
                kind: s("type")?,
                name: s("name")?,
            })
        })
        .collect()
}

/// The query language of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A Prometheus target (`expr`).
    PromQL,
    /// A SQL target (`rawSql`).
    Sql,
}

/// One query of one panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The panel's id.
    pub panel_id: i64,
    /// The panel's title.
    pub panel: String,
    /// The target's `refId`.
    pub ref_id: String,
    /// The uid of the data source it runs on (the target's, else the panel's).
    pub datasource: Option<String>,
    /// PromQL or SQL.
    pub language: Language,
    /// The query as written in the dashboard.
    pub text: String,
    /// `format` of the target (`time_series`, `table` …), when set.
    pub format: Option<String>,
    /// A Prometheus instant query.
    pub instant: bool,
}

/// A template variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// `$name`.
    pub name: String,
    /// `query`, `custom`, `constant`, `interval`, `textbox`, `datasource`.
    pub kind: String,
    /// Data source uid of a query variable.
    pub datasource: Option<String>,
    /// The variable's query (PromQL function, SQL), or a custom variable's comma list.
    pub query: Option<String>,
    /// Several values may be selected.
    pub multi: bool,
    /// An "All" option exists.
    pub include_all: bool,
    /// The custom value "All" stands for, inserted unformatted.
    pub all_value: Option<String>,
}

/// The uid of a `datasource` field (an object `{type, uid}` or, in old dashboards, a string).
pub fn datasource_uid(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => m.get("uid").and_then(Value::as_str).map(str::to_string),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// A dashboard file.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its JSON model.
    pub json: Value,
}

impl Dashboard {
    /// Reads a dashboard file.
    pub fn load(path: &Path) -> Result<Dashboard, Error> {
        Ok(Dashboard {
            path: path.to_path_buf(),
            json: crate::read_json(path)?,
        })
    }

    /// The dashboard's uid.
    pub fn uid(&self) -> &str {
        self.json["uid"].as_str().unwrap_or("")
    }

    /// The dashboard's title.
    pub fn title(&self) -> &str {
        self.json["title"].as_str().unwrap_or("")
    }

    /// Every panel, rows and the panels inside collapsed rows included, in file order.
    pub fn panels(&self) -> Vec<&Value> {
        fn walk<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
            for p in list.as_array().into_iter().flatten() {
                out.push(p);
                if let Some(inner) = p.get("panels") {
                    walk(inner, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.json["panels"], &mut out);
        out
    }

    /// The template variables.
    pub fn variables(&self) -> Result<Vec<Variable>, Error> {
        let list = self.json["templating"]["list"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        list.iter()
            .enumerate()
            .map(|(i, v)| {
                let name = v["name"].as_str().ok_or_else(|| {
                    Error::Shape(format!(
                        "{}: templating.list[{i}] has no name",
                        self.title()
                    ))
                })?;
                let query = match &v["query"] {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(m) => m.get("query").and_then(Value::as_str).map(str::to_string),
                    _ => None,
                };
                Ok(Variable {
                    name: name.to_string(),
                    kind: v["type"].as_str().unwrap_or("").to_string(),
                    datasource: datasource_uid(&v["datasource"]),
                    query,
                    multi: v["multi"].as_bool().unwrap_or(false),
                    include_all: v["includeAll"].as_bool().unwrap_or(false),
                    all_value: v["allValue"]
                        .as_str()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                })
            })
            .collect()
    }

    /// Every query of every panel (rows have none).
    pub fn queries(&self) -> Result<Vec<Query>, Error> {
        let mut out = Vec::new();
        for p in self.panels() {
            let title = p["title"].as_str().unwrap_or("").to_string();
            let id = p["id"].as_i64().unwrap_or(-1);
            for (i, t) in p["targets"].as_array().into_iter().flatten().enumerate() {
                let (language, text) = if let Some(e) = t["expr"].as_str() {
                    (Language::PromQL, e)
                } else if let Some(s) = t["rawSql"].as_str() {
                    (Language::Sql, s)
                } else {
                    return Err(Error::Shape(format!(
                        "{}: panel {title:?} target {i} has neither expr nor rawSql",
                        self.title()
                    )));
                };
                out.push(Query {
                    panel_id: id,
                    panel: title.clone(),
                    ref_id: t["refId"].as_str().unwrap_or("").to_string(),
                    datasource: datasource_uid(&t["datasource"])
                        .or_else(|| datasource_uid(&p["datasource"])),
                    language,
                    text: text.to_string(),
                    format: t["format"].as_str().map(str::to_string),
                    instant: t["instant"].as_bool().unwrap_or(false),
                });
            }
        }
        Ok(out)
    }
}

/// Which values of a variable are selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// "All".
    All,
    /// These values.
    Values(Vec<String>),
}

/// A variable bound for an expansion: the variable, what is selected, and its options (what
/// "All" stands for without a custom all value).
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The variable.
    pub variable: Variable,
    /// What is selected.
    pub selection: Selection,
    /// Every option the variable offers.
    pub options: Vec<String>,
}

/// The time range of an expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
}

/// Everything an expansion needs besides the query.
#[derive(Debug, Clone)]
pub struct Context {
    /// The dashboard's time range.
    pub range: TimeRange,
    /// `$__interval` (for example `1m`).
    pub interval: String,
    /// `$__rate_interval` (for example `1m`).
    pub rate_interval: String,
    /// The dashboard variables, by name.
    pub bindings: BTreeMap<String, Binding>,
}

impl Context {
    /// A context without variables.
    pub fn new(range: TimeRange, interval: &str, rate_interval: &str) -> Context {
        Context {
            range,
            interval: interval.to_string(),
            rate_interval: rate_interval.to_string(),
            bindings: BTreeMap::new(),
        }
    }

    /// Binds a variable.
    pub fn bind(&mut self, variable: Variable, selection: Selection, options: Vec<String>) {
        self.bindings.insert(
            variable.name.clone(),
            Binding {
                variable,
                selection,
                options,
            },
        );
    }
}

/// Expands a query into what Grafana sends to the data source.
pub fn expand(text: &str, language: Language, ctx: &Context) -> Result<String, Error> {
    if text.contains("[[") {
        return Err(Error::Template(
            "the deprecated [[var]] syntax is not used here; write $var".into(),
        ));
    }
    let with_vars = substitute_variables(text, language, ctx)?;
    let out = match language {
        Language::PromQL => with_vars,
        Language::Sql => sql_macros(&sql_globals(&with_vars, ctx)?, ctx)?,
    };
    if let Some(i) = out.find("$__") {
        let rest: String = out[i..].chars().take(30).collect();
        return Err(Error::Template(format!("unexpanded built-in at {rest:?}")));
    }
    Ok(out)
}

fn ident_len(s: &str) -> usize {
    s.bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count()
}

fn substitute_variables(text: &str, language: Language, ctx: &Context) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, fmt, consumed) = if let Some(inner) = after.strip_prefix('{') {
            let end = inner
                .find('}')
                .ok_or_else(|| Error::Template(format!("unclosed ${{ in {text:?}")))?;
            let body = &inner[..end];
            let (n, f) = match body.split_once(':') {
                Some((n, f)) => (n, Some(f)),
                None => (body, None),
            };
            (n, f, end + 2)
        } else {
            let n = ident_len(after);
            (&after[..n], None, n)
        };
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            // `$1` in label_replace, `$$` or a lone `$`: not a variable.
            out.push('$');
            rest = after;
            continue;
        }
        if let Some(builtin) = name.strip_prefix("__") {
            match (language, builtin) {
                (Language::PromQL, _) => out.push_str(&prom_builtin(builtin, ctx)?),
                // SQL built-ins and macros are the backend's: kept for the next passes.
                (Language::Sql, _) => {
                    out.push('$');
                    out.push_str(&after[..consumed]);
                }
            }
            rest = &after[consumed..];
            continue;
        }
        let b = ctx.bindings.get(name).ok_or_else(|| {
            Error::Template(format!("${name} is not a variable of this dashboard"))
        })?;
        out.push_str(&format_variable(b, language, fmt)?);
        rest = &after[consumed..];
    }
    out.push_str(rest);
    Ok(out)
}

fn prom_builtin(name: &str, ctx: &Context) -> Result<String, Error> {
    let range_s = (ctx.range.to - ctx.range.from).num_seconds().max(0);
    Ok(match name {
        "rate_interval" => ctx.rate_interval.clone(),
        "interval" => ctx.interval.clone(),
        "interval_ms" => ((interval_seconds(&ctx.interval)? * 1000.0) as i64).to_string(),
        "range" => format!("{range_s}s"),
        "range_s" => range_s.to_string(),
        "range_ms" => (range_s * 1000).to_string(),
        other => {
            return Err(Error::Template(format!(
                "$__{other} is not a Prometheus built-in variable"
            )))
        }
    })
}

/// Grafana's `prometheusSpecialRegexEscape`: the value goes into a regex inside a PromQL string,
/// so specials are escaped with a doubled backslash.
fn prom_regex_escape(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\\\\\"),
            '$' | '^' | '*' | '{' | '}' | '[' | ']' | '\'' | '+' | '?' | '.' | '(' | ')' | '|' => {
                out.push_str("\\\\");
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn sql_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

fn format_variable(b: &Binding, language: Language, fmt: Option<&str>) -> Result<String, Error> {
    let v = &b.variable;
    let values: Vec<String> = match &b.selection {
        Selection::All => {
            if !v.include_all {
                return Err(Error::Template(format!(
                    "${} has no All option but All was selected",
                    v.name
                )));
            }
            if let (Some(all), None) = (&v.all_value, fmt) {
                return Ok(all.clone());
            }
            b.options.clone()
        }
        Selection::Values(vals) => vals.clone(),
    };
    if values.is_empty() {
        return Err(Error::Template(format!(
            "${} has no value to insert",
            v.name
        )));
    }
    let several = v.multi || v.include_all;
    Ok(match fmt {
        None => match language {
            Language::PromQL if !several => values[0].replace('\\', "\\\\").replace('\'', "\\'"),
            Language::PromQL => {
                if values.len() == 1 && !v.multi {
                    prom_regex_escape(&values[0])
                } else {
                    let parts: Vec<String> = values.iter().map(|x| prom_regex_escape(x)).collect();
                    format!("({})", parts.join("|"))
                }
            }
            Language::Sql if !several => values[0].replace('\'', "''"),
            Language::Sql => values
                .iter()
                .map(|x| sql_quote(x))
                .collect::<Vec<_>>()
                .join(","),
        },
        Some("raw") | Some("csv") => values.join(","),
        Some("pipe") => values.join("|"),
        Some("regex") => {
            if values.len() == 1 {
                prom_regex_escape(&values[0])
            } else {
                let parts: Vec<String> = values.iter().map(|x| prom_regex_escape(x)).collect();
                format!("({})", parts.join("|"))
            }
        }
        Some("sqlstring") | Some("singlequote") => values
            .iter()
            .map(|x| sql_quote(x))
            .collect::<Vec<_>>()
            .join(","),
        Some("doublequote") => values
            .iter()
            .map(|x| format!("\"{}\"", x.replace('"', "\\\"")))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => {
            return Err(Error::Template(format!(
                "${{{}:{other}}}: unknown format",
                v.name
            )))
        }
    })
}

/// Seconds of a Grafana interval (`30s`, `5m`, `1h`, `1d`, `1w`, `500ms`).
pub fn interval_seconds(s: &str) -> Result<f64, Error> {
    let s = s.trim().trim_matches('\'');
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (n, unit) = s.split_at(digits);
    let n: f64 = n
        .parse()
        .map_err(|_| Error::Template(format!("not an interval: {s:?}")))?;
    let unit_s = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 604_800.0,
        "M" => 2_592_000.0,
        "y" => 31_536_000.0,
        _ => return Err(Error::Template(format!("not an interval: {s:?}"))),
    };
    Ok(n * unit_s)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The SQL data sources' global substitutions (sqleng `Interpolate`).
fn sql_globals(sql: &str, ctx: &Context) -> Result<String, Error> {
    let ms = (interval_seconds(&ctx.interval)? * 1000.0) as i64;
    Ok(sql
        .replace("$__interval_ms", &ms.to_string())
        .replace("$__interval", &ctx.interval)
        .replace(
            "$__unixEpochFrom()",
            &ctx.range.from.timestamp().to_string(),
        )
        .replace("$__unixEpochTo()", &ctx.range.to.timestamp().to_string()))
}

/// The PostgreSQL data source's macros, `$name(args)`.
fn sql_macros(sql: &str, ctx: &Context) -> Result<String, Error> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let n = ident_len(after);
        let name = &after[..n];
        if n == 0 || !after[n..].starts_with('(') {
            out.push('$');
            rest = after;
            continue;
        }
        let close = after[n..]
            .find(')')
            .ok_or_else(|| Error::Template(format!("${name}( is not closed")))?;
        let args: Vec<&str> = after[n + 1..n + close].split(',').map(str::trim).collect();
        let tail = &after[n + close + 1..];
        // As Grafana: `$__timeGroup(…)` directly followed by a comma means the aliased form.
        let name = if name == "__timeGroup" && tail.starts_with(',') {
            "__timeGroupAlias"
        } else {
            name
        };
        out.push_str(&postgres_macro(name, &args, ctx)?);
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

fn postgres_macro(name: &str, args: &[&str], ctx: &Context) -> Result<String, Error> {
    let col = || {
        args.first()
            .filter(|a| !a.is_empty())
            .copied()
            .ok_or_else(|| {
                Error::Template(format!("missing time column argument for macro {name}"))
            })
    };
    let interval = || -> Result<f64, Error> {
        if args.len() < 2 {
            return Err(Error::Template(format!(
                "macro {name} needs time column and interval and optional fill value"
            )));
        }
        if let Some(fill) = args.get(2) {
            let ok = matches!(*fill, "NULL" | "previous") || fill.parse::<f64>().is_ok();
            if !ok {
                return Err(Error::Template(format!("error parsing fill value {fill}")));
            }
        }
        interval_seconds(args[1])
    };
    let (from, to) = (ctx.range.from, ctx.range.to);
    Ok(match name {
        "__time" => format!("{} AS \"time\"", col()?),
        "__timeEpoch" => format!("extract(epoch from {}) as \"time\"", col()?),
        "__timeFilter" => format!(
            "{} BETWEEN '{}' AND '{}'",
            col()?,
            rfc3339(from),
            rfc3339(to)
        ),
        "__timeFrom" => format!("'{}'", rfc3339(from)),
        "__timeTo" => format!("'{}'", rfc3339(to)),
        "__timeGroup" => {
            let s = interval()?;
            format!("floor(extract(epoch from {})/{s})*{s}", col()?)
        }
        "__timeGroupAlias" => {
            let s = interval()?;
            format!("floor(extract(epoch from {})/{s})*{s} AS \"time\"", col()?)
        }
        "__unixEpochFilter" => {
            let c = col()?;
            format!("{c} >= {} AND {c} <= {}", from.timestamp(), to.timestamp())
        }
        "__unixEpochNanoFilter" => {
            let c = col()?;
            format!("{c} >= {} AND {c} <= {}", nanos(from)?, nanos(to)?)
        }
        "__unixEpochNanoFrom" => nanos(from)?.to_string(),
        "__unixEpochNanoTo" => nanos(to)?.to_string(),
        "__unixEpochGroup" => {
            let s = interval()?;
            format!("floor(({})/{s})*{s}", col()?)
        }
        "__unixEpochGroupAlias" => {
            let s = interval()?;
            format!("floor(({})/{s})*{s} AS \"time\"", col()?)
        }
        other => return Err(Error::Template(format!("unknown macro \"{other}\""))),
    })
}

fn nanos(t: DateTime<Utc>) -> Result<i64, Error> {
    t.timestamp_nanos_opt()
        .ok_or_else(|| Error::Template(format!("{t} is out of the nanosecond range")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ctx() -> Context {
        let from = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap();
        let mut c = Context::new(TimeRange { from, to }, "1m", "2m");
        let var = |name: &str, multi: bool, all: Option<&str>| Variable {
            name: name.into(),
            kind: "query".into(),
            datasource: None,
            query: None,
            multi,
            include_all: true,
            all_value: all.map(str::to_string),
        };
        c.bind(
            var("source", true, Some(".*")),
            Selection::Values(vec!["demo-weibo".into(), "a.b".into()]),
            vec![],
        );
        c.bind(var("any_source", true, Some(".*")), Selection::All, vec![]);
        c.bind(
            var("department", true, None),
            Selection::All,
            vec!["应急管理局".into(), "O'Brien".into()],
        );
        c.bind(
            Variable {
                include_all: false,
                ..var("place", false, None)
            },
            Selection::Values(vec!["万载县".into()]),
            vec![],
        );
        c
    }

    #[test]
    fn prometheus_variables_become_regexes() {
        let c = ctx();
        let q = r#"sum by (source) (rate(yuqing_collect_requests_total{source=~"$source"}[$__rate_interval]))"#;
        assert_eq!(
            expand(q, Language::PromQL, &c).unwrap(),
            r#"sum by (source) (rate(yuqing_collect_requests_total{source=~"(demo-weibo|a\\.b)"}[2m]))"#
        );
        assert_eq!(
            expand(r#"x{source=~"${any_source}"}"#, Language::PromQL, &c).unwrap(),
            r#"x{source=~".*"}"#
        );
        assert_eq!(
            expand("increase(x[$__range]) / $__range_s", Language::PromQL, &c).unwrap(),
            "increase(x[86400s]) / 86400"
        );
        // label_replace's $1 is not a variable.
        assert_eq!(
            expand(
                r#"label_replace(x, "a", "$1", "b", "(.*)")"#,
                Language::PromQL,
                &c
            )
            .unwrap(),
            r#"label_replace(x, "a", "$1", "b", "(.*)")"#
        );
    }

    #[test]
    fn sql_variables_become_quoted_lists() {
        let c = ctx();
        assert_eq!(
            expand(
                "SELECT 1 WHERE department IN ($department) AND region = '$place'",
                Language::Sql,
                &c
            )
            .unwrap(),
            "SELECT 1 WHERE department IN ('应急管理局','O''Brien') AND region = '万载县'"
        );
        assert_eq!(
            expand("SELECT ${department:csv}", Language::Sql, &c).unwrap(),
            "SELECT 应急管理局,O'Brien"
        );
    }

    #[test]
    fn sql_macros_expand_as_grafana_writes_them() {
        let c = ctx();
        let sql = "SELECT $__timeGroup(at, 1h), count(*) FROM t WHERE $__timeFilter(at) \
                   AND ms BETWEEN $__unixEpochFrom()*1000 AND $__unixEpochTo()*1000 \
                   GROUP BY $__timeGroup(at, 1h) ORDER BY 1";
        assert_eq!(
            expand(sql, Language::Sql, &c).unwrap(),
            "SELECT floor(extract(epoch from at)/3600)*3600 AS \"time\", count(*) FROM t \
             WHERE at BETWEEN '2026-11-23T00:00:00Z' AND '2026-11-24T00:00:00Z' \
             AND ms BETWEEN 1795392000*1000 AND 1795478400*1000 \
             GROUP BY floor(extract(epoch from at)/3600)*3600 ORDER BY 1"
        );
        assert_eq!(
            expand(
                "SELECT $__unixEpochGroupAlias(ms/1000, $__interval), $__interval_ms",
                Language::Sql,
                &c
            )
            .unwrap(),
            "SELECT floor((ms/1000)/60)*60 AS \"time\", 60000"
        );
        assert_eq!(
            expand("WHERE $__unixEpochFilter(s)", Language::Sql, &c).unwrap(),
            "WHERE s >= 1795392000 AND s <= 1795478400"
        );
    }

    #[test]
    fn mistakes_are_errors() {
        let c = ctx();
        for (q, lang) in [
            ("x{a=\"$nosuch\"}", Language::PromQL),
            ("rate(x[$__rate_intervall])", Language::PromQL),
            ("SELECT $__timeFilterr(at)", Language::Sql),
            ("SELECT $__timeGroup(at)", Language::Sql),
            ("SELECT $__timeGroup(at, 1h, later)", Language::Sql),
            ("SELECT $__timeGroup(at, soon)", Language::Sql),
            ("SELECT $__timeFilter()", Language::Sql),
            ("SELECT $__nothing", Language::Sql),
            ("SELECT ${department:weird}", Language::Sql),
            ("SELECT ${department", Language::Sql),
            ("SELECT [[department]]", Language::Sql),
        ] {
            assert!(expand(q, lang, &c).is_err(), "{q}");
        }
    }

    #[test]
    fn intervals() {
        assert_eq!(interval_seconds("1h").unwrap(), 3600.0);
        assert_eq!(interval_seconds("'30s'").unwrap(), 30.0);
        assert_eq!(interval_seconds("500ms").unwrap(), 0.5);
        assert_eq!(interval_seconds("1d").unwrap(), 86_400.0);
        assert!(interval_seconds("h").is_err());
        assert!(interval_seconds("5x").is_err());
    }

    #[test]
    fn walks_rows_and_targets() {
        let d = Dashboard {
            path: PathBuf::from("x.json"),
            json: serde_json::json!({
                "title": "t", "uid": "u",
                "panels": [
                    {"type": "row", "id": 1, "collapsed": true, "panels": [
                        {"type": "stat", "id": 2, "title": "a",
                         "datasource": {"type": "prometheus", "uid": "p"},
                         "targets": [{"refId": "A", "expr": "up", "instant": true}]}
                    ]},
                    {"type": "table", "id": 3, "title": "b",
                     "targets": [{"refId": "A", "datasource": {"uid": "pg"}, "rawSql": "SELECT 1", "format": "table"}]}
                ],
                "templating": {"list": [{"name": "v", "type": "query", "query": {"query": "label_values(up, job)"}, "multi": true}]}
            }),
        };
        assert_eq!(d.panels().len(), 3);
        let q = d.queries().unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].datasource.as_deref(), Some("p"));
        assert!(q[0].instant);
        assert_eq!(q[1].language, Language::Sql);
        assert_eq!(q[1].datasource.as_deref(), Some("pg"));
        let v = d.variables().unwrap();
        assert_eq!(v[0].query.as_deref(), Some("label_values(up, job)"));
        assert!(v[0].multi);
    }
}
