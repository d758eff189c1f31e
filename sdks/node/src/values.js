// JS classes for the PolyCall values that have no native JS form: typed scalars, ndarrays,
// handles and function references, plus the struct-name symbol.

import { InvalidArgumentError, OutOfRangeError } from './errors.js';

/** Scalar type names in the order of the proto enum `Scalar` (index = wire number). */
export const SCALARS = ['', 'bool', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'f32', 'f64'];

const INT_RANGE = {
  i8: [-(2n ** 7n), 2n ** 7n - 1n],
  i16: [-(2n ** 15n), 2n ** 15n - 1n],
  i32: [-(2n ** 31n), 2n ** 31n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
  u8: [0n, 2n ** 8n - 1n],
  u16: [0n, 2n ** 16n - 1n],
  u32: [0n, 2n ** 32n - 1n],
  u64: [0n, 2n ** 64n - 1n],
};

/** @returns {boolean} whether `type` is one of i8..i64, u8..u64 */
export function isIntType(type) {
  return type in INT_RANGE;
}

/** The inclusive [min, max] of an integer type, as bigints. */
export function intRange(type) {
  return INT_RANGE[type];
}

/**
 * A number with an explicit canonical type, for when the JS value alone would pick the wrong
 * width (`i8(5)`, `u64(1n)`, `f32(0.5)`). Decoding with `{exact: true}` returns these for
 * every int, uint and float value. Immutable.
 */
export class Scalar {
  /**
   * @param {'i8'|'i16'|'i32'|'i64'|'u8'|'u16'|'u32'|'u64'|'f32'|'f64'} type
   * @param {number | bigint} value integers may be numbers or bigints; 64-bit types keep bigints
   */
  constructor(type, value) {
    if (isIntType(type)) {
      checkInt(type, value);
      // 64-bit values are kept as bigints so that the same value compares equal however made.
      value = type === 'i64' || type === 'u64' ? BigInt(value) : Number(value);
    } else if (type === 'f32' || type === 'f64') {
      if (typeof value !== 'number') throw new InvalidArgumentError(`${type} needs a number, got ${typeof value}`);
      if (type === 'f32' && Number.isFinite(value) && !Number.isFinite(Math.fround(value))) {
        throw new InvalidArgumentError(`${value} does not fit in f32`);
      }
    } else {
      throw new InvalidArgumentError(`'${type}' is not a numeric scalar type`);
    }
    this.type = type;
    this.value = value;
    Object.freeze(this);
  }

  valueOf() {
    return this.value;
  }
}

/** Throws unless `value` (number or bigint) is an integer within `type`. */
export function checkInt(type, value) {
  let big;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'number' && Number.isInteger(value)) big = BigInt(value);
  else throw new InvalidArgumentError(`${type} needs an integer, got ${String(value)}`);
  const [min, max] = INT_RANGE[type];
  if (big < min || big > max) {
    // Beyond 64 bits nothing can carry it (OUT_OF_RANGE, as WIRE.md says); within 64 bits it is
    // a value that does not fit the declared type (INVALID_ARGUMENT, as DESIGN.md says).
    const Err = big < INT_RANGE.i64[0] || big > INT_RANGE.u64[1] ? OutOfRangeError : InvalidArgumentError;
    throw new Err(`${value} is outside ${type} [${min}, ${max}]`);
  }
}

export const i8 = (v) => new Scalar('i8', v);
export const i16 = (v) => new Scalar('i16', v);
export const i32 = (v) => new Scalar('i32', v);
export const i64 = (v) => new Scalar('i64', v);
export const u8 = (v) => new Scalar('u8', v);
export const u16 = (v) => new Scalar('u16', v);
export const u32 = (v) => new Scalar('u32', v);
export const u64 = (v) => new Scalar('u64', v);
export const f32 = (v) => new Scalar('f32', v);
export const f64 = (v) => new Scalar('f64', v);

const TYPED_ARRAYS = {
  bool: Uint8Array,
  i8: Int8Array,
  i16: Int16Array,
  i32: Int32Array,
  i64: BigInt64Array,
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  u64: BigUint64Array,
  f32: Float32Array,
  f64: Float64Array,
};

/** The TypedArray class that holds elements of `dtype`. */
export function typedArrayClass(dtype) {
  return TYPED_ARRAYS[dtype];
}

/**
 * The dtype a bare TypedArray encodes as (1-D ndarray). Uint8Array and Buffer are bytes, not
 * ndarrays: wrap them in `ndarray(arr, shape, 'u8')` for an ndarray<u8>.
 */
