//! The `watch` workload: fan-out latency of data watches.
//!
//! N watcher sessions each hold a one-shot data watch on one hot node. A
//! round is: a setter session sets the node's data; every watcher receives
//! NodeDataChanged and re-arms its watch with getData(watch). The round's
//! latency is from just before the setData is sent until the *last* watcher
//! has its notification — what a coordination recipe waiting on all members
//! sees. The next round starts when every watcher has re-armed, so no
//! notification is ever lost to a gap.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

use super::driver::Measured;
use super::report::new_histogram;
use super::workload::ensure_node;
use ferrozk_client::{Client, EventType};

/// A watcher reports when its notification arrived, then that it re-armed.
enum Signal {
    Notified(Instant),
    Armed,
    Failed(String),
}

/// How long a round may take before the run gives up on it.
const ROUND_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs rounds on `hot` with one session per watcher until the time is up.
pub async fn run(
    setter: &Client,
    watchers: &[Client],
    hot: &str,
    payload: &[u8],
    warmup: Duration,
    duration: Duration,
) -> Measured {
    let mut out = Measured {
        histogram: new_histogram(),
        ops: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        first_error: None,
    };
    if let Err(e) = ensure_node(setter, hot).await {
        out.errors += 1;
        out.first_error = Some(e.to_string());
        return out;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let hot: Arc<str> = Arc::from(hot);
    for w in watchers {
        tokio::spawn(watcher(w.clone(), hot.clone(), tx.clone()));
    }
    drop(tx);
    let n = watchers.len();
    if let Err(e) = wait_armed(&mut rx, n).await {
        out.errors += 1;
        out.first_error = Some(e);
        return out;
    }
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        if let Err(e) = setter.set_data(&hot, payload, -1).await {
            out.errors += 1;
            out.first_error.get_or_insert(e.to_string());
            break;
        }
        let mut last = sent;
        let mut armed = 0;
        let mut notified = 0;
        let round = timeout(ROUND_TIMEOUT, async {
            while armed < n {
                match rx.recv().await {
                    Some(Signal::Notified(t)) => {
                        notified += 1;
                        last = last.max(t);
                    }
                    Some(Signal::Armed) => armed += 1,
                    Some(Signal::Failed(e)) => return Err(e),
                    None => return Err("watchers gone".to_string()),
                }
            }
            Ok(())
        })
        .await;
        match round {
            Ok(Ok(())) if notified == n => {
                if sent >= measure_from {
                    let ns = last.duration_since(sent).as_nanos() as u64;
                    out.histogram.saturating_record(ns.max(1));
                    out.ops += 1;
                }
            }
            Ok(Ok(())) => unreachable!("a watcher re-arms only after its notification"),
            Ok(Err(e)) => {
                out.errors += 1;
                out.first_error.get_or_insert(e);
                break;
            }
            Err(_) => {
                out.errors += 1;
                out.first_error
                    .get_or_insert(format!("round not done within {ROUND_TIMEOUT:?}"));
                break;
            }
        }
    }
    out.elapsed = Instant::now().saturating_duration_since(measure_from);
    out
}

/// Waits until every watcher has its first watch set.
async fn wait_armed(rx: &mut mpsc::UnboundedReceiver<Signal>, n: usize) -> Result<(), String> {
    let mut armed = 0;
    while armed < n {
        match timeout(ROUND_TIMEOUT, rx.recv()).await {
            Ok(Some(Signal::Armed)) => armed += 1,
            Ok(Some(Signal::Notified(_))) => {}
            Ok(Some(Signal::Failed(e))) => return Err(e),
            Ok(None) => return Err("watchers gone".into()),
            Err(_) => return Err(format!("watches not set within {ROUND_TIMEOUT:?}")),
        }
    }
    Ok(())
}

/// One watcher: arm, then for every NodeDataChanged report and re-arm.
async fn watcher(c: Client, hot: Arc<str>, tx: mpsc::UnboundedSender<Signal>) {
    let mut events = c.events();
    loop {
        let armed = match c.get_data(&hot, true).await {
            Ok(_) => Signal::Armed,
            Err(e) => Signal::Failed(e.to_string()),
        };
        let failed = matches!(armed, Signal::Failed(_));
        if tx.send(armed).is_err() || failed {
            return;
        }
        loop {
            match events.recv().await {
                Some(ev) if ev.event_type == EventType::NodeDataChanged => {
                    if tx.send(Signal::Notified(Instant::now())).is_err() {
                        return;
                    }
                    break;
                }
                Some(_) => {}
                None => return,
            }
        }
    }
}
