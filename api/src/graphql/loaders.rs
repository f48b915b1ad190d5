//! DataLoaders: every relation is loaded in one statement per batch of parents, so a page of N
//! records costs a number of statements that does not grow with N. Loaders are per request, so
//! their caches never outlive the request that filled them.

use std::{collections::HashMap, marker::PhantomData, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
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
        // Every key gets an entry, empty when it has no rows, so the cache answers it too.
        let mut out: HashMap<String, Vec<E::Model>> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for m in rows {
            if let Some(k) = key_of::<E>(&m, self.key) {
                out.entry(k).or_default().push(m);
            }
        }
        Ok(out)
    }
}

fn one<E: EntityTrait>(db: &DatabaseConnection, key: E::Column) -> Cached<OneBy<E>>
where
    E::Model: Sync,
{
    DataLoader::with_cache(
        OneBy {
            db: db.clone(),
            key,
            _entity: PhantomData,
        },
        tokio::spawn,
        HashMapCache::default(),
    )
}

fn many<E: EntityTrait>(
    db: &DatabaseConnection,
    key: E::Column,
    order: E::Column,
) -> Cached<ManyBy<E>>
where
    E::Model: Sync,
{
    DataLoader::with_cache(
        ManyBy {
            db: db.clone(),
            key,
            order,
            _entity: PhantomData,
        },
        tokio::spawn,
        HashMapCache::default(),
    )
}

/// A loader whose answers are kept for the rest of the request, so a page can be primed in one
/// batch per relation and its fields then read from the cache.
pub type Cached<T> = DataLoader<T, HashMapCache>;

/// The loaders of one request.
pub struct Loaders {
    /// Agencies by id.
    pub agency: Cached<OneBy<agency::Entity>>,
    /// Projects by id.
    pub project: Cached<OneBy<project::Entity>>,
    /// Shelters by id.
    pub shelter: Cached<OneBy<shelter::Entity>>,
    /// Consents by id.
    pub consent: Cached<OneBy<consent::Entity>>,
    /// A case's notes.
    pub notes: Cached<ManyBy<case_note::Entity>>,
    /// A case's activities.
    pub activities: Cached<ManyBy<activity::Entity>>,
    /// A case's phase changes.
    pub history: Cached<ManyBy<case_phase_change::Entity>>,
    /// A case's exploitation types.
    pub exploitation: Cached<ManyBy<case_exploitation::Entity>>,
    /// A referral's interviews.
    pub interviews: Cached<ManyBy<referral_interview::Entity>>,
    /// A network's members.
    pub network_members: Cached<ManyBy<network_member::Entity>>,
    /// A protocol's signatories.
    pub signatories: Cached<ManyBy<protocol_signatory::Entity>>,
    /// A project's enti.
    pub project_enti: Cached<ManyBy<project_ente::Entity>>,
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

impl Loaders {
    /// Loads, in one batch per relation, what the fields selected under `node` will ask for a
    /// page of cases, so that the page costs the same statements whatever its size and no
    /// sibling waits for a batching window. Reading fields then hits the request's cache.
    pub async fn prime_cases(
        &self,
        node: async_graphql::Lookahead<'_>,
        rows: &[raccordo_entities::case::Model],
    ) -> Result<(), Arc<DbErr>> {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let wants = |f: &str| node.field(f).exists();
        let (notes, history, ..) = futures::try_join!(
            async {
                match wants("notes") {
                    true => self.notes.load_many(ids.clone()).await,
                    false => Ok(HashMap::new()),
                }
            },
            async {
                match wants("history") {
                    true => self.history.load_many(ids.clone()).await,
                    false => Ok(HashMap::new()),
                }
            },
            async {
                if wants("activities") {
                    self.activities.load_many(ids.clone()).await?;
                }
                Ok(())
            },
            async {
                if wants("exploitation") {
                    self.exploitation.load_many(ids.clone()).await?;
                }
                Ok(())
            },
            async {
                if wants("project") {
                    self.project
                        .load_many(rows.iter().filter_map(|r| r.project_id.clone()))
                        .await?;
                }
                Ok(())
            },
            async {
                if wants("shelter") {
                    self.shelter
                        .load_many(rows.iter().filter_map(|r| r.shelter_id.clone()))
                        .await?;
                }
                Ok(())
            },
        )?;
        // Second level: every agency the page will name (owners, note authors, who changed a phase).
        let mut agencies: Vec<String> = Vec::new();
        if wants("owner") {
            agencies.extend(rows.iter().map(|r| r.owner_id.clone()));
        }
        agencies.extend(
            notes
                .values()
                .flatten()
                .map(|n: &case_note::Model| n.author_agency_id.clone()),
        );
        agencies.extend(
            history
                .values()
                .flatten()
                .map(|h: &case_phase_change::Model| h.agency_id.clone()),
        );
        if !agencies.is_empty() {
            agencies.sort();
            agencies.dedup();
            self.agency.load_many(agencies).await?;
        }
        Ok(())
    }
}
