package io.dynamicfs.core.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.meta.MetaOp.ChunkChange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link OpApplier#apply} against a real RocksDB: every namespace, attribute, xattr and block-list operation,
 * its errno cases, and the all-or-nothing rule. Blocks that commits reference are really put into a
 * {@link SegmentStore}, so after every test {@link Fsck} (with data verification) must find the metadata
 * consistent: link counts, directory parents, reference counts, block records.
 */
class OpApplierTest {
  private static final int BS = 64 << 10;
  private static final long ROOT = FileSystem.ROOT_INO;
  private static final int DIR = FileType.DIRECTORY.bits();
  private static final int REG = FileType.REGULAR.bits();
  private static final int LNK = FileType.SYMLINK.bits();
  /** The client session the tests' open files belong to. */
  private static final long SESSION = 0x5e55;

  @TempDir Path tmp;
  private MetadataStore store;
  private SegmentStore blocks;
  private OpApplier ap;
  private long clock = 1_000_000;
  private final Random random = new Random(42);

  @BeforeEach
  void openStore() throws IOException {
    store = MetadataStore.open(tmp.resolve("meta"), BS);
    blocks = SegmentStore.open(tmp.resolve("blocks"), Codec.LZ4, 4L << 20);
    ap = new OpApplier(store);
    apply(MetaOp.CreateNode.root(DIR | 0755, 0, 0, now()));
    apply(new MetaOp.OpenSession(SESSION, "test", Long.MAX_VALUE));
  }

