//! The `ferrozk` binary's configuration handling, as an operator meets it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{run_with_timeout, ServerKind};

fn ferrozk(args: &[&str]) -> common::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrozk"));
    cmd.args(args);
    run_with_timeout(&mut cmd, Duration::from_secs(20))
}

#[test]
fn a_bad_value_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("zoo.cfg");
    std::fs::write(&cfg, "tickTime=abc\nclientPort=2181\n").unwrap();
    let out = ferrozk(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(out.code(), Some(2), "{}", out.describe());
    assert!(
        out.stderr.contains("tickTime") && out.stderr.contains("abc"),
        "{}",
        out.describe()
    );
}

#[test]
fn a_bad_toml_value_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ferrozk.toml");
    std::fs::write(&cfg, "clientPort = 70000\n").unwrap();
    let out = ferrozk(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(out.code(), Some(2), "{}", out.describe());
    assert!(out.stderr.contains("clientPort"), "{}", out.describe());
}

#[test]
fn a_missing_config_file_exits_2() {
    let out = ferrozk(&["--config", "/nonexistent/zoo.cfg"]);
    assert_eq!(out.code(), Some(2), "{}", out.describe());
    assert!(
        out.stderr.contains("/nonexistent/zoo.cfg"),
        "{}",
        out.describe()
    );
}

/// Starts `kind` on the zoo.cfg `text` (`{dir}` is replaced by a fresh
/// directory) and returns how it exited; a server that accepts the file
/// runs until the deadline, which the caller's assertions then show.
fn start_refused(kind: ServerKind, text: &str) -> common::Output {
    let dir = tempfile::tempdir().unwrap();
    let text = text.replace("{dir}", &dir.path().display().to_string());
    let cfg = dir.path().join("zoo.cfg");
    std::fs::write(&cfg, text).unwrap();
    let mut cmd = common::server_command(kind, &cfg, &[]);
    cmd.current_dir(dir.path());
    run_with_timeout(&mut cmd, Duration::from_secs(30))
}

/// Configuration refusals exit with status 2 and name the key, on both
/// servers (QuorumPeerMain's "Invalid config, exiting abnormally").
#[test]
fn config_refusals_exit_2_naming_the_problem_on_both_servers() {
    let port = common::free_port();
    let ensemble = format!(
        "tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir={{dir}}\nclientPort={port}\n\
         admin.enableServer=false\n\
         server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n"
    );
    let cases = [
        (
            "no dataDir",
            format!("tickTime=2000\nclientPort={port}\nadmin.enableServer=false\n"),
            "dataDir is not set",
        ),
        ("no myid file", ensemble.clone(), "myid file is missing"),
    ];
    for kind in common::kinds_under_test() {
        for (what, text, message) in &cases {
            let out = start_refused(kind, text);
            assert_eq!(
                out.code(),
                Some(2),
                "{what} on {kind:?}: {}",
                out.describe()
            );
            let said = format!("{}{}", out.stdout, out.stderr);
            assert!(
                said.contains(message),
                "{what} on {kind:?}: {}",
                out.describe()
            );
        }
    }
}

/// A myid file that does not hold a number: refused with status 2 on
/// both, with the words ZooKeeper uses.
#[test]
fn a_myid_that_is_not_a_number_exits_2_on_both_servers() {
    let port = common::free_port();
    for kind in common::kinds_under_test() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("myid"), "abc\n").unwrap();
        let text = format!(
            "tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir={}\nclientPort={port}\n\
             admin.enableServer=false\n\
             server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n",
            dir.path().display()
        );
        let out = start_refused(kind, &text);
        assert_eq!(out.code(), Some(2), "{kind:?}: {}", out.describe());
        let said = format!("{}{}", out.stdout, out.stderr);
        assert!(
            said.contains("serverid abc is not a number"),
            "{kind:?}: {}",
            out.describe()
        );
    }
}

#[test]
fn the_ensemble_example_configs_check_clean() {
    for i in 1..=3 {
        let example = format!("conf/ensemble/server{i}.cfg");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&example);
        let out = ferrozk(&["check-config", "--config", path.to_str().unwrap()]);
        assert_eq!(out.code(), Some(0), "{example}: {}", out.describe());
        assert!(
            !out.stdout.contains("not used"),
            "{example}: {}",
            out.describe()
        );
        let data_dir = format!("dataDir=./data/server{i}");
        for line in [
            "configuration OK (ensemble)",
            "server.1=127.0.0.1:2888:3888:participant",
            "server.2=127.0.0.1:2889:3889:participant",
            "server.3=127.0.0.1:2890:3890:participant",
            data_dir.as_str(),
        ] {
            assert!(
                out.stdout.contains(line),
                "{example} lacks {line:?}: {}",
                out.describe()
            );
        }
    }
}

#[test]
fn unknown_keys_warn_and_the_server_still_serves() {
    let server = common::TestServer::start(common::ServerKind::Ferrozk, &[("someFutureKey", "1")]);
    assert_eq!(server.four_letter("ruok"), "imok");
    assert!(
        server.log_tail().contains("someFutureKey"),
        "the warning names the key"
    );
}

#[test]
fn the_example_configs_check_clean() {
    for example in ["conf/zoo.cfg", "conf/ferrozk.toml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(example);
        let out = ferrozk(&["check-config", "--config", path.to_str().unwrap()]);
        assert_eq!(out.code(), Some(0), "{example}: {}", out.describe());
        assert!(
            out.stdout.contains("configuration OK (standalone)"),
            "{}",
            out.describe()
        );
        assert!(
            !out.stdout.contains("not used"),
            "{example} has no unknown keys: {}",
            out.describe()
        );
    }
}

/// The offline tools read a data directory written by a real server.
#[test]
fn offline_tools_read_a_data_directory() {
    let root = tempfile::tempdir().unwrap();
    {
        let server = common::TestServer::start_in(
            common::ServerKind::Ferrozk,
            &[("snapCount", "20")],
            root.path(),
        );
        let mut s = common::raw::Raw::session(&server.addr());
        for i in 0..30 {
            assert_eq!(s.create(i + 1, &format!("/tool{i}"), b"data").err, 0);
        }
    }
    let cfg = root.path().join("zoo.cfg");
    let check = ferrozk(&["check-data", "--config", cfg.to_str().unwrap()]);
    assert_eq!(check.code(), Some(0), "{}", check.describe());
    assert!(
        check.stdout.contains("OK") && check.stdout.contains("last zxid: 0x1f"),
        "{}",
        check.describe()
    );

    let version_dir = root.path().join("data").join("version-2");
    let mut logs: Vec<_> = std::fs::read_dir(&version_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("log."))
        .collect();
    logs.sort();
    let dumped: String = logs
        .iter()
        .map(|l| {
            let out = ferrozk(&["log-dump", l.to_str().unwrap()]);
            assert_eq!(out.code(), Some(0), "{}", out.describe());
            out.stdout
        })
        .collect();
    for i in 0..30 {
        assert!(
            dumped.contains(&format!("create /tool{i} ")),
            "every create is in some log:\n{dumped}"
        );
    }
    assert!(dumped.contains("createSession"));

    let snap = version_dir.join("snapshot.0");
    let out = ferrozk(&["snapshot-dump", snap.to_str().unwrap()]);
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains("snapshot zxid 0x0") && out.stdout.contains("/zookeeper/config"),
        "{}",
        out.describe()
    );
}
