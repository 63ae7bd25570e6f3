//! Access control: the schemes ZooKeeper ships (world, auth, digest, ip,
//! super), the ACL-list cache, and the checks `prep` and the read path make.
//!
//! A connection carries a list of authenticated [`Id`]s (its `authInfo`):
//! `ip:<address>` from the moment it connects, plus one `digest` id per
//! successful `addAuth digest user:password`, plus `super:` when that digest
//! equals the configured super digest. A node's ACL grants a permission if
//! any entry with that bit matches one of those ids.

use base64::Engine as _;
use sha1::{Digest as _, Sha1};

use crate::proto::records::data::{Id, ACL};
use crate::proto::ErrorCode;

/// `world:anyone`.
pub fn anyone() -> Id {
    Id {
        scheme: "world".into(),
        id: "anyone".into(),
    }
}

/// `OPEN_ACL_UNSAFE`: everything for everyone.
pub fn open_acl_unsafe() -> Vec<ACL> {
    vec![ACL {
        perms: crate::proto::ops::perms::ALL,
        id: anyone(),
    }]
}

/// `READ_ACL_UNSAFE`: read for everyone.
pub fn read_acl_unsafe() -> Vec<ACL> {
    vec![ACL {
        perms: crate::proto::ops::perms::READ,
        id: anyone(),
    }]
}

/// `user:base64(sha1("user:password"))`, the digest scheme's id for a
/// `user:password` credential (DigestAuthenticationProvider.generateDigest).
pub fn generate_digest(user_password: &str) -> String {
    let user = user_password.split(':').next().unwrap_or("");
    let hash = Sha1::digest(user_password.as_bytes());
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

/// Java's `String.split(":")`: trailing empty strings are dropped.
fn java_split_colon(s: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(':').collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts == [""] {
        parts.clear();
    }
    parts
}

/// Parses an ip ACL expression `addr[/bits]` into address bytes and prefix
/// length. Like ZooKeeper 3.8's IPAuthenticationProvider, only IPv4 dotted
/// quads are understood (its IPv6 parser is a TODO), so IPv6 ACLs are
/// invalid and IPv6 clients never match.
fn parse_ip_expr(expr: &str) -> Option<(Vec<u8>, u32)> {
    let (addr, bits) = match expr.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u32>().ok()?)),
        None => (expr, None),
    };
    let parts: Vec<&str> = addr.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let bytes = parts
        .iter()
        .map(|p| p.parse::<u8>().ok())
        .collect::<Option<Vec<u8>>>()?;
    let bits = bits.unwrap_or(32);
    if bits > 32 {
        return None;
    }
    Some((bytes, bits))
}

fn ip_matches(client: &str, expr: &str) -> bool {
    let Some((net, bits)) = parse_ip_expr(expr) else {
        return false;
    };
    let Some((addr, _)) = parse_ip_expr(client) else {
        return false;
    };
    if addr.len() != net.len() {
        return false;
    }
    (0..bits as usize).all(|i| {
        let mask = 0x80u8 >> (i % 8);
        (addr[i / 8] & mask) == (net[i / 8] & mask)
    })
}

/// Whether an ACL id is well formed for its scheme (`isValid` of the provider).
fn is_valid(id: &Id) -> bool {
    match id.scheme.as_str() {
        "digest" => java_split_colon(&id.id).len() == 2,
        "ip" => parse_ip_expr(&id.id).is_some(),
        _ => false,
    }
}

/// `fixupACL`: validates an ACL list for create/setACL and expands `auth`
/// entries into the requester's authenticated ids.
pub fn fixup(auth: &[Id], acl: &[ACL]) -> Result<Vec<ACL>, ErrorCode> {
    let mut uniq: Vec<&ACL> = Vec::with_capacity(acl.len());
    for a in acl {
        if !uniq.contains(&a) {
            uniq.push(a);
        }
    }
    if uniq.is_empty() {
        return Err(ErrorCode::InvalidAcl);
    }
    let mut out = Vec::with_capacity(uniq.len());
    for a in uniq {
        if a.id.scheme == "world" && a.id.id == "anyone" {
            out.push(a.clone());
        } else if a.id.scheme == "auth" {
            // Only ids of providers that count as "authenticated" expand:
            // digest does, ip does not.
            let mut any = false;
            for cid in auth.iter().filter(|c| c.scheme == "digest") {
                any = true;
                out.push(ACL {
                    perms: a.perms,
                    id: cid.clone(),
                });
            }
            if !any {
                return Err(ErrorCode::InvalidAcl);
            }
        } else if is_valid(&a.id) {
            out.push(a.clone());
        } else {
            return Err(ErrorCode::InvalidAcl);
        }
    }
    Ok(out)
}

