//! Logs to stderr (text or JSON) and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, traces
//! exported over OTLP/gRPC. The OTLP exporter reads the standard `OTEL_*` variables itself.

use crate::cli::LogFormat;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Flushes exported traces when dropped.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            if let Err(e) = p.shutdown() {
                eprintln!("signet: flushing traces: {e}");
            }
        }
    }
}

/// Install the subscriber. CLI commands log warnings only unless `RUST_LOG` says otherwise.
pub fn init(format: LogFormat, server: bool) -> anyhow::Result<Telemetry> {
    let default = if server {
        "info,openraft=warn,sled=warn"
    } else {
        "warn"
    };
    let exporting = server && std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some();
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    if exporting {
        // The spans of a trace across gateway and store are DEBUG (free when off).
        filter = filter.add_directive(signet_store::trace::SPANS_DIRECTIVE.parse()?);
    }
    let fmt = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let provider = if exporting {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()?;
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name("signet")
            .build();
        Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource)
                .build(),
        )
    } else {
        None
    };
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("signet")));
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()?;
    Ok(Telemetry { provider })
}
