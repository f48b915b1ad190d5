//! The pages a person opens in a browser (issue 15): the landing page `/`, GraphiQL on
//! `GET /graphql`, and the network map `/map`. Every script and style sheet is served by the hub
//! itself from `api/assets/` (third-party ones vendored by `api/assets/vendor.sh` at pinned
//! versions, with their licences), so the pages work in an office that blocks CDNs, and the
//! pages' Content-Security-Policy allows nothing from elsewhere.

use axum::{
    extract::{Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
    Router,
};

use crate::state::AppState;

/// One file the pages load.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// Every file under `/assets/`: the hub's own scripts and styles, then the vendored ones.
const ASSETS: &[Asset] = &[
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../assets/favicon.svg"),
    },
    Asset {
        name: "raccordo.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/raccordo.css"),
    },
    Asset {
        name: "graphiql-init.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/graphiql-init.js"),
    },
    Asset {
        name: "map.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/map.js"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/react-dom.production.min.js"),
    },
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/vendor/graphiql.min.css"),
    },
    Asset {
        name: "leaflet.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/leaflet.js"),
    },
    Asset {
        name: "leaflet.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/vendor/leaflet.css"),
    },
    Asset {
        name: "LICENSE.react",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../../assets/vendor/LICENSE.react"),
    },
    Asset {
        name: "LICENSE.react-dom",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../../assets/vendor/LICENSE.react-dom"),
    },
    Asset {
        name: "LICENSE.graphiql",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../../assets/vendor/LICENSE.graphiql"),
    },
    Asset {
        name: "LICENSE.leaflet",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../../assets/vendor/LICENSE.leaflet"),
    },
];

/// What a page of the hub may load: its own files only. Inline styles stay allowed because
/// GraphiQL and Leaflet position their elements with them; no inline script runs.
pub const PAGE_CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'; object-src 'none'";

/// The pages' routes (`GET /graphql` is routed with GraphQL itself and calls [`graphiql`]).
pub fn router<S>(state: AppState) -> Router<S> {
    Router::new()
        .route("/", get(landing))
        .route("/map", get(map))
        .route(
            "/favicon.ico",
            get(|| async { axum::response::Redirect::permanent("/assets/favicon.svg") }),
        )
        .route("/assets/{name}", get(asset))
        .with_state(state)
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    // The files change only with the binary; an hour's cache spares a tavolo's slow line.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// The frame every page shares: Italian, the hub's style sheet, a header with the links.
fn page(title: &str, head: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="it">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Raccordo</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/raccordo.css">
{head}
</head>
<body>
<header class="top"><a class="brand" href="/">Raccordo</a>
<nav><a href="/map">Mappa della rete</a> <a href="/graphql">GraphiQL</a> <a href="/healthz">Stato</a></nav></header>
{body}
</body>
</html>
"#
    ))
}

async fn landing(State(state): State<AppState>) -> Html<String> {
    let version = env!("CARGO_PKG_VERSION");
    let protocol = escape(state.policy.version());
    page(
        "Benvenuti",
        "",
        &format!(
            r#"<main class="prose">
<h1>Raccordo</h1>
<p>Raccordo è il punto di scambio dei dati tra i soggetti della rete antitratta e antiviolenza:
prefetture, questure, commissioni territoriali, enti antitratta, centri antiviolenza, servizi
sociali e sanitari, forze dell'ordine e Numero Verde. Ogni soggetto vede solo ciò che il
protocollo gli consente, per la finalità prevista e con il consenso della persona; ogni accesso
ai dati di un caso è registrato.</p>
<dl class="facts">
<dt>Versione del servizio</dt><dd id="version">{version}</dd>
<dt>Versione del protocollo</dt><dd id="protocol-version">{protocol}</dd>
</dl>
<h2>Da qui</h2>
<ul>
<li><a href="/map">Mappa della rete</a>: i soggetti, le collaborazioni, le reti e i protocolli.
Senza token si vede l'elenco pubblico; con il token del proprio ente, ciò che il protocollo
consente.</li>
<li><a href="/graphql">GraphiQL</a>: per interrogare l'API GraphQL dal browser (serve un token).</li>
<li><a href="/healthz">Stato del servizio</a> e <a href="/readyz">disponibilità della banca dati</a>.</li>
<li>Documentazione: il file <code>README.md</code> del repository, con la visita guidata della demo,
<code>SECURITY.md</code> e le regole di accesso del protocollo in <code>policies/</code>.</li>
</ul>
<p class="small">Librerie incluse: React 18.3.1 (<a href="/assets/LICENSE.react">licenza</a>),
GraphiQL 3.9.0 (<a href="/assets/LICENSE.graphiql">licenza</a>), Leaflet 1.9.4
(<a href="/assets/LICENSE.leaflet">licenza</a>).</p>
</main>"#
        ),
    )
}

/// GraphiQL, served whole by the hub: it works with no internet.
pub fn graphiql() -> Html<String> {
    page(
        "GraphiQL",
        r#"<link rel="stylesheet" href="/assets/graphiql.min.css">"#,
        r#"<div class="token-bar"><label for="token">Token (Bearer)</label>
<input id="token" type="password" autocomplete="off" placeholder="incollare qui il token del proprio ente">
</div>
<div id="graphiql">Caricamento di GraphiQL…</div>
<script src="/assets/react.production.min.js"></script>
<script src="/assets/react-dom.production.min.js"></script>
<script src="/assets/graphiql.min.js"></script>
<script src="/assets/graphiql-init.js"></script>"#,
    )
}

async fn map() -> Html<String> {
    page(
        "Mappa della rete",
        r#"<link rel="stylesheet" href="/assets/leaflet.css">"#,
        r#"<div class="map-page">
<aside class="panel">
<div class="token-bar"><label for="token">Token (facoltativo)</label>
<input id="token" type="password" autocomplete="off" placeholder="token del proprio ente">
<button id="load" type="button">Carica</button></div>
<p id="who" class="small"></p>
<label for="search">Cerca</label><input id="search" type="search" placeholder="nome o città">
<label for="f-province">Provincia</label><select id="f-province"><option value="">tutte</option></select>
<label for="f-kind">Tipo di soggetto</label><select id="f-kind"><option value="">tutti</option></select>
<label for="f-network">Rete o protocollo</label><select id="f-network"><option value="">tutti</option></select>
<label for="f-collab">Tipo di collaborazione</label><select id="f-collab"><option value="">tutte</option></select>
<p id="counts" class="small"></p>
<div id="card" class="card" hidden></div>
<div id="shelters" class="small"></div>
</aside>
<div id="map" class="map" role="region" aria-label="Mappa della rete"></div>
</div>
<script src="/assets/leaflet.js"></script>
<script src="/assets/map.js"></script>"#,
    )
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file a page names is served, and no page names anything outside the hub.
    #[test]
    fn pages_load_only_the_hubs_own_files() {
        for html in [graphiql().0, page("x", "", "").0] {
            for src in html
                .split("src=\"")
                .skip(1)
                .chain(html.split("href=\"").skip(1))
            {
                let url = src.split('"').next().unwrap_or_default();
                assert!(url.starts_with('/'), "{url} is not the hub's own");
                if let Some(name) = url.strip_prefix("/assets/") {
                    assert!(
                        ASSETS.iter().any(|a| a.name == name),
                        "{name} is not served"
                    );
                }
            }
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
