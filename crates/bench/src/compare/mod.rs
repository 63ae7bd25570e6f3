//! `ferrozk bench compare`: ferrozk against Apache ZooKeeper 3.8, side by
//! side, on this machine, and docs/benchmarks.md from the results.
//!
//! 1. Speed phase: both servers start (fresh data directories on the same
//!    disk) and stay up. A warm-up (mixed load on each, so the JVM has
//!    compiled its hot paths and both have their key set) comes first.
//!    Then for every workload, `pairs` pairs of runs alternate between the
//!    servers, the order flipping each pair (A B, B A, A B …) so a drift of
//!    the machine during the run cancels out instead of favouring one side.
//! 2. Memory phase: for each memory workload a fresh server of each kind,
//!    RSS read before and after the load; the tree workload also kills the
//!    server and times its restart on the same data.
//! 3. Ensemble phase: a 3-server ensemble of each kind; write throughput
//!    and latency in alternating pairs, then leader fail-over rounds
//!    (`ensemble`, `members`, `failover`).
//! 4. Per-workload ratios are medians of the per-pair ratios; `summary`
//!    computes them and `markdown` writes the page and its SVG charts
//!    (`ensemble_page` the ensemble section).

mod ensemble;
mod ensemble_page;
mod failover;
mod markdown;
mod members;
mod servers;
mod summary;

use std::path::PathBuf;

use clap::Args;

use super::report::BenchResult;
use super::run::run_workload;
use super::{RunArgs, Workload};
use servers::{Kind, Launch, Server};

/// Flags of `ferrozk bench compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// A smoke version that finishes in well under a minute.
    #[arg(long)]
    pub quick: bool,
    /// Pairs of runs per speed workload (default 3; 1 with --quick).
    #[arg(long)]
    pub pairs: Option<usize>,
    /// Measured seconds per run (default 5; 0.8 with --quick).
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Seconds of load on each server before any measurement, so the JVM
    /// is warm (default 20; 1 with --quick).
    #[arg(long, value_name = "S")]
    pub server_warmup: Option<f64>,
    /// Client sessions for the speed workloads.
    #[arg(long, default_value_t = 16)]
    pub sessions: usize,
    /// Outstanding requests per session.
    #[arg(long, default_value_t = 8)]
    pub depth: usize,
    /// The page to write.
    #[arg(long, default_value = "docs/benchmarks.md")]
    pub out: PathBuf,
    /// Where the SVG charts and results.json go (default: bench/ next to --out).
    #[arg(long)]
    pub charts_dir: Option<PathBuf>,
    /// The ferrozk binary to start (default: this one).
    #[arg(long)]
    pub ferrozk_bin: Option<PathBuf>,
    /// Classpath of Apache ZooKeeper.
    #[arg(
        long,
        default_value = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar"
    )]
    pub zk_classpath: String,
    /// JVM heap limit for Apache ZooKeeper.
    #[arg(long, default_value = "2g")]
    pub java_heap: String,
    /// Scratch directory for the servers' data (default: under the system
    /// temp dir); removed afterwards.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// The command line to quote in the report (the wrapper script passes its own).
    #[arg(long)]
    pub command_line: Option<String>,
    /// Leader fail-over rounds per ensemble kind (default 3; 1 with --quick).
    #[arg(long, value_name = "N")]
    pub failover_rounds: Option<usize>,
    /// Skip the 3-server ensemble phase.
    #[arg(long, conflicts_with = "ensemble_only")]
    pub no_ensemble: bool,
    /// Run only the 3-server ensemble phase (the standalone tables stay empty).
    #[arg(long)]
    pub ensemble_only: bool,
}

/// Sizes that differ between a full and a quick comparison.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub pairs: usize,
    pub duration: f64,
    pub warmup: f64,
    pub server_warmup: f64,
    pub keys: usize,
    pub tree_nodes: usize,
    pub watch_counts: Vec<usize>,
    pub idle_sessions: usize,
    pub watchers: usize,
    pub standalone: bool,
    pub ensemble: bool,
    pub failover_rounds: usize,
    /// Seconds of writing before each leader kill.
    pub failover_steady: f64,
}

