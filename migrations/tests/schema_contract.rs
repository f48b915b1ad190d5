//! The entities match the schema the migrations create, on SQLite and (when
//! `TEST_DATABASE_URL` is set) PostgreSQL: same columns and nullability, a
//! full row of every table survives a write/read round trip, the relations
//! resolve, and the constraints the api relies on are enforced.

mod common;

use std::collections::BTreeMap;
use std::fmt::Debug;

use chrono::{NaiveDate, SubsecRound, Utc};
use common::{on_fresh_postgres, on_fresh_sqlite, TABLES};
use raccordo_entities::*;
use raccordo_migrations::Migrator;
use sea_orm_migration::sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DbBackend, DbErr, EntityTrait, IdenStatic, IntoActiveModel, Iterable,
    ModelTrait, QueryFilter, SqlErr, Statement,
};
use sea_orm_migration::MigratorTrait;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Column name -> nullable, as the database reports it.
async fn db_columns(db: &DatabaseConnection, table: &str) -> BTreeMap<String, bool> {
    let backend = db.get_database_backend();
    let stmt = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT column_name::text AS name, (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            [table.into()],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            "SELECT name, (\"notnull\" = 0) AS nullable FROM pragma_table_info(?)",
            [table.into()],
        ),
    };
    let mut columns = BTreeMap::new();
    for row in db.query_all(stmt).await.expect("list columns") {
        let name: String = row.try_get("", "name").expect("name");
        let nullable: bool = row.try_get("", "nullable").expect("nullable");
        columns.insert(name, nullable);
    }
    columns
}

/// The entity's columns (name -> nullable) equal the table's.
async fn assert_columns_match<E: EntityTrait>(db: &DatabaseConnection) {
    let table = E::default().table_name().to_owned();
    let expected: BTreeMap<String, bool> = E::Column::iter()
        .map(|c| (c.as_str().to_owned(), c.def().is_null()))
        .collect();
    assert_eq!(db_columns(db, &table).await, expected, "columns of {table}");
}

/// Writes every column of `model` and reads the same row back.
async fn roundtrip<E>(db: &DatabaseConnection, model: E::Model)
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Clone + Debug + PartialEq,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    E::insert(model.clone().into_active_model().reset_all())
        .exec(db)
        .await
        .unwrap_or_else(|e| panic!("insert into {}: {e}", E::default().table_name()));
    let rows = E::find().all(db).await.expect("select");
    assert!(rows.contains(&model), "{model:?} not read back: {rows:?}");
}

fn refused(result: Result<impl Debug, DbErr>) -> DbErr {
    result.expect_err("the database should refuse this")
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn is_fk_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_)))
}

/// A delete refused by `ON DELETE RESTRICT`. PostgreSQL reports 23503, which
/// `sql_err()` classifies. SQLite reports SQLITE_CONSTRAINT_TRIGGER (1811),
/// which sea-orm 1.1 does not classify (it only knows 787), so on SQLite
/// `sql_err()` is `None` and only the message tells.
fn is_restrict_refusal(e: &DbErr, backend: DbBackend) -> bool {
    match backend {
        DbBackend::Sqlite => {
            e.sql_err().is_none() && e.to_string().contains("FOREIGN KEY constraint failed")
        }
        _ => is_fk_violation(e),
    }
}

