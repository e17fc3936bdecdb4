package io.dynamicfs.cluster.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.Chunk;
import io.dynamicfs.core.meta.Inode;
import io.dynamicfs.core.meta.OpApplier;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RaftCodecTest {
  private static final BlockId ID = BlockId.hash(new byte[] {1, 2, 3}, 0, 3);
  private static final Inode INODE = new Inode(7, 0100644, 1000, 100, 1, 0, 5, 5, 1, 2, 3, 0);

  @Test
  void result_roundTrip_keepsEveryField() throws FsException {
    OpApplier.Result ok = new OpApplier.Result(12, null, null, 9, List.of(ID), List.of(ID, ID),
        new LinkedHashSet<>(List.of(1L, 9L)));
    assertEquals(ok, ResultCodec.decode(ResultCodec.encode(ok)));
    OpApplier.Result failed = new OpApplier.Result(13, Errno.ENOTEMPTY, "directory 'a' is not empty", 0, List.of(),
        List.of(), Set.of());
    assertEquals(failed, ResultCodec.decode(ResultCodec.encode(failed)));
  }

  @Test
  void result_damaged_failsEio() {
    byte[] good = ResultCodec.encode(new OpApplier.Result(1, null, "m", 2, List.of(ID), List.of(), Set.of(3L)));
    for (int cut = 0; cut < good.length; cut++) {
      byte[] shorter = Arrays.copyOf(good, cut);
      assertEquals(Errno.EIO, assertThrows(FsException.class, () -> ResultCodec.decode(shorter)).errno());
    }
    byte[] longer = Arrays.copyOf(good, good.length + 1);
    assertEquals(Errno.EIO, assertThrows(FsException.class, () -> ResultCodec.decode(longer)).errno());
    byte[] badErrno = good.clone();
    badErrno[12] = 99; // low byte of the errno code
    assertEquals(Errno.EIO, assertThrows(FsException.class, () -> ResultCodec.decode(badErrno)).errno());
  }

  @Test
  void query_roundTrip_everyKind() throws FsException {
    List<MetaQuery<?>> all = List.of(new MetaQuery.Lookup(1, "name"), new MetaQuery.GetInode(7),
        new MetaQuery.ReadDir(1), new MetaQuery.ReadLink(8), new MetaQuery.GetXattr(7, "user.x"),
        new MetaQuery.ListXattrs(7), new MetaQuery.Chunks(7, 0, 10), new MetaQuery.Block(ID), new MetaQuery.Applied(),
        new MetaQuery.Nodes(), new MetaQuery.Config(), new MetaQuery.BlocksOn(3));
    for (MetaQuery<?> q : all) {
      assertEquals(q, QueryCodec.decodeQuery(QueryCodec.encode(q)));
    }
  }

  @Test
  void answer_roundTrip_everyKind() throws FsException {
    assertEquals(INODE, roundTrip(new MetaQuery.Lookup(1, "f"), INODE));
    assertEquals(INODE, roundTrip(new MetaQuery.GetInode(7), INODE));
    List<DirEntry> entries = List.of(new DirEntry("a", 7, FileType.REGULAR), new DirEntry("b", 8, FileType.DIRECTORY));
    assertEquals(entries, roundTrip(new MetaQuery.ReadDir(1), entries));
    assertEquals("target", roundTrip(new MetaQuery.ReadLink(9), "target"));
    assertArrayEquals(new byte[] {4, 5}, roundTrip(new MetaQuery.GetXattr(7, "user.x"), new byte[] {4, 5}));
    assertEquals(List.of("user.a", "user.b"), roundTrip(new MetaQuery.ListXattrs(7), List.of("user.a", "user.b")));
    List<Chunk> chunks = roundTrip(new MetaQuery.Chunks(7, 0, 9),
        List.of(new Chunk(0, ID, 4096, null), new Chunk(3, null, 2, new byte[] {9, 9})));
    assertEquals(ID, chunks.get(0).id());
    assertEquals(4096, chunks.get(0).length());
    assertArrayEquals(new byte[] {9, 9}, chunks.get(1).inline());
    assertEquals(3, chunks.get(1).index());
    BlockRecord record = new BlockRecord(2, 4096, 1000, Codec.NONE, new io.dynamicfs.core.block.Placement(1, java.util.List.of(3, -1, 7)));
    assertEquals(record, roundTrip(new MetaQuery.Block(ID), record));
    assertEquals(new MetaQuery.Position(3, 99), roundTrip(new MetaQuery.Applied(), new MetaQuery.Position(3, 99)));
    assertEquals(12_345L, roundTrip(new MetaQuery.BlocksOn(2), 12_345L));
  }

  @Test
  void answer_failure_throwsItsErrno() {
    byte[] failure = QueryCodec.failure(new FsException(Errno.ENODATA, "no xattr 'user.x'"));
    FsException e = assertThrows(FsException.class,
        () -> QueryCodec.decodeAnswer(new MetaQuery.GetXattr(7, "user.x"), failure));
    assertEquals(Errno.ENODATA, e.errno());
    assertEquals("no xattr 'user.x'", e.detail());
  }

  @Test
  void query_damaged_failsEio() {
    byte[] good = QueryCodec.encode(new MetaQuery.Lookup(1, "name"));
    for (int cut = 0; cut < good.length; cut++) {
      byte[] shorter = Arrays.copyOf(good, cut);
      assertEquals(Errno.EIO, assertThrows(FsException.class, () -> QueryCodec.decodeQuery(shorter)).errno());
    }
    byte[] trailing = Arrays.copyOf(good, good.length + 1);
    assertEquals(Errno.EIO, assertThrows(FsException.class, () -> QueryCodec.decodeQuery(trailing)).errno());
    byte[] unknownTag = good.clone();
    unknownTag[1] = 77;
    assertEquals(Errno.EIO, assertThrows(FsException.class, () -> QueryCodec.decodeQuery(unknownTag)).errno());
    byte[] hugeName = good.clone();
    hugeName[10] = 0x7f; // the name's length prefix
    assertEquals(Errno.EIO, assertThrows(FsException.class, () -> QueryCodec.decodeQuery(hugeName)).errno());
    byte[] text = "garbage".getBytes(StandardCharsets.US_ASCII);
    assertEquals(Errno.EIO, assertThrows(FsException.class, () -> QueryCodec.decodeQuery(text)).errno());
  }

  @Test
  void answer_damaged_failsEio() {
    byte[] good = QueryCodec.answer(new MetaQuery.ReadDir(1), List.of(new DirEntry("a", 7, FileType.REGULAR)));
    for (int cut = 0; cut < good.length; cut++) {
      byte[] shorter = Arrays.copyOf(good, cut);
      assertEquals(Errno.EIO, assertThrows(FsException.class,
          () -> QueryCodec.decodeAnswer(new MetaQuery.ReadDir(1), shorter)).errno());
    }
    byte[] badType = good.clone();
    badType[badType.length - 1] = 42;
    assertEquals(Errno.EIO, assertThrows(FsException.class,
        () -> QueryCodec.decodeAnswer(new MetaQuery.ReadDir(1), badType)).errno());
  }

  private static <R> R roundTrip(MetaQuery<R> q, R value) throws FsException {
    return QueryCodec.decodeAnswer(q, QueryCodec.answer(q, value));
  }
}
