//! Starting and stopping the service.

use anyhow::Context as _;

use crate::config::{GlobalOptions, ServeOptions};
use crate::domain::Services;
use crate::domain::dataset::Dataset;
use crate::http::listener::{self, ConnectionLimits};
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
    let limits = settings.connection_limits();
    let router = app(AppState::with_settings(services, settings)?);
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    tracing::info!(address = %listener.local_addr()?, "serving GraphQL at /graphql, GraphiQL at /graphiql");

    let grace = options.shutdown_grace();
    // Once the signal comes, the process ends within the grace period (and a moment to close
    // the database) whatever is running: a thread outside the runtime sees to it.
    let stop = async move {
        shutdown::signal().await;
        listener::exit_after(grace + std::time::Duration::from_secs(2));
    };
    run(listener, router, limits, stop, grace).await?;
    if tokio::time::timeout(std::time::Duration::from_secs(1), store.close()).await.is_err() {
        tracing::warn!("database connections still busy at exit");
    }
    tracing::info!("stopped");
    Ok(())
}

/// Serves `router` on `listener` within `limits` until `stop` resolves, then lets in-flight
/// requests finish, waiting at most `grace` for them.
pub async fn run(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    grace: std::time::Duration,
) -> anyhow::Result<()> {
    listener::serve(listener, router, limits, stop, grace).await
}
