//! Apache ZooKeeper 3.8 ensemble members for tests that speak the peer
//! protocols (election and quorum ports) to the reference.
//!
//! [`EnsembleSpec`] picks free loopback ports for every member (client,
//! quorum, election) and writes the `server.N` lines; [`ApacheMember`]
//! runs one member in its own temporary directory, with `myid`, logging
//! to `server.log` (slf4j-simple, shown on failure), killed on drop. A
//! member that cannot reach a quorum never answers `srvr`, so readiness is
//! up to the test: [`ApacheMember::wait_until`] polls a condition with a
//! deadline.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::{four_letter_at, free_ports, require_file, require_tool, ZK_JAR};

/// slf4j binding that logs to stderr (captured into `server.log`).
pub const SLF4J_SIMPLE_JAR: &str = "/usr/share/java/slf4j-simple.jar";

/// One member's ports and role.
#[derive(Debug, Clone, Copy)]
pub struct MemberSpec {
    pub client: u16,
    pub quorum: u16,
    pub election: u16,
    pub observer: bool,
}

/// Every member of an ensemble (running or not), by sid.
#[derive(Debug, Clone)]
pub struct EnsembleSpec {
    pub members: BTreeMap<u64, MemberSpec>,
    /// `tickTime` in ms: the leader pings learners every half tick.
    pub tick_ms: u64,
}

impl EnsembleSpec {
    /// Members `sids`, those in `observers` as `:observer`, on free ports.
    pub fn new(sids: &[u64], observers: &[u64]) -> EnsembleSpec {
        let ports = free_ports(3 * sids.len());
        let members = sids
            .iter()
            .zip(ports.chunks(3))
            .map(|(&sid, p)| {
                let spec = MemberSpec {
                    client: p[0],
                    quorum: p[1],
                    election: p[2],
                    observer: observers.contains(&sid),
                };
                (sid, spec)
            })
            .collect();
        EnsembleSpec {
            members,
            tick_ms: 1000,
        }
    }

    pub fn member(&self, sid: u64) -> MemberSpec {
        self.members[&sid]
    }

    /// The `server.N=...` lines of zoo.cfg.
    pub fn server_lines(&self) -> String {
        self.members
            .iter()
            .map(|(sid, m)| {
                let role = if m.observer { ":observer" } else { "" };
                format!("server.{sid}=127.0.0.1:{}:{}{role}\n", m.quorum, m.election)
            })
            .collect()
    }
}

/// One running Apache ZooKeeper member; killed and reaped on drop.
pub struct ApacheMember {
    pub sid: u64,
    pub spec: MemberSpec,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl ApacheMember {
    /// Writes zoo.cfg and myid for member `sid` of `ensemble` and spawns it.
    /// Does not wait: see [`wait_until`](Self::wait_until).
    pub fn start(sid: u64, ensemble: &EnsembleSpec) -> ApacheMember {
        require_file(ZK_JAR, "Debian package zookeeper / libzookeeper-java");
        require_file(SLF4J_SIMPLE_JAR, "Debian package libslf4j-java");
        require_tool("java", &["-version"]);
        let spec = ensemble.member(sid);
        let dir = tempfile::Builder::new()
            .prefix(&format!("ferrozk-ensemble-{sid}-"))
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("myid"), format!("{sid}\n")).unwrap();
        let cfg = format!(
            "tickTime={tick}\ninitLimit=10\nsyncLimit=5\ndataDir={data}\n\
             clientPort={client}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n\
             4lw.commands.whitelist=*\nadmin.enableServer=false\n{peer}{servers}",
            tick = ensemble.tick_ms,
            data = data.display(),
            client = spec.client,
            peer = if spec.observer {
                "peerType=observer\n"
            } else {
                ""
            },
            servers = ensemble.server_lines(),
        );
        let cfg_path = dir.path().join("zoo.cfg");
        fs::write(&cfg_path, cfg).unwrap();
        let log = dir.path().join("server.log");
        let log_file = fs::File::create(&log).unwrap();
        let child = Command::new("java")
            .arg("-Xmx256m")
            .arg("-XX:TieredStopAtLevel=1")
            .arg("-Dorg.slf4j.simpleLogger.showDateTime=true")
            .arg("-cp")
            .arg(format!("{ZK_JAR}:{SLF4J_SIMPLE_JAR}"))
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(&cfg_path)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("spawn java");
        ApacheMember {
            sid,
            spec,
            child,
            log,
            _dir: dir,
        }
    }

    /// "127.0.0.1:PORT" of the client port.
    pub fn client_addr(&self) -> String {
        format!("127.0.0.1:{}", self.spec.client)
    }

    /// The `Mode:` line of `srvr` (`leader`, `follower`, ...), if serving.
    pub fn mode(&self) -> Option<String> {
        let srvr = four_letter_at(&self.client_addr(), "srvr", Duration::from_secs(2)).ok()?;
        srvr.lines()
            .find_map(|l| l.strip_prefix("Mode: "))
            .map(|m| m.trim().to_string())
    }

    /// Polls `cond` until it holds or `timeout` passes; panics with the
    /// log if the process exits or time runs out.
    pub fn wait_until<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut cond: impl FnMut(&Self) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = cond(self) {
                return v;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "member {} exited ({status}) waiting for {what}; log:\n{}",
                    self.sid,
                    self.log_tail()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "member {}: no {what} within {timeout:?}; log:\n{}",
                    self.sid,
                    self.log_tail()
                );
            }
            // Bounded polling of a condition, not synchronisation on time.
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines of the member's log.
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }
}

impl Drop for ApacheMember {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until one of `members` is leader and every other is serving
/// (`follower`); returns the leader's index.
pub fn wait_for_leader(members: &mut [ApacheMember], timeout: Duration) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let modes: Vec<Option<String>> = members.iter().map(|m| m.mode()).collect();
        let leaders: Vec<usize> = (0..modes.len())
            .filter(|&i| modes[i].as_deref() == Some("leader"))
            .collect();
        let others_serving = modes
            .iter()
            .all(|m| matches!(m.as_deref(), Some("leader" | "follower" | "observer")));
        if leaders.len() == 1 && others_serving {
            return leaders[0];
        }
        if Instant::now() > deadline {
            let logs: String = members
                .iter()
                .map(|m| format!("--- member {} ---\n{}\n", m.sid, m.log_tail()))
                .collect();
            panic!("no leader within {timeout:?} (modes {modes:?}); logs:\n{logs}");
        }
        // Bounded polling of a condition, not synchronisation on time.
        thread::sleep(Duration::from_millis(100));
    }
}
