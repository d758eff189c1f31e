// The signature grammar of the hub (polycall-api SignatureParser), read into plain objects so a
// worker can encode results with the declared widths and reject malformed declarations early.
//
//   signature := qname '(' [param {',' param}] ')' ['->' type]
//   param     := ident ':' type
//   type      := base ['?']
//   base      := scalar | 'list' '<' type '>' | 'map' '<' type ',' type '>' | 'optional' '<' type '>'
//              | 'struct' [ident] '{' [ident ':' type {',' ident ':' type}] '}'
//              | 'ndarray' '<' scalar '>' ['[' dim {',' dim} ']']
//              | 'handle' '<' ident '>' | 'fn' '(' [[ident ':'] type {',' ...}] ')' '->' type

import { InvalidArgumentError } from './errors.js';

const SCALAR_WORDS = new Set([
  'null', 'bool', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'f32', 'f64', 'string', 'bytes', 'any',
]);
const DTYPES = new Set(['bool', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'f32', 'f64']);

/**
 * @typedef {{kind: 'scalar', name: string}
 *   | {kind: 'list', element: Type}
 *   | {kind: 'map', key: Type, value: Type}
 *   | {kind: 'optional', inner: Type}
 *   | {kind: 'struct', name: string, fields: Array<{name: string, type: Type}>}
 *   | {kind: 'ndarray', dtype: string, shape: Array<number> | null}
 *   | {kind: 'handle', handleKind: string}
 *   | {kind: 'fn', params: Type[], result: Type}} Type
 * @typedef {{name: string, params: Array<{name: string, type: Type}>, result: Type, text: string}} Signature
 */

class Parser {
  constructor(text, what) {
    if (typeof text !== 'string' || !text.trim()) {
      throw new InvalidArgumentError(`malformed ${what}: it is empty`);
    }
    this.text = text;
    this.pos = 0;
    this.what = what;
  }

  error(msg) {
    return new InvalidArgumentError(
      `malformed ${this.what} at column ${this.pos + 1}: ${msg}\n  ${this.text}\n  ${' '.repeat(this.pos)}^`,
    );
  }

  space() {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
    return this.pos;
  }

  peek(s) {
    this.space();
    return this.text.startsWith(s, this.pos);
  }

  accept(s) {
    if (this.peek(s)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }

  expect(s) {
    if (!this.accept(s)) throw this.error(`expected '${s}'`);
  }

  ident(what) {
    this.space();
    const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(this.text.slice(this.pos));
    if (!m) throw this.error(`expected ${what}`);
    this.pos += m[0].length;
    return m[0];
  }

  end() {
    this.space();
    if (this.pos !== this.text.length) throw this.error('unexpected text after the end');
  }

  signature() {
    let name = this.ident('a function name');
    while (this.text[this.pos] === '.') {
      this.pos++;
      name += '.' + this.ident("a name after '.'");
    }
    return { name, ...this.tail() };
  }

  /** '(' params ')' ['->' type] */
  tail() {
    this.expect('(');
    const params = [];
    if (!this.peek(')')) {
      do {
        const at = this.space();
        const pname = this.ident('a parameter name');
        if (params.some((p) => p.name === pname)) {
          this.pos = at;
          throw this.error(`duplicate parameter name '${pname}'`);
        }
        this.expect(':');
        params.push({ name: pname, type: this.type() });
      } while (this.accept(','));
    }
    this.expect(')');
    const result = this.accept('->') ? this.type() : { kind: 'scalar', name: 'null' };
    return { params, result };
  }

  type() {
    let t = this.base();
    if (this.accept('?') && t.kind !== 'optional') t = { kind: 'optional', inner: t };
    return t;
  }

  base() {
    const start = this.space();
    const word = this.ident('a type');
    if (SCALAR_WORDS.has(word)) return { kind: 'scalar', name: word };
    switch (word) {
      case 'list': {
        this.expect('<');
        const element = this.type();
        this.expect('>');
        return { kind: 'list', element };
      }
      case 'map': {
        this.expect('<');
        const key = this.type();
        this.expect(',');
        const value = this.type();
        this.expect('>');
        return { kind: 'map', key, value };
      }
      case 'optional': {
        this.expect('<');
        const inner = this.type();
        this.expect('>');
        return inner.kind === 'optional' ? inner : { kind: 'optional', inner };
      }
      case 'struct': {
        const name = this.peek('{') ? '' : this.ident("a struct name or '{'");
        this.expect('{');
        const fields = [];
        if (!this.peek('}')) {
          do {
            const f = this.ident('a field name');
            this.expect(':');
            fields.push({ name: f, type: this.type() });
          } while (this.accept(','));
        }
        this.expect('}');
        return { kind: 'struct', name, fields };
      }
      case 'ndarray': {
        this.expect('<');
        const at = this.space();
        const dtype = this.ident('a dtype');
        if (!DTYPES.has(dtype)) {
          this.pos = at;
          throw this.error(`'${dtype}' is not an ndarray dtype (use bool, i8..i64, u8..u64, f32, f64)`);
        }
        this.expect('>');
        let shape = null;
        if (this.accept('[')) {
          shape = [];
          do {
            if (this.accept('?')) shape.push(-1);
            else {
              this.space();
              const m = /^\d+/.exec(this.text.slice(this.pos));
              if (!m) throw this.error("expected a dimension (a number or '?')");
              this.pos += m[0].length;
              shape.push(Number(m[0]));
            }
          } while (this.accept(','));
          this.expect(']');
        }
        return { kind: 'ndarray', dtype, shape };
      }
      case 'handle': {
        this.expect('<');
        const handleKind = this.ident('a handle kind');
        this.expect('>');
        return { kind: 'handle', handleKind };
      }
      case 'fn': {
        this.expect('(');
        const params = [];
        if (!this.peek(')')) {
          do {
            const save = this.pos;
            this.space();
            if (/^[A-Za-z_$][A-Za-z0-9_$]*\s*:/.test(this.text.slice(this.pos))) {
              this.ident('');
              this.expect(':');
            } else {
              this.pos = save;
            }
            params.push(this.type());
          } while (this.accept(','));
        }
        this.expect(')');
        this.expect('->');
        return { kind: 'fn', params, result: this.type() };
      }
      default:
        this.pos = start;
        throw this.error(
          `unknown type '${word}' (expected one of null bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 string` +
            ' bytes any list map optional struct ndarray handle fn)',
        );
    }
  }
}

/**
 * Parses "stats.mean(xs: ndarray<f64>) -> f64".
 * @param {string} text
 * @returns {Signature}
 * @throws {InvalidArgumentError} with the column at fault
 */
export function parseSignature(text) {
  const p = new Parser(text, 'signature');
  const sig = p.signature();
  p.end();
  return { ...sig, text: text.trim() };
}

/**
 * Parses the part of a signature after the name: "(xs: ndarray<f64>) -> f64".
 * @returns {{params: Array<{name: string, type: Type}>, result: Type}}
 */
export function parseParams(text) {
  const p = new Parser(text, 'signature');
  const tail = p.tail();
  p.end();
  return tail;
}

/** Parses one type: "list<i32>", "ndarray<f64>[?, 3]". */
export function parseType(text) {
  const p = new Parser(text, 'type');
  const t = p.type();
  p.end();
  return t;
}
