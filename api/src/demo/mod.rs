//! The demo network and synthetic cases: data from the real network in the source documents,
//! with no real person anywhere.

mod ids;
pub mod load;
pub mod places;
pub mod synth;

pub use load::{agency_ids, seed_demo};
