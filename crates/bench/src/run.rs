//! Runs one workload against one server and returns its [`BenchResult`]:
//! connect, set up the node set, drive the load, clean up, read the
//! server's RSS. Both `ferrozk bench <workload>` and `compare` come here.

use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use super::driver::{self, LoadSpec, Measured};
use super::memory;
use super::report::BenchResult;
use super::workload::{self, Keys, Op};
use super::{RunArgs, Workload};
use ferrozk_client::{self as client, Client};

/// Why a run could not produce a result.
#[derive(Debug, Error)]
pub enum RunError {
    /// A setup or cleanup call failed (load errors are counted instead).
    #[error("{what}: {source}")]
    Client {
        /// What the bench was doing.
        what: String,
        /// The client's error.
        source: client::Error,
    },
}

fn ctx(what: &str) -> impl FnOnce(client::Error) -> RunError + '_ {
    move |source| RunError::Client {
        what: what.to_string(),
        source,
    }
}

/// The session timeout bench sessions ask for.
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `w` as `a` describes.
pub async fn run_workload(w: Workload, a: &RunArgs) -> Result<BenchResult, RunError> {
    let mut r = BenchResult::new(&w.name(a.write_pct), &a.label);
    r.sessions = a.sessions;
    r.depth = a.depth;
    r.payload = a.payload;
    r.keys = a.keys;
    r.warmup_s = a.warmup;
    if let Some(rate) = a.rate {
        r.mode = "open".into();
        r.rate = Some(rate);
    }
    let clients = memory::open_sessions(&a.server, a.sessions.max(1), 16, SESSION_TIMEOUT)
        .await
        .map_err(ctx("connecting load sessions"))?;
    let keys = Arc::new(Keys::new(&a.prefix, a.keys.max(1), a.payload));
    let spec = LoadSpec {
        depth: a.depth.max(1),
        warmup: Duration::from_secs_f64(a.warmup),
        duration: Duration::from_secs_f64(a.duration),
        rate: a.rate,
    };
    let op = match w {
        Workload::Read => Some(Op::Read),
        Workload::Write => Some(Op::Write),
        Workload::Mixed => Some(Op::Mixed {
            write_pct: a.write_pct.min(100),
        }),
        Workload::Create => Some(Op::Create),
        Workload::Sessions => Some(Op::ConnectClose {
            server: a.server.clone(),
        }),
        _ => None,
    };
    if let Some(op) = op {
        if matches!(w, Workload::Read | Workload::Write | Workload::Mixed) {
            workload::setup_keys(&clients, &a.prefix, &keys)
                .await
                .map_err(ctx("creating the key set"))?;
        }
        if w == Workload::Create {
            workload::setup_create(&clients[0], &a.prefix, &keys)
                .await
                .map_err(ctx("creating the create parents"))?;
            // Whatever an interrupted run left behind.
            workload::delete_created(&clients, &keys)
                .await
                .map_err(ctx("deleting leftover created nodes"))?;
        }
        if w == Workload::Sessions {
            // One connect+close per worker at a time: depth means nothing.
            r.depth = 1;
        }
        let spec = LoadSpec {
            depth: if w == Workload::Sessions {
                1
            } else {
                spec.depth
            },
            ..spec
        };
        let m = driver::run(&clients, &spec, op, keys.clone()).await;
        record(&mut r, &m);
        if w == Workload::Create {
            workload::delete_created(&clients, &keys)
                .await
                .map_err(ctx("deleting created nodes"))?;
        }
    } else {
        run_special(w, a, &clients, &mut r).await?;
    }
    if let Some(pid) = a.server_pid {
        r.server_rss = memory::read_rss(pid);
    }
    memory::close_all(clients, 64).await;
    Ok(r)
}

fn record(r: &mut BenchResult, m: &Measured) {
    r.set_measured(m.ops, m.errors, m.elapsed, &m.histogram);
    if let Some(e) = &m.first_error {
        r.notes.push(format!("first error: {e}"));
    }
}

