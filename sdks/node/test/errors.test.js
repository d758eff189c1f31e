import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as polycall from '../src/index.js';

const { Code, toStatus, fromStatus } = polycall;

test('each code has its own subclass, built by PolyCallError.of', () => {
  const e = polycall.PolyCallError.of(Code.NOT_FOUND, 'no such function');
  assert.ok(e instanceof polycall.NotFoundError);
  assert.ok(e instanceof polycall.PolyCallError);
  assert.ok(e instanceof Error);
  assert.equal(e.code, 5);
  assert.equal(e.codeName, 'NOT_FOUND');
  assert.equal(e.name, 'NotFoundError');
  assert.equal(new polycall.UnavailableError('x').code, Code.UNAVAILABLE);
  assert.equal(polycall.PolyCallError.of(99, 'odd').codeName, 'CODE_99');
});

test('TypeError and RangeError are INVALID_ARGUMENT, others UNKNOWN, with the class in the message', () => {
  function innerMost() {
    throw new TypeError('wanted a number');
  }
  let st;
  try {
    innerMost();
  } catch (e) {
    st = toStatus(e);
  }
  assert.equal(st.code, Code.INVALID_ARGUMENT);
  assert.equal(st.message, 'TypeError: wanted a number');
  assert.equal(st.frames[0].language, 'javascript');
  assert.equal(st.frames[0].function, 'innerMost');
  assert.match(st.frames[0].file, /errors\.test\.js$/);
  assert.ok(st.frames[0].line > 0);
  assert.equal(toStatus(new RangeError('r')).code, Code.INVALID_ARGUMENT);
  assert.equal(toStatus(new Error('boom')).code, Code.UNKNOWN);
  assert.equal(toStatus('a string').code, Code.UNKNOWN);
});

test('a PolyCallError keeps its code and its remote frames after the local ones', () => {
  const remote = [{ language: 'java', function: 'app.Main.main', file: 'Main.java', line: 7 }];
  const st = toStatus(new polycall.NotFoundError('gone', { frames: remote }));
  assert.equal(st.code, Code.NOT_FOUND);
  assert.equal(st.message, 'gone');
  assert.deepEqual(st.frames.at(-1), remote[0]);
});

test('a wire status becomes the matching error with its frames and a readable stack', () => {
  const e = fromStatus({
    code: 3,
    message: 'ValueError: math domain error',
    frames: [{ language: 'python', function: 'stats.mean', file: 'stats.py', line: 12 }],
  });
  assert.ok(e instanceof polycall.InvalidArgumentError);
  assert.equal(e.frames[0].language, 'python');
  assert.match(e.stack, /at stats\.mean \(python:stats\.py:12\)/);
});

test('lone surrogates in a message are repaired, never sent raw', () => {
  assert.equal(toStatus(new Error('bad \uD800 char')).message, 'Error: bad \uFFFD char');
});
