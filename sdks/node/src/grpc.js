// The gRPC transport behind connect('grpc://...'): polycall.v1.PolyCall (spec/service.proto)
// through @grpc/grpc-js. Values are the socket's Value messages, encoded by this SDK's codec
// (TypedArrays as one ndarray block); a failed call's trailer `polycall-status-bin` holds the
// whole Status with the cross-language frames. It has the part of Connection's contract that
// Client uses (call(name, args, options), close(), closed, nodeId, 'close' events).

import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_FRAME_BYTES, Outgoing, decodeMessage, encodeMessage, messageType } from './codec.js';
import { CancelledError, Code, DeadlineExceededError, InvalidArgumentError, PolyCallError, UnavailableError, fromStatus } from './errors.js';
import { SDK_VERSION } from './connection.js';
import { FUNCTIONS_FUNCTION, checkTls, deadlineMessage, pem } from './target.js';

export const STATUS_TRAILER = 'polycall-status-bin';

const CallType = messageType('polycall.v1.Call');
const ResultType = messageType('polycall.v1.Result');
const StatusType = messageType('polycall.v1.Status');
const ListRequestType = messageType('polycall.v1.ListFunctionsRequest');
const ListResponseType = messageType('polycall.v1.ListFunctionsResponse');

/**
 * The PolyCallError of a failed gRPC call: the trailer's Status when the node sent one, else
 * the gRPC status code and details.
 */
export function errorOfGrpc(err, target, name, timeoutMs) {
  const trailer = err.metadata?.get?.(STATUS_TRAILER)?.[0];
  if (trailer instanceof Uint8Array) {
    try {
      return fromStatus(decodeMessage(StatusType, trailer));
    } catch {
      // a broken trailer: the gRPC status itself still says what happened
    }
  }
  const code = typeof err.code === 'number' ? err.code : Code.UNKNOWN;
  const details = err.details ?? err.message ?? '';
  if (code === Code.DEADLINE_EXCEEDED && timeoutMs) return new DeadlineExceededError(deadlineMessage(name, timeoutMs));
  if (code === Code.UNAVAILABLE) return new UnavailableError(`cannot reach ${target.url}: ${details}`);
  return PolyCallError.of(code, details);
}

export class GrpcTransport extends EventEmitter {
  /**
   * @param {ReturnType<typeof parseTarget>} target
   * @param {{token?: string, ca?: string|Uint8Array, cert?: string|Uint8Array, key?: string|Uint8Array, maxDepth?: number}} options
   */
  constructor(target, options = {}) {
    super();
    checkTls(target, options);
    this.target = target;
    this.token = options.token;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.nodeId = '';
    const creds = target.tls
      ? grpc.credentials.createSsl(pem(options.ca, 'ca') ?? null, pem(options.key, 'key') ?? null, pem(options.cert, 'cert') ?? null)
      : grpc.credentials.createInsecure();
    this.client = new grpc.Client(target.authority, creds, {
      // The socket's frame limit each way (gRPC's default receive limit is 4 MB).
      'grpc.max_receive_message_length': DEFAULT_MAX_FRAME_BYTES,
      'grpc.max_send_message_length': DEFAULT_MAX_FRAME_BYTES,
      'grpc.primary_user_agent': `polycall-node/${SDK_VERSION}`,
    });
    this.closed = false;
  }

  metadata(extra) {
    const md = new grpc.Metadata();
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    for (const [k, v] of Object.entries(extra ?? {})) md.set(k, String(v));
    return md;
  }

  unary(method, type, message, decodeType, name, options) {
    const { timeoutMs, signal, metadata } = options;
    if (this.closed) return Promise.reject(new UnavailableError('the client is closed'));
    signal?.throwIfAborted?.call(signal);
    const bytes = encodeMessage(type, message); // a bad value fails here, before sending
    return new Promise((resolve, reject) => {
      const callOptions = timeoutMs ? { deadline: Date.now() + timeoutMs } : {};
      let aborted = false;
      const call = this.client.makeUnaryRequest(
        `/polycall.v1.PolyCall/${method}`,
        (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        (buf) => decodeMessage(decodeType, buf, { maxDepth: this.maxDepth, via: this }),
        bytes,
        this.metadata(metadata),
        callOptions,
        (err, value) => {
          signal?.removeEventListener('abort', onAbort);
          if (aborted) return;
          if (err) reject(errorOfGrpc(err, this.target, name, timeoutMs));
          else resolve(value);
        },
      );
      const onAbort = () => {
        aborted = true;
        call.cancel();
        reject(new CancelledError(`call to ${name} cancelled`, { cause: signal.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Checks that the node answers (and accepts the token); learns its id. */
  async start(timeoutMs) {
    try {
      const resp = await this.unary('ListFunctions', ListRequestType, { pattern: FUNCTIONS_FUNCTION }, ListResponseType, 'ListFunctions', { timeoutMs });
      this.nodeId = resp.nodeId ?? '';
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async call(name, args, options = {}) {
    const message = { function: name, args: args.map((a, i) => new Outgoing(a, undefined, `args[${i}]`)) };
    const result = await this.unary('Call', CallType, message, ResultType, name, options);
    if (result.status) throw fromStatus(result.status);
    if (!result.value) throw new InvalidArgumentError(`result of ${name} has neither value nor status`);
    if (result.value.error) throw result.value.error;
    return result.value.value;
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
    this.emit('close');
  }
}
