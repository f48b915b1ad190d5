//! Loading the demo from two hubs at once on one empty PostgreSQL database: one loads it, the
//! other waits and finds it loaded (it used to fail on a duplicate key and not start).

mod support;

use raccordo_api::demo::seed_demo;
use sea_orm::ConnectionTrait;
use support::PgDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hubs_seeding_at_once_load_the_demo_once() {
    let Some(db) = PgDatabase::create("the PostgreSQL demo-seeding test").await else {
        return;
    };
    let counter = raccordo_api::db::StatementCounter::default();
    let a = raccordo_api::db::connect(&db.url, &counter)
        .await
        .expect("connect");
    raccordo_api::db::migrate(&a).await.expect("migrate");
    let b = raccordo_api::db::connect(&db.url, &counter)
        .await
        .expect("connect");
    let (first, second) = tokio::join!(seed_demo(&a), seed_demo(&b));
    let loaded = [first.expect("seeds"), second.expect("seeds")];
    let agencies = a
        .query_one(sea_orm::Statement::from_string(
            a.get_database_backend(),
            "SELECT count(*) AS n FROM agencies",
        ))
        .await
        .expect("counts")
        .and_then(|row| row.try_get::<i64>("", "n").ok());
    a.close().await.ok();
    b.close().await.ok();
    drop(db);
    assert_eq!(
        loaded.iter().filter(|l| **l).count(),
        1,
        "exactly one hub loads the demo: {loaded:?}"
    );
    assert_eq!(agencies, Some(106));
}
