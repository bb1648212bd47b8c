//! `keel source`: event sources and their write keys.

use super::server::DbArgs;
use keel_store::Actor;
use std::process::ExitCode;

/// `keel source …`
#[derive(Debug, clap::Subcommand)]
pub enum SourceCommand {
    /// Create a source and print its new write key (alone, on standard output). It is shown once.
    Add {
        #[command(flatten)]
        db: DbArgs,
        /// Unique name, e.g. `website` or `mobile-app`.
        #[arg(long)]
        name: String,
    },
    /// List sources.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Runs a source subcommand.
pub fn source(command: SourceCommand) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(async move {
        match command {
            SourceCommand::Add { db, name } => {
                let store = super::open_store(&db.db).await?;
                let (_, key) =
                    keel_store::events::create_source(&store, &Actor::System("cli"), &name).await?;
                println!("{key}");
                store.close().await;
            }
            SourceCommand::List { db } => {
                let store = super::open_store(&db.db).await?;
                for s in keel_store::events::sources(&store).await? {
                    println!("{}\t{}\t{}…", s.id, s.name, s.write_key_prefix);
                }
                store.close().await;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
