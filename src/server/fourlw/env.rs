//! `envi`: the environment, as ZooKeeper's `Environment.list()` reports it
//! — the same 18 keys in the same order.
//!
//! Java's system properties become what they describe on a native
//! process: `os.name`/`os.arch`/`os.version` from uname(2), spelled as the
//! JVM spells them (`Linux`, `amd64`); `user.name`/`user.home` from the
//! password entry of the process's user; `host.name` resolved as
//! `InetAddress.getLocalHost().getCanonicalHostName()` does. ferrozk has
//! no JVM: the `java.*` keys that name one (version, vendor, home, class
//! path, library path, compiler) are `<NA>`, which is what ZooKeeper
//! prints for a property that is not set; `java.io.tmpdir` is the
//! temporary directory. The JVM's heap figures become the process's
//! memory: `os.memory.total` its resident set, `os.memory.max` what it may
//! use (its address-space limit, else the machine's memory), and
//! `os.memory.free` what of that is still available (at most the system's
//! available memory).

use std::ffi::CStr;
use std::fmt::Write as _;

/// The environment entries, in ZooKeeper's order (also the AdminServer's
/// `environment` command).
pub fn environment() -> Vec<(&'static str, String)> {
    let na = || "<NA>".to_owned();
    let uts = uname();
    let (user, home) = user();
    let (total, max, free) = memory_mb();
    vec![
        ("zookeeper.version", super::full_version()),
        ("host.name", host_name().unwrap_or_else(na)),
        ("java.version", na()),
        ("java.vendor", na()),
        ("java.home", na()),
        ("java.class.path", na()),
        ("java.library.path", na()),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", na()),
        ("os.name", uts.0.unwrap_or_else(na)),
        ("os.arch", java_arch(std::env::consts::ARCH).to_owned()),
        ("os.version", uts.1.unwrap_or_else(na)),
        ("user.name", user.unwrap_or_else(na)),
        ("user.home", home.unwrap_or_else(na)),
        (
            "user.dir",
            std::env::current_dir().map_or_else(|_| na(), |d| d.display().to_string()),
        ),
        ("os.memory.free", format!("{free}MB")),
        ("os.memory.max", format!("{max}MB")),
        ("os.memory.total", format!("{total}MB")),
    ]
}

/// `envi`.
pub(super) fn envi() -> String {
    let mut s = String::from("Environment:\n");
    for (k, v) in environment() {
        let _ = writeln!(s, "{k}={v}");
    }
    s
}

/// The JVM's `os.arch` for Rust's architecture name.
fn java_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "x86" => "i386",
        "powerpc64" => "ppc64",
        other => other,
    }
}

fn c_string(p: *const libc::c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the pointer is a NUL-terminated string owned by the buffer
    // the caller filled, alive for this call.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// (sysname, release) from uname(2).
fn uname() -> (Option<String>, Option<String>) {
    // SAFETY: uname fills the zeroed struct; its fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return (None, None);
        }
        (c_string(u.sysname.as_ptr()), c_string(u.release.as_ptr()))
    }
}

/// (name, home) of the process's real user, from its password entry.
fn user() -> (Option<String>, Option<String>) {
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: getpwuid_r writes the entry into `pw` and its strings into
    // `buf`, both alive while we read them.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::getuid(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut out,
        );
        if rc != 0 || out.is_null() {
            return (std::env::var("USER").ok(), std::env::var("HOME").ok());
        }
        (c_string(pw.pw_name), c_string(pw.pw_dir))
    }
}

/// `InetAddress.getLocalHost().getCanonicalHostName()`: the host name,
/// resolved to an address, and that address's name (its textual form if
/// it has none).
fn host_name() -> Option<String> {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    if unsafe { libc::gethostname(buf.as_mut_ptr(), buf.len()) } != 0 {
        return None;
    }
    let name = c_string(buf.as_ptr())?;
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), 0))
        .ok()?
        .next()?;
    Some(reverse_lookup(addr).unwrap_or_else(|| addr.ip().to_string()))
}

/// The name getnameinfo(3) finds for `addr` (it must have one).
fn reverse_lookup(addr: std::net::SocketAddr) -> Option<String> {
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: the sockaddr structs are built on the stack from `addr` and
    // live across the call; getnameinfo writes at most host.len() bytes.
    let rc = unsafe {
        match addr {
            std::net::SocketAddr::V4(a) => {
                let mut sa: libc::sockaddr_in = std::mem::zeroed();
                sa.sin_family = libc::AF_INET as libc::sa_family_t;
                sa.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
            std::net::SocketAddr::V6(a) => {
                let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
                sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sa.sin6_addr.s6_addr = a.ip().octets();
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
        }
    };
    if rc != 0 {
        return None;
    }
    c_string(host.as_ptr())
}

/// (resident, limit, available) in MiB; see the module comment.
fn memory_mb() -> (u64, u64, u64) {
    let mib = 1024 * 1024;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kb = |text: &str, key: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .map(|k: u64| k * 1024)
    };
    let resident = kb(&status, "VmRSS:").unwrap_or(0);
    let machine = kb(&meminfo, "MemTotal:").unwrap_or(0);
    let available = kb(&meminfo, "MemAvailable:").unwrap_or(0);
    // SAFETY: getrlimit writes into the zeroed struct.
    let limit = unsafe {
        let mut r: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_AS, &mut r) == 0 && r.rlim_cur != libc::RLIM_INFINITY {
            r.rlim_cur.min(machine.max(1))
        } else {
            machine
        }
    };
    let free = limit.saturating_sub(resident).min(available);
    (resident / mib, limit / mib, free / mib)
}
