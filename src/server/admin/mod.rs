//! The AdminServer: ZooKeeper 3.8's embedded HTTP API
//! (`JettyAdminServer`), on axum over the server's tokio runtime.
//!
//! `GET <admin.commandURL>` lists the commands; `GET <url>/<name>` runs
//! one and answers JSON with ZooKeeper's keys, nesting and types. The flow
//! of a request: [`http`] maps the path to a command name and its query
//! parameters → `CoreMsg::Admin` to the driver → [`commands::run`] reads a
//! view of the core (as the four-letter words do) and serializes the
//! answer in ZooKeeper's layout ([`json`]) → the body back over a oneshot.
//! What a command changes (the stat resets) the driver feeds to the core
//! as an input. Connections idle for `admin.idleTimeout` are closed
//! ([`idle`]).
//!
//! Start-up follows ZooKeeper: when the port cannot be bound, a
//! standalone server refuses to start (`ZooKeeperServerMain` exits with
//! `ERROR_STARTING_ADMIN_SERVER`, status 4), while an ensemble member logs
//! a warning and serves without it (`QuorumPeer.start`).

pub mod commands;
mod http;
mod idle;
mod json;
mod process;
mod quorum;
mod server;
mod tree;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::mailbox::CoreMsg;
use crate::config::{Config, ConfigText};

/// The `admin.*` settings, and the configuration text the
/// `initial_configuration` command reports.
#[derive(Debug, Clone)]
pub struct AdminOptions {
    /// `admin.enableServer`.
    pub enabled: bool,
    /// `admin.serverAddress`: the host or address to bind.
    pub address: String,
    /// `admin.serverPort`.
    pub port: u16,
    /// `admin.commandURL`.
    pub command_url: String,
    /// `admin.idleTimeout` in ms; 0 keeps idle connections open.
    pub idle_timeout_ms: u64,
    /// The configuration file as it was read, if any.
    pub config_text: Option<ConfigText>,
}

impl Default for AdminOptions {
    /// Off: servers built in code (tests, tools) bind no HTTP port unless
    /// asked. A configuration file's default is ZooKeeper's (on).
    fn default() -> Self {
        AdminOptions {
            enabled: false,
            address: "0.0.0.0".into(),
            port: 8080,
            command_url: "/commands".into(),
            idle_timeout_ms: 30_000,
            config_text: None,
        }
    }
}

impl AdminOptions {
    /// The settings of a loaded configuration.
    pub fn from_config(c: &Config) -> AdminOptions {
        AdminOptions {
            enabled: c.admin_enable_server,
            address: c.admin_server_address.clone(),
            port: c.admin_server_port,
            command_url: c.admin_command_url.clone(),
            idle_timeout_ms: c.admin_idle_timeout_ms,
            config_text: c.file_text.0.clone(),
        }
    }
}

/// Why the AdminServer did not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// `admin.serverAddress` does not resolve.
    #[error("admin.serverAddress: cannot resolve {address}: {source}")]
    Resolve {
        /// The address as configured.
        address: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The port is taken (or not ours to bind).
    #[error(
        "admin.serverPort: cannot start the AdminServer on {addr} \
         (admin.serverAddress={address}, admin.serverPort={port}): {source}; \
         set admin.serverPort to a free port or admin.enableServer=false"
    )]
    Bind {
        /// What was bound.
        addr: SocketAddr,
        /// `admin.serverAddress`.
        address: String,
        /// `admin.serverPort`.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
}

/// Binds and starts the AdminServer if `admin.enableServer` is set, and
/// returns the address it listens on. `core` is the driver's queue; the
/// AdminServer stops when the driver does (its queue closes).
pub async fn start(
    opts: &AdminOptions,
    core: &mpsc::Sender<CoreMsg>,
) -> Result<Option<SocketAddr>, AdminError> {
    if !opts.enabled {
        return Ok(None);
    }
    let address = opts.address.trim_matches(|c| c == '[' || c == ']');
    let addr = tokio::net::lookup_host((address, opts.port))
        .await
        .map_err(|source| AdminError::Resolve {
            address: opts.address.clone(),
            source,
        })?
        .next()
        .ok_or_else(|| AdminError::Resolve {
            address: opts.address.clone(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
        })?;
    let bind_error = |source| AdminError::Bind {
        addr,
        address: opts.address.clone(),
        port: opts.port,
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let url = opts.command_url.trim_end_matches('/').to_owned();
    let shared = Arc::new(http::Shared {
        url: url.clone(),
        core: core.clone(),
    });
    let driver = core.clone();
    // 0 (or Jetty's negative values, which the key refuses): never idle out.
    let idle = match opts.idle_timeout_ms {
        0 => Duration::from_secs(u64::from(u32::MAX)),
        ms => Duration::from_millis(ms),
    };
    let app = http::router(shared);
    let listener = idle::IdleListener::new(listener, idle);
    tokio::spawn(async move {
        let stopped = async move { driver.closed().await };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::warn!("AdminServer stopped: {e}");
        }
    });
    tracing::info!("Started AdminServer on address {addr} and command URL {url}");
    Ok(Some(addr))
}

/// [`start`] as a server of `ensemble` or standalone does it: a standalone
/// server fails (the caller exits with status 4, as ZooKeeper); an
/// ensemble member logs the problem and goes on without the AdminServer.
pub async fn start_for(
    opts: &AdminOptions,
    core: &mpsc::Sender<CoreMsg>,
    ensemble: bool,
) -> Result<Option<SocketAddr>, AdminError> {
    match start(opts, core).await {
        Err(e) if ensemble => {
            tracing::warn!("Problem starting AdminServer: {e}");
            Ok(None)
        }
        other => other,
    }
}
