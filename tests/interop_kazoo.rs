//! kazoo interop and differential tests.
//!
//! Each scenario script under tests/kazoo/ (see tests/kazoo/zkscenario.py)
//! runs against Apache ZooKeeper 3.8 and against ferrozk, each freshly
//! started with the same zoo.cfg; both runs must pass the script's own
//! checks, and their normalised transcripts must be equal.

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

/// Extra zoo.cfg keys from a `# zoo.cfg: k=v k=v` header line.
fn header_cfg(script: &str) -> Vec<(String, String)> {
    script
        .lines()
        .filter_map(|l| l.strip_prefix("# zoo.cfg:"))
        .flat_map(|rest| rest.split_whitespace())
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("k=v in # zoo.cfg: header");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Run one scenario against one server; the transcript, or a problem.
fn run_on(
    kind: ServerKind,
    script: &str,
    extra: &[(&str, &str)],
) -> Result<serde_json::Value, String> {
    let server = try_start(kind, extra)
        .map_err(|e| format!("[{}] server did not start: {e}", kind.name()))?;
    let path = tests_dir().join("kazoo").join(script);
    let out = run_with_timeout(
        Command::new(PYTHON).arg("-B").arg(&path).arg(server.addr()),
        SCRIPT_TIMEOUT,
    );
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).map_err(|e| {
        format!(
            "[{}] {script}: no JSON transcript ({e})\n{}\n--- server log ---\n{}",
            kind.name(),
            out.describe(),
            server.log_tail()
        )
    })?;
    let failures = doc["failures"].as_array().cloned().unwrap_or_default();
    if !failures.is_empty() || !out.success() {
        let list: Vec<String> = failures
            .iter()
            .map(|f| format!("  - {}", f.as_str().unwrap_or("?")))
            .collect();
        return Err(format!(
            "[{}] {script}: the scenario's own checks failed (exit {:?}):\n{}\n--- stderr ---\n{}",
            kind.name(),
            out.code(),
            list.join("\n"),
            out.stderr
        ));
    }
    Ok(doc["transcript"].clone())
}

/// "label: compact JSON result", one line per transcript step, so that a
/// diff names the step that differs.
fn one_line_per_step(t: &serde_json::Value) -> String {
    let steps = t.as_array().cloned().unwrap_or_default();
    steps
        .iter()
        .map(|step| match step.as_array().map(Vec::as_slice) {
            Some([label, result]) => format!("{}: {}", label.as_str().unwrap_or("?"), result),
            _ => step.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn scenario(script: &str) {
    require_kazoo();
    let text =
        std::fs::read_to_string(tests_dir().join("kazoo").join(script)).expect("scenario script");
    let cfg = header_cfg(&text);
    let extra: Vec<(&str, &str)> = cfg.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    let mut problems = Problems::default();
    let mut transcripts = Vec::new();
    for kind in kinds_under_test() {
        match run_on(kind, script, &extra) {
            Ok(t) => transcripts.push((kind, t)),
            Err(p) => problems.add(p),
        }
    }
    if let [(_, reference), (_, ours)] = &transcripts[..] {
        if reference != ours {
            let a = one_line_per_step(reference);
            let b = one_line_per_step(ours);
            problems.add(format!(
                "{script}: transcripts differ (- {}, + {}):\n{}",
                transcripts[0].0.name(),
                transcripts[1].0.name(),
                diff_lines(&a, &b, 80)
            ));
        }
    }
    problems.check(script);
}

#[test]
fn kazoo_is_installed() {
    require_kazoo();
    let out = run_with_timeout(
        Command::new(PYTHON).args([
            "-c",
            "import kazoo.version; print(kazoo.version.__version__)",
        ]),
        Duration::from_secs(30),
    );
    assert!(
        out.stdout.trim().starts_with("2."),
        "kazoo version: {}",
        out.describe()
    );
}

#[test]
fn kazoo_crud() {
    scenario("crud.py");
}

#[test]
fn kazoo_errors() {
    scenario("errors.py");
}

#[test]
fn kazoo_acl() {
    scenario("acl.py");
}

#[test]
fn kazoo_multi() {
    scenario("multi.py");
}

#[test]
fn kazoo_watches() {
    scenario("watches.py");
}

#[test]
fn kazoo_ttl_and_containers() {
    scenario("ttl.py");
}
