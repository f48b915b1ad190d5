//! Relay cursor pagination: opaque cursors, `first` capped at 100, `totalCount`.

use async_graphql::SimpleObject;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

use super::types::{case::CaseNode, referral::ReferralNode};
use crate::error::{ApiError, ApiResult};

/// Default page size when `first` is not given.
pub const DEFAULT_PAGE: u64 = 20;
/// The largest page a caller gets, whatever `first` asks.
pub const MAX_PAGE: u64 = 100;

/// Where a page of results stands.
#[derive(SimpleObject, Clone)]
#[graphql(shareable)]
pub struct PageInfo {
    /// Whether more results follow.
    pub has_next_page: bool,
    /// The cursor of the last edge; pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

/// A case in a page.
#[derive(SimpleObject)]
pub struct CaseEdge {
    /// Opaque position of this edge.
    pub cursor: String,
    /// The case.
    pub node: CaseNode,
}

/// A page of cases.
#[derive(SimpleObject)]
pub struct CaseConnection {
    /// The cases of this page.
    pub edges: Vec<CaseEdge>,
    /// Where this page stands.
    pub page_info: PageInfo,
    /// How many cases match, across all pages.
    pub total_count: i64,
}

/// A referral in a page.
#[derive(SimpleObject)]
pub struct ReferralEdge {
    /// Opaque position of this edge.
    pub cursor: String,
    /// The referral.
    pub node: ReferralNode,
}

/// A page of referrals.
#[derive(SimpleObject)]
pub struct ReferralConnection {
    /// The referrals of this page.
    pub edges: Vec<ReferralEdge>,
    /// Where this page stands.
    pub page_info: PageInfo,
    /// How many referrals match, across all pages.
    pub total_count: i64,
}

/// The page size for `first`: default 20, at most 100.
pub fn page_size(first: Option<i32>) -> ApiResult<u64> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n < 0 => Err(ApiError::validation("first", "first must not be negative")),
        Some(n) => Ok((n as u64).min(MAX_PAGE)),
    }
}

/// An opaque cursor for a row id of a given kind.
pub fn encode_cursor(kind: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

/// The row id inside a cursor; a cursor of another kind or not ours is a validation error.
pub fn decode_cursor(kind: &str, cursor: &str) -> ApiResult<String> {
    let bad = || ApiError::validation("after", "this cursor was not issued by this list");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    text.strip_prefix(kind)
        .and_then(|r| r.strip_prefix(':'))
        .map(str::to_string)
        .ok_or_else(bad)
}
