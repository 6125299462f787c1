//! Prometheus metrics, served on their own listener (`--metrics-listen`).
//!
//! Code anywhere records through the [`metrics`] facade (`counter!`,
//! `histogram!`); a no-op unless [`install`] put the Prometheus recorder in
//! place, so processes without `--metrics-listen` pay nothing.
//!
//! The endpoint is not on the API listener: it is unauthenticated (scrapers
//! rarely carry tokens) and says how busy the service is, which is the
//! operator's business, not the customers'. Labels never hold ids, tokens,
//! URLs or anything a customer chose: routes are the templates
//! (`/v3/media/{id}`), methods and statuses come from fixed sets.
//!
//! What is recorded here: HTTP requests. The pipeline records its own
//! (named in `sealscribe_ingress::metrics`); the job gauges are read from the
//! database at each scrape, so they show the whole queue whichever node
//! is scraped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use sealscribe_store::Db;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub const HTTP_REQUESTS: &str = "sealscribe_http_requests_total";
pub const HTTP_DURATION: &str = "sealscribe_http_request_duration_seconds";
pub const JOBS: &str = "sealscribe_jobs";
pub const DATABASE_UP: &str = "sealscribe_database_up";

/// Installs the process-wide Prometheus recorder. Call once, before serving.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(HTTP_DURATION.into()),
            &[
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Full(sealscribe_ingress::metrics::STAGE_DURATION.into()),
            &[
                0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
                3600.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Full(sealscribe_ingress::metrics::REAL_TIME_FACTOR.into()),
            &[
                0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0,
            ],
        )?
        .install_recorder()?;
    describe();
    sealscribe_ingress::metrics::describe();
    Ok(handle)
}

fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status."
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to the response head (streamed bodies continue after it), by method, route template and status."
    );
    metrics::describe_gauge!(
        JOBS,
        "Jobs in the queue by kind (process, callback) and state (queued: due now; scheduled: \
         waiting for a retry or delivery round; running), read from the database at scrape time."
    );
    metrics::describe_gauge!(
        DATABASE_UP,
        "1 if the database answered the last scrape's queue query, else 0 (the job gauges are then stale)."
    );
}

/// Route layer (inner): tells [`track`] which route template matched.
pub async fn tag_route(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

/// Outer middleware: counts and times every request, matched or not.
pub async fn track(req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let start = Instant::now();
    let response = next.run(req).await;
    let elapsed = start.elapsed();
    let route = response
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16().to_string();
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", status),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
    response
}

/// Methods from a fixed set, so a client cannot mint label values.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[derive(Clone)]
struct Exporter {
    handle: PrometheusHandle,
    db: Arc<dyn Db>,
}

const KINDS: [&str; 2] = ["process", "callback"];
const STATES: [&str; 3] = ["queued", "scheduled", "running"];

/// `GET /metrics`: refreshes the job gauges from the database, then renders.
async fn scrape(State(exporter): State<Exporter>) -> Response {
    match exporter.db.job_counts(chrono::Utc::now()).await {
        Ok(counts) => {
            metrics::gauge!(DATABASE_UP).set(1.0);
            // Every pair is set, so a state that emptied reads 0, not its last value.
            for kind in KINDS {
                for state in STATES {
                    let n = counts
                        .iter()
                        .find(|c| c.kind == kind && c.state == state)
                        .map_or(0, |c| c.count);
                    metrics::gauge!(JOBS, "kind" => kind, "state" => state).set(n as f64);
                }
            }
        }
        Err(e) => {
            tracing::warn!("metrics: cannot count jobs: {e}");
            metrics::gauge!(DATABASE_UP).set(0.0);
        }
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        exporter.handle.render(),
    )
        .into_response()
}

/// Serves `GET /metrics` on `listener` until `shutdown`, and keeps the
/// recorder's histograms compact meanwhile.
pub async fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    db: Arc<dyn Db>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let upkeep = {
        let (handle, shutdown) = (handle.clone(), shutdown.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! {
                    _ = tick.tick() => handle.run_upkeep(),
                    _ = shutdown.cancelled() => break,
                }
            }
        })
    };
    let app = Router::new()
        .route("/metrics", get(scrape))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Only GET /metrics is served here.\n") })
        .with_state(Exporter { handle, db });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    upkeep.abort();
    served
}
