//! Writes docs/benchmarks.md, its SVG charts and results.json from one
//! comparison: the tables, the machine, the exact command, the settings,
//! and how the results stand against the targets of issue 4.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::super::svg;
use super::summary::{memory_rows, speed_rows, MemoryRow, SpeedRow};
use super::{CompareArgs, Plan, Results};

fn fmt_opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.filter(|v| v.is_finite()).map_or("–".into(), f)
}

fn ratio(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.2}×")
    } else {
        "–".into()
    }
}

/// The first line of a file's matching `key: value` entry.
fn proc_field(path: &str, key: &str) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| "unknown".into())
}

fn mem_total() -> String {
    let kb = proc_field("/proc/meminfo", "MemTotal");
    match kb.trim_end_matches("kB").trim().parse::<f64>() {
        Ok(kb) => format!("{:.1} GiB", kb / (1024.0 * 1024.0)),
        Err(_) => kb,
    }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    format!(
        "- date: {}\n- nproc: {cores}\n- CPU: {}\n- memory: {}\n- kernel: Linux {kernel}\n- java: {}\n",
        command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        proc_field("/proc/cpuinfo", "model name"),
        mem_total(),
        command_output("java", &["-version"]),
    )
}

fn speed_table(rows: &[SpeedRow]) -> String {
    let mut s = String::from(
        "| workload | ferrozk ops/s | apache ops/s | throughput ratio | ferrozk p50 / p99 | apache p50 / p99 | p99 ratio | pairs |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let lat = |i: usize| format!("{} / {}", svg::human_us(r.p50[i]), svg::human_us(r.p99[i]));
        let errors = if r.errors.iter().any(|e| *e > 0) {
            format!(" (errors: {} / {})", r.errors[0], r.errors[1])
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "| {}{errors} | {} | {} | **{}** | {} | {} | {} | {} |",
            r.workload,
            svg::human(r.throughput[0]),
            svg::human(r.throughput[1]),
            ratio(r.throughput_ratio),
            lat(0),
            lat(1),
            ratio(r.p99_ratio),
            r.pairs
        );
    }
    s
}

fn memory_table(rows: &[MemoryRow]) -> String {
    let mut s = String::from(
        "| workload | items | ferrozk bytes/item | apache bytes/item | ratio | ferrozk peak RSS | apache peak RSS | ferrozk restart | apache restart |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let bpi = |i: usize| fmt_opt(r.bytes_per_item[i], |v| format!("{v:.0}"));
        let rss = |i: usize| {
            fmt_opt(r.peak_rss_kb[i].map(|k| k as f64), |k| {
                format!("{:.0} MiB", k / 1024.0)
            })
        };
        let restart = |i: usize| fmt_opt(r.restart_ms[i], |ms| format!("{ms:.0} ms"));
        let rat = match r.bytes_per_item {
            [Some(f), Some(a)] if a > 0.0 => ratio(f / a),
            _ => "–".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} × {} | {} | {} | **{rat}** | {} | {} | {} | {} |",
            r.workload,
            r.items,
            r.item,
            bpi(0),
            bpi(1),
            rss(0),
            rss(1),
            restart(0),
            restart(1)
        );
    }
    s
}

