//! The access log (ACCESS.md §9): append-only, chained by SHA-256, verified by `raccordo audit verify`.
//!
//! Each entry's hash covers its content and the previous entry's hash, so editing, removing or
//! inserting an entry breaks the chain at that point. A unique index on `prev_hash` means two
//! writers can never both link to the same predecessor; on PostgreSQL an advisory lock taken in
//! the writing transaction serialises writers across hub instances. Values never enter the log.

use chrono::{DateTime, SubsecRound, Utc};
use raccordo_entities::access_log;
use raccordo_policies::{ClassSet, RelationshipSet, UserRole};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};

use crate::error::ApiResult;

/// The predecessor of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Entries per INSERT statement (11 values each, well under every backend's limit).
const INSERT_CHUNK: usize = 1_000;

/// Advisory lock key for access-log writers on PostgreSQL.
const LOG_LOCK: i64 = 727_274_002;

/// One access to record.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// Who did it.
    pub user_id: String,
    /// Their agency (none for the platform admin).
    pub agency_id: Option<String>,
    /// Their role.
    pub role: UserRole,
    /// The case, when the access is to one.
    pub case_id: Option<String>,
    /// What was done: `read`, `updateCase`, `shareCase`, ...
    pub operation: String,
    /// The relationships it was done under.
    pub relationships: RelationshipSet,
    /// The classes of data read or changed.
    pub classes: ClassSet,
    /// Free text that is not a value of the record (an emergency reason).
    pub detail: Option<String>,
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// The canonical encoding hashed for an entry: a JSON array of its fields in a fixed order.
fn entry_hash(prev_hash: &str, at: &DateTime<Utc>, e: &access_log::Model) -> String {
    let canonical = serde_json::json!([
        prev_hash,
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        e.user_id,
        e.agency_id,
        e.role,
        e.case_id,
        e.operation,
        e.relationships,
        e.classes,
        e.detail,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Appends entries to the chain inside the caller's transaction (or connection).
/// Costs a constant number of statements whatever the number of entries.
pub async fn append<C: ConnectionTrait>(db: &C, entries: Vec<NewEntry>) -> ApiResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({LOG_LOCK})"))
            .await?;
    }
    let last: Option<String> = access_log::Entity::find()
        .select_only()
        .column(access_log::Column::Hash)
        .order_by_desc(access_log::Column::Seq)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    let mut prev = last.unwrap_or_else(|| GENESIS.to_string());
    // Microsecond precision: what both databases store, so verification recomputes the same hash.
    let at = Utc::now().trunc_subsecs(6);
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let mut model = access_log::Model {
            seq: 0,
            at,
            user_id: e.user_id,
            agency_id: e.agency_id,
            role: e.role.as_str().to_string(),
            case_id: e.case_id,
            operation: e.operation,
            relationships: join(e.relationships.iter().map(|r| r.as_str())),
            classes: join(e.classes.iter().map(|c| c.as_str())),
            detail: e.detail,
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        model.hash = entry_hash(&prev, &at, &model);
        prev = model.hash.clone();
        rows.push(access_log::ActiveModel {
            seq: NotSet,
            at: Set(model.at),
            user_id: Set(model.user_id),
            agency_id: Set(model.agency_id),
            role: Set(model.role),
            case_id: Set(model.case_id),
            operation: Set(model.operation),
            relationships: Set(model.relationships),
            classes: Set(model.classes),
            detail: Set(model.detail),
            prev_hash: Set(model.prev_hash),
            hash: Set(model.hash),
        });
    }
    // Bounded INSERTs: SQLite refuses statements with more than 32,766 bound values.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<access_log::ActiveModel> = rows.by_ref().take(INSERT_CHUNK).collect();
        access_log::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The first entry where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The entry's place in the chain.
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}

/// Walks the whole chain; `Ok(count)` when intact, `Err(Broken)` at the first bad entry.
pub async fn verify<C: ConnectionTrait>(db: &C) -> ApiResult<Result<u64, Broken>> {
    // Walked in chunks by sequence number, so a long log never sits in memory whole.
    const CHUNK: u64 = 10_000;
    let mut prev = GENESIS.to_string();
    let mut count = 0u64;
    let mut after = i64::MIN;
    loop {
        let rows = access_log::Entity::find()
            .filter(access_log::Column::Seq.gt(after))
            .order_by_asc(access_log::Column::Seq)
            .limit(CHUNK)
            .all(db)
            .await?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            break;
        };
        for row in rows {
            if row.prev_hash != prev {
                return Ok(Err(Broken {
                    seq: row.seq,
                    reason:
                        "does not link to the entry before it (an entry was removed or inserted)"
                            .into(),
                }));
            }
            if entry_hash(&prev, &row.at, &row) != row.hash {
                return Ok(Err(Broken {
                    seq: row.seq,
                    reason: "its content was altered".into(),
                }));
            }
            prev = row.hash;
            count += 1;
        }
        after = last;
    }
    Ok(Ok(count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use raccordo_migrations::MigratorTrait;
    use raccordo_policies::{DataClass, Relationship};
    use sea_orm::{Database, EntityTrait};

    fn entry(case: &str) -> NewEntry {
        NewEntry {
            user_id: "u".into(),
            agency_id: Some("a".into()),
            role: UserRole::Operator,
            case_id: Some(case.into()),
            operation: "read".into(),
            relationships: RelationshipSet::empty().with(Relationship::Owner),
            classes: ClassSet::empty().with(DataClass::Identity),
            detail: None,
        }
    }

    /// Editing, removing or inserting an entry is detected at that entry.
    #[tokio::test]
    async fn tampering_is_detected() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        raccordo_migrations::Migrator::up(&db, None).await.unwrap();
        for i in 0..5 {
            append(&db, vec![entry(&format!("c{i}")), entry(&format!("d{i}"))])
                .await
                .unwrap();
        }
        assert_eq!(verify(&db).await.unwrap(), Ok(10));
        // Altered.
        db.execute_unprepared("UPDATE access_log SET classes = 'BASE' WHERE seq = 4")
            .await
            .unwrap();
        assert_eq!(verify(&db).await.unwrap().unwrap_err().seq, 4);
        db.execute_unprepared("UPDATE access_log SET classes = 'IDENTITY' WHERE seq = 4")
            .await
            .unwrap();
        assert_eq!(verify(&db).await.unwrap(), Ok(10));
        // Removed.
        let removed = access_log::Entity::find_by_id(6)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        access_log::Entity::delete_by_id(6).exec(&db).await.unwrap();
        assert_eq!(verify(&db).await.unwrap().unwrap_err().seq, 7);
        // Put back: intact again.
        let mut back: access_log::ActiveModel = removed.into();
        back.seq = sea_orm::ActiveValue::Set(6);
        access_log::Entity::insert(back)
            .exec_without_returning(&db)
            .await
            .unwrap();
        assert_eq!(verify(&db).await.unwrap(), Ok(10));
        // Inserted: a forged entry linking to the last one is caught by its hash.
        db.execute_unprepared(
            "INSERT INTO access_log (seq, at, user_id, role, operation, relationships, classes, prev_hash, hash) \
             SELECT 100, at, 'intruder', role, 'read', relationships, classes, hash, 'forged' FROM access_log WHERE seq = 10",
        )
        .await
        .unwrap();
        assert_eq!(verify(&db).await.unwrap().unwrap_err().seq, 100);
    }
}
