package io.dynamicfs.fuse.lowlevel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The libfuse 3 binding's struct layouts and constants against the installed headers: a C program compiled
 * here with gcc prints offsetof/sizeof of {@code fuse_lowlevel_ops}, {@code fuse_file_info} (and where its
 * keep_cache bit lands), {@code fuse_conn_info}, {@code fuse_buf}, {@code fuse_entry_param}, {@code stat},
 * {@code statvfs}, {@code fuse_ctx}, and the FUSE_CAP_* and FUSE_SET_ATTR_* values the adapter uses; each
 * must equal what {@link Layout}, {@link FuseAbi} and {@link LowLevelOps} say. Needs gcc and libfuse3-dev
 * (.ci/run installs both); where they are missing the test is skipped with that reason.
 */
class Fuse3LayoutTest {
  private static final String PROGRAM = String.join("\n",
      "#define FUSE_USE_VERSION 314",
      "#include <fuse3/fuse_lowlevel.h>",
      "#include <stddef.h>",
      "#include <stdio.h>",
      "#include <string.h>",
      "#include <sys/stat.h>",
      "#include <sys/statvfs.h>",
      "#define P(name, v) printf(\"%s %ld\\n\", name, (long) (v))",
      "#define OFF(t, f) P(#t \".\" #f, offsetof(struct t, f))",
      "int main(void) {",
      "  P(\"fuse_lowlevel_ops.size\", sizeof(struct fuse_lowlevel_ops));",
      "  OFF(fuse_lowlevel_ops, init); OFF(fuse_lowlevel_ops, rename); OFF(fuse_lowlevel_ops, create);",
      "  OFF(fuse_lowlevel_ops, fallocate); OFF(fuse_lowlevel_ops, readdirplus);",
      "  OFF(fuse_lowlevel_ops, copy_file_range); OFF(fuse_lowlevel_ops, lseek);",
      "  P(\"fuse_file_info.size\", sizeof(struct fuse_file_info));",
      "  OFF(fuse_file_info, flags); OFF(fuse_file_info, fh); OFF(fuse_file_info, lock_owner);",
      "  { struct fuse_file_info fi; memset(&fi, 0, sizeof fi); fi.keep_cache = 1; unsigned bits;",
      "    memcpy(&bits, (char *) &fi + 4, 4); P(\"fuse_file_info.keep_cache_bit_at_4\", bits); }",
      "  OFF(fuse_conn_info, max_write); OFF(fuse_conn_info, max_read); OFF(fuse_conn_info, max_readahead);",
      "  OFF(fuse_conn_info, capable); OFF(fuse_conn_info, want); OFF(fuse_conn_info, max_background);",
      "  OFF(fuse_conn_info, congestion_threshold); OFF(fuse_conn_info, time_gran);",
      "  P(\"fuse_buf.size\", sizeof(struct fuse_buf)); OFF(fuse_buf, mem);",
      "  P(\"fuse_entry_param.size\", sizeof(struct fuse_entry_param)); OFF(fuse_entry_param, attr);",
      "  OFF(fuse_entry_param, attr_timeout); OFF(fuse_entry_param, entry_timeout);",
      "  P(\"stat.size\", sizeof(struct stat)); OFF(stat, st_ino); OFF(stat, st_mode); OFF(stat, st_size);",
      "  OFF(stat, st_mtim);",
      "  P(\"statvfs.size\", sizeof(struct statvfs)); OFF(statvfs, f_namemax);",
      "  OFF(fuse_ctx, uid); OFF(fuse_ctx, gid); OFF(fuse_ctx, pid);",
      "  P(\"fuse_args.size\", sizeof(struct fuse_args));",
      "  P(\"CAP_ATOMIC_O_TRUNC\", FUSE_CAP_ATOMIC_O_TRUNC); P(\"CAP_EXPORT_SUPPORT\", FUSE_CAP_EXPORT_SUPPORT);",
      "  P(\"CAP_SPLICE_READ\", FUSE_CAP_SPLICE_READ); P(\"CAP_AUTO_INVAL_DATA\", FUSE_CAP_AUTO_INVAL_DATA);",
      "  P(\"CAP_READDIRPLUS\", FUSE_CAP_READDIRPLUS); P(\"CAP_WRITEBACK_CACHE\", FUSE_CAP_WRITEBACK_CACHE);",
      "  P(\"CAP_PARALLEL_DIROPS\", FUSE_CAP_PARALLEL_DIROPS); P(\"CAP_HANDLE_KILLPRIV\", FUSE_CAP_HANDLE_KILLPRIV);",
      "  P(\"SET_ATTR_MTIME_NOW\", FUSE_SET_ATTR_MTIME_NOW); P(\"SET_ATTR_CTIME\", FUSE_SET_ATTR_CTIME);",
      "  return 0;",
      "}", "");

  @TempDir
  static Path tmp;
  private static final Map<String, Long> c = new LinkedHashMap<>();

