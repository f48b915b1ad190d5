//! Limits on what one request may ask, checked before any resolver runs (ACCESS.md §10:
//! `LIMIT_EXCEEDED`). Depth, complexity and directives are enforced by the GraphQL engine;
//! aliases, root fields and tokens are counted here on the parsed document.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::error::ApiError;

/// Who may ask the schema about itself (introspection). Anonymous callers never may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Introspection {
    /// Callers with a valid token (partners' developers and GraphiQL).
    Partners,
    /// Nobody: production deployments whose partners work from the published schema.
    Off,
}

/// The request limits, with safe defaults. Each is a flag and an environment variable.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Limits {
    /// Deepest nesting of selections.
    #[arg(
        long = "max-depth",
        global = true,
        env = "RACCORDO_MAX_DEPTH",
        default_value_t = 12
    )]
    pub depth: usize,
    /// Largest complexity of a whole HTTP request, every operation of a batch together: one per
    /// field, each list multiplying its selection by its items (`first`, the representations of
    /// `_entities`, 10 for a list without `first`), every alias and fragment counted each time.
    #[arg(
        long = "max-complexity",
        global = true,
        env = "RACCORDO_MAX_COMPLEXITY",
        default_value_t = 50_000
    )]
    pub complexity: usize,
    /// Most aliases in one document.
    #[arg(
        long = "max-aliases",
        global = true,
        env = "RACCORDO_MAX_ALIASES",
        default_value_t = 30
    )]
    pub aliases: usize,
    /// Most root fields in one operation.
    #[arg(
        long = "max-root-fields",
        global = true,
        env = "RACCORDO_MAX_ROOT_FIELDS",
        default_value_t = 20
    )]
    pub root_fields: usize,
    /// Most directives in one document.
    #[arg(
        long = "max-directives",
        global = true,
        env = "RACCORDO_MAX_DIRECTIVES",
        default_value_t = 20
    )]
    pub directives: usize,
    /// Most lexical tokens in one document.
    #[arg(
        long = "max-tokens",
        global = true,
        env = "RACCORDO_MAX_TOKENS",
        default_value_t = 5_000
    )]
    pub tokens: usize,
    /// Most items in one list of a request's variables (a gateway's entity representations,
    /// say); lists written in the document are bounded by the token limit.
    #[arg(
        long = "max-list-items",
        global = true,
        env = "RACCORDO_MAX_LIST_ITEMS",
        default_value_t = 1_000
    )]
    pub list_items: usize,
    /// Most entity representations (`_entities`) in one HTTP request, every alias, repeated
    /// variable and operation of a batch counted.
    #[arg(
        long = "max-representations",
        global = true,
        env = "RACCORDO_MAX_REPRESENTATIONS",
        default_value_t = 1_000
    )]
    pub representations: usize,
    /// Largest answer one HTTP request may build, in bytes of JSON, every operation of a batch
    /// together; past it the hub stops building and answers `LIMIT_EXCEEDED`.
    #[arg(long = "max-response-bytes", global = true, env = "RACCORDO_MAX_RESPONSE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub response_bytes: usize,
    /// Most operations in one batched HTTP request; 0 turns batching off.
    #[arg(
        long = "max-batch",
        global = true,
        env = "RACCORDO_MAX_BATCH",
        default_value_t = 10
    )]
    pub batch: usize,
    /// Largest request body, in bytes.
    #[arg(long = "max-body-bytes", global = true, env = "RACCORDO_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub body_bytes: usize,
    /// Longest a whole HTTP request may run, every operation of a batch together (`10s`, `1m`);
    /// its database work is cancelled past it and nothing of its answer is sent.
    #[arg(long = "request-timeout", global = true, env = "RACCORDO_REQUEST_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// Who may use introspection: `partners` (any valid token) or `off`. Never anonymous callers.
    #[arg(long, global = true, env = "RACCORDO_INTROSPECTION", value_enum, default_value_t = Introspection::Partners)]
    pub introspection: Introspection,
    /// Requests per minute one user may make (a burst of a minute's allowance, then a steady rate).
    #[arg(
        long = "rate-limit-user",
        global = true,
        env = "RACCORDO_RATE_LIMIT_USER",
        default_value_t = 600
    )]
    pub per_user_per_minute: u32,
    /// Requests per minute all users of one agency together may make (anonymous callers share one allowance).
    #[arg(
        long = "rate-limit-agency",
        global = true,
        env = "RACCORDO_RATE_LIMIT_AGENCY",
        default_value_t = 3_000
    )]
    pub per_agency_per_minute: u32,
    /// Cost one user's requests may spend per minute (a burst of a minute's budget, then a
    /// steady rate): each root field of each operation pays its complexity, statistics,
    /// releases and imports ten times it. Answers report `extensions.cost`.
    #[arg(
        long = "cost-limit-user",
        global = true,
        env = "RACCORDO_COST_LIMIT_USER",
        default_value_t = 200_000
    )]
    pub cost_per_user_per_minute: u32,
    /// Cost all users of one agency together may spend per minute.
    #[arg(
        long = "cost-limit-agency",
        global = true,
        env = "RACCORDO_COST_LIMIT_AGENCY",
        default_value_t = 600_000
    )]
    pub cost_per_agency_per_minute: u32,
    /// Requests the hub works on at once; more wait for none and get 503 with Retry-After.
    #[arg(
        long = "max-concurrent-requests",
        global = true,
        env = "RACCORDO_MAX_CONCURRENT_REQUESTS",
        default_value_t = 64
    )]
    pub concurrent: usize,
    /// Requests one agency may have in flight at once, so that its slow queries cannot take every slot.
    #[arg(
        long = "max-concurrent-per-agency",
        global = true,
        env = "RACCORDO_MAX_CONCURRENT_PER_AGENCY",
        default_value_t = 16
    )]
    pub concurrent_per_agency: usize,
    /// Cost one agency's requests in flight may have together (one request alone always
    /// runs), so that a partner's expensive requests run one after another, not on every core.
    #[arg(
        long = "max-cost-in-flight-per-agency",
        global = true,
        env = "RACCORDO_MAX_COST_IN_FLIGHT_PER_AGENCY",
        default_value_t = 50_000
    )]
    pub cost_in_flight_per_agency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 12,
            complexity: 50_000,
            aliases: 30,
            root_fields: 20,
            directives: 20,
            tokens: 5_000,
            list_items: 1_000,
            representations: 1_000,
            response_bytes: 4 * 1024 * 1024,
            batch: 10,
            body_bytes: 1024 * 1024,
            timeout: std::time::Duration::from_secs(10),
            introspection: Introspection::Partners,
            per_user_per_minute: 600,
            per_agency_per_minute: 3_000,
            cost_per_user_per_minute: 200_000,
            cost_per_agency_per_minute: 600_000,
            concurrent: 64,
            concurrent_per_agency: 16,
            cost_in_flight_per_agency: 50_000,
        }
    }
}