async fn contract(db: DatabaseConnection) {
    Migrator::up(&db, None).await.expect("up");
    let db = &db;

    macro_rules! columns_match {
        ($($m:ident),* $(,)?) => { $( assert_columns_match::<$m::Entity>(db).await; )* };
    }
    columns_match!(
        agency,
        network,
        network_member,
        protocol,
        protocol_signatory,
        collaboration,
        project,
        project_ente,
        project_indicator,
        shelter,
        case,
        case_exploitation,
        case_phase_change,
        activity,
        case_note,
        consent,
        share,
        transfer,
        referral,
        referral_interview,
        access_log,
        statistics_release,
        referral_correction,
        shelter_places,
        placement_request,
        placement_offer,
        placement_event,
    );
    assert_eq!(TABLES.len(), 27);

    // Microseconds: what PostgreSQL keeps.
    let now = Utc::now().trunc_subsecs(6);
    let s = |v: &str| Some(v.to_owned());

    let a1 = agency::Model {
        id: "a1".into(),
        name: "Ente uno".into(),
        kind: "ENTE_ANTITRATTA".into(),
        province: s("TO"),
        city: s("Torino"),
        public_contact: s("800 290 290"),
        website: s("https://example.org"),
        referral_contact: s("referral@example.org"),
        notes: s("note"),
        latitude: Some(45.0703),
        longitude: Some(7.6869),
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    roundtrip::<agency::Entity>(db, a1.clone()).await;

    // Defaults: `disabled` false.
    agency::ActiveModel {
        id: Set("a2".into()),
        name: Set("Ente due".into()),
        kind: Set("PREFETTURA".into()),
        province: NotSet,
        city: NotSet,
        public_contact: NotSet,
        website: NotSet,
        referral_contact: NotSet,
        notes: NotSet,
        latitude: NotSet,
        longitude: NotSet,
        disabled: NotSet,
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .expect("insert a2");
    let a2 = agency::Entity::find_by_id("a2")
        .one(db)
        .await
        .expect("select")
        .expect("a2");
    assert!(!a2.disabled);

    let n1 = network::Model {
        id: "n1".into(),
        name: "Rete".into(),
        province: s("TO"),
        lead_id: s("a1"),
        municipalities: Some(12),
        created_at: now,
        updated_at: now,
    };
    roundtrip::<network::Entity>(db, n1.clone()).await;
    for agency_id in ["a1", "a2"] {
        roundtrip::<network_member::Entity>(
            db,
            network_member::Model {
                network_id: "n1".into(),
                agency_id: agency_id.into(),
            },
        )
        .await;
    }

    let p1 = protocol::Model {
        id: "p1".into(),
        title: "Protocollo".into(),
        signed_on: Some(day(2025, 3, 1)),
        policy_version: s("1"),
        created_at: now,
        updated_at: now,
    };
    roundtrip::<protocol::Entity>(db, p1.clone()).await;
    roundtrip::<protocol_signatory::Entity>(
        db,
        protocol_signatory::Model {
            protocol_id: "p1".into(),
            agency_id: "a2".into(),
        },
    )
    .await;

    roundtrip::<collaboration::Entity>(
        db,
        collaboration::Model {
            id: "c1".into(),
            kind: "INVIO".into(),
            from_id: "a1".into(),
            to_id: "a2".into(),
            since: Some(day(2024, 1, 1)),
            weight: 3,
            created_at: now,
            updated_at: now,
        },
    )
    .await;
    // Default: weight 1.
    let c2 = collaboration::ActiveModel {
        id: Set("c2".into()),
        kind: Set("INVIO".into()),
        from_id: Set("a2".into()),
        to_id: Set("a1".into()),
        since: NotSet,
        weight: NotSet,
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .expect("insert c2");
    assert_eq!(c2.weight, 1);

    let pr1 = project::Model {
        id: "pr1".into(),
        name: "Progetto".into(),
        coordinator_id: "a1".into(),
        starts_on: Some(day(2025, 1, 1)),
        ends_on: Some(day(2026, 12, 31)),
        created_at: now,
        updated_at: now,
    };
    roundtrip::<project::Entity>(db, pr1.clone()).await;
    roundtrip::<project_ente::Entity>(
        db,
        project_ente::Model {
            project_id: "pr1".into(),
            agency_id: "a2".into(),
        },
    )
    .await;
    let indicator = project_indicator::Model {
        id: "pi1".into(),
        project_id: "pr1".into(),
        key: "presi_in_carico".into(),
        label: "Persone prese in carico".into(),
        expected: 5_000_000_000,
        created_at: now,
        updated_at: now,
    };
    roundtrip::<project_indicator::Entity>(db, indicator.clone()).await;
    let dup = project_indicator::Model {
        id: "pi2".into(),
        ..indicator
    };
    assert!(is_unique_violation(&refused(
        project_indicator::Entity::insert(dup.into_active_model().reset_all())
            .exec(db)
            .await
    )));

    roundtrip::<shelter::Entity>(
        db,
        shelter::Model {
            id: "s1".into(),
            owner_id: "a1".into(),
            name: "Casa".into(),
            address: s("via Roma 1"),
            city: s("Torino"),
            province: s("TO"),
            created_at: now,
            updated_at: now,
        },
    )
    .await;

    let k1 = case::Model {
        id: "k1".into(),
        code: "TO-2026-0001".into(),
        owner_id: "a1".into(),
        project_id: s("pr1"),
        phase: "PRESA_IN_CARICO".into(),
        opened_on: day(2026, 1, 10),
        closed_on: Some(day(2026, 6, 30)),
        version: 2,
        gender: s("F"),
        age_group: s("18_25"),
        nationality: s("NG"),
        emersion_channel: s("NUMERO_VERDE"),
        emersion_province: s("TO"),
        accompanying_minors: Some(1),
        pregnant: Some(true),
        alias: s("Joy"),
        legal_name: s("Nome Cognome"),
        birth_date: Some(day(2001, 5, 4)),
        phone: s("+39 333 0000000"),
        shelter_id: s("s1"),
        permit_at_start: s("NESSUNO"),
        permit_current: s("ART_18"),
        permit_expires_on: Some(day(2027, 1, 1)),
        asylum_status: s("NESSUNA"),
        complaint_filed: Some(false),
        complaint_filed_on: None,
        health_notes: s("..."),
        psych_support: s("SI"),
        gbv_indicators: s(r#"["A","B"]"#),
        gbv_risk_level: s("ALTO"),
        outcome: s("AUTONOMIA"),
        outcome_on: Some(day(2026, 6, 30)),
        created_at: now,
        updated_at: now,
    };
    roundtrip::<case::Entity>(db, k1.clone()).await;
    let dup = case::Model {
        id: "k-dup".into(),
        ..k1.clone()
    };
    assert!(is_unique_violation(&refused(
        case::Entity::insert(dup.into_active_model().reset_all())
            .exec(db)
            .await
    )));
    let orphan = case::Model {
        id: "k-orphan".into(),
        code: "TO-2026-9999".into(),
        owner_id: "nobody".into(),
        ..k1.clone()
    };
    assert!(is_fk_violation(&refused(
        case::Entity::insert(orphan.into_active_model().reset_all())
            .exec(db)
            .await
    )));

    roundtrip::<case_exploitation::Entity>(
        db,
        case_exploitation::Model {
            case_id: "k1".into(),
            exploitation: "SESSUALE".into(),
        },
    )
    .await;
    roundtrip::<case_phase_change::Entity>(
        db,
        case_phase_change::Model {
            id: "pc1".into(),
            case_id: "k1".into(),
            at: now,
            user_id: "u1".into(),
            agency_id: "a1".into(),
            from_phase: s("EMERSIONE"),
            to_phase: "PRESA_IN_CARICO".into(),
            reason: s("colloquio"),
        },
    )
    .await;
    roundtrip::<activity::Entity>(
        db,
        activity::Model {
            id: "ac1".into(),
            case_id: "k1".into(),
            kind: "LEGALE".into(),
            detail: s("udienza"),
            started_on: Some(day(2026, 2, 1)),
            ended_on: Some(day(2026, 2, 2)),
            created_at: now,
            updated_at: now,
        },
    )
    .await;
    roundtrip::<case_note::Entity>(
        db,
        case_note::Model {
            id: "cn1".into(),
            case_id: "k1".into(),
            author_agency_id: "a1".into(),
            author_user_id: "u1".into(),
            written_at: now,
            text: "testo".into(),
            shared_with_joint_partners: true,
            created_at: now,
            updated_at: now,
        },
    )
    .await;
    roundtrip::<consent::Entity>(
        db,
        consent::Model {
            id: "co1".into(),
            case_id: "k1".into(),
            purpose: "PRESA_IN_CARICO_CONGIUNTA".into(),
            recipient_id: "a2".into(),
            given_on: day(2026, 1, 11),
            expires_on: Some(day(2027, 1, 11)),
            revoked_on: Some(day(2026, 3, 1)),
            recorded_by: "u1".into(),
            created_at: now,
            updated_at: now,
        },
    )
    .await;
    roundtrip::<share::Entity>(
        db,
        share::Model {
            id: "sh1".into(),
            case_id: "k1".into(),
            purpose: "EMERGENZA".into(),
            recipient_id: "a2".into(),
            consent_id: s("co1"),
            emergency: true,
            emergency_reason: s("pericolo"),
            expires_at: Some(now),
            revoked_at: Some(now),
            created_by: "u1".into(),
            created_at: now,
            updated_at: now,
        },
    )
    .await;
    roundtrip::<transfer::Entity>(
        db,
        transfer::Model {
            id: "t1".into(),
            case_id: "k1".into(),
            from_id: "a1".into(),
            to_id: "a2".into(),
            consent_id: "co1".into(),
            status: "RICHIESTO".into(),
            requested_on: day(2026, 4, 1),
            requested_by: "u1".into(),
            decided_at: Some(now),
            decided_by: s("u2"),
            created_at: now,
            updated_at: now,
        },
    )
    .await;
    let r1 = referral::Model {
        id: "r1".into(),
        requested_by_id: "a2".into(),
        target_id: "a1".into(),
        project_id: s("pr1"),
        received_on: day(2026, 1, 5),
        province: s("TO"),
        status: "CONCLUSA".into(),
        scheduled_on: Some(day(2026, 1, 7)),
        concluded_on: Some(day(2026, 1, 9)),
        subject_ref: s("rif-1"),
        subject_gender: s("F"),
        subject_nationality: s("NG"),
        outcome: s("PRESA_IN_CARICO"),
        programme_adhesion: Some(true),
        outcome_note: s("esito"),
        case_id: s("k1"),
        version: 4,
        created_by: "u3".into(),
        created_at: now,
        updated_at: now,
    };
    roundtrip::<referral::Entity>(db, r1.clone()).await;
    roundtrip::<referral_interview::Entity>(
        db,
        referral_interview::Model {
            id: "ri1".into(),
            referral_id: "r1".into(),
            held_on: day(2026, 1, 8),
            notes: s("note"),
            recorded_by: "u1".into(),
            created_at: now,
            updated_at: now,
        },
    )
    .await;

    // The access log: seq assigned by the database and increasing; a fork
    // (second successor of the same entry) is refused; the chain itself is checked by
    // `raccordo audit verify`.
    let entry = |prev: &str, hash: &str| access_log::ActiveModel {
        seq: NotSet,
        at: Set(now),
        user_id: Set("u1".into()),
        agency_id: Set(Some("a1".into())),
        role: Set("OPERATORE".into()),
        case_id: Set(Some("k1".into())),
        operation: Set("case".into()),
        relationships: Set("OWNER,JOINT".into()),
        classes: Set("IDENTITY,HEALTH".into()),
        detail: Set(Some("emergenza".into())),
        prev_hash: Set(prev.into()),
        hash: Set(hash.into()),
    };
    let genesis = "0".repeat(64);
    let l1 = entry(&genesis, "h1").insert(db).await.expect("log 1");
    let l2 = entry("h1", "h2").insert(db).await.expect("log 2");
    assert!(l2.seq > l1.seq);
    assert_eq!(l2.relationships, "OWNER,JOINT");
    assert!(is_unique_violation(&refused(
        entry("h1", "h3").insert(db).await
    )));
    // The log has no foreign keys: it mentions a case that does not exist.
    let mut ghost = entry("h2", "h4");
    ghost.case_id = Set(Some("no-such-case".into()));
    ghost.agency_id = Set(Some("no-such-agency".into()));
    ghost.insert(db).await.expect("log without foreign keys");

    // Relations resolve on this backend.
    let owner = k1
        .find_related(agency::Entity)
        .one(db)
        .await
        .expect("owner");
    assert_eq!(owner.map(|a| a.id), Some("a1".to_owned()));
    assert_eq!(
        k1.find_related(consent::Entity)
            .all(db)
            .await
            .expect("consents")
            .len(),
        1
    );
    assert_eq!(
        k1.find_related(referral::Entity)
            .all(db)
            .await
            .expect("referrals")
            .len(),
        1
    );
    let members = n1
        .find_linked(network::MemberAgencies)
        .all(db)
        .await
        .expect("members");
    assert_eq!(members.len(), 2);
    let enti = pr1.find_linked(project::Enti).all(db).await.expect("enti");
    assert_eq!(enti.into_iter().map(|a| a.id).collect::<Vec<_>>(), ["a2"]);
    let signed = a2
        .find_related(protocol::Entity)
        .all(db)
        .await
        .expect("protocols");
    assert_eq!(signed.into_iter().map(|p| p.id).collect::<Vec<_>>(), ["p1"]);
    let signatories = p1
        .find_related(agency::Entity)
        .all(db)
        .await
        .expect("signatories");
    assert_eq!(signatories.len(), 1);
    let (_, case) = referral::Entity::find_by_id("r1")
        .find_also_related(case::Entity)
        .one(db)
        .await
        .expect("referral with case")
        .expect("r1");
    assert_eq!(case.map(|c| c.code), Some(k1.code.clone()));

    // ON DELETE RESTRICT: an agency that owns a case cannot go.
    let err = refused(agency::Entity::delete_by_id("a1").exec(db).await);
    assert!(
        is_restrict_refusal(&err, db.get_database_backend()),
        "{err}"
    );
    // ON DELETE CASCADE: link rows and interviews go with their parent.
    referral::Entity::delete_by_id("r1")
        .exec(db)
        .await
        .expect("delete referral");
    assert!(referral_interview::Entity::find()
        .all(db)
        .await
        .expect("interviews")
        .is_empty());
    network::Entity::delete_by_id("n1")
        .exec(db)
        .await
        .expect("delete network");
    assert!(network_member::Entity::find()
        .filter(network_member::Column::NetworkId.eq("n1"))
        .all(db)
        .await
        .expect("members")
        .is_empty());

    Migrator::down(db, None).await.expect("down with data");
    db.clone().close().await.expect("close");
}

#[tokio::test]
async fn sqlite_schema_contract() {
    on_fresh_sqlite(contract).await;
}

#[tokio::test]
async fn postgres_schema_contract() {
    on_fresh_postgres(contract).await;
}
