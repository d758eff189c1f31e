// Types of the PolyCall Node SDK (hand-written; the JSDoc in src/*.js says the same in prose).

import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

// ---- errors ------------------------------------------------------------------------------------

export declare const Code: Readonly<{
  OK: 0; CANCELLED: 1; UNKNOWN: 2; INVALID_ARGUMENT: 3; DEADLINE_EXCEEDED: 4; NOT_FOUND: 5;
  ALREADY_EXISTS: 6; PERMISSION_DENIED: 7; RESOURCE_EXHAUSTED: 8; FAILED_PRECONDITION: 9;
  ABORTED: 10; OUT_OF_RANGE: 11; UNIMPLEMENTED: 12; INTERNAL: 13; UNAVAILABLE: 14;
  DATA_LOSS: 15; UNAUTHENTICATED: 16;
}>;
export declare function codeName(code: number): string;

export interface StackFrame {
  language: string;
  function: string;
  file: string;
  line: number;
}
export interface WireStatus {
  code: number;
  message: string;
  frames: StackFrame[];
}

export interface PolyCallErrorOptions {
  frames?: StackFrame[];
  cause?: unknown;
}
/** A failed PolyCall operation: gRPC code, message, cross-language stack (innermost first). */
export declare class PolyCallError extends Error {
  constructor(code: number, message: string, options?: PolyCallErrorOptions);
  readonly code: number;
  readonly codeName: string;
  readonly frames: StackFrame[];
  /** Close names the node proposed ("... did you mean math.add?" of a NOT_FOUND), else []. */
  readonly suggestions: string[];
  /** The subclass matching `code`. */
  static of(code: number, message: string, options?: PolyCallErrorOptions): PolyCallError;
}
declare class CodedError extends PolyCallError {
  constructor(message: string, options?: PolyCallErrorOptions);
}
export declare class CancelledError extends CodedError {}
export declare class UnknownError extends CodedError {}
export declare class InvalidArgumentError extends CodedError {}
export declare class DeadlineExceededError extends CodedError {}
export declare class NotFoundError extends CodedError {}
export declare class AlreadyExistsError extends CodedError {}
export declare class PermissionDeniedError extends CodedError {}
export declare class ResourceExhaustedError extends CodedError {}
export declare class FailedPreconditionError extends CodedError {}
export declare class AbortedError extends CodedError {}
export declare class OutOfRangeError extends CodedError {}
export declare class UnimplementedError extends CodedError {}
export declare class InternalError extends CodedError {}
export declare class UnavailableError extends CodedError {}
export declare class DataLossError extends CodedError {}
export declare class UnauthenticatedError extends CodedError {}

export declare function parseStack(stack: string | undefined): StackFrame[];
/** JS error -> wire status: PolyCallError keeps its code; TypeError/RangeError INVALID_ARGUMENT; else UNKNOWN. */
export declare function toStatus(err: unknown): WireStatus;
export declare function fromStatus(status: Partial<WireStatus>): PolyCallError;

// ---- values ------------------------------------------------------------------------------------

export type IntType = 'i8' | 'i16' | 'i32' | 'i64' | 'u8' | 'u16' | 'u32' | 'u64';
export type FloatType = 'f32' | 'f64';
export type DType = 'bool' | IntType | FloatType;

/** A number with an explicit canonical type (64-bit types hold bigints). */
export declare class Scalar {
  constructor(type: IntType | FloatType, value: number | bigint);
  readonly type: IntType | FloatType;
  readonly value: number | bigint;
  valueOf(): number | bigint;
}
export declare function i8(v: number | bigint): Scalar;
export declare function i16(v: number | bigint): Scalar;
export declare function i32(v: number | bigint): Scalar;
export declare function i64(v: number | bigint): Scalar;
export declare function u8(v: number | bigint): Scalar;
export declare function u16(v: number | bigint): Scalar;
export declare function u32(v: number | bigint): Scalar;
export declare function u64(v: number | bigint): Scalar;
export declare function f32(v: number): Scalar;
export declare function f64(v: number): Scalar;

export type TypedArray =
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array
  | Float32Array | Float64Array;

