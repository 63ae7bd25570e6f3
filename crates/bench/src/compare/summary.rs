//! From runs to the rows of the report: per workload, each server's median
//! throughput and latency, and ferrozk/apache ratios taken as the median of
//! the per-pair ratios (pair *i* is the *i*-th run of the workload on each
//! server), which is robust to one disturbed pair.

use super::super::report::{BenchResult, Latency};

/// One speed workload, both servers.
#[derive(Debug, Clone)]
pub struct SpeedRow {
    /// Workload name.
    pub workload: String,
    /// ferrozk, then apache: median throughput, ops/s.
    pub throughput: [f64; 2],
    /// Median p50 latency, µs.
    pub p50: [f64; 2],
    /// Median p99 latency, µs.
    pub p99: [f64; 2],
    /// Median over pairs of ferrozk/apache throughput.
    pub throughput_ratio: f64,
    /// Median over pairs of ferrozk/apache p50 (below 1: ferrozk lower).
    pub p50_ratio: f64,
    /// Median over pairs of ferrozk/apache p99 (below 1: ferrozk lower).
    pub p99_ratio: f64,
    /// Pairs measured.
    pub pairs: usize,
    /// Failed operations on each server, all pairs.
    pub errors: [u64; 2],
    /// The percentile curve of each server's median-throughput run.
    pub curves: [Vec<(f64, f64)>; 2],
}

/// One memory workload, both servers.
#[derive(Debug, Clone)]
pub struct MemoryRow {
    /// Workload name, e.g. `tree-1M`.
    pub workload: String,
    /// "znode", "watch" or "session".
    pub item: String,
    /// Items added.
    pub items: u64,
    /// Bytes per item, ferrozk then apache.
    pub bytes_per_item: [Option<f64>; 2],
    /// Peak RSS (VmHWM) at the end, KiB.
    pub peak_rss_kb: [Option<u64>; 2],
    /// Restart time, ms (tree).
    pub restart_ms: [Option<f64>; 2],
    /// Notes from either run.
    pub notes: Vec<String>,
}

const SERVERS: [&str; 2] = ["ferrozk", "apache"];

/// The median of `v` (mean of the middle two for even lengths); NaN if empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Workload names in the order they first ran.
fn workloads(runs: &[BenchResult]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in runs {
        if !out.contains(&r.workload) {
            out.push(r.workload.clone());
        }
    }
    out
}

fn runs_of<'a>(runs: &'a [BenchResult], w: &str, server: &str) -> Vec<&'a BenchResult> {
    runs.iter()
        .filter(|r| r.workload == w && r.server == server)
        .collect()
}

fn lat(r: &BenchResult, f: impl Fn(&Latency) -> f64) -> f64 {
    r.latency_us.as_ref().map_or(f64::NAN, f)
}

/// The speed rows, for runs without a memory record.
pub fn speed_rows(runs: &[BenchResult]) -> Vec<SpeedRow> {
    let speed: Vec<BenchResult> = runs
        .iter()
        .filter(|r| r.memory.is_none())
        .cloned()
        .collect();
    workloads(&speed)
        .into_iter()
        .filter_map(|w| {
            let by: [Vec<&BenchResult>; 2] = SERVERS.map(|s| runs_of(&speed, &w, s));
            let pairs = by[0].len().min(by[1].len());
            if pairs == 0 {
                return None;
            }
            let per_pair = |f: &dyn Fn(&BenchResult) -> f64| -> f64 {
                median((0..pairs).map(|i| f(by[0][i]) / f(by[1][i])).collect())
            };
            let med = |i: usize, f: &dyn Fn(&BenchResult) -> f64| -> f64 {
                median(by[i].iter().map(|r| f(r)).collect())
            };
            let curve = |i: usize| -> Vec<(f64, f64)> {
                let mut rs = by[i].clone();
                rs.sort_by(|a, b| a.throughput.total_cmp(&b.throughput));
                rs.get(rs.len() / 2)
                    .and_then(|r| r.latency_us.as_ref())
                    .map(|l| l.curve.clone())
                    .unwrap_or_default()
            };
            Some(SpeedRow {
                throughput: [0, 1].map(|i| med(i, &|r| r.throughput)),
                p50: [0, 1].map(|i| med(i, &|r| lat(r, |l| l.p50))),
                p99: [0, 1].map(|i| med(i, &|r| lat(r, |l| l.p99))),
                throughput_ratio: per_pair(&|r| r.throughput),
                p50_ratio: per_pair(&|r| lat(r, |l| l.p50)),
                p99_ratio: per_pair(&|r| lat(r, |l| l.p99)),
                pairs,
                errors: [0, 1].map(|i| by[i].iter().map(|r| r.errors).sum()),
                curves: [curve(0), curve(1)],
                workload: w,
            })
        })
        .collect()
}

/// The memory rows, for runs with a memory record (or a memory workload
/// that could not measure one).
pub fn memory_rows(runs: &[BenchResult]) -> Vec<MemoryRow> {
    let mem: Vec<&BenchResult> = runs.iter().filter(|r| r.memory.is_some()).collect();
    let owned: Vec<BenchResult> = mem.iter().map(|r| (*r).clone()).collect();
    workloads(&owned)
        .into_iter()
        .map(|w| {
            let pick = |i: usize| {
                owned
                    .iter()
                    .find(|r| r.workload == w && r.server == SERVERS[i])
            };
            let m = |i: usize| pick(i).and_then(|r| r.memory.clone());
            let any = m(0).or(m(1)).expect("a memory row has a memory record");
            MemoryRow {
                item: any.item.clone(),
                items: any.items,
                bytes_per_item: [0, 1].map(|i| m(i).map(|m| m.bytes_per_item)),
                peak_rss_kb: [0, 1]
                    .map(|i| pick(i).and_then(|r| r.server_rss).map(|r| r.vm_hwm_kb)),
                restart_ms: [0, 1].map(|i| m(i).and_then(|m| m.restart_ms)),
                notes: [0, 1]
                    .iter()
                    .filter_map(|&i| pick(i))
                    .flat_map(|r| r.notes.iter().map(move |n| format!("{}: {n}", r.server)))
                    .collect(),
                workload: w,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(w: &str, server: &str, throughput: f64) -> BenchResult {
        let mut r = BenchResult::new(w, server);
        r.throughput = throughput;
        r
    }

    #[test]
    fn median_of_odd_and_even_lengths() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }

    #[test]
    fn ratio_is_the_median_of_pair_ratios() {
        let runs = vec![
            run("read", "ferrozk", 200.0),
            run("read", "apache", 100.0),
            run("read", "apache", 100.0),
            run("read", "ferrozk", 300.0),
            run("read", "ferrozk", 1000.0),
            run("read", "apache", 100.0),
        ];
        let rows = speed_rows(&runs);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].pairs, 3);
        assert_eq!(rows[0].throughput_ratio, 3.0);
        assert_eq!(rows[0].throughput, [300.0, 100.0]);
    }
}
