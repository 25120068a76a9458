//! The Kubernetes manifests of `deploy/k8s/`, checked without a cluster (none runs here): they
//! parse, every object is complete, selectors select what they should, probes and ports agree
//! with the daemon's arguments, which parse with the real command line, resources are bounded,
//! pods meet the `restricted` pod security profile, and the pipeline in the ConfigMap validates
//! with the environment the stages give it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Parser;
use serde_json::Value;
use yuqing_daemon::cli::{Cli, Command};
use yuqing_dashboards::{deploy, yaml};

/// Values standing in for the Secret's keys.
const SECRET: &[(&str, &str)] = &[
    (
        "store-url",
        "postgres://yuqing:secret@postgres.db.svc:5432/yuqing",
    ),
    ("ingest-tokens", "[\"0123456789abcdef0123456789\"]"),
];

fn kustomization() -> Value {
    yaml::document(&std::fs::read_to_string(deploy("k8s/kustomization.yaml")).unwrap()).unwrap()
}

/// Every object of every resource file the kustomization lists.
fn objects() -> Vec<(String, Value)> {
    let k = kustomization();
    let mut out = Vec::new();
    for r in k["resources"].as_array().expect("resources") {
        let file = r.as_str().unwrap();
        let text = std::fs::read_to_string(deploy("k8s").join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        for doc in yaml::documents(&text).unwrap_or_else(|e| panic!("{file}: {e}")) {
            out.push((file.to_string(), doc));
        }
    }
    out
}

fn of_kind<'a>(objs: &'a [(String, Value)], kind: &str) -> Vec<&'a Value> {
    objs.iter()
        .filter(|(_, o)| o["kind"] == kind)
        .map(|(_, o)| o)
        .collect()
}

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or("")
}

/// Whether `selector` (a label map) selects pods labelled `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let Some(sel) = selector.as_object() else {
        return false;
    };
    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// CPU in cores (`500m`, `2`), memory in bytes (`256Mi`, `1Gi`).
fn quantity(q: &Value) -> f64 {
    let s = match q {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a quantity: {other}"),
    };
    for (suffix, factor) in [
        ("m", 0.001),
        ("Ki", 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Gi", 1024.0 * 1024.0 * 1024.0),
    ] {
        if let Some(n) = s.strip_suffix(suffix) {
            return n.parse::<f64>().unwrap() * factor;
        }
    }
    s.parse().unwrap_or_else(|_| panic!("not a quantity: {s}"))
}

fn pipeline_text() -> String {
    std::fs::read_to_string(deploy("k8s/pipeline.toml")).unwrap()
}

#[test]
fn kustomization_lists_every_manifest_and_generates_the_pipeline() {
    let k = kustomization();
    assert_eq!(k["namespace"], "yuqing");
    let mut listed: Vec<String> = k["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    listed.sort();
    let mut present: Vec<String> = yuqing_dashboards::files(&deploy("k8s"), &["yaml", "yml"])
        .unwrap()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n != "kustomization.yaml")
        .collect();
    present.sort();
    assert_eq!(listed, present, "every manifest file is a resource");
    let gen = &k["configMapGenerator"][0];
    assert_eq!(gen["name"], "yuqing-pipeline");
    for f in gen["files"].as_array().unwrap() {
        assert!(deploy("k8s").join(f.as_str().unwrap()).is_file(), "{f}");
    }
}

#[test]
fn every_object_is_complete() {
    let objs = objects();
    let api = BTreeMap::from([
        ("Namespace", "v1"),
        ("Deployment", "apps/v1"),
        ("Service", "v1"),
        ("PodDisruptionBudget", "policy/v1"),
        ("HorizontalPodAutoscaler", "autoscaling/v2"),
    ]);
    let mut seen = BTreeMap::new();
    for (file, o) in &objs {
        let kind = o["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: no kind"));
        let want = api
            .get(kind)
            .unwrap_or_else(|| panic!("{file}: unexpected kind {kind}"));
        assert_eq!(o["apiVersion"], *want, "{file}: {kind}");
        assert!(!name(o).is_empty(), "{file}: {kind} without a name");
        if kind != "Namespace" {
            assert_eq!(
                o["metadata"]["namespace"],
                "yuqing",
                "{file}: {kind} {}",
                name(o)
            );
        }
        assert!(
            seen.insert((kind.to_string(), name(o).to_string()), ())
                .is_none(),
            "{kind} {} twice",
            name(o)
        );
    }
    for kind in ["Namespace", "Deployment", "Service", "PodDisruptionBudget"] {
        assert!(!of_kind(&objs, kind).is_empty(), "no {kind}");
    }
}

