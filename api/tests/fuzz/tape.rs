//! The choice tape the generated documents come from, and the values they draw.

/// Choices drawn from a list of numbers; past its end every choice is 0, the simplest.
pub struct Tape<'a> {
    pub choices: &'a [u16],
    pub at: usize,
}

impl Tape<'_> {
    pub fn pick(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        let c = self.choices.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        c as usize % n
    }

    /// True about once in `n` draws (never past the tape's end).
    pub fn one_in(&mut self, n: usize) -> bool {
        self.pick(n) == 1
    }

    pub fn choose<'s, T>(&mut self, items: &'s [T]) -> &'s T {
        &items[self.pick(items.len())]
    }
}

pub const INTS: [&str; 14] = [
    "1",
    "0",
    "-1",
    "100",
    "101",
    "2147483647",
    "2147483648",
    "-2147483649",
    "99999999999999999999999999999999",
    "1000000",
    "1.5",
    "1e30",
    "-0",
    "-99999999999",
];
pub const FLOATS: [&str; 6] = [
    "1.0",
    "0",
    "3.14",
    "-1e308",
    "1.7976931348623157e308",
    "NaN",
];
pub const DATES: [&str; 10] = [
    "2023-06-30",
    "2022-10-01",
    "0001-01-01",
    "2023-02-30",
    "2023-13-01",
    "-2023-01-01",
    "2023-06-30T10:00:00Z",
    "yesterday",
    "",
    "99999-01-01",
];
pub const DATETIMES: [&str; 5] = [
    "2023-06-30T10:00:00Z",
    "1970-01-01T00:00:00+14:00",
    "2023-06-30T25:00:00Z",
    "2023-06-30",
    "not a time",
];

pub fn strings() -> Vec<String> {
    vec![
        "BG".into(),
        String::new(),
        "NG".into(),
        "a".repeat(300),
        "città 🦀 \u{202e}gnp.exe \u{0}".into(),
        "\"quoted\" \\ back\\slash".into(),
        "' OR 1=1 --".into(),
        "%_%".into(),
        "x".repeat(70_000),
        "{\"json\": [1, 2]}".into(),
        "\u{feff}\u{200b}\u{fffd}".into(),
        "PROFILE".into(),
        "PERMITS".into(),
        "micaela-bg".into(),
    ]
}

/// A GraphQL string literal.
pub fn gql_string(s: &str) -> String {
    serde_json::to_string(s).expect("json string")
}
