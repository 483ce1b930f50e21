//! Starting and stopping the service.

use anyhow::Context as _;

use crate::config::{GlobalOptions, ServeOptions};
use crate::domain::Services;
use crate::domain::dataset::Dataset;
use crate::http::{AppState, app, shutdown};
use crate::store::{self, Store, StoreOptions};

/// Opens the configured store.
pub async fn open_store(global: &GlobalOptions) -> anyhow::Result<Store> {
    let mut options = StoreOptions::new(&global.database_url);
    options.max_connections = global.db_max_connections;
    let store = Store::connect(&options)
        .await
        .with_context(|| format!("cannot open the database at {}", store::redact(&global.database_url)))?;
    tracing::info!(backend = store.backend().name(), url = %store::redact(&global.database_url), "database opened");
    Ok(store)
}

/// Loads the demo dataset if the database holds no regions yet. Returns whether it loaded.
pub async fn load_demo_data_if_empty(store: &Store) -> anyhow::Result<bool> {
    if !store::dataset::is_empty(store).await? {
        return Ok(false);
    }
    let dataset = Dataset::demo().context("the built-in demo dataset is invalid")?;
    store::dataset::load(store, &dataset).await.context("cannot load the demo dataset")?;
    tracing::info!(
        reports = dataset.reports.len(),
        regions = dataset.regions.len(),
        alliances = dataset.alliances.len(),
        organizations = dataset.organizations.len(),
        "demo dataset loaded"
    );
    Ok(true)
}

/// Runs `serve` until a shutdown signal, then drains in-flight requests within the grace period.
pub async fn serve(global: &GlobalOptions, options: &ServeOptions) -> anyhow::Result<()> {
    let store = open_store(global).await?;
    if options.auto_migrate {
        store.migrate().await.context("cannot apply migrations")?;
    }
    if options.demo_data {
        load_demo_data_if_empty(&store).await?;
    }
    let settings = options.security.http_settings()?;
    if settings.auth.secret.is_none() && settings.auth.public_key_pem.is_none() && settings.auth.jwks_json.is_none() {
        tracing::warn!(
            "no token keys configured (FULIAN_JWT_SECRET, _PUBLIC_KEY_FILE or _JWKS_FILE): every write will be refused"
        );
    }
    let services = Services::new(store.clone());
    // Subscribers here also hear of reports submitted on other replicas (PostgreSQL).
    services.listen_for_events().await;
    let router = app(AppState::with_settings(services, settings)?);
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    tracing::info!(address = %listener.local_addr()?, "serving GraphQL at /graphql, GraphiQL at /graphiql");

    run(listener, router, shutdown::signal(), options.shutdown_grace()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `router` on `listener` until `stop` resolves, then lets in-flight requests finish,
/// waiting at most `grace` for them.
pub async fn run(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    grace: std::time::Duration,
) -> anyhow::Result<()> {
    let stopping = std::sync::Arc::new(tokio::sync::Notify::new());
    let notify = stopping.clone();
    let server = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            stop.await;
            notify.notify_one();
        });
    tokio::select! {
        result = server => result.context("the HTTP server failed")?,
        () = async { stopping.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_seconds = grace.as_secs(), "in-flight requests did not finish in time; exiting anyway");
        }
    }
    Ok(())
}