#[test]
fn stages_run_with_the_replicas_the_design_asks_for() {
    let objs = objects();
    let deps = of_kind(&objs, "Deployment");
    let replicas = |stage: &str| -> i64 {
        deps.iter()
            .find(|d| {
                d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == stage
            })
            .unwrap_or_else(|| panic!("no Deployment for {stage}"))["spec"]["replicas"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(
        replicas("collect"),
        1,
        "one collector polls each source once"
    );
    assert!(replicas("analyze") >= 2, "analyze scales out");
    assert_eq!(replicas("alert"), 2);
    let collect = deps.iter().find(|d| name(d) == "yuqing-collect").unwrap();
    assert_eq!(
        collect["spec"]["strategy"]["type"], "Recreate",
        "two collectors must never run at once"
    );
}

#[test]
fn deployments_are_consistent() {
    let objs = objects();
    for d in of_kind(&objs, "Deployment") {
        let n = name(d);
        let spec = &d["spec"];
        let labels = &spec["template"]["metadata"]["labels"];
        assert!(
            selects(&spec["selector"]["matchLabels"], labels),
            "{n}: the selector does not select its own pods"
        );
        let pod = &spec["template"]["spec"];
        let containers = pod["containers"].as_array().unwrap();
        assert_eq!(containers.len(), 1, "{n}");
        let c = &containers[0];
        assert!(
            c["image"].as_str().is_some_and(|i| !i.is_empty()),
            "{n}: image"
        );

        // The arguments parse with the daemon's own command line.
        let args: Vec<String> = c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        let cli = Cli::try_parse_from(std::iter::once("yuqing".to_string()).chain(args.clone()))
            .unwrap_or_else(|e| panic!("{n}: {args:?}: {e}"));
        let stage = labels["app.kubernetes.io/component"].as_str().unwrap();
        let stage_args = match (&cli.command, stage) {
            (Command::Collect(s), "collect") => s,
            (Command::Analyze(a), "analyze") => &a.stage,
            (Command::Alert(s), "alert") => s,
            (other, _) => panic!("{n}: runs {other:?} for stage {stage}"),
        };
        assert!(stage_args.input.is_none(), "{n}: a daemon, not batch mode");
        let config = stage_args.config.clone().expect("--config");
        let port = stage_args.daemon.listen.port();
        assert!(
            stage_args.daemon.listen.ip().is_unspecified(),
            "{n}: listen on every interface so probes and Prometheus reach it"
        );

        // Ports, probes and scrape annotations agree with --listen.
        let ports = c["ports"].as_array().unwrap();
        let http = ports
            .iter()
            .find(|p| p["name"] == "http")
            .expect("port http");
        assert_eq!(http["containerPort"].as_u64(), Some(port as u64), "{n}");
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let g = &c[probe]["httpGet"];
            assert_eq!(g["path"], path, "{n}: {probe}");
            assert!(
                g["port"] == "http" || g["port"].as_u64() == Some(port as u64),
                "{n}: {probe}"
            );
        }
        let ann = &spec["template"]["metadata"]["annotations"];
        assert_eq!(ann["prometheus.io/scrape"], "true", "{n}");
        assert_eq!(ann["prometheus.io/port"], port.to_string(), "{n}");
        assert_eq!(ann["prometheus.io/path"], "/metrics", "{n}");

        // The pipeline comes from the generated ConfigMap, the data directory is writable.
        let mounts = c["volumeMounts"].as_array().unwrap();
        let volumes = pod["volumes"].as_array().unwrap();
        let mount_of = |path: &PathBuf| {
            mounts
                .iter()
                .filter(|m| path.starts_with(m["mountPath"].as_str().unwrap()))
                .max_by_key(|m| m["mountPath"].as_str().unwrap().len())
                .unwrap_or_else(|| panic!("{n}: nothing mounted at {}", path.display()))
        };
        let cfg_mount = mount_of(&config);
        let cfg_volume = volumes
            .iter()
            .find(|v| v["name"] == cfg_mount["name"])
            .unwrap();
        assert_eq!(cfg_volume["configMap"]["name"], "yuqing-pipeline", "{n}");
        assert_eq!(
            config.file_name().and_then(|f| f.to_str()),
            Some("pipeline.toml"),
            "{n}: the ConfigMap's key"
        );
        let data_mount = mount_of(&stage_args.daemon.data_dir);
        assert_ne!(
            data_mount["readOnly"], true,
            "{n}: the data directory is writable"
        );
        assert!(
            volumes
                .iter()
                .any(|v| v["name"] == data_mount["name"] && v.get("emptyDir").is_some()),
            "{n}: data directory on an emptyDir"
        );

        // Shutdown: Kubernetes waits longer than the daemon's graceful limit.
        let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
        assert!(
            grace > stage_args.daemon.graceful_shutdown_limit.as_secs(),
            "{n}: grace {grace}s"
        );

        // Requests and limits for CPU and memory, requests within limits.
        let res = &c["resources"];
        for r in ["cpu", "memory"] {
            let req = quantity(&res["requests"][r]);
            let lim = quantity(&res["limits"][r]);
            assert!(
                req > 0.0 && req <= lim,
                "{n}: {r} request {req} limit {lim}"
            );
        }

        // The restricted pod security profile (the namespace enforces it).
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{n}");
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
            "{n}"
        );
        let sc = &c["securityContext"];
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{n}");
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{n}");
        assert_eq!(
            sc["capabilities"]["drop"],
            serde_json::json!(["ALL"]),
            "{n}"
        );

        // Secrets come from the one Secret the README tells to create.
        for e in c["env"].as_array().into_iter().flatten() {
            if let Some(r) = e["valueFrom"].get("secretKeyRef") {
                assert_eq!(r["name"], "yuqing", "{n}: {}", e["name"]);
                let key = r["key"].as_str().unwrap();
                assert!(
                    SECRET.iter().any(|(k, _)| *k == key),
                    "{n}: secret key {key}"
                );
            }
        }
    }
}

