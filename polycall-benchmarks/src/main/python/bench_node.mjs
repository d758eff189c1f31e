// Node functions the cross-language harness calls through PolyCall.
import * as polycall from '../../../../sdks/node/src/index.js';

export const noop = polycall.fn('benchjs.noop() -> null', () => null);
export const echo = polycall.fn('benchjs.echo(xs: ndarray<f64>) -> ndarray<f64>', (xs) => xs);
