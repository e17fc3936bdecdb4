package io.dynamicfs.cluster.transport;

import io.dynamicfs.core.block.StoreStats;

/**
 * What a block server reports about itself: its store's figures and the free space on the store's device
 * ({@code freeBytes} is -1 when the server does not know it).
 */
public record NodeStats(StoreStats store, long freeBytes) {}