#[test]
fn services_and_budgets_select_their_stage() {
    let objs = objects();
    let deps = of_kind(&objs, "Deployment");
    let selected = |sel: &Value| -> Vec<&str> {
        deps.iter()
            .filter(|d| selects(sel, &d["spec"]["template"]["metadata"]["labels"]))
            .map(|d| name(d))
            .collect()
    };
    let services = of_kind(&objs, "Service");
    assert_eq!(services.len(), deps.len(), "a Service per stage");
    for s in services {
        let hits = selected(&s["spec"]["selector"]);
        assert_eq!(hits, [name(s)], "Service {} selects {hits:?}", name(s));
        let port = &s["spec"]["ports"][0];
        assert_eq!(port["targetPort"], "http", "{}", name(s));
        assert_eq!(s["metadata"]["annotations"]["prometheus.io/scrape"], "true");
        assert_eq!(
            s["metadata"]["annotations"]["prometheus.io/port"],
            port["port"].to_string(),
            "{}",
            name(s)
        );
    }
    for pdb in of_kind(&objs, "PodDisruptionBudget") {
        let hits = selected(&pdb["spec"]["selector"]["matchLabels"]);
        assert_eq!(hits.len(), 1, "PDB {} selects {hits:?}", name(pdb));
        let dep = deps.iter().find(|d| name(d) == hits[0]).unwrap();
        let replicas = dep["spec"]["replicas"].as_i64().unwrap();
        // A budget must leave room to drain a node.
        let ok = match (
            pdb["spec"]["minAvailable"].as_i64(),
            pdb["spec"]["maxUnavailable"].as_i64(),
        ) {
            (Some(min), None) => min >= 1 && min < replicas,
            (None, Some(max)) => max >= 1 && max < replicas,
            other => panic!("PDB {}: {other:?}", name(pdb)),
        };
        assert!(ok, "PDB {} blocks drains or protects nothing", name(pdb));
    }
}

