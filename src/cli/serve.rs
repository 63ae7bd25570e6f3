//! `ferrozk serve` (the default action): run the server with a loaded
//! configuration until the process is stopped.

use clap::Args;
use thiserror::Error;

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
    /// The tokio runtime could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// Recovery or binding failed.
    #[error(transparent)]
    Start(#[from] crate::server::StartError),
}

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
    Ok(runtime.block_on(crate::server::run(opts))?)
}
