#!/usr/bin/env node
// An Apollo gateway over a static supergraph (no introspection, no uplink).
//
//   SUPERGRAPH=out/supergraph.graphql
//   HUB_URLS=http://127.0.0.1:A/graphql,http://127.0.0.1:B/graphql   (round-robin, one per fetch)
//   REGION_URL=http://127.0.0.1:C/graphql
//   GATEWAY_BIND=127.0.0.1:0
//   GATEWAY_FORWARD_AUTH=hub        subgraphs that receive the caller's Authorization header
//   GATEWAY_DEBUG_FETCHES=1         add `extensions.subgraphFetches` ([{subgraph, url}]) to each
//                                   answer, so that a test can see the round-robin alternate
//
// Prints `listening on http://ADDR` on stdout.
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';

const supergraphSdl = readFileSync(process.env.SUPERGRAPH ?? new URL('./out/supergraph.graphql', import.meta.url), 'utf8');
const urlsBySubgraph = {
  hub: (process.env.HUB_URLS ?? '').split(',').filter(Boolean),
  region: (process.env.REGION_URL ?? '').split(',').filter(Boolean),
};
const forwardAuth = new Set((process.env.GATEWAY_FORWARD_AUTH ?? 'hub').split(',').filter(Boolean));
const [host, port] = (process.env.GATEWAY_BIND ?? '127.0.0.1:0').split(':');

/** Sends each fetch of one subgraph to the next of its URLs, and forwards the caller's token. */
class RoundRobinDataSource extends RemoteGraphQLDataSource {
  constructor(name, urls) {
    super({ url: urls[0] });
    this.name = name;
    this.urls = urls;
    this.next = 0;
  }

  willSendRequest({ request, context }) {
    const url = this.urls[this.next];
    this.next = (this.next + 1) % this.urls.length;
    request.http.url = url;
    if (forwardAuth.has(this.name) && context?.authorization) {
      request.http.headers.set('authorization', context.authorization);
    }
    context?.subgraphFetches?.push({ subgraph: this.name, url });
  }
}

const gateway = new ApolloGateway({
  supergraphSdl,
  buildService({ name, url }) {
    const urls = urlsBySubgraph[name]?.length ? urlsBySubgraph[name] : [url];
    return new RoundRobinDataSource(name, urls);
  },
});

const debugFetches = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind === 'single') {
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, subgraphFetches: contextValue.subgraphFetches };
        }
      },
    };
  },
};

const server = new ApolloServer({
  gateway,
  plugins: [
    ApolloServerPluginLandingPageDisabled(),
    ...(process.env.GATEWAY_DEBUG_FETCHES === '1' ? [debugFetches] : []),
  ],
  // Subgraph errors reach the caller as the subgraph wrote them (codes included).
  includeStacktraceInErrorResponses: false,
});
const { url } = await startStandaloneServer(server, {
  listen: { host, port: Number(port) },
  context: async ({ req }) => ({ authorization: req.headers.authorization, subgraphFetches: [] }),
});
console.log(`listening on http://${new URL(url).host}`);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await server.stop();
    process.exit(0);
  });
}
