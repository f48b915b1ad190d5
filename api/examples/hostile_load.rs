//! Load run for issue 19, item 1: does a hostile partner at its caps slow another partner down?
//!
//! Starts a hub on 127.0.0.1 (its own runtime and threads, default limits and throttle) on a fresh
//! SQLite file (or on `DATABASE_URL`), and measures another partner's `cases(first: 20)` latency
//! in windows that alternate: the hub idle, then a hostile agency's 16 connections (its in-flight
//! cap) sending, without pause and ignoring `Retry-After`, both the issue's attack (10 operations
//! × 20 aliased `_entities` over one variable of 1,000 representations, every field) and the most
//! expensive request the limits let through. Alternating windows put the machine's own noise
//! (other builds on a shared 2-core machine) on both sides alike. Bounded: `LOAD_SECONDS` of each
//! (default 20), loopback only. Not part of `cargo test`:
//!
//! ```text
//! cargo run -p raccordo-api --example hostile_load
//! LOAD_SECONDS=30 DATABASE_URL=postgres://postgres@127.0.0.1:5432/load cargo run -p raccordo-api --example hostile_load
//! ```

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use raccordo_api::{auth, config::Settings, limits::Limits, prepare, start};
use raccordo_policies::UserRole;
use serde_json::{json, Value};

const SECRET: &str = "load-test-secret";
const HOSTILE_CONNECTIONS: usize = 16;
const VICTIM_USERS: usize = 10;
/// Each window, idle or hostile, lasts this long.
const WINDOW_SECONDS: u64 = 4;
/// The first part of a window is not measured: the hostile partner's last requests drain (their
/// deadline is 10 s, but the at-cap request takes well under a second), or its load builds up.
const SETTLE_MS: u64 = 1_500;
const VICTIM_QUERY: &str =
    "{ cases(first: 20) { edges { node { id code phase openedOn owner { name } } } } }";
/// Every field of a case with its nested lists, as the issue's reproduction selects.
const EVERY_FIELD: &str = "... on Case { id code phase openedOn closedOn version gender ageGroup nationality exploitation emersionChannel emersionProvince accompanyingMinors pregnant alias legalName birthDate phone permitAtStart permitCurrent permitExpiresOn asylumStatus complaintFiled complaintFiledOn healthNotes psychSupport gbvIndicators gbvRiskLevel outcome outcomeOn notes { id text writtenAt author { id name } } activities { id kind startedOn } access { relationships visibleClasses } owner { id name } }";

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Runs the hub on its own two worker threads, as a deployed hub has its own cores; returns its
/// GraphQL URL and what stops it.
fn serve(settings: Settings) -> Res<(String, tokio::sync::oneshot::Sender<()>)> {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel::<Result<String, String>>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                let _ = addr_tx.send(Err(e.to_string()));
                return;
            }
        };
        runtime.block_on(async move {
            let hub = match prepare(&settings).await {
                Ok(state) => start(state, &settings.bind, &settings.limits).await,
                Err(e) => Err(e),
            };
            match hub {
                Ok(hub) => {
                    let _ = addr_tx.send(Ok(hub.graphql_url()));
                    let _ = stop_rx.await;
                    hub.stop().await;
                }
                Err(e) => {
                    let _ = addr_tx.send(Err(e.to_string()));
                }
            }
        });
    });
    let url = addr_rx.recv()??;
    Ok((url, stop_tx))
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn post(&self, token: &str, body: &Value) -> Res<(u16, Value)> {
        self.post_bytes(token, serde_json::to_vec(body)?).await
    }

    /// Sends a body serialised beforehand: the load generator shares the machine with the hub,
    /// and serialising 600 KB for every request would be its work, not the hub's.
    async fn post_bytes(&self, token: &str, body: Vec<u8>) -> Res<(u16, Value)> {
        let resp = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await?))
    }

    async fn ok(&self, token: &str, query: &str, variables: Value) -> Res<Value> {
        let (status, answer) = self
            .post(token, &json!({ "query": query, "variables": variables }))
            .await?;
        if status != 200 || answer.get("errors").is_some() {
            return Err(format!("{status}: {answer}").into());
        }
        Ok(answer["data"].clone())
    }
}

fn token(s: &Settings, user: &str, agency: Option<&str>, role: UserRole) -> Res<String> {
    Ok(auth::mint(&s.tokens, user, agency, role, 3600)?)
}

/// p50, p99 and the largest of `samples`, in milliseconds.
fn percentiles(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.99), at(1.0))
}

