//! The test kit of the workspace, one copy of each piece every harness needs:
//!
//! - throw-away databases: a fresh PostgreSQL database on the server `TEST_DATABASE_URL` names
//!   ([`PgDatabase`]) and a fresh SQLite file ([`SqliteFile`]), both removed when they go, also
//!   when the test fails;
//! - the hub as a child process ([`Harness`], [`Starting`], [`Hub`]), short `raccordo` commands
//!   ([`Harness::raccordo`], [`raccordo`]) and tokens minted by `raccordo token`
//!   ([`Harness::token`]);
//! - a GraphQL client ([`post`], [`ok`], [`Reply`]) and work folders ([`WorkDir`]).
//!
//! The in-process harness (`tests/tests/common`), the process harness (`api/tests/support`) and
//! the command-line tests (`api/tests/cli.rs`) all use it. What differs between the tests (the
//! binary, the secret, the extra `serve` arguments, the waits, the log file names) is a
//! parameter, mostly a [`Harness`] value in the test itself.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, BufReader, Lines},
    process::{Child, ChildStdout, Command},
};

/// The arguments of `raccordo serve` on a free loopback port (the hub prints the one it got), on
/// `database_url`, accepting HS256 tokens signed with `secret`; then `extra`.
pub fn serve_args<'a>(database_url: &'a str, secret: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        database_url,
        "--jwt-secret",
        secret,
    ];
    args.extend_from_slice(extra);
    args
}

/// What a `raccordo` child process must not inherit: `DATABASE_URL` and every `RACCORDO_*`
/// variable of this environment. Each is a setting, and one the test passes no flag for (a
/// developer's own `RACCORDO_POLICY` or `RACCORDO_MAX_DEPTH`) would change the hub under test.
pub fn hub_settings() -> Vec<std::ffi::OsString> {
    std::env::vars_os()
        .map(|(key, _)| key)
        .filter(|key| key == "DATABASE_URL" || key.to_string_lossy().starts_with("RACCORDO_"))
        .collect()
}

/// How one test runs `raccordo`: the parts that differ between the tests.
pub struct Harness {
    /// The `raccordo` binary under test (`env!("CARGO_BIN_EXE_raccordo")` in its crate's tests).
    pub bin: &'static str,
    /// The development HS256 secret the hubs accept and `raccordo token` signs with.
    pub secret: &'static str,
    /// `raccordo serve` arguments besides the address, the database and the secret.
    pub serve_args: &'static [&'static str],
    /// How long a hub may take to print its address, and a short command to finish. Generous,
    /// for a shared, slow machine: only how long we wait, never asserted on.
    pub start_wait: Duration,
}

impl Harness {
    /// `raccordo` in `dir`, with no standard input. `kill_on_drop`: a test that fails, or stops
    /// waiting for it, leaves no process behind.
    fn command(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(self.bin);
        cmd.current_dir(dir).stdin(Stdio::null()).kill_on_drop(true);
        for key in hub_settings() {
            cmd.env_remove(key);
        }
        cmd
    }

    /// Starts `raccordo serve` on `database_url`, its standard error in `dir/log_file`; `name`
    /// says which hub in failure messages. Returns before the hub listens: see
    /// [`Starting::ready`].
    pub fn spawn(&self, dir: &Path, database_url: &str, name: &str, log_file: &str) -> Starting {
        let log = dir.join(log_file);
        let stderr = std::fs::File::create(&log).expect("hub log file");
        let mut child = self
            .command(dir)
            .args(serve_args(database_url, self.secret, self.serve_args))
            // Piped: the address it listens on is read from there.
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("raccordo serve starts");
        let stdout = child.stdout.take().expect("stdout");
        Starting {
            name: name.to_string(),
            child,
            lines: BufReader::new(stdout).lines(),
            log,
            wait: self.start_wait,
        }
    }

    /// [`Harness::spawn`], then waits until the hub listens.
    pub async fn start(&self, dir: &Path, database_url: &str, name: &str, log_file: &str) -> Hub {
        self.spawn(dir, database_url, name, log_file).ready().await
    }

