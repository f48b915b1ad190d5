// The example subgraph: a Region's catalogue of services offered by the network's agencies.
// It knows agencies only by the hub's id (`Agency @key(fields: "id")`) and adds `services`.
// `regionalDirectory` lists the catalogue with each service's provider as a reference
// (`Agency` with only its `id`) that the gateway completes from the hub's `_entities`.
import { parse } from 'graphql';

export const SUBGRAPH_NAME = 'region';

export const typeDefsText = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])

  "What a regional service offers."
  enum RegionalServiceKind {
    HELPLINE
    SHELTER_ACCESS
    LEGAL_ADVICE
    HEALTH
    LANGUAGE_COURSE
    JOB_PLACEMENT
  }

  "A service in the Region's catalogue, offered by an agency of the network."
  type RegionalService {
    name: String!
    kind: RegionalServiceKind!
    phone: String
    "The agency that offers it, completed by the hub (null when the hub does not know it)."
    provider: Agency
  }

  # The hub's Agency (its description is the hub's), extended with the Region's catalogue.
  type Agency @key(fields: "id") {
    id: ID!
    "The services this agency offers in the Region's catalogue."
    services: [RegionalService!]!
  }

  type Query {
    "The whole catalogue, in agency id order then service name."
    regionalDirectory: [RegionalService!]!
  }
`;

export const typeDefs = parse(typeDefsText);

/**
 * Resolvers over a catalogue `{ [agencyId]: [{ name, kind, phone }] }`.
 * An agency the catalogue does not name has no services (never an error: the hub owns agencies).
 */
export function makeResolvers(catalogue) {
  const servicesOf = (id) =>
    (catalogue[id] ?? []).map((s) => ({ ...s, phone: s.phone ?? null, providerId: id }));
  return {
    Query: {
      regionalDirectory: () =>
        Object.keys(catalogue)
          .sort()
          .flatMap((id) => servicesOf(id).sort((a, b) => a.name.localeCompare(b.name))),
    },
    Agency: {
      __resolveReference: (ref) => ({ id: ref.id }),
      services: (agency) => servicesOf(agency.id),
    },
    RegionalService: {
      provider: (s) => ({ __typename: 'Agency', id: s.providerId }),
    },
  };
}
