//! The `ferrozk` command line: argument definitions and dispatch.
//!
//! `ferrozk` with no subcommand serves, like `ferrozk serve`. `--config`
//! and `--log-level` are global, so they work before or after the
//! subcommand. To add a subcommand: a new file here with its `Args` struct
//! and a `run` function, a variant in [`Command`], and an arm in [`run`].

pub mod check_config;
pub mod datatools;
pub mod purge;
pub mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use thiserror::Error;

use crate::config::{Config, ConfigError};
/// `ferrozk bench`: the `ferrozk-bench` crate.
pub use ferrozk_bench as bench;

/// A ZooKeeper-compatible coordination server.
#[derive(Debug, Parser)]
#[command(name = "ferrozk", version, about)]
pub struct Cli {
    /// Config file: zoo.cfg syntax (.cfg, .conf, .properties) or .toml.
    /// Without it, a standalone server on 127.0.0.1:2181 with data in ./data.
    #[arg(long, short = 'c', global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log filter, e.g. `info`, `debug` or `ferrozk::session=trace`;
    /// overrides RUST_LOG. Default: RUST_LOG, else `info`.
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,

    /// What to do; serves when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(serve::ServeArgs),
    /// Load and validate the configuration, print the effective settings, exit.
    CheckConfig(check_config::CheckConfigArgs),
    /// Print a transaction log file (like ZooKeeper's TxnLogToolkit).
    LogDump(datatools::LogDumpArgs),
    /// Print a snapshot file (like ZooKeeper's SnapshotFormatter).
    SnapshotDump(datatools::SnapshotDumpArgs),
    /// Load the configured dataDir read-only and report its health.
    CheckData(datatools::CheckDataArgs),
    /// Delete old snapshots and logs, like ZooKeeper's PurgeTxnLog / zkCleanup.sh:
    /// `ferrozk purge dataLogDir [snapDir] -n count`, or `ferrozk purge --config FILE -n count`.
    #[command(disable_help_flag = true)]
    Purge(PurgeCliArgs),
    /// Load-test any ZooKeeper server, or compare ferrozk with Apache ZooKeeper.
    Bench(bench::BenchArgs),
    /// The ZooKeeper shell (zkCli.sh's commands and options):
    /// `ferrozk shell [-server host:port] [-timeout ms] [-r] [--json] [command args...]`.
    #[command(disable_help_flag = true)]
    Shell(ShellArgs),
}

/// `ferrozk shell`'s arguments, passed through as they are: they follow
/// zkCli's single-dash conventions (`-server`, `-timeout`), not clap's.
#[derive(Debug, clap::Args)]
pub struct ShellArgs {
    /// zkCli's options, then an optional command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<String>,
}

/// `ferrozk purge`'s arguments, parsed as PurgeTxnLog parses them.
#[derive(Debug, clap::Args)]
pub struct PurgeCliArgs {
    /// `dataLogDir [snapDir] -n count`, or `-n count` with `--config`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<String>,
}

