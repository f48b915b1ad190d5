//! Shelter places and placement requests (issue 18, ACCESS.md §8): a shelter's kind, who it
//! takes and its capacity; requests for places, the enti's offers and every step taken.
//!
//! Two constraints carry the rules under concurrency: an ente offers once per request (a unique
//! index), and places are held by a conditional update of `shelter_places.on_offer` that the
//! api only makes when the vacancy is still there.

use sea_orm_migration::{prelude::*, schema::*};

use crate::idens::{Agencies, Shelters};

#[derive(DeriveIden)]
enum ShelterPlaces {
    Table,
    ShelterId,
    Kind,
    Takes,
    Capacity,
    Unavailable,
    UnavailableReason,
    OnOffer,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlacementRequests {
    Table,
    Id,
    RequesterId,
    RequestedBy,
    People,
    Minors,
    Takes,
    Kind,
    Urgency,
    Province,
    Contact,
    Status,
    AcceptedOfferId,
    RequestedAt,
    ClosedAt,
    Version,
}

#[derive(DeriveIden)]
enum PlacementOffers {
    Table,
    Id,
    RequestId,
    EnteId,
    ShelterId,
    OfferedBy,
    Places,
    Contact,
    Status,
    OfferedAt,
    DecidedAt,
}

#[derive(DeriveIden)]
enum PlacementEvents {
    Table,
    Id,
    RequestId,
    OfferId,
    At,
    AgencyId,
    UserId,
    Event,
}

/// Creates `shelter_places`, `placement_requests`, `placement_offers`, `placement_events`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ShelterPlaces::Table)
                    .col(string(ShelterPlaces::ShelterId).primary_key())
                    .col(string(ShelterPlaces::Kind))
                    .col(string(ShelterPlaces::Takes))
                    .col(integer(ShelterPlaces::Capacity))
                    .col(integer(ShelterPlaces::Unavailable))
                    .col(text_null(ShelterPlaces::UnavailableReason))
                    .col(integer(ShelterPlaces::OnOffer))
                    .col(integer(ShelterPlaces::Version))
                    .col(timestamp_with_time_zone(ShelterPlaces::UpdatedAt))
                    .check(Expr::col(ShelterPlaces::Capacity).gte(0))
                    .check(Expr::col(ShelterPlaces::Unavailable).gte(0))
                    .check(Expr::col(ShelterPlaces::OnOffer).gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_shelter_places_shelter_id")
                            .from(ShelterPlaces::Table, ShelterPlaces::ShelterId)
                            .to(Shelters::Table, Shelters::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlacementRequests::Table)
                    .col(string(PlacementRequests::Id).primary_key())
                    .col(string(PlacementRequests::RequesterId))
                    .col(string(PlacementRequests::RequestedBy))
                    .col(integer(PlacementRequests::People))
                    .col(integer(PlacementRequests::Minors))
                    .col(string(PlacementRequests::Takes))
                    .col(string_null(PlacementRequests::Kind))
                    .col(string(PlacementRequests::Urgency))
                    .col(string(PlacementRequests::Province))
                    .col(string(PlacementRequests::Contact))
                    .col(string(PlacementRequests::Status))
                    .col(string_null(PlacementRequests::AcceptedOfferId))
                    .col(timestamp_with_time_zone(PlacementRequests::RequestedAt))
                    .col(timestamp_with_time_zone_null(PlacementRequests::ClosedAt))
                    .col(integer(PlacementRequests::Version))
                    .check(Expr::col(PlacementRequests::People).gt(0))
                    .check(Expr::col(PlacementRequests::Minors).gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_placement_requests_requester_id")
                            .from(PlacementRequests::Table, PlacementRequests::RequesterId)
                            .to(Agencies::Table, Agencies::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_placement_requests_status_province")
                    .table(PlacementRequests::Table)
                    .col(PlacementRequests::Status)
                    .col(PlacementRequests::Province)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_placement_requests_requester_id")
                    .table(PlacementRequests::Table)
                    .col(PlacementRequests::RequesterId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlacementOffers::Table)
                    .col(string(PlacementOffers::Id).primary_key())
                    .col(string(PlacementOffers::RequestId))
                    .col(string(PlacementOffers::EnteId))
                    .col(string(PlacementOffers::ShelterId))
                    .col(string(PlacementOffers::OfferedBy))
                    .col(integer(PlacementOffers::Places))
                    .col(string(PlacementOffers::Contact))
                    .col(string(PlacementOffers::Status))
                    .col(timestamp_with_time_zone(PlacementOffers::OfferedAt))
                    .col(timestamp_with_time_zone_null(PlacementOffers::DecidedAt))
                    .check(Expr::col(PlacementOffers::Places).gt(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_placement_offers_request_id")
                            .from(PlacementOffers::Table, PlacementOffers::RequestId)
                            .to(PlacementRequests::Table, PlacementRequests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_placement_offers_ente_id")
                            .from(PlacementOffers::Table, PlacementOffers::EnteId)
                            .to(Agencies::Table, Agencies::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_placement_offers_shelter_id")
                            .from(PlacementOffers::Table, PlacementOffers::ShelterId)
                            .to(Shelters::Table, Shelters::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_placement_offers_request_ente")
                    .table(PlacementOffers::Table)
                    .col(PlacementOffers::RequestId)
                    .col(PlacementOffers::EnteId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlacementEvents::Table)
                    .col(string(PlacementEvents::Id).primary_key())
                    .col(string(PlacementEvents::RequestId))
                    .col(string_null(PlacementEvents::OfferId))
                    .col(timestamp_with_time_zone(PlacementEvents::At))
                    .col(string_null(PlacementEvents::AgencyId))
                    .col(string_null(PlacementEvents::UserId))
                    .col(string(PlacementEvents::Event))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_placement_events_request_id")
                            .from(PlacementEvents::Table, PlacementEvents::RequestId)
                            .to(PlacementRequests::Table, PlacementRequests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_placement_events_request_id")
                    .table(PlacementEvents::Table)
                    .col(PlacementEvents::RequestId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PlacementEvents::Table.into_iden(),
            PlacementOffers::Table.into_iden(),
            PlacementRequests::Table.into_iden(),
            ShelterPlaces::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
