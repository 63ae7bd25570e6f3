//! Ensembles of real server processes on loopback, ferrozk or Apache
//! ZooKeeper, for the process-level replication tests. Every member has its
//! own directory (`data/myid`, zoo.cfg, server.log) and fixed ports, so it
//! can be killed and restarted on the same data. Processes die with the
//! cluster.

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use super::{four_letter_at, free_ports, spawn_server, ServerKind};

/// One member of a [`Cluster`].
pub struct Member {
    pub sid: u64,
    pub observer: bool,
    pub client_port: u16,
    pub quorum_port: u16,
    pub election_port: u16,
    root: PathBuf,
    cfg: Vec<(String, String)>,
    child: Option<Child>,
}

impl Member {
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    /// Its dataDir.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// Whether any of its transaction log files contains `needle` (paths
    /// are stored as plain UTF-8 in create transactions).
    pub fn log_contains(&self, needle: &[u8]) -> bool {
        let dir = self.data_dir().join("version-2");
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|e| {
            e.file_name().to_string_lossy().starts_with("log.")
                && std::fs::read(e.path())
                    .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        })
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// `Mode:` from `srvr` (`leader`, `follower`, `observer`), or `None`
    /// while it does not serve.
    pub fn mode(&self) -> Option<String> {
        if !self.running() {
            return None;
        }
        let srvr = four_letter_at(&self.addr(), "srvr", Duration::from_secs(2)).ok()?;
        srvr.lines()
            .find_map(|l| l.strip_prefix("Mode: ").map(|m| m.trim().to_string()))
    }

    /// A line of `srvr` (e.g. `Zxid`, `Node count`).
    pub fn srvr_field(&self, field: &str) -> Option<String> {
        let srvr = four_letter_at(&self.addr(), "srvr", Duration::from_secs(2)).ok()?;
        let prefix = format!("{field}: ");
        srvr.lines()
            .find_map(|l| l.strip_prefix(&prefix).map(|m| m.trim().to_string()))
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    fn start(&mut self, kind: ServerKind) {
        assert!(self.child.is_none(), "member {} already running", self.sid);
        let (child, _) = spawn_server(kind, &self.cfg, &self.root);
        self.child = Some(child);
    }

    /// kill -9, and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits up to `timeout` for the member's process to exit (after a
    /// signal) and reaps it; `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            let child = self.child.as_mut()?;
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            // Polling for a child's exit.
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGSTOP / SIGCONT: the member stops answering, its sockets stay open
    /// (what a long GC pause or a one-way partition looks like to peers).
    pub fn signal(&self, sig: &str) {
        if let Some(pid) = self.pid() {
            // The shell's builtin kill: /bin/kill (procps) may be absent.
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("kill -{sig} {pid}"))
                .status()
                .expect("run sh");
            assert!(status.success(), "kill -{sig} {pid}");
            if sig == "STOP" {
                wait_stopped(pid);
            }
        }
    }
}

/// Waits until every thread of `pid` is stopped (or gone): kill(2) returns once the
/// signal is queued, and a thread running on the other core goes on (reads
/// a proposal, logs it) until it next enters the kernel.
fn wait_stopped(pid: u32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("/proc/PID/task");
        let all_stopped = tasks.flatten().all(|t| {
            // "TID (comm) STATE ...": the state follows the last ')'.
            std::fs::read_to_string(t.path().join("stat")).is_ok_and(|st| {
                st.rsplit_once(") ")
                    .is_some_and(|(_, rest)| rest.starts_with(['T', 't', 'Z', 'X']))
            })
        });
        if all_stopped {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "process {pid} did not stop"
        );
        std::thread::yield_now();
    }
}

/// A running ensemble.
pub struct Cluster {
    pub kind: ServerKind,
    pub members: Vec<Member>,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for m in &mut self.members {
            m.signal("CONT");
            m.kill();
        }
    }
}

/// How long an ensemble may take to elect a leader on a loaded 2-core box
/// (Apache's JVMs start in seconds; elections take a few hundred ms).
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(60);

impl Cluster {
    /// Starts `voters` participants and `observers` observers with tickTime
    /// 500 ms, initLimit 10, syncLimit 5.
    pub fn start(kind: ServerKind, voters: u64, observers: u64) -> Cluster {
        let mut c = Cluster::configure(kind, voters, observers);
        for i in 0..c.members.len() {
            c.restart(i);
        }
        c
    }

