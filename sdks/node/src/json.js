// JS values <-> the JSON of the HTTP gateway (docs/http.md), read with the declared types.
//
// To JSON (arguments):
//   null/undefined -> null; boolean, string, finite number as themselves
//   NaN, Infinity, -Infinity -> "NaN", "Infinity", "-Infinity"
//   bigint (and 64-bit Scalars) -> a number when safe, else its decimal text (the gateway reads both)
//   Scalar (i8(5), f32(x)) -> its value (the node narrows to the declared type)
//   Uint8Array, Buffer, ArrayBuffer, DataView -> {"base64": ...}
//   other TypedArrays, NdArray -> one block {"dtype", "shape", "data": base64, little-endian, C order}
//   Array -> array; Map -> object (non-string keys as their JSON text); plain object -> object
//   Handle -> {"handle", "id", "generation"}; FnRef -> its name
//
// From JSON (results), as the declared result type when known: bytes from base64 (a Buffer),
// floats from their text forms, ndarray blocks as TypedArrays (NdArray for u8, bool and non-1-D:
// the socket's natural form), structs as plain objects named by STRUCT_NAME, maps as Map,
// handles, fn references. Without a type, blocks, handles and {"fn": name} are still recognised.
// JSON numbers are doubles: a 64-bit integer beyond 2^53 loses precision over HTTP (gRPC keeps it).

import { InvalidArgumentError, OutOfRangeError } from './errors.js';
import { FnRef, Handle, NdArray, STRUCT_NAME, Scalar, dtypeOf, isPlainObject, typedArrayClass, viewAs } from './values.js';

const FLOAT_TEXT = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const DTYPES = new Set(['bool', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'f32', 'f64']);
const MAX_DEPTH = 64;

function b64(view) {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

function bigToJson(v) {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    if (v >= 1n << 64n || v < -(1n << 63n)) throw new OutOfRangeError(`${v} does not fit 64 bits`);
    return v.toString();
  }
  return Number(v);
}

/**
 * A JSON-ready tree of `v`.
 * @throws {PolyCallError} INVALID_ARGUMENT for a value JSON cannot carry
 */
export function toJson(v, depth = 0) {
  if (depth > MAX_DEPTH) throw new InvalidArgumentError('value nested too deeply for JSON');
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      if (Number.isNaN(v)) return 'NaN';
      if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
      return v;
    case 'bigint':
      return bigToJson(v);
    default:
  }
  if (v instanceof Scalar) return toJson(v.value, depth);
  if (v instanceof Handle) return { handle: v.kind, id: bigToJson(v.id), generation: v.generation };
  if (v instanceof FnRef) return v.name;
  if (v instanceof NdArray) return { dtype: v.dtype, shape: v.shape, data: b64(v.data) };
  if (v instanceof Uint8Array || v instanceof DataView) return { base64: b64(v) };
  if (v instanceof ArrayBuffer) return { base64: Buffer.from(v).toString('base64') };
  if (ArrayBuffer.isView(v)) {
    const dtype = dtypeOf(v);
    if (!dtype) throw new InvalidArgumentError(`a ${v.constructor.name} has no ndarray dtype`);
    return { dtype, shape: [v.length], data: b64(v) };
  }
  if (Array.isArray(v)) return v.map((x) => toJson(x, depth + 1));
  if (v instanceof Map) {
    const out = {};
    for (const [k, x] of v) out[typeof k === 'string' ? k : JSON.stringify(toJson(k, depth + 1))] = toJson(x, depth + 1);
    return out;
  }
  if (isPlainObject(v)) {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = toJson(x, depth + 1);
    return out;
  }
  throw new InvalidArgumentError(`a ${v?.constructor?.name ?? typeof v} has no PolyCall type`);
}

/**
 * The JS value of a JSON tree, read as the declared type `t` (a parsed type) when given.
 * @param {unknown} node
 * @param {object} [t]
 * @param {{call(name: string, args: unknown[]): Promise<unknown>}} [via] what FnRefs call through
 */