impl Plan {
    fn from(a: &CompareArgs) -> Plan {
        let q = a.quick;
        Plan {
            pairs: a.pairs.unwrap_or(if q { 1 } else { 3 }).max(1),
            duration: a.duration.unwrap_or(if q { 0.8 } else { 5.0 }),
            warmup: if q { 0.2 } else { 1.0 },
            server_warmup: a.server_warmup.unwrap_or(if q { 1.0 } else { 20.0 }),
            keys: if q { 1_000 } else { 10_000 },
            tree_nodes: if q { 10_000 } else { 1_000_000 },
            watch_counts: if q {
                vec![10_000]
            } else {
                vec![100_000, 1_000_000]
            },
            idle_sessions: if q { 200 } else { 10_000 },
            watchers: if q { 20 } else { 100 },
            standalone: !a.ensemble_only,
            ensemble: !a.no_ensemble,
            failover_rounds: a.failover_rounds.unwrap_or(if q { 1 } else { 3 }),
            failover_steady: if q { 0.3 } else { 1.0 },
        }
    }
}

/// The speed workloads, with the write percentage for mixed. Mixed with 0
/// and 100 % writes are `read` and `write`.
const SPEED: &[(Workload, u32)] = &[
    (Workload::Read, 0),
    (Workload::Write, 100),
    (Workload::Mixed, 10),
    (Workload::Mixed, 30),
    (Workload::Create, 100),
    (Workload::Watch, 0),
    (Workload::Sessions, 0),
];

/// Everything one comparison measured, as saved in results.json.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Results {
    /// Every run, in the order it ran.
    pub runs: Vec<BenchResult>,
    /// Peak RSS (VmHWM, KiB) of each speed-phase server at its end.
    pub speed_peak_rss_kb: Vec<(String, u64)>,
    /// Servers that wrote no transaction log during the speed phase.
    pub no_txn_log: Vec<String>,
    /// The 3-server ensembles, when that phase ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<ensemble::EnsembleResults>,
}

/// Runs the comparison and writes the report.
pub async fn run(a: CompareArgs) -> Result<(), String> {
    let plan = Plan::from(&a);
    let launch = Launch {
        // Absolute: servers run with their own directory as cwd.
        ferrozk_bin: match &a.ferrozk_bin {
            Some(p) => p
                .canonicalize()
                .map_err(|e| format!("{}: {e}", p.display()))?,
            None => std::env::current_exe().map_err(|e| format!("own path: {e}"))?,
        },
        zk_classpath: a.zk_classpath.clone(),
        java_heap: a.java_heap.clone(),
    };
    let work = a.work_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ferrozk-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let outcome = measure(&a, &plan, &launch, &work).await;
    let _ = std::fs::remove_dir_all(&work);
    let results = outcome?;
    markdown::write(&a, &plan, &results)
}

/// The run settings every comparison run shares (`server` fills in the
/// address, pid and label; the ensemble phase passes `None` and sets them).
fn base_args(a: &CompareArgs, plan: &Plan, server: Option<&Server>) -> RunArgs {
    RunArgs {
        server: server.map(|s| s.addr.clone()).unwrap_or_default(),
        sessions: a.sessions,
        depth: a.depth,
        rate: None,
        warmup: plan.warmup,
        duration: plan.duration,
        payload: 1024,
        keys: plan.keys,
        write_pct: 0,
        watchers: plan.watchers,
        count: None,
        server_pid: server.map(|s| s.pid()),
        json: None,
        label: server
            .map(|s| s.kind.label().to_string())
            .unwrap_or_default(),
        prefix: "/ferrozk-bench".into(),
    }
}

async fn measure(
    a: &CompareArgs,
    plan: &Plan,
    launch: &Launch,
    work: &std::path::Path,
) -> Result<Results, String> {
    let mut results = Results {
        runs: Vec::new(),
        speed_peak_rss_kb: Vec::new(),
        no_txn_log: Vec::new(),
        ensemble: None,
    };
    if plan.standalone {
        standalone_phases(a, plan, launch, work, &mut results).await?;
    }
    if plan.ensemble {
        results.ensemble = Some(ensemble::phase(a, plan, launch, work).await);
    }
    Ok(results)
}

