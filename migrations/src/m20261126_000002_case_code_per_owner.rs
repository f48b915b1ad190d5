//! A case's code is unique per holding agency, not across the hub: a hub-wide unique code would
//! let any ente learn, from a refused `createCase`, that another agency holds a case with that
//! code (ACCESS.md §4: a hidden case is in no error message).

use sea_orm_migration::prelude::*;

use crate::idens::Cases;

/// Replaces `uq_cases_code` with `uq_cases_owner_id_code`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("uq_cases_code")
                    .table(Cases::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_cases_owner_id_code")
                    .table(Cases::Table)
                    .col(Cases::OwnerId)
                    .col(Cases::Code)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("uq_cases_owner_id_code")
                    .table(Cases::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_cases_code")
                    .table(Cases::Table)
                    .col(Cases::Code)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
