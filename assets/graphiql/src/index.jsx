// The GraphiQL page of fulian-graph: everything it needs is bundled into graphiql.js and
// graphiql.css and served by the binary itself, so the IDE works on networks without internet.
// The page (src/http/graphiql.rs) holds only <div id="graphiql"> and the two asset links.
import 'graphiql/style.css';
import './page.css';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

// Same origin as the page: the server treats same-origin browser requests as its own.
const ENDPOINT = '/graphql';

const DEFAULT_QUERY = `# Welcome to fulian-graph.
#
# Reads need no token. To act as
# someone (writes, audit log), open
# "Headers" below and enter:
#   {"Authorization": "Bearer <token>"}
#
# Run: Ctrl-Enter or the ▶ button.
# Schema: the book icon on the left.
{
  regions(first: 5) {
    totalCount
    edges {
      node {
        code
        name
        level
      }
    }
  }
}
`;

/** POSTs one GraphQL request as JSON; returns the response body (errors included). */
async function fetcher(params, options) {
  const response = await fetch(ENDPOINT, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/graphql-response+json, application/json',
      ...(options && options.headers),
    },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${response.status} ${response.statusText}: ${text.slice(0, 500)}` }] };
  }
}

function start() {
  const root = createRoot(document.getElementById('graphiql'));
  root.render(
    <StrictMode>
      <GraphiQL
        fetcher={fetcher}
        defaultQuery={DEFAULT_QUERY}
        isHeadersEditorEnabled
        defaultEditorToolsVisibility="headers"
        shouldPersistHeaders={false}
      >
        {/* Our name instead of GraphiQL's logo, which links to a site an offline network cannot reach. */}
        <GraphiQL.Logo>fulian-graph</GraphiQL.Logo>
      </GraphiQL>
    </StrictMode>,
  );
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
