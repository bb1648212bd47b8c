//! The graph view of the martech stack: tools, integrations, fields, dashboards and automations
//! as nodes, their dependencies as directed edges, laid out in layers left to right.
//!
//! The layout is Sugiyama-style: back edges of cycles are reversed (found by depth-first
//! search), nodes get the longest-path layer, edges spanning several layers are split by
//! dummy nodes, crossings are reduced by barycenter sweeps (keeping the best order seen), and
//! vertical positions are relaxed towards neighbours with an isotonic regression that keeps the
//! order and the minimum spacing. A blast radius is shown by highlighting nodes (and the edges
//! between them) in the accent colour and dimming the rest.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::svg::{self, Anchor, Font, num, text, text_width, truncate};
use crate::table::html_table;
use crate::theme;
use crate::{Chart, ChartError};

/// What a node stands for; sets its colour and caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A tool of the stack (CRM, marketing automation platform, CDP…).
    #[default]
    Tool,
    /// A sync or connector between tools.
    Integration,
    /// A data field.
    Field,
    /// A report or dashboard.
    Dashboard,
    /// A workflow, journey or automation.
    Automation,
}

impl NodeKind {
    const ALL: [NodeKind; 5] = [
        NodeKind::Tool,
        NodeKind::Integration,
        NodeKind::Field,
        NodeKind::Dashboard,
        NodeKind::Automation,
    ];

    /// Caption shown on the node and in the legend.
    pub fn caption(self) -> &'static str {
        match self {
            NodeKind::Tool => "Tool",
            NodeKind::Integration => "Integration",
            NodeKind::Field => "Field",
            NodeKind::Dashboard => "Dashboard",
            NodeKind::Automation => "Automation",
        }
    }

    fn colour(self) -> String {
        theme::series_colour(match self {
            NodeKind::Tool => 0,
            NodeKind::Integration => 1,
            NodeKind::Field => 2,
            NodeKind::Dashboard => 3,
            NodeKind::Automation => 4,
        })
    }
}

/// A node of the stack graph.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Unique id, referred to by edges and the highlight.
    pub id: String,
    /// Text shown on the node.
    pub label: String,
    /// What the node stands for.
    #[serde(default)]
    pub kind: NodeKind,
    /// Link followed when the node is clicked. Only relative links and `http`, `https` and
    /// `mailto` links are kept.
    #[serde(default)]
    pub href: Option<String>,
}

impl Node {
    /// A node without a link.
    pub fn new(id: impl Into<String>, label: impl Into<String>, kind: NodeKind) -> Self {
        Node {
            id: id.into(),
            label: label.into(),
            kind,
            href: None,
        }
    }

    /// The same node, linking to `href`.
    pub fn with_href(mut self, href: impl Into<String>) -> Self {
        self.href = Some(href.into());
        self
    }
}

/// A directed dependency: `from` feeds or is used by `to`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Id of the source node.
    pub from: String,
    /// Id of the target node.
    pub to: String,
    /// Optional description, shown on hover and in the table.
    #[serde(default)]
    pub label: Option<String>,
}

impl Edge {
    /// An unlabelled edge.
    pub fn new(from: impl Into<String>, to: impl Into<String>) -> Self {
        Edge {
            from: from.into(),
            to: to.into(),
            label: None,
        }
    }
}

/// Which way layers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Left to right, unless that is too wide to read and top to bottom is narrower.
    #[default]
    Auto,
    /// Layers are columns; edges run left to right.
    LeftToRight,
    /// Layers are rows; edges run top to bottom.
    TopToBottom,
}

/// The stack as a directed graph, optionally with a highlighted blast radius.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Graph {
    /// Title, drawn at the top and used as the accessible name.
    pub title: String,
    /// Accessible description; a summary is generated when absent.
    pub description: Option<String>,
    /// The nodes; a repeated id is ignored after its first use.
    pub nodes: Vec<Node>,
    /// The edges; edges to unknown ids and self-loops are ignored.
    pub edges: Vec<Edge>,
    /// Ids of highlighted nodes (the blast radius). When not empty, other nodes are dimmed and
    /// edges between highlighted nodes are drawn in the accent colour.
    pub highlight: Vec<String>,
    /// Id of the node the blast radius starts from, drawn with a heavier outline.
    pub focus: Option<String>,
    /// Which way layers run.
    pub direction: Direction,
}

/// A node placed by the layout.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeBox {
    /// Index into [`Graph::nodes`].
    pub node: usize,
    /// Layer (column), 0 on the left.
    pub layer: usize,
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// An edge routed by the layout.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeRoute {
    /// Index into [`Graph::edges`].
    pub edge: usize,
    /// Index into [`Graph::nodes`] of the source.
    pub from: usize,
    /// Index into [`Graph::nodes`] of the target.
    pub to: usize,
    /// Whether the edge was reversed to break a cycle (it then runs right to left).
    pub reversed: bool,
    /// Points from the source's side to the target's side, through the dummy nodes.
    pub points: Vec<(f64, f64)>,
}

/// The result of [`Graph::layout`], in a coordinate space starting at (0, 0).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// Placed nodes (one per distinct id).
    pub nodes: Vec<NodeBox>,
    /// Routed edges (one per valid edge).
    pub edges: Vec<EdgeRoute>,
    /// Width of the drawing.
    pub width: f64,
    /// Height of the drawing.
    pub height: f64,
    /// The direction used (never [`Direction::Auto`] except for an empty layout).
    pub direction: Direction,
}

