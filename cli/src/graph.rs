//! `strata graph`: the stack's dependency graph as Graphviz or Mermaid, from the stack alone
//! (the graph the loader built, which the planner orders by).
//!
//! An edge `a -> b` means `b` depends on `a` (a reference or `depends_on`), so arrows follow
//! the order of creation. Nodes come in declaration order, edges sorted: the same stack always
//! prints the same text.

use engine::PlanRequest;
use planner::mermaid::{node_id, plan_mermaid};
use planner::{Action, Plan};
use stacks::Stack;

use crate::args::{Global, GraphArgs, GraphFormat};
use crate::context::{load_stack, open_and_plan, Outcome};
use crate::ui::{self, EXIT_OK};

pub(crate) async fn graph(global: &Global, args: &GraphArgs) -> Outcome {
    if args.plan {
        let stack = crate::reads::load_and_read(global).await?;
        let plan = plan_of(global, stack).await?;
        match args.format {
            GraphFormat::Dot => print!("{}", plan_dot(&plan)),
            GraphFormat::Mermaid => print!("{}", plan_mermaid(&plan)),
        }
        return Ok(EXIT_OK);
    }
    let stack = load_stack(global)?;
    let text = match args.format {
        GraphFormat::Dot => dot(&stack),
        GraphFormat::Mermaid => mermaid(&stack),
    };
    print!("{text}");
    Ok(EXIT_OK)
}

/// The plan `strata plan` would show, made the same way.
async fn plan_of(global: &Global, stack: Stack) -> Result<Plan, crate::context::Failure> {
    let color = ui::use_color(global.no_color, ui::stderr_is_terminal());
    let request = PlanRequest {
        refresh: true,
        ..PlanRequest::default()
    };
    let (session, plan, _) = open_and_plan(global, stack, "graph", &request, color).await?;
    session.finish_plan(&plan, None)?;
    Ok(plan)
}

/// A plan's changes in Graphviz, filled by action like the Mermaid graph.
fn plan_dot(plan: &Plan) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\\\""));
    let mut out = format!("digraph {} {{\n", quote(&plan.stack));
    out.push_str("  rankdir = LR;\n  node [shape = box, style = filled];\n");
    let changed: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    for c in &changed {
        let fill = match c.action {
            Action::Create => "#d1f0d6",
            Action::Update => "#fff3c4",
            Action::Delete => "#ffd8d3",
            _ => "#eadcff",
        };
        out.push_str(&format!(
            "  {} [label = {}, fillcolor = {}];\n",
            quote(&c.address),
            quote(&format!(
                "{} {}\\n{}",
                c.action.symbol(),
                c.address,
                c.type_name
            )),
            quote(fill)
        ));
    }
    for c in &changed {
        for dep in c.dependencies.iter().chain(&c.prior_dependencies) {
            if changed.iter().any(|d| &d.address == dep) {
                out.push_str(&format!("  {} -> {};\n", quote(dep), quote(&c.address)));
            }
        }
    }
    out.push_str("}\n");
    out
}

fn dot(stack: &Stack) -> String {
    // Addresses, types and stack names never hold `"` or `\`; `\n` in a label is a line break.
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\\\""));
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
    let mut out = String::from("flowchart LR\n");
    for decl in stack.resources.values() {
        out.push_str(&format!(
            "  {}[\"{} ({})\"]\n",
            node_id(&decl.address),
            planner::mermaid::label(&decl.address),
            decl.type_name
        ));
    }
    for (from, to) in stack.graph.edges() {
        out.push_str(&format!("  {} --> {}\n", node_id(&from), node_id(&to)));
    }
    out
}
