//! heatmap
