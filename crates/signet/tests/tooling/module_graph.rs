//! The binary's (and the gateway's) top-level modules must not import each other in a
//! circle; the binary's keep their
//! layers: `cli` uses only the shared helpers (modules that use nothing of ours but each
//! other: `rpc`, `input`, `output`, …); `cmd`, `serve`, `bench` and the rest use only `cli`
//! and those helpers; `main` dispatches.
//!
//! The test reads `crates/signet/src` as text. In every file it blanks comments, strings and
//! character literals, then finds the paths that leave their own top-level module:
//! `crate::x…` (with `crate::{x, y::z}` groups), and `super::` chains that climb up to the
//! crate root (counting the file's depth and the inline `mod m { … }` blocks around the
//! path). Each such path is an edge from the file's top-level module to `x`; `main.rs`
//! (the root) is the only module allowed to reach everything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where an edge was seen, for the failure message.
type Edges = BTreeMap<String, BTreeMap<String, String>>;

/// The root module; its edges are not checked (it declares and dispatches to everything).
const ROOT: &str = "main";

#[test]
fn the_top_level_modules_import_no_circle() {
    assert_no_circle(&graph(), "crates/signet/src");
}

/// The gateway's features and shared handles (`app`, `api`, `auth`, `directory`, …) form
/// no circle either: a feature uses handles and other features, never the adapters or
/// the composition.
#[test]
fn the_gateway_modules_import_no_circle() {
    let graph = gateway_graph();
    // Guards against reading nothing.
    for (from, to) in [
        ("app", "auth"),
        ("api", "app"),
        ("auth", "tokens"),
        ("tokens", "directory"),
    ] {
        assert!(
            graph.get(from).is_some_and(|d| d.contains_key(to)),
            "{from} -> {to} not seen in the gateway: {graph:?}"
        );
    }
    assert_no_circle(&graph, "crates/signet-gateway/src");
}

fn assert_no_circle(graph: &Edges, what: &str) {
    if let Some(cycle) = find_cycle(graph) {
        let mut why = String::new();
        for pair in cycle.windows(2) {
            let seen = &graph[&pair[0]][&pair[1]];
            why.push_str(&format!("\n  {} -> {}  ({seen})", pair[0], pair[1]));
        }
        panic!("the top-level modules of {what} import in a circle:{why}");
    }
}

