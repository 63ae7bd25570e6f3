//! One summary as ZooKeeper keeps it: count, sum, min and max
//! (`AvgMinMaxCounter`) and, for ADVANCED summaries, a uniform sample of
//! up to 4096 values for percentiles (`AvgMinMaxPercentileCounter`, whose
//! reservoir is Dropwizard's uniform one).
//!
//! The sample's replacement draws come from a small xorshift seeded per
//! summary, so the same observations give the same percentiles (the core
//! stays reproducible even in what it observes).

/// Values a percentile sample keeps (ZooKeeper's `DEFAULT_SIZE`).
const RESERVOIR: usize = 4096;

/// A uniform sample of the observed values (Vitter's algorithm R).
#[derive(Debug, Clone)]
struct Reservoir {
    seen: u64,
    values: Vec<i64>,
    seed: u64,
}

impl Reservoir {
    fn new() -> Reservoir {
        Reservoir {
            seen: 0,
            values: Vec::new(),
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn add(&mut self, v: i64) {
        self.seen += 1;
        if self.values.len() < RESERVOIR {
            self.values.push(v);
            return;
        }
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let r = self.seed % self.seen;
        if (r as usize) < RESERVOIR {
            self.values[r as usize] = v;
        }
    }
}

/// A summary's state.
#[derive(Debug, Clone)]
pub struct SummaryData {
    count: u64,
    total: i64,
    min: i64,
    max: i64,
    sample: Option<Reservoir>,
}

/// What a summary reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SummaryView {
    /// Average, rounded half-up to 4 decimals (`AvgMinMaxCounter.getAvg`).
    pub avg: f64,
    /// Minimum (0 when empty).
    pub min: i64,
    /// Maximum (0 when empty).
    pub max: i64,
    /// Number of observations.
    pub count: u64,
    /// Sum of the observations.
    pub sum: i64,
    /// p50, p95, p99, p999 (ADVANCED summaries only).
    pub percentiles: Option<[i64; 4]>,
}

impl SummaryData {
    /// An empty summary; `percentiles` for an ADVANCED one.
    pub fn new(percentiles: bool) -> SummaryData {
        SummaryData {
            count: 0,
            total: 0,
            min: i64::MAX,
            max: i64::MIN,
            sample: percentiles.then(Reservoir::new),
        }
    }

    /// Adds one observation.
    pub fn add(&mut self, v: i64) {
        self.count += 1;
        self.total = self.total.wrapping_add(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        if let Some(s) = &mut self.sample {
            s.add(v);
        }
    }

    /// Forgets everything (`srst`, `reset`).
    pub fn reset(&mut self) {
        *self = SummaryData::new(self.sample.is_some());
    }

    /// The values reported.
    pub fn view(&self) -> SummaryView {
        let avg = if self.count == 0 {
            0.0
        } else {
            round4(self.total as f64 / self.count as f64)
        };
        SummaryView {
            avg,
            min: if self.count == 0 { 0 } else { self.min },
            max: if self.count == 0 { 0 } else { self.max },
            count: self.count,
            sum: self.total,
            percentiles: self.sample.as_ref().map(|s| {
                let mut v = s.values.clone();
                v.sort_unstable();
                [0.5, 0.95, 0.99, 0.999].map(|q| quantile(&v, q))
            }),
        }
    }
}

/// `BigDecimal.setScale(4, HALF_UP)` of an average (half away from zero;
/// averages of integer observations never sit on a binary rounding edge
/// that would tell the two apart at four places).
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Dropwizard `UniformSnapshot.getValue(q)` over sorted values, rounded
/// (`Math.round`) as ZooKeeper prints it.
fn quantile(sorted: &[i64], q: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let pos = q * (sorted.len() as f64 + 1.0);
    let index = pos as usize;
    let v = if index < 1 {
        sorted[0] as f64
    } else if index >= sorted.len() {
        sorted[sorted.len() - 1] as f64
    } else {
        let lower = sorted[index - 1] as f64;
        let upper = sorted[index] as f64;
        lower + (pos - pos.floor()) * (upper - lower)
    };
    (v + 0.5).floor() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_summary_reports_zeros() {
        let v = SummaryData::new(true).view();
        assert_eq!((v.avg, v.min, v.max, v.count, v.sum), (0.0, 0, 0, 0, 0));
        assert_eq!(v.percentiles, Some([0; 4]));
    }

    #[test]
    fn averages_round_half_up_to_four_places() {
        // Apache's capture: 218 over 3 reads is 72.6667, 32 over 7 4.5714.
        let mut s = SummaryData::new(false);
        for v in [71, 72, 75] {
            s.add(v);
        }
        assert_eq!(s.view().avg, 72.6667);
        let mut s = SummaryData::new(false);
        for v in [15, 1, 2, 3, 4, 4, 3] {
            s.add(v);
        }
        assert_eq!(s.view().avg, 4.5714);
    }

    #[test]
    fn percentiles_follow_dropwizard() {
        // Apache's capture: updatelatency 2, 6, 5, 15 → p50 6 (5.5 rounds
        // up), p95/p99/p999 15.
        let mut s = SummaryData::new(true);
        for v in [2, 6, 5, 15] {
            s.add(v);
        }
        assert_eq!(s.view().percentiles, Some([6, 15, 15, 15]));
    }
}
