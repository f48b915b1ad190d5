//! The history of corrections to concluded referrals (ACCESS.md §6): a coordinator of the target
//! ente corrects with a reason, and the correction is recorded here, never overwritten.

use sea_orm_migration::{prelude::*, schema::*};

use crate::idens::{ReferralCorrections as RC, Referrals};

/// Creates `referral_corrections`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RC::Table)
                    .col(string(RC::Id).primary_key())
                    .col(string(RC::ReferralId))
                    .col(timestamp_with_time_zone(RC::CorrectedAt))
                    .col(string(RC::CorrectedBy))
                    .col(text(RC::Reason))
                    .col(string(RC::Fields))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_referral_corrections_referral_id")
                            .from(RC::Table, RC::ReferralId)
                            .to(Referrals::Table, Referrals::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_referral_corrections_referral_id")
                    .table(RC::Table)
                    .col(RC::ReferralId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RC::Table).to_owned())
            .await
    }
}
