//! DataLoaders: every relation is loaded in one statement per batch of parents, so a page of N
//! records costs a number of statements that does not grow with N. Loaders are per request, so
//! their caches never outlive the request that filled them.

use std::{collections::HashMap, marker::PhantomData, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use raccordo_entities::{
    activity, agency, case_exploitation, case_note, case_phase_change, consent, network_member,
    project, project_ente, protocol_signatory, referral_interview, shelter,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, ModelTrait, QueryFilter, QueryOrder, Value,
};

fn key_of<E: EntityTrait>(model: &E::Model, column: E::Column) -> Option<String> {
    match model.get(column) {
        Value::String(Some(s)) => Some(*s),
        _ => None,
    }
}

/// Loads one row per key, the key being a unique text column (usually the id).
pub struct OneBy<E: EntityTrait> {
    db: DatabaseConnection,
    key: E::Column,
    _entity: PhantomData<E>,
}

impl<E: EntityTrait> Loader<String> for OneBy<E>
where
    E::Model: Sync,
{
    type Value = E::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, E::Model>, Self::Error> {
        let rows = E::find()
            .filter(self.key.is_in(keys.iter().cloned()))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|m| key_of::<E>(&m, self.key).map(|k| (k, m)))
            .collect())
    }
}

/// Loads every row whose `key` column equals each key, in `order`.
pub struct ManyBy<E: EntityTrait> {
    db: DatabaseConnection,
    key: E::Column,
    order: E::Column,
    _entity: PhantomData<E>,
}

impl<E: EntityTrait> Loader<String> for ManyBy<E>
where
    E::Model: Sync,
{
    type Value = Vec<E::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<E::Model>>, Self::Error> {
        let rows = E::find()
            .filter(self.key.is_in(keys.iter().cloned()))
            .order_by_asc(self.order)
            .all(&self.db)
            .await?;
        let mut out: HashMap<String, Vec<E::Model>> = HashMap::new();
        for m in rows {
            if let Some(k) = key_of::<E>(&m, self.key) {
                out.entry(k).or_default().push(m);
            }
        }
        Ok(out)
    }
}

fn one<E: EntityTrait>(db: &DatabaseConnection, key: E::Column) -> DataLoader<OneBy<E>>
where
    E::Model: Sync,
{
    DataLoader::new(
        OneBy {
            db: db.clone(),
            key,
            _entity: PhantomData,
        },
        tokio::spawn,
    )
}

fn many<E: EntityTrait>(
    db: &DatabaseConnection,
    key: E::Column,
    order: E::Column,
) -> DataLoader<ManyBy<E>>
where
    E::Model: Sync,
{
    DataLoader::new(
        ManyBy {
            db: db.clone(),
            key,
            order,
            _entity: PhantomData,
        },
        tokio::spawn,
    )
}

/// The loaders of one request.
pub struct Loaders {
    pub agency: DataLoader<OneBy<agency::Entity>>,
    pub project: DataLoader<OneBy<project::Entity>>,
    pub shelter: DataLoader<OneBy<shelter::Entity>>,
    pub consent: DataLoader<OneBy<consent::Entity>>,
    pub notes: DataLoader<ManyBy<case_note::Entity>>,
    pub activities: DataLoader<ManyBy<activity::Entity>>,
    pub history: DataLoader<ManyBy<case_phase_change::Entity>>,
    pub exploitation: DataLoader<ManyBy<case_exploitation::Entity>>,
    pub interviews: DataLoader<ManyBy<referral_interview::Entity>>,
    pub network_members: DataLoader<ManyBy<network_member::Entity>>,
    pub signatories: DataLoader<ManyBy<protocol_signatory::Entity>>,
    pub project_enti: DataLoader<ManyBy<project_ente::Entity>>,
}

impl Loaders {
    /// Fresh loaders for one request.
    pub fn new(db: &DatabaseConnection) -> Self {
        Loaders {
            agency: one(db, agency::Column::Id),
            project: one(db, project::Column::Id),
            shelter: one(db, shelter::Column::Id),
            consent: one(db, consent::Column::Id),
            notes: many(db, case_note::Column::CaseId, case_note::Column::WrittenAt),
            activities: many(db, activity::Column::CaseId, activity::Column::CreatedAt),
            history: many(
                db,
                case_phase_change::Column::CaseId,
                case_phase_change::Column::At,
            ),
            exploitation: many(
                db,
                case_exploitation::Column::CaseId,
                case_exploitation::Column::Exploitation,
            ),
            interviews: many(
                db,
                referral_interview::Column::ReferralId,
                referral_interview::Column::HeldOn,
            ),
            network_members: many(
                db,
                network_member::Column::NetworkId,
                network_member::Column::AgencyId,
            ),
            signatories: many(
                db,
                protocol_signatory::Column::ProtocolId,
                protocol_signatory::Column::AgencyId,
            ),
            project_enti: many(
                db,
                project_ente::Column::ProjectId,
                project_ente::Column::AgencyId,
            ),
        }
    }
}
