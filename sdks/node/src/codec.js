// The wire codec: JS values <-> polycall.v1.Value (hand-written, so that ndarrays and bytes move
// as blocks and decode checks depth, widths and UTF-8 before anything uses a value), and whole
// Frames through protobufjs with the shipped copy of spec/polycall.proto.
//
// Encoding rules (JS -> Value), when no declared type says otherwise:
//   null, undefined        -> null
//   boolean                -> bool
//   number                 -> i64 if a safe integer (and not -0), else f64
//   bigint                 -> i64 if it fits, else u64 if it fits, else OUT_OF_RANGE
//   Scalar (i8(5), ...)    -> that type and width
//   string                 -> string (lone surrogates are INVALID_ARGUMENT)
//   Uint8Array, Buffer     -> bytes (ArrayBuffer and DataView too)
//   other TypedArrays      -> 1-D ndarray of the matching dtype, one block
//   NdArray                -> ndarray
//   Array                  -> list
//   Map                    -> map (keys are values too)
//   plain object           -> struct, fields in key order, named by obj[STRUCT_NAME] if set
//   Handle, FnRef          -> handle, fn
// A declared type (a function's result type) picks widths (f64 result 2 -> float 2.0), turns a
// plain object into a map for map<string, V>, and a plain Array into an ndarray for ndarray<T>.
//
// Decoding rules (Value -> JS), "natural" mode:
//   int/uint of 8..32 bits -> number; 64 bits -> number when safe, else bigint; float -> number
//   bytes -> Buffer (a view of the frame); struct -> plain object (+ STRUCT_NAME when named)
//   map -> Map; list -> Array; 1-D ndarray (not u8/bool) -> TypedArray; other ndarray -> NdArray
// "exact" mode ({exact: true}) keeps every int/uint/float as a Scalar and every ndarray as an
// NdArray, so that encode(decode(bytes, {exact: true})) gives the same bytes back.

import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { endianness } from 'node:os';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { parseType } from './signature.js';
import { Code, InvalidArgumentError, OutOfRangeError, PolyCallError } from './errors.js';
import {
  FnRef,
  Handle,
  NdArray,
  SCALARS,
  STRUCT_NAME,
  Scalar,
  checkInt,
  dtypeOf,
  intRange,
  isIntType,
  isPlainObject,
  typedArrayClass,
  viewAs,
} from './values.js';

if (endianness() !== 'LE') throw new Error('polycall: ndarray blocks assume a little-endian host');

/** Defaults from WIRE.md "Limits". */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 32;

/** Path of the .proto shipped in this package (a copy of spec/polycall.proto, kept equal by a test). */
export const PROTO_PATH = fileURLToPath(new URL('../proto/polycall.proto', import.meta.url));

/** Path of the shipped copy of spec/service.proto (the gRPC service), kept equal by a test. */
export const SERVICE_PROTO_PATH = fileURLToPath(new URL('../proto/service.proto', import.meta.url));

const root = protobuf.parse(readFileSync(PROTO_PATH, 'utf8'), { keepCase: false }).root;
// service.proto's `import "polycall.proto"` is the file parsed just above: same root, no loader.
// Parsed before ValueType's codec is replaced below, so that nothing set up later undoes it.
protobuf.parse(readFileSync(SERVICE_PROTO_PATH, 'utf8'), root, { keepCase: false });
const FrameType = root.lookupType('polycall.v1.Frame');
const ValueType = root.lookupType('polycall.v1.Value');

const SCALAR_NUMBER = Object.fromEntries(SCALARS.map((s, i) => [s, i]).filter(([s]) => s));

// ---- encoding ------------------------------------------------------------------------------

/** A value to encode with an optional declared type; what frames carry in Value positions. */
export class Outgoing {
  /**
   * @param {unknown} value
   * @param {import('./signature.js').Type} [type]
   * @param {string} [path] where the value sits, for error messages ("args[1]")
   */
  constructor(value, type, path = 'value') {
    this.value = value;
    this.type = type;
    this.path = path;
  }
}

const ANY = { kind: 'scalar', name: 'any' };

function fail(path, msg) {
  return new InvalidArgumentError(`${path}: ${msg}`);
}

function longBits(big) {
  const u = BigInt.asUintN(64, big);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: true };
}

function writeInt(w, type, v, path) {
  try {
    checkInt(type, v);
  } catch (e) {
    e.message = `${path}: ${e.message}`;
    throw e;
  }
  const big = BigInt(v);
  if (type[0] === 'i') w.uint32(24).sint64(longBits(big));
  else w.uint32(32).uint64(longBits(big));
  if (type !== 'i64' && type !== 'u64') w.uint32(112).uint32(SCALAR_NUMBER[type]);
}