/// The workloads that do not fit the request driver: watch and memory.
async fn run_special(
    w: Workload,
    a: &RunArgs,
    clients: &[Client],
    r: &mut BenchResult,
) -> Result<(), RunError> {
    let before = match a.server_pid {
        Some(pid) => memory::settled_rss_kb(pid).await,
        None => None,
    };
    match w {
        Workload::Watch => {
            workload::ensure_node(&clients[0], &a.prefix)
                .await
                .map_err(ctx("creating the bench root"))?;
            let watchers = memory::open_sessions(&a.server, a.watchers, 16, SESSION_TIMEOUT)
                .await
                .map_err(ctx("connecting watcher sessions"))?;
            let hot = format!("{}/hot", a.prefix);
            let payload = vec![b'x'; a.payload];
            let m = super::watch::run(
                &clients[0],
                &watchers,
                &hot,
                &payload,
                Duration::from_secs_f64(a.warmup),
                Duration::from_secs_f64(a.duration),
            )
            .await;
            record(r, &m);
            r.sessions = a.watchers;
            r.depth = 1;
            r.notes.push(format!(
                "ops are rounds: one setData, then all {} watchers notified",
                a.watchers
            ));
            memory::close_all(watchers, 64).await;
        }
        Workload::Tree => {
            let count = a.count.unwrap_or(1_000_000);
            let dir = format!("{}/tree", a.prefix);
            workload::ensure_node(&clients[0], &a.prefix)
                .await
                .map_err(ctx("creating the bench root"))?;
            let took = memory::build_tree(clients, &dir, count, a.payload)
                .await
                .map_err(ctx("creating the tree"))?;
            r.ops = count as u64;
            r.duration_s = took.as_secs_f64();
            r.throughput = count as f64 / took.as_secs_f64().max(1e-9);
            r.keys = count;
            memory_result(a, r, "znode", count, before).await;
        }
        Workload::Watches => {
            let count = a.count.unwrap_or(100_000);
            let keys = Arc::new(Keys::new(&a.prefix, a.keys.min(count).max(1), a.payload));
            workload::setup_keys(clients, &a.prefix, &keys)
                .await
                .map_err(ctx("creating the key set"))?;
            let n_sessions = count.div_ceil(keys.paths.len());
            let watchers = memory::open_sessions(&a.server, n_sessions, 16, SESSION_TIMEOUT)
                .await
                .map_err(ctx("connecting watch sessions"))?;
            let before = match a.server_pid {
                Some(pid) => memory::settled_rss_kb(pid).await,
                None => None,
            };
            let started = tokio::time::Instant::now();
            let paths = Arc::new(keys.paths.clone());
            memory::set_watches(&watchers, &paths)
                .await
                .map_err(ctx("setting watches"))?;
            let total = n_sessions * keys.paths.len();
            r.ops = total as u64;
            r.duration_s = started.elapsed().as_secs_f64();
            r.throughput = total as f64 / r.duration_s.max(1e-9);
            r.sessions = n_sessions;
            memory_result(a, r, "watch", total, before).await;
            memory::close_all(watchers, 64).await;
        }
        Workload::IdleSessions => {
            let count = a.count.unwrap_or(10_000);
            let started = tokio::time::Instant::now();
            // 32 at a time: Apache ZooKeeper's accept backlog is 50, and dropped
            // SYNs cost a 1 s retransmit each.
            let idle = memory::open_sessions(&a.server, count, 32, SESSION_TIMEOUT)
                .await
                .map_err(ctx("opening idle sessions"))?;
            r.ops = count as u64;
            r.duration_s = started.elapsed().as_secs_f64();
            r.throughput = count as f64 / r.duration_s.max(1e-9);
            r.sessions = count;
            memory_result(a, r, "session", count, before).await;
            memory::close_all(idle, 256).await;
        }
        _ => unreachable!("request workloads go through the driver"),
    }
    Ok(())
}

/// Fills in the memory cost once the load is in place.
async fn memory_result(
    a: &RunArgs,
    r: &mut BenchResult,
    item: &str,
    items: usize,
    before: Option<u64>,
) {
    match (a.server_pid, before) {
        (Some(pid), Some(before)) => {
            if let Some(after) = memory::settled_rss_kb(pid).await {
                r.memory = Some(memory::cost(item, items as u64, before, after));
            }
        }
        _ => r
            .notes
            .push("memory not measured: pass --server-pid".to_string()),
    }
}
