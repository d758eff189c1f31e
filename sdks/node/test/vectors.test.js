// The language-neutral vectors in spec/vectors (WIRE.md "Test vectors"): every implementation
// decodes `hex` to `value` and encodes `value` to `hex` byte for byte, and refuses `invalid`.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs';
import {
  FrameReader,
  FrameType,
  Incoming,
  Outgoing,
  decodeFrame,
  decodeValue,
  encodeFrame,
  encodeValue,
} from '../src/codec.js';
import { PolyCallError, codeName } from '../src/errors.js';
import { FnRef, Handle, NdArray, SCALARS, Scalar, struct, typedArrayClass } from '../src/values.js';

const DIR = new URL('../../../spec/vectors/', import.meta.url);
const load = (name) => {
  const url = new URL(name, DIR);
  return existsSync(url) ? JSON.parse(readFileSync(url, 'utf8')) : undefined;
};
const values = load('values.json');
const frames = load('frames.json');
const invalid = load('invalid.json');
const missing = (name) => `spec/vectors/${name} does not exist yet (the hub engineer commits it)`;

const unhex = (h) => Buffer.from(h, 'hex');
const hex = (b) => Buffer.from(b).toString('hex');

// ---- the language-neutral value form <-> exact JS values -----------------------------------

function float(x) {
  return typeof x === 'string' ? Number(x) : x; // "NaN", "Infinity", "-Infinity"
}

/** {"i8": -5} -> i8(-5), {"struct": ...} -> struct(...), ... : the exact JS form of a value. */
function fromNeutral(v) {
  const [kind, x] = Object.entries(v)[0];
  switch (kind) {
    case 'null':
      return null;
    case 'bool':
    case 'string':
      return x;
    case 'f32':
    case 'f64':
      return new Scalar(kind, float(x));
    case 'bytes':
      return Buffer.from(x, 'base64');
    case 'list':
      return x.map(fromNeutral);
    case 'map':
      return new Map(x.map(([k, val]) => [fromNeutral(k), fromNeutral(val)]));
    case 'struct':
      return struct(x.name, Object.fromEntries(x.fields.map(([n, val]) => [n, fromNeutral(val)])));
    case 'ndarray': {
      const bytes = Buffer.from(x.data, 'base64');
      const copy = new Uint8Array(bytes); // aligned
      return new NdArray(x.dtype, x.shape, new (typedArrayClass(x.dtype))(copy.buffer));
    }
    case 'handle':
      return new Handle(x.kind, BigInt(x.id), x.generation);
    case 'fn':
      return new FnRef(x.name, x.signature);
    default:
      return new Scalar(kind, BigInt(x)); // i8..u64
  }
}

// Struct names live under a non-enumerable symbol that deepEqual does not see: compare them too.
function assertSameValue(actual, expected, where = 'value') {
  assert.deepEqual(actual, expected, where);
  const walk = (a, e, path) => {
    if (a && typeof a === 'object' && e && typeof e === 'object') {
      assert.equal(a[Symbol.for('polycall.structName')], e[Symbol.for('polycall.structName')], `${path} struct name`);
      for (const k of Object.keys(e)) walk(a[k], e[k], `${path}.${k}`);
      if (a instanceof Map) [...a.values()].forEach((x, i) => walk(x, [...e.values()][i], `${path}[${i}]`));
    }
  };
  walk(actual, expected, where);
}

describe('values.json', { skip: !values && missing('values.json') }, () => {
  for (const v of values ?? []) {
    test(`decodes ${v.name}`, () => {
      assertSameValue(decodeValue(unhex(v.hex), { exact: true }), fromNeutral(v.value));
    });
    test(`encodes ${v.name} byte for byte`, () => {
      assert.equal(hex(encodeValue(fromNeutral(v.value))), v.hex);
    });
    test(`decodes ${v.name} in natural mode and encodes back to the same kind`, () => {
      const natural = decodeValue(unhex(v.hex));
      const again = decodeValue(encodeValue(natural));
      assert.deepEqual(again, natural);
    });
  }
});

// ---- proto3 JSON <-> frames, by reflection over the shipped .proto -------------------------

function valueFromProtoJson(j) {
  const width = j.width ?? 'SCALAR_UNSPECIFIED';
  const scalar = (kind) => (width === 'SCALAR_UNSPECIFIED' ? kind : width.toLowerCase());
  if ('nullValue' in j) return null;
  if ('boolValue' in j) return j.boolValue;
  if ('intValue' in j) return new Scalar(scalar('i64'), BigInt(j.intValue));
  if ('uintValue' in j) return new Scalar(scalar('u64'), BigInt(j.uintValue));
  if ('floatValue' in j) return new Scalar(scalar('f64'), float(j.floatValue));
  if ('stringValue' in j) return j.stringValue;
  if ('bytesValue' in j) return Buffer.from(j.bytesValue, 'base64');
  if ('listValue' in j) return (j.listValue.items ?? []).map(valueFromProtoJson);
  if ('ndarrayValue' in j) {
    const nd = j.ndarrayValue;
    const dtype = nd.dtype.toLowerCase();
    // A copy into a fresh ArrayBuffer: aligned for any dtype.
    const bytes = new Uint8Array(Buffer.from(nd.data ?? '', 'base64'));
    return new NdArray(dtype, (nd.shape ?? []).map(Number), new (typedArrayClass(dtype))(bytes.buffer));
  }
  throw new Error(`test converter does not know ${JSON.stringify(j)}`);
}

