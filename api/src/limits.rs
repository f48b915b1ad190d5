//! Limits on what one request may ask, checked before any resolver runs (ACCESS.md §10:
//! `LIMIT_EXCEEDED`). Depth, complexity and directives are enforced by the GraphQL engine;
//! aliases, root fields and tokens are counted here on the parsed document.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::error::ApiError;

/// The request limits, with safe defaults.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of selections.
    pub depth: usize,
    /// Largest complexity: one per field, list fields multiplied by their `first`.
    pub complexity: usize,
    /// Most aliases in one document.
    pub aliases: usize,
    /// Most root fields in one operation.
    pub root_fields: usize,
    /// Most directives in one document.
    pub directives: usize,
    /// Most lexical tokens in one document.
    pub tokens: usize,
    /// Longest a request may run; its database work is cancelled past it.
    pub timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 12,
            complexity: 20_000,
            aliases: 30,
            root_fields: 20,
            directives: 20,
            tokens: 5_000,
            timeout: std::time::Duration::from_secs(10),
        }
    }
}

fn exceeded(what: &str, limit: usize) -> ApiError {
    ApiError::LimitExceeded(format!("the request exceeds the {what} limit ({limit})"))
}

/// Counts tokens the way a GraphQL lexer would, closely enough to bound the work of parsing:
/// names and numbers, strings, and punctuators.
fn count_tokens(query: &str) -> usize {
    let mut count = 0;
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
            _ => count += 1,
        }
    }
    count
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
        if count_tokens(query) > self.tokens {
            return Err(exceeded("tokens", self.tokens));
        }
        let Ok(doc) = async_graphql::parser::parse_query(query) else {
            return Ok(());
        };
        let mut aliases = 0;
        for (_, op) in doc.operations.iter() {
            let roots = op.node.selection_set.node.items.len();
            if roots > self.root_fields {
                return Err(exceeded("root fields", self.root_fields));
            }
            aliases += count_aliases(&op.node.selection_set.node, &doc, &mut Vec::new());
        }
        if aliases > self.aliases {
            return Err(exceeded("aliases", self.aliases));
        }
        Ok(())
    }
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
        assert_eq!(count_tokens("{ a b(x: \"s, t\") }"), 9);
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
}
