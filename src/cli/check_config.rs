//! `ferrozk check-config`: load and validate a configuration without
//! serving, printing what the server would use. For operators changing a
//! zoo.cfg (and for tests of the shipped examples).

use clap::Args;

use crate::config::Config;

/// Flags of `check-config` (the file comes from the global `--config`).
#[derive(Debug, Args)]
pub struct CheckConfigArgs {}

/// Prints the effective settings of a configuration that loaded and
/// validated; the caller has already turned load errors into exit code 2.
pub fn run(config: &Config) -> Result<(), String> {
    let standalone = !config.is_distributed();
    if standalone {
        crate::server::ServerOptions::from_config(config).map_err(|e| e.to_string())?;
    }
    println!(
        "configuration OK ({})",
        if standalone { "standalone" } else { "ensemble" }
    );
    println!(
        "clientAddress={}",
        config.client_listen_address().unwrap_or_else(|| "-".into())
    );
    println!("dataDir={}", config.data_dir.display());
    println!("dataLogDir={}", config.data_log_dir().display());
    println!("tickTime={}", config.tick_time_ms);
    println!(
        "sessionTimeout={}..{}",
        config.min_session_timeout_ms(),
        config.max_session_timeout_ms()
    );
    println!("maxClientCnxns={}", config.max_client_cnxns);
    for (id, server) in &config.servers {
        println!("server.{id}={server}");
    }
    for (key, value) in &config.extra {
        println!("# not used: {key}={value}");
    }
    Ok(())
}