function writeFloat(w, type, v, path) {
  if (typeof v !== 'number') throw fail(path, `${type} needs a number, got ${typeof v}`);
  if (type === 'f32' && Number.isFinite(v) && !Number.isFinite(Math.fround(v))) throw fail(path, `${v} does not fit in f32`);
  w.uint32(41).double(v);
  if (type === 'f32') w.uint32(112).uint32(SCALAR_NUMBER.f32);
}

function writeString(w, field, s, path) {
  if (!s.isWellFormed()) throw fail(path, 'string holds a lone UTF-16 surrogate (not encodable as UTF-8)');
  w.uint32(field).string(s);
}

function bytesOf(view) {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Writes the fields of one Value (no tag or length of its own) for `v` declared as `type`.
 * @param {protobuf.Writer} w
 */
function writeValue(w, v, type, path, depth, maxDepth) {
  if (type.kind === 'optional') {
    if (v === null || v === undefined) return void w.uint32(8).int32(0);
    type = type.inner;
  }
  if (v instanceof Scalar) {
    if (isIntType(v.type)) return writeInt(w, v.type, v.value, path);
    return writeFloat(w, v.type, v.value, path);
  }
  const declared = type.kind === 'scalar' ? type.name : type.kind;
  if (v === null || v === undefined) return void w.uint32(8).int32(0);
  switch (typeof v) {
    case 'boolean':
      return void w.uint32(16).bool(v);
    case 'number':
      if (isIntType(declared)) {
        if (!Number.isInteger(v)) throw fail(path, `${declared} needs an integer, got ${v}`);
        return writeInt(w, declared, v, path);
      }
      if (declared === 'f32' || declared === 'f64') return writeFloat(w, declared, v, path);
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) return writeInt(w, 'i64', v, path);
      return writeFloat(w, 'f64', v, path);
    case 'bigint':
      if (isIntType(declared)) return writeInt(w, declared, v, path);
      if (declared === 'f32' || declared === 'f64') return writeFloat(w, declared, Number(v), path);
      if (v < intRange('i64')[0] || v > intRange('u64')[1]) {
        throw new OutOfRangeError(`${path}: ${v} does not fit in 64 bits (neither i64 nor u64)`);
      }
      return writeInt(w, v <= intRange('i64')[1] ? 'i64' : 'u64', v, path);
    case 'string':
      return writeString(w, 50, v, path);
    case 'function':
      throw fail(path, 'a JS function cannot be sent; pass an FnRef naming a registered function');
    case 'symbol':
      throw fail(path, 'a symbol cannot be sent');
  }
  if (v instanceof Uint8Array && !(type.kind === 'ndarray')) return void w.uint32(58).bytes(v);
  if (v instanceof ArrayBuffer) return void w.uint32(58).bytes(new Uint8Array(v));
  if (v instanceof DataView) return void w.uint32(58).bytes(bytesOf(v));
  if (ArrayBuffer.isView(v)) {
    const dtype = type.kind === 'ndarray' ? type.dtype : dtypeOf(v);
    return writeNdArray(w, new NdArray(dtype, [v.length], v));
  }
  if (v instanceof NdArray) return writeNdArray(w, v);
  if (v instanceof Handle) {
    w.uint32(98).fork();
    if (v.kind) writeString(w, 10, v.kind, path);
    if (v.id) w.uint32(16).uint64(longBits(v.id));
    if (v.generation) w.uint32(24).uint32(v.generation);
    return void w.ldelim();
  }
  if (v instanceof FnRef) {
    w.uint32(106).fork();
    if (v.name) writeString(w, 10, v.name, path);
    if (v.signature) writeString(w, 18, v.signature, path);
    return void w.ldelim();
  }
  if (depth >= maxDepth) throw fail(path, `nesting deeper than ${maxDepth} (a cycle?)`);
  if (Array.isArray(v)) {
    if (type.kind === 'ndarray') {
      const Cls = typedArrayClass(type.dtype);
      const data = Cls.from(v, type.dtype === 'i64' || type.dtype === 'u64' ? BigInt : Number);
      return writeNdArray(w, new NdArray(type.dtype, [v.length], data));
    }
    const el = type.kind === 'list' ? type.element : ANY;
    w.uint32(66).fork();
    for (let i = 0; i < v.length; i++) {
      w.uint32(10).fork();
      writeValue(w, v[i], el, `${path}[${i}]`, depth + 1, maxDepth);
      w.ldelim();
    }
    return void w.ldelim();
  }
  if (v instanceof Map || (isPlainObject(v) && type.kind === 'map')) {
    const entries = v instanceof Map ? v.entries() : Object.entries(v);
    const kt = type.kind === 'map' ? type.key : ANY;
    const vt = type.kind === 'map' ? type.value : ANY;
    w.uint32(74).fork();
    for (const [k, val] of entries) {
      w.uint32(10).fork();
      w.uint32(10).fork();
      writeValue(w, k, kt, `${path}.key(${String(k)})`, depth + 1, maxDepth);
      w.ldelim();
      w.uint32(18).fork();
      writeValue(w, val, vt, `${path}[${String(k)}]`, depth + 1, maxDepth);
      w.ldelim();
      w.ldelim();
    }
    return void w.ldelim();
  }
  if (isPlainObject(v)) {
    const name = v[STRUCT_NAME] ?? (type.kind === 'struct' ? type.name : '');
    const declaredFields = type.kind === 'struct' ? new Map(type.fields.map((f) => [f.name, f.type])) : null;
    w.uint32(82).fork();
    if (name) writeString(w, 10, name, path);
    // Declared structs go in declaration order (the hub matches fields by name either way).
    const keys = declaredFields ? [...declaredFields.keys()].filter((k) => Object.hasOwn(v, k)) : Object.keys(v);
    for (const k of keys) {
      w.uint32(18).fork();
      writeString(w, 10, k, path);
      w.uint32(18).fork();
      writeValue(w, v[k], declaredFields?.get(k) ?? ANY, `${path}.${k}`, depth + 1, maxDepth);
      w.ldelim();
      w.ldelim();
    }
    return void w.ldelim();
  }
  throw fail(path, `cannot send a ${v?.constructor?.name ?? typeof v} (no PolyCall type for it)`);
}

