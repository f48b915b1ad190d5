//! Write transactions, one at a time on SQLite.
//!
//! SQLite has a single writer. A transaction that has already read and then wants to write does
//! not wait for the busy timeout when another connection holds the write lock: SQLite answers
//! "database is locked" at once, to avoid a deadlock. So writers queue on an in-process slot,
//! and a transaction gives the slot back only when it has really ended (committed or rolled
//! back), never while its rollback is still on its way to the database.

use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::ApiResult;

/// Hands out write transactions; on SQLite one at a time.
#[derive(Clone)]
pub struct Writer {
    db: DatabaseConnection,
    /// `None` on PostgreSQL, where row locks and conditional updates do the job across instances.
    slot: Option<Arc<Mutex<()>>>,
}

/// A write transaction, holding SQLite's writer slot while it lives.
///
/// Dropped without a commit (an error, a cancelled request), it rolls back in a task of its own
/// that keeps the slot until the rollback is done.
pub struct WriteTxn {
    /// `Some` until committed, rolled back or dropped.
    txn: Option<DatabaseTransaction>,
    slot: Option<OwnedMutexGuard<()>>,
}

impl WriteTxn {
    /// The transaction to run statements in.
    pub fn txn(&self) -> &DatabaseTransaction {
        // Only `commit`, `rollback` and `drop` take the transaction, and each consumes `self`.
        self.txn
            .as_ref()
            .expect("a live WriteTxn holds its transaction")
    }

    /// Commits the transaction and releases the writer slot.
    pub async fn commit(mut self) -> ApiResult<()> {
        if let Some(txn) = self.txn.take() {
            txn.commit().await?;
        }
        Ok(())
    }

    /// Rolls the transaction back and releases the writer slot.
    pub async fn rollback(mut self) -> ApiResult<()> {
        if let Some(txn) = self.txn.take() {
            txn.rollback().await?;
        }
        Ok(())
    }
}

impl Drop for WriteTxn {
    fn drop(&mut self) {
        let Some(txn) = self.txn.take() else { return };
        let slot = self.slot.take();
        // Without a runtime (process exit) the driver's own rollback-on-drop is all there is.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = txn.rollback().await {
                    tracing::warn!(error = %e, "rolling back an abandoned write transaction");
                }
                drop(slot);
            });
        }
    }
}

impl Writer {
    /// A writer for `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        let slot =
            (db.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Writer { db, slot }
    }

    /// Begins a write transaction. One transaction per mutation: a failed mutation writes nothing.
    pub async fn begin(&self) -> ApiResult<WriteTxn> {
        let slot = match &self.slot {
            Some(m) => Some(m.clone().lock_owned().await),
            None => None,
        };
        let txn = self.db.begin().await?;
        Ok(WriteTxn {
            txn: Some(txn),
            slot,
        })
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::Statement;

    use super::*;
    use crate::db::{connect, StatementCounter};

    /// A writer that fails (its transaction dropped after it took the write lock) must not make
    /// the next writer fail with "database is locked" when that one reads before it writes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_writer_never_makes_the_next_one_fail() {
        let dir = std::env::temp_dir().join(format!("raccordo-writer-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.join("w.db").display());
        let db = connect(&url, &StatementCounter::default())
            .await
            .expect("connect");
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL); INSERT INTO t VALUES (1, 0);")
            .await
            .expect("schema");
        let writer = Writer::new(db);
        let sql = |s: &str| Statement::from_string(DbBackend::Sqlite, s.to_string());
        let mut committed = 0;
        for _ in 0..300 {
            let failed = writer.begin().await.expect("begin");
            failed
                .txn()
                .execute(sql("UPDATE t SET v = v + 100 WHERE id = 1"))
                .await
                .expect("first update");
            drop(failed);
            let next = writer.begin().await.expect("begin");
            next.txn()
                .query_one(sql("SELECT v FROM t WHERE id = 1"))
                .await
                .expect("read");
            next.txn()
                .execute(sql("UPDATE t SET v = v + 1 WHERE id = 1"))
                .await
                .expect("the next writer is not refused");
            next.commit().await.expect("commit");
            committed += 1;
        }
        let row = writer
            .db
            .query_one(sql("SELECT v FROM t WHERE id = 1"))
            .await
            .expect("read")
            .expect("row");
        let v: i64 = row.try_get_by_index(0).expect("v");
        assert_eq!(v, committed, "only committed writes are there");
        let _ = std::fs::remove_dir_all(dir);
    }
}