/// The speed phase on one server of each kind, then the memory phase.
async fn standalone_phases(
    a: &CompareArgs,
    plan: &Plan,
    launch: &Launch,
    work: &std::path::Path,
    results: &mut Results,
) -> Result<(), String> {
    let kinds = [Kind::Ferrozk, Kind::Apache];
    let mut servers = Vec::new();
    for k in kinds {
        let dir = work.join(format!("speed-{}", k.label()));
        servers.push(Server::start(k, launch, &dir)?);
    }
    for s in &servers {
        eprintln!("warming up {} for {} s", s.kind.label(), plan.server_warmup);
        let mut args = base_args(a, plan, Some(s));
        args.write_pct = 30;
        args.warmup = 0.0;
        args.duration = plan.server_warmup;
        run_one(Workload::Mixed, &args).await?;
    }
    for &(w, pct) in SPEED {
        for pair in 0..plan.pairs {
            let order: Vec<&Server> = if pair % 2 == 0 {
                servers.iter().collect()
            } else {
                servers.iter().rev().collect()
            };
            for s in order {
                let mut args = base_args(a, plan, Some(s));
                args.write_pct = pct;
                let before = commit_counters(&s.addr);
                let mut r = run_one(w, &args).await?;
                if let (Some((z0, f0)), Some((z1, f1))) = (before, commit_counters(&s.addr)) {
                    if f1 > f0 && z1 > z0 {
                        r.txns_per_fsync = Some((z1 - z0) as f64 / (f1 - f0) as f64);
                    }
                }
                results.runs.push(r);
            }
        }
    }
    for s in &servers {
        if let Some(r) = super::memory::read_rss(s.pid()) {
            results
                .speed_peak_rss_kb
                .push((s.kind.label().into(), r.vm_hwm_kb));
        }
        if !s.has_txn_log() {
            results.no_txn_log.push(s.kind.label().into());
        }
    }
    drop(servers);
    memory_phase(a, plan, launch, work, results).await
}

/// Each memory workload on a fresh server of each kind.
async fn memory_phase(
    a: &CompareArgs,
    plan: &Plan,
    launch: &Launch,
    work: &std::path::Path,
    results: &mut Results,
) -> Result<(), String> {
    let mut jobs: Vec<(Workload, usize, usize)> = vec![(Workload::Tree, plan.tree_nodes, 64)];
    for &c in &plan.watch_counts {
        jobs.push((Workload::Watches, c, 64));
    }
    jobs.push((Workload::IdleSessions, plan.idle_sessions, 0));
    for (w, count, payload) in jobs {
        for k in [Kind::Ferrozk, Kind::Apache] {
            let dir = work.join(format!("{}-{count}-{}", w.name(0), k.label()));
            let mut server = Server::start(k, launch, &dir)?;
            let mut args = base_args(a, plan, Some(&server));
            args.count = Some(count);
            args.payload = payload;
            let mut r = run_one(w, &args).await?;
            r.workload = format!("{}-{}", w.name(0), short_count(count));
            if w == Workload::Tree {
                restart(&mut server, count, &mut r)?;
            }
            results.runs.push(r);
        }
    }
    Ok(())
}

/// Times a crash-restart of a server holding the tree workload's nodes.
fn restart(server: &mut Server, count: usize, r: &mut BenchResult) -> Result<(), String> {
    let (took, nodes) = server.restart()?;
    if let Some(m) = &mut r.memory {
        m.restart_ms = Some(took.as_secs_f64() * 1000.0);
    }
    if (nodes as usize) < count {
        r.notes.push(format!(
            "after restart the server had {nodes} znodes of {count}+: not durable"
        ));
    }
    eprintln!(
        "{} restarted in {took:?} with {nodes} znodes",
        server.kind.label()
    );
    Ok(())
}

/// 1000000 → "1M", 100000 → "100k".
fn short_count(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// The server's last zxid (`srvr`) and fsync count (`mntr`
/// zk_cnt_fsynctime): their deltas over a run give transactions per fsync.
fn commit_counters(addr: &str) -> Option<(i64, i64)> {
    let srvr = servers::four_letter(addr, "srvr").ok()?;
    let zxid = srvr
        .lines()
        .find_map(|l| l.strip_prefix("Zxid: 0x"))
        .and_then(|h| i64::from_str_radix(h.trim(), 16).ok())?;
    let mntr = servers::four_letter(addr, "mntr").ok()?;
    let fsyncs = mntr
        .lines()
        .find_map(|l| l.strip_prefix("zk_cnt_fsynctime"))
        .and_then(|v| v.trim().parse::<i64>().ok())?;
    Some((zxid, fsyncs))
}

async fn run_one(w: Workload, args: &RunArgs) -> Result<BenchResult, String> {
    let r = run_workload(w, args)
        .await
        .map_err(|e| format!("{} on {}: {e}", w.name(args.write_pct), args.label))?;
    eprint!("{}", r.table());
    Ok(r)
}
