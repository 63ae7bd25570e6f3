#!/usr/bin/python3
"""Every error path: NoNode, NodeExists, NotEmpty, BadVersion,
NoChildrenForEphemerals, InvalidACL, BadArguments (invalid paths, sent raw so
kazoo cannot fix them first), writes under /zookeeper, NUL and other
forbidden characters, create flags, TTL while extended types are off."""

from kazoo.protocol.serialization import (Create, Delete, Exists,
                                          GetChildren, GetData, SetData)
from kazoo.security import ACL, Id

from zkscenario import (CONTAINER, EPHEMERAL, EPHEMERAL_SEQ, OPEN_ACL,
                        PERSISTENT, PERSISTENT_SEQ, PERSISTENT_TTL,
                        CreateContainer, CreateTTL, Scenario)

# Paths a server must judge itself.  Apache ZooKeeper validates the path of
# create/delete/setData (create: only after finding the parent, and after
# appending the sequence suffix), not of reads (exists rejects NUL).
ODD_PATHS = ["//a", "/a/", "/a/./b", "/a/../b", "/./a", "/.", "/..",
             "no-slash", "", "/a\x00b", "/a\x01", "/a\x1f", "/a\x7f",
             "/a\u0090", "/a\ud7ff", "/a\ue000", "/a\uf8ff", "/a\ufff0",
             "/a\U0001F600", "/a/.b", "/a/..b", "/a/b.", "/a b", "/\u00e9",
             "/a/\u4e2d\u6587"]


