//! The Grafana files without a running Grafana (none is packaged for this machine): every
//! dashboard validates against the JSON Schema of the `schemaVersion` it declares, every target
//! against its data source's query schema; ids, layout, data sources, variables and metric
//! names hang together. The queries themselves run in `tests/live.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{TimeZone, Utc};
use serde_json::Value;
use yuqing_dashboards::grafana::{
    self, Context, Dashboard, DataSource, Language, Selection, TimeRange,
};
use yuqing_dashboards::{deploy, files, read_json};

fn schema(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let v = read_json(&path).unwrap_or_else(|e| panic!("{e}"));
    jsonschema::validator_for(&v).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A validator for one definition of a schema file.
fn definition(file: &str, name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(file);
    let mut v = read_json(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        v["definitions"].get(name).is_some(),
        "{file} has no definition {name}"
    );
    v["$ref"] = Value::String(format!("#/definitions/{name}"));
    jsonschema::validator_for(&v).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

fn dashboards() -> Vec<Dashboard> {
    let list: Vec<Dashboard> = files(&deploy("grafana/dashboards"), &["json"])
        .unwrap()
        .iter()
        .map(|p| Dashboard::load(p).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert!(!list.is_empty());
    list
}

fn datasources() -> Vec<DataSource> {
    grafana::provisioned_datasources(&deploy("grafana/provisioning/datasources/yuqing.yml"))
        .unwrap()
}

#[test]
fn the_three_dashboards_exist() {
    let uids: BTreeSet<String> = dashboards().iter().map(|d| d.uid().to_string()).collect();
    for want in [
        "yuqing-duty-wall",
        "yuqing-pipeline-health",
        "yuqing-accountability",
    ] {
        assert!(uids.contains(want), "{want} missing: {uids:?}");
    }
    assert_eq!(
        uids.len(),
        dashboards().len(),
        "dashboard uids must be unique"
    );
}

#[test]
fn dashboards_validate_against_the_schema_of_their_version() {
    for d in dashboards() {
        let version = d.json["schemaVersion"]
            .as_u64()
            .unwrap_or_else(|| panic!("{}: no schemaVersion", d.path.display()));
        let file = format!("grafana-dashboard-v{version}.schema.json");
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("schema")
                .join(&file)
                .is_file(),
            "{}: declares schemaVersion {version}, for which there is no schema/{file}",
            d.path.display()
        );
        let errs = errors(&schema(&file), &d.json);
        assert!(errs.is_empty(), "{}:\n{errs:#?}", d.path.display());
    }
}

#[test]
fn the_schema_rejects_what_grafana_rejects() {
    let v = schema("grafana-dashboard-v39.schema.json");
    let good = serde_json::json!({
        "schemaVersion": 39, "templating": {"list": []}, "annotations": {"list": []},
        "panels": [{"type": "stat", "id": 1, "gridPos": {"x": 0, "y": 0, "w": 4, "h": 4},
                    "fieldConfig": {"defaults": {}, "overrides": []}}]
    });
    assert!(errors(&v, &good).is_empty(), "{:?}", errors(&v, &good));
    let mut bad = Vec::new();
    for (pointer, value) in [
        ("/schemaVersion", serde_json::json!(38)),
        ("/panels/0/gridPos/w", serde_json::json!(25)),
        ("/panels/0/gridPos/x", serde_json::json!(24)),
        ("/panels/0/fieldConfig", serde_json::json!({"defaults": {}})),
        ("/panels/0/colour", serde_json::json!("red")),
        ("/graphTooltip", serde_json::json!(3)),
        (
            "/templating/list",
            serde_json::json!([{"name": "x", "type": "nope"}]),
        ),
    ] {
        let mut doc = good.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        doc.pointer_mut(if parent.is_empty() { "" } else { parent })
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(key.to_string(), value);
        if errors(&v, &doc).is_empty() {
            bad.push(pointer);
        }
    }
    let mut no_annotations = good.clone();
    no_annotations
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    if errors(&v, &no_annotations).is_empty() {
        bad.push("/annotations (missing)");
    }
    assert!(bad.is_empty(), "accepted: {bad:?}");
}

#[test]
fn panel_options_validate_against_the_panel_schemas() {
    const PANELS: &str = "grafana-panels-v39.schema.json";
    let field_config = definition("grafana-dashboard-v39.schema.json", "FieldConfig");
    let mut checked = 0;
    for d in dashboards() {
        for p in d.panels() {
            let kind = p["type"].as_str().unwrap();
            if kind == "row" {
                continue;
            }
            let at = format!("{}: {} ({kind})", d.title(), p["title"]);
            let options = definition(PANELS, &format!("{kind}.options"));
            let custom = definition(PANELS, &format!("{kind}.custom"));
            let errs = errors(&options, &p["options"]);
            assert!(errs.is_empty(), "{at}: options:\n{errs:#?}");
            let defaults_custom = p["fieldConfig"]["defaults"]
                .get("custom")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({}));
            let errs = errors(&custom, &defaults_custom);
            assert!(
                errs.is_empty(),
                "{at}: fieldConfig.defaults.custom:\n{errs:#?}"
            );
            for o in p["fieldConfig"]["overrides"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for prop in o["properties"].as_array().into_iter().flatten() {
                    let id = prop["id"].as_str().unwrap();
                    let (validator, key) = match id.strip_prefix("custom.") {
                        Some(k) => (&custom, k),
                        None => (&field_config, id),
                    };
                    let mut one = serde_json::Map::new();
                    one.insert(key.to_string(), prop["value"].clone());
                    let errs = errors(validator, &Value::Object(one));
                    assert!(errs.is_empty(), "{at}: override {id}:\n{errs:#?}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
    // The panel schemas catch what Grafana would ignore or refuse.
    let stat = definition(PANELS, "stat.options");
    let bad =
        serde_json::json!({"reduceOptions": {"calcs": ["lastNotNul"]}, "colorMode": "backgroud"});
    assert_eq!(errors(&stat, &bad).len(), 2, "{:?}", errors(&stat, &bad));
    let table = definition(PANELS, "table.custom");
    assert!(!errors(
        &table,
        &serde_json::json!({"cellOptions": {"type": "colour"}})
    )
    .is_empty());
    assert!(errors(
        &table,
        &serde_json::json!({"cellOptions": {"type": "gauge", "mode": "basic"}})
    )
    .is_empty());
}

#[test]
fn targets_validate_against_their_data_source_schema() {
    let prom = schema("prometheus-query.schema.json");
    let pg = schema("postgres-query.schema.json");
    let kinds: BTreeMap<String, String> =
        datasources().into_iter().map(|d| (d.uid, d.kind)).collect();
    let mut n = 0;
    for d in dashboards() {
        for p in d.panels() {
            if p["type"] == "row" {
                continue;
            }
            let panel_ds = grafana::datasource_uid(&p["datasource"]);
            let targets = p["targets"].as_array().cloned().unwrap_or_default();
            assert!(
                !targets.is_empty() || p["type"] == "text",
                "{}: panel {} has no query",
                d.title(),
                p["title"]
            );
            let mut refs = BTreeSet::new();
            for t in targets {
                n += 1;
                let uid = grafana::datasource_uid(&t["datasource"])
                    .or_else(|| panel_ds.clone())
                    .unwrap_or_else(|| panic!("{}: {} has no data source", d.title(), p["title"]));
                let kind = kinds.get(&uid).unwrap_or_else(|| {
                    panic!("{}: data source {uid} is not provisioned", d.title())
                });
                assert_eq!(
                    t["datasource"]["type"].as_str(),
                    Some(kind.as_str()),
                    "{}: {}: target's data source type",
                    d.title(),
                    p["title"]
                );
                if let Some(pt) = p["datasource"]["type"].as_str() {
                    assert_eq!(
                        pt,
                        kind,
                        "{}: {}: panel and target disagree",
                        d.title(),
                        p["title"]
                    );
                }
                let v = match kind.as_str() {
                    "prometheus" => &prom,
                    "grafana-postgresql-datasource" => &pg,
                    other => panic!("no query schema for {other}"),
                };
                let errs = errors(v, &t);
                assert!(errs.is_empty(), "{}: {}:\n{errs:#?}", d.title(), p["title"]);
                assert!(
                    refs.insert(t["refId"].as_str().unwrap_or("").to_string()),
                    "{}: {}: duplicate refId",
                    d.title(),
                    p["title"]
                );
            }
        }
    }
    assert!(n > 50, "only {n} targets");
}

#[test]
fn panels_have_unique_ids_and_do_not_overlap() {
    for d in dashboards() {
        let mut ids = BTreeSet::new();
        let mut cells: BTreeMap<(i64, i64), String> = BTreeMap::new();
        for p in d.panels() {
            let id = p["id"].as_i64().expect("panel id");
            assert!(ids.insert(id), "{}: panel id {id} twice", d.title());
            let title = p["title"].as_str().unwrap_or("");
            assert!(!title.is_empty(), "{}: panel {id} has no title", d.title());
            let g = &p["gridPos"];
            let (x, y, w, h) = (
                g["x"].as_i64().unwrap(),
                g["y"].as_i64().unwrap(),
                g["w"].as_i64().unwrap(),
                g["h"].as_i64().unwrap(),
            );
            assert!(x + w <= 24, "{}: {title} is wider than the grid", d.title());
            for cx in x..x + w {
                for cy in y..y + h {
                    if let Some(other) = cells.insert((cx, cy), title.to_string()) {
                        panic!("{}: {title} overlaps {other} at ({cx}, {cy})", d.title());
                    }
                }
            }
        }
    }
}

#[test]
fn every_query_expands_with_the_dashboards_variables() {
    let from = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
    for d in dashboards() {
        let vars = d.variables().unwrap();
        let mut names = BTreeSet::new();
        let mut ctx = Context::new(TimeRange { from, to }, "1m", "1m");
        for v in vars {
            assert!(
                names.insert(v.name.clone()),
                "{}: ${} twice",
                d.title(),
                v.name
            );
            let sel = match v.kind.as_str() {
                "constant" | "textbox" => {
                    Selection::Values(vec![v.query.clone().unwrap_or_default()])
                }
                _ if v.include_all => Selection::All,
                _ => Selection::Values(vec!["x".into()]),
            };
            ctx.bind(v, sel, vec!["a".into(), "b".into()]);
        }
        for q in d.queries().unwrap() {
            let out = grafana::expand(&q.text, q.language, &ctx)
                .unwrap_or_else(|e| panic!("{}: {}: {e}\n{}", d.title(), q.panel, q.text));
            assert!(
                !out.contains('$') || q.language == Language::PromQL,
                "{out}"
            );
        }
        // Every variable is used somewhere (a variable nothing reads misleads the viewer).
        let all_text: String = d
            .queries()
            .unwrap()
            .iter()
            .map(|q| q.text.clone())
            .collect();
        for n in &names {
            assert!(
                all_text.contains(&format!("${n}")),
                "{}: ${n} is used by no query",
                d.title()
            );
        }
    }
}

#[test]
fn queries_read_only_metrics_yuqing_registers() {
    let registered = yuqing_dashboards::registered_metrics().unwrap();
    for d in dashboards() {
        let mut texts: Vec<(String, String)> = d
            .queries()
            .unwrap()
            .into_iter()
            .filter(|q| q.language == Language::PromQL)
            .map(|q| (q.panel, q.text))
            .collect();
        for v in d.variables().unwrap() {
            if let Some(q) = v.query {
                texts.push((format!("${}", v.name), q));
            }
        }
        for (where_, text) in texts {
            for m in yuqing_dashboards::metric_names(&text) {
                assert!(
                    registered.contains(&m),
                    "{}: {where_} reads {m}, which no crate registers",
                    d.title()
                );
            }
        }
    }
}

#[test]
fn provisioning_matches_the_dashboards_and_compose() {
    let ds = datasources();
    let uids: BTreeSet<&str> = ds.iter().map(|d| d.uid.as_str()).collect();
    assert_eq!(uids.len(), ds.len(), "data source uids are unique");
    assert!(ds
        .iter()
        .any(|d| d.kind == "prometheus" && d.uid == "yuqing-prometheus"));
    assert!(ds
        .iter()
        .any(|d| d.kind == "grafana-postgresql-datasource" && d.uid == "yuqing-postgres"));
    let prov = yuqing_dashboards::yaml::document(
        &std::fs::read_to_string(deploy("grafana/provisioning/dashboards/yuqing.yml")).unwrap(),
    )
    .unwrap();
    let path = prov["providers"][0]["options"]["path"].as_str().unwrap();
    // deploy/compose mounts the dashboards folder there.
    let compose = std::fs::read_to_string(deploy("compose/docker-compose.yml")).unwrap();
    assert!(
        compose.contains(&format!("../grafana/dashboards:{path}")),
        "compose does not mount the dashboards at {path}"
    );
    assert!(compose.contains("../grafana/provisioning:/etc/grafana/provisioning"));
    // The data source connects as the read-only role the SQL file creates.
    let raw =
        std::fs::read_to_string(deploy("grafana/provisioning/datasources/yuqing.yml")).unwrap();
    let sql = std::fs::read_to_string(deploy("grafana/postgres-readonly.sql")).unwrap();
    let doc = yuqing_dashboards::yaml::document(&raw).unwrap();
    let pg = doc["datasources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["uid"] == "yuqing-postgres")
        .unwrap();
    let user = pg["user"].as_str().unwrap();
    assert!(sql.contains(&format!("CREATE ROLE {user} ")), "{user}");
    assert!(
        pg["secureJsonData"]["password"]
            .as_str()
            .is_some_and(|p| p.starts_with('$')),
        "the password comes from the environment"
    );
}

#[test]
fn wall_panels_cover_the_issue() {
    let wall = dashboards()
        .into_iter()
        .find(|d| d.uid() == "yuqing-duty-wall")
        .unwrap();
    let text = wall.json.to_string();
    for needle in [
        "yuqing_cases_open",    // open alerts by grade
        "jsonb_array_elements", // countdowns to deadlines
        "event_history",        // events on the curve
        "velocity DESC",        // the fastest-rising events
        "sentiment",            // sentiment
        "属地分布",             // a table by place
    ] {
        assert!(text.contains(needle), "the wall lacks {needle}");
    }
}
