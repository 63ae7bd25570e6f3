//! The `ferrozk` binary: serves by default; subcommands for tools.
//! Everything lives in [`ferrozk::cli`]; this only maps failures to
//! `ferrozk: <error>` on stderr and an exit status (2 for configuration and
//! usage errors, 1 for server failures).

use std::process::ExitCode;

use clap::Parser;
use ferrozk::cli::{self, Cli};

fn main() -> ExitCode {
    match cli::run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(cli::CliError::Shell(code)) => ExitCode::from(code),
        Err(e) => {
            eprintln!("ferrozk: {e}");
            e.exit_code()
        }
    }
}
