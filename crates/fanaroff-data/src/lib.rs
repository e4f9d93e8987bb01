//! fanaroff-data (under construction).
#![deny(missing_docs)]