/// Writes the page, the charts and results.json.
pub fn write(a: &CompareArgs, plan: &Plan, results: &Results) -> Result<(), String> {
    let charts: PathBuf = a
        .charts_dir
        .clone()
        .unwrap_or_else(|| a.out.parent().unwrap_or(Path::new(".")).join("bench"));
    std::fs::create_dir_all(&charts).map_err(|e| format!("{}: {e}", charts.display()))?;
    let rel = charts
        .strip_prefix(a.out.parent().unwrap_or(Path::new("")))
        .unwrap_or(&charts)
        .display()
        .to_string();
    let put = |name: &str, text: String| -> Result<(), String> {
        let p = charts.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    let json = serde_json::to_string_pretty(results).expect("results serialise");
    put("results.json", json + "\n")?;
    let speed = speed_rows(&results.runs);
    let memory = memory_rows(&results.runs);
    let series = ["ferrozk", "apache"];
    put(
        "throughput.svg",
        svg::bars(
            "Throughput, median of pairs",
            "ops/s",
            &series,
            &speed
                .iter()
                .map(|r| (r.workload.clone(), r.throughput.to_vec()))
                .collect::<Vec<_>>(),
        ),
    )?;
    put(
        "memory.svg",
        svg::bars(
            "Server memory per item",
            "bytes",
            &series,
            &memory
                .iter()
                .map(|r| {
                    (
                        r.workload.clone(),
                        r.bytes_per_item.iter().map(|v| v.unwrap_or(0.0)).collect(),
                    )
                })
                .collect::<Vec<_>>(),
        ),
    )?;
    let mut chart_links = String::new();
    for r in &speed {
        let name = format!("latency-{}.svg", r.workload);
        put(
            &name,
            svg::percentiles(
                &format!(
                    "{}: latency by percentile (median-throughput run)",
                    r.workload
                ),
                &[("ferrozk", &r.curves[0]), ("apache", &r.curves[1])],
            ),
        )?;
        let _ = writeln!(chart_links, "![{} latency]({rel}/{name})", r.workload);
    }

    let command = a
        .command_line
        .clone()
        .unwrap_or_else(|| std::env::args().collect::<Vec<_>>().join(" "));
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks: ferrozk and Apache ZooKeeper 3.8.0\n");
    let _ = writeln!(
        md,
        "Every number on this page comes from one run of\n\n```\n{command}\n```\n\n\
         which installs what it needs, builds ferrozk in release mode, starts both servers \
         and writes this page, the charts in `{rel}/` and the raw results in `{rel}/results.json`.{}\n",
        if a.quick { " **This was a `--quick` smoke run: the numbers are not a comparison.**" } else { "" }
    );
    let _ = writeln!(md, "## Machine\n\n{}", machine());
    let _ = writeln!(
        md,
        "## Method\n\n\
         - Both servers standalone on loopback, data directories on the same disk, the same zoo.cfg: \
         `tickTime=2000`, `forceSync=yes`, `maxClientCnxns=0`, `4lw.commands.whitelist=*`, \
         `admin.enableServer=false`. Apache ZooKeeper runs with `-Xmx{}` and the JVM's default compilers.\n\
         - The load generator is `ferrozk bench` on the same machine (it competes for the same {} cores).\n\
         - Speed workloads: {} sessions × {} outstanding requests each (closed loop), 1 KiB node data, \
         {} keys, {} s warm-up and {} s measured per run; both servers first get {} s of mixed load \
         so the JVM is warm. Runs alternate between the servers in {} pairs, the order flipping each pair; \
         ratios are ferrozk/apache, the median of the per-pair ratios. `mixed-0` and `mixed-100` are `read` and `write`.\n\
         - `watch`: {} sessions each hold a data watch on one node; one op is a setData plus all notifications.\n\
         - Memory workloads: a fresh server of each kind; RSS (`/proc/PID/status` VmRSS) before and after \
         adding the items; `tree` nodes hold 64 bytes; restart is kill -9 then start until `srvr` answers.\n",
        a.java_heap,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        a.sessions,
        a.depth,
        plan.keys,
        plan.warmup,
        plan.duration,
        plan.server_warmup,
        plan.pairs,
        plan.watchers,
    );
    if !results.no_txn_log.is_empty() {
        let _ = writeln!(
            md,
            "> **Writes are not comparable yet:** {} wrote no transaction log during the run, so its \
             writes (`write`, `mixed-*`, `create`, `sessions`) were in memory only, while Apache ZooKeeper \
             fsynced every batch.\n",
            results.no_txn_log.join(", ")
        );
    }
    let _ = writeln!(md, "## Throughput and latency\n\n{}", speed_table(&speed));
    let _ = writeln!(md, "![throughput]({rel}/throughput.svg)\n\n{chart_links}");
    let _ = writeln!(md, "{}", group_commit(&results.runs));
    let _ = writeln!(md, "## Memory\n\n{}", memory_table(&memory));
    for r in &memory {
        for n in &r.notes {
            let _ = writeln!(md, "- {}: {n}", r.workload);
        }
    }
    let _ = writeln!(md, "\n![memory]({rel}/memory.svg)\n");
    if !results.speed_peak_rss_kb.is_empty() {
        let peaks: Vec<String> = results
            .speed_peak_rss_kb
            .iter()
            .map(|(s, kb)| format!("{s} {:.0} MiB", *kb as f64 / 1024.0))
            .collect();
        let _ = writeln!(
            md,
            "Peak RSS over the whole speed phase: {}.\n",
            peaks.join(", ")
        );
    }
    if let Some(e) = &results.ensemble {
        md.push_str(&super::ensemble_page::section(a, plan, e));
    }
    let ferrozk_durable = !results.no_txn_log.iter().any(|s| s == "ferrozk");
    let _ = writeln!(
        md,
        "## Targets (issue 4)\n\n{}",
        targets(&speed, &memory, ferrozk_durable)
    );
    md.push_str(
        "Where the CPU goes per request, and what was changed because of it: \
         [profile.md](profile.md) (`scripts/profile`).\n",
    );
    md.push_str(USAGE);
    let out = &a.out;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(out, md).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("wrote {} and {}/", out.display(), charts.display());
    Ok(())
}

/// The end of the page: how to run the tool by hand.
const USAGE: &str = "\n## Running the benchmark yourself\n\n\
- `scripts/bench-compare` reproduces this page (installs Apache ZooKeeper from Debian if missing, \
builds ferrozk in release mode, runs `ferrozk bench compare`); `--quick` is a smoke version of \
well under a minute; other flags go to `ferrozk bench compare --help` (`--pairs`, `--duration`, `--out`, \
`--failover-rounds`, `--no-ensemble`, `--ensemble-only` …).\n\
- `ferrozk bench WORKLOAD --server HOST:PORT` loads any ZooKeeper server: `read`, `write`, `create`, \
`mixed --write-pct N`, `watch --watchers N`, `sessions`, and the memory workloads `tree`, `watches`, \
`idle-sessions` (`--count N --server-pid PID`; `tree` leaves its nodes, use a scratch server). \
`--sessions` and `--depth` set connections and outstanding requests per connection; \
`--json FILE` writes the result.\n\
- Closed loop (default): each of the `sessions × depth` workers sends its next request when the last reply \
arrives. Open loop (`--rate OPS_PER_S`): requests are scheduled at a fixed total rate and latency counts \
from the scheduled send time whenever a worker was still busy then, so a server stall shows in the \
percentiles instead of silently slowing the client down (coordinated omission).\n";

/// Each target with the measured value and whether it is met.
/// Write and restart targets are "not measured" while ferrozk keeps no
/// transaction log: an in-memory write is not the thing the target is about.
fn targets(speed: &[SpeedRow], memory: &[MemoryRow], ferrozk_durable: bool) -> String {
    let row = |w: &str| speed.iter().find(|r| r.workload == w);
    let mem = |prefix: &str| memory.iter().find(|r| r.workload.starts_with(prefix));
    let verdict = |ok: Option<bool>| match ok {
        Some(true) => "met",
        Some(false) => "**not met**",
        None => "not measured",
    };
    let mut s = String::new();
    let reads = row("read");
    let _ = writeln!(
        s,
        "- Reads ≥ 2× throughput at equal or lower p99: {} ({}, p99 ratio {})",
        verdict(reads.map(|r| r.throughput_ratio >= 2.0 && r.p99_ratio <= 1.0)),
        reads.map_or("–".into(), |r| ratio(r.throughput_ratio)),
        reads.map_or("–".into(), |r| ratio(r.p99_ratio)),
    );
    let writes = row("write");
    let _ = writeln!(
        s,
        "- Durable writes ≥ 1.5×: {} ({})",
        verdict(
            writes
                .filter(|_| ferrozk_durable)
                .map(|r| r.throughput_ratio >= 1.5)
        ),
        writes.map_or("–".into(), |r| ratio(r.throughput_ratio)),
    );
    for (prefix, what) in [("tree", "znode"), ("watches", "watch")] {
        let r = mem(prefix);
        let q = r.and_then(|r| match r.bytes_per_item {
            [Some(f), Some(a)] if a > 0.0 => Some(f / a),
            _ => None,
        });
        let _ = writeln!(
            s,
            "- Memory per {what} ≤ 1/3: {} ({})",
            verdict(q.map(|q| q <= 1.0 / 3.0)),
            q.map_or("–".into(), ratio)
        );
    }
    let tree = mem("tree").filter(|r| !r.notes.iter().any(|n| n.contains("not durable")));
    let t = tree.and_then(|r| match r.restart_ms {
        [Some(f), Some(a)] if f > 0.0 => Some(a / f),
        _ => None,
    });
    let _ = writeln!(
        s,
        "- Restart with the tree ≥ 3× faster: {} ({} faster)",
        verdict(t.map(|t| t >= 3.0)),
        t.map_or("–".into(), ratio)
    );
    s
}

/// Transactions per fsync under each write workload (median over runs).
fn group_commit(runs: &[crate::report::BenchResult]) -> String {
    let mut rows = String::new();
    let mut keys: Vec<(String, String)> = runs
        .iter()
        .filter(|r| r.txns_per_fsync.is_some())
        // Only workloads that write; the others log just their sessions.
        .filter(|r| {
            r.workload == "write" || r.workload == "create" || r.workload.starts_with("mixed")
        })
        .map(|r| (r.workload.clone(), r.server.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    for (w, server) in keys {
        let mut v: Vec<f64> = runs
            .iter()
            .filter(|r| r.workload == w && r.server == server)
            .filter_map(|r| r.txns_per_fsync)
            .collect();
        v.sort_by(f64::total_cmp);
        let _ = writeln!(rows, "| {w} | {server} | {:.1} |", v[v.len() / 2]);
    }
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "## Group commit\n\nTransactions made durable per fsync during each write workload \
         (zxid delta over `zk_cnt_fsynctime` delta, median of runs):\n\n\
         | workload | server | txns per fsync |\n|---|---|---:|\n{rows}"
    )
}
