/**
 * The policy engine (access statistics, hotness model, tier moves). Not built yet: the module exists so the
 * build already has the shape DESIGN.md describes; see the open issues.
 */
package io.dynamicfs.policy;