const NODE_HEIGHT: f64 = 42.0;
const MIN_NODE_WIDTH: f64 = 104.0;
const MAX_NODE_WIDTH: f64 = 200.0;
const LAYER_GAP: f64 = 64.0;
const NODE_GAP: f64 = 16.0;
const DUMMY_SIZE: f64 = 6.0;
/// Left-to-right layouts wider than this are tried top to bottom as well.
const FIT_WIDTH: f64 = 1100.0;
const SWEEPS: usize = 16;

/// A node of the layered graph: a real node or a dummy on a long edge.
struct Vertex {
    real: Option<usize>,
    layer: usize,
    width: f64,
    height: f64,
    preds: Vec<usize>,
    succs: Vec<usize>,
}

impl Graph {
    /// Lists repeated node ids and edges to unknown nodes (both are ignored when drawing).
    pub fn check(&self) -> Vec<ChartError> {
        let mut problems = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, node) in self.nodes.iter().enumerate() {
            if seen.insert(node.id.as_str(), index).is_some() {
                problems.push(ChartError::DuplicateNode {
                    index,
                    id: node.id.clone(),
                });
            }
        }
        for (index, edge) in self.edges.iter().enumerate() {
            for (end, id) in [("from", &edge.from), ("to", &edge.to)] {
                if !seen.contains_key(id.as_str()) {
                    problems.push(ChartError::UnknownNode {
                        index,
                        end,
                        id: id.clone(),
                    });
                }
            }
        }
        problems
    }

    fn index(&self) -> HashMap<&str, usize> {
        let mut ids = HashMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            ids.entry(node.id.as_str()).or_insert(i);
        }
        ids
    }

    fn node_width(node: &Node) -> f64 {
        let label = text_width(&node.label, 12.0)
            .max(text_width(&node.kind.caption().to_uppercase(), 9.5) * 1.1);
        (label * 1.05 + 34.0).clamp(MIN_NODE_WIDTH, MAX_NODE_WIDTH)
    }

    /// Places the nodes in layers and routes the edges.
    pub fn layout(&self) -> Layout {
        let ids = self.index();
        // Real nodes first: vertex i is node kept[i].
        let kept: Vec<usize> = {
            let mut k: Vec<usize> = ids.values().copied().collect();
            k.sort_unstable();
            k
        };
        let vertex_of: HashMap<usize, usize> =
            kept.iter().enumerate().map(|(v, &n)| (n, v)).collect();
        let n = kept.len();
        let edges: Vec<(usize, usize, usize)> = self
            .edges
            .iter()
            .enumerate()
            .filter_map(|(e, edge)| {
                let u = *vertex_of.get(ids.get(edge.from.as_str())?)?;
                let v = *vertex_of.get(ids.get(edge.to.as_str())?)?;
                (u != v).then_some((e, u, v))
            })
            .collect();

        let reversed = back_edges(n, &edges);
        let dag: Vec<(usize, usize)> = edges
            .iter()
            .zip(&reversed)
            .map(|(&(_, u, v), &r)| if r { (v, u) } else { (u, v) })
            .collect();
        let layers_of = longest_path_layers(n, &dag);

        let mut vertices: Vec<Vertex> = kept
            .iter()
            .zip(&layers_of)
            .map(|(&node, &layer)| Vertex {
                real: Some(node),
                layer,
                width: self
                    .nodes
                    .get(node)
                    .map(Self::node_width)
                    .unwrap_or(MIN_NODE_WIDTH),
                height: NODE_HEIGHT,
                preds: Vec::new(),
                succs: Vec::new(),
            })
            .collect();
        // Each edge becomes a chain of vertices, one per layer it crosses.
        let mut chains: Vec<Vec<usize>> = Vec::with_capacity(dag.len());
        for &(a, b) in &dag {
            let mut chain = vec![a];
            let (la, lb) = (vertices[a].layer, vertices[b].layer);
            for layer in la + 1..lb {
                vertices.push(Vertex {
                    real: None,
                    layer,
                    width: 0.0,
                    height: DUMMY_SIZE,
                    preds: Vec::new(),
                    succs: Vec::new(),
                });
                chain.push(vertices.len() - 1);
            }
            chain.push(b);
            for pair in chain.windows(2) {
                vertices[pair[0]].succs.push(pair[1]);
                vertices[pair[1]].preds.push(pair[0]);
            }
            chains.push(chain);
        }

        let layer_count = vertices.iter().map(|v| v.layer + 1).max().unwrap_or(0);
        let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
        for (i, v) in vertices.iter().enumerate() {
            layers[v.layer].push(i);
        }
        order_layers(&vertices, &mut layers);
        let layered = Layered {
            vertices,
            layers,
            chains,
            edges,
            reversed,
            kept,
        };
        match self.direction {
            Direction::Auto => {
                let wide = layered.place(Direction::LeftToRight);
                if wide.width <= FIT_WIDTH {
                    return wide;
                }
                // Long dependency chains read better top to bottom than shrunk to fit; switch
                // only when that makes the text clearly larger in a page-wide container.
                let tall = layered.place(Direction::TopToBottom);
                let scale = |l: &Layout| (FIT_WIDTH / l.width.max(1.0)).min(1.0);
                if scale(&tall) > scale(&wide) * 1.15 {
                    tall
                } else {
                    wide
                }
            }
            direction => layered.place(direction),
        }
    }
}

/// The graph after cycle breaking, layering and ordering, ready to be given coordinates.
struct Layered {
    vertices: Vec<Vertex>,
    layers: Vec<Vec<usize>>,
    /// Per valid edge, its vertices in DAG direction (with dummies).
    chains: Vec<Vec<usize>>,
    /// Per valid edge: (edge index, source vertex, target vertex) as given.
    edges: Vec<(usize, usize, usize)>,
    reversed: Vec<bool>,
    /// Node index of each real vertex.
    kept: Vec<usize>,
}

