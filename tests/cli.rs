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

/// Every refusal of a bad zoo.cfg, on both servers: each case is run by
/// Apache ZooKeeper 3.8 (QuorumPeerMain) and by ferrozk, and both must exit
/// with the status listed (2 = "Invalid config, exiting abnormally"); what
/// ferrozk prints must name the key. Where Apache exits 1 through an
/// unexpected exception (an empty dataDir, a myid without a server line)
/// ferrozk exits 2 like any other bad configuration: listed per server.
/// Settings Apache reads as system properties (snapCount, preAllocSize,
/// forceSync, jute.maxbuffer, ...) are not refusals on either: a bad value
/// is a warning and the default (src/config/tests.rs).
#[test]
fn bad_configs_exit_as_apache_does_and_name_the_key() {
    let base = |ensemble: bool, extra: &str, drop: &[&str]| {
        let mut lines = vec![
            "tickTime=2000".to_string(),
            "dataDir={dir}".into(),
            "clientPort={port}".into(),
            "clientPortAddress=127.0.0.1".into(),
            "admin.enableServer=false".into(),
        ];
        if ensemble {
            lines.extend(
                [
                    "initLimit=5",
                    "syncLimit=2",
                    "server.1=127.0.0.1:{q1}:{e1}",
                    "server.2=127.0.0.1:{q2}:{e2}",
                    "server.3=127.0.0.1:{q3}:{e3}",
                ]
                .map(String::from),
            );
        }
        lines.retain(|l| !drop.iter().any(|d| l.starts_with(&format!("{d}="))));
        for e in extra.split('\n').filter(|e| !e.is_empty()) {
            let key = e.split('=').next().unwrap();
            lines.retain(|l| !l.starts_with(&format!("{key}=")));
            lines.push(e.to_string());
        }
        lines.join("\n") + "\n"
    };
    // (case, zoo.cfg, myid file, Apache status, ferrozk status, key named)
    type Case<'a> = (&'a str, String, Option<&'a str>, i32, i32, &'a str);
    let cases: Vec<Case> = vec![
        (
            "no dataDir",
            base(false, "", &["dataDir"]),
            None,
            2,
            2,
            "dataDir",
        ),
        (
            "empty dataDir",
            base(false, "dataDir=", &[]),
            None,
            1,
            2,
            "dataDir",
        ),
        (
            "tickTime not a number",
            base(false, "tickTime=abc", &[]),
            None,
            2,
            2,
            "tickTime",
        ),
        (
            "clientPort not a number",
            base(false, "clientPort=abc", &[]),
            None,
            2,
            2,
            "clientPort",
        ),
        (
            "clientPort out of range",
            base(false, "clientPort=70000", &[]),
            None,
            2,
            2,
            "clientPort",
        ),
        (
            "unresolvable clientPortAddress",
            base(false, "clientPortAddress=no.such.host.invalid", &[]),
            None,
            2,
            2,
            "clientPortAddress",
        ),
        (
            "maxClientCnxns not a number",
            base(false, "maxClientCnxns=abc", &[]),
            None,
            2,
            2,
            "maxClientCnxns",
        ),
        (
            "maxSessionTimeout not a number",
            base(false, "maxSessionTimeout=abc", &[]),
            None,
            2,
            2,
            "maxSessionTimeout",
        ),
        (
            "min above max session timeout",
            base(false, "minSessionTimeout=5000\nmaxSessionTimeout=4000", &[]),
            None,
            2,
            2,
            "minSessionTimeout",
        ),
        (
            "purgeInterval not a number",
            base(false, "autopurge.purgeInterval=abc", &[]),
            None,
            2,
            2,
            "autopurge.purgeInterval",
        ),
        (
            "peerType unknown",
            base(false, "peerType=foo", &[]),
            None,
            2,
            2,
            "peerType",
        ),
        (
            "standaloneEnabled not a boolean",
            base(false, "standaloneEnabled=maybe", &[]),
            None,
            2,
            2,
            "standaloneEnabled",
        ),
        (
            "syncEnabled not a boolean",
            base(false, "syncEnabled=maybe", &[]),
            None,
            2,
            2,
            "syncEnabled",
        ),
        (
            "reconfigEnabled not a boolean",
            base(false, "reconfigEnabled=maybe", &[]),
            None,
            2,
            2,
            "reconfigEnabled",
        ),
        (
            "localSessionsEnabled not a boolean",
            base(false, "localSessionsEnabled=maybe", &[]),
            None,
            2,
            2,
            "localSessionsEnabled",
        ),
        (
            "server.N id not a number",
            base(false, "server.x=127.0.0.1:2888:3888", &[]),
            None,
            2,
            2,
            "server.x",
        ),
        (
            "observers without participants",
            base(false, "server.1=127.0.0.1:2888:3888:observer", &[]),
            None,
            2,
            2,
            "server.1",
        ),
        (
            "server.N line that does not parse",
            base(true, "server.3=garbage", &[]),
            Some("1"),
            2,
            2,
            "server.3",
        ),
        (
            "server.N with equal ports",
            base(true, "server.3=127.0.0.1:{q3}:{q3}", &[]),
            Some("1"),
            2,
            2,
            "server.3",
        ),
        (
            "ensemble without clientPort",
            base(true, "", &["clientPort"]),
            Some("1"),
            2,
            2,
            "clientPort",
        ),
        (
            "ensemble without initLimit",
            base(true, "", &["initLimit"]),
            Some("1"),
            2,
            2,
            "initLimit",
        ),
        (
            "ensemble without syncLimit",
            base(true, "", &["syncLimit"]),
            Some("1"),
            2,
            2,
            "syncLimit",
        ),
        (
            "initLimit not a number",
            base(true, "initLimit=abc", &[]),
            Some("1"),
            2,
            2,
            "initLimit",
        ),
        (
            "quorumListenOnAllIPs not a boolean",
            base(true, "quorumListenOnAllIPs=maybe", &[]),
            Some("1"),
            2,
            2,
            "quorumListenOnAllIPs",
        ),
        (
            "electionAlg other than 3",
            base(true, "electionAlg=0", &[]),
            Some("1"),
            2,
            2,
            "electionAlg",
        ),
        ("no myid file", base(true, "", &[]), None, 2, 2, "myid"),
        (
            "myid not a number",
            base(true, "", &[]),
            Some("abc"),
            2,
            2,
            "abc is not a number",
        ),
        (
            "myid without a server line",
            base(true, "", &[]),
            Some("7"),
            1,
            2,
            "myid",
        ),
    ];
    let mut problems = common::Problems::default();
    for kind in common::kinds_under_test() {
        for (what, text, myid, apache, ferrozk, key) in &cases {
            let p = common::free_ports(7);
            let mut text = text.replace("{port}", &p[0].to_string());
            for (i, name) in ["q1", "e1", "q2", "e2", "q3", "e3"].iter().enumerate() {
                text = text.replace(&format!("{{{name}}}"), &p[i + 1].to_string());
            }
            let dir = tempfile::tempdir().unwrap();
            if let Some(id) = myid {
                std::fs::write(dir.path().join("myid"), format!("{id}\n")).unwrap();
            }
            let text = text.replace("{dir}", &dir.path().display().to_string());
            let cfg = dir.path().join("zoo.cfg");
            std::fs::write(&cfg, &text).unwrap();
            let mut cmd = common::server_command(kind, &cfg, &[]);
            cmd.current_dir(dir.path());
            let out = run_with_timeout(&mut cmd, Duration::from_secs(30));
            let expected = if kind == ServerKind::Apache {
                *apache
            } else {
                *ferrozk
            };
            if out.code() != Some(expected) {
                problems.add(format!(
                    "{what} on {kind:?}: expected exit {expected}\n{text}{}",
                    out.describe()
                ));
            } else if kind == ServerKind::Ferrozk && !out.stderr.contains(key) {
                problems.add(format!(
                    "{what}: the message does not name {key}: {}",
                    out.stderr
                ));
            }
        }
    }
    problems.check("bad_configs_exit_as_apache_does_and_name_the_key");
}

/// conf/ferrozk.service passes `systemd-analyze verify` (with ExecStart
/// pointed at the binary under test, since /usr/bin/ferrozk is not
/// installed here) and stops the server the way it is built to stop.
#[test]
fn the_systemd_unit_verifies() {
    let unit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/ferrozk.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    for line in [
        "ExecStart=/usr/bin/ferrozk --config /etc/ferrozk/zoo.cfg",
        "KillSignal=SIGTERM",
        "User=ferrozk",
        "Restart=on-failure",
        "RestartPreventExitStatus=2",
        "LimitNOFILE=",
        "TimeoutStopSec=",
    ] {
        assert!(text.contains(line), "the unit lacks {line}");
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("ferrozk.service");
    std::fs::write(
        &copy,
        text.replace("/usr/bin/ferrozk", env!("CARGO_BIN_EXE_ferrozk")),
    )
    .unwrap();
    common::require_tool("systemd-analyze", &["--version"]);
    let out = run_with_timeout(
        Command::new("systemd-analyze").arg("verify").arg(&copy),
        Duration::from_secs(60),
    );
    assert!(
        out.success() && !out.stderr.contains("ferrozk.service"),
        "{}",
        out.describe()
    );
}