#[test]
fn autoscaling_stays_within_the_topic_partitions() {
    let objs = objects();
    let cfg = yuqing_daemon::PipelineConfig::from_toml(
        &pipeline_text(),
        "deploy/k8s/pipeline.toml",
        deploy("k8s"),
        std::iter::empty(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let partitions = cfg.bus.kafka.partitions as i64;
    let hpas = of_kind(&objs, "HorizontalPodAutoscaler");
    assert!(!hpas.is_empty());
    for h in hpas {
        let target = &h["spec"]["scaleTargetRef"];
        assert_eq!(target["kind"], "Deployment");
        let dep = of_kind(&objs, "Deployment")
            .into_iter()
            .find(|d| name(d) == target["name"].as_str().unwrap())
            .unwrap_or_else(|| panic!("HPA {} scales nothing", name(h)));
        let stage = &dep["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"];
        assert_ne!(stage, "collect", "the collector must not scale out");
        let min = h["spec"]["minReplicas"].as_i64().unwrap();
        let max = h["spec"]["maxReplicas"].as_i64().unwrap();
        assert_eq!(
            min,
            dep["spec"]["replicas"].as_i64().unwrap(),
            "HPA {}",
            name(h)
        );
        assert!(
            min <= max && max <= partitions,
            "HPA {}: {min}..{max} processes for {partitions} partitions",
            name(h)
        );
        assert!(
            h["spec"]["metrics"][0]["resource"]["name"] == "cpu",
            "HPA {} scales on CPU",
            name(h)
        );
    }
}

#[test]
fn the_pipeline_validates_with_the_stages_environment() {
    let objs = objects();
    let dep = of_kind(&objs, "Deployment")[0].clone();
    let env: Vec<(String, String)> = dep["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let key = e["valueFrom"]["secretKeyRef"]["key"].as_str();
            let value = match key {
                Some(k) => SECRET.iter().find(|(s, _)| *s == k).unwrap().1.to_string(),
                None => e["value"].as_str().unwrap_or("").to_string(),
            };
            (e["name"].as_str().unwrap().to_string(), value)
        })
        .collect();
    let cfg = yuqing_daemon::PipelineConfig::from_toml(
        &pipeline_text(),
        "deploy/k8s/pipeline.toml",
        deploy("k8s"),
        env.into_iter(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        cfg.bus.kind,
        yuqing_bus::BusKind::Kafka,
        "stages talk over Kafka"
    );
    assert!(
        cfg.store
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("postgres://")),
        "state is shared in PostgreSQL: {:?}",
        cfg.store.url
    );
    assert_eq!(
        cfg.api.ingest_tokens.len(),
        1,
        "ingest tokens from the Secret"
    );
    assert!(!cfg.demo.enabled);
    assert!((cfg.clock.speed - 1.0).abs() < f64::EPSILON, "real time");
}

#[test]
fn prometheus_kubernetes_scraping_finds_these_pods() {
    // deploy/prometheus/prometheus-kubernetes.yml keeps pods annotated prometheus.io/scrape
    // "true" in the yuqing namespace and labels them with app.kubernetes.io/component.
    let cfg = yaml::document(
        &std::fs::read_to_string(deploy("prometheus/prometheus-kubernetes.yml")).unwrap(),
    )
    .unwrap();
    let job = &cfg["scrape_configs"][0];
    assert_eq!(
        job["kubernetes_sd_configs"][0]["namespaces"]["names"][0],
        "yuqing"
    );
    let relabel = job["relabel_configs"].as_array().unwrap();
    assert!(relabel.iter().any(|r| r["action"] == "keep"
        && r["source_labels"][0] == "__meta_kubernetes_pod_annotation_prometheus_io_scrape"
        && r["regex"] == "true"));
    assert!(relabel.iter().any(|r| r["source_labels"][0]
        == "__meta_kubernetes_pod_label_app_kubernetes_io_component"
        && r["target_label"] != "stage"));
    let objs = objects();
    for d in of_kind(&objs, "Deployment") {
        let t = &d["spec"]["template"]["metadata"];
        assert_eq!(t["annotations"]["prometheus.io/scrape"], "true");
        assert!(t["labels"]["app.kubernetes.io/component"].is_string());
    }
}

#[test]
fn quantities_parse() {
    assert_eq!(quantity(&Value::from("500m")), 0.5);
    assert_eq!(quantity(&Value::from("2")), 2.0);
    assert_eq!(quantity(&Value::from("1Gi")), 1024.0 * 1024.0 * 1024.0);
    assert_eq!(quantity(&Value::from(1)), 1.0);
}