  @BeforeAll
  static void compileAndRun() throws Exception {
    Assumptions.assumeTrue(Files.exists(Path.of("/usr/include/fuse3/fuse_lowlevel.h")),
        "no /usr/include/fuse3/fuse_lowlevel.h: install libfuse3-dev to check the libfuse 3 struct layouts");
    Path src = Files.writeString(tmp.resolve("layout.c"), PROGRAM);
    Path exe = tmp.resolve("layout");
    String cc;
    try {
      cc = run(List.of("gcc", "-Wall", "-o", exe.toString(), src.toString()));
    } catch (IOException e) {
      Assumptions.abort("cannot run gcc to check the libfuse 3 struct layouts: " + e.getMessage());
      return;
    }
    for (String line : run(List.of(exe.toString())).split("\n")) {
      String[] f = line.split(" ");
      c.put(f[0], Long.parseLong(f[1]));
    }
    assertEquals("", cc.strip(), "gcc warnings");
  }

  private static String run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }

  private static void check(String name, long ours) {
    assertEquals(c.get(name), Long.valueOf(ours), name);
  }

  @Test
  void lowLevelOps_sizeAndOffsets_matchTheHeader() {
    LowLevelOps ops = new LowLevelOps(Runtime.getSystemRuntime(), FuseAbi.FUSE3);
    check("fuse_lowlevel_ops.size", jnr.ffi.Struct.size(ops));
    check("fuse_lowlevel_ops.size", ops.expectedSize());
    check("fuse_lowlevel_ops.init", ops.init.offset());
    check("fuse_lowlevel_ops.rename", ops.rename3.offset());
    check("fuse_lowlevel_ops.create", ops.create.offset());
    check("fuse_lowlevel_ops.fallocate", ops.fallocate.offset());
    check("fuse_lowlevel_ops.readdirplus", ops.readdirplus.offset());
    check("fuse_lowlevel_ops.copy_file_range", ops.copyFileRange.offset());
    check("fuse_lowlevel_ops.lseek", ops.lseek.offset());
  }

  @Test
  void fileInfoConnInfoBuf_matchTheHeader() {
    check("fuse_file_info.size", Layout.FileInfo3.SIZE);
    check("fuse_file_info.flags", Layout.FileInfo3.FLAGS);
    check("fuse_file_info.fh", FuseAbi.FUSE3.fileInfoFh);
    check("fuse_file_info.lock_owner", Layout.FileInfo3.LOCK_OWNER);
    assertEquals(4, FuseAbi.FUSE3.fileInfoBits);
    check("fuse_file_info.keep_cache_bit_at_4", FuseAbi.FUSE3.keepCacheBit);
    check("fuse_conn_info.max_write", FuseAbi.FUSE3.connMaxWrite);
    check("fuse_conn_info.max_read", Layout.ConnInfo3.MAX_READ);
    check("fuse_conn_info.max_readahead", FuseAbi.FUSE3.connMaxReadahead);
    check("fuse_conn_info.capable", Layout.ConnInfo.CAPABLE);
    check("fuse_conn_info.want", Layout.ConnInfo.WANT);
    check("fuse_conn_info.max_background", Layout.ConnInfo.MAX_BACKGROUND);
    check("fuse_conn_info.congestion_threshold", Layout.ConnInfo.CONGESTION_THRESHOLD);
    check("fuse_conn_info.time_gran", Layout.ConnInfo3.TIME_GRAN);
    check("fuse_buf.size", Layout.Fuse3Buf.SIZE);
    check("fuse_buf.mem", Layout.Fuse3Buf.MEM);
  }

  @Test
  void sharedStructs_matchTheHeader() {
    check("fuse_entry_param.size", Layout.EntryParam.SIZE);
    check("fuse_entry_param.attr", Layout.EntryParam.ATTR);
    check("fuse_entry_param.attr_timeout", Layout.EntryParam.ATTR_TIMEOUT);
    check("fuse_entry_param.entry_timeout", Layout.EntryParam.ENTRY_TIMEOUT);
    check("stat.size", Layout.Stat.SIZE);
    check("stat.st_ino", Layout.Stat.INO);
    check("stat.st_mode", Layout.Stat.MODE);
    check("stat.st_size", Layout.Stat.SIZE_);
    check("stat.st_mtim", Layout.Stat.MTIM);
    check("statvfs.size", Layout.Statvfs.SIZE);
    check("statvfs.f_namemax", Layout.Statvfs.NAMEMAX);
    check("fuse_ctx.uid", Layout.Ctx.UID);
    check("fuse_ctx.gid", Layout.Ctx.GID);
    check("fuse_ctx.pid", Layout.Ctx.PID);
    check("fuse_args.size", Layout.Args.SIZE);
  }

  @Test
  void capabilityAndSetattrBits_matchTheHeader() {
    check("CAP_ATOMIC_O_TRUNC", Layout.CAP_ATOMIC_O_TRUNC);
    check("CAP_EXPORT_SUPPORT", Layout.CAP_EXPORT_SUPPORT);
    check("CAP_SPLICE_READ", Layout.CAP_SPLICE_READ);
    check("CAP_AUTO_INVAL_DATA", Layout.CAP_AUTO_INVAL_DATA);
    check("CAP_READDIRPLUS", Layout.CAP_READDIRPLUS);
    check("CAP_WRITEBACK_CACHE", Layout.CAP_WRITEBACK_CACHE);
    check("CAP_PARALLEL_DIROPS", Layout.CAP_PARALLEL_DIROPS);
    check("CAP_HANDLE_KILLPRIV", Layout.CAP_HANDLE_KILLPRIV);
    check("SET_ATTR_MTIME_NOW", Layout.SET_ATTR_MTIME_NOW);
    check("SET_ATTR_CTIME", Layout.SET_ATTR_CTIME);
  }
}
