//! `srvr`, `stat` and `cons`: the server's statistics and its connections,
//! as ZooKeeper's `StatCommand`, `ConsCommand`, `ServerStats.toString` and
//! `ServerCnxn.dumpConnectionInfo` print them.
//!
//! ZooKeeper lists every connection of its connection factory, the one
//! asking included (sessionless: `[0](queued=0,recved=1,sent=0)`). Its
//! `[1]` is the selector's interest set: 1 (OP_READ) for a connection that
//! is being read, 0 for the asking one, whose key was cancelled. ferrozk's
//! connections are always read (until 1024 requests are in flight), so it
//! prints 1 for them.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::super::core::stats::ConnView;
use super::super::core::Core;
use super::{full_version, mode, Asker};

/// `srvr`, or `stat` (with the `Clients:` section) when `clients`.
pub(super) fn srvr(core: &Core, from: Option<&Asker>, clients: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Zookeeper version: {}", full_version());
    if clients {
        s.push_str("Clients:\n");
        for line in connection_lines(core, from, true) {
            let _ = writeln!(s, "{line}");
        }
        s.push('\n');
    }
    let stats = core.stats();
    let _ = writeln!(s, "Latency min/avg/max: {}", stats.latency_line());
    let _ = writeln!(s, "Received: {}", stats.received);
    let _ = writeln!(s, "Sent: {}", stats.sent);
    let _ = writeln!(s, "Connections: {}", connection_count(core, from));
    let _ = writeln!(s, "Outstanding: {}", core.outstanding_requests());
    let _ = writeln!(s, "Zxid: 0x{:x}", core.tree.last_zxid);
    let role = mode(core);
    let _ = writeln!(s, "Mode: {role}");
    let _ = writeln!(s, "Node count: {}", core.node_count());
    if role == "leader" {
        let _ = writeln!(s, "Proposal sizes last/min/max: {}", stats.proposal_sizes);
    }
    s
}

/// `cons`: every connection in full, then an empty line.
pub(super) fn cons(core: &Core, from: Option<&Asker>) -> String {
    let mut s = String::new();
    for line in connection_lines(core, from, false) {
        let _ = writeln!(s, "{line}");
    }
    s.push('\n');
    s
}

/// The alive connections ZooKeeper's factory counts (`Connections:`,
/// `zk_num_alive_connections`): the sessions' and the asking one.
pub fn connection_count(core: &Core, from: Option<&Asker>) -> usize {
    core.connections().len() + usize::from(from.is_some())
}

/// One line per connection (`dumpConnectionInfo`), the asking one last
/// (it is the newest).
fn connection_lines(core: &Core, from: Option<&Asker>, brief: bool) -> Vec<String> {
    let mut lines: Vec<String> = core
        .connections()
        .iter()
        .map(|c| connection_info(c, brief))
        .collect();
    if let Some(a) = from {
        lines.push(format!(
            " {}[0](queued=0,recved=1,sent=0)",
            java_socket_address(a.peer)
        ));
    }
    lines
}

/// `ServerCnxn.dumpConnectionInfo` of a connection with a session.
pub fn connection_info(c: &ConnView<'_>, brief: bool) -> String {
    let st = c.stats;
    let mut s = format!(
        " {}[1](queued={},recved={},sent={}",
        java_socket_address(c.peer),
        st.outstanding(),
        st.packets_received,
        st.packets_sent
    );
    if !brief && c.session != 0 {
        let _ = write!(
            s,
            ",sid=0x{:x},lop={},est={},to={}",
            c.session,
            st.last_op.unwrap_or("null"),
            st.established_ms,
            c.timeout_ms
        );
        if st.last_cxid >= 0 {
            let _ = write!(s, ",lcxid=0x{:x}", st.last_cxid);
        }
        let _ = write!(
            s,
            ",lzxid=0x{:x},lresp={},llat={},minlat={},avglat={},maxlat={}",
            st.last_zxid,
            st.last_response_ms,
            st.last_latency_ms,
            st.min_latency_ms(),
            st.avg_latency_ms(),
            st.max_latency_ms
        );
    }
    s.push(')');
    s
}

/// Java's `InetSocketAddress.toString()` for an accepted socket:
/// `/127.0.0.1:38912`, `/[0:0:0:0:0:0:0:1]:38912`.
pub fn java_socket_address(a: SocketAddr) -> String {
    match a {
        SocketAddr::V4(v4) => format!("/{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => {
            let groups: Vec<String> = v6
                .ip()
                .segments()
                .iter()
                .map(|g| format!("{g:x}"))
                .collect();
            format!("/[{}]:{}", groups.join(":"), v6.port())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_print_as_java() {
        assert_eq!(
            java_socket_address("127.0.0.1:38912".parse().unwrap()),
            "/127.0.0.1:38912"
        );
        assert_eq!(
            java_socket_address("[::1]:2181".parse().unwrap()),
            "/[0:0:0:0:0:0:0:1]:2181"
        );
    }
}