export function fromJson(node, t, via) {
  if (!t || (t.kind === 'scalar' && t.name === 'any')) return untyped(node, via);
  switch (t.kind) {
    case 'optional':
      return node === null ? null : fromJson(node, t.inner, via);
    case 'scalar':
      return scalar(node, t.name);
    case 'ndarray':
      return ndarrayOf(node, t.dtype);
    case 'list':
      return Array.isArray(node) ? node.map((x) => fromJson(x, t.element, via)) : untyped(node, via);
    case 'map':
      if (!isPlainObject(node)) return untyped(node, via);
      return new Map(
        Object.entries(node).map(([k, x]) => [
          t.key.kind === 'scalar' && t.key.name === 'string' ? k : fromJson(JSON.parse(k), t.key, via),
          fromJson(x, t.value, via),
        ]),
      );
    case 'struct': {
      if (!isPlainObject(node)) return untyped(node, via);
      const types = new Map(t.fields.map((f) => [f.name, f.type]));
      const out = {};
      for (const [k, x] of Object.entries(node)) out[k] = fromJson(x, types.get(k), via);
      if (t.name) Object.defineProperty(out, STRUCT_NAME, { value: t.name, enumerable: false });
      return out;
    }
    case 'handle':
      return isPlainObject(node) ? handleOf(node) : node;
    case 'fn':
      return new FnRef(typeof node === 'string' ? node : String(node?.fn ?? ''), '', via);
    default:
      return untyped(node, via);
  }
}

function untyped(node, via) {
  if (Array.isArray(node)) return node.map((x) => untyped(x, via));
  if (isPlainObject(node)) {
    const keys = Object.keys(node).sort().join(',');
    if (keys === 'data,dtype,shape' && DTYPES.has(node.dtype)) return ndarrayOf(node, node.dtype);
    if (keys === 'generation,handle,id') return handleOf(node);
    if (keys === 'fn' && typeof node.fn === 'string') return new FnRef(node.fn, '', via);
    const out = {};
    for (const [k, x] of Object.entries(node)) out[k] = untyped(x, via);
    return out;
  }
  return node;
}

function scalar(node, name) {
  if (name === 'f32' || name === 'f64') return typeof node === 'string' && node in FLOAT_TEXT ? FLOAT_TEXT[node] : node;
  if (/^[iu]\d+$/.test(name) && typeof node === 'string' && /^-?\d+$/.test(node)) {
    const big = BigInt(node);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(big) : big;
  }
  if (name === 'bytes') {
    const text = isPlainObject(node) && typeof node.base64 === 'string' ? node.base64 : node;
    if (typeof text === 'string') return Buffer.from(text, 'base64');
  }
  return node;
}

function ndarrayOf(node, dtype) {
  let arr;
  if (isPlainObject(node) && 'data' in node && 'shape' in node) {
    const d = String(node.dtype ?? dtype);
    const Cls = typedArrayClass(d);
    if (!Cls) throw new InvalidArgumentError(`ndarray block with dtype '${d}'`);
    const raw = Buffer.from(String(node.data), 'base64');
    arr = new NdArray(d, node.shape, viewAs(Cls, raw));
  } else if (Array.isArray(node)) {
    const shape = [];
    for (let x = node; Array.isArray(x); x = x[0]) shape.push(x.length);
    const Cls = typedArrayClass(dtype) ?? Float64Array;
    const flat = node.flat(Infinity);
    arr = new NdArray(dtype, shape, Cls.from(flat, (x) => (Cls === BigInt64Array || Cls === BigUint64Array ? BigInt(x) : x)));
  } else {
    return node;
  }
  // The socket's natural form: a 1-D array of a dtype with its own TypedArray class is that array.
  return arr.shape.length === 1 && arr.dtype !== 'u8' && arr.dtype !== 'bool' ? arr.data : arr;
}

function handleOf(node) {
  return new Handle(String(node.handle ?? ''), BigInt(node.id ?? 0), Number(node.generation ?? 0));
}
