#!/usr/bin/python3
"""TTL and container nodes (extended types on): createTTL in both TTL modes,
ephemeralOwner shown as 0, invalid TTLs and modes, expiry of an
untouched childless TTL node, a TTL node kept alive by a child, containers
reaped after their last child goes, a never-used container kept."""
# zoo.cfg: extendedTypesEnabled=true znode.container.checkIntervalMs=500

from kazoo.protocol.serialization import Create

from zkscenario import (CONTAINER, EPHEMERAL, OPEN_ACL, PERSISTENT,
                        PERSISTENT_SEQ, PERSISTENT_SEQ_TTL, PERSISTENT_TTL,
                        Collector, CreateContainer, CreateTTL, Scenario)

MAX_TTL = 0xFFFFFFFFFF


def nop(_event):
    pass


def body(s):
    a = s.connect("a")
    w = s.connect("watcher")
    s.ok("create /t", a.create, "/t")

    # creating TTL nodes
    s.raw_op("createTTL persistent", a,
             CreateTTL("/t/ttl", b"x", OPEN_ACL, PERSISTENT_TTL, 1000))
    st = s.ok("stat TTL node", a.exists, "/t/ttl")
    # Apache ZooKeeper keeps the TTL in the stored ephemeralOwner but shows
    # clients 0 for TTL and container nodes.
    s.expect("ttl hidden from clients", st["ephemeralOwner"], "0")
    s.raw_op("createTTL sequential", a,
             CreateTTL("/t/seq-", b"", OPEN_ACL, PERSISTENT_SEQ_TTL, 600000))
    s.raw_op("createTTL max ttl", a,
             CreateTTL("/t/max", b"", OPEN_ACL, PERSISTENT_TTL, MAX_TTL))
    s.ok("stat max", a.exists, "/t/max")
    for name, ttl, flags in (("ttl 0", 0, PERSISTENT_TTL),
                             ("ttl -1", -1, PERSISTENT_TTL),
                             ("ttl too large", MAX_TTL + 1, PERSISTENT_TTL),
                             ("non-TTL mode", 1000, PERSISTENT),
                             ("sequential non-TTL mode", 1000,
                              PERSISTENT_SEQ),
                             ("ephemeral mode", 1000, EPHEMERAL),
                             ("container mode", 1000, CONTAINER)):
        s.raw_op("createTTL invalid: " + name, a,
                 CreateTTL("/t/bad", b"", OPEN_ACL, flags, ttl))
    s.raw_op("plain create with a TTL mode flag", a,
             Create("/t/bad", b"", OPEN_ACL, PERSISTENT_TTL))
    s.raw_op("createTTL existing", a,
             CreateTTL("/t/ttl", b"", OPEN_ACL, PERSISTENT_TTL, 1000),
             "NodeExistsError")

    # a TTL node with a child outlives its TTL
    s.raw_op("createTTL parent", a,
             CreateTTL("/t/kept", b"", OPEN_ACL, PERSISTENT_TTL, 1000))
    s.ok("child keeps it", a.create, "/t/kept/child")

    # containers
    s.raw_op("container /c1", a, CreateContainer("/c1", b"", OPEN_ACL,
                                                  CONTAINER))
    st = s.ok("stat container", a.exists, "/c1")
    s.expect("container marker hidden", st["ephemeralOwner"], "0")
    s.raw_op("container never used", a,
             CreateContainer("/c2", b"", OPEN_ACL, CONTAINER))
    s.ok("child of /c1", a.create, "/c1/x")
    s.ok("sequential child of container", a.create, "/c1/s-",
         sequence=True)

    # expiry of the TTL node: wait (bounded) for the reaper
    gone = Collector()
    s.ok("watch TTL node", w.exists, "/t/ttl", watch=gone)
    s.ok("watch /t children", w.get_children, "/t", watch=nop, sort_=True)
    s.check(len(gone.wait(1)) == 1, "TTL node was not reaped in time")
    s.events("TTL node reaped", w, sort=True)
    s.ok("TTL node gone", a.exists, "/t/ttl")
    s.ok("TTL parent with child still there", a.exists, "/t/kept")

    # container reaped after its last child goes
    gone = Collector()
    s.ok("watch container", w.exists, "/c1", watch=gone)
    s.ok("delete container child", a.delete, "/c1/x")
    s.ok("delete container child 2", a.delete, "/c1/s-0000000001")
    s.check(len(gone.wait(1)) == 1, "container was not reaped in time")
    s.events("container reaped", w)
    s.ok("container gone", a.exists, "/c1")
    s.ok("never-used container remains", a.exists, "/c2")
    s.ok("children of /", a.get_children, "/", sort_=True)
    s.ok("children of /t", a.get_children, "/t", sort_=True)


Scenario("ttl").run(body)
