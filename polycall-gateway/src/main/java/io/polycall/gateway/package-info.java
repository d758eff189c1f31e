/**
 * The HTTP gateway of a node (issue 4): {@code POST /v1/call/{function}} with JSON or CBOR, {@code
 * GET /v1/functions}, an OpenAPI document generated from the registry, and a WebSocket endpoint for
 * streaming calls; statuses map to HTTP codes as in gRPC's HTTP mapping.
 */
package io.polycall.gateway;
