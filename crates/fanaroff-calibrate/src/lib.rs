//! fanaroff-calibrate (under construction).
#![deny(missing_docs)]
