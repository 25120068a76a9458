//! The Docker Compose installation of `deploy/compose/`, checked without Docker (no engine runs
//! here, and `docker compose` is not installed): the file parses (merge keys applied as Compose
//! applies them), every reference resolves (services, volumes, files mounted from the
//! repository), published host ports are unique, each yuqing service runs a stage daemon whose
//! arguments parse with the real command line, the pipeline it mounts passes what `yuqing
//! validate` checks (without connecting to Kafka or PostgreSQL) and names the Kafka and PostgreSQL
//! of the file, Kafka runs in KRaft mode with its log on its volume, the image can write the data
//! directory, and Prometheus and Grafana find their configuration, provisioning and targets.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::Value;
use yuqing_daemon::cli::{Cli, Command, StageArgs};
use yuqing_daemon::PipelineConfig;
use yuqing_dashboards::{deploy, yaml};

const STAGES: [&str; 3] = ["collect", "analyze", "alert"];

fn compose_dir() -> PathBuf {
    deploy("compose")
}

/// The compose file, merge keys applied.
fn compose() -> Value {
    let path = compose_dir().join("docker-compose.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut doc = yaml::document(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml::merge_keys(&mut doc).unwrap();
    doc
}

fn services(doc: &Value) -> &serde_json::Map<String, Value> {
    doc["services"].as_object().expect("services")
}

/// A list of strings, or of numbers (Compose accepts both in `ports` and `command`).
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.clone()],
        other => panic!("not a list: {other}"),
    }
}

/// `environment` as a map (Compose accepts a map or a list of `KEY=value`).
fn environment(service: &Value) -> BTreeMap<String, String> {
    match &service["environment"] {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        Value::Array(a) => a
            .iter()
            .map(|e| {
                let s = e.as_str().unwrap();
                let (k, v) = s.split_once('=').unwrap_or((s, ""));
                (k.to_string(), v.to_string())
            })
            .collect(),
        Value::Null => BTreeMap::new(),
        other => panic!("environment: {other}"),
    }
}

/// `depends_on` names (list form or map form), with their conditions.
fn depends_on(service: &Value) -> Vec<(String, String)> {
    match &service["depends_on"] {
        Value::Array(a) => a
            .iter()
            .map(|d| (d.as_str().unwrap().to_string(), "service_started".into()))
            .collect(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let cond = v["condition"].as_str().unwrap_or("service_started");
                (k.clone(), cond.to_string())
            })
            .collect(),
        Value::Null => Vec::new(),
        other => panic!("depends_on: {other}"),
    }
}

/// One entry of `volumes`.
#[derive(Debug, Clone)]
enum Mount {
    /// A file or directory of the host (relative to the compose file's directory).
    Bind {
        source: PathBuf,
        target: String,
        read_only: bool,
    },
    /// A named volume.
    Volume { name: String, target: String },
}

impl Mount {
    fn target(&self) -> &str {
        match self {
            Mount::Bind { target, .. } | Mount::Volume { target, .. } => target,
        }
    }
}

fn mounts(service: &Value) -> Vec<Mount> {
    let mut out = Vec::new();
    for v in service["volumes"].as_array().into_iter().flatten() {
        let (source, target, mode) = match v {
            Value::String(s) => {
                let parts: Vec<&str> = s.split(':').collect();
                match parts[..] {
                    [src, dst] => (src.to_string(), dst.to_string(), String::new()),
                    [src, dst, mode] => (src.to_string(), dst.to_string(), mode.to_string()),
                    _ => panic!("volume `{s}`: not SOURCE:TARGET[:MODE]"),
                }
            }
            Value::Object(m) => (
                m["source"].as_str().unwrap_or("").to_string(),
                m["target"].as_str().unwrap().to_string(),
                if m.get("read_only") == Some(&Value::Bool(true)) {
                    "ro".into()
                } else {
                    String::new()
                },
            ),
            other => panic!("volume {other}"),
        };
        assert!(
            target.starts_with('/'),
            "mount target `{target}` is absolute"
        );
        if source.starts_with('.') || source.starts_with('/') {
            out.push(Mount::Bind {
                source: compose_dir().join(source),
                target,
                read_only: mode.split(',').any(|m| m == "ro"),
            });
        } else {
            out.push(Mount::Volume {
                name: source,
                target,
            });
        }
    }
    out
}