    /// Runs a short `raccordo` command; returns (success, stdout, stderr).
    pub async fn raccordo(&self, dir: &Path, args: &[&str]) -> (bool, String, String) {
        let out = tokio::time::timeout(self.start_wait, self.command(dir).args(args).output())
            .await
            .expect("raccordo finishes")
            .expect("raccordo runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A token minted by `raccordo token` with the test's secret.
    pub async fn token(&self, dir: &Path, agency: Option<&str>, role: &str, user: &str) -> String {
        let mut args = vec![
            "--jwt-secret",
            self.secret,
            "token",
            "--role",
            role,
            "--user",
            user,
        ];
        if let Some(a) = agency {
            args.extend(["--agency", a]);
        }
        let (ok, out, err) = self.raccordo(dir, &args).await;
        assert!(ok, "raccordo token failed: {err}");
        out.trim().to_string()
    }

    /// `raccordo audit verify` must pass; returns what it printed, trimmed.
    pub async fn audit_verify(&self, dir: &Path, database_url: &str, when: &str) -> String {
        let (ok, out, err) = self
            .raccordo(dir, &["--database-url", database_url, "audit", "verify"])
            .await;
        assert!(
            ok,
            "`raccordo audit verify` fails {when}:\nstdout: {out}\nstderr: {err}"
        );
        out.trim().to_string()
    }
}

// ------------------------------------------------------------------------------------------------
// The hub as a child process, killed whenever its guard goes (even when the test fails).
// ------------------------------------------------------------------------------------------------

/// A hub process that has not yet said where it listens.
pub struct Starting {
    name: String,
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    log: PathBuf,
    wait: Duration,
}

impl Starting {
    /// Panics, with the hub's log, if the process has already exited.
    pub fn still_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            panic!(
                "{} exited ({status}) while starting; its log:\n{log}",
                self.name
            );
        }
    }

    /// Waits for the `listening on` line; panics, with the hub's log, when none comes.
    pub async fn ready(mut self) -> Hub {
        let lines = &mut self.lines;
        let address = tokio::time::timeout(self.wait, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(a) = line.strip_prefix("listening on ") {
                    return Some(a.trim().to_string());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let Some(base) = address else {
            let _ = self.child.start_kill();
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            panic!(
                "{} printed no `listening on` line; its log:\n{log}",
                self.name
            );
        };
        // Keep draining standard output so the hub never blocks on a full pipe.
        let mut lines = self.lines;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Hub {
            name: self.name,
            child: self.child,
            url: format!("{base}/graphql"),
            base,
        }
    }
}

/// A hub process that listens.
pub struct Hub {
    /// Which hub, in messages.
    pub name: String,
    child: Child,
    /// `http://ADDRESS`, for `/readyz` and the like.
    pub base: String,
    /// The GraphQL endpoint.
    pub url: String,
}

impl Drop for Hub {
    fn drop(&mut self) {
        // SIGKILL; a no-op when it already exited. `kill_on_drop` is the second belt.
        let _ = self.child.start_kill();
    }
}

impl Hub {
    /// Stops the hub and waits until it is gone.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// SIGKILL, and the proof that the hub was still running when it came.
    #[cfg(unix)]
    pub async fn crash(&mut self) {
        use std::os::unix::process::ExitStatusExt;
        self.child.start_kill().expect("SIGKILL sent");
        let status = self.child.wait().await.expect("the hub is reaped");
        assert_eq!(
            status.signal(),
            Some(9),
            "the hub had already stopped before the kill: {status}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// GraphQL over HTTP.
// ------------------------------------------------------------------------------------------------

/// An HTTP client whose requests give up after `timeout`.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("http client")
}

/// What the hub answered to one GraphQL POST.
pub enum Reply {
    /// HTTP 200, `data`, no `errors`.
    Data(Value),
    /// The hub answered, but not with a clean success: the answer's `errors` (none when it is not
    /// JSON) and the whole answer as text.
    Refused {
        /// The answer's `errors`.
        errors: Vec<Value>,
        /// The whole answer, as text.
        answer: String,
    },
    /// No complete answer: the connection failed or was cut.
    Lost(String),
}

/// POSTs `query` with `vars` as the bearer of `token`.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    vars: Value,
) -> Reply {
    let resp = match client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return Reply::Lost(format!("no answer: {e:?}")),
    };
    let status = resp.status().as_u16();
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) => return Reply::Lost(format!("HTTP {status}, body cut: {e:?}")),
    };
    let Ok(body) = serde_json::from_str::<Value>(&text) else {
        return Reply::Refused {
            errors: Vec::new(),
            answer: format!("HTTP {status}, not JSON: {text}"),
        };
    };
    if status == 200 && body.get("errors").is_none() && !body["data"].is_null() {
        return Reply::Data(body["data"].clone());
    }
    Reply::Refused {
        errors: body["errors"].as_array().cloned().unwrap_or_default(),
        answer: format!("HTTP {status}: {body}"),
    }
}