/// `checkACL`: does `auth` hold `perm` on a node with `acl`?
pub fn check(acl: &[ACL], perm: i32, auth: &[Id], skip_acl: bool) -> Result<(), ErrorCode> {
    if skip_acl || acl.is_empty() || auth.iter().any(|a| a.scheme == "super") {
        return Ok(());
    }
    for a in acl.iter().filter(|a| a.perms & perm != 0) {
        if a.id.scheme == "world" && a.id.id == "anyone" {
            return Ok(());
        }
        let matcher: fn(&str, &str) -> bool = match a.id.scheme.as_str() {
            "digest" => |have, want| have == want,
            "ip" => ip_matches,
            _ => continue,
        };
        if auth
            .iter()
            .any(|id| id.scheme == a.id.scheme && matcher(&id.id, &a.id.id))
        {
            return Ok(());
        }
    }
    Err(ErrorCode::NoAuth)
}

/// The outcome of an `addAuth` packet for a scheme.
pub fn authenticate(
    scheme: &str,
    credential: &[u8],
    client_ip: &str,
    super_digest: Option<&str>,
) -> Result<Vec<Id>, ErrorCode> {
    match scheme {
        "digest" => {
            let cred = String::from_utf8_lossy(credential);
            let digest = generate_digest(&cred);
            let mut ids = Vec::new();
            if super_digest == Some(digest.as_str()) {
                ids.push(Id {
                    scheme: "super".into(),
                    id: String::new(),
                });
            }
            ids.push(Id {
                scheme: "digest".into(),
                id: digest,
            });
            Ok(ids)
        }
        "ip" => Ok(vec![Id {
            scheme: "ip".into(),
            id: client_ip.to_string(),
        }]),
        _ => Err(ErrorCode::AuthFailed),
    }
}

/// The user name a provider reports for an id (whoAmI): the user part of a
/// digest id, the address of an ip id, nothing for schemes without a
/// provider (super).
pub fn user_name(id: &Id) -> String {
    match id.scheme.as_str() {
        "digest" => id.id.split(':').next().unwrap_or("").to_string(),
        "ip" => id.id.clone(),
        _ => String::new(),
    }
}

pub use super::acl_cache::{AclCache, OPEN_UNSAFE_ACL_ID};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ops::perms;

    fn id(s: &str, i: &str) -> Id {
        Id {
            scheme: s.into(),
            id: i.into(),
        }
    }

    #[test]
    fn digest_matches_zookeeper() {
        // DigestAuthenticationProvider.generateDigest("super:test"), a value
        // widely quoted in ZooKeeper's docs.
        assert_eq!(
            generate_digest("super:test"),
            "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
        );
    }

    #[test]
    fn ip_cidr_matching() {
        assert!(ip_matches("10.1.2.3", "10.1.0.0/16"));
        assert!(!ip_matches("10.2.2.3", "10.1.0.0/16"));
        assert!(ip_matches("127.0.0.1", "127.0.0.1"));
        assert!(!ip_matches("::1", "127.0.0.1"));
        assert!(parse_ip_expr("::1/128").is_none(), "3.8 has no IPv6 ACLs");
    }

    #[test]
    fn fixup_rejects_empty_bad_and_unauthenticated_auth() {
        assert_eq!(fixup(&[], &[]), Err(ErrorCode::InvalidAcl));
        let bad = vec![ACL {
            perms: perms::ALL,
            id: id("digest", "nocolon"),
        }];
        assert_eq!(fixup(&[], &bad), Err(ErrorCode::InvalidAcl));
        let auth = vec![ACL {
            perms: perms::ALL,
            id: id("auth", ""),
        }];
        assert_eq!(
            fixup(&[id("ip", "127.0.0.1")], &auth),
            Err(ErrorCode::InvalidAcl)
        );
        let me = id("digest", "u:h");
        assert_eq!(
            fixup(&[id("ip", "127.0.0.1"), me.clone()], &auth).unwrap(),
            vec![ACL {
                perms: perms::ALL,
                id: me
            }]
        );
    }

    #[test]
    fn check_respects_bits_schemes_and_super() {
        let acl = vec![ACL {
            perms: perms::READ,
            id: id("digest", "u:h"),
        }];
        assert_eq!(
            check(&acl, perms::READ, &[id("digest", "u:h")], false),
            Ok(())
        );
        assert_eq!(
            check(&acl, perms::WRITE, &[id("digest", "u:h")], false),
            Err(ErrorCode::NoAuth)
        );
        assert_eq!(check(&acl, perms::WRITE, &[id("super", "")], false), Ok(()));
        assert_eq!(
            check(&acl, perms::READ, &[id("ip", "1.2.3.4")], false),
            Err(ErrorCode::NoAuth)
        );
    }
}