/// The mount that holds `path` in the container (the deepest), and `path` below it.
fn mount_of<'a>(mounts: &'a [Mount], path: &str) -> Option<(&'a Mount, String)> {
    mounts
        .iter()
        .filter_map(|m| {
            let t = m.target().trim_end_matches('/');
            let rest = path.strip_prefix(t)?;
            (rest.is_empty() || rest.starts_with('/'))
                .then(|| (m, rest.trim_start_matches('/').to_string()))
        })
        .max_by_key(|(m, _)| m.target().len())
}

/// Where a container path is on the host, when a bind mount holds it.
fn host_path(service: &Value, path: &str) -> Option<PathBuf> {
    let ms = mounts(service);
    match mount_of(&ms, path)? {
        (Mount::Bind { source, .. }, rest) if rest.is_empty() => Some(source.clone()),
        (Mount::Bind { source, .. }, rest) => Some(source.join(rest)),
        (Mount::Volume { .. }, _) => None,
    }
}

/// `HOST:CONTAINER`, `IP:HOST:CONTAINER` or `CONTAINER` (no host port), optionally `/proto`; or
/// the long syntax. The published host port, if any.
fn host_port(p: &Value) -> Option<(String, u16)> {
    if let Value::Object(m) = p {
        let published = m.get("published")?;
        let port = match published {
            Value::String(s) => s.parse().unwrap(),
            other => other.as_u64().unwrap() as u16,
        };
        let ip = m
            .get("host_ip")
            .and_then(Value::as_str)
            .unwrap_or("0.0.0.0");
        return Some((ip.to_string(), port));
    }
    let s = match p {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let s = s.split('/').next().unwrap().to_string();
    let parts: Vec<&str> = s.rsplitn(3, ':').collect();
    match parts[..] {
        [_container] => None,
        [_container, host] => Some(("0.0.0.0".into(), host.parse().expect("a host port"))),
        [_container, host, ip] => Some((ip.to_string(), host.parse().expect("a host port"))),
        _ => unreachable!(),
    }
}

/// The image every yuqing service runs: the one the Dockerfile builds.
const YUQING_IMAGE: &str = "yuqing:latest";

/// The yuqing services: name, service, parsed command line.
fn yuqing_services(doc: &Value) -> Vec<(String, Value, Cli)> {
    services(doc)
        .iter()
        .filter(|(_, s)| s["image"] == YUQING_IMAGE)
        .map(|(name, s)| {
            let args = strings(&s["command"]);
            // The image's ENTRYPOINT is the binary: `command` is its arguments.
            let cli =
                Cli::try_parse_from(std::iter::once("yuqing".to_string()).chain(args.clone()))
                    .unwrap_or_else(|e| panic!("{name}: {args:?}: {e}"));
            (name.clone(), s.clone(), cli)
        })
        .collect()
}

/// The stage a command runs, and its arguments.
fn stage(cli: &Cli) -> Option<(&'static str, &StageArgs)> {
    match &cli.command {
        Command::Collect(s) => Some(("collect", s)),
        Command::Analyze(a) => Some(("analyze", &a.stage)),
        Command::Alert(s) => Some(("alert", s)),
        _ => None,
    }
}

/// The Dockerfile's instructions, per stage (`FROM` starts one): (keyword, arguments).
fn dockerfile() -> Vec<Vec<(String, String)>> {
    let text = std::fs::read_to_string(compose_dir().join("Dockerfile")).unwrap();
    let mut stages: Vec<Vec<(String, String)>> = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            pending.push_str(cont);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let full = std::mem::take(&mut pending);
        let (kw, args) = full.split_once(char::is_whitespace).unwrap_or((&full, ""));
        let kw = kw.to_ascii_uppercase();
        if kw == "FROM" {
            stages.push(Vec::new());
        }
        stages
            .last_mut()
            .expect("FROM first")
            .push((kw, args.trim().to_string()));
    }
    stages
}

fn last<'a>(stage: &'a [(String, String)], kw: &str) -> Option<&'a str> {
    stage
        .iter()
        .rev()
        .find(|(k, _)| k == kw)
        .map(|(_, a)| a.as_str())
}

/// The runtime stage's `ENV` values.
fn image_env(stage: &[(String, String)]) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (k, a) in stage {
        if k == "ENV" {
            for pair in a.split_whitespace() {
                if let Some((k, v)) = pair.split_once('=') {
                    env.insert(k.to_string(), v.trim_matches('"').to_string());
                }
            }
        }
    }
    env
}

