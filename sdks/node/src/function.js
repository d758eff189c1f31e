// Declaring JS functions for PolyCall: the signature is written in the canonical text (JS has
// no type hints), checked here, and used to encode results with their declared widths.

import { InvalidArgumentError } from './errors.js';
import { parseParams, parseSignature } from './signature.js';

/** Marks a JS function made by `fn()` / `defineFunction()`; its value is the FunctionDef. */
export const FUNCTION_DEF = Symbol.for('polycall.function');

/**
 * What a worker announces and runs for one function. Immutable.
 * @typedef {object} FunctionDef
 * @property {string} name registered name, e.g. "stats.mean"
 * @property {string} signature canonical signature text with the name
 * @property {import('./signature.js').Signature} parsed
 * @property {number} version 1 unless given
 * @property {string[]} tags
 * @property {string} doc
 * @property {(...args: any[]) => unknown} implementation
 */

/**
 * @typedef {object} FunctionOptions
 * @property {string[]} [tags]
 * @property {string} [doc]
 * @property {number} [version] 1 unless given
 */

/**
 * Declares a PolyCall function from its full signature text:
 *
 *   export const mean = fn('stats.mean(xs: ndarray<f64>) -> f64', (xs) => xs.reduce((a, b) => a + b) / xs.length);
 *
 * The implementation may be sync or async. It receives the declared arguments, then a
 * {@link CallContext} (`signal`, `metadata`, `deadline`). Returns a plain JS function that
 * calls the implementation locally (handy in tests) and that a worker announces when a
 * `--module` exports it.
 * @param {string} signature e.g. "math.hypot(x: f64, y: f64) -> f64"
 * @param {(...args: any[]) => unknown} implementation
 * @param {FunctionOptions} [options]
 * @throws {InvalidArgumentError} when the signature is malformed
 */
export function fn(signature, implementation, options = {}) {
  const parsed = parseSignature(signature);
  return wrap(parsed, implementation, options);
}

/**
 * Declares a PolyCall function from a name and the signature after the name:
 *
 *   export const mean = defineFunction({ name: 'stats.mean', signature: '(xs: ndarray<f64>) -> f64' }, (xs) => ...);
 *
 * Exported as `polycall.function`.
 * @param {{name: string, signature: string} & FunctionOptions} spec
 * @param {(...args: any[]) => unknown} implementation
 */
export function defineFunction(spec, implementation) {
  if (!spec || typeof spec.name !== 'string') throw new InvalidArgumentError('polycall.function needs {name, signature}');
  const text = `${spec.name}${spec.signature ?? '()'}`;
  const parsed = parseSignature(text);
  parseParams(spec.signature ?? '()'); // the name must not hide in the signature part
  return wrap(parsed, implementation, spec);
}

function wrap(parsed, implementation, options) {
  if (typeof implementation !== 'function') {
    throw new InvalidArgumentError(`${parsed.name}: the implementation must be a function`);
  }
  const version = options.version ?? 1;
  if (!Number.isInteger(version) || version < 1) throw new InvalidArgumentError(`${parsed.name}: bad version ${version}`);
  const def = Object.freeze({
    name: parsed.name,
    signature: parsed.text,
    parsed,
    version,
    tags: Object.freeze([...(options.tags ?? [])].map(String)),
    doc: String(options.doc ?? ''),
    implementation,
  });
  const local = function (...args) {
    return implementation.apply(this, args);
  };
  Object.defineProperty(local, 'name', { value: parsed.name });
  Object.defineProperty(local, FUNCTION_DEF, { value: def });
  return local;
}

/** The FunctionDef of a value made by fn()/defineFunction(), or undefined. */
export function functionDefOf(value) {
  return typeof value === 'function' ? value[FUNCTION_DEF] : undefined;
}

/**
 * Every PolyCall function a module namespace exports (directly, or in an exported array or
 * plain object of them), once each, in export order.
 * @param {Record<string, unknown>} namespace
 * @returns {FunctionDef[]}
 */
export function functionsOf(namespace) {
  const out = [];
  const seen = new Set();
  const visit = (v) => {
    const def = functionDefOf(v);
    if (def && !seen.has(def)) {
      seen.add(def);
      out.push(def);
    }
  };
  for (const value of Object.values(namespace)) {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      Object.values(value).forEach(visit);
    } else visit(value);
  }
  return out;
}