impl Layered {
    /// Coordinates for `direction` (`Auto` is treated as left to right).
    fn place(&self, direction: Direction) -> Layout {
        let vertices = &self.vertices;
        let lr = direction != Direction::TopToBottom;
        let direction = if lr {
            Direction::LeftToRight
        } else {
            Direction::TopToBottom
        };
        let across: Vec<f64> = vertices
            .iter()
            .map(|v| match (v.real, lr) {
                (None, _) => DUMMY_SIZE,
                (Some(_), true) => v.height,
                (Some(_), false) => v.width,
            })
            .collect();
        let along = |v: &Vertex| match (v.real, lr) {
            (None, _) => 0.0,
            (Some(_), true) => v.width,
            (Some(_), false) => v.height,
        };
        let (gap, layer_gap) = if lr {
            (NODE_GAP, LAYER_GAP)
        } else {
            (NODE_GAP * 1.5, LAYER_GAP * 0.85)
        };
        let position = place_across(vertices, &self.layers, &across, gap);

        // Each layer is as thick as its largest node.
        let mut layer_mid = Vec::with_capacity(self.layers.len());
        let mut at = 0.0;
        for layer in &self.layers {
            let thick = layer
                .iter()
                .map(|&v| along(&vertices[v]))
                .fold(0.0, f64::max)
                .max(24.0);
            layer_mid.push(at + thick / 2.0);
            at += thick + layer_gap;
        }
        let start = position
            .iter()
            .zip(&across)
            .map(|(p, a)| p - a / 2.0)
            .fold(f64::INFINITY, f64::min);
        let start = if start.is_finite() { start } else { 0.0 };
        let centre: Vec<(f64, f64)> = vertices
            .iter()
            .zip(&position)
            .map(|(v, p)| {
                let (l, a) = (layer_mid[v.layer], p - start);
                if lr { (l, a) } else { (a, l) }
            })
            .collect();
        let extent = |f: &dyn Fn(usize) -> f64| (0..vertices.len()).map(f).fold(0.0, f64::max);
        let real_w = |i: usize| {
            if vertices[i].real.is_some() {
                vertices[i].width
            } else {
                0.0
            }
        };
        let real_h = |i: usize| {
            if vertices[i].real.is_some() {
                vertices[i].height
            } else {
                0.0
            }
        };
        let width = extent(&|i| centre[i].0 + real_w(i) / 2.0);
        let height = extent(&|i| centre[i].1 + real_h(i) / 2.0);

        let nodes: Vec<NodeBox> = vertices
            .iter()
            .zip(&centre)
            .filter_map(|(v, &(cx, cy))| {
                Some(NodeBox {
                    node: v.real?,
                    layer: v.layer,
                    x: cx - v.width / 2.0,
                    y: cy - v.height / 2.0,
                    width: v.width,
                    height: v.height,
                })
            })
            .collect();

        // Spread the ends of edges meeting at the same side of a node, ordered by where they
        // come from, so arrows do not pile up on one point.
        let across_of = |v: usize| if lr { centre[v].1 } else { centre[v].0 };
        let mut out_ports: HashMap<usize, Vec<(f64, usize)>> = HashMap::new();
        let mut in_ports: HashMap<usize, Vec<(f64, usize)>> = HashMap::new();
        for (c, chain) in self.chains.iter().enumerate() {
            if let (Some(&first), Some(&second), Some(&last), Some(&before_last)) = (
                chain.first(),
                chain.get(1),
                chain.last(),
                chain.get(chain.len().saturating_sub(2)),
            ) {
                out_ports
                    .entry(first)
                    .or_default()
                    .push((across_of(second), c));
                in_ports
                    .entry(last)
                    .or_default()
                    .push((across_of(before_last), c));
            }
        }
        let spread =
            |ports: &mut HashMap<usize, Vec<(f64, usize)>>| -> HashMap<(usize, usize), f64> {
                let mut offsets = HashMap::new();
                for (&vertex, list) in ports.iter_mut() {
                    list.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    let k = list.len() as f64;
                    let room = (across[vertex] - if lr { 16.0 } else { 28.0 }).max(0.0);
                    for (i, &(_, c)) in list.iter().enumerate() {
                        let offset = if k <= 1.0 {
                            0.0
                        } else {
                            -room / 2.0 + room * i as f64 / (k - 1.0)
                        };
                        offsets.insert((vertex, c), offset);
                    }
                }
                offsets
            };
        let out_offsets = spread(&mut out_ports);
        let in_offsets = spread(&mut in_ports);

        let routes: Vec<EdgeRoute> = self
            .edges
            .iter()
            .zip(&self.reversed)
            .zip(&self.chains)
            .enumerate()
            .map(|(c, ((&(e, u, v), &is_reversed), chain))| {
                let last = chain.len() - 1;
                let mut points: Vec<(f64, f64)> = chain
                    .iter()
                    .enumerate()
                    .map(|(i, &vx)| {
                        let (cx, cy) = centre[vx];
                        let (half_w, half_h) =
                            (vertices[vx].width / 2.0, vertices[vx].height / 2.0);
                        let (side, offset) = if i == 0 {
                            (1.0, out_offsets.get(&(vx, c)).copied().unwrap_or(0.0))
                        } else if i == last {
                            (-1.0, in_offsets.get(&(vx, c)).copied().unwrap_or(0.0))
                        } else {
                            return (cx, cy);
                        };
                        if lr {
                            (cx + side * half_w, cy + offset)
                        } else {
                            (cx + offset, cy + side * half_h)
                        }
                    })
                    .collect();
                if is_reversed {
                    points.reverse();
                }
                EdgeRoute {
                    edge: e,
                    from: self.kept[u],
                    to: self.kept[v],
                    reversed: is_reversed,
                    points,
                }
            })
            .collect();
        Layout {
            nodes,
            edges: routes,
            width,
            height,
            direction,
        }
    }
}