  @AfterEach
  void fsckAndClose() throws IOException {
    try {
      if (store != null) {
        Fsck.Report r = Fsck.check(store, blocks, true, s -> {});
        assertTrue(r.clean(), () -> "fsck after the test: " + r.problems());
      }
    } finally {
      if (store != null) {
        store.close();
      }
      blocks.close();
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private long now() {
    return clock += 1000;
  }

  /** Applies {@code op} as the next log entry; its failure is thrown as the engine would. */
  private OpApplier.Result apply(MetaOp op) throws FsException {
    return ap.apply(ap.appliedIndex() + 1, op).orThrow();
  }

  private static MetaOp.CreateNode create(long parent, String name, int mode, String target, long time) {
    return new MetaOp.CreateNode(parent, name, mode, 0, 0, false, 0, target, time);
  }

  private long node(long parent, String name, int mode) throws FsException {
    return apply(create(parent, name, mode, (mode & FileType.S_IFMT) == LNK ? "target-of-" + name : null, now()))
        .ino();
  }

  private long mkdir(long parent, String name) throws FsException {
    return node(parent, name, DIR | 0755);
  }

  private long mkfile(long parent, String name) throws FsException {
    return node(parent, name, REG | 0644);
  }

  /** The errno {@code op} fails with; a failed op still takes its log index. */
  private Errno failure(MetaOp op) throws FsException {
    long index = ap.appliedIndex() + 1;
    OpApplier.Result r = ap.apply(index, op);
    assertFalse(r.ok(), () -> op + " succeeded");
    assertEquals(index, ap.appliedIndex(), () -> "applied index after failed " + op);
    return r.errno();
  }

  private Inode inode(long ino) throws FsException {
    return store.requireInode(ino);
  }

  private int nlink(long ino) throws FsException {
    return inode(ino).nlink();
  }

  private MetaOp.Remove unlink(long parent, String name) {
    return new MetaOp.Remove(parent, name, false, 0, now());
  }

  private MetaOp.Remove rmdir(long parent, String name) {
    return new MetaOp.Remove(parent, name, true, 0, now());
  }

  private MetaOp.Rename rename(long p, String n, long np, String nn, int flags) {
    return new MetaOp.Rename(p, n, np, nn, flags, 0, now());
  }

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  /** Puts the bytes in the block store (as the engine does before committing) and describes the chunk. */
  private ChunkChange stored(long index, byte[] data) throws IOException {
    BlockId id = BlockId.hash(data, 0, data.length);
    StoredBlock sb = blocks.put(id, data, data.length);
    return ChunkChange.stored(index, id, data.length, sb.storedLength(), sb.codec());
  }

  private OpApplier.Result commit(long ino, long size, long truncatedTo, ChunkChange... changes)
      throws FsException {
    long t = now();
    return apply(new MetaOp.CommitBlocks(ino, size, truncatedTo, t, t, List.of(changes)));
  }

  private List<Long> chunkIndexes(long ino) throws FsException {
    return store.chunks(ino, 0, Long.MAX_VALUE).stream().map(Chunk::index).collect(Collectors.toList());
  }

  private long refs(BlockId id) throws FsException {
    BlockRecord r = store.block(id);
    return r == null ? 0 : r.refs();
  }

  /** Everything the store holds but the applied index, as text: what "nothing changed" is compared with. */
  private String snapshot() throws FsException {
    StringBuilder sb = new StringBuilder();
    sb.append("nextIno=").append(store.nextIno()).append('\n');
    List<Inode> inodes = new ArrayList<>();
    store.forEachInode(inodes::add);
    for (Inode i : inodes) {
      sb.append(i).append('\n');
      for (String x : store.xattrNames(i.ino())) {
        sb.append("  xattr ").append(x).append('=').append(HexFormat.of().formatHex(store.xattr(i.ino(), x)))
            .append('\n');
      }
      if (i.type() == FileType.SYMLINK) {
        sb.append("  -> ").append(store.symlink(i.ino())).append('\n');
      }
    }
    store.forEachDirent((p, n, c) -> sb.append("dirent ").append(p).append('/').append(n).append('=').append(c)
        .append('\n'));
    store.forEachChunk((ino, c) -> sb.append("chunk ").append(ino).append('@').append(c.index()).append(' ')
        .append(c.id() == null ? "inline:" + HexFormat.of().formatHex(c.inline()) : c.id().toHex())
        .append(" len=").append(c.length()).append('\n'));
    store.forEachBlock((id, r) -> sb.append("block ").append(id.toHex()).append(' ').append(r).append('\n'));
    sb.append("orphans=").append(store.orphans()).append('\n');
    return sb.toString();
  }

  // ---- create, mkdir, symlink -------------------------------------------------------------------

  @Test
  void create_newFile_hasNameModeAndOneLink() throws Exception {
    long ino = mkfile(ROOT, "f");
    Inode i = inode(ino);
    assertEquals(REG | 0644, i.mode());
    assertEquals(1, i.nlink());
    assertEquals(0, i.size());
    assertEquals(ino, store.lookup(ROOT, "f"));
    assertEquals(List.of(new DirEntry("f", ino, FileType.REGULAR)), store.list(ROOT));
  }

  @Test
  void create_duplicateName_failsEexistAndAllocatesNoInode() throws Exception {
    mkfile(ROOT, "f");
    long d = mkdir(ROOT, "d");
    long next = store.nextIno();
    assertEquals(Errno.EEXIST, failure(create(ROOT, "f", REG | 0644, null, now())));
    assertEquals(Errno.EEXIST, failure(create(ROOT, "d", DIR | 0755, null, now())));
    assertEquals(Errno.EEXIST, failure(create(ROOT, "f", LNK | 0777, "x", now())));
    assertEquals(2, store.list(ROOT).size());
    assertEquals(2, nlink(d));
    assertEquals(next, store.nextIno(), "a failed create uses no inode number");
    assertEquals(next, mkfile(ROOT, "g"));
  }

  @Test
  void create_parentIsAFile_failsEnotdir() throws Exception {
    long f = mkfile(ROOT, "f");
    for (int mode : new int[] {REG | 0644, DIR | 0755, LNK | 0777}) {
      assertEquals(Errno.ENOTDIR, failure(create(f, "x", mode, "t", now())));
    }
    assertEquals(List.of(), store.list(f));
  }

  @Test
  void create_missingParent_failsEnoent() throws Exception {
    assertEquals(Errno.ENOENT, failure(create(999, "x", REG | 0644, null, now())));
  }

  @Test
  void create_invalidNameOrTypeOrTarget_failsInApply() throws Exception {
    // A replica validates what its proposer should have: a bad op is refused the same way everywhere.
    assertEquals(Errno.EINVAL, failure(create(ROOT, "a/b", REG | 0644, null, now())));
    assertEquals(Errno.EINVAL, failure(create(ROOT, "nul\0", REG | 0644, null, now())));
    assertEquals(Errno.EINVAL, failure(create(ROOT, "..", DIR | 0755, null, now())));
    assertEquals(Errno.ENOENT, failure(create(ROOT, "", REG | 0644, null, now())));
    assertEquals(Errno.ENAMETOOLONG, failure(create(ROOT, "x".repeat(256), REG | 0644, null, now())));
    assertEquals(Errno.EINVAL, failure(create(ROOT, "t", 0170644, null, now())));
    assertEquals(Errno.ENOENT, failure(create(ROOT, "l", LNK | 0777, null, now())));
    assertEquals(Errno.ENAMETOOLONG, failure(create(ROOT, "l", LNK | 0777, "y".repeat(4096), now())));
    assertEquals(List.of(), store.list(ROOT));
    assertEquals(Errno.EINVAL, failure(new MetaOp.Link(ROOT, ROOT, "a/b", now())));
    long f = mkfile(ROOT, "f");
    assertEquals(Errno.EOPNOTSUPP, failure(new MetaOp.SetXattr(f, "system.x", new byte[1], 0, now())));
    assertEquals(Errno.EINVAL, failure(new MetaOp.Rename(ROOT, "f", ROOT, "g/h", 0, 0, now())));
  }

  @Test
  void create_underSetgidDirectory_takesItsGroupAndDirectoriesInheritTheBit() throws Exception {
    long d = apply(new MetaOp.CreateNode(ROOT, "d", DIR | 02775, 1000, 50, false, 0, null, now())).ino();
    assertEquals(DIR | 02775, inode(d).mode());
    long sub = apply(new MetaOp.CreateNode(d, "sub", DIR | 0755, 1001, 60, false, 0, null, now())).ino();
    assertEquals(50, inode(sub).gid());
    assertEquals(DIR | 02755, inode(sub).mode(), "a new directory inherits set-group-ID");
    long f = apply(new MetaOp.CreateNode(d, "f", REG | 0644, 1001, 60, false, 0, null, now())).ino();
    assertEquals(50, inode(f).gid());
    assertEquals(REG | 0644, inode(f).mode());
    // A non-member cannot make a set-group-ID file in a group it is not in; root can.
    long g = apply(new MetaOp.CreateNode(d, "g", REG | 02755, 1001, 60, false, 0, null, now())).ino();
    assertEquals(REG | 0755, inode(g).mode());
    long h = apply(new MetaOp.CreateNode(d, "h", REG | 02755, 0, 0, true, 0, null, now())).ino();
    assertEquals(REG | 02755, inode(h).mode());
    long own = apply(new MetaOp.CreateNode(ROOT, "own", REG | 02755, 1001, 60, false, 0, null, now())).ino();
    assertEquals(REG | 02755, inode(own).mode(), "in its own group the bit stays");
  }

  @Test
  void symlink_create_storesTargetAsSize() throws Exception {
    long ino = apply(create(ROOT, "l", LNK | 0777, "../some/where", now())).ino();
    assertEquals("../some/where", store.symlink(ino));
    assertEquals("../some/where".length(), inode(ino).size());
    assertEquals(FileType.SYMLINK, inode(ino).type());
    apply(unlink(ROOT, "l"));
    assertNull(store.inode(ino));
    assertThrows(FsException.class, () -> store.symlink(ino));
  }

  @Test
  void mkdir_nested_parentNlinkIsTwoPlusSubdirs() throws Exception {
    assertEquals(2, nlink(ROOT));
    long a = mkdir(ROOT, "a");
    long b = mkdir(ROOT, "b");
    mkfile(ROOT, "f");
    node(ROOT, "s", LNK | 0777);
    assertEquals(4, nlink(ROOT));
    long c = mkdir(a, "c");
    mkdir(a, "d");
    mkfile(a, "g");
    assertEquals(4, nlink(a));
    assertEquals(2, nlink(b));
    assertEquals(2, nlink(c));
    assertEquals(a, inode(c).parent());
    apply(rmdir(a, "d"));
    assertEquals(3, nlink(a));
    apply(rmdir(ROOT, "b"));
    assertEquals(3, nlink(ROOT));
  }

  // ---- link, unlink, rmdir ----------------------------------------------------------------------

  @Test
  void link_andUnlink_adjustNlinkAndKeepInodeUntilLastName() throws Exception {
    long d = mkdir(ROOT, "d");
    long f = mkfile(ROOT, "f");
    apply(new MetaOp.Link(f, d, "f2", now()));
    apply(new MetaOp.Link(f, ROOT, "f3", now()));
    assertEquals(3, nlink(f));
    assertEquals(f, store.lookup(d, "f2"));
    assertEquals(2, nlink(d), "a hard link to a file is not a subdirectory");
    apply(unlink(ROOT, "f"));
    assertEquals(2, nlink(f));
    apply(unlink(d, "f2"));
    assertEquals(1, nlink(f));
    apply(unlink(ROOT, "f3"));
    assertNull(store.inode(f));
  }

  @Test
  void link_errors() throws Exception {
    long d = mkdir(ROOT, "d");
    long f = mkfile(ROOT, "f");
    assertEquals(Errno.EPERM, failure(new MetaOp.Link(d, ROOT, "d2", now())));
    assertEquals(Errno.EEXIST, failure(new MetaOp.Link(f, ROOT, "d", now())));
    assertEquals(Errno.ENOTDIR, failure(new MetaOp.Link(f, f, "x", now())));
    assertEquals(Errno.ENOENT, failure(new MetaOp.Link(12345, ROOT, "x", now())));
    assertEquals(1, nlink(f));
  }

  @Test
  void link_ofOrphan_failsEnoent() throws Exception {
    long f = mkfile(ROOT, "f");
    apply(new MetaOp.Remove(ROOT, "f", false, SESSION, now()));
    assertEquals(Errno.ENOENT, failure(new MetaOp.Link(f, ROOT, "back", now())));
    apply(new MetaOp.ReclaimInode(f));
  }

  @Test
  void unlink_directory_failsEisdir() throws Exception {
    long d = mkdir(ROOT, "d");
    assertEquals(Errno.EISDIR, failure(unlink(ROOT, "d")));
    assertEquals(d, store.lookup(ROOT, "d"));
  }

  @Test
  void unlink_missing_failsEnoent() throws Exception {
    assertEquals(Errno.ENOENT, failure(unlink(ROOT, "nope")));
  }

  @Test
  void rmdir_nonEmpty_failsEnotempty() throws Exception {
    long d = mkdir(ROOT, "d");
    mkfile(d, "f");
    assertEquals(Errno.ENOTEMPTY, failure(rmdir(ROOT, "d")));
    apply(unlink(d, "f"));
    apply(rmdir(ROOT, "d"));
    assertNull(store.inode(d));
    assertEquals(2, nlink(ROOT));
  }

  @Test
  void rmdir_file_failsEnotdir() throws Exception {
    mkfile(ROOT, "f");
    node(ROOT, "s", LNK | 0777);
    assertEquals(Errno.ENOTDIR, failure(rmdir(ROOT, "f")));
    assertEquals(Errno.ENOTDIR, failure(rmdir(ROOT, "s")));
  }

  @Test
  void unlink_lastNameWhileOpen_orphansUntilReclaim() throws Exception {
    long f = mkfile(ROOT, "f");
    ChunkChange c = stored(0, randomBytes(1000));
    commit(f, 1000, -1, c);
    apply(new MetaOp.Remove(ROOT, "f", false, SESSION, now()));
    assertEquals(0, nlink(f));
    assertEquals(List.of(f), store.orphans());
    assertEquals(1, refs(c.id()), "an orphan keeps its blocks");
    OpApplier.Result a = apply(new MetaOp.ReclaimInode(f));
    assertEquals(List.of(c.id()), a.freed());
    assertNull(store.inode(f));
    assertEquals(List.of(), store.orphans());
    assertEquals(List.of(), chunkIndexes(f));
  }

  @Test
  void rmdir_whileOpen_orphansTheDirectory_whichTakesNoNewEntries() throws Exception {
    long p = mkdir(ROOT, "p");
    long d = mkdir(p, "d");
    apply(new MetaOp.SetXattr(d, "user.k", new byte[] {1}, 0, now()));
    assertEquals(3, nlink(p));
    apply(new MetaOp.Remove(p, "d", true, SESSION, now()));
    assertEquals(-1, store.lookup(p, "d"));
    assertEquals(0, nlink(d), "a removed open directory answers fstat with nlink 0");
    assertEquals(2, nlink(p));
    assertEquals(Map.of(d, SESSION), store.orphanSessions());
    assertEquals(Errno.ENOENT, failure(create(d, "x", REG | 0644, null, now())));
    assertEquals(Errno.ENOENT, failure(create(d, "x", DIR | 0755, null, now())));
    long f = mkfile(ROOT, "f");
    assertEquals(Errno.ENOENT, failure(new MetaOp.Link(f, d, "x", now())));
    assertEquals(Errno.ENOENT, failure(rename(ROOT, "f", d, "x", 0)));
    apply(new MetaOp.ReclaimInode(d));
    assertNull(store.inode(d));
    assertEquals(List.of(), store.xattrNames(d));
    assertEquals(List.of(), store.orphans());
  }

  @Test
  void rename_dirOverOpenEmptyDir_orphansTheReplacedOne_sessionCloseReclaimsIt() throws Exception {
    long a = mkdir(ROOT, "a");
    long b = mkdir(ROOT, "b");
    apply(new MetaOp.Rename(ROOT, "a", ROOT, "b", 0, SESSION, now()));
    assertEquals(a, store.lookup(ROOT, "b"));
    assertEquals(0, nlink(b));
    assertEquals(3, nlink(ROOT));
    assertEquals(List.of(b), store.orphans());
    apply(new MetaOp.CloseSession(SESSION));
    assertNull(store.inode(b));
    assertEquals(List.of(), store.orphans());
    apply(new MetaOp.OpenSession(SESSION, "test", Long.MAX_VALUE));
  }

  @Test
  void rmdir_sessionNotOpen_deletesAtOnce() throws Exception {
    long d = mkdir(ROOT, "d");
    apply(new MetaOp.Remove(ROOT, "d", true, 0x777, now()));
    assertNull(store.inode(d));
    assertEquals(List.of(), store.orphans());
  }

  @Test
  void reclaim_inodeStillLinked_onlyDropsOrphanMark() throws Exception {
    long f = mkfile(ROOT, "f");
    apply(new MetaOp.Link(f, ROOT, "g", now()));
    apply(new MetaOp.ReclaimInode(f));
    assertEquals(2, nlink(f));
    apply(new MetaOp.ReclaimInode(777)); // unknown inode: nothing to do
  }

  // ---- rename -----------------------------------------------------------------------------------

  @Test
  void rename_fileToNewName_movesEntry() throws Exception {
    long d = mkdir(ROOT, "d");
    long f = mkfile(ROOT, "f");
    apply(rename(ROOT, "f", d, "g", 0));
    assertEquals(-1, store.lookup(ROOT, "f"));
    assertEquals(f, store.lookup(d, "g"));
    assertEquals(1, nlink(f));
    assertEquals(3, nlink(ROOT));
  }

  @Test
  void rename_fileOverFile_reclaimsReplacedInodeAndItsBlocks() throws Exception {
    long a = mkfile(ROOT, "a");
    long b = mkfile(ROOT, "b");
    ChunkChange ca = stored(0, randomBytes(5000));
    ChunkChange cb0 = stored(0, randomBytes(BS));
    ChunkChange cb1 = stored(1, randomBytes(7000));
    commit(a, 5000, -1, ca);
    commit(b, BS + 7000L, -1, cb0, cb1);
    apply(new MetaOp.SetXattr(b, "user.x", new byte[] {1}, 0, now()));

    OpApplier.Result r = apply(rename(ROOT, "a", ROOT, "b", 0));

    assertEquals(a, store.lookup(ROOT, "b"));
    assertEquals(-1, store.lookup(ROOT, "a"));
    assertNull(store.inode(b));
    assertEquals(List.of(), chunkIndexes(b));
    assertEquals(List.of(), store.xattrNames(b));
    assertEquals(0, refs(cb0.id()));
    assertEquals(0, refs(cb1.id()));
    assertEquals(1, refs(ca.id()));
    assertEquals(Map.of(cb0.id(), 1, cb1.id(), 1),
        r.freed().stream().collect(Collectors.toMap(x -> x, x -> 1, Integer::sum)));
  }

  @Test
  void rename_fileOverFileWithOtherLink_onlyDropsOneLink() throws Exception {
    long a = mkfile(ROOT, "a");
    long b = mkfile(ROOT, "b");
    ChunkChange cb = stored(0, randomBytes(3000));
    commit(b, 3000, -1, cb);
    apply(new MetaOp.Link(b, ROOT, "b2", now()));
    OpApplier.Result r = apply(rename(ROOT, "a", ROOT, "b", 0));
    assertEquals(List.of(), r.freed());
    assertEquals(1, nlink(b));
    assertEquals(1, refs(cb.id()));
    assertEquals(a, store.lookup(ROOT, "b"));
  }

  @Test
  void rename_overOpenFile_orphansReplacedInode() throws Exception {
    mkfile(ROOT, "a");
    long b = mkfile(ROOT, "b");
    ChunkChange cb = stored(0, randomBytes(3000));
    commit(b, 3000, -1, cb);
    OpApplier.Result r = apply(new MetaOp.Rename(ROOT, "a", ROOT, "b", 0, SESSION, now()));
    assertEquals(List.of(), r.freed());
    assertEquals(0, nlink(b));
    assertEquals(List.of(b), store.orphans());
    assertEquals(List.of(0L), chunkIndexes(b));
    assertEquals(List.of(cb.id()), apply(new MetaOp.ReclaimInode(b)).freed());
  }

  @Test
  void rename_dirOverEmptyDir_replacesItAndFixesNlinks() throws Exception {
    long p1 = mkdir(ROOT, "p1");
    long p2 = mkdir(ROOT, "p2");
    long src = mkdir(p1, "src");
    long sub = mkdir(src, "sub");
    long dst = mkdir(p2, "dst");
    apply(rename(p1, "src", p2, "dst", 0));
    assertNull(store.inode(dst));
    assertEquals(src, store.lookup(p2, "dst"));
    assertEquals(2, nlink(p1));
    assertEquals(3, nlink(p2));
    assertEquals(p2, inode(src).parent());
    assertEquals(src, inode(sub).parent());
    assertEquals(3, nlink(src));
  }

  @Test
  void rename_dirOverEmptyDirSameParent_dropsOneSubdirLink() throws Exception {
    long a = mkdir(ROOT, "a");
    mkdir(ROOT, "b");
    assertEquals(4, nlink(ROOT));
    apply(rename(ROOT, "a", ROOT, "b", 0));
    assertEquals(3, nlink(ROOT));
    assertEquals(a, store.lookup(ROOT, "b"));
  }

  @Test
  void rename_dirOverNonEmptyDir_failsEnotempty() throws Exception {
    mkdir(ROOT, "a");
    long b = mkdir(ROOT, "b");
    mkfile(b, "x");
    assertEquals(Errno.ENOTEMPTY, failure(rename(ROOT, "a", ROOT, "b", 0)));
  }

  @Test
  void rename_fileOverDir_failsEisdir() throws Exception {
    mkfile(ROOT, "f");
    mkdir(ROOT, "d");
    assertEquals(Errno.EISDIR, failure(rename(ROOT, "f", ROOT, "d", 0)));
  }

  @Test
  void rename_dirOverFile_failsEnotdir() throws Exception {
    mkfile(ROOT, "f");
    mkdir(ROOT, "d");
    assertEquals(Errno.ENOTDIR, failure(rename(ROOT, "d", ROOT, "f", 0)));
  }

  @Test
  void rename_dirIntoOwnSubtree_failsEinval() throws Exception {
    long a = mkdir(ROOT, "a");
    long b = mkdir(a, "b");
    long c = mkdir(b, "c");
    assertEquals(Errno.EINVAL, failure(rename(ROOT, "a", c, "a", 0)));
    assertEquals(Errno.EINVAL, failure(rename(ROOT, "a", a, "self", 0)));
    assertEquals(Errno.EINVAL, failure(rename(ROOT, "a", b, "x", FileSystem.RENAME_NOREPLACE)));
    assertEquals(a, inode(b).parent());
  }

  @Test
  void rename_missingSource_failsEnoent() throws Exception {
    assertEquals(Errno.ENOENT, failure(rename(ROOT, "nope", ROOT, "x", 0)));
  }

  @Test
  void rename_badFlags_failsEinval() throws Exception {
    mkfile(ROOT, "a");
    mkfile(ROOT, "b");
    assertEquals(Errno.EINVAL,
        failure(rename(ROOT, "a", ROOT, "b", FileSystem.RENAME_NOREPLACE | FileSystem.RENAME_EXCHANGE)));
    assertEquals(Errno.EINVAL, failure(rename(ROOT, "a", ROOT, "b", 8)));
  }

  @Test
  void rename_betweenTwoHardLinksOfOneInode_isNoOp() throws Exception {
    long f = mkfile(ROOT, "a");
    apply(new MetaOp.Link(f, ROOT, "b", now()));
    OpApplier.Result r = apply(rename(ROOT, "a", ROOT, "b", 0));
    assertEquals(List.of(), r.freed());
    assertEquals(f, store.lookup(ROOT, "a"));
    assertEquals(f, store.lookup(ROOT, "b"));
    assertEquals(2, nlink(f));
  }

  @Test
  void rename_noReplaceOverExisting_failsEexist() throws Exception {
    long a = mkfile(ROOT, "a");
    long b = mkfile(ROOT, "b");
    assertEquals(Errno.EEXIST, failure(rename(ROOT, "a", ROOT, "b", FileSystem.RENAME_NOREPLACE)));
    assertEquals(a, store.lookup(ROOT, "a"));
    assertEquals(b, store.lookup(ROOT, "b"));
    apply(rename(ROOT, "a", ROOT, "c", FileSystem.RENAME_NOREPLACE));
    assertEquals(a, store.lookup(ROOT, "c"));
  }

  @Test
  void rename_exchangeTwoFiles_swapsEntries() throws Exception {
    long d = mkdir(ROOT, "d");
    long a = mkfile(ROOT, "a");
    long b = mkfile(d, "b");
    apply(rename(ROOT, "a", d, "b", FileSystem.RENAME_EXCHANGE));
    assertEquals(b, store.lookup(ROOT, "a"));
    assertEquals(a, store.lookup(d, "b"));
    assertEquals(1, nlink(a));
    assertEquals(1, nlink(b));
    assertEquals(3, nlink(ROOT));
    assertEquals(2, nlink(d));
  }

  @Test
  void rename_exchangeDirWithFileAcrossParents_fixesParentAndNlinks() throws Exception {
    long p1 = mkdir(ROOT, "p1");
    long p2 = mkdir(ROOT, "p2");
    long dir = mkdir(p1, "dir");
    long file = mkfile(p2, "file");
    apply(rename(p1, "dir", p2, "file", FileSystem.RENAME_EXCHANGE));
    assertEquals(file, store.lookup(p1, "dir"));
    assertEquals(dir, store.lookup(p2, "file"));
    assertEquals(p2, inode(dir).parent());
    assertEquals(2, nlink(p1));
    assertEquals(3, nlink(p2));
    assertEquals(FileType.REGULAR, store.list(p1).get(0).type());
    assertEquals(FileType.DIRECTORY, store.list(p2).get(0).type());
  }

  @Test
  void rename_exchangeTwoDirsAcrossParents_swapsParents() throws Exception {
    long p1 = mkdir(ROOT, "p1");
    long p2 = mkdir(ROOT, "p2");
    long x = mkdir(p1, "x");
    long y = mkdir(p2, "y");
    mkdir(p2, "z");
    apply(rename(p1, "x", p2, "y", FileSystem.RENAME_EXCHANGE));
    assertEquals(y, store.lookup(p1, "x"));
    assertEquals(x, store.lookup(p2, "y"));
    assertEquals(p1, inode(y).parent());
    assertEquals(p2, inode(x).parent());
    assertEquals(3, nlink(p1));
    assertEquals(4, nlink(p2));
  }

  @Test
  void rename_exchangeWithMissingTarget_failsEnoent() throws Exception {
    mkfile(ROOT, "a");
    assertEquals(Errno.ENOENT, failure(rename(ROOT, "a", ROOT, "b", FileSystem.RENAME_EXCHANGE)));
  }

  @Test
  void rename_exchangeIntoOwnSubtree_failsEinval() throws Exception {
    long a = mkdir(ROOT, "a");
    long b = mkdir(a, "b");
    mkfile(b, "f");
    assertEquals(Errno.EINVAL, failure(rename(ROOT, "a", b, "f", FileSystem.RENAME_EXCHANGE)));
    assertEquals(Errno.EINVAL, failure(rename(b, "f", ROOT, "a", FileSystem.RENAME_EXCHANGE)));
  }

  // ---- setattr ----------------------------------------------------------------------------------

  @Test
  void chown_file_clearsSetuidAndGroupExecSetgid() throws Exception {
    long f = mkfile(ROOT, "f");
    apply(new MetaOp.SetAttrs(f, 06755, null, null, null, null, now()));
    apply(new MetaOp.SetAttrs(f, null, 1000, null, null, null, now()));
    assertEquals(REG | 0755, inode(f).mode());
    assertEquals(1000, inode(f).uid());
    assertEquals(0, inode(f).gid());
  }

  @Test
  void chown_fileSetgidWithoutGroupExec_keepsSetgid() throws Exception {
    long f = mkfile(ROOT, "f");
    apply(new MetaOp.SetAttrs(f, 06744, null, null, null, null, now()));
    apply(new MetaOp.SetAttrs(f, null, null, 100, null, null, now()));
    assertEquals(REG | 02744, inode(f).mode(), "setgid without group-exec is mandatory locking: kept");
    assertEquals(100, inode(f).gid());
  }

  @Test
  void chown_directory_keepsSetuidAndSetgid() throws Exception {
    long d = mkdir(ROOT, "d");
    apply(new MetaOp.SetAttrs(d, 06775, null, null, null, null, now()));
    apply(new MetaOp.SetAttrs(d, null, 1000, 1000, null, null, now()));
    assertEquals(DIR | 06775, inode(d).mode());
  }

  @Test
  void chmod_keepsTypeBits_andSetsCtime() throws Exception {
    long f = mkfile(ROOT, "f");
    long t = now();
    apply(new MetaOp.SetAttrs(f, 0100600 | 07000, null, null, 11L, 22L, t));
    Inode i = inode(f);
    assertEquals(REG | 07600, i.mode());
    assertEquals(11, i.atimeNs());
    assertEquals(22, i.mtimeNs());
    assertEquals(t, i.ctimeNs());
  }

  // ---- xattrs -----------------------------------------------------------------------------------

  @Test
  void setxattr_createFlagOnExisting_failsEexist() throws Exception {
    long f = mkfile(ROOT, "f");
    apply(new MetaOp.SetXattr(f, "user.a", new byte[] {1}, FileSystem.XATTR_CREATE, now()));
    assertEquals(Errno.EEXIST, failure(new MetaOp.SetXattr(f, "user.a", new byte[] {2}, FileSystem.XATTR_CREATE,
        now())));
    assertArrayEquals(new byte[] {1}, store.xattr(f, "user.a"));
  }

  @Test
  void setxattr_replaceFlagOnMissing_failsEnodata() throws Exception {
    long f = mkfile(ROOT, "f");
    assertEquals(Errno.ENODATA, failure(new MetaOp.SetXattr(f, "user.a", new byte[] {2},
        FileSystem.XATTR_REPLACE, now())));
    assertNull(store.xattr(f, "user.a"));
    apply(new MetaOp.SetXattr(f, "user.a", new byte[] {1}, 0, now()));
    apply(new MetaOp.SetXattr(f, "user.a", new byte[] {3, 4}, FileSystem.XATTR_REPLACE, now()));
    assertArrayEquals(new byte[] {3, 4}, store.xattr(f, "user.a"));
    apply(new MetaOp.SetXattr(f, "user.b", new byte[0], 0, now()));
    assertEquals(List.of("user.a", "user.b"), store.xattrNames(f));
  }

  @Test
  void setxattr_tooLarge_failsE2big() throws Exception {
    long f = mkfile(ROOT, "f");
    assertEquals(Errno.E2BIG, failure(new MetaOp.SetXattr(f, "user.a", new byte[OpApplier.XATTR_SIZE_MAX + 1], 0,
        now())));
    apply(new MetaOp.SetXattr(f, "user.a", new byte[OpApplier.XATTR_SIZE_MAX], 0, now()));
  }

  @Test
  void removexattr_missing_failsEnodata() throws Exception {
    long f = mkfile(ROOT, "f");
    assertEquals(Errno.ENODATA, failure(new MetaOp.RemoveXattr(f, "user.none", now())));
    apply(new MetaOp.SetXattr(f, "user.a", new byte[] {1}, 0, now()));
    apply(new MetaOp.RemoveXattr(f, "user.a", now()));
    assertNull(store.xattr(f, "user.a"));
    assertEquals(Errno.ENODATA, failure(new MetaOp.RemoveXattr(f, "user.a", now())));
  }

  @Test
  void xattrs_ofRemovedInode_areDeleted() throws Exception {
    long d = mkdir(ROOT, "d");
    long f = mkfile(ROOT, "f");
    apply(new MetaOp.SetXattr(d, "user.a", new byte[] {1}, 0, now()));
    apply(new MetaOp.SetXattr(f, "user.a", new byte[] {1}, 0, now()));
    apply(rmdir(ROOT, "d"));
    apply(unlink(ROOT, "f"));
    assertEquals(List.of(), store.xattrNames(d));
    assertEquals(List.of(), store.xattrNames(f));
  }

  // ---- block lists ------------------------------------------------------------------------------

  @Test
  void commitBlocks_sharedBlockAcrossTwoFiles_countsReferencesAndFreesAtLastOne() throws Exception {
    long a = mkfile(ROOT, "a");
    long b = mkfile(ROOT, "b");
    byte[] shared = randomBytes(BS);
    ChunkChange ca = stored(0, shared);
    ChunkChange cb = stored(1, shared);
    assertTrue(commit(a, BS, -1, ca).freed().isEmpty());
    assertEquals(1, refs(ca.id()));
    assertTrue(commit(b, 2L * BS, -1, cb).freed().isEmpty());
    assertEquals(2, refs(ca.id()));
    assertEquals(BS, store.block(ca.id()).rawLength());

    assertEquals(List.of(), apply(unlink(ROOT, "a")).freed());
    assertEquals(1, refs(ca.id()));
    assertEquals(List.of(ca.id()), apply(unlink(ROOT, "b")).freed());
    assertNull(store.block(ca.id()));
  }

  @Test
  void commitBlocks_sameBlockTwiceInOneFile_countsTwoReferences() throws Exception {
    long a = mkfile(ROOT, "a");
    byte[] data = randomBytes(BS);
    ChunkChange c0 = stored(0, data);
    ChunkChange c2 = stored(2, data);
    commit(a, 3L * BS, -1, c0, c2);
    assertEquals(2, refs(c0.id()));
    assertEquals(2L * BS, inode(a).storedBytes());
    assertEquals(List.of(), commit(a, 3L * BS, -1, ChunkChange.hole(2)).freed());
    assertEquals(1, refs(c0.id()));
    assertEquals(List.of(c0.id()), commit(a, 3L * BS, -1, ChunkChange.hole(0)).freed());
    assertEquals(0, inode(a).storedBytes());
  }

  @Test
  void commitBlocks_replaceChunk_freesOldBlockAndUpdatesSizeAndTimes() throws Exception {
    long a = mkfile(ROOT, "a");
    ChunkChange v1 = stored(0, randomBytes(2000));
    commit(a, 2000, -1, v1);
    ChunkChange v2 = stored(0, randomBytes(3000));
    long t = now();
    OpApplier.Result r = apply(new MetaOp.CommitBlocks(a, 3000, -1, t, t + 1, List.of(v2)));
    assertEquals(List.of(v1.id()), r.freed());
    Inode i = inode(a);
    assertEquals(3000, i.size());
    assertEquals(3000, i.storedBytes());
    assertEquals(t, i.mtimeNs());
    assertEquals(t + 1, i.ctimeNs());
    assertEquals(v2.id(), store.chunk(a, 0).id());
  }

  @Test
  void commitBlocks_rewriteWithSameBlock_keepsItsSingleReference() throws Exception {
    long a = mkfile(ROOT, "a");
    ChunkChange c = stored(0, randomBytes(2000));
    commit(a, 2000, -1, c);
    assertEquals(List.of(), commit(a, 2000, -1, c).freed());
    assertEquals(1, refs(c.id()));
  }

  @Test
  void commitBlocks_truncatedTo_dropsEntriesPastTheCut() throws Exception {
    long a = mkfile(ROOT, "a");
    ChunkChange c0 = stored(0, randomBytes(BS));
    ChunkChange c1 = stored(1, randomBytes(BS));
    ChunkChange c2 = stored(2, randomBytes(BS));
    commit(a, 3L * BS, -1, c0, c1, c2);
    // Shrunk to one block and grown back to three before the commit: blocks 1 and 2 must read as holes.
    OpApplier.Result r = commit(a, 3L * BS, BS);
    assertEquals(List.of(0L), chunkIndexes(a));
    assertEquals(3L * BS, inode(a).size());
    assertEquals(BS, inode(a).storedBytes());
    assertEquals(Set.of(c1.id(), c2.id()), Set.copyOf(r.freed()));
    assertEquals(2, r.freed().size());
    assertNull(store.block(c1.id()));
    assertNull(store.block(c2.id()));
  }

  @Test
  void commitBlocks_truncatedToThenRewritten_keepsNewEntryAtTheCutIndex() throws Exception {
    long a = mkfile(ROOT, "a");
    ChunkChange c0 = stored(0, randomBytes(BS));
    ChunkChange c1 = stored(1, randomBytes(BS));
    commit(a, 2L * BS, -1, c0, c1);
    ChunkChange n1 = stored(1, randomBytes(100));
    OpApplier.Result r = commit(a, BS + 100L, 0, ChunkChange.hole(0), n1);
    assertEquals(List.of(1L), chunkIndexes(a));
    assertEquals(n1.id(), store.chunk(a, 1).id());
    assertEquals(100, inode(a).storedBytes());
    assertEquals(2, r.freed().size());
    assertEquals(0, refs(c0.id()));
    assertEquals(0, refs(c1.id()));
  }

  @Test
  void commitBlocks_shrinkWithoutTruncatedTo_dropsEntriesPastNewSize() throws Exception {
    long a = mkfile(ROOT, "a");
    ChunkChange c0 = stored(0, randomBytes(BS));
    ChunkChange c1 = stored(1, randomBytes(BS));
    commit(a, 2L * BS, -1, c0, c1);
    assertEquals(List.of(c1.id()), commit(a, BS, -1).freed());
    assertEquals(List.of(0L), chunkIndexes(a));
  }

  @Test
  void commitBlocks_changePastNewSize_isIgnored() throws Exception {
    long a = mkfile(ROOT, "a");
    ChunkChange c0 = stored(0, randomBytes(100));
    commit(a, BS, -1, c0, ChunkChange.inline(5, new byte[] {1, 2, 3}));
    assertEquals(List.of(0L), chunkIndexes(a));
  }

  @Test
  void commitBlocks_inlineChunks_needNoBlockRecord() throws Exception {
    long a = mkfile(ROOT, "a");
    byte[] small = "hello, inline world".getBytes(StandardCharsets.UTF_8);
    commit(a, small.length, -1, ChunkChange.inline(0, small));
    Chunk c = store.chunk(a, 0);
    assertTrue(c.isInline());
    assertArrayEquals(small, c.inline());
    assertEquals(small.length, c.length());
    assertEquals(small.length, inode(a).storedBytes());
    List<BlockId> ids = new ArrayList<>();
    store.forEachBlock((id, r) -> ids.add(id));
    assertEquals(List.of(), ids);

    // inline -> stored -> inline: the stored block is freed again.
    ChunkChange big = stored(0, randomBytes(BS));
    assertEquals(List.of(), commit(a, BS, -1, big).freed());
    assertEquals(1, refs(big.id()));
    assertEquals(List.of(big.id()), commit(a, 3, 3, ChunkChange.inline(0, new byte[] {7, 8, 9})).freed());
    assertArrayEquals(new byte[] {7, 8, 9}, store.chunk(a, 0).inline());
    assertEquals(List.of(), apply(unlink(ROOT, "a")).freed());
  }

  @Test
  void commitBlocks_badRequests_fail() throws Exception {
    long a = mkfile(ROOT, "a");
    long d = mkdir(ROOT, "d");
    ChunkChange big = stored(0, randomBytes(BS));
    ChunkChange bad = ChunkChange.stored(0, big.id(), BS + 1, BS + 1, Codec.NONE);
    ChunkChange empty = ChunkChange.stored(0, big.id(), 0, 0, Codec.NONE);
    assertEquals(Errno.EINVAL, failure(new MetaOp.CommitBlocks(d, 10, -1, 1, 1, List.of())));
    assertEquals(Errno.EINVAL, failure(new MetaOp.CommitBlocks(a, -1, -1, 1, 1, List.of())));
    assertEquals(Errno.EINVAL, failure(new MetaOp.CommitBlocks(a, 2L * BS, -1, 1, 1, List.of(bad))));
    assertEquals(Errno.EINVAL, failure(new MetaOp.CommitBlocks(a, 2L * BS, -1, 1, 1, List.of(empty))));
    assertEquals(Errno.ENOENT, failure(new MetaOp.CommitBlocks(999, 10, -1, 1, 1, List.of())));
    long max = FileSystem.maxFileSize(BS);
    assertEquals(Errno.EFBIG, failure(new MetaOp.CommitBlocks(a, max + 1, -1, 1, 1, List.of())));
    assertEquals(Errno.EFBIG, failure(new MetaOp.CommitBlocks(a, Long.MAX_VALUE, -1, 1, 1,
        List.of(ChunkChange.inline(Long.MAX_VALUE / BS, new byte[] {1})))));
    assertEquals(0, inode(a).size());
    assertNull(store.block(big.id()));
  }

  @Test
  void commitBlocks_lastBlockBelowTheLargestSize_isKept() throws Exception {
    long a = mkfile(ROOT, "a");
    long max = FileSystem.maxFileSize(BS);
    long last = max / BS - 1;
    commit(a, max, -1, ChunkChange.inline(last, new byte[] {0, 0, 7}));
    assertEquals(max, inode(a).size());
    assertEquals(List.of(last), chunkIndexes(a));
    commit(a, max - BS + 2, max - BS + 2); // shrink into the last block: its entry stays, cut later by size
    assertEquals(List.of(last), chunkIndexes(a));
    commit(a, max - BS, max - BS);
    assertEquals(List.of(), chunkIndexes(a));
  }

  // ---- reservations (fallocate) ----------------------------------------------------------------------

  private OpApplier.Result reserve(long ino, long offset, long length, boolean keepSize, long available)
      throws FsException {
    return apply(new MetaOp.Reserve(ino, offset, length, keepSize, available, null, now()));
  }

  @Test
  void reserve_wholeBlocksAccounted_sizeGrows_writesUseItUp_truncateAndRemoveRelease() throws Exception {
    long f = mkfile(ROOT, "f");
    commit(f, 1000, -1, stored(0, randomBytes(1000)));
    long t = clock;
    reserve(f, 500, 2L * BS, false, 100L * BS); // blocks 0..2
    Inode i = inode(f);
    assertEquals(500 + 2L * BS, i.size());
    assertEquals(3L * BS, i.storedBytes(), "whole reserved blocks");
    assertTrue(i.mtimeNs() > t && i.ctimeNs() > t);
    assertEquals(3L * BS - 1000, store.reservedBytes(), "the 1000 bytes written are not promised again");
    assertEquals(List.of(0L, 1L, 2L), store.reservedIndexes(f, 0, Long.MAX_VALUE));

    commit(f, 500 + 2L * BS, -1, stored(1, randomBytes(BS)), stored(2, randomBytes(300)));
    assertEquals(3L * BS, inode(f).storedBytes(), "writing into reserved blocks does not grow st_blocks");
    assertEquals(BS - 1000 + BS - 300, store.reservedBytes());

    commit(f, BS + 10, BS + 10); // truncate: block 2 goes with its reservation
    assertEquals(List.of(0L, 1L), store.reservedIndexes(f, 0, Long.MAX_VALUE));
    assertEquals(2L * BS, inode(f).storedBytes());
    assertEquals(BS - 1000, store.reservedBytes());

    reserve(f, 5L * BS, 10, true, 100L * BS); // KEEP_SIZE, past the end of file
    assertEquals(BS + 10, inode(f).size());
    assertEquals(3L * BS, inode(f).storedBytes());
    commit(f, BS + 10, BS + 10); // truncate to the same size drops what lies past the end
    assertEquals(List.of(0L, 1L), store.reservedIndexes(f, 0, Long.MAX_VALUE));

    apply(unlink(ROOT, "f"));
    assertEquals(0, store.reservedBytes());
    assertEquals(List.of(), store.reservedIndexes(f, 0, Long.MAX_VALUE));
  }

  @Test
  void unreserve_releasesOnlyReservedBlocksInTheRange_writtenBytesStayCounted() throws Exception {
    long f = mkfile(ROOT, "f");
    reserve(f, 0, 4L * BS, false, 100L * BS); // blocks 0..3
    commit(f, 4L * BS, -1, stored(1, randomBytes(300)));
    assertEquals(4L * BS, inode(f).storedBytes());
    assertEquals(4L * BS - 300, store.reservedBytes());

    apply(new MetaOp.Unreserve(f, 1, 3)); // blocks 1 (300 bytes written) and 2 (nothing written)
    assertEquals(List.of(0L, 3L), store.reservedIndexes(f, 0, Long.MAX_VALUE));
    assertEquals(2L * BS + 300, inode(f).storedBytes(), "the written 300 bytes still count");
    assertEquals(2L * BS, store.reservedBytes());
    assertEquals(4L * BS, inode(f).size(), "the size stays");

    apply(new MetaOp.Unreserve(f, 1, 3)); // nothing reserved there any more: nothing changes
    assertEquals(2L * BS + 300, inode(f).storedBytes());
    assertEquals(Errno.EINVAL, failure(new MetaOp.Unreserve(f, 3, 1)));
    assertEquals(Errno.EINVAL, failure(new MetaOp.Unreserve(ROOT, 0, 1)));
  }

  // ---- clone (copy_file_range) ----------------------------------------------------------------

  @Test
  void cloneBlocks_sharesBlockIdsWithOneMoreReference_andReleasesTheOldOnes() throws Exception {
    long a = mkfile(ROOT, "a");
    long b = mkfile(ROOT, "b");
    ChunkChange a0 = stored(0, randomBytes(BS));
    ChunkChange a2 = stored(2, randomBytes(BS));
    commit(a, 3L * BS, -1, a0, a2); // block 1 is a hole
    ChunkChange old = stored(1, randomBytes(BS));
    commit(b, 2L * BS, -1, stored(0, randomBytes(BS)), old);
    long t = now();
    apply(new MetaOp.CloneBlocks(a, 0, b, 1, 3, 4L * BS, t));
    assertEquals(List.of(0L, 1L, 3L), chunkIndexes(b), "block 1 of a is a hole in b too");
    assertEquals(a0.id(), store.chunk(b, 1).id());
    assertEquals(a2.id(), store.chunk(b, 3).id());
    assertEquals(2, refs(a0.id()));
    assertEquals(2, refs(a2.id()));
    assertEquals(0, refs(old.id()), "b's old block 1 lost its only reference");
    Inode ib = inode(b);
    assertEquals(4L * BS, ib.size());
    assertEquals(3L * BS, ib.storedBytes());
    assertEquals(t, ib.mtimeNs());
    assertEquals(t, ib.ctimeNs());
    apply(unlink(ROOT, "a"));
    assertEquals(1, refs(a0.id()), "b keeps the shared blocks alive");
  }

  @Test
  void cloneBlocks_sourcesShortLastBlock_onlyWhenNothingOfTheTargetLiesPastIt() throws Exception {
    long a = mkfile(ROOT, "a");
    long b = mkfile(ROOT, "b");
    ChunkChange tail = stored(1, randomBytes(300));
    commit(a, BS + 300L, -1, stored(0, randomBytes(BS)), tail);
    commit(b, 5L * BS, -1, stored(4, randomBytes(BS)));
    String before = snapshot();
    assertEquals(Errno.EAGAIN, failure(new MetaOp.CloneBlocks(a, 0, b, 0, 2, BS + 300L, now())));
    assertEquals(before, snapshot(), "a refused clone changes nothing");
    apply(new MetaOp.CloneBlocks(a, 0, b, 4, 2, 5L * BS + 300, now()));
    assertEquals(5L * BS + 300, inode(b).size());
    assertEquals(tail.id(), store.chunk(b, 5).id());
    assertEquals(Errno.EAGAIN, failure(new MetaOp.CloneBlocks(a, 0, b, 0, 3, 3L * BS, now())),
        "the source has only two blocks now");
  }

  @Test
  void cloneBlocks_badRequests_failEinval() throws Exception {
    long a = mkfile(ROOT, "a");
    long d = mkdir(ROOT, "d");
    commit(a, 4L * BS, -1, stored(0, randomBytes(BS)));
    assertEquals(Errno.EINVAL, failure(new MetaOp.CloneBlocks(a, 0, a, 1, 2, 3L * BS, now())), "overlap");
    assertEquals(Errno.EINVAL, failure(new MetaOp.CloneBlocks(a, 0, d, 0, 1, BS, now())), "directory");
    assertEquals(Errno.EINVAL, failure(new MetaOp.CloneBlocks(a, 0, a, 2, 0, 2L * BS, now())), "no blocks");
    assertEquals(Errno.EINVAL, failure(new MetaOp.CloneBlocks(a, 0, a, 2, 1, 4L * BS, now())), "size past range");
    apply(new MetaOp.CloneBlocks(a, 0, a, 2, 2, 4L * BS, now()));
    assertEquals(List.of(0L, 2L), chunkIndexes(a));
  }

  @Test
  void reserve_moreThanAvailable_failsEnospc_countingEarlierReservations() throws Exception {
    long a = mkfile(ROOT, "a");
    long b = mkfile(ROOT, "b");
    assertEquals(Errno.ENOSPC, failure(new MetaOp.Reserve(a, 0, 10L * BS + 1, false, 10L * BS, null, now())));
    assertEquals(Errno.ENOSPC, failure(new MetaOp.Reserve(a, 0, Long.MAX_VALUE / 4, false, 10L * BS, null, now())));
    assertEquals(0, inode(a).size());
    reserve(a, 0, 6L * BS, false, 10L * BS);
    assertEquals(Errno.ENOSPC, failure(new MetaOp.Reserve(b, 0, 5L * BS, false, 10L * BS, null, now())));
    reserve(b, 0, 4L * BS, true, 10L * BS);
    assertEquals(10L * BS, store.reservedBytes());
    reserve(a, 0, 6L * BS, false, 10L * BS); // all reserved already: needs nothing more
  }

  @Test
  void reserve_overWrittenBlocks_needsOnlyTheUnwrittenParts_evenWithLittleFree() throws Exception {
    long f = mkfile(ROOT, "f");
    commit(f, 4L * BS - 100, -1, stored(0, randomBytes(BS)), stored(1, randomBytes(BS)), stored(2, randomBytes(BS)),
        stored(3, randomBytes(BS - 100)));
    reserve(f, 0, 4L * BS, false, 200); // a database preallocating over its own file on a nearly full disk
    assertEquals(100, store.reservedBytes());
    assertEquals(4L * BS, inode(f).storedBytes());
    assertEquals(4L * BS, inode(f).size());
    assertEquals(Errno.ENOSPC, failure(new MetaOp.Reserve(f, 0, 5L * BS, false, 200, null, now())));
  }

  @Test
  void reserve_badRequests_failAsLinux_andAttrsApplyInTheSameBatch() throws Exception {
    long f = mkfile(ROOT, "f");
    long d = mkdir(ROOT, "d");
    long l = node(ROOT, "l", LNK | 0777);
    long max = FileSystem.maxFileSize(BS);
    assertEquals(Errno.EISDIR, failure(new MetaOp.Reserve(d, 0, 10, false, BS, null, now())));
    assertEquals(Errno.ENODEV, failure(new MetaOp.Reserve(l, 0, 10, false, BS, null, now())));
    assertEquals(Errno.EINVAL, failure(new MetaOp.Reserve(f, 0, 0, false, BS, null, now())));
    assertEquals(Errno.EINVAL, failure(new MetaOp.Reserve(f, -1, 10, false, BS, null, now())));
    assertEquals(Errno.EFBIG, failure(new MetaOp.Reserve(f, max - 5, 6, false, Long.MAX_VALUE, null, now())));
    assertEquals(Errno.ENOENT, failure(new MetaOp.Reserve(999, 0, 10, false, BS, null, now())));
    apply(new MetaOp.SetAttrs(f, 06755, null, null, null, null, now()));
    assertEquals(Errno.EINVAL, failure(new MetaOp.Reserve(f, 0, 10, false, BS,
        new MetaOp.SetAttrs(d, 0755, null, null, null, null, now()), now())));
    assertEquals(06755, inode(f).mode() & 07777, "a failed reservation changes nothing");
    assertEquals(List.of(), store.reservedIndexes(f, 0, Long.MAX_VALUE));
    apply(new MetaOp.Reserve(f, 0, 10, false, BS, new MetaOp.SetAttrs(f, 0755, null, null, null, null, now()), now()));
    assertEquals(0755, inode(f).mode() & 07777);
    assertEquals(10, inode(f).size());
  }

  @Test
  void orphanWithReservation_reclaimReleasesIt() throws Exception {
    long f = mkfile(ROOT, "f");
    reserve(f, 0, 3L * BS, false, 10L * BS);
    apply(new MetaOp.Remove(ROOT, "f", false, SESSION, now()));
    assertEquals(3L * BS, store.reservedBytes(), "held while open");
    apply(new MetaOp.ReclaimInode(f));
    assertEquals(0, store.reservedBytes());
  }

  // ---- sessions --------------------------------------------------------------------------------

  @Test
  void unlink_openInUnknownSession_reclaimsAtOnce() throws Exception {
    long f = mkfile(ROOT, "f");
    ChunkChange c = stored(0, randomBytes(1000));
    commit(f, 1000, -1, c);
    OpApplier.Result r = apply(new MetaOp.Remove(ROOT, "f", false, 999, now()));
    assertNull(store.inode(f), "a session that does not exist holds nothing open");
    assertEquals(List.of(c.id()), r.freed());
  }

  @Test
  void closeSession_reclaimsOnlyItsOwnOrphans() throws Exception {
    long other = 0x0111;
    apply(new MetaOp.OpenSession(other, "other mount", Long.MAX_VALUE));
    long a = mkfile(ROOT, "a");
    long b = mkfile(ROOT, "b");
    ChunkChange ca = stored(0, randomBytes(1000));
    commit(a, 1000, -1, ca);
    apply(new MetaOp.Remove(ROOT, "a", false, SESSION, now()));
    apply(new MetaOp.Remove(ROOT, "b", false, other, now()));
    assertEquals(Map.of(a, SESSION, b, other), store.orphanSessions());

    OpApplier.Result r = apply(new MetaOp.CloseSession(other));
    assertNull(store.inode(b));
    assertEquals(0, nlink(a), "another session's orphan stays");
    assertEquals(Map.of(a, SESSION), store.orphanSessions());
    assertNull(store.session(other));
    assertEquals(List.of(), r.freed());
    assertEquals(Errno.ENOENT, failure(new MetaOp.CloseSession(other)));
    assertEquals(Errno.ENOENT, failure(new MetaOp.RenewSession(other, 5)));
  }

  @Test
  void noop_changesOnlyTheAppliedIndex() throws Exception {
    mkfile(ROOT, "f");
    List<String> before = recordsButAppliedPosition();
    long index = ap.appliedIndex() + 1;
    OpApplier.Result r = apply(new MetaOp.Noop());
    assertEquals(index, store.appliedIndex());
    assertEquals(List.of(), r.freed());
    assertEquals(before, recordsButAppliedPosition());
  }

  private List<String> recordsButAppliedPosition() throws FsException {
    List<String> out = new java.util.ArrayList<>();
    java.util.HexFormat hex = java.util.HexFormat.of();
    store.forEachRecord((cf, k, v) -> {
      boolean position = java.util.Arrays.equals(k, MetadataStore.APPLIED_KEY)
          || java.util.Arrays.equals(k, MetadataStore.APPLIED_TERM_KEY);
      if (!position) {
        out.add(cf + "/" + hex.formatHex(k) + "=" + hex.formatHex(v));
      }
    });
    return out;
  }

  @Test
  void expireSessions_endsOnlyExpiredOnes_renewalKeepsOneAlive() throws Exception {
    apply(new MetaOp.OpenSession(1, "x", 1_000));
    apply(new MetaOp.OpenSession(2, "y", 1_000));
    apply(new MetaOp.OpenSession(3, "z", 5_000));
    apply(new MetaOp.RenewSession(2, 10_000));
    long f = mkfile(ROOT, "f");
    apply(new MetaOp.Remove(ROOT, "f", false, 1, now()));
    assertEquals(Errno.EEXIST, failure(new MetaOp.OpenSession(3, "dup", 1)));
    assertEquals(Errno.EINVAL, failure(new MetaOp.OpenSession(0, "zero", 1)));

    apply(new MetaOp.ExpireSessions(1_000));

    assertNull(store.session(1));
    assertNull(store.inode(f), "the expired session's orphan is reclaimed");
    assertEquals(10_000, store.session(2).expiresNs());
    assertEquals("z", store.session(3).client());
    apply(new MetaOp.ExpireSessions(7_000));
    assertNull(store.session(3));
    assertNotNull(store.session(2));
    assertNotNull(store.session(SESSION));
  }

  // ---- cluster membership ----------------------------------------------------------------------

  @Test
  void addNode_numbersNodesInOrder_refusesDuplicateAndBadIds() throws Exception {
    assertEquals(1, apply(new MetaOp.AddNode("n1", "h:1", "h:2", now())).ino());
    assertEquals(2, apply(new MetaOp.AddNode("n2", "h:3", "h:4", now())).ino());
    assertEquals(Errno.EEXIST, failure(new MetaOp.AddNode("n1", "x:1", "x:2", now())));
    assertEquals(Errno.EINVAL, failure(new MetaOp.AddNode("bad id", "x:1", "x:2", now())));
    apply(new MetaOp.SetNodeState("n1", "DRAINING", now()));
    assertEquals(Errno.EINVAL, failure(new MetaOp.SetNodeState("n1", "SLEEPY", now())));
    assertEquals(Errno.ENOENT, failure(new MetaOp.SetNodeState("n9", "REMOVED", now())));
    assertEquals(List.of(new MetadataStore.Node(1, "n1", "h:1", "h:2", "DRAINING"),
        new MetadataStore.Node(2, "n2", "h:3", "h:4", "ACTIVE")), store.nodes());
    assertEquals(3, apply(new MetaOp.AddNode("n3", "h:5", "h:6", now())).ino(), "numbers are never reused");
  }

  @Test
  void setClusterConfig_writtenOnce() throws Exception {
    assertNull(store.clusterConfig());
    MetaOp.SetClusterConfig c = new MetaOp.SetClusterConfig("id", 1 << 20, Codec.LZ4.id(), 4096, "replicate-2");
    apply(c);
    assertEquals(c, store.clusterConfig());
    assertEquals(Errno.EEXIST, failure(new MetaOp.SetClusterConfig("id", 1 << 20, 1, 4096, "replicate-3")));
    assertEquals(c, store.clusterConfig());
  }

  // ---- pending deletion ------------------------------------------------------------------------

  @Test
  void unlink_lastReference_movesBlockToPendingDeletesAtItsIndex() throws Exception {
    long a = mkfile(ROOT, "a");
    ChunkChange c = stored(0, randomBytes(5000));
    commit(a, 5000, -1, c);
    OpApplier.Result r = apply(unlink(ROOT, "a"));
    assertEquals(List.of(c.id()), r.freed());
    assertNull(store.block(c.id()));
    assertEquals(Map.of(c.id(), r.index()), store.pendingDeletes(10));
    assertTrue(store.isPendingDelete(c.id()));
  }

  @Test
  void commitBlocks_pendingBlock_isRevivedAndNotPurged() throws Exception {
    long a = mkfile(ROOT, "a");
    ChunkChange c = stored(0, randomBytes(5000));
    commit(a, 5000, -1, c);
    apply(unlink(ROOT, "a"));
    long b = mkfile(ROOT, "b");
    commit(b, 5000, -1, c); // another writer's dedup hit on the pending block
    assertEquals(1, refs(c.id()));
    assertFalse(store.isPendingDelete(c.id()));
    OpApplier.Result p = apply(new MetaOp.PurgeBlocks(List.of(c.id())));
    assertEquals(List.of(), p.purged());
    assertEquals(1, refs(c.id()));
  }

  @Test
  void purgeBlocks_unreferencedPending_arePurgedOnce_othersIgnored() throws Exception {
    long a = mkfile(ROOT, "a");
    ChunkChange gone = stored(0, randomBytes(3000));
    ChunkChange kept = stored(1, randomBytes(BS));
    commit(a, BS + 3000L, -1, ChunkChange.stored(0, kept.id(), BS, kept.storedLength(), kept.codec()),
        ChunkChange.stored(1, gone.id(), 3000, gone.storedLength(), gone.codec()));
    commit(a, BS, -1); // drops block 1
    BlockId never = BlockId.hash(new byte[] {42}, 0, 1);
    OpApplier.Result p = apply(new MetaOp.PurgeBlocks(List.of(gone.id(), kept.id(), never, gone.id())));
    assertEquals(List.of(gone.id()), p.purged());
    assertEquals(Map.of(), store.pendingDeletes(10));
    assertEquals(1, refs(kept.id()));
    blocks.delete(gone.id()); // what the reclaimer does after the purge
    assertEquals(List.of(), apply(new MetaOp.PurgeBlocks(List.of(gone.id()))).purged());
  }

  // ---- replacing a placement (repair, drain) ------------------------------------------------------

  @Test
  void replaceBlockPlacement_randomAttempts_applyOnlyWhenExpectedMatchesTheModel() throws Exception {
    long a = mkfile(ROOT, "a");
    ChunkChange c = stored(0, randomBytes(4000));
    BlockId id = c.id();
    commit(a, 4000, -1, ChunkChange.stored(0, id, 4000, c.storedLength(), c.codec(),
        new io.dynamicfs.core.block.Placement(0, List.of(0, 1))));
    io.dynamicfs.core.block.Placement model = store.block(id).placement();
    assertEquals(List.of(0, 1), model.locations());
    List<io.dynamicfs.core.block.Placement> pool = new ArrayList<>();
    for (int x = 0; x < 4; x++) {
      for (int y = 0; y < 4; y++) {
        if (x != y) {
          pool.add(new io.dynamicfs.core.block.Placement(0, List.of(x, y)));
        }
      }
    }
    int applied = 0;
    for (int step = 0; step < 300; step++) {
      io.dynamicfs.core.block.Placement expected =
          random.nextInt(3) == 0 ? model : pool.get(random.nextInt(pool.size()));
      io.dynamicfs.core.block.Placement to = pool.get(random.nextInt(pool.size()));
      MetaOp op = new MetaOp.ReplaceBlockPlacement(id, expected, to);
      if (expected.equals(model)) {
        apply(op);
        model = to;
        applied++;
      } else {
        assertEquals(Errno.EAGAIN, failure(op), op::toString);
      }
      assertEquals(model, store.block(id).placement());
      assertEquals(1, refs(id));
    }
    assertTrue(applied > 50, "the model took " + applied + " replacements"); // the draw makes about a third
  }

  @Test
  void replaceBlockPlacement_freedOrUnknownBlock_failsEagainAndChangesNothing() throws Exception {
    long a = mkfile(ROOT, "a");
    ChunkChange c = stored(0, randomBytes(3000));
    io.dynamicfs.core.block.Placement p = new io.dynamicfs.core.block.Placement(0, List.of(2, 3));
    commit(a, 3000, -1, ChunkChange.stored(0, c.id(), 3000, c.storedLength(), c.codec(), p));
    apply(unlink(ROOT, "a"));
    String before = snapshot();
    assertEquals(Errno.EAGAIN, failure(new MetaOp.ReplaceBlockPlacement(c.id(), p,
        new io.dynamicfs.core.block.Placement(0, List.of(2, 4)))));
    assertEquals(Errno.EAGAIN, failure(new MetaOp.ReplaceBlockPlacement(BlockId.hash(new byte[] {7}, 0, 1), p, p)));
    assertEquals(before, snapshot());
    assertTrue(store.isPendingDelete(c.id()));
  }

  // ---- atomicity and the applied index ---------------------------------------------------------

  @Test
  void failedOp_anyErrno_changesNothingButTakesItsLogIndex() throws Exception {
    long d = mkdir(ROOT, "d");
    long e = mkdir(ROOT, "e");
    long f = mkfile(d, "f");
    mkfile(e, "g");
    ChunkChange c = stored(0, randomBytes(1000));
    commit(f, 1000, -1, c);
    apply(new MetaOp.SetXattr(f, "user.x", new byte[] {9}, 0, now()));

    record Case(Errno expected, MetaOp op) {}
    List<Case> cases = List.of(
        new Case(Errno.EEXIST, create(d, "f", REG | 0644, null, now())),
        new Case(Errno.ENOTDIR, create(f, "x", DIR | 0755, null, now())),
        new Case(Errno.ENOTEMPTY, rmdir(ROOT, "d")),
        new Case(Errno.EISDIR, unlink(ROOT, "d")),
        new Case(Errno.ENOTDIR, rmdir(d, "f")),
        new Case(Errno.ENOTEMPTY, rename(ROOT, "d", ROOT, "e", 0)),
        new Case(Errno.EISDIR, rename(d, "f", ROOT, "e", 0)),
        new Case(Errno.ENOTDIR, rename(ROOT, "e", d, "f", 0)),
        new Case(Errno.EINVAL, rename(ROOT, "d", d, "sub", 0)),
        new Case(Errno.EEXIST, rename(ROOT, "d", ROOT, "e", FileSystem.RENAME_NOREPLACE)),
        new Case(Errno.EEXIST, new MetaOp.SetXattr(f, "user.x", new byte[] {1}, FileSystem.XATTR_CREATE, now())),
        new Case(Errno.ENODATA, new MetaOp.SetXattr(f, "user.y", new byte[] {1}, FileSystem.XATTR_REPLACE, now())),
        new Case(Errno.ENODATA, new MetaOp.RemoveXattr(f, "user.y", now())),
        new Case(Errno.EPERM, new MetaOp.Link(d, ROOT, "d2", now())),
        new Case(Errno.EINVAL, new MetaOp.CommitBlocks(f, 5L * BS, -1, 1, 1,
            List.of(stored(1, randomBytes(10)), ChunkChange.stored(2, c.id(), BS + 1, 1, Codec.NONE)))));
    String before = snapshot();
    long applied = ap.appliedIndex();
    for (Case k : cases) {
      assertEquals(k.expected(), failure(k.op()), () -> "errno of " + k.op());
      assertEquals(++applied, store.appliedIndex(), () -> "stored applied index after " + k.op());
      assertEquals(before, snapshot(), () -> "metadata after failed " + k.op());
    }
  }

  @Test
  void apply_indexAtOrBelowApplied_isRefusedAndChangesNothing() throws Exception {
    mkfile(ROOT, "f");
    long applied = ap.appliedIndex();
    String before = snapshot();
    OpApplier.Result again = ap.apply(applied, create(ROOT, "g", REG | 0644, null, now()));
    assertFalse(again.ok());
    assertEquals(applied, store.appliedIndex());
    assertEquals(before, snapshot());
  }

  @Test
  void apply_malformedOp_answersEioInsteadOfThrowing() throws Exception {
    long f = mkfile(ROOT, "f");
    long index = ap.appliedIndex() + 1;
    OpApplier.Result r = ap.apply(index, new MetaOp.CommitBlocks(f, 10, -1, 1, 1, null));
    assertEquals(Errno.EIO, r.errno());
    assertEquals(index, store.appliedIndex());
  }

  @Test
  void appliedIndex_incrementsByOnePerOp_andSurvivesReopen() throws Exception {
    long start = ap.appliedIndex();
    assertEquals(2, start, "the root creation and the test's session are ops 1 and 2");
    long d = mkdir(ROOT, "d");
    assertEquals(start + 1, ap.appliedIndex());
    assertEquals(start + 2, apply(new MetaOp.SetXattr(d, "user.a", new byte[] {1}, 0, now())).index());
    assertEquals(Errno.ENOENT, failure(rmdir(ROOT, "nope")));
    assertEquals(start + 3, store.appliedIndex(), "a failed op takes its index too");
    assertEquals(start + 4, apply(rename(ROOT, "d", ROOT, "d2", 0)).index());
    assertEquals(start + 4, store.appliedIndex());
    long f = mkfile(ROOT, "f");
    String before = snapshot();

    store.close();
    store = null;
    store = MetadataStore.open(tmp.resolve("meta"), BS);
    ap = new OpApplier(store);
    assertEquals(start + 5, ap.appliedIndex());
    assertEquals(before, snapshot());
    OpApplier.Result g = apply(create(ROOT, "g", REG | 0644, null, now()));
    assertTrue(g.ino() > f, "inode numbers are not reused after a reopen");
    assertEquals(start + 6, g.index());
  }

  @Test
  void create_inodeNumbers_comeFromTheStoreInOrder() throws Exception {
    long a = mkfile(ROOT, "a");
    apply(unlink(ROOT, "a"));
    long b = mkdir(ROOT, "b");
    assertEquals(a + 1, b, "numbers are never reused, even after an unlink");
    assertEquals(b + 1, store.nextIno());
  }

  @Test
  void manyEntries_listAndRemoveAll_leavesEmptyRoot() throws Exception {
    TreeMap<String, Long> names = new TreeMap<>();
    for (int i = 0; i < 200; i++) {
      String n = "n" + i;
      names.put(n, i % 3 == 0 ? mkdir(ROOT, n) : mkfile(ROOT, n));
    }
    assertEquals(2 + 67, nlink(ROOT));
    assertEquals(names.keySet().stream().toList(), store.list(ROOT).stream().map(DirEntry::name).sorted().toList());
    for (var e : names.entrySet()) {
      apply(inode(e.getValue()).isDirectory() ? rmdir(ROOT, e.getKey()) : unlink(ROOT, e.getKey()));
    }
    assertEquals(List.of(), store.list(ROOT));
    assertEquals(2, nlink(ROOT));
    List<Long> left = new ArrayList<>();
    store.forEachInode(i -> left.add(i.ino()));
    assertEquals(List.of(ROOT), left);
  }

  @Test
  void snapshot_isSensitive() throws Exception {
    // The atomicity test compares snapshots; make sure a real change shows in one.
    String before = snapshot();
    long f = mkfile(ROOT, "f");
    assertFalse(before.equals(snapshot()));
    assertNotNull(store.inode(f));
  }

  // ---- intent-log overlays (LogIntents) --------------------------------------------------------

  private MetaOp.LogIntents intents(long ino, long size, MetaOp.Overlay... overlays) {
    long t = now();
    return new MetaOp.LogIntents(new MetaOp.CommitBlocks(ino, size, -1, t, t, List.of()), List.of(overlays));
  }

  private static MetaOp.Overlay overlay(long index, int offset, int length, long pos) {
    return new MetaOp.Overlay(index, offset, length, 1, pos, 0x1234);
  }

  @Test
  void logIntents_recordsOverlaysWithTheNewSize_inLogOrder() throws Exception {
    long f = mkfile(ROOT, "db");
    commit(f, 2L * BS, -1, stored(0, randomBytes(BS)), stored(1, randomBytes(BS)));
    apply(intents(f, 2L * BS + 10, overlay(1, 100, 50, 200), overlay(0, 0, 4096, 100), overlay(2, 0, 10, 300)));
    assertEquals(2L * BS + 10, inode(f).size());
    assertEquals(List.of(overlay(0, 0, 4096, 100), overlay(1, 100, 50, 200), overlay(2, 0, 10, 300)),
        store.overlays(f, 0, Long.MAX_VALUE));
    MetaOp.Overlay later = new MetaOp.Overlay(1, 0, 1, 2, 50, 7); // the next log file: after position 200 of file 1
    apply(intents(f, 2L * BS + 10, later));
    assertEquals(List.of(overlay(1, 100, 50, 200), later), store.overlays(f, 1, 2), "a block's overlays in log order");
  }

  @Test
  void logIntents_overlayOutsideTheFileOrTheBlock_failsEinvalAndChangesNothing() throws Exception {
    long f = mkfile(ROOT, "db");
    commit(f, BS, -1, stored(0, randomBytes(BS)));
    String before = snapshot();
    assertEquals(Errno.EINVAL, failure(intents(f, BS, overlay(1, 0, 1, 0)))); // past the end of file
    assertEquals(Errno.EINVAL, failure(intents(f, BS, overlay(0, BS - 1, 2, 0)))); // across the block's end
    assertEquals(Errno.EINVAL, failure(intents(f, BS, overlay(0, 5, 0, 0)))); // empty
    assertEquals(before, snapshot());
  }

  @Test
  void commitOfABlock_dropsItsOverlays_truncateDropsThosePastTheEnd_removeDropsAll() throws Exception {
    long f = mkfile(ROOT, "db");
    commit(f, 3L * BS, -1, stored(0, randomBytes(BS)), stored(1, randomBytes(BS)), stored(2, randomBytes(BS)));
    apply(intents(f, 3L * BS, overlay(0, 0, 10, 1), overlay(1, 0, 10, 2), overlay(2, 0, 10, 3)));
    commit(f, 3L * BS, -1, stored(1, randomBytes(BS))); // a fold of block 1
    assertEquals(List.of(0L, 2L), store.overlays(f, 0, Long.MAX_VALUE).stream().map(MetaOp.Overlay::index)
        .collect(Collectors.toList()));
    commit(f, BS + 5, BS + 5); // truncate: block 2 goes, block 1 stays (the engine rewrites the tail block)
    assertEquals(List.of(0L), store.overlays(f, 0, Long.MAX_VALUE).stream().map(MetaOp.Overlay::index)
        .collect(Collectors.toList()));
    apply(unlink(ROOT, "db"));
    assertEquals(List.of(), store.overlays(f, 0, Long.MAX_VALUE));
  }

  @Test
  void logIntents_newOverlayCoveringOlderOnes_dropsThem_andKeepsPartlyCoveredOnes() throws Exception {
    long f = mkfile(ROOT, "db");
    commit(f, BS, -1, stored(0, randomBytes(BS)));
    apply(intents(f, BS, overlay(0, 4096, 4096, 10), overlay(0, 9000, 100, 11), overlay(0, 8000, 500, 12)));
    apply(intents(f, BS, overlay(0, 4096, 4096, 20))); // the same page again: hides the first
    apply(intents(f, BS, overlay(0, 8500, 600, 30))); // covers 9000+100 whole, 8000+500 not at all
    assertEquals(List.of(overlay(0, 8000, 500, 12), overlay(0, 4096, 4096, 20), overlay(0, 8500, 600, 30)),
        store.overlays(f, 0, 1));
  }
}
