import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as polycall from '../src/index.js';

const { encodeValue, decodeValue, encodeFrame, decodeFrame, FrameReader, Outgoing } = polycall;
const roundTrip = (v, opts) => decodeValue(encodeValue(v, opts));

test('the shipped .proto is the same as spec/polycall.proto', () => {
  const shipped = readFileSync(polycall.PROTO_PATH, 'utf8');
  const spec = readFileSync(new URL('../../../spec/polycall.proto', import.meta.url), 'utf8');
  assert.equal(shipped, spec, 'copy spec/polycall.proto to sdks/node/proto/polycall.proto');
});

test('the shipped service.proto is the same as spec/service.proto', () => {
  const shipped = readFileSync(polycall.SERVICE_PROTO_PATH, 'utf8');
  const spec = readFileSync(new URL('../../../spec/service.proto', import.meta.url), 'utf8');
  assert.equal(shipped, spec, 'copy spec/service.proto to sdks/node/proto/service.proto');
});

test('plain JS values round trip in their natural form', () => {
  for (const v of [null, true, false, 0, -1, 42, 1.5, -0, NaN, Infinity, 'héllo ✓ 🎉', [1, 'a', [null]], { x: 1, y: [2] }]) {
    assert.deepEqual(roundTrip(v), v);
  }
  assert.deepEqual(roundTrip(new Map([[1, 'one'], ['k', { a: true }]])), new Map([[1, 'one'], ['k', { a: true }]]));
  assert.deepEqual(roundTrip(Buffer.from([0, 255])), Buffer.from([0, 255]));
  assert.equal(roundTrip(undefined), null);
});

test('safe integers travel as i64 and other numbers as f64', () => {
  assert.deepEqual(decodeValue(encodeValue(3), { exact: true }), polycall.i64(3));
  assert.deepEqual(decodeValue(encodeValue(3.5), { exact: true }), polycall.f64(3.5));
  assert.deepEqual(decodeValue(encodeValue(2 ** 60), { exact: true }), polycall.f64(2 ** 60));
  assert.deepEqual(decodeValue(encodeValue(-0), { exact: true }), polycall.f64(-0));
});

test('bigints pick i64 or u64 and come back as numbers when safe', () => {
  assert.deepEqual(decodeValue(encodeValue(-(2n ** 63n)), { exact: true }), polycall.i64(-(2n ** 63n)));
  assert.deepEqual(decodeValue(encodeValue(2n ** 64n - 1n), { exact: true }), polycall.u64(2n ** 64n - 1n));
  assert.equal(roundTrip(5n), 5);
  assert.equal(roundTrip(2n ** 60n), 2n ** 60n);
});

test('a bigint beyond 64 bits is OUT_OF_RANGE before anything is sent', () => {
  assert.throws(() => encodeValue(2n ** 64n), polycall.OutOfRangeError);
  assert.throws(() => encodeValue([1, -(2n ** 63n) - 1n]), (e) => e.code === polycall.Code.OUT_OF_RANGE && /value\[1\]/.test(e.message));
});

test('a declared type sets the width and a value outside it is INVALID_ARGUMENT with its path', () => {
  assert.deepEqual(decodeValue(encodeValue(2, { type: 'f64' }), { exact: true }), polycall.f64(2));
  assert.deepEqual(decodeValue(encodeValue([1, 2], { type: 'list<i8>' }), { exact: true }), [polycall.i8(1), polycall.i8(2)]);
  assert.throws(
    () => encodeValue([1, 300], { type: 'list<i8>' }),
    (e) => e instanceof polycall.InvalidArgumentError && e.message.startsWith('value[1]:'),
  );
  assert.throws(() => polycall.u8(-1), polycall.InvalidArgumentError);
  const m = decodeValue(encodeValue({ a: 1 }, { type: 'map<string, i32>' }), { exact: true });
  assert.deepEqual(m, new Map([['a', polycall.i32(1)]]));
});

