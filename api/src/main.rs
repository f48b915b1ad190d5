//! The `raccordo` binary.

use std::process::ExitCode;

use clap::Parser;
use raccordo_api::{
    audit, auth,
    cli::{AuditAction, Cli, Command, PolicyAction, StatisticsAction},
    config::Settings,
    demo,
    error::ApiError,
    graphql, import, load_policy, prepare, releases, report, start,
};
use raccordo_policies::UserRole;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    raccordo_api::logging::init(&cli.settings.log_format);
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "raccordo: {}",
                match &e {
                    ApiError::Internal(d) => d.to_string(),
                    ApiError::Setup(d) => d.clone(),
                    other => other.to_string(),
                }
            );
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, ApiError> {
    if cfg!(feature = "unenforced-baseline") {
        return Err(ApiError::Setup(
            "this binary was built with the unenforced-baseline feature (benchmarks only) and does not run".into(),
        ));
    }
    let mut settings = cli.settings;
    match cli.command {
        Command::Serve { demo: with_demo } => {
            if with_demo && settings.tokens.jwt_secret.is_none() {
                // A demo needs tokens; a fresh random secret makes them valid for this run only.
                settings.tokens.jwt_secret = Some(uuid::Uuid::new_v4().simple().to_string());
                println!("No RACCORDO_JWT_SECRET was set: this demo run signs its tokens with a fresh random secret.");
            }
            let state = prepare(&settings).await?;
            if !state.verifier.has_keys() {
                tracing::warn!("no token key is configured: every token will be refused and only the public directory answers");
            }
            let db = state.db.clone();
            // Listen first: on a busy port the hub says so before printing any token.
            let hub = start(state, &settings.bind, &settings.limits).await?;
            if with_demo {
                if demo::seed_demo(&db).await? {
                    println!("Loaded the demo network and synthetic cases.");
                } else {
                    println!("The database already has data: the demo was not loaded again.");
                }
                print_demo_tokens(&db, &settings).await?;
            }
            println!("listening on http://{}", hub.addr);
            println!("Home page: http://{}/", hub.addr);
            println!("Network map: http://{}/map", hub.addr);
            println!("GraphiQL: http://{}/graphql", hub.addr);
            hub.run_until_signal().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            prepare(&settings).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed { .. } => {
            let state = prepare(&settings).await?;
            if demo::seed_demo(&state.db).await? {
                println!("Loaded the demo network and synthetic cases.");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("raccordo: the database is not empty; the demo loads only into an empty database");
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Token {
            agency,
            role,
            user,
            ttl,
        } => {
            let role: UserRole = role.to_ascii_uppercase().parse().map_err(|_| {
                ApiError::Setup(format!(
                    "unknown role {role:?}: use OPERATOR, COORDINATOR, ANALYST or PLATFORM_ADMIN"
                ))
            })?;
            let ttl = auth::parse_ttl(&ttl).map_err(ApiError::Setup)?;
            if role == UserRole::PlatformAdmin && agency.is_some() {
                return Err(ApiError::Setup(
                    "a PLATFORM_ADMIN belongs to no partner agency: omit --agency".into(),
                ));
            }
            if role != UserRole::PlatformAdmin && agency.is_none() {
                return Err(ApiError::Setup(
                    "--agency is required for every role but PLATFORM_ADMIN".into(),
                ));
            }
            let token = auth::mint(&settings.tokens, &user, agency.as_deref(), role, ttl)
                .map_err(|e| ApiError::Setup(e.to_string()))?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            let state = prepare(&settings).await?;
            match audit::verify(&state.db).await? {
                Ok(n) => {
                    println!("access log intact: {n} entries");
                    Ok(ExitCode::SUCCESS)
                }
                Err(broken) => {
                    eprintln!(
                        "access log BROKEN at entry {}: {}",
                        broken.seq, broken.reason
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Policy {
            action: PolicyAction::Check { file },
        } => {
            let path = file.or(settings.policy.clone());
            let policy = load_policy(path.as_deref())?;
            println!(
                "policy document {} is valid: every field of the schema is classified",
                policy.version()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Policy {
            action: PolicyAction::Matrix,
        } => {
            let policy = load_policy(settings.policy.as_deref())?;
            print!("{}", policy.matrix_markdown());
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema {
            viewer: None,
            federation: false,
        } => {
            print!("{}", graphql::tidy_sdl(&graphql::sdl()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema {
            viewer: None,
            federation: true,
        } => {
            print!("{}", graphql::tidy_sdl(&graphql::federation_sdl()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema {
            viewer: Some(viewer),
            ..
        } => {
            let policy = load_policy(settings.policy.as_deref())?;
            let viewer = parse_viewer(&viewer)?;
            let views = graphql::view::Views::new(&policy, &graphql::sdl());
            print!("{}", graphql::tidy_sdl(&views.sdl(viewer.as_ref())));
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { what } => import::command::import_command(&settings, what).await,
        Command::Export { what } => import::command::export_command(&settings, what).await,
        Command::Report(args) => report::command::report_command(&settings, args).await,
        Command::Statistics {
            action:
                StatisticsAction::Release {
                    period,
                    province,
                    format,
                },
        } => {
            let state = prepare(&settings).await?;
            let text =
                releases::command::release_command(&state, &period, province.as_deref(), format)
                    .await?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `anonymous`, or `KIND:ROLE` with `-` for no agency (the platform admin).
fn parse_viewer(text: &str) -> Result<Option<raccordo_policies::Viewer>, ApiError> {
    if text.eq_ignore_ascii_case("anonymous") {
        return Ok(None);
    }
    let bad = || {
        ApiError::Setup(format!(
            "--viewer {text:?}: use `anonymous` or KIND:ROLE, e.g. QUESTURA:OPERATOR or -:PLATFORM_ADMIN"
        ))
    };
    let (kind, role) = text.split_once(':').ok_or_else(bad)?;
    let agency_kind = match kind {
        "-" => None,
        k => Some(k.parse().map_err(|_| bad())?),
    };
    Ok(Some(raccordo_policies::Viewer {
        role: role.parse().map_err(|_| bad())?,
        agency_kind,
    }))
}

/// One token per demo agency and role, and one for the platform admin.
async fn print_demo_tokens(
    db: &sea_orm::DatabaseConnection,
    settings: &Settings,
) -> Result<(), ApiError> {
    let agencies = demo::agency_ids(db).await?;
    let mint = |agency: Option<&str>, role: UserRole, user: &str| {
        auth::mint(&settings.tokens, user, agency, role, 8 * 3600)
            .map_err(|e| ApiError::Setup(e.to_string()))
    };
    println!("\nDemo tokens (valid 8 hours), one per agency and role:");
    println!("{:<32} {:<12} token", "agency", "role");
    for (id, _) in &agencies {
        for role in [UserRole::Operator, UserRole::Coordinator, UserRole::Analyst] {
            let user = format!("{}-{}", role.as_str().to_lowercase(), id);
            println!(
                "{:<32} {:<12} {}",
                id,
                role.as_str(),
                mint(Some(id), role, &user)?
            );
        }
    }
    println!(
        "{:<32} {:<12} {}",
        "(none)",
        "PLATFORM_ADMIN",
        mint(None, UserRole::PlatformAdmin, "platform-admin")?
    );
    println!();
    Ok(())
}
