//! The hub's schema migrations, one per change, reversible, and written only
//! with sea-query builders so that the same migrations run unchanged on
//! SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod idens;
mod m20261126_000001_initial_schema;
mod m20261126_000002_case_code_per_owner;
mod m20261126_000003_lighter_access_log;
mod m20261207_000001_statistics_releases;
mod m20261207_000002_referral_corrections;
mod m20261208_000001_places;

/// Runs the hub's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_initial_schema::Migration),
            Box::new(m20261126_000002_case_code_per_owner::Migration),
            Box::new(m20261126_000003_lighter_access_log::Migration),
            Box::new(m20261207_000001_statistics_releases::Migration),
            Box::new(m20261207_000002_referral_corrections::Migration),
            Box::new(m20261208_000001_places::Migration),
        ]
    }
}
