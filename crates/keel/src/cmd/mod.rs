//! Subcommands of the `keel` binary, one module per area. Each returns the process exit code.

pub mod access;
pub mod attribution;
pub mod checks;
pub mod consent;
pub mod contacts;
pub mod events;
pub mod manifests;
pub mod matching;
pub mod notify;
pub mod ops;
pub mod privacy;
pub mod server;
pub mod work;

/// A Tokio runtime for subcommands that talk to the database.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Connects to the database and brings its schema up to date.
pub async fn open_store(url: &str) -> anyhow::Result<keel_store::Store> {
    use anyhow::Context;
    let store = keel_store::Store::connect(url)
        .await
        .with_context(|| format!("cannot open the database at {url}"))?;
    keel_store::migrations::migrate(&store)
        .await
        .context("cannot bring the database schema up to date")?;
    Ok(store)
}
