//! `strata graph`: the stack's dependency graph as Graphviz or Mermaid, from the stack alone
//! (the graph the loader built, which the planner orders by).
//!
//! An edge `a -> b` means `b` depends on `a` (a reference or `depends_on`), so arrows follow
//! the order of creation. Nodes come in declaration order, edges sorted: the same stack always
//! prints the same text.

use stacks::Stack;

use crate::args::{Global, GraphArgs, GraphFormat};
use crate::context::{load_stack, Outcome};
use crate::ui::EXIT_OK;

pub(crate) fn graph(global: &Global, args: &GraphArgs) -> Outcome {
    let stack = load_stack(global)?;
    let text = match args.format {
        GraphFormat::Dot => dot(&stack),
        GraphFormat::Mermaid => mermaid(&stack),
    };
    print!("{text}");
    Ok(EXIT_OK)
}

fn dot(stack: &Stack) -> String {
    // Addresses, types and stack names never hold `"` or `\`; `\n` in a label is a line break.
    let quote = |s: &str| format!("\"{s}\"");
    let mut out = format!("digraph {} {{\n", quote(&stack.name));
    out.push_str("  rankdir = LR;\n  node [shape = box];\n");
    for decl in stack.resources.values() {
        out.push_str(&format!(
            "  {} [label = {}];\n",
            quote(&decl.address),
            quote(&format!("{}\\n{}", decl.address, decl.type_name))
        ));
    }
    for (from, to) in stack.graph.edges() {
        out.push_str(&format!("  {} -> {};\n", quote(&from), quote(&to)));
    }
    out.push_str("}\n");
    out
}

fn mermaid(stack: &Stack) -> String {
    // Node ids: the address with anything but letters, digits and `_` made `_`; `end` is a
    // Mermaid keyword.
    let id = |address: &str| {
        let id: String = address
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if id == "end" {
            "end_".to_string()
        } else {
            id
        }
    };
    let mut out = String::from("flowchart LR\n");
    for decl in stack.resources.values() {
        out.push_str(&format!(
            "  {}[\"{} ({})\"]\n",
            id(&decl.address),
            decl.address,
            decl.type_name
        ));
    }
    for (from, to) in stack.graph.edges() {
        out.push_str(&format!("  {} --> {}\n", id(&from), id(&to)));
    }
    out
}
