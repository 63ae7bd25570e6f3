//! `ferrozk shell`: a ZooKeeper shell that takes zkCli.sh's command line,
//! commands, flags and output text, so scripts written for zkCli keep
//! working, and adds what zkCli lacks (JSON output, `tree`, `dump`/`load`,
//! `watch`, safe display of binary data).
//!
//! - [`launch`]: the process's own arguments (`-server`, `-timeout`, `-r`,
//!   `-waitforconnection`, `--json`, then an optional command).
//! - [`words`]: splitting a line into words as zkCli does, and its flag
//!   parser (Apache Commons CLI's `DefaultParser` rules and messages).
//! - [`shell`]: the session state (client, history, printwatches) and the
//!   execution of one line.
//! - [`commands`]: the command table and one module per group of commands.
//! - [`format`]: stat, data, ACL and event rendering, text and JSON.
//! - [`error`]: the errors commands fail with, their messages and exit codes.
//! - [`repl`]: the interactive line editor.
#![warn(missing_docs)]

pub mod commands;
pub mod error;
pub mod format;
pub mod launch;
pub mod repl;
pub mod shell;
pub mod words;

use std::io::IsTerminal;

pub use error::CliError;
pub use shell::Shell;

/// Runs the shell with the arguments after `shell`; returns the process
/// exit status (0, or the failing command's zkCli exit code).
pub fn main(args: Vec<String>) -> i32 {
    let opts = match launch::LaunchOptions::parse(&args) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            eprintln!("{}", launch::USAGE);
            return 2;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return 1;
        }
    };
    let interactive = opts.command.is_none() && std::io::stdin().is_terminal();
    let mut sh = Shell::new(opts.clone(), rt.handle().clone(), interactive);
    if interactive {
        sh.set_printer(repl::printer());
        println!("Connecting to {}", opts.server);
    }
    if let Err(e) = rt.block_on(sh.connect(&opts.server)) {
        if !interactive {
            sh.report(&e);
            return e.exit_code();
        }
        sh.report(&e);
    }
    let code = match &opts.command {
        Some(words) => rt.block_on(sh.run_words(words.clone())),
        None if interactive => repl::run(&mut sh, &rt),
        None => rt.block_on(sh.run_stdin()),
    };
    rt.block_on(sh.close());
    code
}
