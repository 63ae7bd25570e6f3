#!/usr/bin/python3
"""ACLs: world, digest, ip, auth schemes; add_auth digest (also several
identities on one session); NoAuth on every operation and each permission
bit; aversion; getACL needs no permission beyond READ|ADMIN; set_acls with
versions; the 'auth' pseudo-scheme expanding to the session's identities."""

from kazoo.security import (ACL, Id, make_acl, make_digest_acl,
                            make_digest_acl_credential)

from zkscenario import OPEN_ACL, Scenario

READ, WRITE, CREATE, DELETE, ADMIN, ALL = 1, 2, 4, 8, 16, 31


def body(s):
    owner = s.connect("owner", auth_data=[("digest", "alice:secret")])
    anon = s.connect("anon")
    bob = s.connect("bob", auth_data=[("digest", "bob:pw")])

    alice_all = make_digest_acl("alice", "secret", all=True)
    s.note("digest credential of alice:secret",
           make_digest_acl_credential("alice", "secret"))

    # digest ACL: only alice
    s.ok("create /d with alice's digest ACL", owner.create, "/d", b"d",
         acl=[alice_all])
    s.ok("owner reads /d", owner.get, "/d")
    s.ok("owner get_acls /d", owner.get_acls, "/d")
    s.err("anon reads /d", "NoAuthError", anon.get, "/d")
    s.ok("anon exists /d needs no permission", anon.exists, "/d")
    s.err("anon get_acls /d", "NoAuthError", anon.get_acls, "/d")
    s.err("anon children /d", "NoAuthError", anon.get_children, "/d")
    s.err("anon set /d", "NoAuthError", anon.set, "/d", b"x")
    s.err("anon create under /d", "NoAuthError", anon.create, "/d/x")
    s.err("anon set_acls /d", "NoAuthError", anon.set_acls, "/d", OPEN_ACL)
    s.err("bob reads /d", "NoAuthError", bob.get, "/d")
    s.ok("owner creates child", owner.create, "/d/c", b"c")
    s.err("anon deletes child needs DELETE on parent", "NoAuthError",
          anon.delete, "/d/c")
    s.ok("anon sync still works", anon.sync, "/d")

    # add_auth later on the anonymous session
    s.ok("anon add_auth alice", anon.add_auth, "digest", "alice:secret")
    s.ok("anon now reads /d", anon.get, "/d")
    s.ok("anon add_auth a second identity", anon.add_auth, "digest",
         "carol:pw")
    s.ok("reads still work with two identities", anon.get, "/d")
    s.err("wrong password does not match", "NoAuthError",
          s.connect("eve", auth_data=[("digest", "alice:wrong")]).get, "/d")

    # one permission bit at a time, for bob
    for name, perm in (("READ", READ), ("WRITE", WRITE), ("CREATE", CREATE),
                       ("DELETE", DELETE), ("ADMIN", ADMIN)):
        p = "/perm-" + name
        acl = [make_acl("digest", make_digest_acl_credential("bob", "pw"),
                        read=perm == READ, write=perm == WRITE,
                        create=perm == CREATE, delete=perm == DELETE,
                        admin=perm == ADMIN), alice_all]
        s.ok("create %s" % p, owner.create, p, b"v", acl=acl)
        s.ok("owner creates %s/child" % p, owner.create, p + "/child")
        s.op("bob get %s" % name, bob.get, p)
        s.op("bob children %s" % name, bob.get_children, p)
        s.op("bob set %s" % name, bob.set, p, b"w")
        s.op("bob create child %s" % name, bob.create, p + "/bob")
        s.op("bob delete child %s" % name, bob.delete, p + "/child")
        s.op("bob get_acls %s" % name, bob.get_acls, p)
        s.op("bob set_acls %s" % name, bob.set_acls, p, acl)
        s.op("owner stat %s" % name, owner.exists, p)

    # world with partial permissions
    s.ok("create read-only world node", owner.create, "/ro", b"r",
         acl=[ACL(READ, Id("world", "anyone"))])
    s.ok("anon reads /ro", anon.get, "/ro")
    s.err("owner cannot write /ro either", "NoAuthError", owner.set, "/ro",
          b"x")
    s.err("nor set its ACL", "NoAuthError", owner.set_acls, "/ro", OPEN_ACL)
    s.ok("but deletes it (DELETE is on the parent)", owner.delete, "/ro")

    # ip scheme
    s.ok("create ip 127.0.0.1 node", owner.create, "/ip", b"i",
         acl=[ACL(ALL, Id("ip", "127.0.0.1"))])
    s.ok("anon from loopback reads", anon.get, "/ip")
    s.ok("create ip 127.0.0.0/8 node", owner.create, "/ip8", b"i",
         acl=[ACL(ALL, Id("ip", "127.0.0.0/8"))])
    s.ok("anon reads /ip8", anon.get, "/ip8")
    s.ok("create ip 10.0.0.1 node", owner.create, "/ip10", b"i",
         acl=[ACL(ALL, Id("ip", "10.0.0.1"))])
    s.err("loopback cannot read 10.0.0.1's node", "NoAuthError", anon.get,
          "/ip10")

    # auth pseudo-scheme: becomes the creator's identities
    s.ok("create with auth scheme", owner.create, "/auth", b"a",
         acl=[ACL(ALL, Id("auth", ""))])
    s.ok("stored ACL names alice's digest", owner.get_acls, "/auth")
    s.err("bob cannot read it", "NoAuthError", bob.get, "/auth")
    plain = s.connect("plain")
    s.err("auth scheme without identities", "InvalidACLError", plain.create,
          "/auth2", acl=[ACL(ALL, Id("auth", ""))])
    s.ok("auth scheme with two identities", anon.create, "/auth3",
         acl=[ACL(ALL, Id("auth", ""))])
    s.ok("ACL of /auth3 lists both (sorted)", lambda: sorted(
        anon.get_acls("/auth3")[0], key=lambda x: x.id.id))

    # aversion and versioned set_acls
    s.ok("create /v", owner.create, "/v", b"")
    st = s.ok("set_acls /v", owner.set_acls, "/v", [alice_all])
    s.expect("aversion after one set_acls", st["aversion"], 1)
    s.ok("set_acls /v version 1", owner.set_acls, "/v", OPEN_ACL, version=1)
    s.err("set_acls /v stale version", "BadVersionError", owner.set_acls,
          "/v", OPEN_ACL, version=1)
    st = s.ok("get_acls /v", owner.get_acls, "/v")
    s.expect("aversion after two", st[1]["aversion"], 2)
    s.ok("version unchanged by ACL changes", owner.exists, "/v")

    # ACL of a node with several entries, order preserved
    acl = [ACL(READ, Id("world", "anyone")), alice_all,
           ACL(ALL, Id("ip", "127.0.0.1"))]
    s.ok("create multi-entry ACL", owner.create, "/multi", acl=acl)
    s.ok("ACL order is preserved", owner.get_acls, "/multi")

    # a bad add_auth (unknown scheme) kills the session: AuthFailed
    s.op("add_auth unknown scheme", anon.add_auth, "nosuchscheme", "x")


Scenario("acl").run(body)