/// Why the command failed; decides the exit status.
#[derive(Debug, Error)]
pub enum CliError {
    /// The configuration (or a flag) is unusable: exit status 2.
    #[error("{0}")]
    Usage(String),
    /// The config file is unusable: exit status 2.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The server failed: exit status 1.
    #[error(transparent)]
    Serve(#[from] serve::ServeError),
    /// An offline tool found a problem: exit status 1.
    #[error("{0}")]
    Tool(String),
    /// `ferrozk bench` failed: exit status 2 for bad flags, else 1.
    #[error("bench: {0}")]
    Bench(#[from] bench::BenchError),
    /// `ferrozk purge` failed: exit status 1, as PurgeTxnLog.
    #[error(transparent)]
    Purge(#[from] purge::PurgeError),
    /// `ferrozk shell` finished with a non-zero status; it printed its
    /// own error already.
    #[error("")]
    Shell(u8),
}

impl CliError {
    /// The process exit status for this failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            // Options errors are the configuration's too (a missing or
            // bad myid file): ZooKeeper exits 2 for them as for the file.
            CliError::Usage(_)
            | CliError::Config(_)
            | CliError::Serve(serve::ServeError::Options(_))
            | CliError::Bench(bench::BenchError::Usage(_)) => ExitCode::from(2),
            // ZooKeeper's ERROR_STARTING_ADMIN_SERVER (a standalone server
            // whose admin.serverPort cannot be bound).
            CliError::Serve(serve::ServeError::Start(crate::server::StartError::Admin(_))) => {
                ExitCode::from(4)
            }
            CliError::Serve(_) | CliError::Tool(_) | CliError::Bench(_) | CliError::Purge(_) => {
                ExitCode::from(1)
            }
            CliError::Shell(code) => ExitCode::from(*code),
        }
    }
}

/// Set up logging, then run the chosen command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    if let Some(Command::Shell(args)) = cli.command {
        // The shell prints its own messages; the client's logs stay quiet.
        init_logging(Some(cli.log_level.as_deref().unwrap_or("error")))?;
        return match ferrozk_shell::main(args.args) {
            0 => Ok(()),
            code => Err(CliError::Shell(u8::try_from(code).unwrap_or(1))),
        };
    }
    init_logging(cli.log_level.as_deref())?;
    match cli.command.unwrap_or(Command::Serve(serve::ServeArgs {})) {
        Command::Serve(_args) => {
            let config = load_config(cli.config.as_deref())?;
            serve::serve(config)?;
        }
        Command::CheckConfig(_args) => {
            let config = load_config(cli.config.as_deref())?;
            check_config::run(&config).map_err(CliError::Usage)?;
        }
        Command::LogDump(args) => datatools::log_dump(&args).map_err(CliError::Tool)?,
        Command::SnapshotDump(args) => datatools::snapshot_dump(&args).map_err(CliError::Tool)?,
        Command::CheckData(_) => {
            let config = load_config(cli.config.as_deref())?;
            datatools::check_data(&config).map_err(CliError::Tool)?;
        }
        Command::Purge(args) => {
            let config = match cli.config.as_deref() {
                Some(p) => Some(Config::load(p)?),
                None => None,
            };
            let parsed = purge::parse(&args.args, config.as_ref());
            match parsed.and_then(|a| purge::run(&a)) {
                Ok(()) => {}
                Err(purge::PurgeError::Usage(msg)) => {
                    if !msg.is_empty() {
                        eprintln!("{msg}");
                    }
                    println!("{}", purge::USAGE);
                    return Err(CliError::Shell(1));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Bench(args) => bench::run(args)?,
        Command::Shell(_) => unreachable!("handled above"),
    }
    Ok(())
}

/// The config named by `--config`, or the defaults.
pub fn load_config(path: Option<&std::path::Path>) -> Result<Config, ConfigError> {
    match path {
        Some(path) => Config::load(path),
        None => Ok(Config::default()),
    }
}

/// Log to stderr, filtered by `--log-level`, else `RUST_LOG`, else `info`.
fn init_logging(level: Option<&str>) -> Result<(), CliError> {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(spec) => EnvFilter::try_new(spec)
            .map_err(|e| CliError::Usage(format!("invalid --log-level {spec:?}: {e}")))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .map_err(|e| CliError::Usage(format!("cannot set up logging: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn no_subcommand_means_serve_with_defaults() {
        let cli = parse(&["ferrozk"]);
        assert!(cli.command.is_none());
        assert!(cli.config.is_none());
    }

    #[test]
    fn config_flag_works_before_and_after_serve() {
        for args in [
            &["ferrozk", "--config", "z.cfg"][..],
            &["ferrozk", "serve", "--config", "z.cfg"][..],
            &["ferrozk", "--config", "z.cfg", "serve"][..],
            &["ferrozk", "serve", "-c", "z.cfg"][..],
        ] {
            assert_eq!(parse(args).config, Some(PathBuf::from("z.cfg")), "{args:?}");
        }
    }

    #[test]
    fn log_level_flag_is_global() {
        assert_eq!(
            parse(&["ferrozk", "serve", "--log-level", "debug"])
                .log_level
                .as_deref(),
            Some("debug")
        );
    }

    #[test]
    fn unknown_subcommand_is_rejected() {
        assert!(Cli::try_parse_from(["ferrozk", "frobnicate"]).is_err());
    }

    #[test]
    fn config_errors_exit_2_and_server_errors_exit_1() {
        let config = CliError::Config(ConfigError::missing("clientPort", "x"));
        assert_eq!(config.exit_code(), ExitCode::from(2));
        let myid = CliError::Serve(serve::ServeError::Options(
            crate::server::OptionsError::NoServerLine(4),
        ));
        assert_eq!(myid.exit_code(), ExitCode::from(2));
        let serve = CliError::Serve(serve::ServeError::DataDir {
            path: "/d".into(),
            source: std::io::Error::other("read-only"),
        });
        assert_eq!(serve.exit_code(), ExitCode::from(1));
    }
}