impl Limits {
    /// These limits without the per-user and per-agency throttle (benchmarks and tests that
    /// send hundreds of requests with one token).
    pub fn without_rate_limits(self) -> Limits {
        Limits {
            per_user_per_minute: u32::MAX,
            per_agency_per_minute: u32::MAX,
            cost_per_user_per_minute: u32::MAX,
            cost_per_agency_per_minute: u32::MAX,
            concurrent: 4096,
            concurrent_per_agency: 4096,
            cost_in_flight_per_agency: usize::MAX,
            ..self
        }
    }
}

/// Parses `10s`, `2m`, `1h` (a bare number is seconds).
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let secs = crate::auth::parse_ttl(text)?;
    if secs == 0 {
        return Err("the timeout must be at least one second".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

fn exceeded(what: &str, limit: usize) -> ApiError {
    ApiError::LimitExceeded(format!("the request exceeds the {what} limit ({limit})"))
}

/// Deepest nesting of brackets (`{`, `[`, `(`) a document may have before it is parsed. The
/// parser recurses once per level: a 4 KB document of 2,000 nested list brackets overflowed a
/// worker's stack and aborted the whole hub (found by the fuzz test). Selections are bounded
/// again, more tightly, by the depth limit once parsed.
pub const MAX_NESTING: usize = 64;

/// What the lexer-level scan of a document found.
struct Scan {
    tokens: usize,
    nesting: usize,
}

/// Counts tokens the way a GraphQL lexer would, closely enough to bound the work of parsing
/// (names and numbers, strings, and punctuators), and the deepest bracket nesting.
fn scan(query: &str) -> Scan {
    let mut count = 0;
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                count += 1;
                let mut escaped = false;
                for n in chars.by_ref() {
                    if n == '"' && !escaped {
                        break;
                    }
                    escaped = n == '\\' && !escaped;
                }
            }
            c if c.is_alphanumeric() || c == '_' || c == '-' => {
                count += 1;
                while chars
                    .peek()
                    .is_some_and(|n| n.is_alphanumeric() || *n == '_' || *n == '.')
                {
                    chars.next();
                }
            }
            c if c.is_whitespace() || c == ',' => {}
            '{' | '[' | '(' => {
                count += 1;
                depth += 1;
                deepest = deepest.max(depth);
            }
            '}' | ']' | ')' => {
                count += 1;
                depth = depth.saturating_sub(1);
            }
            _ => count += 1,
        }
    }
    Scan {
        tokens: count,
        nesting: deepest,
    }
}

