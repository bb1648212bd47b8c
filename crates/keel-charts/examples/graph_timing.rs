//! Times the layout and rendering of seeded random stack graphs of growing size:
//! `cargo run --release -p keel-charts --example graph_timing`.

use std::time::Instant;

use keel_charts::{Chart, Edge, Graph, Node, NodeKind};

fn graph(nodes: usize, edges: usize, mut seed: u64) -> Graph {
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let kinds = [
        NodeKind::Tool,
        NodeKind::Integration,
        NodeKind::Field,
        NodeKind::Dashboard,
        NodeKind::Automation,
    ];
    let nodes: Vec<Node> = (0..nodes)
        .map(|i| Node::new(format!("n{i}"), format!("Node {i}"), kinds[i % kinds.len()]))
        .collect();
    // Mostly forward edges between nearby nodes, like a real stack, with some back edges.
    let n = nodes.len();
    let edges = (0..edges)
        .map(|_| {
            let a = next() % n;
            let b = (a + 1 + next() % 12) % n;
            Edge::new(format!("n{a}"), format!("n{b}"))
        })
        .collect();
    Graph {
        title: "Stack".into(),
        nodes,
        edges,
        ..Graph::default()
    }
}

fn main() {
    for (nodes, edges) in [(20, 30), (100, 160), (300, 500), (1000, 1600)] {
        let g = graph(nodes, edges, 1);
        let start = Instant::now();
        let layout = g.layout();
        let layout_ms = start.elapsed().as_secs_f64() * 1e3;
        let start = Instant::now();
        let svg = g.render();
        let render_ms = start.elapsed().as_secs_f64() * 1e3;
        let bends: usize = layout
            .edges
            .iter()
            .map(|e| e.points.len().saturating_sub(2))
            .sum();
        println!(
            "{nodes} nodes, {edges} edges ({bends} dummy points, {:?}): layout {layout_ms:.1} ms, \
             render (with layout) {render_ms:.1} ms, {} KiB of SVG",
            layout.direction,
            svg.len() / 1024
        );
    }
}
