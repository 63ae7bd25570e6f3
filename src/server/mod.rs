//! A server: the pure [`core`] (the state machine of one server) and the
//! tokio layer around it — the listener, one task per connection
//! ([`conn`]), the [`driver`] task that runs the core and performs its
//! effects, the log thread ([`durability`]), the snapshot writers and disk
//! adapters ([`persist`]), and the quorum network ([`quorum_net`]).
//!
//! `start` binds and spawns everything and hands back a [`ServerHandle`];
//! `run` is what the binary calls.

pub mod admin;
pub mod conn;
pub mod core;
pub mod driver;
pub mod durability;
mod ensemble;
pub mod fourlw;
pub mod mailbox;
pub mod metrics;
mod options;
pub mod outbox;
pub mod persist;
pub mod quorum_net;
#[cfg(test)]
mod sim;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub use options::{EnsembleOptions, OptionsError, ServerOptions};

/// Messages queued for the core before connection readers wait: bounds the
/// memory of requests read but not yet processed.
const CORE_QUEUE: usize = 16 * 1024;

/// A running server.
pub struct ServerHandle {
    /// The bound client address.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    driver: tokio::task::JoinHandle<Result<(), driver::DriverError>>,
    stop: Stopper,
}

/// Starts a graceful stop of a running server (see [`ServerHandle::stopper`]).
#[derive(Clone)]
pub struct Stopper {
    token: tokio_util::sync::CancellationToken,
    accept: tokio::task::AbortHandle,
}

impl Stopper {
    /// Stops accepting clients (the client port closes now) and has the
    /// driver drain and leave (see `driver`): what is in flight is
    /// answered, the log synced and closed, the ensemble left. The
    /// server's [`ServerHandle::wait`] returns `Ok` when that is done.
    pub fn stop(&self) {
        self.accept.abort();
        self.token.cancel();
    }
}

impl ServerHandle {
    /// Stops accepting and drops the core at once (no drain; what was
    /// acknowledged is on disk already).
    pub fn shutdown(self) {
        self.task.abort();
        self.driver.abort();
    }

    /// A handle that starts a graceful stop, for a signal handler.
    pub fn stopper(&self) -> Stopper {
        self.stop.clone()
    }

    /// Waits until the server stops (a storage failure, a broken
    /// invariant); it runs until the process ends otherwise.
    pub async fn wait(self) -> Result<(), StartError> {
        let stopped = self.driver.await;
        self.task.abort();
        match stopped {
            Ok(r) => r.map_err(StartError::Stopped),
            Err(e) => Err(StartError::Stopped(driver::DriverError::Core(
                self::core::CoreError::Replication(format!("the driver task ended: {e}")),
            ))),
        }
    }
}

/// Counts connections per client IP for `maxClientCnxns`.
struct CnxnGuard {
    counts: Arc<Mutex<HashMap<IpAddr, u32>>>,
    ip: IpAddr,
}

