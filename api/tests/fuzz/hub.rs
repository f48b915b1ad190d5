//! The hub as a child process that a test can see die and start again.

use std::time::Duration;

use crate::support::{hub_settings, serve_args, BIN};

/// The development secret the hub accepts and the tests sign their tokens with.
pub const SECRET: &str = "fuzz-secret-not-for-production";

/// The hub process: the real `raccordo serve`, so that a crash (a stack overflow aborts the whole
/// process) is a failed case with a shrunk input, not the end of the test binary.
pub struct HubProcess {
    pub child: std::process::Child,
    pub url: String,
    log: std::path::PathBuf,
    /// How many times the hub had to be started again after dying.
    pub restarts: usize,
}

impl HubProcess {
    /// Starts the hub (the `n`th start in `dir`) and waits until it listens.
    pub fn spawn(database_url: &str, dir: &std::path::Path, n: usize) -> HubProcess {
        // Standard output goes to a file that is polled, not to a pipe: the tests drive the hub
        // from plain threads, and a file never fills up the way an undrained pipe does.
        let out = dir.join(format!("stdout-{n}.txt"));
        let log = dir.join(format!("stderr-{n}.txt"));
        let mut command = std::process::Command::new(BIN);
        for key in hub_settings() {
            command.env_remove(key);
        }
        let child = command
            .args(serve_args(
                database_url,
                SECRET,
                &[
                    "--jwt-issuer",
                    "raccordo",
                    "--jwt-audience",
                    "raccordo",
                    // The throttle has its own tests; here it would only make the generated
                    // documents (many at the complexity cap) wait out a minute's cost budget,
                    // and the request rates (every request counts, even those the limits
                    // refuse) wait out a minute's requests.
                    "--rate-limit-user",
                    "1000000",
                    "--rate-limit-agency",
                    "1000000",
                    "--cost-limit-user",
                    "1000000000",
                    "--cost-limit-agency",
                    "1000000000",
                ],
            ))
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&log).expect("stderr file"))
            .spawn()
            .expect("raccordo starts");
        let mut hub = HubProcess {
            child,
            url: String::new(),
            log,
            restarts: 0,
        };
        let started = std::time::Instant::now();
        loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            if let Some(addr) = text
                .lines()
                .find_map(|l| l.strip_prefix("listening on http://"))
            {
                hub.url = format!("http://{}/graphql", addr.trim());
                return hub;
            }
            if let Ok(Some(status)) = hub.child.try_wait() {
                panic!("raccordo serve exited ({status}): {}", hub.log_tail());
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "raccordo serve did not listen within 300 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
