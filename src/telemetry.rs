//! Logging and tracing: a subscriber writing text or JSON lines to standard error and, when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, exporting spans over OTLP (HTTP/protobuf) to a
//! collector: one span per HTTP request (`http`), per GraphQL operation (`graphql`) and per
//! SQL statement (`sql`), nested as they ran.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::LogFormat;

/// Flushes exported spans when dropped (at the end of `main`).
pub struct Telemetry(Option<SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("flushing traces failed: {error}");
        }
    }
}

/// Whether spans are exported: per-statement SQL spans are only made then (they format the
/// statement, which no log line needs).
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether an OpenTelemetry layer is installed.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// The layer that turns `tracing` spans into OpenTelemetry spans of `provider`.
pub fn otel_layer<S>(provider: &SdkTracerProvider) -> impl Layer<S> + use<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    EXPORTING.store(true, Ordering::Relaxed);
    tracing_opentelemetry::layer().with_tracer(provider.tracer("fulian-graph"))
}

/// A tracer provider exporting to the OTLP endpoint of the environment
/// (`OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://otel-collector:4318`), named by
/// `OTEL_SERVICE_NAME` (default `fulian-graph`); `None` when no endpoint is set.
fn otlp_provider() -> anyhow::Result<Option<SdkTracerProvider>> {
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_none_or(|v| v.is_empty()) {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot set up the OTLP exporter: {e}"))?;
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "fulian-graph".to_owned());
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(name).build())
            .build(),
    ))
}

/// Installs the global subscriber. `filter` uses `tracing` filter syntax.
pub fn init(filter: &str, format: LogFormat) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_new(filter).map_err(|e| anyhow::anyhow!("invalid log filter {filter:?}: {e}"))?;
    let provider = otlp_provider()?;
    // Spans of this service and its HTTP layer at INFO and above (not every library's TRACE).
    let otel =
        provider.as_ref().map(|p| otel_layer::<Registry>(p).with_filter(tracing_subscriber::filter::LevelFilter::INFO));
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(std::io::stderr).boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    tracing_subscriber::registry().with(otel).with(logs.with_filter(filter)).try_init()?;
    if provider.is_some() {
        tracing::info!("exporting traces over OTLP");
    }
    Ok(Telemetry(provider))
}
