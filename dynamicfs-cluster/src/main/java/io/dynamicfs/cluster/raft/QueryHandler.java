package io.dynamicfs.cluster.raft;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.Inode;
import io.dynamicfs.core.meta.MetadataStore;

/** Answers a {@link MetaQuery} from one replica's store; the caller holds the store open. */
final class QueryHandler {
  private QueryHandler() {}

  static Object answer(MetadataStore store, MetaQuery<?> q) throws FsException {
    if (q instanceof MetaQuery.Lookup l) {
      long ino = store.lookup(l.parent(), l.name());
      if (ino < 0) {
        throw FsException.of(Errno.ENOENT, "no '%s' in directory %d", l.name(), l.parent());
      }
      return store.requireInode(ino);
    } else if (q instanceof MetaQuery.GetInode g) {
      return store.requireInode(g.ino());
    } else if (q instanceof MetaQuery.ReadDir r) {
      Inode dir = store.requireInode(r.dir());
      if (!dir.isDirectory()) {
        throw FsException.of(Errno.ENOTDIR, "inode %d is not a directory", r.dir());
      }
      return store.list(r.dir());
    } else if (q instanceof MetaQuery.ReadLink r) {
      return store.symlink(r.ino());
    } else if (q instanceof MetaQuery.GetXattr g) {
      byte[] v = store.xattr(g.ino(), g.name());
      if (v == null) {
        throw FsException.of(Errno.ENODATA, "no xattr '%s' on inode %d", g.name(), g.ino());
      }
      return v;
    } else if (q instanceof MetaQuery.ListXattrs l) {
      return store.xattrNames(l.ino());
    } else if (q instanceof MetaQuery.Chunks c) {
      return store.chunks(c.ino(), c.from(), c.to());
    } else if (q instanceof MetaQuery.Block b) {
      BlockRecord r = store.block(b.id());
      if (r == null) {
        throw FsException.of(Errno.ENOENT, "no block %s", b.id());
      }
      return r;
    } else if (q instanceof MetaQuery.Applied) {
      return new MetaQuery.Position(store.appliedTerm(), store.appliedIndex());
    } else if (q instanceof MetaQuery.Nodes) {
      return store.nodes();
    } else if (q instanceof MetaQuery.BlocksOn on) {
      long[] count = {0};
      store.forEachBlock((id, r) -> {
        if (r.refs() > 0 && r.placement().locations().contains(on.node())) {
          count[0]++;
        }
      });
      return count[0];
    } else if (q instanceof MetaQuery.PlacedOn p) {
      boolean[] placed = new boolean[p.ids().size()];
      for (int i = 0; i < placed.length; i++) {
        var id = p.ids().get(i);
        BlockRecord r = store.block(id);
        placed[i] = (r != null && r.placement().locations().contains(p.node())) || store.isPendingDelete(id);
      }
      return placed;
    } else if (q instanceof MetaQuery.Config) {
      var c = store.clusterConfig();
      if (c == null) {
        throw new FsException(Errno.ENOENT, "the cluster has no settings yet (cluster-init did not finish)");
      }
      return c;
    }
    throw new IllegalArgumentException("unknown query " + q.getClass());
  }
}
