/**
 * PolyCall over gRPC (issue 4): the node's server (the generic {@code polycall.v1.PolyCall} service
 * of {@code spec/service.proto}, a method per registered function, reflection, health) and the
 * client side (the remote bridge that puts other nodes' functions in the registry, and routing
 * among them).
 */
package io.polycall.grpc;
