//! The Prometheus side of the registry: what ZooKeeper's
//! `PrometheusMetricsProvider` exports, rendered by
//! `metrics-exporter-prometheus` (never hand-formatted).
//!
//! Two recorders, because the exporter sets quantiles per recorder and
//! ZooKeeper's summaries differ by detail level: BASIC summaries report
//! the median, ADVANCED ones the 0.5, 0.9 and 0.99 quantiles. Summaries are
//! fed on every observation (the exporter keeps the quantile sketch);
//! counters and gauges are set from the registry when scraped, as
//! ZooKeeper samples its gauges before serving `/metrics`. Both recorders
//! belong to this server alone — nothing is installed globally.

use std::collections::HashMap;
use std::time::Duration;

use metrics::{Histogram, Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use parking_lot::Mutex;

use super::names::{Counter, Level, Summary, SummarySet};

/// The label ZooKeeper gives a summary set's key.
const LABEL: &str = "key";

/// ZooKeeper's summaries keep their quantiles over 10 minutes (the
/// Prometheus Java client's default: 5 age buckets of 2 minutes).
const BUCKET: Duration = Duration::from_secs(120);

fn recorder(quantiles: &[f64]) -> PrometheusRecorder {
    PrometheusBuilder::new()
        .set_quantiles(quantiles)
        .expect("quantiles in [0, 1]")
        .set_bucket_duration(BUCKET)
        .expect("a non-zero bucket duration")
        .set_bucket_count(std::num::NonZeroU32::new(5).expect("5"))
        .build_recorder()
}

fn metadata() -> Metadata<'static> {
    Metadata::new(module_path!(), metrics::Level::INFO, None)
}

/// Where one server's observations go for `/metrics`.
pub struct PromSink {
    basic: PrometheusRecorder,
    advanced: PrometheusRecorder,
    summaries: Vec<Histogram>,
    sets: Mutex<HashMap<(usize, String), Histogram>>,
    process: metrics_process::Collector,
}

impl PromSink {
    /// A sink with every summary registered (an unobserved summary is
    /// exported with count 0, as ZooKeeper's are).
    pub fn new() -> PromSink {
        let basic = recorder(&[0.5]);
        let advanced = recorder(&[0.5, 0.9, 0.99]);
        let summaries = Summary::ALL
            .iter()
            .map(|s| {
                let r = match s.level() {
                    Level::Basic => &basic,
                    Level::Advanced => &advanced,
                };
                // ZooKeeper's help text is the metric's name.
                r.describe_histogram(s.name().into(), None, s.name().into());
                r.register_histogram(&Key::from_static_name(s.name()), &metadata())
            })
            .collect();
        for set in SummarySet::ALL {
            let r = match set.level() {
                Level::Basic => &basic,
                Level::Advanced => &advanced,
            };
            r.describe_histogram(set.name().into(), None, set.name().into());
        }
        for c in Counter::ALL {
            basic.describe_counter(c.name().into(), None, c.name().into());
        }
        let process = metrics_process::Collector::default();
        metrics::with_local_recorder(&basic, || process.describe());
        PromSink {
            basic,
            advanced,
            summaries,
            sets: Mutex::default(),
            process,
        }
    }

    /// One observation of a summary.
    pub fn observe(&self, s: Summary, v: i64) {
        self.summaries[s as usize].record(v as f64);
    }

    /// One observation of a summary set's key.
    pub fn observe_in(&self, set: SummarySet, key: &str, v: i64) {
        let mut sets = self.sets.lock();
        let h = sets
            .entry((set as usize, key.to_owned()))
            .or_insert_with(|| {
                let r = match set.level() {
                    Level::Basic => &self.basic,
                    Level::Advanced => &self.advanced,
                };
                let k = Key::from_parts(set.name(), vec![Label::new(LABEL, key.to_owned())]);
                r.register_histogram(&k, &metadata())
            });
        h.record(v as f64);
    }

    /// The exposition text: counters (their values now), gauges (as
    /// sampled for this scrape), summaries, and the process metrics.
    pub fn render(&self, counters: &[(Counter, u64)], gauges: &[(String, f64)]) -> String {
        for &(c, v) in counters {
            self.basic
                .register_counter(&Key::from_static_name(c.name()), &metadata())
                .absolute(v);
        }
        for (name, v) in gauges {
            let name = name.clone();
            self.basic
                .describe_gauge(name.clone().into(), None, name.clone().into());
            self.basic
                .register_gauge(&Key::from_name(name), &metadata())
                .set(*v);
        }
        metrics::with_local_recorder(&self.basic, || self.process.collect());
        let mut text = self.basic.handle().render();
        text.push_str(&self.advanced.handle().render());
        text
    }
}

impl Default for PromSink {
    fn default() -> Self {
        PromSink::new()
    }
}
