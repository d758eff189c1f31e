/** Placeholder. */
package io.polycall.wire;
