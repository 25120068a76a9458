//! The daemon's HTTP server: `/metrics`, `/healthz`, `/readyz`, `POST /ingest`, `POST /surge`
//! and the case API.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use yuqing_core::telemetry;
use yuqing_store::Store;

use crate::intake::Intake;

/// Largest accepted `/ingest` body.
pub const MAX_INGEST_BYTES: usize = 32 << 20;

/// What the handlers share.
#[derive(Clone)]
pub struct HttpState {
    /// The store (readiness).
    pub store: Store,
    /// Where pushed items go (absent when this process runs no collection).
    pub intake: Option<Intake>,
    /// Accepted ingest tokens.
    pub ingest_tokens: Arc<Vec<String>>,
    /// Source id for pushed items without one.
    pub ingest_source: String,
    /// Set once every stage is running.
    pub ready: Arc<AtomicBool>,
    /// Switches the collectors' surge mode.
    pub surge: Option<yuqing_collect::SurgeHandle>,
}

impl std::fmt::Debug for HttpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpState").finish_non_exhaustive()
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Constant-time comparison of a presented token with the accepted ones.
fn token_ok(tokens: &[String], presented: Option<&str>) -> bool {
    let Some(p) = presented else { return false };
    tokens.iter().fold(false, |ok, t| {
        let same = t.len() == p.len()
            && t.bytes()
                .zip(p.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        ok | same
    })
}

async fn metrics() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        telemetry::render(),
    )
}

async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(s): State<HttpState>) -> Response {
    if !s.ready.load(Ordering::Relaxed) {
        return error(StatusCode::SERVICE_UNAVAILABLE, "starting");
    }
    match s.store.ping().await {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store unavailable: {e}"),
        ),
    }
}

async fn ingest(State(s): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(intake) = &s.intake else {
        return error(
            StatusCode::NOT_FOUND,
            "this process runs no collection; push to the collect stage",
        );
    };
    if s.ingest_tokens.is_empty() {
        return error(
            StatusCode::NOT_FOUND,
            "push ingestion is disabled (set api.ingest_tokens)",
        );
    }
    if !token_ok(&s.ingest_tokens, bearer(&headers)) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let outcome = match yuqing_collect::parse_ingest(&body, ct, &s.ingest_source) {
        Ok(o) => o,
        Err(e) => {
            telemetry::ERRORS
                .with_label_values(&["ingest", "malformed"])
                .inc();
            return error(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let rejected: Vec<_> = outcome
        .rejected
        .iter()
        .map(|(i, e)| json!({"record": i, "error": e}))
        .collect();
    if !rejected.is_empty() {
        telemetry::DISCARDED
            .with_label_values(&["ingest", "invalid_record"])
            .inc_by(rejected.len() as u64);
        warn!(rejected = rejected.len(), "Rejected pushed records.");
    }
    if outcome.items.is_empty() && !rejected.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"accepted": 0, "duplicates": 0, "rejected": rejected})),
        )
            .into_response();
    }
    match intake.accept(outcome.items).await {
        Ok(a) => Json(json!({"accepted": a.new, "duplicates": a.duplicates, "rejected": rejected}))
            .into_response(),
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not accepted, retry later: {e}"),
        ),
    }
}

#[derive(serde::Deserialize)]
struct SurgeBody {
    on: bool,
}

async fn surge(State(s): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    if !token_ok(&s.ingest_tokens, bearer(&headers)) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let Some(h) = &s.surge else {
        return error(StatusCode::NOT_FOUND, "this process runs no collectors");
    };
    match serde_json::from_slice::<SurgeBody>(&body) {
        Ok(b) => {
            h.set(b.on);
            info!(on = b.on, "Surge monitoring switched.");
            Json(json!({"surge": b.on})).into_response()
        }
        Err(e) => error(
            StatusCode::BAD_REQUEST,
            format!("expected {{\"on\": true|false}}: {e}"),
        ),
    }
}

/// The router: base endpoints plus `extra` (the case API, the console).
pub fn router(state: HttpState, extra: Router) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/ingest", post(ingest))
        .route("/surge", post(surge))
        .layer(DefaultBodyLimit::max(MAX_INGEST_BYTES))
        .with_state(state)
        .merge(extra)
}

/// Binds and serves until `token` fires. Returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    app: Router,
    token: CancellationToken,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("binding {addr}: {e}"))?;
    let local = listener.local_addr()?;
    let h = tokio::spawn(async move {
        let r = axum::serve(listener, app)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await;
        if let Err(e) = r {
            warn!(error = %e, "HTTP server stopped.");
        }
    });
    Ok((local, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        let t = vec!["0123456789abcdef".to_string()];
        assert!(token_ok(&t, Some("0123456789abcdef")));
        assert!(!token_ok(&t, Some("0123456789abcdeF")));
        assert!(!token_ok(&t, Some("0123")));
        assert!(!token_ok(&t, None));
    }
}