/** A dense C-order array; `data` views the received bytes when aligned. */
export declare class NdArray<T extends TypedArray = TypedArray> {
  constructor(dtype: DType, shape: ArrayLike<number | bigint>, data: ArrayBufferView);
  readonly dtype: DType;
  readonly shape: number[];
  readonly data: T;
  readonly size: number;
}
/** `ndarray(new Float64Array(6), [2, 3])`; dtype from the array class unless given (u8/bool need it). */
export declare function ndarray<T extends TypedArray>(data: T, shape?: number[], dtype?: DType): NdArray<T>;

export declare class Handle {
  constructor(kind: string, id: bigint | number, generation?: number);
  readonly kind: string;
  readonly id: bigint;
  readonly generation: number;
}

/** A registered function by name; `call()` invokes it through the hub. */
export declare class FnRef {
  constructor(name: string, signature?: string);
  readonly name: string;
  readonly signature: string;
  call(...args: unknown[]): Promise<any>;
}

/** Symbol under which a decoded plain object keeps its struct name (non-enumerable). */
export declare const STRUCT_NAME: unique symbol;
export declare function struct<T extends object>(name: string, fields: T): T;

// ---- codec -------------------------------------------------------------------------------------

export declare const DEFAULT_MAX_DEPTH: number;
export declare const DEFAULT_MAX_FRAME_BYTES: number;
export declare const PROTO_PATH: string;
export declare const SERVICE_PROTO_PATH: string;

export interface EncodeOptions {
  /** Declared type text ("list<i8>") or parsed Type: picks widths, map vs struct, ndarray dtype. */
  type?: string | Type;
  maxDepth?: number;
}
export interface DecodeOptions {
  /** Keep every number as a Scalar and every ndarray as an NdArray (lossless). */
  exact?: boolean;
  maxDepth?: number;
}
export declare function encodeValue(value: unknown, options?: EncodeOptions): Uint8Array;
export declare function decodeValue(bytes: Uint8Array, options?: DecodeOptions): any;

export declare class Outgoing {
  constructor(value: unknown, type?: Type, path?: string);
}
export declare class Incoming {
  readonly value: any;
  readonly error: PolyCallError | undefined;
}
export declare function encodeFrame(frame: object, maxFrameBytes?: number): Uint8Array;
export declare function decodeFrame(body: Uint8Array, options?: DecodeOptions): any;

/** Splits a byte stream into frame bodies; copes with 1-byte chunks. */
export declare class FrameReader {
  constructor(maxFrameBytes?: number);
  maxFrameBytes: number;
  push(chunk: Uint8Array): Buffer[];
  /** Throws INVALID_ARGUMENT when the stream ended inside a frame. */
  end(): void;
  readonly pendingBytes: number;
}

// ---- signatures and functions --------------------------------------------------------------------

export type Type =
  | { kind: 'scalar'; name: string }
  | { kind: 'list'; element: Type }
  | { kind: 'map'; key: Type; value: Type }
  | { kind: 'optional'; inner: Type }
  | { kind: 'struct'; name: string; fields: Array<{ name: string; type: Type }> }
  | { kind: 'ndarray'; dtype: DType; shape: number[] | null }
  | { kind: 'handle'; handleKind: string }
  | { kind: 'fn'; params: Type[]; result: Type };
export interface Signature {
  name: string;
  params: Array<{ name: string; type: Type }>;
  result: Type;
  text: string;
}
export declare function parseSignature(text: string): Signature;
export declare function parseType(text: string): Type;

export interface CallContext {
  /** Aborted on Cancel or when the deadline passes. */
  signal: AbortSignal;
  metadata: Record<string, string>;
  deadline: number | undefined;
  function: string;
  connection: Connection;
}

export interface FunctionOptions {
  tags?: string[];
  doc?: string;
  version?: number;
}
export interface FunctionDef {
  readonly name: string;
  readonly signature: string;
  readonly parsed: Signature;
  readonly version: number;
  readonly tags: readonly string[];
  readonly doc: string;
  readonly implementation: (...args: any[]) => unknown;
}
export declare const FUNCTION_DEF: unique symbol;
export type PolyCallFunction<F extends (...args: any[]) => unknown> = F & { readonly [FUNCTION_DEF]: FunctionDef };

