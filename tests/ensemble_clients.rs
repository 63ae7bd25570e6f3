//! Real clients across a leader failure, on ferrozk and Apache ZooKeeper
//! ensembles: kazoo, the Java client and the `zookeeper-client` crate each
//! connect with every member's address, hold a session with an ephemeral,
//! and must keep both — and write again — after the leader is killed -9.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::cluster::{Cluster, ELECTION_TIMEOUT};
use common::*;

/// A client program driven line by line; killed on drop.
struct Scripted {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Scripted {
    fn spawn(cmd: &mut Command) -> Scripted {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn client program");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Scripted {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first line starting with `prefix`, within the election timeout.
    fn expect(&mut self, prefix: &str) -> String {
        loop {
            match self.lines.recv_timeout(ELECTION_TIMEOUT) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(l) => self.seen.push(l),
                Err(e) => panic!("no {prefix:?} line ({e}); output so far: {:?}", self.seen),
            }
        }
    }

    fn go(&mut self) {
        writeln!(self.stdin, "GO").unwrap();
        self.stdin.flush().unwrap();
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a client program against an ensemble of `kind`, killing the leader
/// between its READY and GO; returns its result line.
fn across_failover(kind: ServerKind, program: impl Fn(&str) -> Command, result: &str) -> String {
    let mut c = Cluster::start(kind, 3, 0);
    let leader = c.wait_for_leader(ELECTION_TIMEOUT);
    let mut client = Scripted::spawn(&mut program(&c.connect_string()));
    client.expect("READY");
    c.members[leader].kill();
    client.go();
    client.expect(result)
}

#[test]
fn kazoo_keeps_its_session_across_a_leader_failure() {
    require_kazoo();
    for kind in kinds_under_test() {
        let line = across_failover(
            kind,
            |hosts| {
                let mut c = Command::new(PYTHON);
                c.arg("-B")
                    .arg(tests_dir().join("kazoo").join("failover.py"))
                    .arg(hosts);
                c
            },
            "{",
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["session_same"], true, "{}: {line}", kind.name());
        assert_eq!(v["ephemeral"], true, "{}: {line}", kind.name());
        assert_eq!(v["written"], "after failover", "{}: {line}", kind.name());
    }
}

fn java_classes() -> std::path::PathBuf {
    compile_java("FailoverClient.java", ZK_JAR)
}

#[test]
fn the_java_client_keeps_its_session_across_a_leader_failure() {
    require_tool("javac", &["-version"]);
    require_file(ZK_JAR, "Debian package libzookeeper-java");
    let classes = java_classes();
    for kind in kinds_under_test() {
        let line = across_failover(
            kind,
            |hosts| {
                let mut c = Command::new("java");
                c.arg("-Xmx128m")
                    .arg("-XX:TieredStopAtLevel=1")
                    .arg("-cp")
                    .arg(format!("{}:{ZK_JAR}:{SLF4J_NOP_JAR}", classes.display()))
                    .arg("FailoverClient")
                    .arg(hosts);
                c
            },
            "RESULT",
        );
        assert_eq!(
            line,
            "RESULT session_same=true ephemeral=true written=after failover",
            "{}",
            kind.name()
        );
    }
}

#[test]
fn zookeeper_client_crate_keeps_its_session_across_a_leader_failure() {
    use zookeeper_client as zk;
    for kind in kinds_under_test() {
        let mut c = Cluster::start(kind, 3, 0);
        let leader = c.wait_for_leader(ELECTION_TIMEOUT);
        let rt = runtime();
        let client = rt.block_on(async {
            let client = zk::Client::connector()
                .with_server_version(3, 8, 0)
                .with_session_timeout(Duration::from_secs(10))
                .connect(&c.connect_string())
                .await
                .expect("connect");
            let opts = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
            client
                .create("/crate-eph", b"mine", &opts)
                .await
                .expect("create");
            client
        });
        let before = client.session_id();
        c.members[leader].kill();
        rt.block_on(async {
            let deadline = tokio::time::Instant::now() + ELECTION_TIMEOUT;
            loop {
                match client.set_data("/crate-eph", b"after", None).await {
                    Ok(_) => break,
                    Err(zk::Error::ConnectionLoss) | Err(zk::Error::Timeout)
                        if tokio::time::Instant::now() < deadline =>
                    {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(e) => panic!("{}: {e}", kind.name()),
                }
            }
            let (data, _) = client.get_data("/crate-eph").await.expect("get");
            assert_eq!(data, b"after", "{}", kind.name());
        });
        assert_eq!(client.session_id(), before, "{}: same session", kind.name());
    }
}
