//! What one benchmark run produced, as the JSON file `--json` writes and the
//! table printed on stdout. `compare` reads these same records back, so this
//! is the one place the result format is defined.
//!
//! JSON shape (one object per run): `workload`, `server`, the load settings,
//! `ops`, `errors`, `throughput` (ops/s), `latency_us` (percentiles and a
//! percentile curve for charts, in microseconds), `memory` (for the memory
//! workloads) and `server_rss` (the server's VmHWM/VmRSS at the end, when
//! its pid was known).

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The percentiles drawn in latency charts: 0 to 99.999 on a "nines" scale.
const CURVE_PERCENTILES: &[f64] = &[
    0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999,
];

/// A latency distribution, in microseconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    /// Samples behind the percentiles.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest sample.
    pub max: f64,
    /// (percentile, latency) points for the percentile chart.
    pub curve: Vec<(f64, f64)>,
}

impl Latency {
    /// Summarises a histogram of nanoseconds; `None` if it is empty.
    pub fn from_histogram(h: &Histogram<u64>) -> Option<Latency> {
        if h.is_empty() {
            return None;
        }
        let us = |ns: u64| ns as f64 / 1000.0;
        Some(Latency {
            count: h.len(),
            mean: h.mean() / 1000.0,
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
            curve: CURVE_PERCENTILES
                .iter()
                .map(|&p| (p, us(h.value_at_percentile(p))))
                .collect(),
        })
    }
}

/// A histogram for latencies in nanoseconds, 1 ns to 10 minutes, 3 digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000_000, 3).expect("static histogram bounds")
}

/// Memory a workload added to the server, from its RSS before and after.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Memory {
    /// What was added: "znode", "watch" or "session".
    pub item: String,
    /// How many.
    pub items: u64,
    /// Server VmRSS before loading, KiB.
    pub rss_before_kb: u64,
    /// Server VmRSS after loading, KiB.
    pub rss_after_kb: u64,
    /// (after - before) / items.
    pub bytes_per_item: f64,
    /// Time to restart on the same data and serve all items again (tree
    /// only, measured by `compare`), ms.
    pub restart_ms: Option<f64>,
}

/// A server's memory high-water mark and current resident set, KiB.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Rss {
    /// VmHWM: peak resident set.
    pub vm_hwm_kb: u64,
    /// VmRSS: resident set now.
    pub vm_rss_kb: u64,
}

/// One run of one workload against one server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BenchResult {
    /// Workload name, e.g. `read` or `mixed-10`.
    pub workload: String,
    /// Server label (`--label`), e.g. `ferrozk` or `apache`.
    pub server: String,
    /// `closed` or `open` (fixed rate).
    pub mode: String,
    /// Target total rate in open-loop mode, ops/s.
    pub rate: Option<f64>,
    /// Client sessions (connections) generating load.
    pub sessions: usize,
    /// Outstanding requests per session.
    pub depth: usize,
    /// Node data size, bytes.
    pub payload: usize,
    /// Keys (nodes) the load is spread over.
    pub keys: usize,
    /// Warm-up before measuring, s.
    pub warmup_s: f64,
    /// Measured time, s.
    pub duration_s: f64,
    /// Operations measured (for `watch`: rounds).
    pub ops: u64,
    /// Operations that failed.
    pub errors: u64,
    /// Measured operations per second.
    pub throughput: f64,
    /// Latency of the measured operations.
    pub latency_us: Option<Latency>,
    /// Memory workloads: what the load cost the server.
    pub memory: Option<Memory>,
    /// The server's RSS at the end of the run, if its pid was known.
    pub server_rss: Option<Rss>,
    /// Anything a reader must know to interpret the numbers.
    pub notes: Vec<String>,
    /// Group commit: transactions per fsync during the run (from the
    /// server's zxid and `zk_cnt_fsynctime` before and after), when known.
    #[serde(default)]
    pub txns_per_fsync: Option<f64>,
}

impl BenchResult {
    /// A result with the load settings filled in and nothing measured yet.
    pub fn new(workload: &str, server: &str) -> BenchResult {
        BenchResult {
            workload: workload.to_string(),
            server: server.to_string(),
            mode: "closed".into(),
            rate: None,
            sessions: 0,
            depth: 0,
            payload: 0,
            keys: 0,
            warmup_s: 0.0,
            duration_s: 0.0,
            ops: 0,
            errors: 0,
            throughput: 0.0,
            latency_us: None,
            memory: None,
            server_rss: None,
            notes: Vec::new(),
            txns_per_fsync: None,
        }
    }

    /// Fills in throughput and latency from a measurement.
    pub fn set_measured(&mut self, ops: u64, errors: u64, elapsed: Duration, h: &Histogram<u64>) {
        self.ops = ops;
        self.errors = errors;
        self.duration_s = elapsed.as_secs_f64();
        self.throughput = if elapsed.is_zero() {
            0.0
        } else {
            ops as f64 / elapsed.as_secs_f64()
        };
        self.latency_us = Latency::from_histogram(h);
    }

    /// The human-readable summary printed on stdout.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let rate = match self.rate {
            Some(r) => format!(" at {r:.0} ops/s"),
            None => String::new(),
        };
        let _ = writeln!(
            s,
            "{} on {} ({} loop{rate}, {} sessions x depth {}, {} B payload, {} keys)",
            self.workload,
            self.server,
            self.mode,
            self.sessions,
            self.depth,
            self.payload,
            self.keys
        );
        let _ = writeln!(
            s,
            "  ops {:>10}   errors {:>6}   time {:>7.2} s   throughput {:>10.0} ops/s",
            self.ops, self.errors, self.duration_s, self.throughput
        );
        if let Some(l) = &self.latency_us {
            let _ = writeln!(
                s,
                "  latency us   p50 {:>9.1}   p90 {:>9.1}   p99 {:>9.1}   p99.9 {:>9.1}   max {:>9.1}",
                l.p50, l.p90, l.p99, l.p999, l.max
            );
        }
        if let Some(m) = &self.memory {
            let _ = writeln!(
                s,
                "  memory: {} x {}, RSS {} -> {} KiB, {:.0} bytes per {}",
                m.items, m.item, m.rss_before_kb, m.rss_after_kb, m.bytes_per_item, m.item
            );
            if let Some(r) = m.restart_ms {
                let _ = writeln!(s, "  restart: {r:.0} ms");
            }
        }
        if let Some(r) = &self.server_rss {
            let _ = writeln!(
                s,
                "  server RSS: peak {} KiB, now {} KiB",
                r.vm_hwm_kb, r.vm_rss_kb
            );
        }
        for n in &self.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_out_ordered_and_in_microseconds() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let l = Latency::from_histogram(&h).unwrap();
        assert!((l.p50 - 500.0).abs() < 1.0, "{l:?}");
        assert!(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max);
        assert!(l.curve.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn an_empty_histogram_has_no_latency() {
        assert!(Latency::from_histogram(&new_histogram()).is_none());
    }
}