/// Marks the edges that close a cycle (edges to a vertex still on the depth-first stack);
/// reversing them leaves a DAG. Visits vertices and edges in input order, so it is
/// deterministic.
fn back_edges(n: usize, edges: &[(usize, usize, usize)]) -> Vec<bool> {
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (i, &(_, u, v)) in edges.iter().enumerate() {
        out[u].push((v, i));
    }
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut reversed = vec![false; edges.len()];
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(&mut (u, ref mut next)) = stack.last_mut() {
            if let Some(&(v, i)) = out[u].get(*next) {
                *next += 1;
                match state[v] {
                    0 => {
                        state[v] = 1;
                        stack.push((v, 0));
                    }
                    1 => reversed[i] = true,
                    _ => {}
                }
            } else {
                state[u] = 2;
                stack.pop();
            }
        }
    }
    reversed
}

/// Longest-path layering of a DAG: sources in layer 0, every edge going at least one layer
/// down.
fn longest_path_layers(n: usize, dag: &[(usize, usize)]) -> Vec<usize> {
    let mut indegree = vec![0usize; n];
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in dag {
        out[a].push(b);
        indegree[b] += 1;
    }
    let mut layer = vec![0usize; n];
    let mut ready: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).rev().collect();
    while let Some(a) = ready.pop() {
        for &b in &out[a] {
            layer[b] = layer[b].max(layer[a] + 1);
            indegree[b] -= 1;
            if indegree[b] == 0 {
                ready.push(b);
            }
        }
    }
    layer
}

/// Number of crossings between consecutive layers for the given order.
fn crossings(vertices: &[Vertex], layers: &[Vec<usize>]) -> usize {
    let mut position = vec![0usize; vertices.len()];
    for layer in layers {
        for (i, &v) in layer.iter().enumerate() {
            position[v] = i;
        }
    }
    let mut total = 0;
    for (l, layer) in layers.iter().enumerate() {
        let below = layers.get(l + 1).map_or(0, Vec::len);
        // Two segments cross when their lower ends are in the opposite order of their upper
        // ends: count inversions of the lower ends (sorted by upper end) with a Fenwick tree.
        let mut segments: Vec<(usize, usize)> = layer
            .iter()
            .flat_map(|&v| vertices[v].succs.iter().map(move |&w| (v, w)))
            .map(|(v, w)| (position[v], position[w]))
            .collect();
        segments.sort_unstable();
        let mut tree = vec![0usize; below + 1];
        for (seen, &(_, lower)) in segments.iter().enumerate() {
            // Segments already counted whose lower end is at or before `lower`.
            let mut not_crossing = 0;
            let mut i = lower + 1;
            while i > 0 {
                not_crossing += tree[i];
                i &= i - 1;
            }
            total += seen - not_crossing;
            let mut i = lower + 1;
            while i <= below {
                tree[i] += 1;
                i += i & i.wrapping_neg();
            }
        }
    }
    total
}

/// Barycenter crossing reduction: alternately sweeps down (ordering each layer by the mean
/// position of its predecessors) and up (successors), keeping the order with fewest crossings.
fn order_layers(vertices: &[Vertex], layers: &mut [Vec<usize>]) {
    let mut best = layers.to_vec();
    let mut best_crossings = crossings(vertices, layers);
    let mut position = vec![0.0f64; vertices.len()];
    for layer in layers.iter() {
        for (i, &v) in layer.iter().enumerate() {
            position[v] = i as f64;
        }
    }
    for sweep in 0..SWEEPS {
        if best_crossings == 0 {
            break;
        }
        let down = sweep % 2 == 0;
        let order: Vec<usize> = if down {
            (1..layers.len()).collect()
        } else {
            (0..layers.len().saturating_sub(1)).rev().collect()
        };
        for l in order {
            let layer = &mut layers[l];
            let mut keyed: Vec<(f64, usize)> = layer
                .iter()
                .map(|&v| {
                    let neighbours = if down {
                        &vertices[v].preds
                    } else {
                        &vertices[v].succs
                    };
                    let key = if neighbours.is_empty() {
                        position[v]
                    } else {
                        neighbours.iter().map(|&w| position[w]).sum::<f64>()
                            / neighbours.len() as f64
                    };
                    (key, v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            *layer = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, &v) in layer.iter().enumerate() {
                position[v] = i as f64;
            }
        }
        let c = crossings(vertices, layers);
        if c < best_crossings {
            best_crossings = c;
            best = layers.to_vec();
        }
    }
    layers.clone_from_slice(&best);
}

/// Positions across the layers (vertical centres when layers are columns): starts with each
/// layer stacked and centred, then pulls nodes towards the mean of their neighbours, keeping
/// each layer's order and spacing.
fn place_across(
    vertices: &[Vertex],
    layers: &[Vec<usize>],
    size: &[f64],
    node_gap: f64,
) -> Vec<f64> {
    let separation = |a: usize, b: usize| {
        let gap = if vertices[a].real.is_some() && vertices[b].real.is_some() {
            node_gap
        } else {
            node_gap / 2.0
        };
        (size[a] + size[b]) / 2.0 + gap
    };
    let mut y = vec![0.0f64; vertices.len()];
    for layer in layers {
        let mut at = 0.0;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                at += separation(layer[i - 1], v);
            }
            y[v] = at;
        }
        let shift = at / 2.0;
        for &v in layer {
            y[v] -= shift;
        }
    }
    for round in 0..8 {
        let down = round % 2 == 0;
        let order: Vec<usize> = if down {
            (0..layers.len()).collect()
        } else {
            (0..layers.len()).rev().collect()
        };
        for l in order {
            let layer = &layers[l];
            let desired: Vec<f64> = layer
                .iter()
                .map(|&v| {
                    let neighbours: Vec<usize> = if down {
                        vertices[v].preds.clone()
                    } else {
                        vertices[v].succs.clone()
                    };
                    let neighbours = if neighbours.is_empty() {
                        vertices[v]
                            .preds
                            .iter()
                            .chain(&vertices[v].succs)
                            .copied()
                            .collect()
                    } else {
                        neighbours
                    };
                    if neighbours.is_empty() {
                        y[v]
                    } else {
                        neighbours.iter().map(|&w| y[w]).sum::<f64>() / neighbours.len() as f64
                    }
                })
                .collect();
            let gaps: Vec<f64> = layer.windows(2).map(|w| separation(w[0], w[1])).collect();
            for (&v, placed) in layer.iter().zip(fit_in_order(&desired, &gaps)) {
                y[v] = placed;
            }
        }
    }
    y
}

