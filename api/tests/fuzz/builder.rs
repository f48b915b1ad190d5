//! The document builder: one document and its variables from a tape.

use async_graphql::parser::types::{BaseType, Type};
use proptest::{prelude::*, strategy::ValueTree, test_runner::TestRunner};
use serde_json::{json, Map, Value};

use crate::{
    runner::config,
    schema::{named, Kind, SchemaModel},
    tape::{gql_string, strings, Tape, DATES, DATETIMES, FLOATS, INTS},
};

/// Builds one document (and its variables) from a tape.
pub struct Builder<'a> {
    schema: &'a SchemaModel,
    ids: &'a [String],
    strings: Vec<String>,
    pub tape: Tape<'a>,
    var_decls: Vec<String>,
    variables: Map<String, Value>,
    fragments: Vec<String>,
    aliases: usize,
    /// Whether the document may hold deliberate mistakes (wrong types, unknown names, missing
    /// arguments, limits exceeded); without them most documents reach the resolvers.
    mistakes: bool,
}

/// Deepest nesting the builder goes to (the hub's limit is 12).
const MAX_DEPTH: usize = 15;

impl<'a> Builder<'a> {
    pub fn new(schema: &'a SchemaModel, ids: &'a [String], choices: &'a [u16]) -> Builder<'a> {
        Builder {
            schema,
            ids,
            strings: strings(),
            tape: Tape { choices, at: 0 },
            var_decls: Vec::new(),
            variables: Map::new(),
            fragments: Vec::new(),
            aliases: 0,
            mistakes: true,
        }
    }

    /// A builder that makes no deliberate mistakes.
    pub fn clean(mut self) -> Self {
        self.mistakes = false;
        self
    }

    /// One of `all`; a clean document takes only from the first `valid`.
    fn pool(&mut self, all: &[&'static str], valid: usize) -> &'static str {
        let n = if self.mistakes { all.len() } else { valid };
        all[self.tape.pick(n)]
    }

    /// A deliberate mistake, about once in `n` draws (never in a clean document).
    fn slip(&mut self, n: usize) -> bool {
        self.mistakes && self.tape.one_in(n)
    }

    pub fn document(mut self) -> (String, Value) {
        let mutation = self.tape.one_in(4);
        let root = if mutation { "Mutation" } else { "Query" };
        let selection = self.selection(root, 0);
        // Directives on an operation: @include and @skip are not allowed there.
        let directives = if self.slip(8) {
            self.directives()
        } else {
            String::new()
        };
        let mut doc = String::new();
        if !mutation && self.var_decls.is_empty() && directives.is_empty() && self.tape.pick(2) == 0
        {
            doc.push_str(&selection);
        } else {
            doc.push_str(if mutation { "mutation" } else { "query" });
            if self.tape.one_in(3) {
                doc.push_str(" Fuzz");
            }
            if !self.var_decls.is_empty() {
                doc.push('(');
                doc.push_str(&self.var_decls.join(", "));
                doc.push(')');
            }
            doc.push_str(&directives);
            doc.push(' ');
            doc.push_str(&selection);
        }
        for f in &self.fragments {
            doc.push('\n');
            doc.push_str(f);
        }
        (doc, Value::Object(self.variables))
    }

    fn selection(&mut self, type_name: &str, depth: usize) -> String {
        if depth >= if self.mistakes { MAX_DEPTH } else { 10 } {
            return "{ __typename }".into();
        }
        let members = match self.schema.types.get(type_name) {
            Some(Kind::Union(m)) => Some(m.clone()),
            _ => None,
        };
        let mut count = 1 + self.tape.pick(3);
        if self.slip(25) {
            count += self.tape.pick(40);
        }
        let mut items = Vec::new();
        for _ in 0..count {
            if let Some(m) = &members {
                let member = m[self.tape.pick(m.len())].clone();
                let inner = self.selection(&member, depth + 1);
                items.push(format!("... on {member} {inner}"));
                continue;
            }
            let item = match self.tape.pick(12) {
                0..=7 => self.field(type_name, depth),
                8 => "__typename".into(),
                9 => {
                    let on = if self.slip(6) {
                        self.tape.choose(&self.schema.names).clone()
                    } else {
                        type_name.to_string()
                    };
                    let inner = self.selection(type_name, depth + 1);
                    format!("... on {on} {inner}")
                }
                10 => {
                    let inner = self.selection(type_name, depth + 1);
                    format!("...{} {inner}", self.directives())
                }
                _ => self.fragment_spread(type_name, depth),
            };
            items.push(item);
        }
        if type_name == "Query" && depth == 0 && self.tape.one_in(6) {
            items.push(self.introspection());
        }
        format!("{{ {} }}", items.join(" "))
    }

    fn introspection(&mut self) -> String {
        match self.tape.pick(3) {
            0 => "__schema { queryType { name } types { name fields { name args { name } } } }"
                .into(),
            1 => {
                let name = self.tape.choose(&self.schema.names).clone();
                format!(
                    "__type(name: {}) {{ name kind fields {{ name }} }}",
                    gql_string(&name)
                )
            }
            _ => {
                "__schema { directives { name locations } mutationType { fields { name } } }".into()
            }
        }
    }

    fn fragment_spread(&mut self, type_name: &str, depth: usize) -> String {
        let name = format!("F{}", self.fragments.len());
        if self.slip(10) {
            // A spread of a fragment that is not defined, or that spreads itself.
            if self.tape.pick(2) == 0 {
                return "...Missing".into();
            }
            self.fragments
                .push(format!("fragment {name} on {type_name} {{ ...{name} }}"));
            return format!("...{name}");
        }
        // Reserve the name before building the body, which may define fragments of its own.
        self.fragments.push(String::new());
        let index = self.fragments.len() - 1;
        let inner = self.selection(type_name, depth + 1);
        self.fragments[index] = format!("fragment {name} on {type_name} {inner}");
        format!("...{name}")
    }

    fn field(&mut self, type_name: &str, depth: usize) -> String {
        let fields = self.schema.fields(type_name);
        if fields.is_empty() {
            return "__typename".into();
        }
        if self.slip(30) {
            // A real name in the wrong place: the answer must not suggest the right one.
            let name = self.tape.choose(&self.schema.names).clone();
            return name;
        }
        let field = fields[self.tape.pick(fields.len())].clone();
        let mut out = String::new();
        if (self.mistakes || self.aliases < 25)
            && (self.tape.one_in(5) || (self.aliases > 0 && self.tape.one_in(2)))
        {
            self.aliases += 1;
            out.push_str(&format!("a{}: ", self.aliases));
        }
        out.push_str(&field.name);
        let mut args = Vec::new();
        for a in &field.args {
            let include = if !a.ty.nullable {
                !self.slip(15)
            } else {
                self.tape.one_in(3)
            };
            if include {
                let v = self.argument(&a.ty);
                args.push(format!("{}: {v}", a.name));
            }
        }
        if self.slip(20) {
            args.push(format!(
                "bogus: {}",
                self.literal(&Type::new("Int").unwrap(), 0)
            ));
        }
        if !args.is_empty() {
            out.push_str(&format!("({})", args.join(", ")));
        }
        if self.tape.one_in(6) {
            out.push_str(&self.directives());
        }
        let inner = named(&field.ty).to_string();
        if self.schema.is_composite(&inner) {
            if !self.slip(40) {
                out.push(' ');
                out.push_str(&self.selection(&inner, depth + 1));
            }
        } else if self.slip(40) {
            out.push_str(" { id }");
        }
        out
    }

    fn directives(&mut self) -> String {
        let n = if self.slip(20) {
            25
        } else if self.mistakes {
            1 + self.tape.pick(2)
        } else {
            1
        };
        let mut out = String::new();
        for _ in 0..n {
            let choice = if self.mistakes {
                self.tape.pick(8)
            } else {
                [0, 1, 2, 7][self.tape.pick(4)]
            };
            let d = match choice {
                0 => "@include(if: true)".to_string(),
                1 => "@skip(if: false)".to_string(),
                2 => {
                    let v = self.variable(&Type::new("Boolean!").unwrap());
                    format!("@include(if: {v})")
                }
                3 => "@skip(if: \"yes\")".to_string(),
                4 => "@deprecated".to_string(),
                5 => "@unknownDirective(x: 1)".to_string(),
                6 => "@include".to_string(),
                _ => "@skip(if: true)".to_string(),
            };
            out.push(' ');
            out.push_str(&d);
        }
        out
    }

    /// An argument value: a literal, a variable, or garbage.
    fn argument(&mut self, ty: &Type) -> String {
        match self.tape.pick(if self.mistakes { 6 } else { 5 }) {
            0..=2 => self.literal(ty, 0),
            3 | 4 => self.variable(ty),
            _ => match self.tape.pick(6) {
                0 => "null".into(),
                1 => "$undeclared".into(),
                2 => "{ a: { b: [1, 2, { c: \"d\" }] } }".into(),
                3 => "[[[[[[[[[[1]]]]]]]]]]".into(),
                4 => "NOT_AN_ENUM_VALUE".into(),
                _ => "123456789012345678901234567890.5e10".into(),
            },
        }
    }

    /// Declares a variable (usually of the right type) and gives it a JSON value.
    fn variable(&mut self, ty: &Type) -> String {
        let name = format!("v{}", self.var_decls.len());
        let declared = if self.slip(8) {
            self.tape.choose(&self.schema.inputs).to_string()
        } else {
            ty.to_string()
        };
        self.var_decls.push(format!("${name}: {declared}"));
        if !self.slip(10) {
            let value = self.json(ty, 0);
            self.variables.insert(name.clone(), value);
        }
        format!("${name}")
    }

    fn literal(&mut self, ty: &Type, depth: usize) -> String {
        if ty.nullable && self.tape.one_in(10) {
            return "null".into();
        }
        match &ty.base {
            BaseType::List(inner) => {
                if self.tape.one_in(5) {
                    return self.literal(inner, depth + 1);
                }
                let n = self.tape.pick(4);
                let items: Vec<String> = (0..n).map(|_| self.literal(inner, depth + 1)).collect();
                format!("[{}]", items.join(", "))
            }
            BaseType::Named(name) => {
                let name = name.to_string();
                match self.schema.types.get(&name).cloned() {
                    Some(Kind::Enum(values)) => {
                        if self.slip(10) {
                            gql_string(&values[0])
                        } else {
                            self.tape.choose(&values).clone()
                        }
                    }
                    Some(Kind::Input(fields)) => {
                        if depth > 4 {
                            return "{}".into();
                        }
                        let mut parts = Vec::new();
                        for f in &fields {
                            let include = if f.ty.nullable {
                                self.tape.one_in(3)
                            } else {
                                !self.slip(12)
                            };
                            if include {
                                let v = self.literal(&f.ty, depth + 1);
                                parts.push(format!("{}: {v}", f.name));
                            }
                        }
                        if self.slip(15) {
                            parts.push("unknownField: 1".into());
                        }
                        format!("{{{}}}", parts.join(", "))
                    }
                    _ => self.scalar_literal(&name),
                }
            }
        }
    }

    fn scalar_literal(&mut self, name: &str) -> String {
        if self.slip(12) {
            // The wrong kind of scalar.
            return match self.tape.pick(4) {
                0 => "\"12\"".into(),
                1 => "42".into(),
                2 => "true".into(),
                _ => "3.5".into(),
            };
        }
        match name {
            "Int" => self.pool(&INTS, 5).to_string(),
            "Float" => self.pool(&FLOATS, 5).to_string(),
            "Boolean" => ["true", "false"][self.tape.pick(2)].into(),
            "ID" => gql_string(&self.ids[self.tape.pick(self.ids.len())]),
            "Date" => gql_string(self.pool(&DATES, 3)),
            "DateTime" => gql_string(self.pool(&DATETIMES, 2)),
            _ => {
                let s = self.strings[self.tape.pick(self.strings.len())].clone();
                gql_string(&s)
            }
        }
    }

    pub fn json(&mut self, ty: &Type, depth: usize) -> Value {
        if self.slip(12) {
            return self.wrong_json(depth);
        }
        if ty.nullable && self.tape.one_in(10) {
            return Value::Null;
        }
        match &ty.base {
            BaseType::List(inner) => {
                let n = self.tape.pick(4);
                Value::Array((0..n).map(|_| self.json(inner, depth + 1)).collect())
            }
            BaseType::Named(name) => {
                let name = name.to_string();
                match self.schema.types.get(&name).cloned() {
                    Some(Kind::Enum(values)) => Value::String(self.tape.choose(&values).clone()),
                    Some(Kind::Input(fields)) => {
                        let mut obj = Map::new();
                        if depth > 4 {
                            return Value::Object(obj);
                        }
                        for f in &fields {
                            let include = if f.ty.nullable {
                                self.tape.one_in(3)
                            } else {
                                !self.slip(12)
                            };
                            if include {
                                obj.insert(f.name.clone(), self.json(&f.ty, depth + 1));
                            }
                        }
                        Value::Object(obj)
                    }
                    _ => match name.as_str() {
                        "Int" => {
                            let ints = [
                                json!(1),
                                json!(0),
                                json!(-1),
                                json!(100),
                                json!(2147483648_i64),
                                json!(i64::MIN),
                                json!(u64::MAX),
                            ];
                            let n = if self.mistakes { ints.len() } else { 4 };
                            ints[self.tape.pick(n)].clone()
                        }
                        "Float" => {
                            let floats = [json!(1.5), json!(0.0), json!(-1e308), json!(f64::MAX)];
                            floats[self.tape.pick(floats.len())].clone()
                        }
                        "Boolean" => Value::Bool(self.tape.pick(2) == 1),
                        "ID" => Value::String(self.ids[self.tape.pick(self.ids.len())].clone()),
                        "Date" => Value::String(self.pool(&DATES, 3).to_string()),
                        "DateTime" => Value::String(self.pool(&DATETIMES, 2).to_string()),
                        _ => {
                            Value::String(self.strings[self.tape.pick(self.strings.len())].clone())
                        }
                    },
                }
            }
        }
    }

    /// JSON of the wrong shape for whatever was expected.
    pub fn wrong_json(&mut self, depth: usize) -> Value {
        match self.tape.pick(8) {
            0 => json!("a string"),
            1 => json!(1e300),
            2 => json!({ "nested": { "deeper": [1, { "x": null }] } }),
            3 => json!([[[]]]),
            4 => Value::Null,
            5 => Value::String("é".repeat(50_000)),
            6 => {
                // Nested objects, as deep as the tape asks (serde_json stops at 128 levels).
                let mut v = json!(1);
                for _ in 0..(1 + self.tape.pick(150)) {
                    v = json!({ "a": v });
                }
                v
            }
            _ => {
                if depth < 3 {
                    json!([self.wrong_json(depth + 1), self.wrong_json(depth + 1)])
                } else {
                    json!(false)
                }
            }
        }
    }
}

pub fn the_simplest_document_is_small() {
    let schema = SchemaModel::load();
    let ids = vec!["x".to_string()];
    let (doc, vars) = Builder::new(&schema, &ids, &[]).document();
    assert!(doc.len() < 200, "{doc}");
    assert!(async_graphql::parser::parse_query(&doc).is_ok(), "{doc}");
    assert_eq!(vars, json!({}));
    // Whatever the tape, the builder produces a document that parses (it fuzzes the meaning,
    // not the syntax: the mutation test does that).
    let mut runner = TestRunner::new(config(200));
    for _ in 0..200 {
        let tape = prop::collection::vec(any::<u16>(), 0..400)
            .new_tree(&mut runner)
            .expect("a tape")
            .current();
        let (doc, _) = Builder::new(&schema, &ids, &tape).document();
        assert!(
            async_graphql::parser::parse_query(&doc).is_ok(),
            "the builder wrote a document that does not parse:\n{doc}"
        );
    }
}
