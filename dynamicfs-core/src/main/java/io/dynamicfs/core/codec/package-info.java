/** Compression codecs of stored block records (LZ4 by default, Zstandard, or none). */
package io.dynamicfs.core.codec;
