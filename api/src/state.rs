//! The application state, passed explicitly to every handler and resolver.

use std::sync::Arc;

use raccordo_policies::Policy;
use sea_orm::DatabaseConnection;

pub use crate::writer::WriteTxn;
use crate::{auth::TokenVerifier, db::StatementCounter, error::ApiResult, writer::Writer};

/// What every request needs: the database, the loaded protocol, the token verifier.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: DatabaseConnection,
    /// The loaded protocol document.
    pub policy: Arc<Policy>,
    /// The token verifier.
    pub verifier: Arc<TokenVerifier>,
    /// Statements sent to the database, for tests and load runs.
    pub statements: StatementCounter,
    /// Hands out write transactions (one at a time on SQLite).
    writer: Writer,
}

impl AppState {
    /// Assembles the state.
    pub fn new(
        db: DatabaseConnection,
        policy: Policy,
        verifier: TokenVerifier,
        statements: StatementCounter,
    ) -> Self {
        let writer = Writer::new(db.clone());
        AppState {
            db,
            policy: Arc::new(policy),
            verifier: Arc::new(verifier),
            statements,
            writer,
        }
    }

    /// Begins a write transaction. One transaction per mutation: a failed mutation writes nothing.
    pub async fn write(&self) -> ApiResult<WriteTxn> {
        self.writer.begin().await
    }
}
