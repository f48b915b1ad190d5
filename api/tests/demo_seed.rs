//! Loading the demo from two hubs at once on one empty PostgreSQL database: one loads it, the
//! other waits and finds it loaded (it used to fail on a duplicate key and not start).

use raccordo_api::demo::seed_demo;
use sea_orm::{ConnectionTrait, Database};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hubs_seeding_at_once_load_the_demo_once() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set: the PostgreSQL demo-seeding test is skipped");
        return;
    };
    let name = format!("raccordo_t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("PostgreSQL answers");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create the database");
    let url = match admin_url.rfind('/') {
        Some(i) => format!("{}/{name}", &admin_url[..i]),
        None => panic!("TEST_DATABASE_URL must end with /DATABASE"),
    };
    let result = async {
        let counter = raccordo_api::db::StatementCounter::default();
        let a = raccordo_api::db::connect(&url, &counter)
            .await
            .expect("connect");
        raccordo_api::db::migrate(&a).await.expect("migrate");
        let b = raccordo_api::db::connect(&url, &counter)
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
        (loaded, agencies)
    }
    .await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .ok();
    let (loaded, agencies) = result;
    assert_eq!(
        loaded.iter().filter(|l| **l).count(),
        1,
        "exactly one hub loads the demo: {loaded:?}"
    );
    assert_eq!(agencies, Some(106));
}
