//! The ensemble phase of `compare`: a 3-server ferrozk ensemble beside a
//! 3-server Apache ZooKeeper ensemble on loopback, in the same run.
//!
//! 1. Both ensembles start together (fresh data directories on the same
//!    disk, the standalone phase's settings plus `initLimit=10`,
//!    `syncLimit=5`; see [`members`](super::members)); load waits until each
//!    has one leader and two followers.
//! 2. Warm-up: mixed load (30 % writes) on each, so the JVMs are warm.
//! 3. Writes: the `write` workload with its sessions on the connect string
//!    of all three members (each session picks one at random, as ZooKeeper
//!    clients do), in pairs alternating between the kinds like the
//!    standalone phase; mid-run, `srvr` tells how many connections each
//!    member had. Then every member's peak RSS.
//! 4. Leader fail-over, rounds alternating between the kinds
//!    ([`failover`](super::failover)).
//!
//! A failure here is recorded in the results rather than losing the rest
//! of the comparison.

use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use super::failover::{self, Round};
use super::members::{four_letter, parse_connections, Ensemble, ELECTION_TIMEOUT};
use super::servers::{Kind, Launch};
use super::{run_one, CompareArgs, Plan};
use crate::report::BenchResult;
use crate::{RunArgs, Workload};

/// Members per ensemble.
pub const SIZE: usize = 3;

/// tickTime of every member, ms (the standalone phase's).
pub const TICK_MS: u64 = 2000;

/// One member's peak resident set after the write runs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MemberRss {
    /// `ferrozk` or `apache`.
    pub server: String,
    /// Its `server.N`.
    pub sid: usize,
    /// `leader` or `follower` at the time.
    pub mode: String,
    /// VmHWM, KiB.
    pub vm_hwm_kb: u64,
}

/// Everything the ensemble phase measured, as saved in results.json.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct EnsembleResults {
    /// Members per ensemble.
    pub members: usize,
    /// tickTime, ms.
    pub tick_ms: u64,
    /// Spawn until one leader and the rest following, ms, per kind (both
    /// ensembles starting at once).
    pub formed_ms: Vec<(String, f64)>,
    /// The write runs, alternating, labelled `ferrozk` / `apache`.
    pub runs: Vec<BenchResult>,
    /// Per run (same order): client connections of each member mid-run,
    /// from `srvr` (Apache ZooKeeper counts the asking connection too).
    pub connections: Vec<(String, Vec<Option<u32>>)>,
    /// Every member's peak RSS after the write runs.
    pub peak_rss: Vec<MemberRss>,
    /// Fail-over rounds, in the order they ran.
    pub failover: Vec<Round>,
    /// Why the phase stopped early, if it did.
    pub error: Option<String>,
}

/// Runs the phase; never fails, but may return with `error` set.
pub async fn phase(a: &CompareArgs, plan: &Plan, launch: &Launch, work: &Path) -> EnsembleResults {
    let mut out = EnsembleResults {
        members: SIZE,
        tick_ms: TICK_MS,
        ..Default::default()
    };
    if let Err(e) = measure(a, plan, launch, work, &mut out).await {
        eprintln!("ensemble phase stopped: {e}");
        out.error = Some(e);
    }
    out
}

fn write_args(a: &CompareArgs, plan: &Plan, ens: &Ensemble) -> RunArgs {
    RunArgs {
        server: ens.connect_string(),
        write_pct: 100,
        watchers: 0,
        server_pid: None,
        label: ens.kind.label().to_string(),
        ..super::base_args(a, plan, None)
    }
}

async fn measure(
    a: &CompareArgs,
    plan: &Plan,
    launch: &Launch,
    work: &Path,
    out: &mut EnsembleResults,
) -> Result<(), String> {
    let started = Instant::now();
    let mut ensembles = Vec::new();
    for k in [Kind::Ferrozk, Kind::Apache] {
        let dir = work.join(format!("ensemble-{}", k.label()));
        ensembles.push(Ensemble::start(k, launch, &dir, SIZE, TICK_MS)?);
    }
    let [f, z] = &mut ensembles[..] else {
        unreachable!("two kinds")
    };
    let (f, z) = tokio::join!(formed(f, started), formed(z, started));
    for (label, ms) in [f?, z?] {
        eprintln!("{label} ensemble formed {ms:.0} ms after the start");
        out.formed_ms.push((label.into(), ms));
    }
    for e in &ensembles {
        eprintln!(
            "warming up the {} ensemble for {} s",
            e.kind.label(),
            plan.server_warmup
        );
        let mut args = write_args(a, plan, e);
        args.write_pct = 30;
        args.warmup = 0.0;
        args.duration = plan.server_warmup;
        run_one(Workload::Mixed, &args).await?;
    }
    for pair in 0..plan.pairs {
        let order: Vec<&Ensemble> = if pair % 2 == 0 {
            ensembles.iter().collect()
        } else {
            ensembles.iter().rev().collect()
        };
        for e in order {
            let args = write_args(a, plan, e);
            let probe_at = Duration::from_secs_f64(plan.warmup + plan.duration / 2.0);
            let (r, conns) = tokio::join!(
                run_one(Workload::Write, &args),
                connections_after(e, probe_at)
            );
            out.runs.push(r?);
            out.connections.push((e.kind.label().into(), conns));
        }
    }
    for e in &ensembles {
        for (i, mode) in e.modes().await {
            let m = &e.members[i];
            let rss = m.pid().and_then(crate::memory::read_rss);
            if let Some(rss) = rss {
                out.peak_rss.push(MemberRss {
                    server: e.kind.label().into(),
                    sid: m.sid,
                    mode: mode.map_or("not serving", |m| m.name()).into(),
                    vm_hwm_kb: rss.vm_hwm_kb,
                });
            }
        }
    }
    let steady = Duration::from_secs_f64(plan.failover_steady);
    for round in 0..plan.failover_rounds {
        let n = ensembles.len();
        for j in 0..n {
            // Alternate which kind goes first, as the write pairs do.
            let k = if round % 2 == 0 { j } else { n - 1 - j };
            let r = failover::round(&mut ensembles[k], round, steady).await?;
            out.failover.push(r);
        }
    }
    Ok(())
}

/// Waits for `e` to settle; its label and the ms since `started`.
async fn formed(e: &mut Ensemble, started: Instant) -> Result<(&'static str, f64), String> {
    e.wait_for_leader(ELECTION_TIMEOUT).await?;
    Ok((e.kind.label(), started.elapsed().as_secs_f64() * 1000.0))
}

/// Each member's `Connections:` after `delay`.
async fn connections_after(e: &Ensemble, delay: Duration) -> Vec<Option<u32>> {
    tokio::time::sleep(delay).await;
    let mut v = Vec::new();
    for m in &e.members {
        let srvr = four_letter(&m.addr, "srvr").await.ok();
        v.push(srvr.as_deref().and_then(parse_connections));
    }
    v
}