fn count_aliases(
    set: &SelectionSet,
    doc: &ExecutableDocument,
    seen_fragments: &mut Vec<String>,
) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some())
                    + count_aliases(&f.node.selection_set.node, doc, seen_fragments)
            }
            Selection::InlineFragment(i) => {
                count_aliases(&i.node.selection_set.node, doc, seen_fragments)
            }
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.to_string();
                if seen_fragments.contains(&name) {
                    return 0;
                }
                seen_fragments.push(name.clone());
                doc.fragments
                    .get(&s.node.fragment_name.node)
                    .map(|f| count_aliases(&f.node.selection_set.node, doc, seen_fragments))
                    .unwrap_or(0)
            }
        })
        .sum()
}

impl Limits {
    /// Checks what can be checked before the engine sees the query. A document that does not
    /// parse is left to the engine, which answers with its own validation error.
    pub fn check(&self, query: &str) -> Result<(), ApiError> {
        self.check_text(query)?;
        match async_graphql::parser::parse_query(query) {
            Ok(doc) => self.check_document(&doc),
            Err(_) => Ok(()),
        }
    }

    /// What can be checked on the text, before anything parses it: tokens and bracket nesting.
    pub fn check_text(&self, query: &str) -> Result<(), ApiError> {
        let scan = scan(query);
        if scan.tokens > self.tokens {
            return Err(exceeded("tokens", self.tokens));
        }
        if scan.nesting > MAX_NESTING {
            return Err(exceeded("nesting", MAX_NESTING));
        }
        Ok(())
    }

    /// What is checked on the parsed document: root fields and aliases.
    pub fn check_document(&self, doc: &ExecutableDocument) -> Result<(), ApiError> {
        let mut aliases = 0;
        for (_, op) in doc.operations.iter() {
            let roots = op.node.selection_set.node.items.len();
            if roots > self.root_fields {
                return Err(exceeded("root fields", self.root_fields));
            }
            aliases += count_aliases(&op.node.selection_set.node, doc, &mut Vec::new());
        }
        if aliases > self.aliases {
            return Err(exceeded("aliases", self.aliases));
        }
        Ok(())
    }
}

impl Limits {
    /// Checks what a whole HTTP request costs (every operation of a batch together) against the
    /// complexity and representation limits.
    pub fn check_cost(&self, cost: &crate::cost::Cost) -> Result<(), ApiError> {
        if cost.complexity > self.complexity as u64 {
            return Err(exceeded("complexity", self.complexity));
        }
        if cost.representations > self.representations as u64 {
            return Err(exceeded("representations", self.representations));
        }
        Ok(())
    }

    /// Checks the variables of a request: no list longer than the list limit, at any depth.
    pub fn check_variables(&self, variables: &async_graphql::Variables) -> Result<(), ApiError> {
        fn longest(value: &async_graphql::Value) -> usize {
            match value {
                async_graphql::Value::List(items) => items
                    .iter()
                    .map(longest)
                    .max()
                    .unwrap_or(0)
                    .max(items.len()),
                async_graphql::Value::Object(fields) => {
                    fields.values().map(longest).max().unwrap_or(0)
                }
                _ => 0,
            }
        }
        if variables.values().map(longest).max().unwrap_or(0) > self.list_items {
            return Err(exceeded("list items", self.list_items));
        }
        Ok(())
    }

