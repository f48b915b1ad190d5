//! The application state, passed explicitly to every handler and resolver.

use std::sync::Arc;

use raccordo_policies::Policy;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{auth::TokenVerifier, db::StatementCounter, error::ApiResult};

/// What every request needs: the database, the loaded protocol, the token verifier.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub policy: Arc<Policy>,
    pub verifier: Arc<TokenVerifier>,
    pub statements: StatementCounter,
    /// SQLite has one writer at a time; writers queue here instead of failing with "busy" when a
    /// read transaction cannot be upgraded. `None` on PostgreSQL, where row locks and conditional
    /// updates do the job across instances.
    sqlite_writer: Option<Arc<Mutex<()>>>,
}

/// A write transaction, holding SQLite's writer slot while it lives.
pub struct WriteTxn {
    pub txn: DatabaseTransaction,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl WriteTxn {
    /// Commits the transaction and releases the writer slot.
    pub async fn commit(self) -> ApiResult<()> {
        self.txn.commit().await?;
        Ok(())
    }
}

impl AppState {
    /// Assembles the state.
    pub fn new(
        db: DatabaseConnection,
        policy: Policy,
        verifier: TokenVerifier,
        statements: StatementCounter,
    ) -> Self {
        let sqlite_writer =
            (db.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        AppState {
            db,
            policy: Arc::new(policy),
            verifier: Arc::new(verifier),
            statements,
            sqlite_writer,
        }
    }

    /// Begins a write transaction. One transaction per mutation: a failed mutation writes nothing.
    pub async fn write(&self) -> ApiResult<WriteTxn> {
        let writer = match &self.sqlite_writer {
            Some(m) => Some(m.clone().lock_owned().await),
            None => None,
        };
        let txn = self.db.begin().await?;
        Ok(WriteTxn {
            txn,
            _writer: writer,
        })
    }
}
