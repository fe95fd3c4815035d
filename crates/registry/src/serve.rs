//! Running the HTTP server until Ctrl-C or SIGTERM.

use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::{app, Registry, RegistryError};

/// Opens the registry in `data_dir` and serves its API on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(data_dir: &Path, listener: TcpListener) -> Result<(), RegistryError> {
    let registry = Arc::new(Registry::open(data_dir)?);
    serve_with(registry, listener).await
}

/// Serves an already opened registry; in-flight requests finish before it returns.
pub async fn serve_with(
    registry: Arc<Registry>,
    listener: TcpListener,
) -> Result<(), RegistryError> {
    axum::serve(listener, app(registry))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| RegistryError::io("serving", "", e))
}

/// Resolves at Ctrl-C or SIGTERM: how every `ghidanh` server is asked to stop.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // Without a Ctrl-C handler, wait for SIGTERM alone.
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Serves a relay (mode `relay`) on `listener`, with its forwarder running beside it, until
/// Ctrl-C or SIGTERM.
pub async fn serve_relay(
    relay: Arc<crate::Relay>,
    listener: TcpListener,
    forward: crate::ForwardConfig,
) -> Result<(), RegistryError> {
    let forwarder = tokio::spawn(crate::forward(relay.clone(), forward));
    let result = axum::serve(listener, crate::relay_app(relay))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| RegistryError::io("serving", "", e));
    forwarder.abort();
    result
}
