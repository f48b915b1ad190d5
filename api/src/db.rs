//! Connecting to the database and applying migrations.
//!
//! SQLite runs in WAL mode with a busy timeout so that concurrent writers wait for each other
//! instead of failing with "database is locked"; foreign keys are enforced on every connection.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use raccordo_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    TransactionTrait,
};

/// Counts the SQL statements the hub sends, for tests and diagnostics.
#[derive(Debug, Default, Clone)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Statements sent since start.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens a pool on `url` (`sqlite://…` or `postgres://…`) and counts statements into `counter`.
pub async fn connect(url: &str, counter: &StatementCounter) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                // 32 MiB of page cache per connection instead of SQLite's 2 MiB default: the
                // statistics scan whole tables and the access log grows with every read.
                .pragma("cache_size", "-32768")
        });
    if url.starts_with("sqlite:") {
        // One writer at a time is SQLite's nature; a small pool keeps readers concurrent. All
        // eight are opened at start-up, not during a burst of requests, so that no connection
        // runs its set-up pragmas (journal mode among them) while writers hold the lock.
        options.max_connections(8).min_connections(8);
    } else {
        options.max_connections(20).min_connections(1);
    }
    let mut db = Database::connect(options).await?;
    let count = counter.0.clone();
    db.set_metric_callback(move |_| {
        count.fetch_add(1, Ordering::Relaxed);
    });
    Ok(db)
}

/// Applies pending migrations. On PostgreSQL an advisory lock makes concurrent hub instances
/// apply them once: the second instance waits, then finds nothing pending.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        // A transaction-scoped lock: released on commit whichever pooled connection ran it.
        let txn = db.begin().await?;
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(727274001)")
            .await?;
        Migrator::up(&txn, None).await?;
        return txn.commit().await;
    }
    Migrator::up(db, None).await
}

/// Whether the database answers (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
