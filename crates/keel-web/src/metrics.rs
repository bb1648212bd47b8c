//! Health checks and Prometheus metrics.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// HTTP method.
    pub method: String,
    /// Status class, e.g. `2xx`.
    pub status: String,
}

/// Labels of the job gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// Job status.
    pub status: String,
}

/// The server's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    jobs: Family<JobLabels, Gauge>,
}

/// Middleware counting every request by method and status class.
pub async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = format!("{}xx", response.status().as_u16() / 100);
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels { method, status })
        .inc();
    response
}

/// Liveness: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, description = "`ok`", body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, description = "`ready`", body = String), (status = 503, description = "database unavailable", body = String)))]
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unavailable: {e}"),
        )
            .into_response(),
    }
}

/// Prometheus metrics (OpenMetrics text): requests by method and status class, jobs by status.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()), responses((status = 200, description = "OpenMetrics text", body = String)))]
async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(counts) = keel_store::jobs::counts(&state.store).await {
        for (status, n) in counts {
            state
                .metrics
                .jobs
                .get_or_create(&JobLabels { status })
                .set(n);
        }
    }
    let mut registry = Registry::with_prefix("keel");
    registry.register(
        "http_requests",
        "HTTP requests served",
        state.metrics.requests.clone(),
    );
    registry.register(
        "jobs",
        "Background jobs by status",
        state.metrics.jobs.clone(),
    );
    let mut body = String::new();
    if prometheus_client::encoding::text::encode(&mut body, &registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `/healthz`, `/readyz` and `/metrics`, described in the OpenAPI document like every endpoint.
pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(healthz))
        .routes(utoipa_axum::routes!(readyz))
        .routes(utoipa_axum::routes!(metrics))
}
