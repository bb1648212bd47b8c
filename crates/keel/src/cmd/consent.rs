//! `keel consent`: consent-string tools.

use std::process::ExitCode;

/// Consent subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ConsentCommand {
    /// Decode a TCF v2.2 or GPP string and print it as JSON.
    ///
    /// Exit code 0 when the string decodes, 1 when it is malformed (the error, with its stable
    /// code and position, is printed as JSON on standard output and as text on standard error).
    Decode {
        /// The consent string.
        string: String,
    },
}

/// Runs a consent subcommand.
pub fn run(command: ConsentCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConsentCommand::Decode { string } => match keel_consent::decode_consent_string(&string) {
            Ok(decoded) => {
                println!("{}", serde_json::to_string_pretty(&decoded)?);
                Ok(ExitCode::SUCCESS)
            }
            Err(err) => {
                let body = serde_json::json!({ "error": err, "message": err.to_string() });
                println!("{}", serde_json::to_string_pretty(&body)?);
                eprintln!("error: cannot decode consent string: {err}");
                Ok(ExitCode::from(1))
            }
        },
    }
}
