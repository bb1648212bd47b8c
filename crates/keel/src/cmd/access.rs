//! `keel user`, `keel token` and `keel audit`.

use super::server::DbArgs;
use anyhow::{Context, bail};
use keel_accounts::{EmailAddress, Role, hash_password, new_api_token};
use keel_store::Actor;
use keel_store::accounts::{self, NewUser};
use std::io::Read;
use std::process::ExitCode;

/// `keel user …`
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add a user. Without --password-stdin the user can only sign in after a password is set.
    Add {
        #[command(flatten)]
        db: DbArgs,
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Role (repeat for several): admin, ops, requester, approver, privacy, finance, sales, viewer.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `keel token …`
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (alone, on standard output). It is shown once.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// The user's e-mail.
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long, default_value = "command line")]
        label: String,
        /// Limit the token to these roles (repeatable; default: all the user's roles).
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
}

/// `keel audit …`
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain; exit 1 and name the first bad entry if any row was changed or deleted.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
}

fn parse_roles(raw: &[String]) -> anyhow::Result<Vec<Role>> {
    raw.iter()
        .map(|r| r.parse::<Role>().map_err(anyhow::Error::from))
        .collect()
}

/// Runs a user subcommand.
pub fn user(command: UserCommand) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(async move {
        match command {
            UserCommand::Add {
                db,
                email,
                name,
                roles,
                password_stdin,
            } => {
                let email = EmailAddress::parse(&email).context("--email")?;
                let roles = parse_roles(&roles).context("--role")?;
                if name.trim().is_empty() {
                    bail!("--name must not be empty");
                }
                let password_hash = if password_stdin {
                    let mut input = String::new();
                    std::io::stdin().read_to_string(&mut input)?;
                    let password = input.lines().next().unwrap_or("").to_string();
                    Some(hash_password(&password).context("password from standard input")?)
                } else {
                    None
                };
                let store = super::open_store(&db.db).await?;
                let user = accounts::create_user(
                    &store,
                    &Actor::System("cli"),
                    &NewUser {
                        email,
                        name,
                        password_hash,
                        roles,
                    },
                )
                .await?;
                let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
                println!(
                    "Added user {} <{}> (id {}) with roles: {}",
                    user.user.name,
                    user.user.email,
                    user.user.id,
                    roles.join(", ")
                );
                store.close().await;
                Ok(ExitCode::SUCCESS)
            }
            UserCommand::List { db } => {
                let store = super::open_store(&db.db).await?;
                let (users, _) = accounts::list_users(&store, None, 10_000, 0).await?;
                for u in users {
                    let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        u.user.id,
                        u.user.email,
                        u.user.name,
                        roles.join(","),
                        if u.user.active {
                            "active"
                        } else {
                            "deactivated"
                        }
                    );
                }
                store.close().await;
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// Runs a token subcommand.
pub fn token(command: TokenCommand) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(async move {
        match command {
            TokenCommand::Create { db, email, label, scopes } => {
                let email = EmailAddress::parse(&email).context("--email")?;
                let store = super::open_store(&db.db).await?;
                let Some(user) = accounts::user_by_email(&store, &email).await? else {
                    bail!("no user with e-mail {email}");
                };
                let scopes = if scopes.is_empty() { user.roles.clone() } else { parse_roles(&scopes).context("--scope")? };
                if let Some(extra) = scopes.iter().find(|r| !user.roles.contains(r)) {
                    bail!("{email} does not hold the role `{extra}`, so a token cannot be scoped to it");
                }
                let secret = new_api_token();
                accounts::create_token(&store, &Actor::System("cli"), user.user.id, &label, &scopes, &secret).await?;
                println!("{}", secret.secret);
                store.close().await;
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// Runs an audit subcommand.
pub fn audit(command: AuditCommand) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(async move {
        match command {
            AuditCommand::Verify { db } => {
                let store = super::open_store(&db.db).await?;
                let v = keel_store::audit::verify(&store).await?;
                store.close().await;
                match v.error {
                    None => {
                        println!(
                            "Audit log intact: {} entries verified, head {}",
                            v.checked, v.head
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Some(error) => {
                        println!("Audit log BROKEN: {error}");
                        println!("{} entries before it verified.", v.checked);
                        Ok(ExitCode::from(1))
                    }
                }
            }
        }
    })
}
