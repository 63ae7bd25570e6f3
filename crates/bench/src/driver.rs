//! The load driver: `sessions x depth` workers, each keeping one request
//! outstanding on its session, so a session has `depth` requests in flight
//! (the client library pipelines them on one connection).
//!
//! Closed loop: a worker sends its next request when the previous reply
//! arrives; latency is measured from the send.
//!
//! Open loop (`rate`): request *i* of the whole run is scheduled at
//! `start + i / rate`, and worker *w* of *W* takes requests w, w+W, w+2W….
//! Latency is measured from the *scheduled* time whenever the worker was
//! still waiting for its previous reply at that time — a server stall then
//! shows up as the full delay every later request suffered, instead of being
//! hidden because the client politely stopped sending (coordinated
//! omission). When the worker was idle and only the timer woke it late
//! (tokio timers have 1 ms granularity), latency counts from the actual
//! send, so the harness's own timer slack is not charged to the server.
//!
//! Requests sent during the warm-up are not recorded; workers stop sending
//! at the end of the duration and wait for their last reply.

use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use super::report::new_histogram;
use super::workload::{Keys, Op, Rng};
use ferrozk_client::Client;

/// How load is generated.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Outstanding requests per session.
    pub depth: usize,
    /// Not measured, at the start.
    pub warmup: Duration,
    /// Measured, after the warm-up.
    pub duration: Duration,
    /// Open loop at this total rate (ops/s); closed loop if `None`.
    pub rate: Option<f64>,
}

/// What the workers measured.
#[derive(Debug)]
pub struct Measured {
    /// Latencies in nanoseconds.
    pub histogram: Histogram<u64>,
    /// Successful operations recorded.
    pub ops: u64,
    /// Failed operations (during the measured window).
    pub errors: u64,
    /// From the end of the warm-up until the last recorded reply.
    pub elapsed: Duration,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
}

struct WorkerOut {
    hist: Histogram<u64>,
    ops: u64,
    errors: u64,
    last_done: Instant,
    first_error: Option<String>,
}

/// Runs `op` on `clients` as `spec` says.
pub async fn run(clients: &[Client], spec: &LoadSpec, op: Op, keys: Arc<Keys>) -> Measured {
    let workers = clients.len() * spec.depth.max(1);
    let start = Instant::now();
    let measure_from = start + spec.warmup;
    let end = measure_from + spec.duration;
    let op = Arc::new(op);
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let client = clients[w % clients.len()].clone();
        let (op, keys) = (op.clone(), keys.clone());
        let schedule = spec.rate.map(|rate| Schedule {
            next: start + Duration::from_secs_f64(w as f64 / rate),
            step: Duration::from_secs_f64(workers as f64 / rate),
        });
        tasks.spawn(async move {
            worker(
                client,
                op,
                keys,
                Rng::new(w as u64),
                schedule,
                measure_from,
                end,
            )
            .await
        });
    }
    let mut out = Measured {
        histogram: new_histogram(),
        ops: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        first_error: None,
    };
    let mut last = end;
    while let Some(r) = tasks.join_next().await {
        let r = r.expect("bench worker panicked");
        out.histogram.add(&r.hist).expect("histograms share bounds");
        out.ops += r.ops;
        out.errors += r.errors;
        last = last.max(r.last_done);
        if out.first_error.is_none() {
            out.first_error = r.first_error;
        }
    }
    out.elapsed = last.saturating_duration_since(measure_from);
    out
}

/// A worker's share of the open-loop schedule.
struct Schedule {
    next: Instant,
    step: Duration,
}

async fn worker(
    client: Client,
    op: Arc<Op>,
    keys: Arc<Keys>,
    mut rng: Rng,
    mut schedule: Option<Schedule>,
    measure_from: Instant,
    end: Instant,
) -> WorkerOut {
    let mut out = WorkerOut {
        hist: new_histogram(),
        ops: 0,
        errors: 0,
        last_done: measure_from,
        first_error: None,
    };
    loop {
        let now = Instant::now();
        let started = match &mut schedule {
            None => now,
            Some(s) => {
                let due = s.next;
                s.next += s.step;
                if due >= end {
                    break;
                }
                if due > now {
                    // Idle until due: timer slack is ours, count from the send.
                    tokio::time::sleep_until(due).await;
                    Instant::now()
                } else {
                    // Busy past due: the server made us late, count from due.
                    due
                }
            }
        };
        if started >= end {
            break;
        }
        let result = op.issue(&client, &keys, &mut rng).await;
        let done = Instant::now();
        if started < measure_from {
            continue;
        }
        out.last_done = done;
        match result {
            Ok(()) => {
                let ns = done.duration_since(started).as_nanos() as u64;
                out.hist.saturating_record(ns.max(1));
                out.ops += 1;
            }
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert_with(|| e.to_string());
                if client.state().is_terminal() {
                    break;
                }
            }
        }
    }
    out
}
