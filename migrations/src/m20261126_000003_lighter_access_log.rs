//! Every read of protected classes appends to the access log, so its inserts are on the hot path
//! of partners' requests. Two of its indexes bought nothing: `hash` is unique by construction
//! (each entry's hash covers its predecessor's, and the unique `prev_hash` already refuses a fork;
//! `raccordo audit verify` checks the rest), and nothing queries by `at` alone.

use sea_orm_migration::prelude::*;

use crate::idens::AccessLog;

/// Drops `uq_access_log_hash` and `idx_access_log_at`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["uq_access_log_hash", "idx_access_log_at"] {
            manager
                .drop_index(Index::drop().name(name).table(AccessLog::Table).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("uq_access_log_hash")
                    .table(AccessLog::Table)
                    .col(AccessLog::Hash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_access_log_at")
                    .table(AccessLog::Table)
                    .col(AccessLog::At)
                    .to_owned(),
            )
            .await
    }
}