function writeNdArray(w, arr) {
  w.uint32(90).fork();
  w.uint32(8).uint32(SCALAR_NUMBER[arr.dtype]);
  if (arr.shape.length) {
    w.uint32(18).fork();
    for (const d of arr.shape) w.uint64(d);
    w.ldelim();
  }
  if (arr.data.byteLength) w.uint32(26).bytes(bytesOf(arr.data));
  w.ldelim();
}

// ---- a big ndarray result: the frame around the block, the block apart ----------------------

/** Blocks at least this big are written apart from their frame (ndarrayResultParts). */
export const BIG_BLOCK_BYTES = 64 * 1024;

function varintBytes(n) {
  let v = BigInt(n);
  const out = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/**
 * The length-prefixed Frame{result{call_id, value: ndarray}} for an ndarray result, as [head,
 * block]: the bytes encodeFrame() gives (tests compare them), the block a view of the array's
 * own memory, so that an 8 MB array is not copied into one joined buffer before the socket
 * writes it. null when the value is not a TypedArray or NdArray sent as an ndarray (a
 * Uint8Array sent as bytes, say), its block is under BIG_BLOCK_BYTES (unless `minBlockBytes`
 * says otherwise), or the frame is over `maxFrameBytes`: the caller then encodes the frame
 * whole, which also reports any error.
 * @param {bigint} callId
 * @param {Outgoing} outgoing
 * @returns {Uint8Array[] | null}
 */
export function ndarrayResultParts(callId, outgoing, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES, minBlockBytes = BIG_BLOCK_BYTES) {
  const v = outgoing.value;
  const type = outgoing.type ?? ANY;
  if (!(type.kind === 'ndarray' || (type.kind === 'scalar' && type.name === 'any'))) return null;
  let arr;
  try {
    if (v instanceof NdArray) arr = v;
    else if (ArrayBuffer.isView(v) && !(v instanceof DataView) && (type.kind === 'ndarray' || !(v instanceof Uint8Array))) {
      // As writeValue does it.
      arr = new NdArray(type.kind === 'ndarray' ? type.dtype : dtypeOf(v), [v.length], v);
    } else return null;
  } catch {
    return null;
  }
  if (type.kind === 'ndarray' && arr.dtype !== type.dtype) return null; // the generic path says why
  const block = bytesOf(arr.data);
  const n = block.byteLength;
  if (n < minBlockBytes) return null;
  const nd = [0x08, ...varintBytes(SCALAR_NUMBER[arr.dtype])];
  if (arr.shape.length) {
    const packed = arr.shape.flatMap((d) => varintBytes(d));
    nd.push(0x12, ...varintBytes(packed.length), ...packed);
  }
  if (n) nd.push(0x1a, ...varintBytes(n));
  const value = [0x5a, ...varintBytes(nd.length + n), ...nd]; // Value.ndarray_value: field 11
  const r = [...(callId ? [0x08, ...varintBytes(callId)] : []), 0x12, ...varintBytes(value.length + n), ...value];
  const frame = [0x2a, ...varintBytes(r.length + n), ...r]; // Frame.result: field 5
  const length = frame.length + n;
  if (length > maxFrameBytes) return null;
  const head = Buffer.allocUnsafe(4 + frame.length);
  head.writeUInt32BE(length, 0);
  head.set(frame, 4);
  return n ? [head, Buffer.from(block.buffer, block.byteOffset, n)] : [head];
}

// ---- decoding ------------------------------------------------------------------------------

class Cursor {
  constructor(buf, pos, end) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  truncated() {
    return new InvalidArgumentError('truncated Value message');
  }

  /** A varint as a 64-bit bigint (unsigned). */
  varint64() {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw this.truncated();
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new InvalidArgumentError('malformed varint in Value');
  }

  /** A varint that must fit 32 bits (tags, lengths, enums); fast path. */
  varint32() {
    let result = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw this.truncated();
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) return result;
    }
    // Longer varints (negative int32 enums): read the rest and keep the low 32 bits.
    return Number(BigInt.asUintN(32, BigInt(result) | (this.rest64() << 35n)));
  }

  rest64() {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw this.truncated();
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
    throw new InvalidArgumentError('malformed varint in Value');
  }

  /** [start, end) of a length-delimited field. */
  delimited() {
    const len = this.varint32();
    const start = this.pos;
    if (len > this.end - start) throw this.truncated();
    this.pos = start + len;
    return [start, start + len];
  }

  skip(wireType) {
    switch (wireType) {
      case 0:
        this.varint64();
        return;
      case 1:
        if (this.end - this.pos < 8) throw this.truncated();
        this.pos += 8;
        return;
      case 2:
        this.delimited();
        return;
      case 5:
        if (this.end - this.pos < 4) throw this.truncated();
        this.pos += 4;
        return;
      default:
        throw new InvalidArgumentError(`unsupported wire type ${wireType} in Value`);
    }
  }

  string(start, end, what) {
    const bytes = this.buf.subarray(start, end);
    if (!isUtf8(bytes)) throw new InvalidArgumentError(`${what} is not valid UTF-8`);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }
}

