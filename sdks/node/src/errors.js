// Status codes, the PolyCallError family, and the mapping between JS errors and wire Status.

import { fileURLToPath } from 'node:url';

/** gRPC's canonical codes, with gRPC's numbers. Frozen: these travel on the wire. */
export const Code = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
});

const NAMES = Object.fromEntries(Object.entries(Code).map(([k, v]) => [v, k]));

/** The name of a code number ("NOT_FOUND"), or "CODE_<n>" for a number gRPC does not define. */
export function codeName(code) {
  return NAMES[code] ?? `CODE_${code}`;
}

/**
 * A failed PolyCall operation: a status code, a message and the cross-language stack
 * (`frames`, innermost first). Every error the SDK raises is one of these; subclasses exist per
 * code so callers can `catch (e) { if (e instanceof NotFoundError) ... }`.
 */
export class PolyCallError extends Error {
  /**
   * @param {number} code gRPC code number
   * @param {string} message
   * @param {{frames?: Array<StackFrame>, cause?: unknown}} [options]
   */
  constructor(code, message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.frames = options.frames ?? [];
  }

  get name() {
    return this.constructor === PolyCallError ? 'PolyCallError' : this.constructor.name;
  }

  /** Close names the node proposed ("... did you mean math.add?" of a NOT_FOUND). */
  get suggestions() {
    const m = /did you mean ([^?]+)\?/.exec(this.message);
    return m ? m[1].split(',').map((s) => s.trim()).filter(Boolean) : [];
  }

  /** The code's name, e.g. "INVALID_ARGUMENT". */
  get codeName() {
    return codeName(this.code);
  }

  /**
   * Builds the subclass that matches `code` (NotFoundError for NOT_FOUND, ...).
   * @returns {PolyCallError}
   */
  static of(code, message, options) {
    const Cls = CLASSES[code] ?? PolyCallError;
    return Cls === PolyCallError ? new PolyCallError(code, message, options) : new Cls(message, options);
  }
}

/** @typedef {{language: string, function: string, file: string, line: number}} StackFrame */

const CLASSES = {};
function define(name, code) {
  const cls = {
    [name]: class extends PolyCallError {
      constructor(message, options) {
        super(code, message, options);
      }
    },
  }[name];
  CLASSES[code] = cls;
  return cls;
}

export const CancelledError = define('CancelledError', Code.CANCELLED);
export const UnknownError = define('UnknownError', Code.UNKNOWN);
export const InvalidArgumentError = define('InvalidArgumentError', Code.INVALID_ARGUMENT);
export const DeadlineExceededError = define('DeadlineExceededError', Code.DEADLINE_EXCEEDED);
export const NotFoundError = define('NotFoundError', Code.NOT_FOUND);
export const AlreadyExistsError = define('AlreadyExistsError', Code.ALREADY_EXISTS);
export const PermissionDeniedError = define('PermissionDeniedError', Code.PERMISSION_DENIED);
export const ResourceExhaustedError = define('ResourceExhaustedError', Code.RESOURCE_EXHAUSTED);
export const FailedPreconditionError = define('FailedPreconditionError', Code.FAILED_PRECONDITION);
export const AbortedError = define('AbortedError', Code.ABORTED);
export const OutOfRangeError = define('OutOfRangeError', Code.OUT_OF_RANGE);
export const UnimplementedError = define('UnimplementedError', Code.UNIMPLEMENTED);
export const InternalError = define('InternalError', Code.INTERNAL);
export const UnavailableError = define('UnavailableError', Code.UNAVAILABLE);
export const DataLossError = define('DataLossError', Code.DATA_LOSS);
export const UnauthenticatedError = define('UnauthenticatedError', Code.UNAUTHENTICATED);

const SDK_URL = new URL('.', import.meta.url).href;
const SDK_PATH = fileURLToPath(SDK_URL);

// "    at fnName (file:///x/y.mjs:12:5)" or "    at file:///x/y.mjs:12:5" or "at async fn (...)"
const FRAME_RE = /^\s*at (?:async )?(?:(.*?) \((.*?)(?::(\d+))?(?::\d+)?\)|(.*?)(?::(\d+))?(?::\d+)?)$/;

/**
 * Parses a V8 stack trace into StackFrames, innermost first. Frames inside this SDK and Node's
 * own internals are dropped: the caller wants to see the user's code.
 * @param {string | undefined} stack
 * @returns {StackFrame[]}
 */
export function parseStack(stack) {
  if (!stack) return [];
  const frames = [];
  for (const line of stack.split('\n')) {
    if (!/^\s+at /.test(line)) continue;
    const m = FRAME_RE.exec(line);
    if (!m) continue;
    // "Object.checkInput [as implementation]" -> "checkInput"
    const fn = (m[1] ?? '').replace(/ \[as [^\]]*\]$/, '').replace(/^Object\./, '');
    const file = m[2] ?? m[4] ?? '';
    const lineNo = Number(m[3] ?? m[5] ?? 0) || 0;
    if (
      file.startsWith('node:') ||
      file === 'native' ||
      file.startsWith('eval at ') || // protobufjs's generated codecs
      file.includes('/node_modules/protobufjs/') ||
      file.startsWith(SDK_URL) ||
      file.startsWith(SDK_PATH)
    ) {
      continue;
    }
    frames.push({ language: 'javascript', function: fn || '<anonymous>', file, line: lineNo });
  }
  return frames;
}

/**
 * Maps anything a user function threw to a wire Status: a PolyCallError keeps its code and
 * frames; TypeError and RangeError are INVALID_ARGUMENT; an AbortError from our own signal is
 * CANCELLED; anything else is UNKNOWN. Messages read "TypeError: ..." so the JS class survives.
 * @returns {{code: number, message: string, frames: StackFrame[]}}
 */
export function toStatus(err) {
  if (err instanceof PolyCallError) {
    const own = parseStack(err.stack);
    return { code: err.code, message: err.message, frames: [...own, ...err.frames] };
  }
  if (err instanceof Error) {
    const code = err instanceof TypeError || err instanceof RangeError ? Code.INVALID_ARGUMENT : Code.UNKNOWN;
    return { code, message: repairUtf16(`${err.name}: ${err.message}`), frames: parseStack(err.stack) };
  }
  return { code: Code.UNKNOWN, message: repairUtf16(`thrown: ${safeString(err)}`), frames: [] };
}

/** Builds the PolyCallError for a Status received from the wire. */
export function fromStatus(status) {
  const frames = (status.frames ?? []).map((f) => ({
    language: f.language ?? '',
    function: f.function ?? '',
    file: f.file ?? '',
    line: f.line ?? 0,
  }));
  const err = PolyCallError.of(status.code ?? 0, status.message ?? '', { frames });
  if (frames.length) {
    // Show the remote stack first: it is where the failure happened.
    const remote = frames.map((f) => `    at ${f.function} (${f.language}:${f.file}:${f.line})`).join('\n');
    err.stack = `${err.name}: ${err.message}\n${remote}\n${(err.stack ?? '').split('\n').slice(1).join('\n')}`;
  }
  return err;
}

function safeString(v) {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

// Lone surrogates cannot be encoded as UTF-8; WIRE.md says repair, never send raw.
function repairUtf16(s) {
  return s.toWellFormed ? s.toWellFormed() : s.replace(/[\uD800-\uDFFF]/g, '\uFFFD');
}