#[test]
fn cli_uses_only_helpers_and_the_rest_only_cli_and_helpers() {
    let graph = graph();
    let helpers = helpers(&graph);
    let mut wrong = Vec::new();
    for (module, deps) in graph.iter().filter(|(m, _)| m.as_str() != ROOT) {
        for (dep, seen) in deps {
            let allowed = helpers.contains(dep) || (module != "cli" && dep == "cli");
            if !allowed {
                wrong.push(format!("\n  {module} -> {dep}  ({seen})"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "`cli` may use only the shared helpers {helpers:?}, every other module only `cli` \
         and those helpers:{}",
        wrong.concat()
    );
}

/// The shared helpers: the largest set of modules (besides the root and `cli`) that use
/// nothing of ours but each other.
fn helpers(graph: &Edges) -> BTreeSet<String> {
    let mut helpers: BTreeSet<String> = graph
        .keys()
        .filter(|m| m.as_str() != ROOT && m.as_str() != "cli")
        .cloned()
        .collect();
    loop {
        let before = helpers.len();
        let keep: BTreeSet<String> = helpers
            .iter()
            .filter(|m| graph[*m].keys().all(|d| helpers.contains(d)))
            .cloned()
            .collect();
        helpers = keep;
        if helpers.len() == before {
            return helpers;
        }
    }
}

#[test]
fn the_graph_is_read_from_the_sources() {
    // Guards against a parser that finds nothing and so passes everything.
    let graph = graph();
    for m in ["cli", "cmd", "serve", "bench", "rpc"] {
        assert!(graph.contains_key(m), "module {m} not found: {graph:?}");
    }
    assert!(graph["cmd"].contains_key("cli"), "cmd -> cli not seen");
    assert!(graph["cmd"].contains_key("rpc"), "cmd -> rpc not seen");
    assert!(graph["serve"].contains_key("cli"), "serve -> cli not seen");
}

#[test]
fn paths_are_found_in_code_only() {
    let src = r##"
        use crate::{a, b::c, d::{e, f}};
        use crate::g::h; // crate::comment
        /* crate::block /* nested */ crate::block2 */
        let s = "crate::string"; let r = r#"crate::raw "# ; let ch = '"'; let l: &'static str = x;
        fn f() { crate::i::j(); pub(crate) fn k() {} }
        $crate::macro_only();
    "##;
    let found: BTreeSet<String> = paths(src, 1).into_iter().map(|(m, _)| m).collect();
    let want: BTreeSet<String> = ["a", "b", "d", "g", "i"].map(String::from).into();
    assert_eq!(found, want);
}

#[test]
fn super_paths_count_only_when_they_reach_the_root() {
    let src = "use super::x;\nmod tests {\n    use super::super::y;\n    use super::*;\n}\n";
    // Directly in src/m.rs (depth 1): `super::x` is the root's x; in `mod tests`,
    // `super::super::y` is too, while `super::*` stays inside m.
    let found: Vec<String> = paths(src, 1).into_iter().map(|(m, _)| m).collect();
    assert_eq!(found, ["x", "y"]);
    // In src/m/n.rs (depth 2) the first two stay inside m.
    assert!(paths(src, 2).is_empty());
}

/// The binary's graph.
fn graph() -> Edges {
    graph_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "main")
}

/// The gateway's graph (its root is `lib.rs`).
fn gateway_graph() -> Edges {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../signet-gateway/src");
    graph_of(&src, "lib")
}

/// Top-level module -> the top-level modules it uses, with where; the crate root file
/// (`root`, without `.rs`) is the module [`ROOT`].
fn graph_of(src: &Path, root: &str) -> Edges {
    let mut files = Vec::new();
    collect(src, &mut files);
    assert!(!files.is_empty(), "no sources under {}", src.display());
    let aliases = root_aliases(
        &std::fs::read_to_string(src.join(format!("{root}.rs"))).expect("read the root"),
    );
    let mut graph = Edges::new();
    for file in files {
        let rel = file.strip_prefix(src).expect("under src");
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let top = parts[0].trim_end_matches(".rs").to_string();
        let top = if top == root { ROOT.to_string() } else { top };
        // Depth of the file's module below the root: src/m.rs and src/m/mod.rs are 1,
        // src/m/n.rs is 2.
        let depth = if top == ROOT {
            0
        } else {
            parts.len() - usize::from(parts.last().is_some_and(|p| p == "mod.rs"))
        };
        let text = std::fs::read_to_string(&file).expect("read source");
        let deps = graph.entry(top.clone()).or_default();
        for (dep, line) in paths(&text, depth) {
            assert!(
                dep != "*",
                "{}:{line}: a glob import of the crate root",
                rel.display()
            );
            let dep = aliases.get(&dep).cloned().unwrap_or(dep);
            if dep != top {
                deps.entry(dep)
                    .or_insert_with(|| format!("{}:{line}", rel.display()));
            }
        }
    }
    graph
}

/// What the crate root re-exports (`pub use m::{A, b::C};`), by the name a path uses:
/// `crate::A` is an edge to module `m`, not to a module named `A`.
fn root_aliases(root: &str) -> BTreeMap<String, String> {
    let text = blank_comments_and_literals(root);
    let mut out = BTreeMap::new();
    for stmt in text.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            // `b::C` is exported as `C`, `X as Y` as `Y`.
            let name = item.rsplit("::").next().unwrap_or("").trim();
            let name = name.rsplit(" as ").next().unwrap_or(name).trim();
            if !name.is_empty() && name != "self" {
                out.insert(name.to_string(), module.trim().to_string());
            }
        }
    }
    out
}

#[test]
fn root_re_exports_are_edges_to_their_modules() {
    let aliases =
        root_aliases("pub use a::{B, c::D};\npub use e::F as G; // pub use x::Y;\nmod h;");
    let want: BTreeMap<String, String> = [("B", "a"), ("D", "a"), ("G", "e")]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
    assert_eq!(aliases, want);
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules named by the paths of `text` that leave for the crate root, with
/// their line numbers. `depth`: how far below the root the file's module is.
fn paths(text: &str, depth: usize) -> Vec<(String, usize)> {
    let code = blank_comments_and_literals(text);
    let b = code.as_bytes();
    let line_of = |i: usize| code[..i].matches('\n').count() + 1;
    let mut found = Vec::new();
    // Brace depths at which inline `mod name {` blocks were opened.
    let mut inline_mods: Vec<usize> = Vec::new();
    let mut braces = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => braces += 1,
            b'}' => {
                braces = braces.saturating_sub(1);
                if inline_mods.last() == Some(&braces) {
                    inline_mods.pop();
                }
            }
            _ => {}
        }
        let at_word = i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b'$' || b[i - 1] == b':');
        if at_word && code[i..].starts_with("mod ") {
            let rest = code[i + 4..].trim_start();
            let name_len = rest.bytes().take_while(|c| is_ident(*c)).count();
            if name_len > 0 && rest[name_len..].trim_start().starts_with('{') {
                inline_mods.push(braces);
            }
        }
        if at_word && code[i..].starts_with("crate::") {
            let start = i + "crate::".len();
            for m in first_segments(&code[start..]) {
                found.push((m, line_of(i)));
            }
            i = start;
            continue;
        }
        if at_word && code[i..].starts_with("super::") {
            let mut k = 0;
            let mut j = i;
            while code[j..].starts_with("super::") {
                k += 1;
                j += "super::".len();
            }
            if k >= depth + inline_mods.len() {
                for m in first_segments(&code[j..]) {
                    found.push((m, line_of(i)));
                }
            }
            i = j;
            continue;
        }
        i += 1;
    }
    found
}

