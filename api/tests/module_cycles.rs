//! No module of `api/src` imports from a module that imports it back, directly or around a longer
//! circle: checked here from the sources, not claimed.
//!
//! Every `crate::…` and `super::…` path of a module (its `use` trees and paths in code; comments
//! and `#[cfg(test)]` modules are skipped) is resolved to the deepest module it names. A module
//! may use its own descendants and ancestors freely (Rust's `mod` tree); any other reference is
//! an edge between the two siblings under their lowest common ancestor (a use of
//! `graphql::types::case` from `graphql::query` is the edge `types` ← `query` under `graphql`).
//! At every level, the siblings' edges must form no cycle.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// A module path under the crate root (`["graphql", "query"]`).
type ModPath = Vec<String>;

/// One reference from one module to another, with where it was found.
#[derive(Debug, Clone)]
struct Evidence {
    from: ModPath,
    to: ModPath,
    at: String,
}

fn src_dir() -> PathBuf {
    let root = option_env!("CARGO_MANIFEST_DIR").unwrap_or("api");
    Path::new(root).join("src")
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read the source folder")
        .map(|e| e.expect("a folder entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file defines (`lib.rs` is the root, `a/mod.rs` is `a`); `None` for the binary.
fn module_of(src: &Path, file: &Path) -> Option<ModPath> {
    let rel = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    match last.as_str() {
        "main.rs" if parts.is_empty() => None,
        "lib.rs" if parts.is_empty() => Some(parts),
        "mod.rs" => Some(parts),
        name => {
            parts.push(name.trim_end_matches(".rs").to_string());
            Some(parts)
        }
    }
}

/// The file's code without comments and without its `#[cfg(test)]` module.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            if lines
                .peek()
                .is_some_and(|l| l.trim_start().starts_with("mod "))
            {
                break;
            }
            continue;
        }
        if t.starts_with("//") {
            out.push('\n');
            continue;
        }
        // A trailing comment: cut at `//` outside a string (good enough for this code base).
        let mut in_str = false;
        let mut cut = line.len();
        let bytes = line.as_bytes();
        for i in 0..bytes.len() {
            match bytes[i] {
                b'"' if i == 0 || bytes[i - 1] != b'\\' => in_str = !in_str,
                b'/' if !in_str && bytes.get(i + 1) == Some(&b'/') => {
                    cut = i;
                    break;
                }
                _ => {}
            }
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Parses a use tree (or a plain path) at `s[*i..]`, after a leading `crate::`/`super::`;
/// pushes every full path it names (relative to `prefix`).
fn parse_tree(s: &[char], i: &mut usize, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let skip_ws = |i: &mut usize| {
        while *i < s.len() && s[*i].is_whitespace() {
            *i += 1;
        }
    };
    let depth = prefix.len();
    loop {
        skip_ws(i);
        if *i < s.len() && s[*i] == '{' {
            *i += 1;
            loop {
                skip_ws(i);
                if *i < s.len() && s[*i] == '}' {
                    *i += 1;
                    break;
                }
                parse_tree(s, i, prefix, out);
                skip_ws(i);
                if *i < s.len() && s[*i] == ',' {
                    *i += 1;
                }
                if *i >= s.len() {
                    break;
                }
            }
            break;
        }
        let start = *i;
        while *i < s.len() && is_ident(s[*i]) {
            *i += 1;
        }
        if start == *i {
            // `*` or anything else: the path so far.
            out.push(prefix.clone());
            break;
        }
        let seg: String = s[start..*i].iter().collect();
        if seg != "self" {
            prefix.push(seg);
        }
        if *i + 1 < s.len() && s[*i] == ':' && s[*i + 1] == ':' {
            *i += 2;
            continue;
        }
        out.push(prefix.clone());
        break;
    }
    prefix.truncate(depth);
}

/// Every module path `code` refers to through `crate::` or `super::`, resolved from `module`
/// (whose file is a `mod.rs` or `lib.rs` when `is_dir`), with its line.
fn references(code: &str, module: &ModPath, is_dir: bool) -> Vec<(Vec<String>, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        let starts_word = i == 0 || !is_ident(chars[i - 1]) && chars[i - 1] != ':';
        let rest = |word: &str| chars[i..].iter().take(word.len()).copied().eq(word.chars());
        if starts_word && (rest("crate::") || rest("super::")) {
            let mut base: Vec<String> = Vec::new();
            let mut j = i;
            if rest("crate::") {
                j += "crate::".len();
            } else {
                // `super` of a file module is its parent; of a `mod.rs`, the folder's parent.
                base = module.clone();
                if !is_dir || !base.is_empty() {
                    base.pop();
                }
                j += "super::".len();
                while chars[j..].iter().take(7).copied().eq("super::".chars()) {
                    base.pop();
                    j += 7;
                }
            }
            let mut paths = Vec::new();
            parse_tree(&chars, &mut j, &mut base.clone(), &mut paths);
            out.extend(paths.into_iter().map(|p| (p, line)));
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

/// The deepest known module `path` names.
fn resolve(path: &[String], modules: &BTreeSet<ModPath>) -> ModPath {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
        .unwrap_or_default()
}

/// The cycles (strongly connected sets of more than one sibling) of one sibling graph.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let nodes: BTreeSet<&String> = edges
        .iter()
        .flat_map(|(a, bs)| std::iter::once(a).chain(bs.iter()))
        .collect();
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for m in edges.get(&n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    stack.push(m.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut found: Vec<BTreeSet<String>> = Vec::new();
    for n in &nodes {
        if !reachable[n].contains(*n) {
            continue;
        }
        let scc: BTreeSet<String> = nodes
            .iter()
            .filter(|m| reachable[n].contains(**m) && reachable[**m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        if !found.contains(&scc) {
            found.push(scc);
        }
    }
    found
}

#[test]
fn no_module_imports_from_a_module_that_imports_it_back() {
    let src = src_dir();
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut sources = Vec::new();
    let mut modules = BTreeSet::new();
    for file in &all {
        if let Some(m) = module_of(&src, file) {
            modules.insert(m.clone());
            sources.push((file.clone(), m));
        }
    }
    assert!(modules.len() > 20, "found the modules of {}", src.display());
    // Sibling graphs, keyed by their parent.
    let mut graphs: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut evidence: BTreeMap<(ModPath, String, String), Evidence> = BTreeMap::new();
    for (file, module) in &sources {
        let text = fs::read_to_string(file).expect("read a source file");
        let is_dir = file.ends_with("mod.rs") || file.ends_with("lib.rs");
        for (path, line) in references(&code_of(&text), module, is_dir) {
            let target = resolve(&path, &modules);
            let common = module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common == module.len() || common == target.len() {
                continue; // an ancestor or a descendant
            }
            let parent = module[..common].to_vec();
            let (a, b) = (module[common].clone(), target[common].clone());
            graphs
                .entry(parent.clone())
                .or_default()
                .entry(a.clone())
                .or_default()
                .insert(b.clone());
            evidence.entry((parent, a, b)).or_insert_with(|| Evidence {
                from: module.clone(),
                to: target.clone(),
                at: format!(
                    "{}:{line}",
                    file.strip_prefix(&src).unwrap_or(file).display()
                ),
            });
        }
    }
    let mut problems = Vec::new();
    for (parent, edges) in &graphs {
        for scc in cycles(edges) {
            let mut lines = vec![format!(
                "cycle under `crate::{}`: {}",
                parent.join("::"),
                scc.iter().cloned().collect::<Vec<_>>().join(", ")
            )];
            for a in &scc {
                for b in edges
                    .get(a)
                    .into_iter()
                    .flatten()
                    .filter(|b| scc.contains(*b))
                {
                    let e = &evidence[&(parent.clone(), a.clone(), (*b).clone())];
                    lines.push(format!(
                        "  {} -> {} ({})",
                        e.from.join("::"),
                        e.to.join("::"),
                        e.at
                    ));
                }
            }
            problems.push(lines.join("\n"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