/** `fn('math.hypot(x: f64, y: f64) -> f64', (x, y) => Math.hypot(x, y))` */
export declare function fn<F extends (...args: any[]) => unknown>(
  signature: string,
  implementation: F,
  options?: FunctionOptions,
): PolyCallFunction<F>;
/** `defineFunction({name: 'stats.mean', signature: '(xs: ndarray<f64>) -> f64'}, impl)`; also exported as `function`. */
export declare function defineFunction<F extends (...args: any[]) => unknown>(
  spec: { name: string; signature: string } & FunctionOptions,
  implementation: F,
): PolyCallFunction<F>;
export { defineFunction as function };
export declare function functionDefOf(value: unknown): FunctionDef | undefined;

// ---- connections -------------------------------------------------------------------------------

export declare const SDK_VERSION: string;
export declare const PROTOCOL_VERSION: number;

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  metadata?: Record<string, string>;
}

/** Calls a node function from inside a running PolyCall function (same connection). */
export declare function call(name: string, ...args: unknown[]): Promise<any>;
/** The context of the PolyCall function running now, if any. */
export declare function currentCall(): CallContext | undefined;

export declare class Connection extends EventEmitter {
  constructor(socket: Socket, options?: { functions?: Map<string, FunctionDef>; log?: (msg: string) => void });
  readonly closed: boolean;
  readonly limits: { maxFrameBytes: number; maxDepth: number; maxInFlight: number };
  handshake(who: { role: 'WORKER' | 'CLIENT'; workerId?: string; secret?: Uint8Array }): Promise<object>;
  call(name: string, args: unknown[], options?: CallOptions): Promise<any>;
  drain(): Promise<void>;
  close(): Promise<void>;
}

export declare class Client extends EventEmitter {
  readonly closed: boolean;
  /** The node's id (from the socket's Welcome or gRPC's ListFunctions; '' over HTTP). */
  readonly nodeId: string;
  call(name: string, ...args: unknown[]): Promise<any>;
  invoke(name: string, args?: unknown[], options?: CallOptions): Promise<any>;
  withOptions(options: CallOptions): Client;
  functions(glob?: string): Promise<Array<{ name: string; signature: string; version: number; tags: string[]; doc: string }>>;
  /** Idempotent; calls in flight fail with UNAVAILABLE. */
  close(): Promise<void>;
}
/** A PEM certificate or key: its text, its bytes, or the path of a file holding it. */
export type PemSource = string | Uint8Array;

export interface ConnectOptions extends Omit<CallOptions, 'signal'> {
  /** Aborts connecting. */
  signal?: AbortSignal;
  log?: (msg: string) => void;
  /** Remote nodes: sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** grpcs:// and https://: the CA the node's certificate must chain to (default: the system's). */
  ca?: PemSource;
  /** grpcs:// and https://: this client's certificate and key (mutual TLS); both or neither. */
  cert?: PemSource;
  key?: PemSource;
  /** Alias of timeoutMs: the default deadline of each call, in ms. */
  timeout?: number;
  /** Bound on connecting to a remote node, in ms (default 30000). */
  connectTimeoutMs?: number;
}

/**
 * Connects to a node: its client socket (a path or `unix:///path`), or a remote node at
 * `grpc://host:port`, `grpcs://host[:port]`, `http://host[:port]` or `https://host[:port][/prefix]`.
 * The same Client, calls and errors whatever the transport.
 */
export declare function connect(target: string, options?: ConnectOptions): Promise<Client>;

// ---- worker ------------------------------------------------------------------------------------

export interface WorkerOptions {
  modules: string[];
  socketPath: string;
  workerId: string;
  secretHex: string;
  log?: (msg: string) => void;
}
export declare function workerOptionsFromEnv(modules: string[], env?: NodeJS.ProcessEnv): WorkerOptions;
export declare function loadFunctions(modules: string[]): Promise<Map<string, FunctionDef>>;
export declare function runWorker(options: WorkerOptions): Promise<void>;
