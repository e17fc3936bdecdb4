/**
 * Raft replication of the metadata (docs/cluster-raft.md): {@link io.dynamicfs.cluster.raft.RaftMetaServer}
 * runs a replica ({@link io.dynamicfs.cluster.raft.MetadataStateMachine}: core's OpApplier over the node's
 * RocksDB, snapshots as RocksDB checkpoints), {@link io.dynamicfs.cluster.raft.RaftMetaClient} submits
 * operations and reads ({@link io.dynamicfs.cluster.raft.MetaQuery}) from a mount,
 * {@link io.dynamicfs.cluster.raft.RaftNodeConfig} sizes Ratis for a small machine.
 */
package io.dynamicfs.cluster.raft;
