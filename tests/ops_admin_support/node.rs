//! Server processes with the AdminServer on (Apache ZooKeeper with Jetty
//! on its classpath, or ferrozk), and a minimal HTTP/1.1 client for them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::json::J;
use crate::common::{self, four_letter_at, ServerKind};

/// Apache ZooKeeper's classpath with the Jetty and Jackson jars its
/// AdminServer needs (without them it runs a dummy admin server).
const APACHE_ADMIN_JARS: &[&str] = &[
    common::ZK_JAR,
    common::SLF4J_SIMPLE_JAR,
    "/usr/share/java/jetty9-server.jar",
    "/usr/share/java/jetty9-servlet.jar",
    "/usr/share/java/jetty9-util.jar",
    "/usr/share/java/jetty9-http.jar",
    "/usr/share/java/jetty9-io.jar",
    "/usr/share/java/jetty9-security.jar",
    "/usr/share/java/servlet-api.jar",
    "/usr/share/java/jackson-databind.jar",
    "/usr/share/java/jackson-core.jar",
    "/usr/share/java/jackson-annotations.jar",
];

/// The command that runs `kind` on `cfg`.
pub fn server_command(kind: ServerKind, cfg: &Path) -> Command {
    match kind {
        ServerKind::Ferrozk => common::server_command(kind, cfg, &[]),
        ServerKind::Apache => {
            for jar in APACHE_ADMIN_JARS {
                common::require_file(jar, "Debian packages libjetty9-java, libjackson2-*-java");
            }
            let mut c = Command::new("java");
            c.args(["-Xmx256m", "-XX:TieredStopAtLevel=1"])
                .arg("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
                .arg("-cp")
                .arg(APACHE_ADMIN_JARS.join(":"))
                .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                .arg(cfg);
            c
        }
    }
}

/// A server process with its own directory, killed on drop.
pub struct Node {
    pub kind: ServerKind,
    child: Child,
    root: PathBuf,
    pub client_port: u16,
    pub admin_port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    /// Writes `root/zoo.cfg` and spawns the server on it.
    pub fn spawn(kind: ServerKind, root: &Path, cfg: &[(String, String)]) -> Node {
        std::fs::create_dir_all(root.join("data")).unwrap();
        let text: String = cfg.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let path = root.join("zoo.cfg");
        std::fs::write(&path, text).unwrap();
        let log = std::fs::File::create(root.join("server.log")).unwrap();
        let child = server_command(kind, &path)
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", kind.name()));
        let get = |k: &str| {
            cfg.iter()
                .find(|(ck, _)| ck == k)
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0)
        };
        Node {
            kind,
            child,
            root: root.to_path_buf(),
            client_port: get("clientPort"),
            admin_port: get("admin.serverPort"),
        }
    }

    pub fn client_addr(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// `Mode:` from `srvr`, once the server serves.
    pub fn mode(&self) -> Option<String> {
        let srvr = four_letter_at(&self.client_addr(), "srvr", Duration::from_secs(2)).ok()?;
        srvr.lines()
            .find_map(|l| l.strip_prefix("Mode: ").map(|m| m.trim().to_string()))
    }

    /// Waits until `srvr` has a mode (and the admin port answers, if
    /// `admin`); panics with the log otherwise.
    pub fn wait_serving(&mut self, admin: bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!("{} exited ({st}):\n{}", self.kind.name(), self.log_tail());
            }
            let admin_up = !admin || http(self.admin_port, "GET", "/commands/ruok").is_ok();
            if self.mode().is_some() && admin_up {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not serve in time:\n{}",
                self.kind.name(),
                self.log_tail()
            );
            // Polling a readiness probe.
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        http(self.admin_port, "GET", path)
            .unwrap_or_else(|e| panic!("{} GET {path}: {e}\n{}", self.kind.name(), self.log_tail()))
    }

    pub fn json(&self, command: &str) -> J {
        let r = self.get(&format!("/commands/{command}"));
        J::parse(&r.body)
            .unwrap_or_else(|e| panic!("{} {command}: {e}: {:?}", self.kind.name(), r.body))
    }
}

/// The standalone configuration both kinds run with.
pub fn standalone_cfg(root: &Path, client: u16, admin: u16) -> Vec<(String, String)> {
    [
        ("tickTime", "2000".to_string()),
        ("dataDir", root.join("data").display().to_string()),
        ("clientPort", client.to_string()),
        ("clientPortAddress", "127.0.0.1".into()),
        ("maxClientCnxns", "0".into()),
        ("4lw.commands.whitelist", "*".into()),
        ("admin.enableServer", "true".into()),
        ("admin.serverAddress", "127.0.0.1".into()),
        ("admin.serverPort", admin.to_string()),
        ("admin.idleTimeout", "1500".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`).
pub fn http(port: u16, method: &str, path: &str) -> std::io::Result<Reply> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no header end in {text:?}")))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: body.to_string(),
    })
}