/// Positions as close as possible (least squares) to `desired` such that position `i + 1` is at
/// least `gaps[i]` below position `i`: an isotonic regression solved by pool-adjacent-violators.
fn fit_in_order(desired: &[f64], gaps: &[f64]) -> Vec<f64> {
    let mut offset = Vec::with_capacity(desired.len());
    let mut acc = 0.0;
    for i in 0..desired.len() {
        if i > 0 {
            acc += gaps.get(i - 1).copied().unwrap_or(0.0);
        }
        offset.push(acc);
    }
    // Blocks of (sum, count); each block's mean is the shared shifted position.
    let mut blocks: Vec<(f64, usize)> = Vec::new();
    for (d, o) in desired.iter().zip(&offset) {
        blocks.push((d - o, 1));
        while blocks.len() > 1 {
            let (s2, c2) = blocks[blocks.len() - 1];
            let (s1, c1) = blocks[blocks.len() - 2];
            if s1 / c1 as f64 > s2 / c2 as f64 {
                blocks.pop();
                if let Some(last) = blocks.last_mut() {
                    *last = (s1 + s2, c1 + c2);
                }
            } else {
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(desired.len());
    for (sum, count) in blocks {
        for _ in 0..count {
            out.push(sum / count as f64);
        }
    }
    out.iter().zip(&offset).map(|(w, o)| w + o).collect()
}

/// Keeps links that cannot run script: relative links and http, https and mailto URLs.
fn safe_href(href: &str) -> Option<&str> {
    let trimmed = href.trim();
    let scheme_end = trimmed.find([':', '/', '?', '#']);
    match scheme_end {
        Some(i) if trimmed[i..].starts_with(':') => {
            let scheme = trimmed[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto").then_some(trimmed)
        }
        _ if trimmed.is_empty() => None,
        _ => Some(trimmed),
    }
}

impl Graph {
    fn name(&self) -> &str {
        if self.title.trim().is_empty() {
            "Stack graph"
        } else {
            &self.title
        }
    }

    fn summary(&self, layout: &Layout) -> String {
        if let Some(d) = &self.description {
            return d.clone();
        }
        let mut out = format!(
            "Graph of {} nodes and {} links.",
            layout.nodes.len(),
            layout.edges.len()
        );
        let highlighted: Vec<&str> = self
            .nodes
            .iter()
            .filter(|n| self.highlight.contains(&n.id))
            .map(|n| n.label.as_str())
            .collect();
        if !highlighted.is_empty() {
            let _ = write!(
                out,
                " Highlighted ({}): {}.",
                highlighted.len(),
                highlighted.join(", ")
            );
        }
        out
    }
}

impl Chart for Graph {
    fn render(&self) -> String {
        let layout = self.layout();
        if layout.nodes.is_empty() {
            return svg::empty_state(
                "graph",
                &self.title,
                "Stack graph",
                (640.0, 200.0),
                "No nodes to show",
            );
        }
        let mut kinds: Vec<NodeKind> = NodeKind::ALL
            .into_iter()
            .filter(|k| {
                layout
                    .nodes
                    .iter()
                    .any(|b| self.nodes.get(b.node).is_some_and(|n| n.kind == *k))
            })
            .collect();
        kinds.dedup();
        let mut items: Vec<(String, String)> = kinds
            .iter()
            .map(|k| (k.caption().to_string(), k.colour()))
            .collect();
        let highlighting = !self.highlight.is_empty();
        if highlighting {
            items.push(("Affected".into(), theme::ACCENT.to_string()));
        }
        // Wide enough for the legend on one line and the title, not only for the nodes.
        let legend_w: f64 = items.iter().map(|(l, _)| 30.0 + text_width(l, 12.0)).sum();
        let title_w = text_width(&self.title, 15.0).min(480.0);
        let width = (layout.width.max(legend_w).max(title_w) + 2.0 * svg::PAD).max(320.0);
        let mut body = String::new();
        let mut top = svg::title(&mut body, &self.title, width);
        top += svg::legend(&mut body, &items, svg::PAD, top, width - 2.0 * svg::PAD) + 10.0;
        let height = top + layout.height + svg::PAD;
        let ox = svg::PAD + (width - 2.0 * svg::PAD - layout.width) / 2.0;
        let is_lit = |node: usize| {
            self.nodes
                .get(node)
                .is_some_and(|n| self.highlight.contains(&n.id))
        };

        let _ = write!(
            body,
            "<g transform=\"translate({} {})\">",
            num(ox),
            num(top)
        );
        // Dimmed edges first, highlighted ones on top.
        let mut edges: Vec<&EdgeRoute> = layout.edges.iter().collect();
        edges.sort_by_key(|r| is_lit(r.from) && is_lit(r.to));
        body.push_str("<g class=\"keel-graph-edges\" fill=\"none\">");
        for route in edges {
            let lit = is_lit(route.from) && is_lit(route.to);
            let (stroke, width, opacity) = match (highlighting, lit) {
                (true, true) => (theme::ACCENT, 2.0, 1.0),
                (true, false) => (theme::AXIS, 1.25, 0.3),
                _ => (theme::AXIS, 1.25, 1.0),
            };
            let mut d = String::new();
            let Some(&(ex, ey)) = route.points.last() else {
                continue;
            };
            let prev = route
                .points
                .get(route.points.len().saturating_sub(2))
                .copied()
                .unwrap_or((ex - 1.0, ey));
            let lr = layout.direction != Direction::TopToBottom;
            let dir = match lr {
                true if ex >= prev.0 => 1.0,
                false if ey >= prev.1 => 1.0,
                _ => -1.0,
            };
            let mut points = route.points.clone();
            if let Some(last) = points.last_mut() {
                if lr {
                    last.0 -= dir * 6.0;
                } else {
                    last.1 -= dir * 6.0;
                }
            }
            for (i, &(x, y)) in points.iter().enumerate() {
                if i == 0 {
                    let _ = write!(d, "M{} {}", num(x), num(y));
                    continue;
                }
                let (px, py) = points[i - 1];
                // Tangents run along the layer direction, so edges leave and enter nodes
                // straight.
                let (c1, c2) = if lr {
                    let dx = (x - px) / 2.0;
                    ((px + dx, py), (x - dx, y))
                } else {
                    let dy = (y - py) / 2.0;
                    ((px, py + dy), (x, y - dy))
                };
                let _ = write!(
                    d,
                    " C{} {} {} {} {} {}",
                    num(c1.0),
                    num(c1.1),
                    num(c2.0),
                    num(c2.1),
                    num(x),
                    num(y)
                );
            }
            let (back, side) = if lr {
                ((-dir * 7.0, 0.0), (0.0, 4.0))
            } else {
                ((0.0, -dir * 7.0), (4.0, 0.0))
            };
            let from = self
                .nodes
                .get(route.from)
                .map(|n| n.label.as_str())
                .unwrap_or_default();
            let to = self
                .nodes
                .get(route.to)
                .map(|n| n.label.as_str())
                .unwrap_or_default();
            let mut tooltip = format!("{from} → {to}");
            if let Some(label) = self.edges.get(route.edge).and_then(|e| e.label.as_deref()) {
                let _ = write!(tooltip, ": {label}");
            }
            let opacity_attr = if opacity < 1.0 {
                format!(" opacity=\"{opacity}\"")
            } else {
                String::new()
            };
            let dash = if route.reversed {
                " stroke-dasharray=\"4 3\""
            } else {
                ""
            };
            let _ = write!(
                body,
                "<g{opacity_attr}><title>{}</title><path d=\"{d}\" stroke=\"{stroke}\" stroke-width=\"{width}\"{dash}/>\
                 <path d=\"M{} {} L{} {} L{} {} Z\" fill=\"{stroke}\"/></g>",
                svg::escape(&tooltip),
                num(ex),
                num(ey),
                num(ex + back.0 - side.0),
                num(ey + back.1 - side.1),
                num(ex + back.0 + side.0),
                num(ey + back.1 + side.1),
            );
        }
        body.push_str("</g><g class=\"keel-graph-nodes\">");
        for b in &layout.nodes {
            let Some(node) = self.nodes.get(b.node) else {
                continue;
            };
            let lit = is_lit(b.node);
            let focus = self.focus.as_deref() == Some(node.id.as_str());
            let colour = node.kind.colour();
            let (stroke, stroke_width) = match (lit, focus) {
                (true, true) => (theme::ACCENT.to_string(), 3.0),
                (true, false) => (theme::ACCENT.to_string(), 2.0),
                _ => (colour.clone(), 1.25),
            };
            let dim = highlighting && !lit;
            let href = node.href.as_deref().and_then(safe_href);
            let mut tooltip = format!("{}: {}", node.kind.caption(), node.label);
            if lit {
                tooltip.push_str(" (affected)");
            }
            let opacity = if dim { " opacity=\"0.35\"" } else { "" };
            match href {
                Some(h) => {
                    let _ = write!(
                        body,
                        "<a href=\"{}\" class=\"keel-graph-node\"{opacity}>",
                        svg::escape(h)
                    );
                }
                None => {
                    let _ = write!(body, "<g class=\"keel-graph-node\"{opacity}>");
                }
            }
            let _ = write!(
                body,
                "<title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{}\" stroke=\"{stroke}\" stroke-width=\"{stroke_width}\"/>\
                 <rect x=\"{}\" y=\"{}\" width=\"4\" height=\"{}\" rx=\"2\" fill=\"{colour}\"/>",
                svg::escape(&tooltip),
                num(b.x),
                num(b.y),
                num(b.width),
                num(b.height),
                theme::SURFACE,
                num(b.x + 4.0),
                num(b.y + 6.0),
                num(b.height - 12.0),
            );
            let caption = node.kind.caption().to_uppercase();
            let tx = b.x + 14.0;
            let _ = write!(
                body,
                "<text x=\"{}\" y=\"{}\" font-size=\"9.5\" letter-spacing=\"0.06em\" fill=\"{}\">{}</text>",
                num(tx),
                num(b.y + 16.0),
                theme::MUTED,
                svg::escape(&caption)
            );
            let shown = truncate(&node.label, b.width - 22.0, 12.0);
            let font = Font::new(12.0, theme::TEXT).anchor(Anchor::Start);
            let font = if focus { font.bold() } else { font };
            text(&mut body, tx, b.y + 31.0, &font, &shown, &node.label);
            body.push_str(if href.is_some() { "</a>" } else { "</g>" });
        }
        body.push_str("</g></g>");

        let mut out = String::new();
        svg::open(
            &mut out,
            "graph",
            (width, height),
            self.name(),
            &self.summary(&layout),
            Some(width),
        );
        out.push_str(&body);
        svg::close(&mut out);
        out
    }

    fn to_html_table(&self) -> String {
        let ids = self.index();
        let highlighting = !self.highlight.is_empty();
        let mut headers = vec![
            "Node".to_string(),
            "Kind".to_string(),
            "Links to".to_string(),
        ];
        if highlighting {
            headers.push("Affected".into());
        }
        let mut kept: Vec<usize> = ids.values().copied().collect();
        kept.sort_unstable();
        let rows: Vec<Vec<String>> = kept
            .iter()
            .filter_map(|&i| self.nodes.get(i))
            .map(|node| {
                let targets: Vec<String> = self
                    .edges
                    .iter()
                    .filter(|e| e.from == node.id)
                    .filter_map(|e| {
                        let target = self.nodes.get(*ids.get(e.to.as_str())?)?;
                        Some(match &e.label {
                            Some(l) => format!("{} ({l})", target.label),
                            None => target.label.clone(),
                        })
                    })
                    .collect();
                let mut row = vec![
                    node.label.clone(),
                    node.kind.caption().to_string(),
                    targets.join(", "),
                ];
                if highlighting {
                    row.push(if self.highlight.contains(&node.id) {
                        "yes".into()
                    } else {
                        "no".into()
                    });
                }
                row
            })
            .collect();
        html_table(self.name(), &headers, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(nodes: &[&str], edges: &[(&str, &str)]) -> Graph {
        Graph {
            nodes: nodes
                .iter()
                .map(|id| Node::new(*id, id.to_uppercase(), NodeKind::Tool))
                .collect(),
            edges: edges.iter().map(|(a, b)| Edge::new(*a, *b)).collect(),
            ..Graph::default()
        }
    }

    fn assert_no_overlap(layout: &Layout) {
        for (i, a) in layout.nodes.iter().enumerate() {
            for b in &layout.nodes[i + 1..] {
                let apart = a.x + a.width <= b.x + 1e-6
                    || b.x + b.width <= a.x + 1e-6
                    || a.y + a.height <= b.y + 1e-6
                    || b.y + b.height <= a.y + 1e-6;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
    }

    fn layer(layout: &Layout, node: usize) -> usize {
        layout
            .nodes
            .iter()
            .find(|b| b.node == node)
            .map(|b| b.layer)
            .unwrap_or(usize::MAX)
    }

    fn assert_edges_go_down(layout: &Layout) {
        for e in &layout.edges {
            let (from, to) = (layer(layout, e.from), layer(layout, e.to));
            if e.reversed {
                assert!(from > to, "{e:?}");
            } else {
                assert!(from < to, "{e:?}");
            }
        }
    }

    /// A seeded random graph of `n` nodes and `m` edges (cycles included).
    fn random_graph(n: usize, m: usize, mut seed: u64) -> Graph {
        let ids: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let edges = (0..m)
            .map(|_| Edge::new(ids[next() % n].clone(), ids[next() % n].clone()))
            .collect();
        Graph {
            nodes: ids
                .iter()
                .map(|id| Node::new(id.clone(), id.clone(), NodeKind::Field))
                .collect(),
            edges,
            ..Graph::default()
        }
    }

    #[test]
    fn long_chains_run_top_to_bottom() {
        let ids: Vec<String> = (0..16).map(|i| format!("n{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let pairs: Vec<(&str, &str)> = refs.windows(2).map(|w| (w[0], w[1])).collect();
        let mut g = graph(&refs, &pairs);
        let layout = g.layout();
        assert_eq!(layout.direction, Direction::TopToBottom);
        assert!(layout.nodes.windows(2).all(|w| w[0].y < w[1].y));
        assert_no_overlap(&layout);
        g.direction = Direction::LeftToRight;
        let layout = g.layout();
        assert_eq!(layout.direction, Direction::LeftToRight);
        assert!(layout.nodes.windows(2).all(|w| w[0].x < w[1].x));
        g.direction = Direction::TopToBottom;
        let svg = g.render();
        assert!(svg.contains("<path") && !svg.contains("NaN"));
    }

    #[test]
    fn chain_is_layered_left_to_right() {
        let layout = graph(&["a", "b", "c"], &[("a", "b"), ("b", "c")]).layout();
        assert_eq!(
            (layer(&layout, 0), layer(&layout, 1), layer(&layout, 2)),
            (0, 1, 2)
        );
        let xs: Vec<f64> = layout.nodes.iter().map(|b| b.x).collect();
        assert!(xs[0] < xs[1] && xs[1] < xs[2]);
    }

    #[test]
    fn longest_path_puts_node_after_its_latest_predecessor() {
        let layout = graph(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("a", "c")]).layout();
        assert_eq!(layer(&layout, 2), 2);
        // The long edge a→c runs through one dummy point.
        let long = layout
            .edges
            .iter()
            .find(|e| e.from == 0 && e.to == 2)
            .map(|e| e.points.len());
        assert_eq!(long, Some(3));
    }

    #[test]
    fn cycles_are_broken_by_reversing_back_edges() {
        let layout = graph(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("c", "a")]).layout();
        assert_eq!(layout.edges.iter().filter(|e| e.reversed).count(), 1);
        assert_edges_go_down(&layout);
        let two = graph(&["a", "b"], &[("a", "b"), ("b", "a")]).layout();
        assert_eq!(two.edges.iter().filter(|e| e.reversed).count(), 1);
        assert_edges_go_down(&two);
    }

    #[test]
    fn barycenter_removes_avoidable_crossings() {
        // Declared order makes a1→b2 and a2→b1 cross; reordering b removes it.
        let g = graph(&["a1", "a2", "b1", "b2"], &[("a1", "b2"), ("a2", "b1")]);
        let layout = g.layout();
        let y = |node: usize| {
            layout
                .nodes
                .iter()
                .find(|b| b.node == node)
                .map(|b| b.y)
                .unwrap_or(0.0)
        };
        assert_eq!(y(0) < y(1), y(3) < y(2));
    }

    #[test]
    fn random_graphs_keep_invariants() {
        for seed in 0..40 {
            let g = random_graph(3 + (seed as usize % 25), 2 + (seed as usize * 7) % 60, seed);
            let layout = g.layout();
            assert_eq!(layout.nodes.len(), g.nodes.len());
            assert_no_overlap(&layout);
            assert_edges_go_down(&layout);
            for e in &layout.edges {
                assert!(e.points.iter().all(|p| p.0.is_finite() && p.1.is_finite()));
            }
            assert_eq!(layout, g.layout(), "layout is deterministic");
            for direction in [Direction::LeftToRight, Direction::TopToBottom] {
                let fixed = Graph {
                    direction,
                    ..g.clone()
                }
                .layout();
                assert_no_overlap(&fixed);
                assert_edges_go_down(&fixed);
            }
        }
    }

    #[test]
    fn invalid_references_are_ignored_and_reported() {
        let mut g = graph(&["a", "b", "a"], &[("a", "b"), ("a", "zz"), ("b", "b")]);
        g.nodes[2].label = "dup".into();
        let layout = g.layout();
        assert_eq!(layout.nodes.len(), 2);
        assert_eq!(layout.edges.len(), 1);
        let problems = g.check();
        assert_eq!(problems.len(), 2);
        assert_eq!(
            problems[1].to_string(),
            "edges[1].to refers to unknown node `zz`"
        );
    }

    /// The quadratic definition of crossings, to check the Fenwick-tree count against.
    fn crossings_by_pairs(vertices: &[Vertex], layers: &[Vec<usize>]) -> usize {
        let mut position = vec![0usize; vertices.len()];
        for layer in layers {
            for (i, &v) in layer.iter().enumerate() {
                position[v] = i;
            }
        }
        let mut total = 0;
        for layer in layers {
            let mut segments: Vec<(usize, usize)> = Vec::new();
            for &v in layer {
                segments.extend(
                    vertices[v]
                        .succs
                        .iter()
                        .map(|&w| (position[v], position[w])),
                );
            }
            for (i, a) in segments.iter().enumerate() {
                for b in &segments[i + 1..] {
                    if (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1) {
                        total += 1;
                    }
                }
            }
        }
        total
    }

    #[test]
    fn fenwick_crossing_count_matches_pairs() {
        let mut seed = 3u64;
        for _ in 0..50 {
            let mut next = || {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 33) as usize
            };
            let (top, bottom) = (1 + next() % 6, 1 + next() % 6);
            let mut vertices: Vec<Vertex> = (0..top + bottom)
                .map(|i| Vertex {
                    real: Some(i),
                    layer: usize::from(i >= top),
                    width: 1.0,
                    height: 1.0,
                    preds: Vec::new(),
                    succs: Vec::new(),
                })
                .collect();
            for _ in 0..next() % 12 {
                let (a, b) = (next() % top, top + next() % bottom);
                vertices[a].succs.push(b);
                vertices[b].preds.push(a);
            }
            let mut layers = vec![(0..top).collect::<Vec<_>>(), (top..top + bottom).collect()];
            layers[1].reverse();
            assert_eq!(
                crossings(&vertices, &layers),
                crossings_by_pairs(&vertices, &layers)
            );
        }
    }

    #[test]
    fn isotonic_fit_keeps_order_and_spacing() {
        let placed = fit_in_order(&[10.0, 10.0, 10.0], &[5.0, 5.0]);
        assert_eq!(placed, vec![5.0, 10.0, 15.0]);
        let placed = fit_in_order(&[0.0, 100.0], &[5.0]);
        assert_eq!(placed, vec![0.0, 100.0]);
    }

    #[test]
    fn only_safe_links_are_kept() {
        assert_eq!(safe_href("/tools/crm"), Some("/tools/crm"));
        assert_eq!(
            safe_href("https://example.com"),
            Some("https://example.com")
        );
        assert_eq!(safe_href("JavaScript:alert(1)"), None);
        assert_eq!(safe_href(" data:text/html,x"), None);
        assert_eq!(safe_href("tools?x=a:b"), Some("tools?x=a:b"));
        let g = Graph {
            nodes: vec![Node::new("a", "A", NodeKind::Tool).with_href("javascript:alert(1)")],
            ..Graph::default()
        };
        assert!(!g.render().contains("javascript"));
    }

    #[test]
    fn highlight_dims_the_rest() {
        let mut g = graph(&["a", "b", "c"], &[("a", "b"), ("b", "c")]);
        g.highlight = vec!["a".into(), "b".into()];
        g.focus = Some("a".into());
        let svg = g.render();
        assert_eq!(svg.matches("opacity=\"0.35\"").count(), 1);
        assert!(svg.contains("Affected"));
        assert!(g.to_html_table().contains("<td>yes</td>"));
    }

    #[test]
    fn empty_graph() {
        assert!(Graph::default().render().contains("No nodes to show"));
        let layout = Graph::default().layout();
        assert!(layout.nodes.is_empty() && layout.edges.is_empty());
    }
}
