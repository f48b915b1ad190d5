// Runs the example Region subgraph on 127.0.0.1.
//   REGION_CATALOGUE=path/to/catalogue.json   { "<agency id>": [{ "name", "kind", "phone" }] }
//   REGION_BIND=127.0.0.1:0                     (port 0 picks a free port)
// Prints `listening on http://ADDR` on stdout, like the hub.
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { typeDefs, makeResolvers } from './schema.mjs';

const cataloguePath = process.env.REGION_CATALOGUE;
const catalogue = cataloguePath ? JSON.parse(readFileSync(cataloguePath, 'utf8')) : {};
const [host, port] = (process.env.REGION_BIND ?? '127.0.0.1:0').split(':');

const server = new ApolloServer({
  schema: buildSubgraphSchema([{ typeDefs, resolvers: makeResolvers(catalogue) }]),
  plugins: [ApolloServerPluginLandingPageDisabled()],
});
const { url } = await startStandaloneServer(server, { listen: { host, port: Number(port) } });
const addr = new URL(url).host;
console.log(`listening on http://${addr}`);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await server.stop();
    process.exit(0);
  });
}
