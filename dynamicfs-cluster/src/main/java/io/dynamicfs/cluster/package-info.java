/**
 * The cluster: {@code raft} (the metadata state machine over core's OpApplier, Ratis server and client,
 * queries), {@code transport} (block servers and the remote block store, Netty frames), {@code blocks}
 * (placement over nodes: rendezvous hashing, replicate-R and rs-K-M), {@code node} (a node process:
 * init, join, restart, the leader's duties, status) and {@code mount} (what a cluster mount runs on: a
 * listener replica, the Raft journal, the node block store). docs/cluster.md tells how they fit.
 */
package io.dynamicfs.cluster;