/// For setup and checks: the request must succeed; returns its `data`.
pub async fn ok(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    vars: Value,
) -> Value {
    match post(client, url, token, query, vars).await {
        Reply::Data(data) => data,
        Reply::Refused { answer: e, .. } | Reply::Lost(e) => panic!("{e}\nquery: {query}"),
    }
}

// ------------------------------------------------------------------------------------------------
// Where the databases and logs live, and their cleanup (also when the test fails).
// ------------------------------------------------------------------------------------------------

/// A fresh folder under the system's temporary folder, removed when this goes.
pub struct WorkDir {
    path: PathBuf,
    /// What the folder holds, when it is kept for a look after a failed test.
    kept_on_failure: Option<&'static str>,
}

impl WorkDir {
    /// `raccordo-NAME-UUID`, kept (and named on standard error) when the test fails, so that
    /// what it `holds` (the hubs' logs, the database) can be looked at.
    pub fn new(name: &str, holds: &'static str) -> WorkDir {
        WorkDir::create(name, Some(holds))
    }

    /// `raccordo-NAME-UUID`, removed also when the test fails.
    pub fn scratch(name: &str) -> WorkDir {
        WorkDir::create(name, None)
    }

    fn create(name: &str, kept_on_failure: Option<&'static str>) -> WorkDir {
        let path =
            std::env::temp_dir().join(format!("raccordo-{name}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("temp dir");
        WorkDir {
            path,
            kept_on_failure,
        }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        match self.kept_on_failure {
            Some(holds) if std::thread::panicking() => {
                eprintln!("kept {} ({holds}) for a look", self.path.display());
            }
            _ => {
                let _ = std::fs::remove_dir_all(&self.path);
            }
        }
    }
}

/// A fresh PostgreSQL database `raccordo_t_<uuid>` on the server `TEST_DATABASE_URL` names, so
/// that runs never share state; dropped when this goes, also when the test fails.
pub struct PgDatabase {
    /// `TEST_DATABASE_URL`: the server, through a database that is not this one.
    pub admin_url: String,
    /// The database's name.
    pub name: String,
    /// This database's URL.
    pub url: String,
}

impl PgDatabase {
    /// Creates the database; `None`, after saying that `what` is skipped, when
    /// `TEST_DATABASE_URL` is not set.
    pub async fn create(what: &str) -> Option<PgDatabase> {
        if std::env::var("TEST_DATABASE_URL").is_err() {
            eprintln!("TEST_DATABASE_URL is not set: {what} is skipped");
        }
        PgDatabase::from_env().await
    }

    /// Creates the database on the server `TEST_DATABASE_URL` names; `None` when it is not set.
    pub async fn from_env() -> Option<PgDatabase> {
        let admin_url = std::env::var("TEST_DATABASE_URL").ok()?;
        let server = match admin_url.rfind('/') {
            Some(i) => admin_url[..i].to_string(),
            None => panic!("TEST_DATABASE_URL must end with /DATABASE"),
        };
        let name = format!("raccordo_t_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url)
            .await
            .expect("PostgreSQL answers at TEST_DATABASE_URL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
        admin.close().await.ok();
        let url = format!("{server}/{name}");
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Its own thread and runtime: this may run while a test's runtime is unwinding.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    // FORCE: a killed hub's sessions may not be gone yet.
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    admin.close().await.ok();
                }
            });
        })
        .join();
    }
}

/// A fresh SQLite file `raccordo-NAME-UUID.db` under the system's temporary folder; the file and
/// its `-wal` and `-shm` companions are removed when this goes.
pub struct SqliteFile {
    /// The file.
    pub path: PathBuf,
    /// Its URL, creating the file on first use.
    pub url: String,
}

impl SqliteFile {
    /// A new file name (the database is created when first opened).
    pub fn new(name: &str) -> SqliteFile {
        let path = std::env::temp_dir().join(format!(
            "raccordo-{name}-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        SqliteFile { path, url }
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Short commands, without a runtime.
// ------------------------------------------------------------------------------------------------

/// Runs `bin` with `args` in `dir`, without the settings of this environment
/// ([`hub_settings`]), and returns its output.
pub fn raccordo(bin: &str, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args).current_dir(dir);
    for key in hub_settings() {
        cmd.env_remove(key);
    }
    cmd.output().expect("raccordo runs")
}
