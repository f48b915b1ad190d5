//! Starting the hub: settings, database, migrations, the policy document, the listener.

use std::{net::SocketAddr, path::Path};

use raccordo_policies::Policy;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::{
    auth::TokenVerifier,
    config::Settings,
    db::{self, StatementCounter},
    error::{ApiError, ApiResult},
    graphql,
    http::{self, Hub},
    limits::Limits,
    state::AppState,
};

/// Loads the policy document (the configured file or the shipped default) and checks that it
/// classifies every field of the schema the hub serves; the hub does not start otherwise.
pub fn load_policy(path: Option<&Path>) -> ApiResult<Policy> {
    let (policy, name) = match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                ApiError::Setup(format!(
                    "cannot read the policy document {}: {e}",
                    p.display()
                ))
            })?;
            (Policy::from_toml(&text), p.display().to_string())
        }
        None => (
            Policy::default_protocol(),
            "the default protocol".to_string(),
        ),
    };
    let policy = policy.map_err(|e| ApiError::Setup(format!("{name}: {e}")))?;
    let problems = policy.check_schema_fields(&graphql::schema_fields());
    if !problems.is_empty() {
        return Err(ApiError::Setup(format!(
            "{name} does not match the hub's schema:\n  {}",
            problems.join("\n  ")
        )));
    }
    Ok(policy)
}

/// Connects, migrates and assembles the state for `settings`.
pub async fn prepare(settings: &Settings) -> ApiResult<AppState> {
    let policy = load_policy(settings.policy.as_deref())?;
    let verifier = TokenVerifier::from_settings(&settings.tokens)
        .map_err(|e| ApiError::Setup(e.to_string()))?;
    let statements = StatementCounter::default();
    let db = db::connect(&settings.database_url, &statements)
        .await
        .map_err(|e| ApiError::Setup(format!("cannot open the database: {e}")))?;
    db::migrate(&db)
        .await
        .map_err(|e| ApiError::Setup(format!("migrations failed: {e}")))?;
    Ok(AppState::new(db, policy, verifier, statements))
}

/// A hub serving in the background.
pub struct RunningHub {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its state (tests read the statement counter and the database from it).
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    key_watcher: Option<JoinHandle<()>>,
}

impl RunningHub {
    /// The GraphQL endpoint's URL.
    pub fn graphql_url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    /// Stops accepting connections, lets requests in flight finish, and waits.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        if let Some(watcher) = self.key_watcher.take() {
            watcher.abort();
        }
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
    pub async fn run_until_signal(self) {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        self.stop().await;
    }
}

/// How often the public-key file is looked at for a rotation.
const KEY_FILE_POLL: std::time::Duration = std::time::Duration::from_secs(10);

/// Binds `bind` and serves the hub in the background, within `limits`.
pub async fn start(state: AppState, bind: &str, limits: &Limits) -> ApiResult<RunningHub> {
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|e| ApiError::Setup(format!("cannot listen on {bind}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ApiError::Setup(e.to_string()))?;
    let schema = graphql::build_schema(state.clone(), limits);
    let introspection_schema = graphql::build_schema(
        state.clone(),
        &Limits {
            depth: limits.depth.max(crate::limits::INTROSPECTION_DEPTH),
            ..*limits
        },
    );
    let views = std::sync::Arc::new(graphql::view::Views::new(&state.policy, &graphql::sdl()));
    let app = http::router(Hub {
        state: state.clone(),
        schema,
        introspection_schema,
        limits: *limits,
        views,
        throttle: std::sync::Arc::new(crate::throttle::Throttle::new(limits)),
    });
    // A rotated --jwt-public-key file is picked up without a restart.
    let key_watcher = crate::auth::spawn_key_watcher(&state.verifier, KEY_FILE_POLL);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningHub {
        addr,
        state,
        shutdown: Some(tx),
        task,
        key_watcher,
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
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
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
