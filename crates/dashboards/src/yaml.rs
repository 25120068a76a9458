//! YAML (Kubernetes manifests, Prometheus configuration and rules, Grafana provisioning) read
//! into `serde_json::Value`, so one set of helpers walks JSON and YAML alike.
//!
//! Parsing is yaml-rust2 (YAML 1.2: `yes`/`on` are strings, not booleans; anchors and aliases
//! are resolved). What JSON cannot hold is refused rather than guessed: mapping keys that are
//! not scalars, duplicate keys.

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

use crate::Error;

/// Every document of a YAML stream (`---`-separated), empty documents left out.
pub fn documents(text: &str) -> Result<Vec<Value>, Error> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| Error::Yaml(e.to_string()))?;
    docs.iter()
        .filter(|d| !matches!(d, Yaml::Null))
        .map(to_json)
        .collect()
}

/// The single document of a YAML text.
pub fn document(text: &str) -> Result<Value, Error> {
    let mut docs = documents(text)?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        n => Err(Error::Yaml(format!("expected one document, found {n}"))),
    }
}

/// Applies YAML merge keys (`<<: *base`, `<<: [*a, *b]`), which Docker Compose honours and YAML
/// 1.2 leaves as a plain `<<` key: a mapping gets the keys of the merged mappings it does not set
/// itself (of a list, the first that has a key wins), at every depth.
pub fn merge_keys(v: &mut Value) -> Result<(), Error> {
    match v {
        Value::Object(m) => {
            while let Some(merge) = m.remove("<<") {
                let sources = match merge {
                    Value::Array(a) => a,
                    other => vec![other],
                };
                for source in sources {
                    let Value::Object(source) = source else {
                        return Err(Error::Yaml(
                            "`<<` merges a value that is not a mapping".into(),
                        ));
                    };
                    for (k, val) in source {
                        m.entry(k).or_insert(val);
                    }
                }
            }
            for val in m.values_mut() {
                merge_keys(val)?;
            }
        }
        Value::Array(a) => {
            for x in a {
                merge_keys(x)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn to_json(y: &Yaml) -> Result<Value, Error> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::Number((*i).into()),
        Yaml::Real(s) => {
            let f = y
                .as_f64()
                .ok_or_else(|| Error::Yaml(format!("not a number: {s}")))?;
            Value::Number(
                Number::from_f64(f).ok_or_else(|| Error::Yaml(format!("{s} has no JSON form")))?,
            )
        }
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) | Yaml::Real(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => return Err(Error::Yaml(format!("unsupported mapping key {other:?}"))),
                };
                if m.insert(key.clone(), to_json(v)?).is_some() {
                    return Err(Error::Yaml(format!("duplicate key {key}")));
                }
            }
            Value::Object(m)
        }
        Yaml::Alias(_) => return Err(Error::Yaml("unresolved alias".into())),
        Yaml::BadValue => return Err(Error::Yaml("bad value".into())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_several_documents() {
        let docs = documents(
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: yuqing}\n---\n---\nkind: ConfigMap\ndata:\n  a: \"1\"\n  b: 2\n  c: 0.5\n  d: yes\n  e: true\n  f: ~\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["metadata"]["name"], "yuqing");
        assert_eq!(
            docs[1]["data"],
            json!({"a": "1", "b": 2, "c": 0.5, "d": "yes", "e": true, "f": null})
        );
    }

    #[test]
    fn keeps_block_scalars() {
        let d = document("data:\n  pipeline.toml: |\n    name = \"k8s\"\n    [bus]\n").unwrap();
        assert_eq!(d["data"]["pipeline.toml"], "name = \"k8s\"\n[bus]\n");
    }

    #[test]
    fn resolves_aliases() {
        let d = document("a: &x {k: 1}\nb: *x\n").unwrap();
        assert_eq!(d["b"]["k"], 1);
    }

    #[test]
    fn applies_merge_keys() {
        let mut d = document(
            "base: &b {image: y, env: {A: 1}, volumes: [a]}\nother: &o {ports: [1], image: z}\n\
             s: {<<: *b, volumes: [b]}\nt: {<<: [*o, *b]}\nu: {<<: {<<: *b, x: 1}}\n",
        )
        .unwrap();
        merge_keys(&mut d).unwrap();
        assert_eq!(
            d["s"],
            json!({"volumes": ["b"], "image": "y", "env": {"A": 1}})
        );
        assert_eq!(d["t"]["image"], "z", "the first merged mapping wins");
        assert_eq!(d["t"]["volumes"], json!(["a"]));
        assert_eq!(d["u"]["image"], "y");
        assert_eq!(d["u"]["x"], 1);
        let mut bad = document("a: {<<: [1]}\n").unwrap();
        assert!(merge_keys(&mut bad).is_err());
    }

    #[test]
    fn refuses_what_json_cannot_hold() {
        assert!(documents("? [1, 2]\n: v\n").is_err());
        assert!(documents("a: 1\na: 2\n").is_err());
        assert!(documents("a: [1, 2\n").is_err());
        assert!(document("a: 1\n---\nb: 2\n").is_err());
    }
}
