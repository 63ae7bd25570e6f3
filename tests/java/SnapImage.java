// Apache ZooKeeper 3.8's side of the SNAP image cross-check
// (src/storage/image_tests.rs, compiled with javac at test time).
//
// Usage: java SnapImage encode|dump|decode
//   encode  reads a tree script on stdin, builds an Apache DataTree from it
//           and prints SerializeUtils.serializeSnapshot's bytes as hex
//           (what LearnerHandler sends after SNAP, before "BenWasHere");
//   dump    reads a tree script and prints the tree in the dump format;
//   decode  reads hex on stdin, loads it with
//           SerializeUtils.deserializeSnapshot (what Learner does) and
//           prints the tree in the dump format.
//
// Script lines (fields separated by spaces; data is hex, "_" for empty,
// "-" for null; an ACL is "open" or "perms|scheme|id" joined by ","):
//   session ID TIMEOUT
//   create PATH DATA OWNER ZXID TIME ACL    (parentCVersion -1)
//   setdata PATH DATA VERSION ZXID TIME
//   setacl PATH ACL AVERSION
//   delete PATH ZXID
//
// Dump format, one line each, sessions by id then nodes by path:
//   session ID TIMEOUT
//   node PATH aclid=ID acl=ACL data=DATA stat=CZXID,MZXID,CTIME,MTIME,
//        VERSION,CVERSION,AVERSION,OWNER,PZXID children=N
//   digest TREE_DIGEST

import java.io.*;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.*;

import org.apache.jute.BinaryInputArchive;
import org.apache.jute.BinaryOutputArchive;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.StatPersisted;
import org.apache.zookeeper.server.DataNode;
import org.apache.zookeeper.server.DataTree;
import org.apache.zookeeper.server.util.SerializeUtils;

public class SnapImage {
    public static void main(String[] args) throws Exception {
        String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        switch (args[0]) {
            case "encode": {
                Map<Long, Integer> sessions = new HashMap<>();
                DataTree dt = build(input, sessions);
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                SerializeUtils.serializeSnapshot(dt, BinaryOutputArchive.getArchive(bytes), sessions);
                System.out.println(hex(bytes.toByteArray()));
                break;
            }
            case "dump": {
                Map<Long, Integer> sessions = new HashMap<>();
                DataTree dt = build(input, sessions);
                dump(dt, sessions);
                break;
            }
            case "decode": {
                ByteArrayInputStream in = new ByteArrayInputStream(unhex(input.trim()));
                DataTree dt = new DataTree();
                Map<Long, Integer> sessions = new HashMap<>();
                SerializeUtils.deserializeSnapshot(dt, BinaryInputArchive.getArchive(in), sessions);
                if (in.available() != 0) {
                    throw new IOException(in.available() + " bytes after the image");
                }
                dump(dt, sessions);
                break;
            }
            default:
                throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    static DataTree build(String script, Map<Long, Integer> sessions) throws Exception {
        DataTree dt = new DataTree();
        for (String line : script.split("\n")) {
            String[] f = line.trim().split(" ");
            switch (f[0]) {
                case "":
                    break;
                case "session":
                    sessions.put(Long.parseLong(f[1]), Integer.parseInt(f[2]));
                    break;
                case "create":
                    dt.createNode(f[1], data(f[2]), acl(f[6]), Long.parseLong(f[3]), -1,
                                  Long.parseLong(f[4]), Long.parseLong(f[5]));
                    break;
                case "setdata":
                    dt.setData(f[1], data(f[2]), Integer.parseInt(f[3]), Long.parseLong(f[4]),
                               Long.parseLong(f[5]));
                    break;
                case "setacl":
                    dt.setACL(f[1], acl(f[2]), Integer.parseInt(f[3]));
                    break;
                case "delete":
                    dt.deleteNode(f[1], Long.parseLong(f[2]));
                    break;
                default:
                    throw new IllegalArgumentException("bad script line: " + line);
            }
        }
        return dt;
    }

    static void dump(DataTree dt, Map<Long, Integer> sessions) throws Exception {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<Long, Integer> s : new TreeMap<>(sessions).entrySet()) {
            out.append("session ").append(s.getKey()).append(' ').append(s.getValue()).append('\n');
        }
        Field aclField = DataNode.class.getDeclaredField("acl");
        aclField.setAccessible(true);
        TreeSet<String> paths = new TreeSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of("/"));
        while (!todo.isEmpty()) {
            String path = todo.pop();
            paths.add(path);
            for (String child : dt.getNode(path).getChildren()) {
                todo.push(path.equals("/") ? "/" + child : path + "/" + child);
            }
        }
        for (String path : paths) {
            DataNode n = dt.getNode(path);
            StatPersisted s = n.stat;
            out.append("node ").append(path)
               .append(" aclid=").append(aclField.get(n))
               .append(" acl=").append(aclText(dt.getACL(n)))
               .append(" data=").append(n.getData() == null ? "-" : n.getData().length == 0 ? "_" : hex(n.getData()))
               .append(" stat=").append(s.getCzxid()).append(',').append(s.getMzxid()).append(',')
               .append(s.getCtime()).append(',').append(s.getMtime()).append(',')
               .append(s.getVersion()).append(',').append(s.getCversion()).append(',')
               .append(s.getAversion()).append(',').append(s.getEphemeralOwner()).append(',')
               .append(s.getPzxid())
               .append(" children=").append(n.getChildren().size()).append('\n');
        }
        out.append("digest ").append(dt.getTreeDigest()).append('\n');
        System.out.print(out);
    }

    static String aclText(List<ACL> acl) {
        StringJoiner j = new StringJoiner(",");
        for (ACL a : acl) {
            j.add(a.getPerms() + "|" + a.getId().getScheme() + "|" + a.getId().getId());
        }
        return j.toString();
    }

    static List<ACL> acl(String text) {
        if (text.equals("open")) {
            return ZooDefs.Ids.OPEN_ACL_UNSAFE;
        }
        List<ACL> out = new ArrayList<>();
        for (String one : text.split(",")) {
            String[] p = one.split("\\|", 3);
            out.add(new ACL(Integer.parseInt(p[0]), new Id(p[1], p[2])));
        }
        return out;
    }

    static byte[] data(String text) {
        return text.equals("-") ? null : text.equals("_") ? new byte[0] : unhex(text);
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x", x & 0xff));
        }
        return s.toString();
    }

    static byte[] unhex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }
}