impl Drop for CnxnGuard {
    fn drop(&mut self) {
        let mut m = self.counts.lock();
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// Why the server could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be recovered (names the file and the damage).
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// A quorum setting is unusable (names the key).
    #[error("{0}")]
    Quorum(String),
    /// The client port could not be bound.
    #[error("clientPort: cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The running server had to stop.
    #[error(transparent)]
    Stopped(driver::DriverError),
    /// The metrics provider could not start (names the key).
    #[error(transparent)]
    Metrics(#[from] metrics::http::MetricsError),
    /// The AdminServer could not start (standalone only; names the key):
    /// ZooKeeper's ERROR_STARTING_ADMIN_SERVER.
    #[error(transparent)]
    Admin(#[from] admin::AdminError),
}

/// Recovers the database, binds the client port and spawns the server.
pub async fn start(opts: ServerOptions) -> Result<ServerHandle, StartError> {
    let (rec, log) = {
        let opts = opts.clone();
        tokio::task::spawn_blocking(move || -> Result<_, crate::storage::StorageError> {
            let rec = persist::recover(&opts)?;
            let log = persist::open_log(&opts)?;
            Ok((rec, log))
        })
        .await
        .expect("recovery task")?
    };
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: opts.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: opts.listen,
        source,
    })?;
    let (tx, rx) = mpsc::channel(CORE_QUEUE);
    let max_buffer = opts.max_buffer;
    let max_queued_bytes = opts.max_queued_bytes;
    let max_cnxns = opts.max_client_cnxns;
    spawn_purger(&opts);
    let snapshots = persist::SnapshotDir::recovered(opts.data_dir.clone(), &rec);
    let snapshot_now = rec.snapshot.is_some() && rec.txns_replayed > 0;
    let snap_zxid = persist::snapshot_zxid(&rec);
    let epoch = std::time::Instant::now();
    let db = persist::database(rec, None);
    let mut core =
        core::Core::with_database(opts.clone(), core::Durability::Log, driver::now(epoch), db)
            .with_snapshots(Box::new(snapshots));
    let mut net = None;
    if let Some(e) = opts.ensemble.clone() {
        let (replica, n) = ensemble::start_member(&core, &e, tx.clone(), snap_zxid, epoch).await?;
        core = core.with_replica(replica);
        net = Some(n);
    }
    // metricsProvider.*: the /metrics endpoint ends when the driver does.
    metrics::http::start(&opts, core.metrics.clone(), tx.clone()).await?;
    // admin.*: the AdminServer ends when the driver does.
    admin::start_for(&opts.admin, &tx, opts.ensemble.is_some()).await?;
    let stop_token = tokio_util::sync::CancellationToken::new();
    let mut driver = driver::Driver::new(core, epoch, net)
        .with_log(Box::new(log))
        .with_stop(stop_token.clone());
    if snapshot_now {
        driver.snapshot_now();
    }
    let driver_task = tokio::spawn(driver.run(rx));
    let counts: Arc<Mutex<HashMap<IpAddr, u32>>> = Arc::default();
    let task = tokio::spawn(async move {
        let mut next_conn: u64 = 1;
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            };
            {
                let mut m = counts.lock();
                let n = m.entry(peer.ip()).or_insert(0);
                if max_cnxns != 0 && *n >= max_cnxns {
                    tracing::warn!(%peer, "too many connections from this address (maxClientCnxns={max_cnxns}); closing");
                    drop(stream);
                    continue;
                }
                *n += 1;
            }
            let guard = CnxnGuard {
                counts: counts.clone(),
                ip: peer.ip(),
            };
            let conn = next_conn;
            next_conn += 1;
            let tx = tx.clone();
            tokio::spawn(async move {
                conn::serve(stream, peer, conn, tx, max_buffer, max_queued_bytes).await;
                drop(guard);
            });
        }
    });
    let stop = Stopper {
        token: stop_token,
        accept: task.abort_handle(),
    };
    Ok(ServerHandle {
        addr,
        task,
        driver: driver_task,
        stop,
    })
}

/// autopurge (DatadirCleanupManager): with `purgeInterval` > 0 hours, a
/// purge at start and then every `purgeInterval` hours (a fixed rate),
/// keeping `snapRetainCount` (at least 3) snapshots and the logs needed to
/// replay from the oldest of them (`storage::datadir::purge_plan`). 0, the
/// default, schedules nothing.
fn spawn_purger(opts: &ServerOptions) {
    let retain = opts.snap_retain_count.max(3) as usize;
    tracing::info!("autopurge.snapRetainCount set to {retain}");
    tracing::info!(
        "autopurge.purgeInterval set to {}",
        opts.purge_interval_hours
    );
    if opts.purge_interval_hours == 0 {
        tracing::info!("Purge task is not scheduled.");
        return;
    }
    let (snap_dir, log_dir) = (opts.data_dir.clone(), opts.data_log_dir.clone());
    let period = std::time::Duration::from_secs(u64::from(opts.purge_interval_hours) * 3600);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(period);
        loop {
            // The first tick is now: the first purge runs at start.
            every.tick().await;
            tracing::info!("Purge task started.");
            let (s, l) = (snap_dir.clone(), log_dir.clone());
            match tokio::task::spawn_blocking(move || {
                crate::storage::datadir::purge(&s, &l, retain)
            })
            .await
            {
                Ok(Ok(p)) => {
                    for f in p.files() {
                        tracing::info!("Removing file: {}", f.display());
                    }
                }
                Ok(Err(e)) => tracing::error!("Error occurred while purging: {e}"),
                Err(e) => tracing::error!("Error occurred while purging: {e}"),
            }
            tracing::info!("Purge task completed.");
        }
    });
}

/// Serves until the process is killed, or until the server must stop
/// (returned as the error).
pub async fn run(opts: ServerOptions) -> Result<(), StartError> {
    let handle = start(opts).await?;
    tracing::info!("ferrozk serving clients on {}", handle.addr);
    handle.wait().await
}
