// PolyCall Node SDK: public API. See README.md for examples.

export {
  Code,
  codeName,
  PolyCallError,
  CancelledError,
  UnknownError,
  InvalidArgumentError,
  DeadlineExceededError,
  NotFoundError,
  AlreadyExistsError,
  PermissionDeniedError,
  ResourceExhaustedError,
  FailedPreconditionError,
  AbortedError,
  OutOfRangeError,
  UnimplementedError,
  InternalError,
  UnavailableError,
  DataLossError,
  UnauthenticatedError,
  parseStack,
  toStatus,
  fromStatus,
} from './errors.js';
export {
  Scalar,
  NdArray,
  Handle,
  FnRef,
  STRUCT_NAME,
  struct,
  ndarray,
  i8,
  i16,
  i32,
  i64,
  u8,
  u16,
  u32,
  u64,
  f32,
  f64,
} from './values.js';
export {
  encodeValue,
  decodeValue,
  encodeFrame,
  decodeFrame,
  FrameReader,
  Outgoing,
  Incoming,
  PROTO_PATH,
  SERVICE_PROTO_PATH,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_FRAME_BYTES,
} from './codec.js';
export { parseSignature, parseType } from './signature.js';
export { fn, defineFunction, defineFunction as function, functionDefOf, FUNCTION_DEF } from './function.js';
export { call, currentCall, Connection, SDK_VERSION, PROTOCOL_VERSION } from './connection.js';
export { connect, Client } from './client.js';
export { runWorker, workerOptionsFromEnv, loadFunctions } from './worker.js';
