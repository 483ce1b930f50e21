// A second subgraph for the federation check: "spotlights" that reference fulian-graph's
// Region entity by its key only. A gateway query for a spotlight's region name therefore has
// to call fulian-graph's `_entities`. Usage: node spotlight-subgraph.mjs PORT
import http from 'node:http';
import { buildSchema, graphql } from 'graphql';

const federationSdl = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
type Region @key(fields: "code", resolvable: false) { code: String! }
type Spotlight { title: String! region: Region! }
type Query { spotlights: [Spotlight!]! }
`;
const schema = buildSchema(`
type Region { code: String! }
type Spotlight { title: String! region: Region! }
type _Service { sdl: String }
type Query { spotlights: [Spotlight!]! _service: _Service! }
`);
const rootValue = {
  spotlights: () => [
    { title: '通武廊联合招聘', region: { code: '110112' } },
    { title: '武清巧娘工作室', region: { code: '120114' } },
  ],
  _service: () => ({ sdl: federationSdl }),
};

const port = Number(process.argv[2] || 4001);
http
  .createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const { query, variables, operationName } = JSON.parse(body || '{}');
      const result = await graphql({ schema, source: query, rootValue, variableValues: variables, operationName });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    });
  })
  .listen(port, '127.0.0.1', () => console.log(`spotlight subgraph on ${port}`));
