//! The hub's log on standard error: `pretty` for people, `json` for machines.
//!
//! Log values often repeat what a caller sent (an operation name, an engine message quoting it, a
//! token's claims). In the pretty format every value is escaped as the JSON format escapes it, so
//! that a caller cannot start a line of its own (issue 19: an anonymous `operationName` of
//! `"Z\nANON-FORGED-LINE"` wrote a forged line), and cut to [`MAX_VALUE_CHARS`], so that a caller
//! cannot fill the log either.

use std::{fmt::Write as _, io::IsTerminal};

use tracing_subscriber::field::MakeExt;

/// Longest value written in a pretty log line, in characters; longer ones are cut and say so.
pub const MAX_VALUE_CHARS: usize = 512;

/// A value as a pretty log line shows it: control characters escaped (`\n`, `\u{1b}`), at most
/// [`MAX_VALUE_CHARS`] characters.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(MAX_VALUE_CHARS + 32));
    for (count, c) in value.chars().enumerate() {
        if count == MAX_VALUE_CHARS {
            let _ = write!(out, "…({} bytes)", value.len());
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Starts the log: `json`, or anything else for pretty lines. `RUST_LOG` filters it.
pub fn init(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    // Colours only for a terminal: in a file, escape codes are noise (and could hide a caller's).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        let fields = tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
            let text = escape(&format!("{value:?}"));
            if field.name() == "message" {
                write!(w, "{text}")
            } else {
                write!(w, "{field}={text}")
            }
        })
        .delimited(" ");
        builder.fmt_fields(fields).init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_on_their_line_and_are_cut() {
        assert_eq!(escape("Z\nANON-FORGED-LINE"), "Z\\nANON-FORGED-LINE");
        assert_eq!(escape("a\r\u{1b}[31m"), "a\\r\\u{1b}[31m");
        assert_eq!(escape("già"), "già");
        let long = escape(&"u".repeat(60 * 1024));
        assert!(
            long.chars().count() < MAX_VALUE_CHARS + 32,
            "{}",
            long.len()
        );
        assert!(long.ends_with("(61440 bytes)"));
    }
}
