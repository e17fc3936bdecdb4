package io.dynamicfs.core.api;

/** One name in a directory. */
public record DirEntry(String name, long ino, FileType type) {}