/// The data directory a yuqing service runs with: `--data-dir`, else `YUQING_DATA_DIR` of the
/// service or the image, else the default below the image's working directory.
fn data_dir(service: &Value, stage: &StageArgs) -> PathBuf {
    let args = strings(&service["command"]);
    if args
        .iter()
        .any(|a| a == "--data-dir" || a.starts_with("--data-dir="))
    {
        return stage.daemon.data_dir.clone();
    }
    let stages = dockerfile();
    let runtime = stages.last().unwrap();
    if let Some(d) = environment(service)
        .get("YUQING_DATA_DIR")
        .or(image_env(runtime).get("YUQING_DATA_DIR"))
    {
        return PathBuf::from(d);
    }
    let workdir = last(runtime, "WORKDIR").unwrap_or("/");
    Path::new(workdir).join("yuqing-data")
}

/// `key = "value"` of a table of a Cargo manifest (`[[bin]]` written `[bin]`), read as text:
/// this crate has no TOML parser.
fn manifest_value(path: &Path, table: &str, key: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            current = line.trim_matches(|c| c == '[' || c == ']').to_string();
            if line.starts_with("[[") {
                current = format!("[{current}]");
            }
            continue;
        }
        if current == table {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == key {
                    return v.trim().trim_matches('"').to_string();
                }
            }
        }
    }
    panic!("{}: no {key} in [{table}]", path.display())
}

#[test]
fn every_reference_resolves() {
    let doc = compose();
    let svcs = services(&doc);
    let declared: BTreeSet<&str> = doc["volumes"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut used = BTreeSet::new();
    for (name, s) in svcs {
        assert!(
            s["image"].as_str().is_some_and(|i| !i.is_empty()) || s.get("build").is_some(),
            "{name}: no image"
        );
        for (dep, cond) in depends_on(s) {
            let target = svcs
                .get(&dep)
                .unwrap_or_else(|| panic!("{name} depends on {dep}, which is not a service"));
            assert_ne!(&dep, name, "{name} depends on itself");
            match cond.as_str() {
                "service_started" | "service_completed_successfully" => {}
                "service_healthy" => assert!(
                    target.get("healthcheck").is_some(),
                    "{name} waits for {dep} to be healthy, which has no healthcheck"
                ),
                other => panic!("{name}: depends_on {dep}: condition {other}"),
            }
        }
        for m in mounts(s) {
            match m {
                Mount::Bind { source, target, .. } => assert!(
                    source.exists(),
                    "{name}: mounts {} (at {target}), which does not exist",
                    source.display()
                ),
                Mount::Volume { name: v, target } => {
                    assert!(
                        declared.contains(v.as_str()),
                        "{name}: volume {v} (at {target}) is not declared"
                    );
                    used.insert(v);
                }
            }
        }
    }
    let used: BTreeSet<&str> = used.iter().map(String::as_str).collect();
    assert_eq!(used, declared, "every declared volume is used");

    // No dependency cycle: Compose would refuse to start.
    fn visit<'a>(
        n: &'a str,
        svcs: &'a serde_json::Map<String, Value>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(n) {
            return;
        }
        assert!(!stack.contains(&n), "dependency cycle: {stack:?} → {n}");
        stack.push(n);
        let (key, _) = svcs.get_key_value(n).unwrap();
        for (dep, _) in depends_on(&svcs[n]) {
            let (dep, _) = svcs.get_key_value(&dep).unwrap();
            visit(dep, svcs, stack, done);
        }
        stack.pop();
        done.insert(key.as_str());
    }
    let mut done = BTreeSet::new();
    for n in svcs.keys() {
        visit(n, svcs, &mut Vec::new(), &mut done);
    }
}

#[test]
fn published_host_ports_are_unique() {
    let doc = compose();
    let mut seen: BTreeMap<u16, String> = BTreeMap::new();
    for (name, s) in services(&doc) {
        let replicas = s["deploy"]["replicas"].as_u64().unwrap_or(1);
        for p in s["ports"].as_array().into_iter().flatten() {
            let Some((_ip, port)) = host_port(p) else {
                continue;
            };
            assert!(
                replicas == 1,
                "{name}: {replicas} replicas cannot all publish host port {port}"
            );
            if let Some(other) = seen.insert(port, name.clone()) {
                panic!("host port {port} is published by {other} and {name}");
            }
        }
    }
    assert!(!seen.is_empty(), "Prometheus and Grafana are reachable");
    // The helper reads every form Compose takes.
    assert_eq!(
        host_port(&Value::from("127.0.0.1:3000:3000/tcp")),
        Some(("127.0.0.1".into(), 3000))
    );
    assert_eq!(host_port(&Value::from("9090")), None);
    assert_eq!(
        host_port(&serde_json::json!({"target": 80, "published": "8080"})),
        Some(("0.0.0.0".into(), 8080))
    );
}