/**
 * @typedef {{exact?: boolean, maxDepth?: number, via?: {call(name: string, args: unknown[]): Promise<unknown>}}} DecodeOptions
 */

// Messages nest Values; each nested Value is decoded at depth + 1 of its list/map/struct.
function readValue(c, end, depth, opts) {
  const saveEnd = c.end;
  c.end = end;
  let kind = 0;
  let raw; // the kind's payload: a number/bigint/bool, or [start, end) for messages
  let width = 0;
  while (c.pos < end) {
    const tag = c.varint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field >= 1 && field <= 13 && wt === (field <= 4 ? 0 : field === 5 ? 1 : 2)) {
      kind = field;
      if (field === 1 || field === 2) raw = c.varint32();
      else if (field === 3 || field === 4) raw = c.varint64();
      else if (field === 5) {
        if (end - c.pos < 8) throw c.truncated();
        raw = c.buf.readDoubleLE(c.pos);
        c.pos += 8;
      } else raw = c.delimited();
    } else if (field === 14 && wt === 0) {
      width = c.varint32();
    } else {
      c.skip(wt);
    }
  }
  c.end = saveEnd;
  if (kind === 0) throw new InvalidArgumentError('Value has no kind set (or a kind this version does not know)');
  const widthName = width < SCALARS.length ? SCALARS[width] : undefined;
  if (widthName === undefined) throw new InvalidArgumentError(`unknown width ${width}`);
  const numeric = kind === 3 || kind === 4 || kind === 5;
  if (width !== 0 && !numeric) {
    throw new InvalidArgumentError(`width ${widthName.toUpperCase()} on a ${KIND_NAMES[kind]}`);
  }
  switch (kind) {
    case 1:
      if (raw !== 0) throw new InvalidArgumentError(`null_value ${raw} is not NULL_VALUE`);
      return null;
    case 2:
      return raw !== 0;
    case 3:
    case 4: {
      const signed = kind === 3;
      const type = widthName || (signed ? 'i64' : 'u64');
      if (!isIntType(type) || (type[0] === 'i') !== signed) {
        throw new InvalidArgumentError(`width ${type.toUpperCase()} on an ${signed ? 'int_value' : 'uint_value'}`);
      }
      // zig-zag for sint64
      const v = signed ? (raw >> 1n) ^ -(raw & 1n) : raw;
      const [min, max] = intRange(type);
      if (v < min || v > max) throw new InvalidArgumentError(`${v} is outside ${type}`);
      if (opts.exact) return new Scalar(type, v);
      if (type === 'i64' || type === 'u64') {
        return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
      }
      return Number(v);
    }
    case 5: {
      const type = widthName || 'f64';
      if (type !== 'f32' && type !== 'f64') throw new InvalidArgumentError(`width ${type.toUpperCase()} on a float_value`);
      let v = raw;
      if (type === 'f32' && !Number.isNaN(raw)) {
        // As the hub does: round to the nearest f32; a finite value that rounds to infinity is refused.
        v = Math.fround(raw);
        if (!Number.isFinite(v) && Number.isFinite(raw)) throw new InvalidArgumentError(`${raw} does not fit in f32`);
      }
      return opts.exact ? new Scalar(type, v) : v;
    }
    case 6:
      return c.string(raw[0], raw[1], 'string_value');
    case 7: {
      const b = c.buf.subarray(raw[0], raw[1]);
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    }
    case 8:
    case 9:
    case 10:
      if (depth + 1 > opts.maxDepth) {
        throw new InvalidArgumentError(`values nest deeper than the limit of ${opts.maxDepth}`);
      }
      if (kind === 8) return readList(c, raw, depth + 1, opts);
      if (kind === 9) return readMap(c, raw, depth + 1, opts);
      return readStruct(c, raw, depth + 1, opts);
    case 11:
      return readNdArray(c, raw, opts);
    case 12:
      return readHandle(c, raw);
    case 13:
      return readFnRef(c, raw, opts);
  }
  throw new Error('unreachable');
}

