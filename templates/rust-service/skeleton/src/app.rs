//! The HTTP application: routes, shared state and middleware.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde::Serialize;
use tower_http::{timeout::TimeoutLayer, trace::TraceLayer};

use crate::metrics::Metrics;

/// State shared by all handlers.
#[derive(Clone)]
pub struct AppState {
    ready: Arc<AtomicBool>,
    metrics: Metrics,
}

impl AppState {
    pub fn new(metrics: Metrics) -> Self {
        Self {
            ready: Arc::new(AtomicBool::new(false)),
            metrics,
        }
    }

    /// Marks the service as able (or no longer able, during shutdown) to take traffic.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Serialize)]
struct Status {
    status: &'static str,
}

#[derive(Debug, Serialize)]
struct Info {
    name: &'static str,
    version: &'static str,
}

/// Builds the router with its middleware: a request timeout, request tracing and metrics.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    Router::new()
        .route("/", get(info))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        // Metrics outside the timeout: a request that times out is counted, with the time it
        // took, so a slow canary shows in its latency instead of vanishing from it.
        .layer(TimeoutLayer::new(request_timeout))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn info() -> Json<Info> {
    Json(Info {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Liveness: the process is up and serving HTTP.
async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: the service has started and is not shutting down.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Status>) {
    if state.is_ready() {
        (StatusCode::OK, Json(Status { status: "ready" }))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Status {
                status: "not ready",
            }),
        )
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    match state.metrics.render() {
        Ok(body) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "could not encode metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn not_found() -> (StatusCode, Json<Status>) {
    (
        StatusCode::NOT_FOUND,
        Json(Status {
            status: "not found",
        }),
    )
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
