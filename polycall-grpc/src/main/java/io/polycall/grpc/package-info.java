/**
 * PolyCall over gRPC (issue 4).
 *
 * <ul>
 *   <li>{@link io.polycall.grpc.GrpcServer}: a node's server. The generic service {@code
 *       polycall.v1.PolyCall} of {@code spec/service.proto}, health and server reflection; every
 *       call goes through the node's interceptor chain.
 *   <li>{@link io.polycall.grpc.GrpcClient}: calls another node's functions through that service
 *       (an {@link io.polycall.Caller}, plus batch, list and describe); the building block of the
 *       remote bridge.
 * </ul>
 *
 * <p>Implementation classes live in {@code io.polycall.grpc.internal} and are not API.
 */
package io.polycall.grpc;
