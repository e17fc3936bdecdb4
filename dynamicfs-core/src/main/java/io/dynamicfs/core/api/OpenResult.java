package io.dynamicfs.core.api;

/** A new handle together with the attributes of the file it opens. */
public record OpenResult(long handle, Attr attr) {}