const KIND_NAMES = [
  '', 'null_value', 'bool_value', 'int_value', 'uint_value', 'float_value', 'string_value', 'bytes_value',
  'list_value', 'map_value', 'struct_value', 'ndarray_value', 'handle_value', 'fn_value',
];

// Walks the fields of a sub-message in [start, end), calling onField(field, wireType) which
// must consume the field (or return false to have it skipped).
function fields(c, [start, end], onField) {
  const saveEnd = c.end;
  c.pos = start;
  c.end = end;
  while (c.pos < end) {
    const tag = c.varint32();
    if (!onField(tag >>> 3, tag & 7)) c.skip(tag & 7);
  }
  c.end = saveEnd;
  c.pos = end;
}

function readNested(c, depth, opts) {
  const [s, e] = c.delimited();
  const after = c.pos;
  c.pos = s;
  const v = readValue(c, e, depth, opts);
  c.pos = after;
  return v;
}

function readList(c, range, depth, opts) {
  const items = [];
  fields(c, range, (f, wt) => {
    if (f !== 1 || wt !== 2) return false;
    items.push(readNested(c, depth, opts));
    return true;
  });
  return items;
}

function readMap(c, range, depth, opts) {
  const map = new Map();
  const seen = new Set();
  let count = 0;
  fields(c, range, (f, wt) => {
    if (f !== 1 || wt !== 2) return false;
    let key;
    let value;
    let keyBytes;
    let hasKey = false;
    let hasValue = false;
    fields(c, c.delimited(), (ef, ewt) => {
      if (ewt !== 2 || (ef !== 1 && ef !== 2)) return false;
      if (ef === 1) {
        const [s, e] = c.delimited();
        keyBytes = Buffer.from(c.buf.buffer, c.buf.byteOffset + s, e - s).toString('latin1');
        c.pos = s;
        key = readValue(c, e, depth, opts);
        c.pos = e;
        hasKey = true;
      } else {
        value = readNested(c, depth, opts);
        hasValue = true;
      }
      return true;
    });
    if (!hasKey || !hasValue) throw new InvalidArgumentError(`map entry ${count} has no ${hasKey ? 'value' : 'key'}`);
    if (seen.has(keyBytes)) throw new InvalidArgumentError(`duplicate map key ${String(key)}`);
    seen.add(keyBytes);
    map.set(key, value);
    count++;
    if (map.size !== count) throw new InvalidArgumentError(`duplicate map key ${String(key)}`);
    return true;
  });
  return map;
}

function readStruct(c, range, depth, opts) {
  const obj = {};
  let name = '';
  fields(c, range, (f, wt) => {
    if (wt !== 2) return false;
    if (f === 1) {
      const [s, e] = c.delimited();
      name = c.string(s, e, 'struct name');
      return true;
    }
    if (f !== 2) return false;
    let fname = '';
    let value;
    let hasValue = false;
    fields(c, c.delimited(), (ff, fwt) => {
      if (fwt !== 2) return false;
      if (ff === 1) {
        const [s, e] = c.delimited();
        fname = c.string(s, e, 'struct field name');
      } else if (ff === 2) {
        value = readNested(c, depth, opts);
        hasValue = true;
      } else return false;
      return true;
    });
    if (!hasValue) throw new InvalidArgumentError(`struct field '${fname}' has no value`);
    if (Object.hasOwn(obj, fname)) throw new InvalidArgumentError(`duplicate struct field '${fname}'`);
    // defineProperty: a field named "__proto__" must stay a field, not become the prototype.
    Object.defineProperty(obj, fname, { value, enumerable: true, writable: true, configurable: true });
    return true;
  });
  if (name) Object.defineProperty(obj, STRUCT_NAME, { value: name, enumerable: false });
  return obj;
}

