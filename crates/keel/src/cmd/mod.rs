//! Subcommands of the `keel` binary, one module per area. Each returns the process exit code.

pub mod attribution;
pub mod checks;
pub mod consent;
pub mod manifests;
pub mod matching;
