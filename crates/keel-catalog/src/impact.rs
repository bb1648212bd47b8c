//! Impact analysis: the stack as a graph, and everything downstream of a tool or a field.
//!
//! "If this tool's API or this field changes, what breaks?" Edges point from what is relied on
//! to what relies on it: a tool to its fields, integrations, automations and dashboards; a
//! source field through the integration that maps it to the target field; fields to the
//! automations and dashboards that read them, and automations to the fields they write.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::integration::FieldRef;

/// A node of the stack graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum Node {
    /// A tool, by name.
    Tool(String),
    /// A field, as `tool.object.field`.
    Field(String),
    /// An integration, by name.
    Integration(String),
    /// An automation, by name.
    Automation(String),
    /// A dashboard, by name.
    Dashboard(String),
}

impl Node {
    /// Parses `tool:x`, `field:a.b.c`, `integration:x`, `automation:x` or `dashboard:x`; a bare
    /// name with two dots is a field, any other bare name a tool.
    pub fn parse(text: &str) -> Node {
        match text.split_once(':') {
            Some(("tool", n)) => Node::Tool(n.to_string()),
            Some(("field", n)) => Node::Field(n.to_string()),
            Some(("integration", n)) => Node::Integration(n.to_string()),
            Some(("automation", n)) => Node::Automation(n.to_string()),
            Some(("dashboard", n)) => Node::Dashboard(n.to_string()),
            _ if FieldRef(text.to_string()).parts().is_some() => Node::Field(text.to_string()),
            _ => Node::Tool(text.to_string()),
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Tool(n) => write!(f, "tool:{n}"),
            Node::Field(n) => write!(f, "field:{n}"),
            Node::Integration(n) => write!(f, "integration:{n}"),
            Node::Automation(n) => write!(f, "automation:{n}"),
            Node::Dashboard(n) => write!(f, "dashboard:{n}"),
        }
    }
}

/// The stack as a directed graph from what is relied on to what relies on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    edges: BTreeMap<Node, BTreeSet<Node>>,
}

/// Something downstream of the starting node, with how it is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impacted {
    /// The node affected.
    pub node: Node,
    /// The path from the starting node to it, both ends included (shortest path).
    pub path: Vec<Node>,
}

impl Graph {
    fn edge(&mut self, from: Node, to: Node) {
        self.edges.entry(to.clone()).or_default();
        self.edges.entry(from).or_default().insert(to);
    }

    fn field(&mut self, field: &FieldRef) -> Node {
        let node = Node::Field(field.0.clone());
        if let Some(tool) = field.tool() {
            self.edge(Node::Tool(tool.to_string()), node.clone());
        }
        node
    }

    /// Builds the graph of a catalog.
    pub fn build(catalog: &Catalog) -> Graph {
        let mut g = Graph::default();
        for name in catalog.tools.keys() {
            g.edges.entry(Node::Tool(name.clone())).or_default();
        }
        for (name, integration) in &catalog.integrations {
            let node = Node::Integration(name.clone());
            let i = &integration.spec;
            for tool in [Some(&i.from), Some(&i.to), i.via.as_ref()]
                .into_iter()
                .flatten()
            {
                g.edge(Node::Tool(tool.clone()), node.clone());
            }
            for (source, target) in i.field_flows() {
                let s = g.field(&source);
                let t = g.field(&target);
                g.edge(s, node.clone());
                g.edge(node.clone(), t);
            }
        }
        for (name, automation) in &catalog.automations {
            let node = Node::Automation(name.clone());
            for tool in automation.spec.tools() {
                g.edge(Node::Tool(tool.to_string()), node.clone());
            }
            for step in &automation.spec.steps {
                for read in &step.reads {
                    let f = g.field(read);
                    g.edge(f, node.clone());
                }
                for write in &step.writes {
                    let f = g.field(write);
                    g.edge(node.clone(), f);
                }
            }
        }
        for (name, dashboard) in &catalog.dashboards {
            let node = Node::Dashboard(name.clone());
            g.edge(Node::Tool(dashboard.spec.tool.clone()), node.clone());
            for tool in &dashboard.spec.reads.tools {
                g.edge(Node::Tool(tool.clone()), node.clone());
            }
            for field in &dashboard.spec.reads.fields {
                let f = g.field(field);
                g.edge(f, node.clone());
            }
        }
        g
    }

    /// Whether the graph has this node.
    pub fn contains(&self, node: &Node) -> bool {
        self.edges.contains_key(node)
    }