async fn victim_run(
    client: &Client,
    tokens: &[String],
    until: impl Fn(usize) -> bool,
) -> Res<Vec<Duration>> {
    let body = json!({ "query": VICTIM_QUERY });
    let mut samples = Vec::new();
    let mut i = 0;
    while !until(i) {
        let started = Instant::now();
        let (status, answer) = client.post(&tokens[i % tokens.len()], &body).await?;
        let took = started.elapsed();
        if status != 200 || answer.get("errors").is_some() {
            return Err(format!("the victim was refused: {status} {answer}").into());
        }
        samples.push(took);
        i += 1;
    }
    Ok(samples)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Res<()> {
    let seconds: u64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .clamp(1, 120);
    let dir = std::env::temp_dir().join(format!("raccordo-load-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let database_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.join("hub.db").display()));
    let s = Settings::loopback(database_url.clone(), SECRET, Limits::default());
    let (url, stop) = serve(s.clone())?;
    if !url.starts_with("http://127.0.0.1:") {
        return Err(format!("the hub must listen on loopback, not {url}").into());
    }
    let client = Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(64)
            .build()?,
        url,
    };

    // Two agencies: the hostile one with 21 cases (as the issue's), the victim with 20.
    let admin = token(&s, "admin", None, UserRole::PlatformAdmin)?;
    let mut agencies = Vec::new();
    for name in ["Ostile", "Vittima"] {
        let d = client
            .ok(
                &admin,
                "mutation($i: AgencyInput!) { createAgency(input: $i) { id } }",
                json!({ "i": { "name": name, "kind": "ENTE_ANTITRATTA", "province": "BG", "referralContact": "referrals@example.org" } }),
            )
            .await?;
        agencies.push(
            d["createAgency"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let (hostile, victim) = (agencies[0].clone(), agencies[1].clone());
    let mut hostile_cases = Vec::new();
    for (agency, n, list) in [(&hostile, 21, true), (&victim, 20, false)] {
        let t = token(
            &s,
            &format!("setup-{agency}"),
            Some(agency),
            UserRole::Operator,
        )?;
        for i in 0..n {
            let d = client
                .ok(
                    &t,
                    "mutation($i: CaseInput!) { createCase(input: $i) { id } }",
                    json!({ "i": { "code": format!("C-{i:03}"), "phase": "PRIMA_ACCOGLIENZA", "openedOn": "2023-01-10", "legalName": "Nome Cognome", "phone": "3330000000", "exploitation": ["LABOUR"] } }),
                )
                .await?;
            if list {
                hostile_cases.push(
                    d["createCase"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
        }
    }
    let representations = |n: usize| -> Value {
        Value::Array(
            (0..n)
                .map(|i| json!({ "__typename": "Case", "id": hostile_cases[i % hostile_cases.len()] }))
                .collect(),
        )
    };
    // The issue's attack: 10 operations × 20 aliases over one `$r` of 1,000 representations.
    let aliases: String = (0..20)
        .map(|i| format!("a{i}: _entities(representations: $r) {{ {EVERY_FIELD} }} "))
        .collect();
    let attack_op = json!({
        "query": format!("query($r: [_Any!]!) {{ {aliases} }}"),
        "variables": { "r": representations(1000) },
    });
    let attack = Value::Array(vec![attack_op; 10]);
    // The most the limits let through: one `_entities` of every field, as many representations
    // as the complexity limit allows (each costs 1 + its selection).
    let per_item = raccordo_api::cost::of_document(
        &raccordo_api::graphql::view::SchemaMap::from_sdl(&raccordo_api::graphql::sdl())
            .ok_or("the SDL parses")?,
        None,
        &async_graphql::parser::parse_query(format!(
            "query($r: [_Any!]!) {{ _entities(representations: $r) {{ {EVERY_FIELD} }} }}"
        ))?,
        None,
        &async_graphql::Variables::from_json(json!({ "r": representations(1) })),
    )
    .complexity
        - 1;
    let at_cap_n = ((Limits::default().complexity as u64 - 1) / per_item) as usize;
    let at_cap = json!({
        "query": format!("query($r: [_Any!]!) {{ _entities(representations: $r) {{ {EVERY_FIELD} }} }}"),
        "variables": { "r": representations(at_cap_n) },
    });

    let victim_tokens: Vec<String> = (0..VICTIM_USERS)
        .map(|i| {
            token(
                &s,
                &format!("victim-{i}"),
                Some(&victim),
                UserRole::Operator,
            )
        })
        .collect::<Res<_>>()?;
    let hostile_tokens: Vec<String> = (0..HOSTILE_CONNECTIONS)
        .map(|i| {
            token(
                &s,
                &format!("hostile-{i}"),
                Some(&hostile),
                UserRole::Operator,
            )
        })
        .collect::<Res<_>>()?;

    // Warm-up, then windows of WINDOW_SECONDS that alternate: the hostile partner idle, then at
    // its caps. The victim is measured in both, side by side, so that whatever else the machine
    // does falls on both alike. Samples are taken only once a window has settled (the hostile
    // partner's last requests drained, or its load built up).
    victim_run(&client, &victim_tokens, |i| i >= 20).await?;
    // Outcome → (requests, milliseconds spent waiting for them).
    let outcomes: Arc<Mutex<BTreeMap<String, (usize, f64)>>> = Arc::default();
    let attacking = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(2 * seconds);
    let client = Arc::new(client);
    let mut hostiles = Vec::new();
    for (i, t) in hostile_tokens.into_iter().enumerate() {
        let (client, outcomes, attacking) = (client.clone(), outcomes.clone(), attacking.clone());
        let bodies = [serde_json::to_vec(&attack)?, serde_json::to_vec(&at_cap)?];
        hostiles.push(tokio::spawn(async move {
            let mut k = i;
            while Instant::now() < deadline {
                if !attacking.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                let body = &bodies[k % 2];
                let what = if k % 2 == 0 { "attack" } else { "at-cap" };
                k += 1;
                let started = Instant::now();
                let outcome = match client.post_bytes(&t, body.clone()).await {
                    Ok((status, answer)) => {
                        let code = answer["errors"][0]["extensions"]["code"]
                            .as_str()
                            .or_else(|| answer[0]["errors"][0]["extensions"]["code"].as_str())
                            .unwrap_or("ok")
                            .to_string();
                        format!("{what} {status} {code}")
                    }
                    Err(e) => format!("{what} transport error {e}"),
                };
                let took = started.elapsed().as_secs_f64() * 1000.0;
                if let Ok(mut map) = outcomes.lock() {
                    let entry = map.entry(outcome).or_default();
                    entry.0 += 1;
                    entry.1 += took;
                }
            }
        }));
    }
    let (mut idle, mut loaded) = (Vec::new(), Vec::new());
    let mut hostile = false;
    while Instant::now() + Duration::from_secs(WINDOW_SECONDS) <= deadline {
        attacking.store(hostile, Ordering::Relaxed);
        let window_ends = Instant::now() + Duration::from_secs(WINDOW_SECONDS);
        tokio::time::sleep(Duration::from_millis(SETTLE_MS)).await;
        let samples =
            victim_run(&client, &victim_tokens, |_| Instant::now() >= window_ends).await?;
        if hostile {
            loaded.extend(samples);
        } else {
            idle.extend(samples);
        }
        hostile = !hostile;
    }
    attacking.store(false, Ordering::Relaxed);
    for h in hostiles {
        let _ = h.await;
    }
    let _ = stop.send(());

    let (i50, i99, imax) = percentiles(&mut idle);
    let (l50, l99, lmax) = percentiles(&mut loaded);
    println!("hub: {database_url} (default limits and throttle); hostile: {HOSTILE_CONNECTIONS} connections, windows of {WINDOW_SECONDS} s alternating idle and hostile for {} s, the first {SETTLE_MS} ms of each not measured", 2 * seconds);
    println!("at-cap request: one _entities of every field, {at_cap_n} representations (complexity {} ≤ {})", 1 + at_cap_n as u64 * per_item, Limits::default().complexity);
    println!("victim `cases(first: 20)`   samples   p50 ms   p99 ms   max ms");
    println!(
        "idle                        {:>7}  {i50:>7.1}  {i99:>7.1}  {imax:>7.1}",
        idle.len()
    );
    println!(
        "under the hostile partner   {:>7}  {l50:>7.1}  {l99:>7.1}  {lmax:>7.1}",
        loaded.len()
    );
    println!("p99 ratio (loaded / idle): {:.2}", l99 / i99);
    println!("hostile requests by outcome (count, mean ms):");
    if let Ok(map) = outcomes.lock() {
        for (k, (n, ms)) in map.iter() {
            println!("  {n:>6}  {:>8.1}  {k}", ms / *n as f64);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
