/**
 * The storage commands: {@code scrub}, {@code tier status}, {@code tier move} and {@code rebuild}, run
 * against a mounted filesystem (through its daemon) or an unmounted DATA directory (in this process).
 */
package io.dynamicfs.cli.storage;