function valueToProtoJson(v) {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (Buffer.isBuffer(v)) return { bytesValue: v.toString('base64') };
  if (Array.isArray(v)) return { listValue: { items: v.map(valueToProtoJson) } };
  if (v instanceof NdArray) {
    const data = Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength);
    return {
      ndarrayValue: {
        dtype: v.dtype.toUpperCase(),
        ...(v.shape.length ? { shape: v.shape.map(String) } : {}),
        ...(data.length ? { data: data.toString('base64') } : {}),
      },
    };
  }
  if (v instanceof Scalar) {
    const width = v.type === 'i64' || v.type === 'u64' || v.type === 'f64' ? {} : { width: v.type.toUpperCase() };
    if (v.type[0] === 'f') return { floatValue: Number.isFinite(v.value) ? v.value : String(v.value), ...width };
    return { [v.type[0] === 'i' ? 'intValue' : 'uintValue']: String(v.value), ...width };
  }
  throw new Error(`test converter does not know ${v}`);
}

const isDefault = (x) => x === 0 || x === '' || x === false || (Array.isArray(x) && !x.length);

/** proto3 JSON -> the object encodeFrame takes (Values as Outgoing). */
function frameFromJson(type, json) {
  const out = {};
  for (const [key, val] of Object.entries(json)) {
    const field = type.fields[key];
    assert.ok(field, `${type.name}.${key}`);
    field.resolve();
    const conv = (x) => {
      if (field.resolvedType === null) {
        if (field.type === 'bytes') return Buffer.from(x, 'base64');
        if (field.type === 'uint64' || field.type === 'int64') return protobuf.util.Long.fromString(String(x), true);
        return x;
      }
      if (field.resolvedType instanceof protobuf.Enum) return field.resolvedType.values[x];
      if (field.resolvedType.fullName === '.polycall.v1.Value') return new Outgoing(valueFromProtoJson(x));
      return frameFromJson(field.resolvedType, x);
    };
    out[key] = field.map ? val : field.repeated ? val.map(conv) : conv(val);
  }
  return out;
}

/** A decoded frame -> proto3 JSON (defaults omitted), for comparison with the vector. */
function frameToJson(type, msg) {
  const out = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    if (!Object.hasOwn(msg, field.name)) continue;
    const val = msg[field.name];
    const inOneof = !!field.partOf;
    if (val === null || val === undefined) continue;
    if (field.map) {
      if (Object.keys(val).length) out[field.name] = { ...val };
      continue;
    }
    const conv = (x) => {
      if (field.resolvedType === null) {
        if (field.type === 'bytes') return Buffer.from(x).toString('base64');
        if (field.type === 'uint64' || field.type === 'int64') return x.toString();
        return x;
      }
      if (field.resolvedType instanceof protobuf.Enum) return field.resolvedType.valuesById[x];
      if (field.resolvedType.fullName === '.polycall.v1.Value') {
        assert.ok(x instanceof Incoming && !x.error, `value refused: ${x.error?.message}`);
        return valueToProtoJson(x.value);
      }
      return frameToJson(field.resolvedType, x);
    };
    if (field.repeated) {
      if (val.length) out[field.name] = val.map(conv);
    } else if (inOneof || field.resolvedType instanceof protobuf.Type || !isDefault(conv(val))) {
      if (!(field.resolvedType instanceof protobuf.Enum) || inOneof || val !== 0) out[field.name] = conv(val);
    }
  }
  return out;
}

describe('frames.json', { skip: !frames && missing('frames.json') }, () => {
  for (const f of frames ?? []) {
    test(`decodes frame: ${f.name}`, () => {
      const reader = new FrameReader();
      const bodies = reader.push(unhex(f.hex));
      assert.equal(bodies.length, 1);
      assert.deepEqual(frameToJson(FrameType, decodeFrame(bodies[0], { exact: true })), f.frame);
    });
    test(`encodes frame byte for byte: ${f.name}`, () => {
      assert.equal(hex(encodeFrame(frameFromJson(FrameType, f.frame))), f.hex);
    });
  }
});

// ---- invalid.json ----------------------------------------------------------------------------

function refusal(entry) {
  try {
    if (entry.kind === 'value') {
      decodeValue(unhex(entry.hex));
      return undefined;
    }
    const reader = new FrameReader();
    for (const body of reader.push(unhex(entry.hex))) {
      const frame = decodeFrame(body);
      // A value refused inside a frame fails that call; for a stream vector it must not happen.
      assert.ok(frame.body);
    }
    reader.end();
    return undefined;
  } catch (e) {
    if (e instanceof PolyCallError) return e;
    throw e;
  }
}

describe('invalid.json', { skip: !invalid && missing('invalid.json') }, () => {
  for (const entry of invalid ?? []) {
    test(`refuses ${entry.kind}: ${entry.name} (${entry.status})`, () => {
      const err = refusal(entry);
      assert.ok(err, `accepted: ${entry.reason}`);
      assert.equal(codeName(err.code), entry.status, err.message);
    });
  }
});

test('the vector files exist (the shared vectors are part of the suite)', { skip: !values && missing('values.json') }, () => {
  assert.ok(values.length && frames.length && invalid.length);
  assert.ok(SCALARS.length === 12);
});