def body(s):
    a = s.connect("a")
    s.ok("create /a", a.create, "/a", b"a")
    s.ok("create /a/k", a.create, "/a/k", b"k")

    # NoNode on every operation
    s.err("get missing", "NoNodeError", a.get, "/missing")
    s.err("set missing", "NoNodeError", a.set, "/missing", b"x")
    s.err("delete missing", "NoNodeError", a.delete, "/missing")
    s.err("children missing", "NoNodeError", a.get_children, "/missing")
    s.err("children2 missing", "NoNodeError", a.get_children, "/missing",
          include_data=True)
    s.err("get_acls missing", "NoNodeError", a.get_acls, "/missing")
    s.err("set_acls missing", "NoNodeError", a.set_acls, "/missing",
          OPEN_ACL)
    s.ok("exists missing is None", a.exists, "/missing")
    s.err("create with missing parent", "NoNodeError", a.create,
          "/missing/x")
    s.err("create seq with missing parent", "NoNodeError", a.create,
          "/missing/x-", sequence=True)
    s.err("create eph with missing parent", "NoNodeError", a.create,
          "/missing/x", ephemeral=True)

    # NodeExists
    s.err("create existing", "NodeExistsError", a.create, "/a")
    s.err("create /", "NodeExistsError", a.create, "/")
    s.err("create /zookeeper", "NodeExistsError", a.create, "/zookeeper")
    s.err("create existing ephemeral", "NodeExistsError", a.create, "/a",
          ephemeral=True)

    # NotEmpty
    s.err("delete non-empty", "NotEmptyError", a.delete, "/a")
    s.err("delete non-empty with right version", "NotEmptyError", a.delete,
          "/a", version=0)

    # BadVersion (checked before NotEmpty? both apply here)
    s.op("delete non-empty with wrong version", a.delete, "/a", version=7)
    s.err("set wrong version", "BadVersionError", a.set, "/a/k", b"x",
          version=1)
    s.err("delete wrong version", "BadVersionError", a.delete, "/a/k",
          version=1)
    s.err("set_acls wrong version", "BadVersionError", a.set_acls, "/a/k",
          OPEN_ACL, version=3)
    s.err("set version -2", "BadVersionError", a.set, "/a/k", b"x",
          version=-2)
    s.ok("state unchanged after errors", a.get, "/a/k")

    # NoChildrenForEphemerals
    s.ok("create ephemeral", a.create, "/eph", b"", ephemeral=True)
    s.err("child of ephemeral", "NoChildrenForEphemeralsError", a.create,
          "/eph/x")
    s.err("ephemeral child of ephemeral", "NoChildrenForEphemeralsError",
          a.create, "/eph/x", ephemeral=True)
    s.err("sequential child of ephemeral", "NoChildrenForEphemeralsError",
          a.create, "/eph/x-", sequence=True)
    s.raw_op("container child of ephemeral", a,
             CreateContainer("/eph/c", b"", OPEN_ACL, CONTAINER),
             "NoChildrenForEphemeralsError")
    s.err("child of missing ephemeral path", "NoNodeError", a.create,
          "/eph/x/y")

    # InvalidACL
    bad_acls = {
        "empty list": [],
        "digest without colon": [ACL(31, Id("digest", "nocolon"))],
        "unknown scheme": [ACL(31, Id("foo", "bar"))],
        "ip out of range": [ACL(31, Id("ip", "300.1.1.1"))],
        "ip bad prefix length": [ACL(31, Id("ip", "10.0.0.0/33"))],
        "auth without identities": [ACL(31, Id("auth", ""))],
        "world but not anyone": [ACL(31, Id("world", "someone"))],
        "super scheme": [ACL(31, Id("super", "x"))],
    }
    for name, acl in sorted(bad_acls.items()):
        s.raw_op("create with invalid ACL: " + name, a,
                 Create("/acl-bad", b"", acl, PERSISTENT), "InvalidACLError")
        s.err("set_acls invalid: " + name, "InvalidACLError", a.set_acls,
              "/a/k", acl)
    odd_but_valid = {
        "ip network": [ACL(31, Id("ip", "10.0.0.0/8"))],
        "ip host": [ACL(31, Id("ip", "127.0.0.1"))],
        "zero perms": [ACL(0, Id("world", "anyone"))],
        "unknown perm bit": [ACL(64 | 1, Id("world", "anyone"))],
        "digest well formed": [ACL(31, Id("digest", "u:abc"))],
        "duplicates": OPEN_ACL + OPEN_ACL,
    }
    for name, acl in sorted(odd_but_valid.items()):
        s.raw_op("create with ACL: " + name, a,
                 Create("/acl-ok", b"", acl, PERSISTENT))
        s.op("acl stored: " + name, a.get_acls, "/acl-ok")
        s.op("delete /acl-ok", a.delete, "/acl-ok")

    # odd paths, sent raw
    for p in ODD_PATHS:
        tag = repr(p)
        s.raw_op("create %s" % tag, a, Create(p, b"", OPEN_ACL, PERSISTENT))
        s.raw_op("create seq %s" % tag, a,
                 Create(p, b"", OPEN_ACL, PERSISTENT_SEQ))
        s.raw_op("get %s" % tag, a, GetData(p, None))
        s.raw_op("exists %s" % tag, a, Exists(p, None))
        s.raw_op("children %s" % tag, a, GetChildren(p, None))
        s.raw_op("set %s" % tag, a, SetData(p, b"x", -1))
        s.raw_op("delete %s" % tag, a, Delete(p, -1))
    s.raw_op("create //a is BadArguments", a,
             Create("//a", b"", OPEN_ACL, PERSISTENT), "BadArgumentsError")
    s.raw_op("create /a/ is BadArguments", a,
             Create("/a/", b"", OPEN_ACL, PERSISTENT), "BadArgumentsError")
    s.raw_op("create NUL is BadArguments", a,
             Create("/a\x00b", b"", OPEN_ACL, PERSISTENT),
             "BadArgumentsError")
    s.raw_op("set no-slash is BadArguments", a,
             SetData("no-slash", b"", -1), "BadArgumentsError")
    s.children("children of / after odd paths", a, "/")
    s.children("children of /a after odd paths", a, "/a")

    # the root
    s.raw_op("delete /", a, Delete("/", -1), "BadArgumentsError")
    s.ok("set / is allowed", a.set, "/", b"root")
    s.ok("sequential directly under / with empty name", a.create, "/",
         sequence=True)

    # /zookeeper
    s.raw_op("delete /zookeeper", a, Delete("/zookeeper", -1),
             "BadArgumentsError")
    s.raw_op("delete /zookeeper/quota", a, Delete("/zookeeper/quota", -1),
             "BadArgumentsError")
    s.raw_op("delete /zookeeper/config", a, Delete("/zookeeper/config", -1))
    s.err("set /zookeeper/config", "NoAuthError", a.set,
          "/zookeeper/config", b"x")
    s.err("create under /zookeeper/config", "NoAuthError", a.create,
          "/zookeeper/config/x")
    s.op("set_acls /zookeeper/config", a.set_acls, "/zookeeper/config",
         OPEN_ACL)
    s.op("set_acls /zookeeper", a.set_acls, "/zookeeper", OPEN_ACL)
    s.op("set /zookeeper", a.set, "/zookeeper", b"z")
    s.op("create /zookeeper/mine", a.create, "/zookeeper/mine", b"m")
    s.op("delete /zookeeper/mine", a.delete, "/zookeeper/mine")
    s.op("create under /zookeeper/quota", a.create, "/zookeeper/quota/q")
    s.children("children /zookeeper", a, "/zookeeper")

    # create flags and the extended types switch (off by default)
    s.raw_op("createTTL while extended types are off", a,
             CreateTTL("/ttl", b"", OPEN_ACL, PERSISTENT_TTL, 10000),
             "UnimplementedError")
    s.raw_op("createContainer ignores an ephemeral flag", a,
             CreateContainer("/c-eph-flag", b"", OPEN_ACL, EPHEMERAL))
    s.op("stat of it", a.exists, "/c-eph-flag")
    s.raw_op("create with container flag on opcode create", a,
             Create("/c4", b"", OPEN_ACL, CONTAINER))
    s.op("stat of it", a.exists, "/c4")
    for flags in (5, 6, 7, 99, -1):
        s.raw_op("create flags %d" % flags, a,
                 Create("/f%d" % flags, b"", OPEN_ACL, flags))
    s.raw_op("ephemeral sequential ok", a,
             Create("/es-", b"", OPEN_ACL, EPHEMERAL_SEQ))

    # the session still works after all of this
    s.ok("still alive", a.get, "/a")


Scenario("errors").run(body)