/// The first segment of the path at the start of `s`: `x` of `x::y`, or of each item of a
/// `{x, y::z}` group; `*` for a glob.
fn first_segments(s: &str) -> Vec<String> {
    let s = s.trim_start();
    if let Some(group) = s.strip_prefix('{') {
        let mut items = Vec::new();
        let (mut depth, mut item_start) = (0usize, 0usize);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    items.push(&group[item_start..i]);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&group[item_start..i]);
                    item_start = i + 1;
                }
                _ => {}
            }
        }
        return items
            .into_iter()
            .flat_map(first_segments)
            .filter(|m| m != "self")
            .collect();
    }
    if s.starts_with('*') {
        return vec!["*".into()];
    }
    let name: String = s
        .bytes()
        .take_while(|c| is_ident(*c))
        .map(char::from)
        .collect();
    if name.is_empty() {
        Vec::new()
    } else {
        vec![name]
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `text` with comments, string literals (raw too) and character literals replaced by
/// spaces; newlines are kept so line numbers stay right.
fn blank_comments_and_literals(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let (mut j, mut depth) = (i + 2, 1);
            while j < b.len() && depth > 0 {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (rest.starts_with(b"r\"") || rest.starts_with(b"r#"))
            && (i == 0 || !is_ident(b[i - 1]))
        {
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            if rest.get(1 + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let body = i + 2 + hashes;
            let end = b[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |p| body + p + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if rest[0] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if rest[0] == b'\'' {
            // A character literal ('x', '\n', '"'), else a lifetime ('a, 'static).
            if rest.get(1) == Some(&b'\\') {
                let end = b[i + 2..]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map_or(b.len(), |p| i + 2 + p + 1);
                blank(&mut out, i, end);
                i = end;
            } else if let Some(len) = text[i + 1..].chars().next().map(char::len_utf8) {
                if b.get(i + 1 + len) == Some(&b'\'') {
                    blank(&mut out, i, i + 2 + len);
                    i += 2 + len;
                } else {
                    i += 1;
                }
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("only ASCII bytes were replaced")
}

/// A cycle of the graph as a path that starts and ends at the same module, if any.
fn find_cycle(graph: &Edges) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        m: &str,
        graph: &Edges,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(m) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|s| s == m).expect("on the stack");
                let mut cycle = stack[from..].to_vec();
                cycle.push(m.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(m.to_string(), Mark::Open);
        stack.push(m.to_string());
        for dep in graph.get(m).into_iter().flat_map(|d| d.keys()) {
            if let Some(cycle) = visit(dep, graph, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(m.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for m in graph.keys().filter(|m| m.as_str() != ROOT) {
        if let Some(cycle) = visit(m, graph, &mut marks, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}
