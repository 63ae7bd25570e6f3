//! `ferrozk bench`: a load generator that speaks the ZooKeeper client
//! protocol (through [`ferrozk_client`]) to any server, and `bench compare`,
//! which runs every workload on ferrozk and Apache ZooKeeper in alternation
//! and writes docs/benchmarks.md.
//!
//! - [`workload`]: what one operation sends; the key set.
//! - [`driver`]: sessions x depth workers, closed or open loop.
//! - [`watch`], [`memory`]: the workloads that are not request streams.
//! - [`run`]: one workload against one server → [`report::BenchResult`].
//! - [`report`]: the result record (JSON) and its table; [`svg`] charts.
//! - [`compare`]: servers, alternation, medians, the markdown page.
#![warn(missing_docs)]

pub mod compare;
pub mod driver;
pub mod memory;
pub mod report;
pub mod run;
pub mod svg;
pub mod watch;
pub mod workload;

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// Why `ferrozk bench` failed; the binary maps it to an exit status.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Bad flags (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// The run could not complete (exit status 1).
    #[error("{0}")]
    Failed(String),
}

/// Flags of `ferrozk bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The workload to run, or `compare`.
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// The workloads, and `compare`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// getData of random keys from a pre-created set.
    Read(Box<RunArgs>),
    /// setData of random keys from a pre-created set.
    Write(Box<RunArgs>),
    /// Persistent sequential creates (deleted after the run).
    Create(Box<RunArgs>),
    /// Reads and writes; `--write-pct` of them writes.
    Mixed(Box<RunArgs>),
    /// Fan-out: time from a setData until the last of `--watchers`
    /// sessions has its notification.
    Watch(Box<RunArgs>),
    /// Connect + close a session, `--sessions` at a time.
    Sessions(Box<RunArgs>),
    /// Memory per znode: create `--count` znodes (default 1M; left in place).
    Tree(Box<RunArgs>),
    /// Memory per watch: `--count` data watches (default 100k).
    Watches(Box<RunArgs>),
    /// Memory per session: `--count` idle sessions (default 10k).
    IdleSessions(Box<RunArgs>),
    /// Run every workload on ferrozk and Apache ZooKeeper; write the report.
    Compare(Box<compare::CompareArgs>),
}

/// One workload, as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// getData.
    Read,
    /// setData.
    Write,
    /// Sequential create.
    Create,
    /// Reads and writes.
    Mixed,
    /// Watch fan-out latency.
    Watch,
    /// Connect + close.
    Sessions,
    /// Memory per znode.
    Tree,
    /// Memory per watch.
    Watches,
    /// Memory per idle session.
    IdleSessions,
}

impl Workload {
    /// The name in reports; mixed carries its write percentage.
    pub fn name(self, write_pct: u32) -> String {
        match self {
            Workload::Mixed => format!("mixed-{write_pct}"),
            other => other
                .to_possible_value()
                .expect("no skipped variants")
                .get_name()
                .to_string(),
        }
    }

    /// Whether the result is about memory rather than speed.
    pub fn is_memory(self) -> bool {
        matches!(
            self,
            Workload::Tree | Workload::Watches | Workload::IdleSessions
        )
    }
}

/// Load settings shared by all workloads (each says which it uses).
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Server to load: host:port, or a connect string.
    #[arg(long, default_value = "127.0.0.1:2181")]
    pub server: String,
    /// Client sessions (connections) generating load.
    #[arg(long, default_value_t = 16)]
    pub sessions: usize,
    /// Outstanding requests per session (pipeline depth).
    #[arg(long, default_value_t = 8)]
    pub depth: usize,
    /// Open loop: total requests per second, latency measured from each
    /// request's scheduled send time. Closed loop when omitted.
    #[arg(long, value_name = "OPS_PER_S")]
    pub rate: Option<f64>,
    /// Seconds of unmeasured load before measuring.
    #[arg(long, default_value_t = 2.0, value_name = "S")]
    pub warmup: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0, value_name = "S")]
    pub duration: f64,
    /// Node data size in bytes.
    #[arg(long, default_value_t = 1024, value_name = "BYTES")]
    pub payload: usize,
    /// Keys in the pre-created set (read, write, mixed, watches).
    #[arg(long, default_value_t = 10_000)]
    pub keys: usize,
    /// Percentage of writes (mixed).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub write_pct: u32,
    /// Watcher sessions (watch).
    #[arg(long, default_value_t = 100)]
    pub watchers: usize,
    /// Items to add (tree: znodes, watches: watches, idle-sessions: sessions).
    #[arg(long)]
    pub count: Option<usize>,
    /// The server's pid, to read its RSS from /proc (memory workloads need it).
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// Also write the result as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Server name in the report.
    #[arg(long, default_value = "server")]
    pub label: String,
    /// Parent of every node the bench creates.
    #[arg(long, default_value = "/ferrozk-bench")]
    pub prefix: String,
}

impl BenchCommand {
    fn split(self) -> Result<(Workload, Box<RunArgs>), Box<compare::CompareArgs>> {
        use BenchCommand as C;
        Ok(match self {
            C::Read(a) => (Workload::Read, a),
            C::Write(a) => (Workload::Write, a),
            C::Create(a) => (Workload::Create, a),
            C::Mixed(a) => (Workload::Mixed, a),
            C::Watch(a) => (Workload::Watch, a),
            C::Sessions(a) => (Workload::Sessions, a),
            C::Tree(a) => (Workload::Tree, a),
            C::Watches(a) => (Workload::Watches, a),
            C::IdleSessions(a) => (Workload::IdleSessions, a),
            C::Compare(c) => return Err(c),
        })
    }
}

/// Runs `ferrozk bench …`. Bad flags are usage errors; a run that cannot
/// complete is a failure, with the reason.
pub fn run(args: BenchArgs) -> Result<(), BenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::Failed(format!("cannot start the runtime: {e}")))?;
    let outcome = match args.command.split() {
        Ok((w, a)) => {
            if a.sessions == 0 || a.depth == 0 || a.rate.is_some_and(|r| r <= 0.0) {
                return Err(BenchError::Usage(
                    "--sessions, --depth and --rate must be positive".into(),
                ));
            }
            runtime.block_on(async {
                let r = run::run_workload(w, &a).await.map_err(|e| e.to_string())?;
                print!("{}", r.table());
                if let Some(path) = &a.json {
                    let text = serde_json::to_string_pretty(&r).expect("results serialise");
                    std::fs::write(path, text + "\n")
                        .map_err(|e| format!("writing {}: {e}", path.display()))?;
                }
                Ok::<(), String>(())
            })
        }
        Err(c) => runtime.block_on(compare::run(*c)),
    };
    outcome.map_err(BenchError::Failed)
}
