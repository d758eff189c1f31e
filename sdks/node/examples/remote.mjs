// A client of a remote node: `node examples/remote.mjs grpc://127.0.0.1:50051` (or http://...).
// Start a node with `bin/polycall serve --grpc 127.0.0.1:50051 --http 127.0.0.1:8080`.
import * as polycall from 'polycall';

const node = await polycall.connect(process.argv[2], { timeout: 2000 }); // the same Client as for a socket
try {
  console.log(await node.call('math.add', 1, 2)); // 3
  console.log(await node.call('stats.mean', new Float64Array([1, 2, 3, 4]))); // 2.5: one ndarray block
  await node.call('math.ad', 1, 2).catch((e) => console.log(e.codeName, e.suggestions)); // NOT_FOUND [ 'math.add' ]
  console.log(await Promise.all([0, 1, 2, 3, 4].map((i) => node.call('math.square', i))));
} finally {
  await node.close();
}
