import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as polycall from '../src/index.js';

test('a signature reads into name, params and result', () => {
  const s = polycall.parseSignature('stats.mean(xs: ndarray<f64>[?], w: map<string, f32>?) -> struct Point{x: f64, y: f64}');
  assert.equal(s.name, 'stats.mean');
  assert.deepEqual(s.params[0], { name: 'xs', type: { kind: 'ndarray', dtype: 'f64', shape: [-1] } });
  assert.equal(s.params[1].type.kind, 'optional');
  assert.equal(s.result.name, 'Point');
  assert.deepEqual(polycall.parseSignature('log.write(line: string)').result, { kind: 'scalar', name: 'null' });
  assert.deepEqual(polycall.parseType('fn(x: i64) -> i64'), polycall.parseType('fn(i64) -> i64'));
});

test('a malformed signature is INVALID_ARGUMENT naming the column', () => {
  assert.throws(() => polycall.parseSignature('math.cos(x: f65) -> f64'), (e) =>
    e instanceof polycall.InvalidArgumentError && /column 13/.test(e.message) && /unknown type 'f65'/.test(e.message));
  assert.throws(() => polycall.parseSignature('f(a: i8, a: i8)'), /duplicate parameter name 'a'/);
  assert.throws(() => polycall.parseSignature(''), /empty/);
  assert.throws(() => polycall.parseType('ndarray<string>'), /not an ndarray dtype/);
});

test('fn() and function() declare functions that still run locally', async () => {
  const hypot = polycall.fn('math.hypot(x: f64, y: f64) -> f64', (x, y) => Math.hypot(x, y), { tags: ['pure'] });
  assert.equal(hypot(3, 4), 5);
  const def = polycall.functionDefOf(hypot);
  assert.equal(def.name, 'math.hypot');
  assert.deepEqual(def.tags, ['pure']);
  const mean = polycall.function({ name: 'stats.mean', signature: '(xs: ndarray<f64>) -> f64', doc: 'mean' }, async (xs) => xs[0]);
  assert.equal(await mean([7]), 7);
  assert.equal(polycall.functionDefOf(mean).signature, 'stats.mean(xs: ndarray<f64>) -> f64');
  assert.throws(() => polycall.fn('bad sig', () => 1), polycall.InvalidArgumentError);
  assert.throws(() => polycall.fn('a.b()', 'not a function'), /must be a function/);
});

test('polycall.call outside a PolyCall function says how to call instead', async () => {
  await assert.rejects(polycall.call('math.cos', 0), (e) => e instanceof polycall.FailedPreconditionError && /polycall\.connect/.test(e.message));
});
