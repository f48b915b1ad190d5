//! The migrations go up, down and up again on a fresh SQLite file and, when
//! `TEST_DATABASE_URL` is set, on a fresh PostgreSQL database.

mod common;

use common::{on_fresh_postgres, on_fresh_sqlite, TABLES};
use raccordo_migrations::Migrator;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseConnection;

/// Indexes whose presence matters to the api (spot check; every index
/// is created by the same helper).
const INDEXES: [(&str, &str); 5] = [
    ("access_log", "uq_access_log_prev_hash"),
    ("cases", "uq_cases_owner_id_code"),
    ("project_indicators", "uq_project_indicators_project_id_key"),
    ("case_phase_changes", "idx_case_phase_changes_case_id_at"),
    ("referrals", "idx_referrals_received_on"),
];

async fn assert_schema(db: &DatabaseConnection, present: bool) {
    let manager = SchemaManager::new(db);
    for table in TABLES {
        let has = manager.has_table(table).await.expect("has_table");
        assert_eq!(has, present, "table {table} present: {has}");
    }
    if present {
        for (table, index) in INDEXES {
            let has = manager.has_index(table, index).await.expect("has_index");
            assert!(has, "index {index} on {table} missing");
        }
    }
}

async fn up_down_up(db: DatabaseConnection) {
    Migrator::up(&db, None).await.expect("first up");
    assert_schema(&db, true).await;
    assert!(Migrator::get_pending_migrations(&db)
        .await
        .expect("pending")
        .is_empty());

    // A second `up` is a no-op.
    Migrator::up(&db, None).await.expect("idempotent up");

    Migrator::down(&db, None).await.expect("down");
    assert_schema(&db, false).await;
    assert_eq!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("pending")
            .len(),
        raccordo_migrations::Migrator::migrations().len()
    );

    Migrator::up(&db, None).await.expect("second up");
    assert_schema(&db, true).await;
    db.close().await.expect("close");
}

#[tokio::test]
async fn sqlite_up_down_up() {
    on_fresh_sqlite(up_down_up).await;
}

#[tokio::test]
async fn postgres_up_down_up() {
    on_fresh_postgres(up_down_up).await;
}