#[test]
fn each_stage_runs_as_a_service_of_the_real_command_line() {
    let doc = compose();
    let ys = yuqing_services(&doc);
    let mut stages = BTreeSet::new();
    for (name, s, cli) in &ys {
        let (st, args) =
            stage(cli).unwrap_or_else(|| panic!("{name}: runs {:?}, not a stage", cli.command));
        // Prometheus labels each target with its service name as `component`.
        assert_eq!(name, st, "the service of stage {st} is named after it");
        assert!(stages.insert(st), "two services run {st}");
        assert!(args.input.is_none() && !args.once, "{name}: a daemon");
        assert!(
            args.daemon.listen.ip().is_unspecified(),
            "{name}: listen on every interface so that Prometheus reaches it"
        );
        assert_eq!(
            s["restart"], "always",
            "{name}: restarted when it exits (the bus may come up late)"
        );
        let deps: BTreeMap<String, String> = depends_on(s).into_iter().collect();
        for infra in ["kafka", "postgres"] {
            assert_eq!(
                deps.get(infra).map(String::as_str),
                Some("service_healthy"),
                "{name}: starts once {infra} is healthy"
            );
        }
    }
    assert_eq!(stages, STAGES.into_iter().collect(), "every stage runs");
}

#[test]
fn the_image_runs_the_binary_and_can_write_the_data_directory() {
    let stages = dockerfile();
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    let (build, runtime) = (&stages[0], &stages[1]);

    // The build stage builds the package of the `yuqing` binary with a Rust new enough.
    let from = last(build, "FROM").unwrap();
    let version = from
        .strip_prefix("rust:")
        .and_then(|v| v.split('-').next())
        .unwrap_or_else(|| panic!("FROM {from}: not a rust image"));
    let root = yuqing_dashboards::repo_root();
    let msrv = manifest_value(
        &root.join("Cargo.toml"),
        "workspace.package",
        "rust-version",
    );
    let parse = |v: &str| -> Vec<u32> { v.split('.').map(|n| n.parse().unwrap()).collect() };
    assert!(
        parse(version) >= parse(&msrv),
        "rust {version} builds a workspace that needs {msrv}"
    );
    let cli_manifest = root.join("crates/cli/Cargo.toml");
    let package = manifest_value(&cli_manifest, "package", "name");
    let bin = manifest_value(&cli_manifest, "[bin]", "name");
    let cargo = build
        .iter()
        .find(|(k, a)| k == "RUN" && a.contains("cargo build"))
        .map(|(_, a)| a.as_str())
        .expect("RUN cargo build");
    assert!(
        cargo.contains(&format!("-p {package}")) && cargo.contains("--release"),
        "{cargo}"
    );

    // The runtime stage copies that binary and runs it as its entrypoint.
    let copy = runtime
        .iter()
        .find(|(k, a)| k == "COPY" && a.starts_with("--from="))
        .map(|(_, a)| a.as_str())
        .expect("COPY --from=build");
    let parts: Vec<&str> = copy.split_whitespace().collect();
    assert!(
        parts[1].ends_with(&format!("/target/release/{bin}")),
        "{copy}"
    );
    let entrypoint: Vec<String> =
        serde_json::from_str(last(runtime, "ENTRYPOINT").expect("ENTRYPOINT")).unwrap();
    assert_eq!(entrypoint, [parts[2]], "ENTRYPOINT runs the binary copied");

    // It runs as a user of its own, who owns the data directory every stage creates at start.
    let user = last(runtime, "USER").expect("USER");
    assert!(user != "root" && user != "0", "USER {user}");
    let doc = compose();
    for (name, s, cli) in yuqing_services(&doc) {
        let (_, args) = stage(&cli).unwrap();
        let dir = data_dir(&s, args);
        assert!(
            dir.is_absolute(),
            "{name}: data directory {} is relative to the working directory",
            dir.display()
        );
        let dir = dir.to_str().unwrap();
        let owned = runtime.iter().any(|(k, a)| {
            k == "RUN"
                && a.split("&&").any(|cmd| {
                    let words: Vec<&str> = cmd.split_whitespace().collect();
                    words.first() == Some(&"chown")
                        && words
                            .iter()
                            .any(|w| *w == user || w.starts_with(&format!("{user}:")))
                        && words.contains(&dir)
                })
        });
        assert!(
            owned,
            "{name}: the image does not give {dir} to {user}, who cannot create it"
        );
        if let Some((Mount::Volume { .. }, _)) = mount_of(&mounts(&s), dir) {
            // A named volume takes the owner of the image's directory when first mounted.
        } else if let Some((Mount::Bind { .. }, _)) = mount_of(&mounts(&s), dir) {
            panic!("{name}: a bind mount at {dir} belongs to the host's user");
        }
        // Every port a stage listens on is one the image exposes.
        let exposed: Vec<&str> = runtime
            .iter()
            .filter(|(k, _)| k == "EXPOSE")
            .flat_map(|(_, a)| a.split_whitespace())
            .collect();
        let port = args.daemon.listen.port().to_string();
        assert!(
            exposed.contains(&port.as_str()),
            "{name}: listens on {port}, image exposes {exposed:?}"
        );
    }
}

