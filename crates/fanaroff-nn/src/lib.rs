//! fanaroff-nn (under construction).
#![deny(missing_docs)]
