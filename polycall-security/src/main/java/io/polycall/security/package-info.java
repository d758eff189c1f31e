/**
 * Zero-trust security for every path of a call, as interceptors (issue 5).
 *
 * <pre>
 *   audit -> authenticate -> authorize -> input limits -> rate limit -> (next interceptors) -> bridge
 * </pre>
 *
 * The audit interceptor runs first so that it sees every decision, refusals included: it opens a
 * {@link io.polycall.security.CallRecord} for the call and the stages after it fill it in (who,
 * what was decided and why) before the record is appended to the hash-chained log.
 */
package io.polycall.security;
