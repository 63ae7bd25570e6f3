//! The log thread: appends transactions to the log and makes them durable in
//! groups, then tells the core how far durability reached.
//!
//! Group commit: the thread blocks for one transaction, then takes every
//! transaction that queued up meanwhile (while the previous fsync ran),
//! appends them all and syncs once. So under load one fsync covers many
//! transactions, and under light load a lone write is synced at once.
//! A storage failure stops the process: acknowledging a write that may not
//! be on disk is the one thing the server must never do.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};

use tokio::sync::mpsc;

use crate::tree::txn::Txn;

/// Where transactions go to become durable (the transaction log).
pub trait TxnSink: Send + 'static {
    /// Buffers one transaction.
    fn append(&mut self, txn: &Txn) -> Result<(), String>;
    /// Writes what is buffered and makes it durable.
    fn sync(&mut self) -> Result<(), String>;
}

/// Counters of the log thread (for `mntr` and the benchmark).
#[derive(Debug, Default)]
pub struct SyncStats {
    /// Number of syncs (fsyncs when forceSync is on).
    pub syncs: AtomicU64,
    /// Transactions made durable.
    pub txns: AtomicU64,
}

/// Largest group of transactions one sync covers; bounds latency of the
/// first one in a huge burst.
const MAX_GROUP: usize = 10_000;

/// Starts the log thread. Transactions sent to the returned channel are
/// made durable in order; after each group the zxid of its last
/// transaction is sent on `durable`.
pub fn spawn(
    mut sink: Box<dyn TxnSink>,
    durable: mpsc::UnboundedSender<i64>,
    stats: Arc<SyncStats>,
) -> std_mpsc::Sender<Txn> {
    let (tx, rx) = std_mpsc::channel::<Txn>();
    std::thread::Builder::new()
        .name("ferrozk-log".into())
        .spawn(move || {
            let fail = |what: &str, e: String| -> ! {
                tracing::error!("transaction log {what} failed: {e}; stopping (no unsynced write is acknowledged)");
                eprintln!("ferrozk: transaction log {what} failed: {e}");
                std::process::exit(1);
            };
            while let Ok(first) = rx.recv() {
                let mut last = first.hdr.zxid;
                let mut count = 1u64;
                if let Err(e) = sink.append(&first) {
                    fail("append", e);
                }
                while (count as usize) < MAX_GROUP {
                    match rx.try_recv() {
                        Ok(txn) => {
                            last = txn.hdr.zxid;
                            count += 1;
                            if let Err(e) = sink.append(&txn) {
                                fail("append", e);
                            }
                        }
                        Err(_) => break,
                    }
                }
                if let Err(e) = sink.sync() {
                    fail("sync", e);
                }
                stats.syncs.fetch_add(1, Ordering::Relaxed);
                stats.txns.fetch_add(count, Ordering::Relaxed);
                if durable.send(last).is_err() {
                    return;
                }
            }
        })
        .expect("spawn the log thread");
    tx
}
