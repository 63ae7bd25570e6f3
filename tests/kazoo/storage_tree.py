#!/usr/bin/python3
"""Storage compatibility helper for tests/storage_compat.rs (not a
differential scenario).

    storage_tree.py ADDR write   create nodes of every kind (persistent,
                                 ephemeral, sequential, container, TTL,
                                 digest ACLs, null and large data), change
                                 and delete some, run a multi and failing
                                 requests; then print the tree as JSON and
                                 exit WITHOUT closing the session, so its
                                 ephemerals stay in the log
    storage_tree.py ADDR dump    print the tree as JSON

The JSON maps each path to its data (hex, or null), its client-visible
stat and its ACL list; the Rust side compares it with ferrozk's recovered
tree. Needs extendedTypesEnabled=true on the server (TTL nodes).
"""

import json
import os
import sys

import kazoo.exceptions as E
from kazoo.client import KazooClient
from kazoo.security import ACL, Id, make_digest_acl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zkscenario import CONTAINER, OPEN_ACL, PERSISTENT_TTL, CreateContainer, CreateTTL  # noqa: E402

CRED = ("digest", "alice:secret")


def raw(client, request):
    a = client.handler.async_result()
    client._call(request, a)
    return a.get(timeout=20)


def write(zk, addr):
    zk.create("/app", b"root data")
    zk.create("/app/eph", b"ephemeral", ephemeral=True)
    for i in range(3):
        zk.create("/app/seq-", b"s%d" % i, sequence=True)
    zk.create("/app/eph-seq-", b"", ephemeral=True, sequence=True)
    secret = [make_digest_acl("alice", "secret", all=True),
              ACL(1, Id("world", "anyone"))]
    zk.create("/app/secret", b"hidden", acl=secret)
    zk.create("/app/null", None)
    zk.create("/app/big", os.urandom(200_000))
    raw(zk, CreateContainer("/box", b"c", OPEN_ACL, CONTAINER))
    zk.create("/box/item", b"i")
    raw(zk, CreateTTL("/ttl", b"t", OPEN_ACL, PERSISTENT_TTL, 3_600_000))
    for v in range(5):
        zk.set("/app", b"version %d" % v)
    zk.set_acls("/app/secret", secret + [ACL(8, Id("ip", "127.0.0.1"))])
    zk.create("/gone", b"x")
    zk.create("/gone/child", b"y")
    zk.delete("/gone", recursive=True)
    t = zk.transaction()
    t.create("/multi", b"m")
    t.create("/multi/a", b"a")
    t.check("/app", 5)
    t.set_data("/app/null", b"now set")
    t.commit()
    bad = zk.transaction()
    bad.create("/never", b"")
    bad.delete("/does/not/exist")
    bad.commit()
    try:
        zk.create("/app", b"dup")
    except E.NodeExistsError:
        pass
    try:
        zk.delete("/app")
    except E.NotEmptyError:
        pass
    for i in range(30):  # enough transactions for several snapshots
        zk.create("/many/n%02d" % i, b"%d" % i, makepath=True)
    for i in range(0, 30, 3):
        zk.delete("/many/n%02d" % i)
    other = KazooClient(hosts=addr, timeout=30.0)
    other.start(timeout=20)
    other.create("/other-eph", b"o", ephemeral=True)
    other.stop()  # closeSession: /other-eph goes


def dump(zk):
    out = {}
    stack = ["/"]
    while stack:
        path = stack.pop()
        data, st = zk.get(path)
        acls, _ = zk.get_acls(path)
        out[path] = {
            "data": None if data is None else data.hex(),
            "stat": [st.czxid, st.mzxid, st.ctime, st.mtime, st.version,
                     st.cversion, st.aversion, st.ephemeralOwner,
                     st.dataLength, st.numChildren, st.pzxid],
            "acl": sorted([a.perms, a.id.scheme, a.id.id] for a in acls),
        }
        for c in zk.get_children(path):
            stack.append(("" if path == "/" else path) + "/" + c)
    return out


def main():
    addr, mode = sys.argv[1], sys.argv[2]
    zk = KazooClient(hosts=addr, timeout=30.0, auth_data=[CRED])
    zk.start(timeout=20)
    if mode == "write":
        write(zk, addr)
    print(json.dumps({"session": zk.client_id[0], "tree": dump(zk)}))
    sys.stdout.flush()
    # Leave without closeSession: the session and its ephemerals stay.
    os._exit(0)


if __name__ == "__main__":
    main()
