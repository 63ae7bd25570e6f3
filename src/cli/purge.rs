//! `ferrozk purge`: ZooKeeper's offline cleanup, `PurgeTxnLog` (what
//! `zkCleanup.sh` runs), with its arguments, messages and exit statuses:
//!
//! ```text
//! ferrozk purge dataLogDir [snapDir] -n count
//! ferrozk purge --config zoo.cfg -n count      (zkCleanup.sh: the dirs of the config)
//! ```
//!
//! The directories are the configured ones (their `version-2`
//! subdirectories hold the files). It keeps the newest `count` (≥ 3)
//! valid snapshots and the logs needed to replay from the oldest of them,
//! prints `Removing file: <mtime>\t<path>` for each file it deletes, and
//! exits 0; a usage error prints the usage and exits 1, as PurgeTxnLog
//! does. Safe while a server runs on the directories (ZooKeeper's
//! autopurge does the same from inside the server).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config::Config;
use crate::storage::datadir;

/// PurgeTxnLog.printUsage.
pub const USAGE: &str = "Usage:\n\
PurgeTxnLog dataLogDir [snapDir] -n count\n\
\tdataLogDir -- path to the txn log directory\n\
\tsnapDir -- path to the snapshot directory\n\
\tcount -- the number of old snaps/logs you want to keep, value should be greater than or equal to 3";

/// Why `purge` stopped; every variant exits 1 (PurgeTxnLog's
/// UNEXPECTED_ERROR), after the usage for a usage error.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    /// Bad arguments: the message (if any) goes to stderr, the usage to stdout.
    #[error("{0}")]
    Usage(String),
    /// Listing or deleting failed.
    #[error("purge: {0}")]
    Storage(#[from] crate::storage::StorageError),
}

/// The directories and count, parsed as `PurgeTxnLog.main` does.
#[derive(Debug, PartialEq, Eq)]
pub struct PurgeArgs {
    /// The txn log directory.
    pub log_dir: PathBuf,
    /// The snapshot directory (the log directory unless given).
    pub snap_dir: PathBuf,
    /// Snapshots to keep.
    pub count: usize,
}

/// Parses `dataLogDir [snapDir] -n count`; with only `-n count`, the
/// directories of `config` (zkCleanup.sh reads them from zoo.cfg).
pub fn parse(args: &[String], config: Option<&Config>) -> Result<PurgeArgs, PurgeError> {
    let usage = |msg: &str| PurgeError::Usage(msg.to_string());
    let (dirs, option, number) = match args {
        [option, number] => {
            let Some(c) = config else {
                return Err(usage(""));
            };
            let dirs = (c.data_log_dir().to_path_buf(), c.data_dir.clone());
            (dirs, option, number)
        }
        [log, option, number] => {
            let log = existing(log)?;
            ((log.clone(), log), option, number)
        }
        [log, snap, option, number] => ((existing(log)?, existing(snap)?), option, number),
        _ => return Err(usage("")),
    };
    let count = match number.parse::<i32>() {
        Ok(n) if n >= 3 => n as usize,
        Ok(_) => return Err(usage("count should be greater than or equal to 3")),
        Err(_) => return Err(usage(&format!("'{number}' can not be parsed to integer."))),
    };
    if option != "-n" {
        return Err(usage(""));
    }
    Ok(PurgeArgs {
        log_dir: dirs.0,
        snap_dir: dirs.1,
        count,
    })
}

fn existing(path: &str) -> Result<PathBuf, PurgeError> {
    let p = PathBuf::from(path);
    if !p.exists() {
        let abs = std::path::absolute(&p).unwrap_or_else(|_| p.clone());
        return Err(PurgeError::Usage(format!(
            "Path '{}' does not exist. ",
            abs.display()
        )));
    }
    Ok(p)
}

/// Deletes what is no longer needed, printing each file as PurgeTxnLog does.
pub fn run(args: &PurgeArgs) -> Result<(), PurgeError> {
    let plan = datadir::purge_plan(&args.snap_dir, &args.log_dir, args.count)?;
    for path in plan.files() {
        println!("Removing file: {}\t{}", modified(path), path.display());
        if std::fs::remove_file(path).is_err() {
            eprintln!("Failed to remove {}", path.display());
        }
    }
    Ok(())
}

/// A file's modification time, `YYYY-MM-DD HH:MM:SS UTC` (Java prints its
/// locale's date format).
fn modified(path: &Path) -> String {
    let secs = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_follow_purge_txn_log_main() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let one = parse(&args(&[d, "-n", "3"]), None).unwrap();
        assert_eq!(one.log_dir, one.snap_dir);
        assert_eq!(one.count, 3);
        let two = parse(&args(&[d, d, "-n", "5"]), None).unwrap();
        assert_eq!(two.count, 5);
        for (bad, says) in [
            (
                vec![d, "-n", "2"],
                "count should be greater than or equal to 3",
            ),
            (vec![d, "-n", "x"], "'x' can not be parsed to integer."),
            (
                vec!["/no/such/dir", "-n", "3"],
                "Path '/no/such/dir' does not exist. ",
            ),
            (vec![d, "-m", "3"], ""),
            (vec![d], ""),
            (vec!["-n", "3"], ""),
        ] {
            match parse(&args(&bad), None) {
                Err(PurgeError::Usage(m)) => assert_eq!(m, says, "{bad:?}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn count_alone_takes_the_config_directories() {
        let c = Config::from_properties_str("dataDir=/d\ndataLogDir=/l\n").unwrap();
        let a = parse(&args(&["-n", "4"]), Some(&c)).unwrap();
        assert_eq!(
            a,
            PurgeArgs {
                log_dir: "/l".into(),
                snap_dir: "/d".into(),
                count: 4
            }
        );
    }

    #[test]
    fn dates_are_civil_utc() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_709_251_199);
        std::fs::File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(when)
            .unwrap();
        assert_eq!(modified(&f), "2024-02-29 23:59:59 UTC");
    }
}
