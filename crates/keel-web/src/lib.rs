//! Keel's HTTP server: the REST API (with its OpenAPI document), the server-rendered UI, health
//! checks and Prometheus metrics, all from one router.
//!
//! Handlers are thin: they authenticate the caller, check the one permission table, validate input,
//! call the storage layer, and render JSON or HTML. `app(state)` builds the router without a socket
//! so tests can drive it directly; `serve` binds it.

pub mod api;
pub mod auth;
pub mod error;
pub mod json;
pub mod metrics;
pub mod ops;
pub mod outbound;
pub mod pages;
pub mod render;
pub mod work;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use keel_policy::Permissions;
use keel_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Notify;

pub use error::{ApiError, ApiResult, FieldError, Problem};

/// Everything a handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The permission table.
    pub permissions: Arc<Permissions>,
    /// Sign-in rate limiting.
    pub login_limiter: Arc<auth::LoginLimiter>,
    /// Page templates.
    pub pages: Arc<render::Pages>,
    /// Request counters.
    pub metrics: Arc<metrics::Metrics>,
    /// Wakes the job runner after enqueueing.
    pub job_waker: Arc<Notify>,
    /// Whether cookies get the `Secure` flag (behind HTTPS).
    pub secure_cookies: bool,
    /// Privacy links, mail and public-page rate limits.
    pub privacy: Arc<api::privacy::PrivacyConfig>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store.display_url())
            .finish()
    }
}

/// Errors while starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The permission table did not load.
    #[error(transparent)]
    Policy(#[from] keel_policy::PolicyError),
    /// The templates did not load.
    #[error("templates: {0}")]
    Templates(String),
    /// The socket could not be bound or served.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

impl AppState {
    /// State for `store` with the built-in permission table and templates.
    pub fn new(store: Store, job_waker: Arc<Notify>) -> Result<Self, ServeError> {
        Ok(AppState {
            store,
            permissions: Arc::new(Permissions::builtin()?),
            login_limiter: Arc::new(auth::LoginLimiter::default()),
            pages: Arc::new(
                render::Pages::load().map_err(|e| ServeError::Templates(e.to_string()))?,
            ),
            metrics: Arc::new(metrics::Metrics::default()),
            job_waker,
            secure_cookies: false,
            privacy: Arc::new(api::privacy::PrivacyConfig::from_env()),
        })
    }
}

/// The OpenAPI document and the API routes, collected from the handlers themselves.
pub fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    api::router().split_for_parts()
}

/// The complete application router.
pub fn app(state: AppState) -> Router {
    let (api_routes, openapi) = api_router();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api_routes)
        .merge(pages::router())
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json((*doc).clone()) }
            }),
        )
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(auth::csrf_form_field))
        .layer(DefaultBodyLimit::max(json::MAX_JSON_BODY))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::count_requests))
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        ))
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_FRAME_OPTIONS,
            axum::http::HeaderValue::from_static("DENY"),
        ))
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ))
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` resolves.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
