//! `ferrozk bench` does not rot: every workload runs for about a second
//! against a ferrozk server and writes JSON that makes sense (operations
//! measured, no errors, percentiles in order, memory measured when the
//! server's pid is given). Numbers are not checked: this box is shared.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{run_with_timeout, ServerKind, TestServer};
use ferrozk::cli::bench::report::BenchResult;

/// The server's pid: the process whose command line names its zoo.cfg.
fn server_pid(server: &TestServer) -> u32 {
    let cfg = server.dir().join("zoo.cfg");
    let cfg = cfg.to_string_lossy();
    for entry in std::fs::read_dir("/proc").expect("/proc") {
        let entry = entry.unwrap();
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline)
            .split('\0')
            .any(|arg| arg == cfg)
        {
            return pid;
        }
    }
    panic!("no process runs with {cfg}");
}

/// Runs `ferrozk bench <workload> <args>` and returns its JSON result.
fn bench(server: &TestServer, dir: &Path, workload: &str, args: &[&str]) -> BenchResult {
    let json = dir.join(format!("{workload}.json"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrozk"));
    cmd.args([
        "bench",
        workload,
        "--server",
        &server.addr(),
        "--label",
        "ferrozk",
    ])
    .args(["--duration", "0.8", "--warmup", "0.2", "--keys", "200"])
    .args(["--sessions", "4", "--depth", "4"])
    .arg("--json")
    .arg(&json)
    .args(args);
    let out = run_with_timeout(&mut cmd, Duration::from_secs(30));
    assert!(out.success(), "bench {workload}: {}", out.describe());
    let text = std::fs::read_to_string(&json).expect("bench wrote its JSON");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{workload} JSON: {e}\n{text}"))
}

/// Operations were measured, none failed, and the percentiles are ordered.
fn check_speed(r: &BenchResult) {
    assert!(r.ops > 0 && r.throughput > 0.0, "{}", r.table());
    assert_eq!(r.errors, 0, "{}", r.table());
    let l = r.latency_us.as_ref().expect("latency measured");
    assert!(
        0.0 < l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max,
        "{}",
        r.table()
    );
}

#[test]
fn every_workload_writes_sane_json() {
    let server = TestServer::start(ServerKind::Ferrozk, &[]);
    let pid = server_pid(&server).to_string();
    let dir = tempfile::tempdir().unwrap();
    for (workload, extra) in [
        ("read", &[][..]),
        ("write", &[]),
        ("create", &[]),
        ("mixed", &["--write-pct", "30"]),
        ("watch", &["--watchers", "5"]),
        ("sessions", &[]),
    ] {
        let r = bench(&server, dir.path(), workload, extra);
        check_speed(&r);
        if workload == "mixed" {
            assert_eq!(r.workload, "mixed-30");
        }
    }
    for (workload, item, count) in [
        ("tree", "znode", "3000"),
        ("watches", "watch", "2000"),
        ("idle-sessions", "session", "50"),
    ] {
        let r = bench(
            &server,
            dir.path(),
            workload,
            &["--count", count, "--server-pid", &pid],
        );
        let m = r
            .memory
            .as_ref()
            .unwrap_or_else(|| panic!("no memory: {}", r.table()));
        assert_eq!(
            (m.item.as_str(), m.items.to_string()),
            (item, count.to_string())
        );
        assert!(
            m.bytes_per_item.is_finite() && m.rss_after_kb > 0,
            "{}",
            r.table()
        );
        let rss = r.server_rss.expect("server RSS read");
        assert!(rss.vm_hwm_kb >= rss.vm_rss_kb, "{}", r.table());
    }
}

#[test]
fn open_loop_holds_the_requested_rate() {
    let server = TestServer::start(ServerKind::Ferrozk, &[]);
    let dir = tempfile::tempdir().unwrap();
    let r = bench(&server, dir.path(), "read", &["--rate", "1000"]);
    check_speed(&r);
    assert_eq!((r.mode.as_str(), r.rate), ("open", Some(1000.0)));
    // 0.8 s at 1000/s: a loaded box may lag, but not lose half the schedule.
    assert!((400..=900).contains(&r.ops), "{}", r.table());
}
