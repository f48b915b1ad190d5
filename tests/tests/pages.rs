//! Issue 15: the pages the hub serves (`/`, GraphiQL on `GET /graphql`, `/map`) load nothing from
//! outside the hub, say what the hub is, and keep the security headers. (Rendering them is the
//! browser check's work: `tests/browser/`.)

use crate::{common::TestHub, hub_test};

/// Every `src` and `href` of a page.
fn links(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1))
        .map(|rest| rest.split('"').next().unwrap_or_default().to_string())
        .collect()
}

async fn get(hub: &TestHub, path: &str) -> reqwest::Response {
    hub.client
        .get(format!("http://{}{path}", hub.hub.addr))
        .header("accept", "text/html")
        .send()
        .await
        .expect("the hub answers")
}

async fn pages_are_whole_and_local(hub: TestHub) {
    for path in ["/", "/map", "/graphql"] {
        let resp = get(&hub, path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let csp = resp.headers()["content-security-policy"]
            .to_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            !csp.contains("http"),
            "{path} may load from elsewhere: {csp}"
        );
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert_eq!(resp.headers()["x-frame-options"], "DENY");
        let html = resp.text().await.expect("a page");
        assert!(html.contains("lang=\"it\""), "{path} is in Italian");
        for link in links(&html) {
            assert!(link.starts_with('/'), "{path} links {link} outside the hub");
            if link.starts_with("/assets/") {
                let asset = get(&hub, &link).await;
                assert_eq!(asset.status(), 200, "{path} needs {link}");
                assert!(!asset.bytes().await.expect("a body").is_empty());
            }
        }
    }
    let landing = get(&hub, "/").await.text().await.expect("a page");
    assert!(landing.contains(env!("CARGO_PKG_VERSION")), "{landing}");
    assert!(
        landing.contains(hub.hub.state.policy.version()),
        "the protocol version"
    );
    for link in ["/map", "/graphql", "/healthz"] {
        assert!(landing.contains(&format!("href=\"{link}\"")), "{link}");
    }
    // No other file is served, whatever the name.
    for path in [
        "/assets/../Cargo.toml",
        "/assets/nothing.js",
        "/assets/%2e%2e%2fCargo.toml",
    ] {
        let resp = get(&hub, path).await;
        assert_eq!(resp.status(), 404, "{path}");
    }
    hub.finish().await;
}
hub_test!(pages_are_whole_and_local);