    /// Every node, sorted.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.edges.keys()
    }

    /// Every edge (from, to), sorted.
    pub fn edges(&self) -> impl Iterator<Item = (&Node, &Node)> {
        self.edges
            .iter()
            .flat_map(|(from, tos)| tos.iter().map(move |to| (from, to)))
    }

    /// Everything downstream of `start`, nearest first, each with its shortest path.
    pub fn downstream(&self, start: &Node) -> Vec<Impacted> {
        let mut parent: BTreeMap<&Node, &Node> = BTreeMap::new();
        let mut seen: BTreeSet<&Node> = BTreeSet::new();
        let mut queue = VecDeque::new();
        let mut order = Vec::new();
        let Some((start, _)) = self.edges.get_key_value(start) else {
            return Vec::new();
        };
        seen.insert(start);
        queue.push_back(start);
        while let Some(node) = queue.pop_front() {
            for next in self.edges.get(node).into_iter().flatten() {
                if seen.insert(next) {
                    parent.insert(next, node);
                    order.push(next);
                    queue.push_back(next);
                }
            }
        }
        order
            .into_iter()
            .map(|node| {
                let mut path = vec![node.clone()];
                let mut current = node;
                while let Some(p) = parent.get(current) {
                    path.push((*p).clone());
                    current = p;
                }
                path.reverse();
                Impacted {
                    node: node.clone(),
                    path,
                }
            })
            .collect()
    }

    /// The graph in Graphviz DOT, for the stack view.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph stack {\n  rankdir=LR;\n");
        for node in self.nodes() {
            let shape = match node {
                Node::Tool(_) => "box",
                Node::Field(_) => "plaintext",
                Node::Integration(_) => "ellipse",
                Node::Automation(_) => "hexagon",
                Node::Dashboard(_) => "note",
            };
            out.push_str(&format!("  \"{node}\" [shape={shape}];\n"));
        }
        for (from, to) in self.edges() {
            out.push_str(&format!("  \"{from}\" -> \"{to}\";\n"));
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{entry, tool};
    use crate::integration::{
        Automation, AutomationStatus, Direction, FieldMapping, Frequency, Integration,
        IntegrationKind, IntegrationStatus, ObjectMapping, RunHistory, Step,
    };
    use crate::records::{Dashboard, Reads};

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        for t in [
            "salesforce",
            "fivetran",
            "snowflake",
            "tableau",
            "marketo",
            "slack",
        ] {
            tool(&mut c, t, &[]);
        }
        let sync = Integration {
            from: "salesforce".into(),
            to: "snowflake".into(),
            kind: IntegrationKind::Middleware,
            via: Some("fivetran".into()),
            direction: Direction::OneWay,
            objects: vec![ObjectMapping {
                from: "Opportunity".into(),
                to: "OPPORTUNITY".into(),
                fields: vec![FieldMapping {
                    from: "Amount".into(),
                    to: "AMOUNT".into(),
                }],
            }],
            frequency: Frequency::Hourly,
            owner: None,
            status: IntegrationStatus::Active,
            docs: None,
        };
        c.integrations
            .insert("sf-snow".into(), entry("sf-snow", sync));
        let dash = Dashboard {
            tool: "tableau".into(),
            reads: Reads {
                tools: vec![],
                fields: vec![FieldRef("snowflake.OPPORTUNITY.AMOUNT".into())],
            },
            owner: None,
            url: None,
        };
        c.dashboards
            .insert("pipeline".into(), entry("pipeline", dash));
        let scoring = Automation {
            platform: "marketo".into(),
            trigger: "t".into(),
            steps: vec![Step {
                action: "score".into(),
                tool: "marketo".into(),
                reads: vec![FieldRef("marketo.Lead.Title".into())],
                writes: vec![FieldRef("marketo.Lead.Score".into())],
            }],
            owner: None,
            docs: None,
            status: AutomationStatus::Active,
            runs: RunHistory::default(),
        };
        c.automations
            .insert("scoring".into(), entry("scoring", scoring));
        c
    }

    fn names(found: &[Impacted]) -> Vec<String> {
        found.iter().map(|i| i.node.to_string()).collect()
    }

    #[test]
    fn a_field_change_reaches_the_dashboard_through_the_integration() {
        let g = Graph::build(&catalog());
        let found = g.downstream(&Node::parse("salesforce.Opportunity.Amount"));
        assert_eq!(
            names(&found),
            vec![
                "integration:sf-snow",
                "field:snowflake.OPPORTUNITY.AMOUNT",
                "dashboard:pipeline"
            ]
        );
        let path: Vec<String> = found[2].path.iter().map(ToString::to_string).collect();
        assert_eq!(
            path,
            vec![
                "field:salesforce.Opportunity.Amount",
                "integration:sf-snow",
                "field:snowflake.OPPORTUNITY.AMOUNT",
                "dashboard:pipeline"
            ]
        );
    }

    #[test]
    fn a_tool_change_reaches_everything_built_on_it() {
        let g = Graph::build(&catalog());
        let from_middleware = names(&g.downstream(&Node::Tool("fivetran".into())));
        assert!(
            from_middleware.contains(&"dashboard:pipeline".to_string()),
            "{from_middleware:?}"
        );
        let from_marketo = names(&g.downstream(&Node::parse("tool:marketo")));
        assert_eq!(
            from_marketo,
            vec![
                "field:marketo.Lead.Score",
                "field:marketo.Lead.Title",
                "automation:scoring"
            ]
        );
        assert!(g.downstream(&Node::Tool("slack".into())).is_empty());
        assert!(g.downstream(&Node::Tool("unknown".into())).is_empty());
    }

    #[test]
    fn dot_output_lists_nodes_and_edges() {
        let dot = Graph::build(&catalog()).to_dot();
        assert!(dot.contains("\"tool:fivetran\" -> \"integration:sf-snow\";"));
        assert!(dot.contains("\"dashboard:pipeline\" [shape=note];"));
    }
}
