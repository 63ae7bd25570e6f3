#!/usr/bin/python3
"""Create in every plain mode, read, update, delete; stats and versions;
sequential numbering (with gaps); children with and without data; sync;
large payloads up to just under 1 MiB; the initial tree."""

from zkscenario import (CONTAINER, OPEN_ACL, CreateContainer, Scenario)


def body(s):
    a = s.connect("a")

    # the initial tree of a fresh server
    s.children("initial children of /", a, "/")
    s.children("initial children of /zookeeper", a, "/zookeeper")
    s.ok("stat /", a.exists, "/")
    s.ok("stat /zookeeper", a.exists, "/zookeeper")
    s.ok("get /zookeeper/config", a.get, "/zookeeper/config")
    s.ok("acl /zookeeper/config", a.get_acls, "/zookeeper/config")
    s.ok("get /zookeeper/quota", a.get, "/zookeeper/quota")

    # persistent
    r = s.ok("create /p", a.create, "/p", b"hello")
    s.expect("create returns the path", r, "/p")
    st = s.ok("exists /p", a.exists, "/p")
    s.expect("new node version", st["version"], 0)
    s.expect("new node dataLength", st["dataLength"], 5)
    s.expect("new node ephemeralOwner", st["ephemeralOwner"], "0")
    s.expect("czxid == mzxid == pzxid", len({st["czxid"], st["mzxid"],
                                            st["pzxid"]}), 1)
    s.ok("get /p", a.get, "/p")
    s.ok("create /p/c1 with empty data", a.create, "/p/c1")
    s.ok("create /p/c2", a.create, "/p/c2", b"two")
    st = s.ok("stat /p after two children", a.exists, "/p")
    s.expect("cversion after 2 creates", st["cversion"], 2)
    s.expect("numChildren", st["numChildren"], 2)
    s.ok("create with makepath", a.create, "/deep/er/still", b"d",
         makepath=True)
    s.children("children of /deep/er", a, "/deep/er")
    s.ok("create2 (include_data)", a.create, "/p/c3", b"3",
         include_data=True)

    # set and versions
    st = s.ok("set /p", a.set, "/p", b"v1")
    s.expect("version after set", st["version"], 1)
    s.ok("set /p version 1", a.set, "/p", b"v2", version=1)
    s.err("set /p stale version", "BadVersionError", a.set, "/p", b"x",
          version=1)
    s.ok("set /p version -1 (any)", a.set, "/p", b"v3", version=-1)
    s.ok("set /p same data still bumps version", a.set, "/p", b"v3")
    s.ok("set /p to empty", a.set, "/p", b"")
    s.ok("get /p after sets", a.get, "/p")

    # children listing with data
    s.children("children /p", a, "/p")
    s.children("children /p include_data", a, "/p", include_data=True)
    s.children("children of a leaf", a, "/p/c1")

    # ephemeral
    s.ok("create ephemeral", a.create, "/e", b"eph", ephemeral=True)
    st = s.ok("stat ephemeral", a.exists, "/e")
    s.expect("ephemeralOwner is own session", st["ephemeralOwner"], "a")
    s.ok("get_children of ephemeral", a.get_children, "/e")

    # sequential: numbering is the parent's cversion, 10 digits
    s.ok("create seq parent", a.create, "/seq")
    for i in range(3):
        s.ok("create seq %d" % i, a.create, "/seq/n-", b"", sequence=True)
    s.ok("create plain child (bumps cversion)", a.create, "/seq/plain")
    r = s.ok("create seq after plain", a.create, "/seq/n-", sequence=True)
    s.expect("gap from plain child", r, "/seq/n-0000000004")
    s.ok("delete seq 1", a.delete, "/seq/n-0000000001")
    r = s.ok("create seq after delete", a.create, "/seq/n-",
             sequence=True)
    # Apache ZooKeeper 3.8 keeps a count of child creates per node: it is the
    # next sequence suffix, and the cversion in a Stat is reported as
    # 2 * creates - numChildren (so deletes show up in cversion but do not
    # advance the suffix).
    s.expect("deletes do not advance the suffix", r, "/seq/n-0000000005")
    r = s.ok("create seq with empty prefix", a.create, "/seq/",
             sequence=True)
    s.expect("bare sequence name", r, "/seq/0000000006")
    s.ok("create ephemeral sequential", a.create, "/seq/e-", b"es",
         ephemeral=True, sequence=True)
    s.ok("create sequential under root", a.create, "/rootseq-",
         sequence=True)
    s.children("seq children", a, "/seq")
    st = s.ok("seq parent stat", a.exists, "/seq")
    s.expect("seq parent cversion", st["cversion"], 9)

    # container (plain kazoo has no API; raw opcode 19)
    r = s.raw_op("create container", a,
                 CreateContainer("/ctr", b"c", OPEN_ACL, CONTAINER))
    s.ok("create child of container", a.create, "/ctr/child")
    s.ok("stat container", a.exists, "/ctr")

    # delete
    s.err("delete non-empty", "NotEmptyError", a.delete, "/p")
    s.err("delete bad version", "BadVersionError", a.delete, "/p/c1",
          version=3)
    s.ok("delete with version", a.delete, "/p/c1", version=0)
    s.ok("delete any version", a.delete, "/p/c2")
    s.ok("recursive delete", a.delete, "/deep", recursive=True)
    s.ok("exists after delete", a.exists, "/deep")
    st = s.ok("stat /p after deletes", a.exists, "/p")
    s.expect("cversion after 3 creates + 2 deletes", st["cversion"], 5)

    # sync
    s.ok("sync /", a.sync, "/")
    s.ok("sync /p", a.sync, "/p")
    s.ok("sync missing path", a.sync, "/does/not/exist")

    # payload sizes
    for n in (0, 1, 255, 256, 4096, 65536, 1000000, 1024 * 1024 - 200):
        data = bytes((i * 7 + n) % 256 for i in range(n))
        path = "/big-%d" % n
        s.ok("create %d bytes" % n, a.create, path, data)
        got = s.ok("get %d bytes" % n, a.get, path)
        s.expect("round trip %d bytes" % n, got[1]["dataLength"], n)
    s.ok("set near 1 MiB", a.set, "/big-0", bytes(1024 * 1024 - 300))

    # stat of the root after everything
    s.children("final children of /", a, "/")


Scenario("crud").run(body)