/// The pipeline a yuqing service runs, as the container sees it: its config directory holds
/// only what is mounted there.
fn mounted_pipeline(name: &str, s: &Value, args: &StageArgs) -> (tempfile::TempDir, PathBuf) {
    let config = args
        .config
        .clone()
        .unwrap_or_else(|| panic!("{name}: no --config"));
    let config = config.to_str().unwrap();
    let host = host_path(s, config)
        .unwrap_or_else(|| panic!("{name}: nothing of the repository is mounted at {config}"));
    assert!(
        host.is_file(),
        "{name}: {config} is {}, not a file",
        host.display()
    );
    // Rebuild the container's config directory from the bind mounts below it.
    let dir = Path::new(config).parent().unwrap().to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for m in mounts(s) {
        if let Mount::Bind {
            source,
            target,
            read_only,
        } = m
        {
            if let Some(rest) = target.strip_prefix(dir) {
                assert!(read_only, "{name}: {target} is mounted read-only");
                let to = tmp.path().join(rest.trim_start_matches('/'));
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                if source.is_file() {
                    std::fs::copy(&source, &to).unwrap();
                }
            }
        }
    }
    let file = tmp.path().join(Path::new(config).file_name().unwrap());
    (tmp, file)
}

/// What `yuqing validate` does (cli.rs): load, then build what the pipeline's files make; with
/// the service's environment for the overrides.
fn validate(text: &str, file: &Path, env: &BTreeMap<String, String>) -> PipelineConfig {
    let cfg = PipelineConfig::from_toml(
        text,
        &file.display().to_string(),
        file.parent().unwrap().to_path_buf(),
        env.clone().into_iter(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    cfg.check_components().unwrap_or_else(|e| panic!("{e}"));
    cfg
}

fn host_of(authority: &str) -> (&str, u16) {
    let (h, p) = authority.rsplit_once(':').expect("host:port");
    (h, p.parse().unwrap())
}

#[test]
fn the_mounted_pipeline_validates_and_names_the_kafka_and_postgres_of_the_file() {
    let doc = compose();
    let svcs = services(&doc);
    let ys = yuqing_services(&doc);
    assert!(!ys.is_empty());
    for (name, s, cli) in &ys {
        let (_, args) = stage(cli).unwrap();
        let (_tmp, file) = mounted_pipeline(name, s, args);
        let text = std::fs::read_to_string(&file).unwrap();
        let env = environment(s);

        // Validation reads files only: the hosts of the file are just names here, and still it
        // passes — also when the names can never resolve (RFC 6761 `.invalid`), and quickly.
        let started = Instant::now();
        let cfg = validate(&text, &file, &env);
        let unresolvable = text
            .replace("kafka:", "kafka.invalid:")
            .replace("@postgres:", "@postgres.invalid:");
        assert_ne!(
            unresolvable, text,
            "{name}: the pipeline names kafka and postgres"
        );
        validate(&unresolvable, &file, &env);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name}: validation took {:?}: does it connect?",
            started.elapsed()
        );

        // Stages in separate containers talk over Kafka and share PostgreSQL, with real time.
        assert_eq!(cfg.bus.kind, yuqing_bus::BusKind::Kafka, "{name}");
        assert!(!cfg.demo.enabled, "{name}");
        assert!((cfg.clock.speed - 1.0).abs() < f64::EPSILON, "{name}");
        for broker in cfg.bus.kafka.bootstrap.split(',') {
            let (host, port) = host_of(broker.trim());
            let kafka = svcs
                .get(host)
                .unwrap_or_else(|| panic!("{name}: broker {host} is not a service"));
            let advertised = environment(kafka)["KAFKA_ADVERTISED_LISTENERS"].clone();
            assert!(
                advertised
                    .split(',')
                    .any(|l| l.split_once("://").map(|x| x.1) == Some(&format!("{host}:{port}"))),
                "{name}: broker {host}:{port} is not advertised by {host} ({advertised})"
            );
        }
        let url = cfg.store.url.clone().expect("a store URL");
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .unwrap_or_else(|| panic!("{name}: {url} is not PostgreSQL"));
        let (auth, rest) = rest.split_once('@').expect("user:password@");
        let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
        let (authority, db) = rest.split_once('/').expect("/database");
        let (host, port) = host_of(authority);
        assert_eq!(port, 5432);
        let pg = svcs
            .get(host)
            .unwrap_or_else(|| panic!("{name}: store host {host} is not a service"));
        let pg_env = environment(pg);
        assert_eq!(pg_env["POSTGRES_USER"], user, "{name}");
        assert_eq!(pg_env["POSTGRES_PASSWORD"], password, "{name}");
        assert_eq!(
            pg_env
                .get("POSTGRES_DB")
                .map(String::as_str)
                .unwrap_or(user),
            db.split('?').next().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn kafka_runs_in_kraft_mode_with_its_log_on_its_volume() {
    let doc = compose();
    let svcs = services(&doc);
    for (name, s) in svcs {
        let image = s["image"].as_str().unwrap_or("");
        assert!(
            !name.contains("zookeeper") && !image.contains("zookeeper"),
            "{name}: KRaft needs no ZooKeeper"
        );
    }
    let kafka = &svcs["kafka"];
    let env = environment(kafka);
    assert!(
        env.keys().all(|k| !k.contains("ZOOKEEPER")),
        "no ZooKeeper settings"
    );
    let roles: BTreeSet<&str> = env["KAFKA_PROCESS_ROLES"]
        .split(',')
        .map(str::trim)
        .collect();
    assert_eq!(
        roles,
        BTreeSet::from(["broker", "controller"]),
        "a combined KRaft node"
    );
    let node = &env["KAFKA_NODE_ID"];
    let voters = &env["KAFKA_CONTROLLER_QUORUM_VOTERS"];
    let controller_names: Vec<&str> = env["KAFKA_CONTROLLER_LISTENER_NAMES"].split(',').collect();
    let listeners = &env["KAFKA_LISTENERS"];
    for v in voters.split(',') {
        let (id, addr) = v.split_once('@').expect("id@host:port");
        assert_eq!(id, node, "the only voter is this node");
        let (host, port) = host_of(addr);
        assert_eq!(host, "kafka", "voters are reached by service name");
        assert!(
            listeners.split(',').any(|l| {
                l.split_once("://").is_some_and(|(n, a)| {
                    controller_names.contains(&n) && a.ends_with(&format!(":{port}"))
                })
            }),
            "the voter's port {port} is a controller listener: {listeners}"
        );
    }
    // With settings from the environment the image writes no default server.properties, so
    // the log goes where KAFKA_LOG_DIRS says (or /tmp); it must be the volume.
    let log_dirs = env
        .get("KAFKA_LOG_DIRS")
        .expect("KAFKA_LOG_DIRS: else Kafka logs to /tmp/kafka-logs, not the volume");
    for d in log_dirs.split(',') {
        assert!(
            matches!(mount_of(&mounts(kafka), d), Some((Mount::Volume { .. }, _))),
            "Kafka's log {d} is not on a named volume: topics are lost with the container"
        );
    }
    assert!(kafka.get("healthcheck").is_some());
}

#[test]
fn prometheus_finds_its_configuration_rules_and_the_stages() {
    let doc = compose();
    let svcs = services(&doc);
    let prom = &svcs["prometheus"];
    let args = strings(&prom["command"]);
    let config = args
        .iter()
        .find_map(|a| a.strip_prefix("--config.file="))
        .expect("--config.file");
    let host = host_path(prom, config).expect("the configuration is mounted from the repository");
    assert!(host.is_file(), "{}", host.display());
    let cfg = yaml::document(&std::fs::read_to_string(&host).unwrap()).unwrap();
    // Rule files, relative to the configuration's directory, are mounted with it.
    for pattern in strings(&cfg["rule_files"]) {
        let in_container = Path::new(config).parent().unwrap().join(&pattern);
        let host = host_path(prom, in_container.to_str().unwrap())
            .unwrap_or_else(|| panic!("rule files {pattern} are not mounted"));
        let (dir, glob) = (host.parent().unwrap(), host.file_name().unwrap());
        let suffix = glob.to_str().unwrap().strip_prefix('*').unwrap_or("");
        let n = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(suffix)
            })
            .count();
        assert!(n > 0, "no rule file matches {pattern}");
    }
    // It scrapes every stage service on the port the stage listens on.
    let ys = yuqing_services(&doc);
    let sd = &cfg["scrape_configs"][0]["dns_sd_configs"][0];
    let names: BTreeSet<String> = strings(&sd["names"]).into_iter().collect();
    let port = sd["port"].as_u64().unwrap() as u16;
    let stage_services: BTreeSet<String> = ys.iter().map(|(n, _, _)| n.clone()).collect();
    assert_eq!(
        names, stage_services,
        "Prometheus scrapes every stage service"
    );
    for (name, _, cli) in &ys {
        assert_eq!(
            stage(cli).unwrap().1.daemon.listen.port(),
            port,
            "{name}: Prometheus scrapes another port"
        );
    }
}

#[test]
fn grafana_provisioning_comes_from_deploy_grafana() {
    let doc = compose();
    let svcs = services(&doc);
    let grafana = &svcs["grafana"];
    let grafana_dir = deploy("grafana").canonicalize().unwrap();
    let provisioning = host_path(grafana, "/etc/grafana/provisioning")
        .expect("provisioning mounted from the repository");
    assert_eq!(
        provisioning.canonicalize().unwrap(),
        grafana_dir.join("provisioning")
    );
    for kind in ["datasources", "dashboards"] {
        let dir = provisioning.join(kind);
        assert!(
            !yuqing_dashboards::files(&dir, &["yml", "yaml"])
                .unwrap()
                .is_empty(),
            "nothing to provision in {}",
            dir.display()
        );
    }
    // The dashboards provider reads a folder that is mounted from deploy/grafana/dashboards.
    let prov = yaml::document(
        &std::fs::read_to_string(provisioning.join("dashboards/yuqing.yml")).unwrap(),
    )
    .unwrap();
    for p in prov["providers"].as_array().unwrap() {
        let path = p["options"]["path"].as_str().unwrap();
        let host =
            host_path(grafana, path).unwrap_or_else(|| panic!("provider path {path} not mounted"));
        assert_eq!(
            host.canonicalize().unwrap(),
            grafana_dir.join("dashboards"),
            "{path}"
        );
    }
    // The data sources reach services of this file, with the environment Grafana is given.
    let ds_text = std::fs::read_to_string(provisioning.join("datasources/yuqing.yml")).unwrap();
    let ds = yaml::document(&ds_text).unwrap();
    for d in ds["datasources"].as_array().unwrap() {
        let url = d["url"].as_str().unwrap();
        let authority = url.split("://").last().unwrap().split('/').next().unwrap();
        let (host, _) = host_of(authority);
        assert!(
            svcs.contains_key(host),
            "data source {} points at {host}, not a service",
            d["name"]
        );
    }
    let env = environment(grafana);
    for word in ds_text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$')) {
        if let Some(var) = word.strip_prefix('$').filter(|v| !v.is_empty()) {
            assert!(
                env.contains_key(var),
                "the data sources read ${var}, which Grafana is not given"
            );
        }
    }
    // The read-only role the PostgreSQL data source uses is created before Grafana starts.
    let role = depends_on(grafana)
        .into_iter()
        .find(|(_, c)| c == "service_completed_successfully")
        .map(|(s, _)| s)
        .expect("Grafana waits for the role");
    let sql = host_path(&svcs[&role], "/postgres-readonly.sql").expect("the role's SQL is mounted");
    assert_eq!(
        sql.canonicalize().unwrap(),
        grafana_dir.join("postgres-readonly.sql")
    );
}
