//! `ferrozk serve` (the default action): run the server with a loaded
//! configuration until it is stopped.
//!
//! SIGTERM or SIGINT (Ctrl-C) stops it gracefully: the client port closes,
//! the writes in flight are answered, the log is synced and closed, the
//! ensemble is left (a leader hands over to a follower), and the process
//! exits 0, normally well within a second. A second signal during that
//! exits at once with 128 + the signal number, as a shell reports a
//! killed process (nothing acknowledged is lost either way: an answer is
//! only sent after its fsync). Apache ZooKeeper 3.8 installs no handler:
//! the JVM exits 143 at once on SIGTERM.

use std::time::Duration;

use clap::Args;
use thiserror::Error;
use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::config::Config;
use crate::server::ServerOptions;

/// Flags of `serve` (none yet beyond the global `--config`/`--log-level`).
#[derive(Debug, Args)]
pub struct ServeArgs {}

/// Why serving stopped.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The configuration cannot be served as given (names the key).
    #[error(transparent)]
    Options(#[from] crate::server::OptionsError),
    /// The data directory could not be created.
    #[error("dataDir: cannot create {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The tokio runtime (or its signal handlers) could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// Recovery or binding failed.
    #[error(transparent)]
    Start(#[from] crate::server::StartError),
}

/// How long the runtime may take to wind down its tasks after the server
/// stopped (blocking tasks such as a purge are not waited for longer).
const RUNTIME_SHUTDOWN: Duration = Duration::from_millis(500);

/// Run the server until it stops.
pub fn serve(config: Config) -> Result<(), ServeError> {
    let opts = ServerOptions::from_config(&config)?;
    std::fs::create_dir_all(&opts.data_dir).map_err(|source| ServeError::DataDir {
        path: opts.data_dir.display().to_string(),
        source,
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let result = runtime.block_on(serve_until_signalled(opts));
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    result
}

/// SIGTERM and SIGINT, whichever comes first.
struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The next signal: its name and number.
    async fn next(&mut self) -> (&'static str, i32) {
        tokio::select! {
            _ = self.term.recv() => ("SIGTERM", libc::SIGTERM),
            _ = self.int.recv() => ("SIGINT", libc::SIGINT),
        }
    }
}

async fn serve_until_signalled(opts: ServerOptions) -> Result<(), ServeError> {
    // Installed before the server starts: a signal during recovery stops
    // it as soon as it serves, instead of killing it half-way.
    let mut signals = Signals::install().map_err(ServeError::Runtime)?;
    let handle = crate::server::start(opts).await?;
    tracing::info!("ferrozk serving clients on {}", handle.addr);
    let stopper = handle.stopper();
    tokio::spawn(async move {
        let (name, _) = signals.next().await;
        tracing::info!("received {name}: shutting down (a second signal exits at once)");
        stopper.stop();
        let (name, number) = signals.next().await;
        tracing::warn!("received {name} during shutdown: exiting now");
        // An operator's explicit request; acknowledged writes are on disk.
        std::process::exit(128 + number);
    });
    handle.wait().await?;
    tracing::info!("ferrozk stopped");
    Ok(())
}