export function dtypeOf(arr) {
  if (arr instanceof Float64Array) return 'f64';
  if (arr instanceof Float32Array) return 'f32';
  if (arr instanceof Int32Array) return 'i32';
  if (arr instanceof Int16Array) return 'i16';
  if (arr instanceof Int8Array) return 'i8';
  if (arr instanceof Uint32Array) return 'u32';
  if (arr instanceof Uint16Array) return 'u16';
  if (arr instanceof BigInt64Array) return 'i64';
  if (arr instanceof BigUint64Array) return 'u64';
  if (arr instanceof Uint8ClampedArray) return 'u8';
  return undefined;
}

/**
 * A dense n-dimensional array in C order: `data` is a TypedArray of product(shape) elements
 * (Uint8Array of 0/1 for bool). Received arrays view the frame's bytes when aligned.
 */
export class NdArray {
  /**
   * @param {string} dtype bool, i8..i64, u8..u64, f32, f64
   * @param {number[]} shape dimensions; [] is a zero-dimensional array of one element
   * @param {ArrayBufferView} data a TypedArray of the dtype's class (or any view of the bytes)
   */
  constructor(dtype, shape, data) {
    const Cls = TYPED_ARRAYS[dtype];
    if (!Cls) throw new InvalidArgumentError(`'${dtype}' is not an ndarray dtype`);
    const dims = Array.from(shape, (d) => {
      const n = Number(d);
      if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`bad ndarray dimension ${d}`);
      return n;
    });
    const count = dims.reduce((a, b) => a * b, 1);
    if (!(data instanceof Cls)) {
      if (!ArrayBuffer.isView(data)) throw new InvalidArgumentError('ndarray data must be a TypedArray');
      data = viewAs(Cls, data);
    }
    if (data.length !== count) {
      throw new InvalidArgumentError(`ndarray of shape [${dims}] needs ${count} elements, got ${data.length}`);
    }
    this.dtype = dtype;
    this.shape = dims;
    this.data = data;
  }

  /** Number of elements. */
  get size() {
    return this.data.length;
  }
}

/**
 * The bytes of `view` as a `Cls`: a view without copying when the offset is aligned,
 * otherwise one copy of the whole block (never per element).
 */
export function viewAs(Cls, view) {
  const size = Cls.BYTES_PER_ELEMENT;
  if (view.byteLength % size !== 0) {
    throw new InvalidArgumentError(`${view.byteLength} bytes is not a whole number of ${size}-byte elements`);
  }
  if (view.byteOffset % size === 0) return new Cls(view.buffer, view.byteOffset, view.byteLength / size);
  const copy = new Uint8Array(view.byteLength);
  copy.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return new Cls(copy.buffer, 0, view.byteLength / size);
}

/**
 * An ndarray value: `ndarray(new Float64Array(6), [2, 3])`. The dtype comes from the
 * TypedArray's class unless given (needed for u8 and bool, whose class is Uint8Array).
 */
export function ndarray(data, shape = [data.length], dtype = dtypeOf(data) ?? 'u8') {
  return new NdArray(dtype, shape, data);
}

/** An opaque reference to a resource held by one bridge. `id` is a u64 (bigint). */
export class Handle {
  constructor(kind, id, generation = 0) {
    this.kind = String(kind);
    this.id = BigInt(id);
    this.generation = generation >>> 0;
    Object.freeze(this);
  }
}

/**
 * A reference to a registered function, callable from any side. Inside a worker function or
 * with a connected client, `ref.call(...args)` invokes it through the hub.
 */
export class FnRef {
  /**
   * @param {string} name the function's registered name ("math.cos" or "math.cos@2")
   * @param {string} [signature] canonical fn type text, e.g. "fn(f64) -> f64"
   * @param {{call(name: string, args: unknown[]): Promise<unknown>}} [via] the connection to call through
   */
  constructor(name, signature = '', via = undefined) {
    this.name = String(name);
    this.signature = String(signature);
    Object.defineProperty(this, 'via', { value: via, enumerable: false });
  }

  /**
   * Calls the referenced function; resolves with its result.
   * @returns {Promise<unknown>}
   */
  call(...args) {
    return callThrough(this.via, this.name, args);
  }
}

let defaultCaller;
/** @internal The connection-finder used by FnRef.call when no connection is bound. */
export function setDefaultCaller(fn) {
  defaultCaller = fn;
}

function callThrough(via, name, args) {
  if (via && !via.closed) return via.call(name, args);
  return defaultCaller(name, args);
}

/**
 * The struct name of a plain object, when it came from (or is meant as) a named struct.
 * Non-enumerable, so a spread copy `{...point}` is an anonymous struct.
 */
export const STRUCT_NAME = Symbol.for('polycall.structName');

/** Marks `fields` (a plain object) as a struct named `name`; returns the object. */
export function struct(name, fields) {
  const obj = { ...fields };
  if (name) Object.defineProperty(obj, STRUCT_NAME, { value: String(name), enumerable: false });
  return obj;
}

/** Whether `v` is a plain object (encoded as a struct). */
export function isPlainObject(v) {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
