//! The systemd units of `deploy/systemd/`: the all-in-one daemon (`yuqing.service`) and the
//! template running one stage per unit (`yuqing@.service`). They parse; `ExecStart` runs a
//! daemon command of the real command line (the right stage for each instance) and
//! `ExecStartPre` validates the pipeline it runs; the template is hardened and restarted exactly
//! like the daemon unit; every stage has its environment file with an address of its own; and
//! `systemd-analyze verify` accepts the units where that tool is installed.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use yuqing_daemon::cli::{Cli, Command, DaemonArgs};
use yuqing_dashboards::deploy;

const STAGES: [&str; 3] = ["collect", "analyze", "alert"];

/// A unit file: `(section, key, value)` in file order (keys may repeat).
struct Unit {
    name: String,
    entries: Vec<(String, String, String)>,
}

impl Unit {
    fn read(file: &str) -> Unit {
        let path = deploy("systemd").join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Unit::parse(file, &text)
    }

    fn parse(name: &str, text: &str) -> Unit {
        let mut section = None;
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            assert!(
                !line.ends_with('\\'),
                "{name}:{}: no continuation lines, please",
                i + 1
            );
            if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = Some(s.to_string());
                continue;
            }
            let sec = section
                .clone()
                .unwrap_or_else(|| panic!("{name}:{}: a key before any section", i + 1));
            let (k, v) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{name}:{}: not `key=value`: {line}", i + 1));
            entries.push((sec, k.trim().to_string(), v.trim().to_string()));
        }
        Unit {
            name: name.to_string(),
            entries,
        }
    }

    fn all(&self, section: &str, key: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.as_str())
            .collect()
    }

    fn one(&self, section: &str, key: &str) -> &str {
        match self.all(section, key)[..] {
            [v] => v,
            ref vs => panic!("{}: [{section}] {key}: {vs:?}, expected one", self.name),
        }
    }

    fn sections(&self) -> BTreeSet<&str> {
        self.entries.iter().map(|(s, _, _)| s.as_str()).collect()
    }

    /// The keys of `[Service]` and their values, in order.
    fn service(&self) -> Vec<(&str, &str)> {
        self.entries
            .iter()
            .filter(|(s, _, _)| s == "Service")
            .map(|(_, k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// Expands the specifiers of a template value for `instance` (`%i`, `%%`); any other specifier
/// is an error, so that none goes unchecked.
fn expand(value: &str, instance: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('i') => out.push_str(instance),
            Some('%') => out.push('%'),
            other => panic!("unexpected specifier %{other:?} in `{value}`"),
        }
    }
    out
}

/// The words of a command line: a plain absolute path and arguments without quotes (what these
/// units use; systemd's quoting and prefixes are refused rather than half-parsed).
fn words(command: &str) -> Vec<String> {
    assert!(
        !command.contains(['"', '\'', '$', ';']),
        "keep it plain: {command}"
    );
    let w: Vec<String> = command.split_whitespace().map(str::to_string).collect();
    assert_eq!(
        w.first().map(String::as_str),
        Some("/usr/local/bin/yuqing"),
        "{command}"
    );
    w
}

/// The command line as the real CLI parses it.
fn cli(command: &str) -> Cli {
    let w = words(command);
    Cli::try_parse_from(std::iter::once("yuqing".to_string()).chain(w[1..].iter().cloned()))
        .unwrap_or_else(|e| panic!("{command}: {e}"))
}

/// The one pipeline file `ExecStartPre` validates.
fn validated(unit: &Unit, instance: &str) -> PathBuf {
    let pre = expand(unit.one("Service", "ExecStartPre"), instance);
    match cli(&pre).command {
        Command::Validate(v) => {
            assert_eq!(v.files.len(), 1, "{}: {pre}", unit.name);
            v.files[0].clone()
        }
        other => panic!("{}: ExecStartPre runs {other:?}, not validate", unit.name),
    }
}

/// `KEY=value` lines of an environment file.
fn env_file(file: &str) -> Vec<(String, String)> {
    let path = deploy("systemd").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("{file}: not KEY=value: {l}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn seconds(v: &str) -> Duration {
    let s = v.trim();
    let n = s.strip_suffix('s').unwrap_or(s);
    Duration::from_secs(n.parse().unwrap_or_else(|_| panic!("not seconds: {v}")))
}

/// What every daemon unit must hold: the data directory writable, the stop timeout longer than
/// the graceful shutdown.
fn check_daemon(unit: &Unit, instance: &str, daemon: &DaemonArgs) {
    let n = &unit.name;
    let rw = expand(unit.one("Service", "ReadWritePaths"), instance);
    assert_eq!(
        daemon.data_dir,
        PathBuf::from(&rw),
        "{n}: the data directory is the writable path"
    );
    let state = expand(unit.one("Service", "StateDirectory"), instance);
    assert_eq!(
        PathBuf::from("/var/lib").join(state),
        daemon.data_dir,
        "{n}: systemd creates the data directory"
    );
    assert!(
        seconds(unit.one("Service", "TimeoutStopSec")) > daemon.graceful_shutdown_limit,
        "{n}: SIGKILL must come after the graceful shutdown limit"
    );
    assert_eq!(unit.one("Service", "KillSignal"), "SIGTERM", "{n}");
}

#[test]
fn the_daemon_unit_runs_yuqing_run() {
    let unit = Unit::read("yuqing.service");
    assert_eq!(
        unit.sections(),
        BTreeSet::from(["Install", "Service", "Unit"])
    );
    let start = unit.one("Service", "ExecStart");
    let Command::Run(run) = cli(start).command else {
        panic!("ExecStart runs no `yuqing run`: {start}");
    };
    let config = run.config.clone().expect("--config");
    assert_eq!(validated(&unit, ""), config, "validates what it runs");
    assert_eq!(
        run.daemon.listen,
        "127.0.0.1:9464".parse::<SocketAddr>().unwrap()
    );
    check_daemon(&unit, "", &run.daemon);
    assert_eq!(unit.one("Install", "WantedBy"), "multi-user.target");
}

#[test]
fn every_stage_instance_runs_its_stage_on_its_own_address() {
    let unit = Unit::read("yuqing@.service");
    assert_eq!(
        unit.sections(),
        BTreeSet::from(["Install", "Service", "Unit"])
    );
    assert_eq!(unit.one("Unit", "Conflicts"), "yuqing.service");
    let env_files = unit.all("Service", "EnvironmentFile");
    assert_eq!(
        env_files,
        ["-/etc/default/yuqing", "/etc/default/yuqing-%i"],
        "the shared file (optional), then the stage's own (required)"
    );
    let mut addrs = BTreeSet::new();
    let mut data_dirs = BTreeSet::new();
    for stage in STAGES {
        let start = expand(unit.one("Service", "ExecStart"), stage);
        let cli = cli(&start);
        let args = match (&cli.command, stage) {
            (Command::Collect(s), "collect") => s,
            (Command::Analyze(a), "analyze") => &a.stage,
            (Command::Alert(s), "alert") => s,
            (other, _) => panic!("yuqing@{stage} runs {other:?}"),
        };
        assert!(
            args.input.is_none() && !args.once,
            "{stage}: a daemon, not batch mode"
        );
        let config = args.config.clone().expect("--config");
        assert_eq!(
            validated(&unit, stage),
            config,
            "{stage}: validates what it runs"
        );
        check_daemon(&unit, stage, &args.daemon);
        data_dirs.insert(args.daemon.data_dir.clone());

        // The address comes from the stage's environment file (ExecStart does not override it).
        assert!(
            !words(&start).iter().any(|w| w.starts_with("--listen")),
            "{stage}: the address belongs in /etc/default/yuqing-{stage}"
        );
        let env = env_file(&format!("yuqing-{stage}.default"));
        let listen: Vec<&str> = env
            .iter()
            .filter(|(k, _)| k == "YUQING_LISTEN")
            .map(|(_, v)| v.as_str())
            .collect();
        let [listen] = listen[..] else {
            panic!("yuqing-{stage}.default: one YUQING_LISTEN, found {listen:?}");
        };
        let addr: SocketAddr = listen
            .parse()
            .unwrap_or_else(|e| panic!("yuqing-{stage}.default: {listen}: {e}"));
        addrs.insert(addr.port());
        if stage == "alert" {
            assert_eq!(
                addr.port(),
                9464,
                "the console and API stay where they were"
            );
        }
    }
    assert_eq!(
        addrs.len(),
        3,
        "each stage has a port of its own: {addrs:?}"
    );
    assert_eq!(data_dirs.len(), 3, "and a data directory of its own");
    assert_eq!(unit.one("Install", "WantedBy"), "multi-user.target");
}

#[test]
fn the_template_is_hardened_and_restarted_like_the_daemon_unit() {
    let daemon = Unit::read("yuqing.service");
    let template = Unit::read("yuqing@.service");
    // What differs per stage: the commands, the environment files and the data directory.
    let per_unit = [
        "ExecStart",
        "ExecStartPre",
        "EnvironmentFile",
        "ReadWritePaths",
        "StateDirectory",
    ];
    let shared = |u: &Unit| -> Vec<(String, String)> {
        u.service()
            .into_iter()
            .filter(|(k, _)| !per_unit.contains(k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    assert_eq!(shared(&daemon), shared(&template));
    for unit in [&daemon, &template] {
        let n = &unit.name;
        for (k, v) in [
            ("User", "yuqing"),
            ("NoNewPrivileges", "true"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "true"),
            ("PrivateTmp", "true"),
            ("Restart", "always"),
            ("RestartPreventExitStatus", "2"),
        ] {
            assert_eq!(unit.one("Service", k), v, "{n}: {k}");
        }
        assert!(
            seconds(unit.one("Service", "RestartSec")) >= Duration::from_secs(1),
            "{n}: no tight restart loop"
        );
        for (k, v) in [
            ("After", "network-online.target"),
            ("Wants", "network-online.target"),
        ] {
            assert!(
                unit.one("Unit", k).split_whitespace().any(|w| w == v),
                "{n}: {k}"
            );
        }
    }
}

/// `systemd-analyze verify` over both units (the template as each stage's instance and as an
/// unknown one), the binary replaced by a stub because verify checks that it exists. Skipped
/// where systemd-analyze is not installed.
#[test]
fn systemd_analyze_verifies_the_units() {
    let tool = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output();
    if !tool.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let stub = dir.path().join("yuqing");
    std::fs::write(&stub, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    for file in ["yuqing.service", "yuqing@.service"] {
        let text = std::fs::read_to_string(deploy("systemd").join(file)).unwrap();
        assert!(text.contains("/usr/local/bin/yuqing"), "{file}");
        let text = text.replace("/usr/local/bin/yuqing", stub.to_str().unwrap());
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    let mut units = vec![dir.path().join("yuqing.service")];
    units.extend(
        STAGES
            .iter()
            .map(|s| dir.path().join(format!("yuqing@{s}.service"))),
    );
    for unit in units {
        let out = std::process::Command::new("systemd-analyze")
            .arg("verify")
            .arg(&unit)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Any warning about our file (an unknown key, a bad value) is a failure; messages about
        // the machine itself (no running systemd in a container) are not ours to judge.
        let ours: Vec<&str> = stderr.lines().filter(|l| l.contains("yuqing")).collect();
        assert!(
            out.status.success() && ours.is_empty(),
            "systemd-analyze verify {}: {}\n{stderr}",
            unit.display(),
            out.status
        );
    }
}

#[test]
fn the_readme_names_every_file() {
    let readme = std::fs::read_to_string(deploy("systemd/README.md")).unwrap();
    let files = yuqing_dashboards::files(&deploy("systemd"), &["service", "default"]).unwrap();
    assert!(files.len() >= 6, "{files:?}");
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            readme.contains(&format!("`{name}`")),
            "README.md does not name {name}"
        );
    }
}