function readNdArray(c, range, opts) {
  let dtype = 0;
  const shape = [];
  let data = [0, 0];
  fields(c, range, (f, wt) => {
    if (f === 1 && wt === 0) dtype = c.varint32();
    else if (f === 2 && wt === 0) shape.push(c.varint64());
    else if (f === 2 && wt === 2) {
      // packed repeated uint64 (proto3's default); unpacked is accepted above, as protobuf does
      const [s, e] = c.delimited();
      const saveEnd = c.end;
      c.pos = s;
      c.end = e;
      while (c.pos < e) shape.push(c.varint64());
      c.end = saveEnd;
      c.pos = e;
    } else if (f === 3 && wt === 2) data = c.delimited();
    else return false;
    return true;
  });
  const name = dtype >= 1 && dtype < SCALARS.length ? SCALARS[dtype] : undefined;
  if (!name) throw new InvalidArgumentError(`ndarray dtype ${dtype} is not a dtype`);
  const Cls = typedArrayClass(name);
  const count = shape.reduce((a, b) => a * b, 1n);
  const byteLength = data[1] - data[0];
  if (count * BigInt(Cls.BYTES_PER_ELEMENT) !== BigInt(byteLength)) {
    throw new InvalidArgumentError(
      `ndarray<${name}> of shape [${shape.join(', ')}] needs ${count * BigInt(Cls.BYTES_PER_ELEMENT)} bytes, has ${byteLength}`,
    );
  }
  const bytes = c.buf.subarray(data[0], data[1]);
  if (name === 'bool' && bytes.some((b) => b > 1)) throw new InvalidArgumentError('ndarray<bool> holds a byte other than 0 or 1');
  const arr = viewAs(Cls, bytes);
  const dims = shape.map(Number);
  if (!opts.exact && dims.length === 1 && name !== 'u8' && name !== 'bool') return arr;
  return new NdArray(name, dims, arr);
}

function readHandle(c, range) {
  let kind = '';
  let id = 0n;
  let generation = 0;
  fields(c, range, (f, wt) => {
    if (f === 1 && wt === 2) {
      const [s, e] = c.delimited();
      kind = c.string(s, e, 'handle kind');
    } else if (f === 2 && wt === 0) id = c.varint64();
    else if (f === 3 && wt === 0) generation = Number(BigInt.asUintN(32, c.varint64()));
    else return false;
    return true;
  });
  return new Handle(kind, id, generation);
}

function readFnRef(c, range, opts) {
  let name = '';
  let signature = '';
  fields(c, range, (f, wt) => {
    if (wt !== 2 || (f !== 1 && f !== 2)) return false;
    const [s, e] = c.delimited();
    if (f === 1) name = c.string(s, e, 'fn name');
    else signature = c.string(s, e, 'fn signature');
    return true;
  });
  return new FnRef(name, signature, opts.via);
}

// ---- public value API ----------------------------------------------------------------------

/**
 * Encodes one JS value as the bytes of a polycall.v1.Value message.
 * @param {unknown} value
 * @param {{type?: string | import('./signature.js').Type, maxDepth?: number}} [options]
 * @returns {Uint8Array}
 * @throws {PolyCallError} INVALID_ARGUMENT (no PolyCall type, bad width) or OUT_OF_RANGE (beyond 64 bits)
 */