    /// Like [`start`](Self::start), but starts no member: a test that plays
    /// some members itself starts the others with [`restart`](Self::restart).
    pub fn configure(kind: ServerKind, voters: u64, observers: u64) -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ferrozk-ensemble-{}-", kind.name()))
            .tempdir()
            .expect("temp dir");
        let n = voters + observers;
        let all = free_ports(3 * n as usize);
        let ports: Vec<(u16, u16, u16)> = all.chunks(3).map(|p| (p[0], p[1], p[2])).collect();
        let mut servers = Vec::new();
        for (i, (_, q, e)) in ports.iter().enumerate() {
            let sid = i as u64 + 1;
            let role = if sid > voters { ":observer" } else { "" };
            servers.push((format!("server.{sid}"), format!("127.0.0.1:{q}:{e}{role}")));
        }
        let mut members = Vec::new();
        for (i, (client, _, _)) in ports.iter().enumerate() {
            let sid = i as u64 + 1;
            let root = dir.path().join(format!("s{sid}"));
            let data = root.join("data");
            std::fs::create_dir_all(&data).unwrap();
            std::fs::write(data.join("myid"), format!("{sid}\n")).unwrap();
            let mut cfg: Vec<(String, String)> = vec![
                ("tickTime".into(), "500".into()),
                ("initLimit".into(), "10".into()),
                ("syncLimit".into(), "5".into()),
                ("dataDir".into(), data.display().to_string()),
                ("clientPort".into(), client.to_string()),
                ("clientPortAddress".into(), "127.0.0.1".into()),
                ("maxClientCnxns".into(), "0".into()),
                ("4lw.commands.whitelist".into(), "*".into()),
                ("admin.enableServer".into(), "false".into()),
            ];
            if sid > voters {
                cfg.push(("peerType".into(), "observer".into()));
            }
            cfg.extend(servers.iter().cloned());
            members.push(Member {
                sid,
                observer: sid > voters,
                client_port: *client,
                quorum_port: ports[i].1,
                election_port: ports[i].2,
                root,
                cfg,
                child: None,
            });
        }
        Cluster {
            kind,
            members,
            _dir: dir,
        }
    }

    /// Starts member `i` (again, after a kill, on its data).
    pub fn restart(&mut self, i: usize) {
        let kind = self.kind;
        self.members[i].start(kind);
    }

    /// Every member's client address, as a connect string.
    pub fn connect_string(&self) -> String {
        self.members
            .iter()
            .map(|m| m.addr())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The connect string of the running members only.
    pub fn running_connect_string(&self) -> String {
        self.members
            .iter()
            .filter(|m| m.running())
            .map(|m| m.addr())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Waits until exactly one running member leads and every other running
    /// member follows or observes; returns the leader's index.
    pub fn wait_for_leader(&self, timeout: Duration) -> usize {
        self.wait_until("one leader, the others following", timeout, || {
            let modes: Vec<Option<String>> = self.members.iter().map(|m| m.mode()).collect();
            let running: Vec<usize> = (0..self.members.len())
                .filter(|&i| self.members[i].running())
                .collect();
            let leaders: Vec<usize> = running
                .iter()
                .copied()
                .filter(|&i| modes[i].as_deref() == Some("leader"))
                .collect();
            let all_up = running.iter().all(|&i| {
                matches!(
                    modes[i].as_deref(),
                    Some("leader") | Some("follower") | Some("observer")
                )
            });
            (leaders.len() == 1 && all_up).then(|| leaders[0])
        })
    }

    /// Polls `cond` (a bounded probe of the processes' state) until it
    /// holds; panics with every member's log tail otherwise.
    pub fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut cond: impl FnMut() -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = cond() {
                return v;
            }
            if Instant::now() > deadline {
                let mut logs = String::new();
                for m in &self.members {
                    logs.push_str(&format!(
                        "\n--- member {} ({:?}, running {}):\n{}",
                        m.sid,
                        m.mode(),
                        m.running(),
                        m.log_tail()
                    ));
                }
                panic!(
                    "{} ensemble: not {what} within {timeout:?}{logs}",
                    self.kind.name()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
