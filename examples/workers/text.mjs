// Text functions in JavaScript, served by a Node worker pool (see examples/polycall.yaml).
//   node sdks/node/bin/polycall-worker.js --module examples/workers/text.mjs   (the supervisor runs it)
// Every function made with polycall.fn and exported is announced to the node.
//
// The SDK is imported by path: this file is outside the SDK's package, so the bare name
// 'polycall' would only resolve after `npm install` of the SDK next to it.
import * as polycall from '../../sdks/node/src/index.js';

export const words = polycall.fn(
  'text.words(s: string) -> list<string>',
  (s) => s.split(/\s+/u).filter((w) => w.length > 0),
  { tags: ['pure'], doc: 'The words of s, split on white space.' },
);

export const title = polycall.fn(
  'text.title(s: string) -> string',
  (s) => s.replace(/\p{L}+/gu, (w) => w[0].toLocaleUpperCase('en') + w.slice(1)),
  { tags: ['pure'], doc: 'Each word of s with a capital first letter.' },
);

// Intl is what JavaScript brings here: locale-aware number formatting.
export const formatNumber = polycall.fn(
  'text.format_number(x: f64, digits: i32) -> string',
  (x, digits) => {
    if (digits < 0 || digits > 20) throw new RangeError(`digits must be in [0, 20], not ${digits}`);
    return new Intl.NumberFormat('en-US', {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      signDisplay: 'always',
    }).format(x);
  },
  { tags: ['pure'], doc: 'x with a sign and exactly `digits` decimals, in en-US style.' },
);
