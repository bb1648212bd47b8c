//! Keel's attribution engine: from touch events or aggregated paths to credit per channel and campaign.
//!
//! Everything here is pure — data in, data out, no files, clocks or network — so the server, the
//! `keel attribute` command and the benchmarks all compute the same numbers.
//!
//! The pieces, in the order data flows through them:
//! - [`events`]: Segment-style events, identity stitching (anonymous id → user id), sessions and
//!   journeys (the touches of one person up to each conversion, within a lookback window);
//! - [`channels`]: channel grouping by ordered, configurable rules (`kind: ChannelRules`), with a
//!   default modelled on the GA4 default channel grouping;
//! - [`paths`]: the aggregated journey table (ChannelAttribution's `path,total_conversions,…` layout);
//! - [`heuristic`]: rule-based models (first/last touch, linear, time decay, U, W, Z, J, inverse J);
//! - [`markov`]: the order-k Markov chain removal-effect model, solved exactly;
//! - [`shapley`]: Shapley-value attribution, exact for small channel sets and sampled beyond;
//! - [`model`]: one entry point over every model, with per-conversion explanations;
//! - [`imports`]: ad cost and CRM opportunity files validated row by row, with quarantine;
//! - [`report`]: attributed conversions and revenue per channel and campaign, with ROAS and CAC.

pub mod channels;
pub mod compute;
pub mod events;
pub mod heuristic;
pub mod imports;
pub mod markov;
pub mod model;
pub mod paths;
pub mod report;
pub mod shapley;

mod error;
mod pathfile;
mod solve;

pub use error::{Error, Problem};
pub use model::{Attribution, ChannelCredit, Model};
pub use paths::{PathSet, ReadOptions};
