//! Counters for the four-letter words and metrics.

/// Server-wide request statistics (ServerStats).
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Packets received.
    pub received: u64,
    /// Packets sent.
    pub sent: u64,
    /// Requests timed.
    pub count: u64,
    /// Sum of latencies, µs.
    pub total_us: u64,
    /// Minimum latency, µs.
    pub min_us: u64,
    /// Maximum latency, µs.
    pub max_us: u64,
    /// Connections closed because their client stopped reading (the
    /// outbox passed `ferrozk.connection.maxQueuedBytes`).
    pub overflow_closes: u64,
}

impl Stats {
    /// Records one request's latency (arrival to answer), in µs.
    pub fn record_latency_us(&mut self, us: u64) {
        if self.count == 0 || us < self.min_us {
            self.min_us = us;
        }
        self.max_us = self.max_us.max(us);
        self.total_us += us;
        self.count += 1;
    }

    /// Latency min/avg/max in ms, formatted as ZooKeeper prints them.
    pub fn latency_line(&self) -> String {
        let avg = if self.count == 0 {
            0.0
        } else {
            self.total_us as f64 / self.count as f64 / 1000.0
        };
        format!("{}/{:.4}/{}", self.min_us / 1000, avg, self.max_us / 1000)
    }

    /// Resets the counters (srst).
    pub fn reset(&mut self) {
        *self = Stats::default();
    }
}
