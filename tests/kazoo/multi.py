#!/usr/bin/python3
"""multi / transactions: all-or-nothing, per-op results when an op in the
middle fails (earlier ops report RolledBack(0), later ones
RuntimeInconsistency(-2)), check ops, sequential and ephemeral creates inside
a transaction, ops that depend on earlier ops in the same transaction,
an empty transaction, and watches fired by a committed transaction."""

from zkscenario import Scenario


def commit(s, label, client, build):
    t = client.transaction()
    build(t)
    return s.op(label, t.commit)


def body(s):
    a = s.connect("a")
    w = s.connect("watcher")
    s.ok("create /m", a.create, "/m", b"m")
    s.ok("create /m/x", a.create, "/m/x", b"x")

    # success: results per op
    r = commit(s, "multi create/set/check/delete", a, lambda t: (
        t.create("/m/new", b"n"),
        t.set_data("/m/x", b"x1"),
        t.check("/m/x", 1),
        t.create("/m/seq-", b"", sequence=True),
        t.create("/m/eph", b"", ephemeral=True),
        t.delete("/m/new")))
    s.expect("six results", len(r), 6)
    s.ok("after commit /m", a.get_children, "/m", sort_=True)

    # failure in the middle: nothing applied, per-op errors
    r = commit(s, "multi failing in the middle (NodeExists)", a, lambda t: (
        t.create("/m/a1", b""),
        t.set_data("/m/x", b"never"),
        t.create("/m/x", b""),
        t.delete("/m/a1"),
        t.create("/m/a2", b"")))
    s.expect("per-op results", [x.get("error") if isinstance(x, dict)
                                else x for x in r],
             ["RolledBackError", "RolledBackError", "NodeExistsError",
              "RuntimeInconsistency", "RuntimeInconsistency"])
    s.ok("nothing applied: /m/a1 absent", a.exists, "/m/a1")
    s.ok("nothing applied: /m/x data", a.get, "/m/x")

    for name, build in [
        ("check bad version", lambda t: (t.create("/m/b", b""),
                                         t.check("/m/x", 99))),
        ("check missing node", lambda t: (t.check("/m/nope", 0),
                                          t.create("/m/b", b""))),
        ("delete missing", lambda t: (t.create("/m/b", b""),
                                      t.delete("/m/nope"))),
        ("delete non-empty", lambda t: (t.delete("/m"),)),
        ("set bad version", lambda t: (t.set_data("/m/x", b"", version=7),)),
        ("create under missing parent", lambda t: (t.create("/m/q/r", b""),)),
        ("child of ephemeral", lambda t: (t.create("/m/eph/c", b""),)),
        ("create then create again", lambda t: (t.create("/m/d", b""),
                                                t.create("/m/d", b""))),
        ("delete then set", lambda t: (t.delete("/m/x"),
                                       t.set_data("/m/x", b""))),
        ("create under node created then deleted",
         lambda t: (t.create("/m/e", b""), t.delete("/m/e"),
                    t.create("/m/e/f", b""))),
    ]:
        commit(s, "multi fails: " + name, a, build)

    # dependencies inside one transaction
    commit(s, "create parent and child in one multi", a, lambda t: (
        t.create("/m/p", b""), t.create("/m/p/c", b"c"),
        t.create("/m/p/c/d-", b"", sequence=True)))
    commit(s, "set twice, check the version in between", a, lambda t: (
        t.set_data("/m/p", b"1"), t.check("/m/p", 1),
        t.set_data("/m/p", b"2", version=1)))
    s.ok("stat /m/p after", a.exists, "/m/p")
    commit(s, "delete child then parent", a, lambda t: (
        t.delete("/m/p/c/d-0000000000"), t.delete("/m/p/c"),
        t.delete("/m/p")))
    commit(s, "sequential creates in one multi", a, lambda t: (
        t.create("/m/s-", b"", sequence=True),
        t.create("/m/s-", b"", sequence=True),
        t.create("/m/s-", b"", sequence=True)))
    s.ok("children after sequential multi", a.get_children, "/m",
         sort_=True)
    commit(s, "empty transaction", a, lambda t: None)

    # watches fired by a transaction (on another session), in op order
    s.ok("watch /m/x data", w.get, "/m/x", watch=lambda e: None)
    s.ok("watch /m children", w.get_children, "/m", watch=lambda e: None,
         sort_=True)
    s.ok("watch /m/w1 existence", w.exists, "/m/w1", watch=lambda e: None)
    s.clear_wire(w)
    commit(s, "multi firing watches", a, lambda t: (
        t.create("/m/w1", b""), t.set_data("/m/x", b"x2")))
    s.events("events from the multi", w)
    s.ok("watch /m/x data again", w.get, "/m/x", watch=lambda e: None)
    s.clear_wire(w)
    commit(s, "failed multi fires nothing", a, lambda t: (
        t.set_data("/m/x", b"x3"), t.create("/m/w1", b"")))
    s.events("no events from a failed multi", w)

    # a big transaction
    def many(t):
        for i in range(200):
            t.create("/m/many-%03d" % i, b"%d" % i)
    r = commit(s, "200 creates in one multi", a, many)
    s.expect("200 results", len(r), 200)
    st = s.ok("stat /m after many", a.exists, "/m")
    s.ok("ephemeral created in the multi is ours", a.exists, "/m/eph")


Scenario("multi").run(body)