export function encodeValue(value, options = {}) {
  const w = protobuf.Writer.create();
  writeValue(w, value, toType(options.type), 'value', 0, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  return w.finish();
}

/**
 * Decodes the bytes of a polycall.v1.Value message.
 * @param {Uint8Array} bytes
 * @param {DecodeOptions} [options]
 * @throws {PolyCallError} INVALID_ARGUMENT for anything WIRE.md refuses
 */
export function decodeValue(bytes, options = {}) {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const opts = { exact: !!options.exact, maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH, via: options.via };
  const c = new Cursor(buf, 0, buf.length);
  return readValue(c, buf.length, 0, opts);
}

function toType(t) {
  if (!t) return ANY;
  return typeof t === 'string' ? parseType(t) : t;
}

// ---- frames --------------------------------------------------------------------------------

/** What a Value position in a decoded frame holds: the value, or why it was refused. */
export class Incoming {
  constructor(value, error) {
    this.value = value;
    this.error = error;
  }
}

let frameDecodeOptions = { exact: false, maxDepth: DEFAULT_MAX_DEPTH, via: undefined };

// protobufjs calls these for every Value inside a Frame. Decoding never throws for a bad value:
// the value's own error travels in Incoming so only that call fails (WIRE.md "Limits").
ValueType.setup();
ValueType.encode = function encodeValueField(m, w) {
  w ??= protobuf.Writer.create();
  const out = m instanceof Outgoing ? m : new Outgoing(m);
  writeValue(w, out.value, toType(out.type), out.path, 0, frameDecodeOptions.maxDepth);
  return w;
};
ValueType.decode = function decodeValueField(r, l) {
  const start = r.pos;
  const end = l === undefined ? r.len : start + l;
  if (end > r.len) throw new RangeError('index out of range');
  r.pos = end;
  const buf = Buffer.isBuffer(r.buf) ? r.buf : Buffer.from(r.buf.buffer, r.buf.byteOffset, r.buf.byteLength);
  try {
    const c = new Cursor(buf, start, end);
    return new Incoming(readValue(c, end, 0, frameDecodeOptions), undefined);
  } catch (e) {
    if (e instanceof PolyCallError) return new Incoming(undefined, e);
    throw e;
  }
};

/**
 * Encodes a Frame (a plain object in protobufjs's camelCase form, Values as Outgoing) with its
 * 4-byte big-endian length prefix.
 * @returns {Uint8Array}
 * @throws {PolyCallError} when a value cannot be encoded (nothing is sent then)
 */
export function encodeFrame(frame, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
  const w = protobuf.Writer.create();
  w.fixed32(0); // placeholder for the length
  FrameType.encode(frame, w);
  const out = w.finish();
  const length = out.length - 4;
  if (length > maxFrameBytes) {
    throw PolyCallError.of(Code.RESOURCE_EXHAUSTED, `frame of ${length} bytes is over the limit of ${maxFrameBytes}`);
  }
  new DataView(out.buffer, out.byteOffset, 4).setUint32(0, length, false);
  return out;
}

/**
 * Decodes one Frame body (without its length prefix). Values come back as Incoming.
 * @throws {InvalidArgumentError} a protocol error: not a Frame, or a Frame with no body
 */
export function decodeFrame(body, options = {}) {
  const save = frameDecodeOptions;
  frameDecodeOptions = { exact: !!options.exact, maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH, via: options.via };
  let frame;
  try {
    frame = FrameType.decode(body);
  } catch (e) {
    throw new InvalidArgumentError(`frame does not parse as polycall.v1.Frame: ${e.message}`);
  } finally {
    frameDecodeOptions = save;
  }
  if (!frame.body) throw new InvalidArgumentError('frame has no body set');
  return frame;
}

/** The FrameType, for tests that need protobufjs's JSON mapping. */
export { FrameType, ValueType };

/**
 * A message type of polycall.proto or service.proto ("polycall.v1.Call"), for the gRPC client:
 * its Value fields use the same codec as frames (Outgoing in, Incoming out).
 * @param {string} name
 */
export function messageType(name) {
  return root.lookupType(name);
}

/**
 * Encodes one message (no length prefix); Values as Outgoing.
 * @returns {Uint8Array}
 * @throws {PolyCallError} when a value cannot be encoded
 */
export function encodeMessage(type, message) {
  return type.encode(message).finish();
}

/**
 * Decodes one message; its Values come back as Incoming (never throws for a bad value).
 * @param {{exact?: boolean, maxDepth?: number, via?: unknown}} [options]
 * @throws {InvalidArgumentError} when the bytes do not parse as the message
 */
export function decodeMessage(type, bytes, options = {}) {
  const save = frameDecodeOptions;
  frameDecodeOptions = { exact: !!options.exact, maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH, via: options.via };
  try {
    return type.decode(bytes);
  } catch (e) {
    throw new InvalidArgumentError(`bytes do not parse as ${type.fullName.slice(1)}: ${e.message}`);
  } finally {
    frameDecodeOptions = save;
  }
}

/**
 * Splits a byte stream into frame bodies. Copes with frames arriving in many pieces (down to
 * 1 byte) and many frames in one piece; never reads the body of a frame whose length is bad.
 * Not thread-safe (nothing in Node is shared); push() never blocks.
 */
export class FrameReader {
  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
    this.chunks = [];
    this.head = 0; // offset into chunks[0]
    this.buffered = 0;
    this.need = -1; // body length being waited for, or -1 while reading a length
    // pushCopy() only: the length bytes read so far, and the body being filled.
    this.lengthBytes = Buffer.alloc(4);
    this.lengthHave = 0;
    this.body = null;
    this.bodyFilled = 0;
  }

  /**
   * push() for bytes in a buffer the caller reuses (a socket's `onread` buffer): nothing of
   * `view` is kept. Each body is copied once, straight into a buffer of its own (8-aligned from
   * 4 KiB, for ndarray views), which is what push() does for a frame spread over chunks; an 8 MB
   * frame then arrives in a few big reads instead of ~150 fresh 64 KiB chunks and 'data' events.
   * Use either push() or pushCopy() on one reader, not both.
   * @param {Uint8Array} view
   * @returns {Buffer[]} the frame bodies completed by these bytes
   * @throws {InvalidArgumentError} on a length of 0 or over the limit (a protocol error)
   */
  pushCopy(view) {
    const out = [];
    let pos = 0;
    while (pos < view.length) {
      if (this.body === null) {
        const k = Math.min(4 - this.lengthHave, view.length - pos);
        this.lengthBytes.set(view.subarray(pos, pos + k), this.lengthHave);
        this.lengthHave += k;
        pos += k;
        if (this.lengthHave < 4) break;
        this.lengthHave = 0;
        const len = this.lengthBytes.readUInt32BE(0);
        if (len === 0) throw new InvalidArgumentError('frame length 0 is invalid');
        if (len > this.maxFrameBytes) {
          throw new InvalidArgumentError(`frame length ${len} is over the limit of ${this.maxFrameBytes} bytes`);
        }
        this.need = len;
        this.body = len < 4096 ? Buffer.allocUnsafe(len) : Buffer.allocUnsafeSlow(len);
        this.bodyFilled = 0;
      }
      const k = Math.min(this.body.length - this.bodyFilled, view.length - pos);
      this.body.set(view.subarray(pos, pos + k), this.bodyFilled);
      this.bodyFilled += k;
      pos += k;
      if (this.bodyFilled === this.body.length) {
        out.push(this.body);
        this.body = null;
        this.need = -1;
      }
    }
    return out;
  }

  /**
   * @param {Uint8Array} chunk
   * @returns {Buffer[]} the frame bodies completed by this chunk
   * @throws {InvalidArgumentError} on a length of 0 or over the limit (a protocol error)
   */
  push(chunk) {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        const len = this.take(4).readUInt32BE(0);
        if (len === 0) throw new InvalidArgumentError('frame length 0 is invalid');
        if (len > this.maxFrameBytes) {
          throw new InvalidArgumentError(`frame length ${len} is over the limit of ${this.maxFrameBytes} bytes`);
        }
        this.need = len;
      }
      if (this.buffered < this.need) break;
      out.push(this.take(this.need));
      this.need = -1;
    }
    return out;
  }

  /**
   * The stream has ended: a frame cut short is a protocol error (WIRE.md "Framing").
   * @throws {InvalidArgumentError} when bytes of an incomplete frame remain
   */
  end() {
    if (this.body !== null || this.lengthHave > 0) {
      const what = this.body !== null ? `${this.bodyFilled} of ${this.need} body bytes` : `${this.lengthHave} of 4 length bytes`;
      throw new InvalidArgumentError(`stream ended inside a frame (${what})`);
    }
    if (this.buffered > 0 || this.need >= 0) {
      const what = this.need >= 0 ? `${this.buffered} of ${this.need} body bytes` : `${this.buffered} of 4 length bytes`;
      throw new InvalidArgumentError(`stream ended inside a frame (${what})`);
    }
  }

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes() {
    if (this.body !== null || this.lengthHave > 0) return this.lengthHave + (this.body !== null ? 4 + this.bodyFilled : 0);
    return this.buffered + (this.need >= 0 ? 4 : 0);
  }

  take(n) {
    const first = this.chunks[0];
    if (first.length - this.head >= n && (n === 4 || n < 4096)) {
      const b = Buffer.from(first.buffer, first.byteOffset + this.head, n);
      this.advance(n);
      return b;
    }
    // A frame spread over chunks (or a large one): one fresh buffer, 8-aligned for ndarray views.
    const out = n < 4096 ? Buffer.allocUnsafe(n) : Buffer.allocUnsafeSlow(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const k = Math.min(n - filled, c.length - this.head);
      out.set(c.subarray(this.head, this.head + k), filled);
      filled += k;
      this.advance(k);
    }
    return out;
  }

  advance(k) {
    this.head += k;
    this.buffered -= k;
    if (this.head === this.chunks[0].length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
