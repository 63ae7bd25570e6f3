//! The metrics provider ZooKeeper's `metricsProvider.className` selects,
//! and the Prometheus `/metrics` endpoint (axum, on the server's tokio
//! runtime) when it is `PrometheusMetricsProvider`.
//!
//! A scrape asks the driver for the gauges (the core is the driver's, so
//! the driver samples them between two inputs, as ZooKeeper samples its
//! gauge callbacks before serving `/metrics`), reads the counters from the
//! registry and renders everything with `metrics-exporter-prometheus`.
//! The endpoint stops with the server: when the driver is gone.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::{mpsc, oneshot};

use super::names::Counter;
use super::registry::ServerMetrics;
use crate::server::mailbox::CoreMsg;

/// ZooKeeper's default provider (mntr and the admin `monitor` only).
pub const DEFAULT_PROVIDER: &str = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";
/// ZooKeeper's Prometheus provider: `/metrics` on httpHost:httpPort.
pub const PROMETHEUS_PROVIDER: &str =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

/// The `metricsProvider.*` settings, as given (parsed when the provider
/// starts, where ZooKeeper's `configure` parses them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderOptions {
    /// `metricsProvider.className` (`None`: the default provider).
    pub class_name: Option<String>,
    /// `metricsProvider.httpHost` (default 0.0.0.0).
    pub http_host: String,
    /// `metricsProvider.httpPort` (default 7000).
    pub http_port: String,
    /// `metricsProvider.exportJvmInfo` (default true): ferrozk exports
    /// the process metrics ZooKeeper's JVM exports do (`process_*`) either
    /// way; there is no JVM to describe.
    pub export_jvm_info: String,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        ProviderOptions {
            class_name: None,
            http_host: "0.0.0.0".into(),
            http_port: "7000".into(),
            export_jvm_info: "true".into(),
        }
    }
}

impl ProviderOptions {
    /// From the configuration's `metricsProvider.*` keys (prefix removed).
    pub fn from_keys(keys: &BTreeMap<String, String>) -> ProviderOptions {
        let d = ProviderOptions::default();
        let get = |k: &str, default: String| keys.get(k).cloned().unwrap_or(default);
        ProviderOptions {
            class_name: keys.get("className").cloned(),
            http_host: get("httpHost", d.http_host),
            http_port: get("httpPort", d.http_port),
            export_jvm_info: get("exportJvmInfo", d.export_jvm_info),
        }
    }

    /// Whether the Prometheus provider is configured.
    pub fn prometheus(&self) -> bool {
        self.class_name.as_deref() == Some(PROMETHEUS_PROVIDER)
    }
}

/// Why the metrics provider could not start (ZooKeeper: "Cannot boot
/// MetricsProvider", and the server exits).
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// A className ferrozk does not provide.
    #[error("metricsProvider.className: Cannot boot MetricsProvider {0} (ferrozk provides {DEFAULT_PROVIDER} and {PROMETHEUS_PROVIDER})")]
    UnknownProvider(String),
    /// httpPort is not a port number.
    #[error("metricsProvider.httpPort: Cannot boot MetricsProvider {PROMETHEUS_PROVIDER}: {0:?} is not a port number")]
    BadPort(String),
    /// The endpoint could not be bound.
    #[error("metricsProvider.httpPort: Cannot boot MetricsProvider {PROMETHEUS_PROVIDER}: cannot listen on {addr}: {source}")]
    Bind {
        /// host:port.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// A running `/metrics` endpoint.
#[derive(Debug)]
pub struct MetricsHttp {
    /// The bound address.
    pub addr: SocketAddr,
    /// The server task (ends when the driver is gone).
    pub task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Ctx {
    metrics: Arc<ServerMetrics>,
    core: mpsc::Sender<CoreMsg>,
}

/// Starts the configured provider: nothing for the default one, the
/// endpoint for Prometheus; an unknown className is refused.
pub async fn start(
    opts: &crate::server::ServerOptions,
    metrics: Arc<ServerMetrics>,
    core: mpsc::Sender<CoreMsg>,
) -> Result<Option<MetricsHttp>, MetricsError> {
    let p = &opts.metrics_provider;
    match p.class_name.as_deref() {
        None | Some(DEFAULT_PROVIDER) => return Ok(None),
        Some(PROMETHEUS_PROVIDER) => {}
        Some(other) => return Err(MetricsError::UnknownProvider(other.to_owned())),
    }
    let port: u16 = p
        .http_port
        .trim()
        .parse()
        .map_err(|_| MetricsError::BadPort(p.http_port.clone()))?;
    let addr = format!("{}:{port}", p.http_host);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| MetricsError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| MetricsError::Bind {
        addr: addr.clone(),
        source,
    })?;
    tracing::info!("Starting /metrics HTTP endpoint at {bound}");
    let stopped = core.clone();
    let app = axum::Router::new()
        .route("/metrics", get(scrape))
        .with_state(Ctx { metrics, core });
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stopped.closed().await });
        if let Err(e) = serve.await {
            tracing::warn!("/metrics endpoint failed: {e}");
        }
    });
    Ok(Some(MetricsHttp { addr: bound, task }))
}

/// `GET /metrics`.
async fn scrape(State(ctx): State<Ctx>) -> impl IntoResponse {
    let (tx, rx) = oneshot::channel();
    let gauges = match ctx.core.send(CoreMsg::Gauges { reply: tx }).await {
        Ok(()) => rx.await.unwrap_or_default(),
        Err(_) => return (StatusCode::SERVICE_UNAVAILABLE, "server stopped\n").into_response(),
    };
    let Some(sink) = ctx.metrics.prometheus() else {
        return (StatusCode::NOT_FOUND, "no Prometheus provider\n").into_response();
    };
    let counters: Vec<(Counter, u64)> = Counter::ALL
        .iter()
        .map(|&c| (c, ctx.metrics.counter(c)))
        .collect();
    let text = sink.render(&counters, &gauges);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
