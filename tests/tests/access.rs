//! Access rules of ACCESS.md through the public API.
