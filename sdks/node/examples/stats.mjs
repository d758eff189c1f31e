// A worker module: every PolyCall function it exports is announced to the hub.
//   node bin/polycall-worker.js --module examples/stats.mjs   (the supervisor sets the environment)
import * as polycall from 'polycall';

// Full signature text (JS has no type hints): ndarray<f64> arrives as a Float64Array view.
export const mean = polycall.fn(
  'stats.mean(xs: ndarray<f64>) -> f64',
  (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
  { tags: ['pure'], doc: 'Arithmetic mean.' },
);

// Name and signature apart; async is fine; the CallContext comes after the declared arguments.
export const normalize = polycall.function(
  { name: 'stats.normalize', signature: '(xs: ndarray<f64>) -> ndarray<f64>' },
  async (xs, { signal }) => {
    signal.throwIfAborted(); // the hub cancelled, or the deadline passed
    // A nested call to any function of the node, through the same connection:
    const total = await polycall.call('java.math.sum', xs);
    return xs.map((x) => x / total);
  },
);

// A result wider than its declared type is INVALID_ARGUMENT; a TypeError thrown here reaches
// the caller as INVALID_ARGUMENT with this file's frames in its stack.
export const percent = polycall.fn('stats.percent(part: f64, whole: f64) -> i32', (part, whole) => {
  if (whole === 0) throw new RangeError('whole must not be 0');
  return Math.round((100 * part) / whole);
});
