//! The command line as the contract README describes it, run as a real process.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use sea_orm::{ConnectionTrait, Database};

const BIN: &str = env!("CARGO_BIN_EXE_raccordo");

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "raccordo-cli-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn raccordo(dir: &Path, args: &[&str]) -> std::process::Output {
    raccordo_tests::raccordo(BIN, dir, args)
}

#[test]
fn schema_has_every_contract_name() {
    let dir = workdir("schema");
    let out = raccordo(&dir, &["schema"]);
    assert!(out.status.success());
    let sdl = dir.join("schema.graphql");
    std::fs::write(&sdl, &out.stdout).expect("write sdl");
    let checker = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/tools/contract_check.py"
    );
    if !std::path::Path::new(checker).exists() {
        eprintln!("../shared is not beside the repo: contract check skipped");
        return;
    }
    let check = Command::new("python3")
        .arg(checker)
        .arg(&sdl)
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("0 contract names missing"));
}

#[test]
fn token_needs_a_secret_and_a_known_role() {
    let dir = workdir("token");
    let out = raccordo(
        &dir,
        &["token", "--agency", "micaela-bg", "--role", "OPERATOR"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("secret"));
    let out = raccordo(
        &dir,
        &[
            "--jwt-secret",
            "s",
            "token",
            "--agency",
            "micaela-bg",
            "--role",
            "OPERATOR",
            "--ttl",
            "30m",
        ],
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .split('.')
            .count(),
        3
    );
    let out = raccordo(
        &dir,
        &[
            "--jwt-secret",
            "s",
            "token",
            "--agency",
            "x",
            "--role",
            "BOSS",
        ],
    );
    assert!(!out.status.success());
}

#[test]
fn policy_check_and_matrix() {
    let dir = workdir("policy");
    let out = raccordo(&dir, &["policy", "check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/protocol.toml"
    ))
    .expect("protocol");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, shipped.replacen("\"IDENTITY\"", "\"IDENTITEE\"", 1)).expect("write");
    let out = raccordo(&dir, &["policy", "check", bad.to_str().unwrap_or_default()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line "),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = raccordo(&dir, &["policy", "matrix"]);
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/MATRIX.md"
    ))
    .expect("MATRIX.md");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        committed,
        "policies/MATRIX.md is stale: regenerate it with `raccordo policy matrix`"
    );
}

#[tokio::test]
async fn serve_demo_prints_address_and_tokens_then_audit_verifies() {
    let dir = workdir("serve");
    let mut child = Command::new(BIN)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .env_remove("RACCORDO_JWT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut token = None;
    let mut address = None;
    for line in lines.by_ref() {
        let line = line.expect("line");
        if line.starts_with("micaela-bg ") && line.contains(" OPERATOR ") {
            token = line.split_whitespace().last().map(str::to_string);
        }
        if let Some(a) = line.strip_prefix("listening on ") {
            address = Some(a.to_string());
            break;
        }
    }
    let (address, token) = (
        address.expect("listening line"),
        token.expect("a token for micaela-bg"),
    );
    assert!(
        dir.join("raccordo.db").exists(),
        "the embedded database is created in the working folder"
    );
    let client = reqwest::Client::new();
    let body: serde_json::Value = client
        .post(format!("{address}/graphql"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "query": "{ cases(first: 2) { totalCount edges { node { alias nationality } } } }" }))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert!(
        body["data"]["cases"]["totalCount"].as_i64().unwrap_or(0) > 0,
        "{body}"
    );
    let _ = child.kill();
    let _ = child.wait();

    // The reads above were logged; the chain verifies, and breaks when an entry is altered.
    let out = raccordo(&dir, &["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = format!("sqlite://{}?mode=rw", dir.join("raccordo.db").display());
    let db = Database::connect(&url).await.expect("open");
    db.execute_unprepared(
        "UPDATE access_log SET classes = 'BASE' WHERE seq = (SELECT MIN(seq) FROM access_log)",
    )
    .await
    .expect("tamper");
    db.close().await.ok();
    let out = raccordo(&dir, &["audit", "verify"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("entry 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `raccordo statistics release`: refuses malformed, unknown and open periods and bad provinces
/// without writing anything, then publishes a release once and prints the same release again.
#[test]
fn statistics_release_publishes_once() {
    let dir = workdir("release");
    let db = format!("sqlite://{}?mode=rwc", dir.join("r.db").display());
    let seeded = raccordo(&dir, &["--database-url", &db, "seed", "--demo"]);
    assert!(seeded.status.success(), "{seeded:?}");
    for args in [
        &["--period", "2023-Q5"][..],
        &["--period", "2023-13"][..],
        &["--period", "2999"][..],
        &["--period", "2023", "--province", "XX"][..],
    ] {
        let mut all = vec!["--database-url", db.as_str(), "statistics", "release"];
        all.extend_from_slice(args);
        let out = raccordo(&dir, &all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(
            err.contains("--period") || err.contains("--province"),
            "{args:?}: {err}"
        );
    }
    let json = |dir: &PathBuf| {
        let out = raccordo(
            dir,
            &[
                "--database-url",
                &db,
                "statistics",
                "release",
                "--period",
                "2022",
                "--format",
                "json",
            ],
        );
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON")
    };
    let first = json(&dir);
    assert_eq!(first["period"], "2022");
    assert_eq!(first["province"], serde_json::Value::Null);
    assert!(first["tables"].as_array().is_some_and(|t| !t.is_empty()));
    assert_eq!(json(&dir), first, "printed again, never recomputed");
    let md = raccordo(
        &dir,
        &[
            "--database-url",
            &db,
            "statistics",
            "release",
            "--period",
            "2022",
        ],
    );
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(
        text.contains("# Statistics release 2022 (the whole hub)"),
        "{text}"
    );
    assert!(text.contains("## cases by NATIONALITY × GENDER"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 15: `serve --demo` on a busy port says so, and prints no token for a hub that never ran.
#[test]
fn serve_demo_on_a_busy_port_says_so_before_any_token() {
    let dir = workdir("busy");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("its address").port();
    let bind = format!("127.0.0.1:{port}");
    let out = raccordo(
        &dir,
        &[
            "serve",
            "--demo",
            "--bind",
            &bind,
            "--database-url",
            &format!("sqlite://{}?mode=rwc", dir.join("hub.db").display()),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {bind}")),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("eyJ"),
        "tokens printed for a hub that never ran: {stdout}"
    );
    drop(taken);
}

/// Issue 15: `raccordo schema` prints no stray tabs: a tab only ever indents a line.
#[test]
fn schema_prints_no_stray_tabs() {
    let dir = workdir("tabs");
    for args in [&["schema"][..], &["schema", "--federation"][..]] {
        let out = raccordo(&dir, args);
        assert!(out.status.success());
        let sdl = String::from_utf8_lossy(&out.stdout);
        for (i, line) in sdl.lines().enumerate() {
            assert!(
                !line.trim_start_matches('\t').contains('\t'),
                "{args:?} line {}: {line:?}",
                i + 1
            );
        }
    }
}