    /// Rewords the engine's own limit errors ("Query is nested too deep.") to name the limit
    /// and its value, as the hub's own limit errors do.
    pub fn name_engine_limits(&self, errors: &mut [async_graphql::ServerError]) {
        for e in errors.iter_mut().filter(|e| e.path.is_empty()) {
            let value = match engine_limit_message(&e.message) {
                Some("complexity") => self.complexity,
                Some("depth") => self.depth,
                Some("directives") => self.directives,
                _ => continue,
            };
            if let Some(what) = engine_limit_message(&e.message) {
                e.message = format!("the request exceeds the {what} limit ({value})");
                let mut ext = e.extensions.take().unwrap_or_default();
                ext.set("code", "LIMIT_EXCEEDED");
                e.extensions = Some(ext);
            }
        }
    }
}

/// Depth a partner's introspection may reach: the standard introspection query (GraphiQL's, a
/// client generator's) nests `ofType` up to nine times, deeper than any data query needs. It
/// reads the schema, not data, so its cost is fixed.
pub const INTROSPECTION_DEPTH: usize = 20;

/// Whether every root field of every operation is introspection (`__schema`, `__type`,
/// `__typename`), which may then nest to [`INTROSPECTION_DEPTH`].
pub fn is_introspection_only(doc: &ExecutableDocument) -> bool {
    fn roots_only_meta(
        set: &SelectionSet,
        doc: &ExecutableDocument,
        seen: &mut Vec<String>,
    ) -> bool {
        set.items.iter().all(|item| match &item.node {
            Selection::Field(f) => f.node.name.node.starts_with("__"),
            Selection::InlineFragment(i) => roots_only_meta(&i.node.selection_set.node, doc, seen),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.to_string();
                if seen.contains(&name) {
                    return true;
                }
                seen.push(name);
                doc.fragments
                    .get(&s.node.fragment_name.node)
                    .is_some_and(|f| roots_only_meta(&f.node.selection_set.node, doc, seen))
            }
        })
    }
    doc.operations.iter().all(|(_, op)| {
        op.node.ty == async_graphql::parser::types::OperationType::Query
            && roots_only_meta(&op.node.selection_set.node, doc, &mut Vec::new())
    })
}

/// Turns the engine's own limit errors into `LIMIT_EXCEEDED`.
pub fn engine_limit_message(message: &str) -> Option<&'static str> {
    if message.contains("too complex") {
        Some("complexity")
    } else if message.contains("nested too deep") || message.contains("recursion") {
        Some("depth")
    } else if message.contains("directives") && message.contains("too many") {
        Some("directives")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tokens_and_aliases() {
        assert_eq!(scan("{ a b(x: \"s, t\") }").tokens, 9);
        let l = Limits {
            aliases: 2,
            ..Limits::default()
        };
        assert!(l.check("{ a: me { userId } b: me { userId } }").is_ok());
        assert!(l
            .check("{ a: me { userId } b: me { userId } c: me { userId } }")
            .is_err());
        let l = Limits {
            tokens: 5,
            ..Limits::default()
        };
        assert!(l.check("{ me { userId role } }").is_err());
    }

    /// Deep brackets are refused before the parser sees them, in lists, objects and selections,
    /// but not when they are inside a string.
    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let l = Limits::default();
        let deep_list = format!("{{ a(x: {}1{}) }}", "[".repeat(2000), "]".repeat(2000));
        let e = l.check(&deep_list).expect_err("refused");
        assert!(e.to_string().contains("nesting"), "{e}");
        let deep_selection = format!("{}{}", "{ a ".repeat(100), "}".repeat(100));
        assert!(l.check(&deep_selection).is_err());
        let in_a_string = format!("{{ a(x: \"{}\") }}", "[".repeat(2000));
        assert!(l.check(&in_a_string).is_ok());
        assert!(l
            .check("{ a(x: [[[1]]], y: {z: {w: 1}}) { b { c } } }")
            .is_ok());
    }

    /// The flags' defaults are the documented defaults.
    #[test]
    fn flag_defaults_match_default() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            limits: Limits,
        }
        let parsed = <Cli as clap::Parser>::try_parse_from(["raccordo"]).expect("parses");
        assert_eq!(
            format!("{:?}", parsed.limits),
            format!("{:?}", Limits::default())
        );
        let parsed = <Cli as clap::Parser>::try_parse_from([
            "raccordo",
            "--request-timeout",
            "2m",
            "--max-batch",
            "0",
        ])
        .expect("parses");
        assert_eq!(parsed.limits.timeout, std::time::Duration::from_secs(120));
        assert_eq!(parsed.limits.batch, 0);
    }
}
