//! Network statistics releases (ACCESS.md §7): one row per closed period and population, written
//! once and then only read. The unique index is what makes two hub instances that compute the
//! same release at once publish one: the second insert is a no-op and both serve the stored row.

use sea_orm_migration::{prelude::*, schema::*};

use crate::idens::StatisticsReleases;

/// Creates `statistics_releases`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StatisticsReleases::Table)
                    .col(string(StatisticsReleases::Id).primary_key())
                    .col(string(StatisticsReleases::Period))
                    .col(string(StatisticsReleases::Population))
                    .col(date(StatisticsReleases::CutOff))
                    .col(timestamp_with_time_zone(StatisticsReleases::PublishedAt))
                    .col(double(StatisticsReleases::EpsilonPerTable))
                    .col(string(StatisticsReleases::Method))
                    .col(string(StatisticsReleases::PolicyVersion))
                    .col(text(StatisticsReleases::Tables))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_statistics_releases_period_population")
                    .table(StatisticsReleases::Table)
                    .col(StatisticsReleases::Period)
                    .col(StatisticsReleases::Population)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StatisticsReleases::Table).to_owned())
            .await
    }
}