test('structs keep their name; a field named __proto__ stays a field', () => {
  const p = roundTrip(polycall.struct('Point', { x: 1.5, y: 2 }));
  assert.equal(p[polycall.STRUCT_NAME], 'Point');
  assert.deepEqual(p, { x: 1.5, y: 2 });
  const evil = JSON.parse('{"__proto__": {"polluted": true}}');
  const back = roundTrip(evil);
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.deepEqual(Object.keys(back), ['__proto__']);
  assert.equal({}.polluted, undefined);
});

test('TypedArrays are 1-D ndarrays; Uint8Array is bytes unless wrapped', () => {
  const f32 = new Float32Array([0.5, -1, Infinity]);
  assert.deepEqual(roundTrip(f32), f32);
  const i32 = new Int32Array([1, -2, 2 ** 31 - 1]);
  assert.deepEqual(roundTrip(i32), i32);
  assert.deepEqual(roundTrip(new BigInt64Array([-1n])), new BigInt64Array([-1n]));
  const u8 = polycall.ndarray(new Uint8Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  const back = roundTrip(u8);
  assert.ok(back instanceof polycall.NdArray);
  assert.deepEqual(back.shape, [2, 3]);
  assert.equal(back.dtype, 'u8');
  assert.ok(Buffer.isBuffer(roundTrip(new Uint8Array([1]))));
});

test('an 8 MB Float64Array round trips as one block, viewed in place when aligned', () => {
  const xs = new Float64Array(1 << 20);
  for (let i = 0; i < xs.length; i++) xs[i] = i * 0.5;
  const bytes = encodeValue(xs);
  assert.ok(bytes.length > 8 * xs.length);
  // Put the Value at an offset that leaves the data 8-aligned, then at one that does not.
  const header = bytes.length - xs.byteLength; // tags, dtype, shape, length varint
  for (const shift of [0, 1]) {
    const pad = (8 - (header % 8)) % 8 + shift;
    const backing = new Uint8Array(bytes.length + pad);
    backing.set(bytes, pad);
    const view = backing.subarray(pad);
    const back = decodeValue(view);
    assert.ok(back instanceof Float64Array);
    assert.equal(back.length, xs.length);
    assert.equal(back[12345], 12345 * 0.5);
    assert.equal(back.buffer === backing.buffer, shift === 0, shift === 0 ? 'aligned: a view' : 'unaligned: one copy');
  }
});

test('depth is limited on decode (32 by default) and cycles are refused on encode', () => {
  let deep = 1;
  for (let i = 0; i < 33; i++) deep = [deep];
  const bytes = encodeValue(deep, { maxDepth: 40 });
  assert.throws(() => decodeValue(bytes), polycall.InvalidArgumentError);
  assert.ok(decodeValue(bytes, { maxDepth: 33 }));
  const cyclic = [];
  cyclic.push(cyclic);
  assert.throws(() => encodeValue(cyclic), /nesting deeper/);
});

test('values with no PolyCall type are refused with their path', () => {
  assert.throws(() => encodeValue({ when: new Date() }), /value\.when: cannot send a Date/);
  assert.throws(() => encodeValue([() => 1]), /value\[0\]: a JS function cannot be sent/);
  assert.throws(() => encodeValue('\uD800'), /lone UTF-16 surrogate/);
});

test('handles and function references round trip', () => {
  assert.deepEqual(roundTrip(new polycall.Handle('file', 2n ** 64n - 1n, 3)), new polycall.Handle('file', 2n ** 64n - 1n, 3));
  const f = roundTrip(new polycall.FnRef('math.cos', 'fn(f64) -> f64'));
  assert.ok(f instanceof polycall.FnRef);
  assert.equal(f.name, 'math.cos');
});

test('the frame reader copes with 1-byte chunks and many frames in one chunk', () => {
  const a = encodeFrame({ ping: { nonce: 7 } });
  const b = encodeFrame({ result: { callId: 1, value: new Outgoing([1, 'two', new Float64Array([3])]) } });
  const both = Buffer.concat([a, b, a]);
  const oneByOne = new FrameReader();
  const bodies = [];
  for (const byte of both) bodies.push(...oneByOne.push(Buffer.from([byte])));
  oneByOne.end();
  const whole = new FrameReader().push(both);
  assert.equal(bodies.length, 3);
  assert.deepEqual(bodies, whole);
  const r = decodeFrame(bodies[1]).result;
  assert.deepEqual(r.value.value, [1, 'two', new Float64Array([3])]);
});

test('the frame reader refuses a bad length without reading the body', () => {
  const r = new FrameReader(1024);
  assert.throws(() => r.push(Buffer.from([0, 0, 4, 1])), /over the limit/);
  assert.throws(() => new FrameReader().push(Buffer.alloc(4)), /length 0/);
  const cut = new FrameReader();
  cut.push(Buffer.from([0, 0, 0, 9, 1]));
  assert.throws(() => cut.end(), /ended inside a frame/);
});

/** Feeds `bytes` to pushCopy() through one reused buffer of `size` bytes, scribbled over after each read. */
function throughReusedBuffer(reader, bytes, size) {
  const buf = Buffer.alloc(size);
  const bodies = [];
  for (let pos = 0; pos < bytes.length; pos += size) {
    const n = Math.min(size, bytes.length - pos);
    bytes.copy(buf, 0, pos, pos + n);
    bodies.push(...reader.pushCopy(buf.subarray(0, n)));
    buf.fill(0xee); // the socket's next read: nothing the reader returned or kept may change
  }
  return bodies;
}

test('frames read through a reused buffer come out whole, whatever the read sizes', () => {
  const big = new Float64Array((1 << 17) + 3).map((_, i) => i * 1.5);
  const frames = Buffer.concat([
    encodeFrame({ ping: { nonce: 7 } }),
    encodeFrame({ result: { callId: 1, value: new Outgoing(big) } }),
    encodeFrame({ result: { callId: 2, value: new Outgoing([1, 'two', new Float64Array([3])]) } }),
    encodeFrame({ result: { callId: 3, value: new Outgoing(new Uint8Array(5000).fill(9)) } }),
  ]);
  const whole = new FrameReader().push(frames);
  for (const size of [1, 3, 4, 7, 4096, 65_537, 1 << 20]) {
    const r = new FrameReader();
    const bodies = throughReusedBuffer(r, frames, size);
    r.end();
    assert.deepEqual(bodies, whole, `reads of ${size}`);
    assert.deepEqual(decodeFrame(bodies[1]).result.value.value, big);
    assert.equal(r.pendingBytes, 0);
  }
});

test('the reused-buffer reader refuses a bad length and a stream that ends inside a frame', () => {
  assert.throws(() => new FrameReader(1024).pushCopy(Buffer.from([0, 0, 4, 1])), /over the limit/);
  assert.throws(() => new FrameReader().pushCopy(Buffer.alloc(4)), /length 0/);
  const cut = new FrameReader();
  cut.pushCopy(Buffer.from([0, 0, 0, 9, 1]));
  assert.equal(cut.pendingBytes, 5);
  assert.throws(() => cut.end(), /ended inside a frame \(1 of 9 body bytes\)/);
  const inLength = new FrameReader();
  inLength.pushCopy(Buffer.from([0, 0]));
  assert.throws(() => inLength.end(), /2 of 4 length bytes/);
});

test('a bad value inside a frame fails only that value, not the frame', () => {
  // Frame{call{call_id: 1, function: "f", args: [int 300 with width I8]}}, by hand.
  const patched = Buffer.from('220c' + '0801' + '120166' + '1a0518d8047002', 'hex');
  const call = decodeFrame(patched).call;
  assert.equal(call.function, 'f');
  assert.ok(call.args[0].error instanceof polycall.InvalidArgumentError);
});

test('a big ndarray result written as [head, block] is the frame encodeFrame writes', async () => {
  const { ndarrayResultParts } = await import('../src/codec.js');
  const dtypes = { bool: Uint8Array, i8: Int8Array, i16: Int16Array, i32: Int32Array, i64: BigInt64Array, u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, u64: BigUint64Array, f32: Float32Array, f64: Float64Array };
  const ndType = (dtype) => ({ kind: 'ndarray', dtype });
  const any = { kind: 'scalar', name: 'any' };
  for (const [dtype, Cls] of Object.entries(dtypes)) {
    for (const shape of [[0], [1], [7], [3, 4], [2, 0, 3], [], [70_001], [300, 301]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const data = new Cls(count);
      for (let i = 0; i < count; i++) {
        const x = dtype === 'bool' ? i % 2 : (i * 37 + 5) % 100;
        data[i] = Cls === BigInt64Array || Cls === BigUint64Array ? BigInt(x) : x;
      }
      const arr = new polycall.NdArray(dtype, shape, data);
      for (const callId of [1n, 127n, 128n, 300n, 2n ** 35n, 2n ** 64n - 1n]) {
        for (const type of [ndType(dtype), any]) {
          const out = new Outgoing(arr, type, 'result');
          const parts = ndarrayResultParts(callId, out, Infinity, 0);
          assert.ok(parts, `${dtype} [${shape}]`);
          const want = encodeFrame({ result: { callId: String(callId), value: out } }, Infinity);
          assert.deepEqual(Buffer.concat(parts), Buffer.from(want), `${dtype} [${shape}] ${callId}`);
        }
      }
    }
  }
});

test('the block of a big ndarray result is the array itself, and what does not fit is left to encodeFrame', async () => {
  const { ndarrayResultParts, BIG_BLOCK_BYTES } = await import('../src/codec.js');
  const xs = new Float64Array(1 << 20).map((_, i) => i);
  const parts = ndarrayResultParts(5n, new Outgoing(xs, { kind: 'ndarray', dtype: 'f64' }, 'result'));
  assert.equal(parts.length, 2);
  assert.equal(parts[1].buffer, xs.buffer); // a view, not a copy
  assert.equal(parts[1].byteLength, xs.byteLength);
  const f64 = { kind: 'ndarray', dtype: 'f64' };
  assert.equal(ndarrayResultParts(5n, new Outgoing(new Float64Array(10), f64, 'result')), null); // small
  assert.equal(ndarrayResultParts(5n, new Outgoing(new Uint8Array(BIG_BLOCK_BYTES), { kind: 'scalar', name: 'any' }, 'r')), null); // bytes
  assert.equal(ndarrayResultParts(5n, new Outgoing([1, 2], f64, 'result'), Infinity, 0), null); // a plain Array
  assert.equal(ndarrayResultParts(5n, new Outgoing(xs, { kind: 'list', element: f64 }, 'result')), null);
  assert.equal(ndarrayResultParts(5n, new Outgoing(xs, f64, 'result'), xs.byteLength), null); // over the limit
});

test('the ndarray result vector is the frame written by hand around the block', async () => {
  const { ndarrayResultParts } = await import('../src/codec.js');
  const frames = JSON.parse(readFileSync(new URL('../../../spec/vectors/frames.json', import.meta.url), 'utf8'));
  const c = frames.find((e) => e.name.startsWith('result with an ndarray'));
  const r = decodeFrame(Buffer.from(c.hex, 'hex').subarray(4)).result;
  const arr = r.value.value instanceof polycall.NdArray ? r.value.value : new polycall.NdArray('f64', [r.value.value.length], r.value.value);
  const parts = ndarrayResultParts(BigInt(r.callId), new Outgoing(arr, { kind: 'ndarray', dtype: 'f64' }, 'result'), Infinity, 0);
  assert.equal(Buffer.concat(parts).toString('hex'), c.hex);
});
