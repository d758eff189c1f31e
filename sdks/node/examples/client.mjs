// A client: node examples/client.mjs /path/to/node/client.sock
import * as polycall from 'polycall';

const client = await polycall.connect(process.argv[2]);
try {
  console.log(await client.call('stats.mean', new Float64Array([1, 2, 3, 4])));
  console.log(await client.withOptions({ timeoutMs: 500 }).call('math.cos', 0));
  for (const f of await client.functions('stats.*')) console.log(f.signature);
} catch (e) {
  if (e instanceof polycall.NotFoundError) console.error('not registered:', e.message);
  else throw e;
} finally {
  await client.close();
}
